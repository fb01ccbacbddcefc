// Tiny command-line flag reader shared by the Spotex programs: --name value pairs only.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spotex::apps {

class Flags {
 public:
  // Splits argv into --name value pairs and positional words. Returns an error text when a flag
  // lacks its value or is not in `known`.
  static std::optional<std::string> Parse(int argc, char** argv,
                                          const std::vector<std::string>& known, Flags& out) {
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a.starts_with("--")) {
        std::string name(a.substr(2));
        bool ok = false;
        for (const auto& k : known) ok |= k == name;
        if (!ok) return "unknown flag --" + name;
        if (i + 1 >= argc) return "flag --" + name + " needs a value";
        out.values_[name] = argv[++i];
      } else {
        out.positional_.emplace_back(a);
      }
    }
    return std::nullopt;
  }
  std::string Get(const std::string& name, const std::string& def = {}) const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }
  // nullopt when present but not an integer.
  std::optional<int64_t> GetInt(const std::string& name, int64_t def) const {
    auto it = values_.find(name);
    if (it == values_.end()) return def;
    int64_t v = 0;
    const std::string& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace spotex::apps

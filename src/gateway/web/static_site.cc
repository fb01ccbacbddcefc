#include "gateway/web/static_site.h"

#include <filesystem>
#include <fstream>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace spotex::gateway::web {
namespace {

namespace fs = std::filesystem;

struct TypeEntry {
  std::string_view extension;
  std::string_view content_type;
};

constexpr TypeEntry kTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
};

// Top-level names that API paths start with: a file there could shadow or confuse a route.
constexpr std::string_view kReservedTop[] = {"api", "ws", "ws-api", "stream", "health"};

bool SafeName(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 255) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::expected<std::string, std::string> ReadFile(const fs::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected("cannot read " + path.string());
  }
  std::string out;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      return std::unexpected(path.string() + " is larger than " + std::to_string(max_bytes) +
                             " bytes");
    }
  }
  return out;
}

}  // namespace

std::string_view StaticSite::ContentType(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) {
    return {};
  }
  const std::string_view ext = name.substr(dot);
  for (const TypeEntry& t : kTypes) {
    if (t.extension == ext) {
      return t.content_type;
    }
  }
  return {};
}

std::expected<std::shared_ptr<const StaticSite>, std::string> StaticSite::Load(
    const std::string& dir, StaticSiteLimits limits) {
  auto site = std::make_shared<StaticSite>();
  std::error_code ec;
  const fs::path root = fs::path(dir);
  if (!fs::is_directory(root, ec)) {
    return std::unexpected("web root " + dir + " is not a directory");
  }
  // Depth-first walk without following links: (directory, its "/a/b" prefix, depth).
  std::vector<std::tuple<fs::path, std::string, int>> pending{{root, "", 0}};
  while (!pending.empty()) {
    auto [path, prefix, depth] = std::move(pending.back());
    pending.pop_back();
    fs::directory_iterator it(path, ec);
    if (ec) {
      return std::unexpected("cannot list " + path.string() + ": " + ec.message());
    }
    for (const fs::directory_entry& entry : it) {
      const std::string name = entry.path().filename().string();
      if (!SafeName(name)) {
        continue;
      }
      if (depth == 0) {
        bool reserved = false;
        for (std::string_view r : kReservedTop) {
          reserved = reserved || name == r;
        }
        if (reserved) {
          continue;
        }
      }
      const fs::file_status status = entry.symlink_status(ec);
      if (ec || fs::is_symlink(status)) {
        continue;
      }
      const std::string url = prefix + "/" + name;
      if (fs::is_directory(status)) {
        if (depth + 1 > limits.max_depth) {
          return std::unexpected("web root: " + url + " is deeper than " +
                                 std::to_string(limits.max_depth) + " directories");
        }
        pending.emplace_back(entry.path(), url, depth + 1);
        continue;
      }
      const std::string_view type = ContentType(name);
      if (!fs::is_regular_file(status) || type.empty()) {
        continue;
      }
      if (site->files_.size() >= limits.max_files) {
        return std::unexpected("web root: more than " + std::to_string(limits.max_files) +
                               " files");
      }
      auto body = ReadFile(entry.path(), limits.max_file_bytes);
      if (!body) {
        return std::unexpected("web root: " + body.error());
      }
      site->total_bytes_ += body->size();
      if (site->total_bytes_ > limits.max_total_bytes) {
        return std::unexpected("web root: files larger than " +
                               std::to_string(limits.max_total_bytes) + " bytes together");
      }
      const bool hashed = url.starts_with("/assets/");
      site->files_.emplace(url, File{std::move(*body), std::string(type),
                                     hashed ? "public, max-age=31536000, immutable" : "no-cache"});
    }
  }
  if (!site->files_.contains("/index.html")) {
    return std::unexpected("web root " + dir + " has no index.html");
  }
  return std::shared_ptr<const StaticSite>(std::move(site));
}

std::optional<http::Response> StaticSite::Answer(std::string_view path) const {
  if (path == "/") {
    path = "/index.html";
  }
  auto it = files_.find(path);
  if (it == files_.end()) {
    return std::nullopt;
  }
  http::Response r;
  r.status = 200;
  r.body = it->second.body;
  r.content_type = it->second.content_type;
  r.headers.emplace_back("Cache-Control", it->second.cache_control);
  r.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  return r;
}

bool StaticSite::Register(const std::shared_ptr<const StaticSite>& site, http::Router& router) {
  std::vector<std::string> paths{"/"};
  for (const auto& [path, file] : site->files_) {
    paths.push_back(path);
  }
  bool ok = true;
  for (const std::string& path : paths) {
    for (http::Method m : {http::Method::kGet, http::Method::kHead}) {
      ok = router.Add(m, path, [site, path](http::Request&&, http::Responder respond) {
        respond(*site->Answer(path));
      }) && ok;
    }
  }
  return ok;
}

}  // namespace spotex::gateway::web

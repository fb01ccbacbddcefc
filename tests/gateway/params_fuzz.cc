// Fuzz target for Binance parameter parsing (spotex::http::Params).
//
// The input is "<query>\n<body>" (no newline: all query). Parse must never crash, and whatever
// it accepts must satisfy the invariants checked below; every getter must then return a value
// or a Binance error, never crash.
//
// With libFuzzer (needs a clang whose <expected> works with the installed libstdc++; Debian
// 12's clang 14 does not, so this needs clang >= 19 or libstdc++ from a matching clang):
//   clang++ -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -DSPOTEX_LIBFUZZER
//     -Isrc tests/gateway/params_fuzz.cc src/gateway/http/params.cc src/gateway/http/error.cc
//     src/gateway/http/message.cc src/core/decimal.cc -o params_fuzz    (one command line)
//   ./params_fuzz -max_total_time=60 corpus/
//
// Without it (g++), this file has its own main(): a seeded random-mutation loop over a built-in
// corpus, without coverage feedback, for the time given:
//   params_fuzz [--seconds N] [--seed S]
// ctest runs it for 5 seconds as params_fuzz_smoke (build/*/tests/gateway/params_fuzz).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/params.h"

namespace {

using spotex::http::EnumName;
using spotex::http::Params;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "params_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

bool HasControlCharacter(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return true;
    }
  }
  return false;
}

void CheckError(const spotex::http::Error& error) {
  Check(error.code <= -1000 && error.code > -3000, "error code in Binance's range");
  Check(error.http_status == 400, "parameter errors are HTTP 400");
  Check(!error.msg.empty(), "error has a message");
  const std::string body = spotex::http::ErrorBody(error);
  Check(!HasControlCharacter(body), "error body has no raw control characters");
}

enum class Kind { kA, kB };
constexpr std::array<EnumName<Kind>, 2> kKinds{{{"A", Kind::kA}, {"B", Kind::kB}}};

// Every parameter name the fuzzer is likely to produce from the corpus.
constexpr std::array<std::string_view, 10> kNames{
    "symbol", "side", "quantity", "price", "orderId", "flag", "type", "a", "b", "timestamp"};

// Inputs Parse accepted, to tell whether the driver reaches past parsing.
uint64_t g_accepted = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view query = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  spotex::http::Result<Params> parsed = Params::Parse(query, body);
  if (!parsed.has_value()) {
    CheckError(parsed.error());
    return 0;
  }
  ++g_accepted;
  Params& params = *parsed;
  Check(params.raw_query() == query && params.raw_body() == body, "raw inputs kept");
  Check(params.size() <= spotex::http::ParamLimits{}.params_max, "params bounded");
  Check(params.read_count() == 0, "nothing read yet");
  Check(params.size() == 0 || !params.CheckAllRead().has_value(), "unread params reported");

  for (const std::string_view name : kNames) {
    const bool present = params.Has(name);
    const auto check = [&](const auto& result) {
      if (!result.has_value()) {
        CheckError(result.error());
      }
    };
    switch (name.size() % 5) {
      case 0:
        check(params.GetOptionalLong(name, {-1000, 1000}));
        break;
      case 1:
        check(params.GetOptionalDecimal(name, 8));
        break;
      case 2:
        check(params.GetOptionalBool(name));
        break;
      case 3:
        check(params.GetOptionalEnum<Kind>(name, kKinds));
        break;
      default: {
        const std::optional<std::string_view> text = params.GetOptionalString(name);
        Check(
            !text.has_value() || (spotex::http::IsValidUtf8(*text) && !HasControlCharacter(*text)),
            "decoded values are clean UTF-8");
        break;
      }
    }
    Check(!present || params.GetString(name).has_value() || params.Has(name), "Has is stable");
  }
  const size_t read = params.read_count();
  Check(read <= params.size(), "read count bounded");
  Check(params.CheckAllRead().has_value() == (read == params.size()), "-1104 iff unread");
  return 0;
}

#if !defined(SPOTEX_LIBFUZZER)

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <random>

namespace {

// The input being run, printed if it crashes the process.
std::string g_current;

void PrintCurrentInput(int signal) {
  static constexpr char kHeader[] = "\nparams_fuzz: crashing input (hex): ";
  (void)!write(STDERR_FILENO, kHeader, sizeof(kHeader) - 1);
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : g_current) {
    const auto byte = static_cast<unsigned char>(c);
    const char pair[2] = {kHex[byte >> 4], kHex[byte & 0xf]};
    (void)!write(STDERR_FILENO, pair, 2);
  }
  (void)!write(STDERR_FILENO, "\n", 1);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> corpus{
      "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01000000&price=65000.00&timestamp=1",
      "\ntimestamp=1499827319559&symbol=LTCBTC&side=BUY&quantity=1&price=0.1&recvWindow=5000",
      "symbol=BTCUSDT\nsymbol=ETHUSDT&side=SELL",
      "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&a=%C3%A9&b=x+y",
      "orderId=9223372036854775807&price=1e-8&quantity=-1&flag=TRUE",
      "a=%&b=%4&c=%zz&d=%ED%A0%80&e=%F4%90%80%80",
      "&&a=&=1&b",
      "type=A&type=B",
      "price=0.000000001&orderId=99999999999999999999",
  };
  return corpus;
}

// Pieces that reach the parser's interesting branches.
constexpr std::array<std::string_view, 16> kTokens{
    "%", "%2", "%C3", "%A9", "%F0%9F", "%ED", "%00", "+", "&", "=", "&&", "\n", "-", ".", "e", "9"};

std::string Mutate(std::string input, std::mt19937_64& rng) {
  const auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % (n == 0 ? 1 : n)); };
  const int edits = 1 + static_cast<int>(rng() % 6);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 6) {
      case 0:  // replace a byte, mostly with one that is legal in a query
        if (!input.empty()) {
          static constexpr std::string_view kAlphabet = "abcxyzABCXYZ0123456789%&=+.-_[]\",";
          input[pick(input.size())] =
              rng() % 8 == 0 ? static_cast<char>(rng()) : kAlphabet[pick(kAlphabet.size())];
        }
        break;
      case 1:  // insert a token
        input.insert(pick(input.size() + 1), kTokens[pick(kTokens.size())]);
        break;
      case 2:  // erase a run
        if (!input.empty()) {
          const size_t at = pick(input.size());
          input.erase(at, 1 + pick(8));
        }
        break;
      case 3: {  // splice in part of another seed
        const std::string& other = Corpus()[pick(Corpus().size())];
        const size_t from = pick(other.size());
        input.insert(pick(input.size() + 1), other.substr(from, 1 + pick(16)));
        break;
      }
      case 4:  // duplicate a run (duplicate parameters)
        if (!input.empty()) {
          const size_t at = pick(input.size());
          input.insert(pick(input.size() + 1), input.substr(at, 1 + pick(24)));
        }
        break;
      default:  // a random name=value pair
        input += "&" + std::string(kNames[pick(kNames.size())]) + "=" +
                 std::string(kTokens[pick(kTokens.size())]);
        break;
    }
  }
  if (input.size() > 4096) {
    input.resize(4096);
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  uint64_t seed = std::random_device{}();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) {
      seconds = std::atof(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--seed") == 0) {
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    }
  }
  std::printf("params_fuzz: seed %llu, %.1f s (rerun with --seed %llu)\n",
              static_cast<unsigned long long>(seed), seconds,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::signal(SIGABRT, PrintCurrentInput);
  std::signal(SIGSEGV, PrintCurrentInput);

  std::mt19937_64 rng(seed);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(seconds));
  uint64_t runs = 0;
  for (const std::string& input : Corpus()) {
    g_current = input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++runs;
  }
  std::vector<std::string> pool = Corpus();
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 256; ++batch) {
      g_current = Mutate(pool[rng() % pool.size()], rng);
      // Keep some accepted mutants as new seeds so mutations compound past the parser's
      // rejections (crude feedback without coverage); bounded pool.
      const uint64_t accepted_before = g_accepted;
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(g_current.data()), g_current.size());
      ++runs;
      if (g_accepted != accepted_before && rng() % 16 == 0) {
        if (pool.size() < 1024) {
          pool.push_back(g_current);
        } else {
          pool[rng() % pool.size()] = g_current;
        }
      }
    }
  }
  std::printf("params_fuzz: %llu inputs (%llu parsed), no failure\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(g_accepted));
  return 0;
}

#endif  // !SPOTEX_LIBFUZZER

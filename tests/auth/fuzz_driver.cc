// A small standalone driver for LLVMFuzzerTestOneInput, for compilers without libFuzzer
// (g++). It runs the built-in seeds and any seed files given as arguments, then random
// mutations of them until SPOTEX_FUZZ_SECONDS (default 5) have passed. The random seed is
// printed first; SPOTEX_FUZZ_SEED=<n> repeats a run. If the target aborts, the input being run
// is written to stderr as hex. Not coverage-guided: use libFuzzer (see signature_fuzz.cc) for
// long runs.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr size_t kInputBytesMax = 8192;

// The input being run, for the abort handler.
const std::string* g_current = nullptr;

void DumpCurrentInput(int sig) {
  static const char kHex[] = "0123456789abcdef";
  static const char kHead[] = "\nfuzz input (hex): ";
  (void)!write(2, kHead, sizeof(kHead) - 1);
  if (g_current != nullptr) {
    for (const char c : *g_current) {
      const char pair[2] = {kHex[(c >> 4) & 0xF], kHex[c & 0xF]};
      (void)!write(2, pair, 2);
    }
  }
  (void)!write(2, "\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

std::string Seed(std::initializer_list<std::string_view> fields) {
  std::string s;
  bool first = true;
  for (const std::string_view f : fields) {
    if (!first) {
      s.push_back('\0');
    }
    s.append(f);
    first = false;
  }
  return s;
}

std::vector<std::string> BuiltInSeeds() {
  const std::string_view pem =
      "-----BEGIN PUBLIC KEY-----\n"
      "MCowBQYDK2VwAyEA9y/I/Q9TGMgGee9MgjQuKV095MbwFc0M9mmILqXNpzU=\n"
      "-----END PUBLIC KEY-----\n";
  const std::string_view ed_sig =
      "Xh6xYNK16yVBqvfimu6ioANup1vEMw/QzJsPs5uNem0D7BBFduh33AoEz4pXM/H9q25qWcc9hg41yZA7CYeQDg==";
  return {
      Seed({"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow="
            "5000&timestamp=1499827319559&signature="
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
            "", pem, ed_sig, "1499827319559"}),
      Seed({"", "timestamp=1767225600000&symbol=BTCUSDT&recvWindow=10000&signature=abc%2B%2F%3D",
            pem, ed_sig, "6000.346"}),
      Seed({"symbol=LTCBTC&side=BUY", "quantity=1&signature=0fd1", "", "",
            "10.0.0.0/8, 2001:db8::/32 ::ffff:1.2.3.4"}),
      Seed({"%73ignature=x&a=1", "signature=y", "-----BEGIN PRIVATE KEY-----\n", "",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
      Seed({"a=1&signature=&b", "&&=&", "", "",
            "000102030405060708090a0b0c0d0e0f101112131415161718"
            "191a1b1c1d1e1f"}),
  };
}

const std::vector<std::string_view>& Tokens() {
  static const std::vector<std::string_view> tokens = {"signature=",
                                                       "&",
                                                       "=",
                                                       "%",
                                                       "%2B",
                                                       "%3D",
                                                       "%73",
                                                       "-----BEGIN PUBLIC KEY-----\n",
                                                       "-----END PUBLIC KEY-----",
                                                       "MCowBQYDK2VwAyEA",
                                                       "==",
                                                       "/",
                                                       ".",
                                                       ":",
                                                       "::ffff:",
                                                       std::string_view("\0", 1),
                                                       "\r\n",
                                                       "\xF0\x9F\x94\x91",
                                                       "\xC0\xAF",
                                                       "60000",
                                                       "1000"};
  return tokens;
}

void Mutate(std::string& s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto pick = [&rng](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 8) {
      case 0:  // flip a bit
        if (!s.empty()) {
          s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        }
        break;
      case 1:  // set a random byte
        if (!s.empty()) {
          s[pick(s.size())] = static_cast<char>(rng());
        }
        break;
      case 2:  // insert a random byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)),
                 static_cast<char>(rng()));
        break;
      case 3: {  // erase a range
        const size_t at = pick(s.size() + 1);
        s.erase(at, pick(std::min<size_t>(s.size() - at, 16) + 1));
        break;
      }
      case 4: {  // duplicate a range
        const size_t at = pick(s.size() + 1);
        const std::string chunk = s.substr(at, pick(33));
        s.insert(pick(s.size() + 1), chunk);
        break;
      }
      case 5: {  // insert a token
        const std::string_view t = Tokens()[pick(Tokens().size())];
        s.insert(pick(s.size() + 1), t.data(), t.size());
        break;
      }
      case 6: {  // splice with another input
        const std::string& other = corpus[pick(corpus.size())];
        const size_t from = pick(other.size() + 1);
        s = s.substr(0, pick(s.size() + 1)) + other.substr(from);
        break;
      }
      default:  // truncate
        s.resize(pick(s.size() + 1));
        break;
    }
  }
  if (s.size() > kInputBytesMax) {
    s.resize(kInputBytesMax);
  }
}

void Run(const std::string& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGABRT, DumpCurrentInput);
  signal(SIGSEGV, DumpCurrentInput);
  const char* seconds_env = std::getenv("SPOTEX_FUZZ_SECONDS");
  const char* seed_env = std::getenv("SPOTEX_FUZZ_SEED");
  const double seconds = seconds_env != nullptr ? std::atof(seconds_env) : 5.0;
  const uint64_t seed =
      seed_env != nullptr
          ? std::strtoull(seed_env, nullptr, 10)
          : static_cast<uint64_t>(std::random_device{}()) << 32 ^
                static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::printf("fuzz seed %llu (SPOTEX_FUZZ_SEED=%llu repeats it), %.1f s\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
              seconds);
  std::fflush(stdout);

  std::vector<std::string> corpus = BuiltInSeeds();
  for (int i = 1; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "cannot read seed file %s\n", argv[i]);
      return 2;
    }
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    s.resize(std::min(s.size(), kInputBytesMax));
    corpus.push_back(std::move(s));
  }
  for (const std::string& s : corpus) {
    Run(s);
  }

  std::mt19937_64 rng(seed);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(seconds));
  uint64_t runs = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string input = corpus[rng() % corpus.size()];
    Mutate(input, corpus, rng);
    Run(input);
    ++runs;
    // Keep some mutants as seeds for further mutation (bounded pool).
    if (rng() % 64 == 0) {
      if (corpus.size() < 256) {
        corpus.push_back(std::move(input));
      } else {
        corpus[5 + rng() % (corpus.size() - 5)] = std::move(input);
      }
    }
  }
  std::printf("fuzz: %llu inputs, no property violated\n", static_cast<unsigned long long>(runs));
  return 0;
}

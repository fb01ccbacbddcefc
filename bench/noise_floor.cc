// The timing noise floor of this machine: the latency distribution of a fixed ~200 ns compute
// step, timed exactly as engine_bench times each Apply. On a shared VM, timer interrupts and
// the hypervisor put tens of microseconds into the far tail whatever the code does; an engine
// p99.99 is only meaningful against this line. Prints
//   noise step_ns=<N> p50_ns=<N> p99_ns=<N> p9999_ns=<N> max_ns=<N>
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  using Clock = std::chrono::steady_clock;
  constexpr size_t kSamples = 3'000'000;
  std::vector<uint32_t> ns(kSamples);
  volatile uint64_t x = 1;
  for (uint32_t& sample : ns) {
    const Clock::time_point t0 = Clock::now();
    for (int i = 0; i < 150; ++i) {
      x = x * 6364136223846793005ULL + 1;  // a dependent chain the compiler cannot remove
    }
    const Clock::time_point t1 = Clock::now();
    sample = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return ns[static_cast<size_t>(q * static_cast<double>(kSamples - 1))];
  };
  std::printf("noise step_ns=%u p50_ns=%u p99_ns=%u p9999_ns=%u max_ns=%u\n", at(0.5), at(0.5),
              at(0.99), at(0.9999), ns.back());
  return 0;
}

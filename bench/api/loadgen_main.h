// The command line of spotex-loadgen (and of api_bench, the same program under the name the
// REST API benchmark scripts use): flags → LoadGenerator phases → report.
//
// usage: spotex-loadgen --url http://127.0.0.1:PORT [--rate 500] [--duration-s 20]
//          [--warmup-s 5] [--connections 128] [--users FILE] [--mix full|public]
//          [--read-fraction 0.2] [--read-weights depth=1,trades=1,ticker24hr=1,account=1,
//          openOrders=1] [--cancel-fraction 0.1] [--open-per-user 8] [--mid-price 30000.00]
//          [--makers 0] [--maker-levels 5] [--maker-qty 0.00100] [--maker-refresh-ms 200]
//          [--search-p99-ms X [--search-start 500] [--search-step 500] [--search-max 100000]
//          [--search-resolution 100] [--search-pause-s 3]]
//          [--drain-s 5] [--seed N] [--cpu-pids name=pid,name=pid]
//
// Users: the last --makers users of the --users file quote as market makers (market_maker.h);
// the others send the measured traffic. Makers quote for 2 s before the first phase, so the
// first measured order meets their ladder.
//
// Fixed rate (no --search-p99-ms): one phase; stdout's last line is
//   <line_prefix> offered=<N> achieved=<N> p50_ms=<x> p99_ms=<x> p999_ms=<x> errors=<N>
// Search (--search-p99-ms X): phases of --warmup-s + --duration-s at the rates RateSearch picks
// (rate_search.h), --search-pause-s of makers only between them; one stdout line per probe
//   probe offered=<N> achieved=<N> p50_ms=<x> p99_ms=<x> p999_ms=<x> errors=<N> pass=<0|1>
// and last
//   <line_prefix> max_rate=<N> p99_ms=<x> bound_ms=<X>        (max_rate=0 if no rate passed)
// The breakdown of every phase goes to stderr (load_generator.h, PrintPhase).
// Exit: 0 the run finished (errors are in the lines), 2 usage or set-up error.
#pragma once

#include <string_view>

namespace spotex::bench {

int LoadgenMain(int argc, char** argv, std::string_view program, std::string_view line_prefix);

}  // namespace spotex::bench

// spotex-loadgen: the open-loop load generator for the Spotex REST API (issue 7 §3): signed
// orders, cancels and public and private reads from many users over keep-alive connections at
// a fixed offered rate, market makers keeping a book, and a search for the highest rate whose
// p99 stays under a bound. Flags and output: loadgen_main.h; `make loadtest` runs it through
// bench/loadtest/run_loadtest.sh against the whole stack behind HAProxy.
#include "loadgen_main.h"

int main(int argc, char** argv) {
  return spotex::bench::LoadgenMain(argc, argv, "spotex-loadgen", "load");
}

// api_bench: the REST API benchmark's name for the open-loop load generator (issue 4 §8). It is
// spotex-loadgen (loadgen_main.h: flags, output) under the name and the stdout line prefix
// ("api offered=...") that run_api_bench.sh and bench/ws/run_ws_bench.sh expect.
#include "loadgen_main.h"

int main(int argc, char** argv) { return spotex::bench::LoadgenMain(argc, argv, "api_bench", "api"); }

#!/usr/bin/env python3
"""CPU time of every process on the machine, by command name, between two snapshots.

  cpu_by_command.py snapshot FILE     writes the CPU ticks of each process now to FILE
  cpu_by_command.py report FILE       prints, per command name, the % of one core used since
                                      FILE was written (processes started since count from 0,
                                      processes gone since are missing), the top 15 and total

Reads /proc/<pid>/stat (utime + stime; threads are included in their process) and names each
process by its comm (by its executable's file name when the comm is "exe", as for spotex-engine).
Every process of a name counts, including those of other stacks on the same machine. The load test
uses it to show where the machine's CPU went during a run, its own stack and everything else
(other builds on a shared machine) alike. Standard library only.
"""
import json
import os
import sys
import time


def snapshot():
    ticks = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                text = f.read()
        except OSError:
            continue
        close = text.rfind(")")
        comm = text[text.find("(") + 1:close]
        if comm == "exe":
            # A program started through /proc/self/exe (spotex-engine): its file name.
            try:
                comm = os.path.basename(os.readlink(f"/proc/{name}/exe")) or comm
            except OSError:
                pass
        fields = text[close + 2:].split()
        # fields[0] is field 3 (state); utime, stime and starttime are fields 14, 15 and 22.
        # A process is its pid and start time (pids are reused; names change on exec).
        ticks[f"{name}:{fields[19]}"] = [comm, int(fields[11]) + int(fields[12])]
    return {"time": time.monotonic(), "ticks": ticks}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("snapshot", "report"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "snapshot":
        with open(sys.argv[2], "w") as f:
            json.dump(snapshot(), f)
        return 0
    with open(sys.argv[2]) as f:
        before = json.load(f)
    now = snapshot()
    hz = os.sysconf("SC_CLK_TCK")
    wall = now["time"] - before["time"]
    by_comm = {}
    for pid, (comm, t) in now["ticks"].items():
        old = before["ticks"].get(pid)
        used = t - (old[1] if old else 0)
        by_comm[comm] = by_comm.get(comm, 0) + used
    total = sum(by_comm.values())
    top = sorted(by_comm.items(), key=lambda kv: -kv[1])[:15]
    parts = " ".join(f"{c}={100.0 * t / hz / wall:.0f}%" for c, t in top if t > 0)
    print(f"cpu by command over {wall:.0f} s (% of one core; all together "
          f"{100.0 * total / hz / wall:.0f}% of {100 * os.cpu_count()}%): {parts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time one cold ``constrict interface`` call: EntrySet.from_frame (no cache) against the on-disk entry cache.

Every call is a fresh process started from an empty temporary folder (as a
user would), timed from outside: wall time with ``time.perf_counter`` and
CPU time (user + sys) of the child from ``resource.getrusage``. CPU time is
what to compare when other work shares the machine.

- old: the CLI with its entry set built by ``EntrySet.from_frame`` of the
  snapshot table (parse every formula), as before the cache;
- first: the CLI with an empty cache folder (builds and writes the cache);
- warm: the CLI as shipped, cache already on disk.

Run: ``python benchmarks/bench_startup.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OLD_WAY = """
import sys
from constrict import cli
from constrict.data.entries import EntrySet
from constrict.data.sources import load_entries

def from_frame(source="mp_offline", custom=None, data_dir=None):
    return EntrySet.from_frame(load_entries(source, custom=custom))

cli.load_entry_set = from_frame
sys.exit(cli.main(sys.argv[1:]))
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def summary(name: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    print(f"{name:<6} {len(runs):>4} {wall:>10.2f} {min(w for w, _ in runs):>9.2f} {cpu:>9.2f}")
    return wall, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the old and the warm way")
    parser.add_argument("pair", nargs="*", default=["Li7P3S11", "LiNbO3"], help="electrolyte and coating")
    args = parser.parse_args(argv)
    cli_args = ["interface", *args.pair]
    new_way = [str(Path(sys.executable).with_name("constrict")), *cli_args]
    old_way = [sys.executable, "-c", OLD_WAY, *cli_args]
    with tempfile.TemporaryDirectory() as tmp:
        work, cache = Path(tmp, "work"), Path(tmp, "cache")
        work.mkdir()
        env = {**os.environ, "CONSTRICT_CACHE_DIR": str(cache)}
        env.pop("CONSTRICT_DATA_DIR", None)
        first = [timed(new_way, work, env)]
        warm, old = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            old.append(timed(old_way, work, env))
            warm.append(timed(new_way, work, env))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"constrict {' '.join(cli_args)}: one fresh process per call; load average {load}")
    print(f"{'way':<6} {'runs':>4} {'wall med s':>10} {'wall min':>9} {'cpu med s':>9}")
    old_wall, old_cpu = summary("old", old)
    summary("first", first)
    new_wall, new_cpu = summary("warm", warm)
    print(f"old / warm: {old_wall / new_wall:.1f}x wall, {old_cpu / new_cpu:.1f}x CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())

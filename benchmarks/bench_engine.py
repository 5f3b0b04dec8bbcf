"""Engine time per interface of an earlier constrict against this checkout, in one run.

    python benchmarks/bench_engine.py --baseline c3ac875            # that commit against the working tree
    python benchmarks/bench_engine.py --baseline HEAD~2 --partitions 4 --repeats 5
    python benchmarks/bench_engine.py --baseline c3ac875 --callgrind --partitions 1   # instructions (valgrind)

The interfaces are whole partitions of the default campaign's plan, spread
evenly over it. Each version evaluates them as a shard does
(``constrict.campaign.screen.evaluate_pairs``: a pristine entry set per partition,
2, 3 and 4 V) in its own Python process, the two versions taking turns
``--repeats`` times. Printed: per version the median over the repeats of
the CPU time (user + sys) and the wall time per interface, the ratio
baseline / current, the set-up time (reading the table, building the
shard's entry set and its per-phase uncertainties; not in the engine time)
and the cost ratio current / baseline of set-up and engine together, the
load average, and whether both versions gave bit-identical result rows
(in the columns both write; a column added by the current version is
named and left out). On a busy machine the CPU
time is the number to read: the wall time counts the waits for a core.

The baseline's ``src/`` is extracted with ``git archive`` into a temporary
folder; the current version is ``src/`` of this checkout, uncommitted
changes included, or another revision (``--current``). The entry table and
plan come from ``--results`` (default: benchmarks/out/engine/results, made
by Snakemake up to ``plan_shards`` of config/config.yaml when missing).
With ``--callgrind`` each version runs once under valgrind's callgrind,
counting only the instructions of the engine loop (the set-up excluded):
about 50 times slower, but a number that no other load on the machine
disturbs; the ratio is printed the same way.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VOLTAGES_V = [2.0, 3.0, 4.0]


def worker(entries: str, plan: str, partitions: list[int], out: str) -> None:
    """Evaluate the partitions with the constrict on ``sys.path``; print timings as JSON."""
    import pandas as pd

    from constrict.campaign import screen

    table = pd.read_parquet(plan)
    pairs = table[table["partition"].isin(partitions)]
    groups = [group.to_dict("records") for _, group in pairs.groupby("partition", sort=True)]
    extra = ()
    if "chemical_systems" in inspect.signature(screen.evaluate_pairs).parameters:  # before the shared entry cache
        extra = (tuple(sorted(pairs["chemical_system"].unique())),)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    screen.evaluate_pairs([], entries, VOLTAGES_V, "ion_metal", *extra)  # builds or loads the entry set
    cpu1, wall1 = time.process_time(), time.perf_counter()

    def engine():
        return [row for group in groups
                for row in screen.evaluate_pairs(group, entries, VOLTAGES_V, "ion_metal", *extra)]

    # sys.call_tracing is the engine loop's marker: callgrind counts only inside it (--toggle-collect)
    rows = sys.call_tracing(engine, ())
    cpu2, wall2 = time.process_time(), time.perf_counter()
    pd.DataFrame(rows).to_pickle(out)
    print(json.dumps({
        "source": str(Path(screen.__file__).parents[1]),
        "interfaces": len(pairs),
        "setup_cpu_s": cpu1 - cpu0, "setup_wall_s": wall1 - wall0,
        "engine_cpu_s": cpu2 - cpu1, "engine_wall_s": wall2 - wall1,
        "load_avg_1min": os.getloadavg()[0],
    }))


def extract_src(rev: str, dest: Path) -> Path:
    """``src/`` of a git revision of this repository, extracted under ``dest``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev, "src"],
                             capture_output=True, check=True).stdout
    tar_path = dest / "src.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def ensure_plan(results: Path) -> None:
    """Make entries.parquet and screen/plan.parquet of the default campaign under ``results`` if missing."""
    if (results / "screen" / "plan.parquet").exists() and (results / "entries.parquet").exists():
        return
    workdir = results.parent
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(REPO / "config" / "config.yaml"), "--config", f"results_dir={results.name}",
           "--profile", str(REPO / "profiles" / "local"), "--cores", "2", f"{results.name}/screen/plan.parquet"]
    with open(workdir / "snakemake.log", "w") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)


def pick_partitions(plan: Path, n: int) -> list[int]:
    """``n`` partition ids spread evenly over the plan."""
    import numpy as np
    import pandas as pd

    ids = np.sort(pd.read_parquet(plan, columns=["partition"])["partition"].unique())
    return sorted({int(ids[i]) for i in np.linspace(0, len(ids) - 1, n).round().astype(int)})


def run_worker(src: Path, results: Path, partitions: list[int], out: Path, callgrind: bool = False) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--worker", "--results", str(results), "--out", str(out),
           "--ids", ",".join(map(str, partitions))]
    if callgrind:
        cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=sys_call_tracing",
               f"--callgrind-out-file={out.with_suffix('.callgrind')}", *cmd]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench_engine: worker on {src} failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if callgrind:
        collected = re.search(r"Collected : (\d+)", proc.stderr)
        if collected is None:
            sys.exit("bench_engine: callgrind reported no count (is valgrind installed?)")
        result["engine_instructions"] = int(collected.group(1))
    return result


def identical(a: Path, b: Path) -> bool:
    """Whether two result tables are equal bit for bit (floats compared as their 64-bit patterns).

    Columns that only one version writes (a new output column) are left
    out and printed; every column both write must be equal.
    """
    import numpy as np
    import pandas as pd

    left, right = pd.read_pickle(a), pd.read_pickle(b)
    added = [c for c in right.columns if c not in left.columns]
    dropped = [c for c in left.columns if c not in right.columns]
    if added or dropped:
        print(f"columns only in current: {added}; only in baseline: {dropped} (left out of the comparison)")
        common = [c for c in left.columns if c in right.columns]
        left, right = left[common], right[common]
    if left.shape != right.shape:
        return False
    for name in left.columns:
        x, y = left[name].to_numpy(), right[name].to_numpy()
        if x.dtype != y.dtype:
            return False
        same = np.array_equal(x.view(np.int64), y.view(np.int64)) if x.dtype == np.float64 else np.array_equal(x, y)
        if not same:
            return False
    return True


def summarise(runs: list[dict]) -> dict:
    n = runs[0]["interfaces"]
    if "engine_instructions" in runs[0]:
        return {"engine_instructions_per_interface": statistics.median(r["engine_instructions"] for r in runs) / n}
    return {
        "engine_cpu_ms_per_interface": 1e3 * statistics.median(r["engine_cpu_s"] for r in runs) / n,
        "total_cpu_ms_per_interface": 1e3 * statistics.median(r["engine_cpu_s"] + r["setup_cpu_s"] for r in runs) / n,
        "engine_wall_ms_per_interface": 1e3 * statistics.median(r["engine_wall_s"] for r in runs) / n,
        "setup_cpu_s": statistics.median(r["setup_cpu_s"] for r in runs),
        "load_avg_1min": statistics.median(r["load_avg_1min"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="git revision to compare with (required unless --worker)")
    parser.add_argument("--current", help="git revision to time instead of the working tree")
    parser.add_argument("--partitions", type=int, default=6, help="partitions of the plan to evaluate")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each version, taking turns")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "out" / "engine" / "results")
    parser.add_argument("--callgrind", action="store_true", help="count instructions with valgrind, once per version")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    results = args.results.resolve()
    if args.worker:
        worker(str(results / "entries.parquet"), str(results / "screen" / "plan.parquet"),
               [int(i) for i in args.ids.split(",")], args.out)
        return 0
    if not args.baseline:
        parser.error("--baseline is required")
    ensure_plan(results)
    partitions = pick_partitions(results / "screen" / "plan.parquet", args.partitions)
    tmp = Path(tempfile.mkdtemp(prefix="bench_engine_"))
    try:
        (tmp / "baseline").mkdir()
        versions = {"baseline": extract_src(args.baseline, tmp / "baseline"), "current": REPO / "src"}
        if args.current:
            (tmp / "current").mkdir()
            versions["current"] = extract_src(args.current, tmp / "current")
        runs: dict[str, list[dict]] = {name: [] for name in versions}
        for _ in range(1 if args.callgrind else args.repeats):
            for name, src in versions.items():
                runs[name].append(run_worker(src, results, partitions, tmp / f"{name}.pkl", args.callgrind))
        same = identical(tmp / "baseline.pkl", tmp / "current.pkl")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = {name: summarise(r) for name, r in runs.items()}
    key = next(iter(report["current"]))
    print(f"{runs['current'][0]['interfaces']} interfaces x {len(VOLTAGES_V)} voltages in partitions {partitions}; "
          f"{len(runs['current'])} runs each; baseline = {args.baseline}, current = {args.current or 'working tree'}")
    for name, values in report.items():
        print(f"{name:9s} " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
    print(f"speed-up (baseline / current, {key}): {report['baseline'][key] / report['current'][key]:.2f}")
    if "total_cpu_ms_per_interface" in report["current"]:
        total = "total_cpu_ms_per_interface"
        print(f"cost (current / baseline, engine + set-up CPU, as a shard of {len(partitions)} partitions pays it): "
              f"{report['current'][total] / report['baseline'][total]:.3f}")
    print(f"result rows bit-identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Wall time, CPU time and throughput of a screening campaign through Snakemake.

    python benchmarks/bench_campaign.py                       # the full default screen
    python benchmarks/bench_campaign.py --max-coatings 500    # a quick look
    python benchmarks/bench_campaign.py --config config/quick.yaml --cores 2
    python benchmarks/bench_campaign.py --all                 # every default target (summary, ...)

Runs the workflow in its own directory (default benchmarks/out/campaign,
git-ignored; removed first unless --keep) up to ``screen/screen.parquet``
(the screen: entries, coatings, plan, shards, gather), or to every default
target with --all. Then prints and writes (report.json there) the wall
time, the CPU time (user + sys of Snakemake and every job it ran), the load
average before and after, interfaces and interfaces per second, rows by
status, the sum of shard job times and the largest peak memory (max_rss)
of any job, from Snakemake's per-job benchmark files.

On a machine shared with other work the wall time counts the waits for a
core; the CPU time barely does, and CPU time / cores is the wall time an
idle machine would take if the jobs kept every core busy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def run_campaign(config: dict, workdir: Path, cores: int, targets: list[str] | None = None) -> dict:
    """Run the workflow with ``config`` in ``workdir`` (default targets, or ``targets``).

    Returns
    -------
    dict
        ``wall_s``, ``cpu_s`` (user + sys of Snakemake and its jobs) and the
        1-minute load average before and after.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "bench_config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config_path),
           "--profile", str(REPO / "profiles" / "local"), "--cores", str(cores), *(targets or [])]
    load_before = os.getloadavg()[0]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(workdir / "snakemake.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False)
    wall_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench_campaign: snakemake failed (exit {proc.returncode}); see {workdir / 'snakemake.log'}")
    cpu_s = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return {"wall_s": wall_s, "cpu_s": cpu_s, "load_avg_1min_before": load_before,
            "load_avg_1min_after": os.getloadavg()[0]}


def report(config: dict, workdir: Path, timing: dict, cores: int) -> dict:
    """Throughput and memory of a finished run."""
    results = workdir / config.get("results_dir", "results")
    screen = pd.read_parquet(results / "screen" / "screen.parquet")
    n_interfaces = len(screen.drop_duplicates(["electrolyte", "coating_id"]))
    benchmarks = [pd.read_csv(p, sep="\t").assign(job=str(p.relative_to(results / "benchmarks")))
                  for p in sorted((results / "benchmarks").rglob("*.tsv"))]
    bench = pd.concat(benchmarks, ignore_index=True)
    shards = bench[bench["job"].str.startswith("screen_shard/")]
    worst = bench.loc[bench["max_rss"].idxmax()]
    wall_s = timing["wall_s"]
    return {
        "cores": cores,
        "machine_cpus": os.cpu_count(),
        "coatings": int(len(pd.read_parquet(results / "coatings.parquet", columns=["entry_id"]))),
        "electrolytes": sorted(screen["electrolyte_label"].unique()),
        "voltages_v": sorted(float(v) for v in screen["voltage_v"].unique()),
        "interfaces": n_interfaces,
        "rows": len(screen),
        "rows_by_status": {k: int(v) for k, v in screen["status"].value_counts().items()},
        "shards": len(shards),
        "wall_s": round(wall_s, 1),
        "cpu_s": round(timing["cpu_s"], 1),
        "cpu_s_per_core": round(timing["cpu_s"] / cores, 1),
        "load_avg_1min_before": round(timing["load_avg_1min_before"], 2),
        "load_avg_1min_after": round(timing["load_avg_1min_after"], 2),
        "interfaces_per_s": round(n_interfaces / wall_s, 1),
        "shard_job_s_sum": round(float(shards["s"].sum()), 1),
        "shard_job_s_max": round(float(shards["s"].max()), 1),
        "peak_rss_mb": round(float(worst["max_rss"]), 1),
        "peak_rss_job": worst["job"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="campaign YAML (default: the schema defaults = config/config.yaml)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--max-coatings", type=int, help="draw this many coatings (seeded) instead of all")
    parser.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / "out" / "campaign")
    parser.add_argument("--keep", action="store_true", help="keep the work directory's earlier results")
    parser.add_argument("--all", action="store_true", help="every default target, not only the screen")
    args = parser.parse_args(argv)

    config = yaml.safe_load(args.config.read_text()) if args.config else {}
    config["results_dir"] = "results"
    if args.max_coatings:
        config.setdefault("selection", {})["max_coatings"] = args.max_coatings
    if args.workdir.exists() and not args.keep:
        shutil.rmtree(args.workdir)
    targets = None if args.all else [f"{config['results_dir']}/screen/screen.parquet"]
    timing = run_campaign(config, args.workdir, args.cores, targets)
    result = report(config, args.workdir, timing, args.cores)
    (args.workdir / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

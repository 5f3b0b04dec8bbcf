"""Wall time and throughput of a whole screening campaign through Snakemake.

    python benchmarks/bench_campaign.py                       # the full default screen
    python benchmarks/bench_campaign.py --max-coatings 500    # a quick look
    python benchmarks/bench_campaign.py --config config/quick.yaml --cores 2

Runs the workflow in its own directory (default benchmarks/out/campaign,
git-ignored; removed first unless --keep), then prints and writes
(report.json there) the wall time, interfaces and interfaces per second,
rows by status, the sum of shard job times and the largest peak memory
(max_rss) of any job, from Snakemake's per-job benchmark files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def run_campaign(config: dict, workdir: Path, cores: int) -> float:
    """Run the workflow with ``config`` in ``workdir``; returns the wall time (s)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "bench_config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config_path),
           "--profile", str(REPO / "profiles" / "local"), "--cores", str(cores)]
    start = time.perf_counter()
    with open(workdir / "snakemake.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False)
    wall_s = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench_campaign: snakemake failed (exit {proc.returncode}); see {workdir / 'snakemake.log'}")
    return wall_s


def report(config: dict, workdir: Path, wall_s: float, cores: int) -> dict:
    """Throughput and memory of a finished run."""
    results = workdir / config.get("results_dir", "results")
    screen = pd.read_parquet(results / "screen" / "screen.parquet")
    n_interfaces = len(screen.drop_duplicates(["electrolyte", "coating_id"]))
    benchmarks = [pd.read_csv(p, sep="\t").assign(job=str(p.relative_to(results / "benchmarks")))
                  for p in sorted((results / "benchmarks").rglob("*.tsv"))]
    bench = pd.concat(benchmarks, ignore_index=True)
    shards = bench[bench["job"].str.startswith("screen_shard/")]
    worst = bench.loc[bench["max_rss"].idxmax()]
    return {
        "cores": cores,
        "coatings": int(len(pd.read_parquet(results / "coatings.parquet", columns=["entry_id"]))),
        "electrolytes": sorted(screen["electrolyte_label"].unique()),
        "voltages_v": sorted(float(v) for v in screen["voltage_v"].unique()),
        "interfaces": n_interfaces,
        "rows": len(screen),
        "rows_by_status": {k: int(v) for k, v in screen["status"].value_counts().items()},
        "shards": len(shards),
        "wall_s": round(wall_s, 1),
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
    args = parser.parse_args(argv)

    config = yaml.safe_load(args.config.read_text()) if args.config else {}
    config["results_dir"] = "results"
    if args.max_coatings:
        config.setdefault("selection", {})["max_coatings"] = args.max_coatings
    if args.workdir.exists() and not args.keep:
        shutil.rmtree(args.workdir)
    wall_s = run_campaign(config, args.workdir, args.cores)
    result = report(config, args.workdir, wall_s, args.cores)
    (args.workdir / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

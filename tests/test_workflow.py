"""The Snakemake workflow end to end on a tiny real campaign (subprocess runs).

Each run works in its own directory (``--directory``); the Snakefile reads
data/ from the repository, and writes results/, logs and .snakemake/ there.
"""

import filecmp
import math
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from constrict.data.tables import RESULT_SCHEMA

pytestmark = pytest.mark.slow

VOLTAGES_V = [2, 4]
TINY = {
    "electrolytes": [
        {"formula": "Li7P3S11", "working_ion": "Li"},
        {"formula": "Na3PS4", "working_ion": "Na", "stand_in_for": "Na7P3S11"},
        {"formula": "Na7P3S11", "working_ion": "Na"},  # not in the offline data: skipped
    ],
    "selection": {
        "allowed_elements": ["Li", "Na", "P", "S", "O", "Zr", "Nb", "Cl", "Y", "Al", "La", "F"],
        "min_nelements": 2,
        "max_coatings": 9,
    },
    "voltages_v": VOLTAGES_V,
    "shard_size": 5,
    "partition_size": 2,
    "threads": 1,
    "random_state": 7,
    # nine coatings train a surrogate that has never seen the design parents' iodine;
    # the design stage runs on real data in test_design.py and test_reference.py
    "design": {"enabled": False},
}


def snakemake_cmd(repo_root, workdir, config, *extra, profile=True):
    """The command that runs the workflow in ``workdir`` with ``config`` (written there).

    ``profile=False``: no ``--profile``, as a user types it (the workflow
    profile profiles/default/ still applies, as Snakemake finds it by itself).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    local = ["--profile", str(repo_root / "profiles" / "local")] if profile else []
    return [sys.executable, "-m", "snakemake", "--snakefile", str(repo_root / "Snakefile"),
            "--directory", str(workdir), "--configfile", str(config_path), *local, "--cores", "2", *extra]


def snakemake(repo_root, workdir, config, *extra, env=None, profile=True, cwd=None):
    """Run the workflow in ``workdir`` with ``config``; returns the CompletedProcess."""
    cmd = snakemake_cmd(repo_root, workdir, config, *extra, profile=profile)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env, cwd=cwd)


def ran(proc, rule):
    """Jobs of ``rule`` that Snakemake ran (or planned, in a dry run)."""
    return re.findall(rf"^(?:local)?rule {rule}:", proc.stdout + proc.stderr, flags=re.M)


@pytest.fixture(scope="module")
def first(repo_root, snapshot_path, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run1")
    proc = snakemake(repo_root, workdir, TINY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir, proc


def test_campaign_outputs(first):
    workdir, proc = first
    results = workdir / "results"
    coatings = pd.read_parquet(results / "coatings.parquet")
    assert len(coatings) == 9
    screen = pd.read_parquet(results / "screen" / "screen.parquet")
    assert screen.columns.tolist() == RESULT_SCHEMA.names
    pairs = screen.drop_duplicates(["electrolyte", "coating_id"])
    self_pairs = coatings["reduced_formula"].isin(["Li7P3S11", "Na3PS4"]).sum()
    assert len(pairs) == 2 * len(coatings) - self_pairs
    assert len(screen) == len(pairs) * len(VOLTAGES_V)
    assert set(screen["electrolyte_label"]) == {"Li7P3S11", "Na3PS4 (stand-in for Na7P3S11)"}
    assert (screen["status"] == "ok").all()
    assert screen.equals(screen.sort_values(["electrolyte", "coating_id", "voltage_v"], ignore_index=True))
    skipped = pd.read_csv(results / "screen" / "skipped.tsv", sep="\t")
    assert skipped["electrolyte"].tolist() == ["Na7P3S11"]
    n_shards = len(list((results / "screen" / "shards").glob("*.parquet")))
    plan = pd.read_parquet(results / "screen" / "plan.parquet")
    assert n_shards == plan["shard"].nunique() == len(ran(proc, "screen_shard")) >= 3
    assert n_shards == math.ceil(len(plan) / TINY["shard_size"])  # counted before the plan existed
    log = (results / "logs" / "screen_shard" / "0000.log").read_text()
    assert "interfaces/s" in log and "ETA" in log
    assert (results / "benchmarks" / "screen_shard" / "0000.tsv").is_file()
    assert "skipping electrolyte Na7P3S11" in (results / "logs" / "plan_shards.log").read_text()
    assert (results / "summary" / "kcrit_stats.tsv").is_file()


def test_reproduction_table_of_the_tiny_campaign(first):
    """The study and its table run in the default target; the design rows say not run (design is off here)."""
    workdir, proc = first
    results = workdir / "results"
    assert len(ran(proc, "reproduction")) == len(ran(proc, "reproduction_table")) == 1
    claims = pd.read_csv(results / "reproduction" / "claims.tsv", sep="\t", keep_default_na=False)
    assert claims["claim_id"].is_unique and (claims["verdict"] != "").all()
    by_id = claims.set_index("claim_id")
    assert by_id.loc["fig4c-parent", "verdict"] == "not run"
    assert by_id.loc["intro-window-Li7P3S11-15GPa", "ours_released_metal"].endswith(" V")
    windows = pd.read_csv(results / "reproduction" / "windows.tsv", sep="\t")
    assert set(windows["convention"]) == {"ion_metal", "reservoir", "released_metal"}
    assert (results / "benchmarks" / "reproduction.tsv").is_file()


def test_rerun_is_byte_identical_with_a_dask_cluster(first, repo_root, tmp_path):
    """Fresh directory, one big shard on a two-worker Dask cluster: the same bytes."""
    workdir, _ = first
    proc = snakemake(repo_root, tmp_path, {**TINY, "threads": 2, "shard_size": 100, "summary": {"enabled": False}})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("screen/screen.parquet", "coatings.parquet", "entries.parquet"):
        assert filecmp.cmp(workdir / "results" / name, tmp_path / "results" / name, shallow=False), name
    assert "2 worker processes" in (tmp_path / "results" / "logs" / "screen_shard" / "0000.log").read_text()


def test_same_config_gives_the_same_plan_bytes(first, repo_root, tmp_path):
    workdir, _ = first
    proc = snakemake(repo_root, tmp_path, TINY, "--until", "plan_shards")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    name = "screen/plan.parquet"
    assert filecmp.cmp(workdir / "results" / name, tmp_path / "results" / name, shallow=False)


def test_nothing_to_do_on_a_finished_run(first, repo_root):
    workdir, _ = first
    proc = snakemake(repo_root, workdir, TINY, "--dry-run")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def test_resume_recomputes_only_the_lost_shard(first, repo_root, tmp_path):
    workdir, _ = first
    shards = workdir / "results" / "screen" / "shards"
    reference = tmp_path / "screen.parquet"
    reference.write_bytes((workdir / "results" / "screen" / "screen.parquet").read_bytes())
    before = {p.name: p.stat().st_mtime_ns for p in shards.glob("*.parquet")}
    # A run killed while shard 0001 was writing: that shard left only its
    # temp file (writes are atomic), and gather had not run.
    (shards / "0001.parquet").unlink()
    (workdir / "results" / "screen" / "screen.parquet").unlink()
    (shards / ".0001.parquet.4242.tmp").write_bytes(b"partial")
    proc = snakemake(repo_root, workdir, TINY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(ran(proc, "screen_shard")) == 1 and "shard=0001" in proc.stdout + proc.stderr
    after = {p.name: p.stat().st_mtime_ns for p in shards.glob("*.parquet")}
    assert {k for k in after if after[k] != before[k]} == {"0001.parquet"}
    assert filecmp.cmp(reference, workdir / "results" / "screen" / "screen.parquet", shallow=False)


def test_killed_run_resumes_with_only_the_unfinished_shards(first, repo_root, tmp_path):
    """Interrupt a run once its first shard is recorded as finished; the rerun keeps every finished shard."""
    reference, _ = first
    shards = tmp_path / "results" / "screen" / "shards"
    config = {**TINY, "threads": 2}  # slower shards (a Dask cluster each): a wider window to kill in
    proc = subprocess.Popen(snakemake_cmd(repo_root, tmp_path, config), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not _recorded_shards(tmp_path) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: Snakemake stops its jobs and exits
    proc.wait(timeout=120)
    finished = {p.name: p.stat().st_mtime_ns for p in shards.glob("*.parquet")}
    assert finished, "no shard was finished before the kill"
    assert not (tmp_path / "results" / "screen" / "screen.parquet").exists()
    rerun = snakemake(repo_root, tmp_path, config)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    n_shards = len(list(shards.glob("*.parquet")))
    assert len(ran(rerun, "screen_shard")) == n_shards - len(finished)
    assert all(shards.joinpath(name).stat().st_mtime_ns == t for name, t in finished.items())
    assert filecmp.cmp(reference / "results" / "screen" / "screen.parquet",
                       tmp_path / "results" / "screen" / "screen.parquet", shallow=False)


def _recorded_shards(workdir):
    """Shard outputs whose job Snakemake has recorded as finished (its metadata is written)."""
    import base64

    metadata = workdir / ".snakemake" / "metadata"
    names = []
    for path in metadata.glob("*") if metadata.is_dir() else []:
        try:
            names.append(base64.urlsafe_b64decode(path.name).decode())
        except (ValueError, UnicodeDecodeError):
            continue
    return [n for n in names if "/screen/shards/" in n]


def test_dry_run_lists_every_shard_job(first, repo_root, tmp_path):
    """The shard count is known when the DAG is built: ceil(interfaces / shard_size), or n_shards."""
    reference, _ = first
    plan = pd.read_parquet(reference / "results" / "screen" / "plan.parquet")
    proc = snakemake(repo_root, tmp_path / "counted", TINY, "--dry-run")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(ran(proc, "screen_shard")) == plan["shard"].nunique() == math.ceil(len(plan) / TINY["shard_size"])
    proc = snakemake(repo_root, tmp_path / "set", {**TINY, "n_shards": 7}, "--dry-run")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(ran(proc, "screen_shard")) == 7 and "shard=0006" in proc.stdout
    assert not (tmp_path / "counted" / "results").exists()


def test_mp_api_dry_run_needs_n_shards_only(repo_root, tmp_path):
    """mp_api: no key and no network when planning, but n_shards must be set (one clear line)."""
    env = {k: v for k, v in os.environ.items() if k != "MP_API_KEY"}
    config = {"source": {"name": "mp_api", "chemical_systems": None}}
    proc = snakemake(repo_root, tmp_path / "missing", config, "--dry-run", env=env)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "config.n_shards" in line]
    assert len(lines) == 1 and "required for source mp_api" in lines[0], proc.stdout + proc.stderr
    proc = snakemake(repo_root, tmp_path / "set", {**config, "n_shards": 5}, "--dry-run", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(ran(proc, "fetch_entries")) == 1 and len(ran(proc, "screen_shard")) == 5


def test_more_shards_than_partitions_gives_empty_shards(first, repo_root, tmp_path):
    """Empty shards write empty tables with the full schema; the gathered screen is unchanged."""
    reference, _ = first
    config = {**TINY, "partition_size": 100, "n_shards": 3, "summary": {"enabled": False}}
    proc = snakemake(repo_root, tmp_path, config)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    shards = sorted((tmp_path / "results" / "screen" / "shards").glob("*.parquet"))
    assert [p.name for p in shards] == ["0000.parquet", "0001.parquet", "0002.parquet"]
    assert [len(pd.read_parquet(p)) for p in shards[1:]] == [0, 0]
    assert pd.read_parquet(shards[2]).columns.tolist() == RESULT_SCHEMA.names
    gathered = pd.read_parquet(tmp_path / "results" / "screen" / "screen.parquet")
    expected = pd.read_parquet(reference / "results" / "screen" / "screen.parquet")
    assert len(gathered) == len(expected)


def test_data_quality_tables_of_the_tiny_campaign(first):
    workdir, proc = first
    data = workdir / "results" / "data"
    assert len(ran(proc, "data_quality")) == 1
    counts = pd.read_csv(data / "quality_counts.tsv", sep="\t")
    entries = pd.read_parquet(workdir / "results" / "entries.parquet")
    flags = counts[counts["check"] == "volume_flag"]
    assert flags["n_entries"].sum() == len(entries)
    changes = pd.read_csv(data / "quality_changes.tsv", sep="\t")
    assert len(changes) == (entries["volume_flag"] == "implausible").sum() > 0


def test_plain_snakemake_has_nothing_to_do_on_a_finished_run(first, repo_root, tmp_path):
    """No --profile, from another folder: Snakemake applies profiles/default/ by itself, and nothing reruns."""
    workdir, _ = first
    proc = snakemake(repo_root, workdir, TINY, "--dry-run", profile=False, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f"workflow specific profile {repo_root / 'profiles' / 'default'}" in out
    assert "Nothing to be done" in out


@pytest.mark.parametrize("extra", [(), ("--forceall",)])
def test_fresh_clone_does_not_rebuild_the_snapshot(repo_root, snapshot_path, tmp_path, extra):
    """A plain command on a fresh clone (no metadata for the committed file) plans the campaign, never
    build_snapshot: the rule exists only with build_snapshot: true (make snapshot)."""
    proc = snakemake(repo_root, tmp_path, {}, "--dry-run", *extra, profile=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ran(proc, "build_snapshot") == [] and ran(proc, "prepare_entries")


def test_make_snapshot_asks_for_the_build(repo_root, tmp_path):
    """make snapshot's flags plan exactly the snapshot build (a dry run: the committed file stays)."""
    proc = snakemake(repo_root, tmp_path, {}, "--dry-run", "--config", "build_snapshot=True",
                     "--forcerun", "build_snapshot", "--", str(repo_root / "data" / "mp_offline.parquet"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(ran(proc, "build_snapshot")) == 1 and ran(proc, "prepare_entries") == []


def test_bad_config_stops_before_any_job(repo_root, tmp_path):
    proc = snakemake(repo_root, tmp_path, {**TINY, "shard_size": 0}, "--dry-run")
    assert proc.returncode != 0
    assert "shard_size" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_lint_is_clean(repo_root):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--snakefile", str(repo_root / "Snakefile")],
                          capture_output=True, text=True, cwd=repo_root, timeout=300, check=False)
    assert proc.returncode == 0 and "Congratulations" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_report_renders_in_a_browser(first, repo_root):
    """`snakemake --report` of the tiny run: landing page and every category page opened in headless Chromium.

    Skipped without Chromium, unless CONSTRICT_REQUIRE_BROWSER is set (CI's .ci/run sets it): then it fails.
    """
    workdir, _ = first
    html = workdir / "report.html"
    proc = snakemake(repo_root, workdir, TINY, "--report", str(html))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    sys.path.insert(0, str(repo_root / "scripts"))
    try:
        import check_report
    finally:
        sys.path.pop(0)
    if check_report.find_browser() is None and not check_report.browser_required():
        pytest.skip("no Chromium here (Debian: apt-get install chromium); the report was built but not rendered")
    assert check_report.main([str(html), "--screenshot", str(workdir / "report.png")]) == 0

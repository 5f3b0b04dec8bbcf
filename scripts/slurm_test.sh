#!/usr/bin/env bash
# `make slurm-test`: run a tiny campaign through a real SLURM cluster (a
# single-node one started on this machine by scripts/local_slurm.sh) with
# profiles/slurm, run the same campaign locally with profiles/local, and
# check that both give the same gathered screen.
#
# Needs root and apt (to install and start SLURM). Without them it prints
# "SKIPPED: <reason>" and exits 0; it never passes silently. The last line
# is always "slurm-test: <n> passed, <n> failed[, <n> skipped]".
#
# Knobs (environment): SLURM_TEST_COATINGS (default 6), SLURM_TEST_SHARD_SIZE
# (most interfaces per shard, default 8), SLURM_TEST_PARTITION_SIZE
# (interfaces per partition, default 4; a shard holds whole partitions),
# SLURM_TEST_KEEP=1 keeps the work folder,
# SLURM_TEST_EXTRA_CONFIG=<yaml> is merged last into the campaign config
# (e.g. another entry table: source: {path: ...}).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$REPO/.venv/bin"
COATINGS=${SLURM_TEST_COATINGS:-6}
SHARD_SIZE=${SLURM_TEST_SHARD_SIZE:-8}
PARTITION_SIZE=${SLURM_TEST_PARTITION_SIZE:-4}
CONF=/etc/slurm/slurm.conf
MARKER="# written by constrict scripts/local_slurm.sh"

skip() {
    echo "SKIPPED: $1"
    echo "slurm-test: 0 passed, 0 failed, 1 skipped"
    exit 0
}

fail() {
    echo "FAILED: $1"
    echo "slurm-test: 0 passed, 1 failed"
    exit 1
}

# --- can we have a cluster? ------------------------------------------------
[[ $(id -u) -eq 0 ]] || skip "needs root to install and start a local SLURM cluster (docs/slurm.md: run the profile on a real cluster instead)"
if [[ -f $CONF ]] && ! grep -qF "$MARKER" "$CONF"; then
    skip "$CONF belongs to a real SLURM installation; this test only runs on its own single-node cluster"
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || skip "SLURM is not installed and apt-get is unavailable"
    echo "slurm-test: installing SLURM (apt-get, about a minute)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge; } >/dev/null 2>&1; then
        skip "apt-get could not install slurmctld slurmd slurm-client munge (no package registry reachable?)"
    fi
fi
[[ -x $BIN/snakemake ]] || fail "$BIN/snakemake missing; run make env first"
EXTRA_CONFIG=${SLURM_TEST_EXTRA_CONFIG:-}
[[ -z $EXTRA_CONFIG || -f $EXTRA_CONFIG ]] || fail "SLURM_TEST_EXTRA_CONFIG=$EXTRA_CONFIG not found"
[[ -n $EXTRA_CONFIG || -f $REPO/data/mp_offline.parquet ]] || fail "data/mp_offline.parquet missing; the tiny campaign reads the embedded offline snapshot"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/constrict-slurm-test.XXXXXX")
# A cluster that local_slurm.sh started before this test stays up after it.
STATE_DIR="${CONSTRICT_SLURM_DIR:-${TMPDIR:-/tmp}/constrict-slurm}"
was_running=0
bash "$REPO/scripts/local_slurm.sh" status 2>/dev/null | grep -q "^slurmctld: running" && was_running=1
cleanup() {
    ((was_running)) || bash "$REPO/scripts/local_slurm.sh" stop >/dev/null 2>&1 || true
    if [[ ${SLURM_TEST_KEEP:-0} == 1 ]]; then
        echo "slurm-test: work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# --- the cluster -------------------------------------------------------------
bash "$REPO/scripts/local_slurm.sh" start || fail "the local SLURM cluster did not start (logs in $STATE_DIR)"
completed_before=$(grep -c "_job_complete: JobId=.* WEXITSTATUS 0" "$STATE_DIR/slurmctld.log" 2>/dev/null || true)

# The same tiny campaign twice: config/quick.yaml cut to a few coatings and
# several shards, in its own working directory each (own .snakemake, own
# results/). Memory request small enough for any test node.
cat >"$WORK/tiny.yaml" <<EOF
selection:
  max_coatings: $COATINGS
shard_size: $SHARD_SIZE
partition_size: $PARTITION_SIZE
threads: 1
mem_mb: 1000
runtime_min: 10
# the test is about SLURM execution: the screen, summary and report tables;
# the ML and design stages need more than a handful of coatings
surrogate: {enabled: false}
design: {enabled: false}
cathode: {enabled: false}
EOF
CAMPAIGN=(--snakefile "$REPO/Snakefile" --configfile "$REPO/config/quick.yaml" "$WORK/tiny.yaml" ${EXTRA_CONFIG:+"$(realpath "$EXTRA_CONFIG")"})
RESULT=results/quick/screen/screen.parquet

echo "slurm-test: campaign through SLURM (sbatch) in $WORK/slurm"
mkdir -p "$WORK/slurm" "$WORK/local"
# sacct fails without accounting storage, so job states come from squeue
# (the cluster keeps finished jobs visible for MinJobAge = 600 s).
# The literal command users type: `snakemake --profile slurm`, with the
# profile installed by `make slurm-profile` (into a private config home here).
export XDG_CONFIG_HOME="$WORK/config-home"
make -s -C "$REPO" slurm-profile >/dev/null || fail "make slurm-profile failed"
[[ -f $XDG_CONFIG_HOME/snakemake/slurm/config.yaml ]] || fail "make slurm-profile did not install the profile"
if ! (cd "$WORK/slurm" && "$BIN/snakemake" --profile slurm "${CAMPAIGN[@]}" \
    --slurm-status-command squeue --slurm-init-seconds-before-status-checks 2 --seconds-between-status-checks 2 \
    --slurm-keep-successful-logs --jobs 4 --latency-wait 5 --retries 0) \
    >"$WORK/slurm.log" 2>&1; then
    tail -40 "$WORK/slurm.log"
    fail "the SLURM run failed (log above)"
fi

echo "slurm-test: same campaign locally in $WORK/local"
if ! "$BIN/snakemake" "${CAMPAIGN[@]}" --directory "$WORK/local" --profile "$REPO/profiles/local" --cores 2 \
    >"$WORK/local.log" 2>&1; then
    tail -40 "$WORK/local.log"
    fail "the local run failed (log above)"
fi

# --- did the shards really go through sbatch? --------------------------------
n_shards=$(find "$WORK/slurm/results/quick/screen/shards" -name '*.parquet' | wc -l)
n_shard_logs=$(find "$WORK/slurm/.snakemake/slurm_logs/rule_screen_shard" -name '*.log' 2>/dev/null | wc -l)
n_submitted=$(grep -c "has been submitted with SLURM jobid" "$WORK/slurm.log" || true)
n_completed=$(($(grep -c "_job_complete: JobId=.* WEXITSTATUS 0" "$STATE_DIR/slurmctld.log" || true) - ${completed_before:-0}))
echo "slurm-test: $n_shards shards; $n_shard_logs shard SLURM logs; $n_submitted jobs submitted, $n_completed completed (exit 0) in slurmctld's log"
((n_shards >= 2)) || fail "expected several shards, got $n_shards"
((n_shard_logs == n_shards)) || fail "$n_shards shards but $n_shard_logs SLURM shard logs"
((n_submitted >= n_shards)) || fail "fewer sbatch jobs ($n_submitted) than shards ($n_shards)"
((n_completed == n_submitted)) || fail "$n_submitted jobs submitted but $n_completed completed with exit 0 in slurmctld's log"

# --- same results? ------------------------------------------------------------
"$BIN/python" - "$WORK/slurm/$RESULT" "$WORK/local/$RESULT" "$WORK/slurm/results/quick/summary/kcrit_stats.tsv" "$WORK/local/results/quick/summary/kcrit_stats.tsv" <<'EOF' || fail "the SLURM and local results differ"
import filecmp
import sys

import pandas as pd

slurm, local, slurm_stats, local_stats = sys.argv[1:]
a, b = pd.read_parquet(slurm), pd.read_parquet(local)
pd.testing.assert_frame_equal(a, b)
assert len(a) > 0, "empty screen"
print(f"slurm-test: screen.parquet {len(a)} rows, frame-equal; byte-identical: {filecmp.cmp(slurm, local, shallow=False)}")
assert filecmp.cmp(slurm_stats, local_stats, shallow=False), "kcrit_stats.tsv differs"
print("slurm-test: summary/kcrit_stats.tsv identical")
EOF

echo "slurm-test: 1 passed, 0 failed"

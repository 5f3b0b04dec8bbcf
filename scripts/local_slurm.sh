#!/usr/bin/env bash
# Start, stop or inspect a single-node SLURM cluster on this machine, so that
# the campaign's SLURM profile can be tested for real (scripts/slurm_test.sh).
#
#   bash scripts/local_slurm.sh start    # install if missing, configure, start
#   bash scripts/local_slurm.sh status   # sinfo + daemon pids
#   bash scripts/local_slurm.sh stop     # stop the daemons we started
#
# Needs root and a Debian/Ubuntu apt (packages slurmctld slurmd slurm-client
# munge). Everything runs as root with no cgroups and no accounting storage:
# a test cluster, not a production one. The state (spool, logs, pid files)
# lives in $CONSTRICT_SLURM_DIR (default: $TMPDIR/constrict-slurm).
#
# slurm.conf must sit at /etc/slurm/slurm.conf: the Snakemake SLURM plugin
# clears every SLURM_* variable (SLURM_CONF included) before it calls sbatch.
# An existing slurm.conf that this script did not write is never touched:
# `start` then refuses with a message.
set -euo pipefail

STATE_DIR="${CONSTRICT_SLURM_DIR:-${TMPDIR:-/tmp}/constrict-slurm}"
CONF=/etc/slurm/slurm.conf
MARKER="# written by constrict scripts/local_slurm.sh"
PACKAGES=(slurmctld slurmd slurm-client munge)

die() { echo "local_slurm: $*" >&2; exit 1; }

need_root() {
    [[ $(id -u) -eq 0 ]] || die "needs root (it installs packages and starts daemons)"
}

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurmctld)
    command -v slurmd >/dev/null || missing+=(slurmd)
    command -v sbatch >/dev/null || missing+=(slurm-client)
    command -v munged >/dev/null || missing+=(munge)
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null || die "SLURM is not installed and apt-get is unavailable; install ${PACKAGES[*]}"
    echo "local_slurm: installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
    chmod 400 /etc/munge/munge.key
    if pid_alive "$STATE_DIR/munged.pid"; then return 0; fi
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        return 0  # a munged is already running (not ours): use it
    fi
    # munged writes its own pid file; --force tolerates a stale socket
    munged --force --pid-file="$STATE_DIR/munged.pid" 2>>"$STATE_DIR/munged.err" \
        || die "munged did not start: $(tail -1 "$STATE_DIR/munged.err")"
    touch "$STATE_DIR/munged.ours"
}

write_conf() {
    local host cpus mem_mb
    host=$(hostname)
    cpus=$(nproc)
    # leave 1 GB to the system, cap at what the node really has
    mem_mb=$(awk '/MemTotal/ {printf "%d", $2 / 1024 - 1024}' /proc/meminfo)
    if [[ -f $CONF ]] && ! grep -qF "$MARKER" "$CONF"; then
        die "$CONF exists and was not written by this script; not touching a real cluster's configuration"
    fi
    mkdir -p /etc/slurm "$STATE_DIR/ctld" "$STATE_DIR/d"
    cat >"$CONF" <<EOF
$MARKER
# Single-node test cluster: everything as root, no cgroups, no accounting.
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/d
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$STATE_DIR/slurmctld.log
SlurmdLogFile=$STATE_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# keep finished jobs visible to squeue long enough for status polling
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

wait_idle() {
    local i
    for i in $(seq 1 60); do
        if sinfo -h -o '%t' 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
            return 0
        fi
        sleep 1
    done
    die "node not idle after 60 s; see $STATE_DIR/slurmctld.log and $STATE_DIR/slurmd.log"
}

start() {
    need_root
    install_packages
    mkdir -p "$STATE_DIR"
    write_conf
    start_munge
    pid_alive "$STATE_DIR/slurmctld.pid" || slurmctld
    pid_alive "$STATE_DIR/slurmd.pid" || slurmd
    wait_idle
    echo "local_slurm: up ($(sinfo -h -o '%P %D %t %c CPUs %m MB' | head -1)); state in $STATE_DIR"
}

stop_pid() {
    local name=$1 pidfile="$STATE_DIR/$1.pid" pid i
    pid_alive "$pidfile" || return 0
    pid=$(cat "$pidfile")
    kill "$pid"
    for i in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    echo "local_slurm: $name ($pid) did not stop on SIGTERM; sending SIGKILL" >&2
    kill -9 "$pid" 2>/dev/null || true
}

stop() {
    need_root
    stop_pid slurmd
    stop_pid slurmctld
    if [[ -f $STATE_DIR/munged.ours ]]; then
        stop_pid munged
        rm -f "$STATE_DIR/munged.ours"
    fi
    if [[ -f $CONF ]] && grep -qF "$MARKER" "$CONF"; then
        rm -f "$CONF"
    fi
    echo "local_slurm: stopped"
}

status() {
    local name
    for name in munged slurmctld slurmd; do
        if pid_alive "$STATE_DIR/$name.pid"; then
            echo "$name: running (pid $(cat "$STATE_DIR/$name.pid"))"
        else
            echo "$name: not running"
        fi
    done
    sinfo 2>/dev/null || echo "sinfo: no controller reachable"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: bash scripts/local_slurm.sh start|stop|status" >&2; exit 2 ;;
esac

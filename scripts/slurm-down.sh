#!/bin/bash
# Stops the private single-node Slurm cluster of `scripts/slurm-up.sh DIR`: cancels its jobs,
# then stops slurmd, slurmctld and its munged, each by the PID in its pid file under DIR. Safe
# to run when nothing runs. DIR itself (configuration, state, logs) stays: remove it to undo all.
set -uo pipefail

[ $# = 1 ] && [ -d "$1" ] || { echo "slurm-down: error: usage: scripts/slurm-down.sh DIR (the folder given to slurm-up.sh)" >&2; exit 1; }
DIR=$(cd "$1" && pwd)
export SLURM_CONF=$DIR/slurm.conf

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Running: alive and not a zombie (an exited daemon whose parent has not reaped it yet).
running() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

stop() {  # name pidfile
    local pid
    [ -f "$2" ] || return 0
    pid=$(cat "$2")
    if [ -n "$pid" ] && running "$pid"; then
        kill "$pid"
        for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
        if running "$pid"; then kill -9 "$pid" 2>/dev/null; echo "slurm-down: $1 ($pid) killed"; else echo "slurm-down: $1 ($pid) stopped"; fi
    fi
    rm -f "$2"
}

# Jobs first, while slurmd can still end their steps (a step outlives a killed slurmd).
if [ -f "$SLURM_CONF" ] && alive "$DIR/run/slurmctld.pid"; then
    scancel --quiet --user="$(id -un)" </dev/null >/dev/null 2>&1 || true
    for _ in $(seq 100); do
        [ -z "$(squeue -h -o %i </dev/null 2>/dev/null)" ] && break
        sleep 0.1
    done
fi
stop slurmd "$DIR/run/slurmd.pid"
stop slurmctld "$DIR/run/slurmctld.pid"
stop munged "$DIR/munge/munged.pid"
exit 0

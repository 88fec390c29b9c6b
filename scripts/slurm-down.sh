#!/bin/bash
# Stops the single-node Slurm cluster of scripts/slurm-up.sh: slurmd, slurmctld and (when
# slurm-up started it) munged, each by the PID in its pid file. Safe to run when nothing runs.
# Jobs still running are killed with their slurmd; the configuration and state stay.
set -uo pipefail

RUN=/run/accelgen-slurm

stop() {  # name pidfile
    local pid
    [ -f "$2" ] || return 0
    pid=$(cat "$2")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null; echo "slurm-down: $1 ($pid) killed"; else echo "slurm-down: $1 ($pid) stopped"; fi
    fi
    rm -f "$2"
}

stop slurmd "$RUN/slurmd.pid"
stop slurmctld "$RUN/slurmctld.pid"
if [ -f "$RUN/munged.ours" ]; then
    stop munged /run/munge/munged.pid
    rm -f "$RUN/munged.ours"
fi
exit 0

#!/bin/bash
# Starts a private single-node Slurm cluster on 127.0.0.1 from Debian's packages (slurmctld,
# slurmd, slurm-client, munge), for trying and testing `sweep --slurm` (docs/SWEEP.md).
#
#   scripts/slurm-up.sh DIR     install when missing, configure, start, wait until `srun true` works
#   scripts/slurm-down.sh DIR   stop the daemons (by the PIDs this script recorded)
#
# Everything lives in DIR: slurm.conf, state, spool, logs, pid files, and a munged of its own
# (key, socket, seed, log). Nothing in /etc is read or written, so a machine's own Slurm and
# munge are left alone. The cluster listens on two free ports picked at start, and clients reach
# it through the configuration:
#
#   export SLURM_CONF=DIR/slurm.conf
#
# Idempotent: when DIR's cluster is already up it only checks that `srun true` works. Needs root
# (the Slurm daemons run as root, as SlurmUser) and no systemd.
#
# Prints "slurm-up: started" or "slurm-up: already up" as its last line; exit status 0 when
# `srun true` works, 1 otherwise (with the daemons' log tails).
set -euo pipefail

say() { echo "slurm-up: $*"; }
die() { echo "slurm-up: error: $*" >&2; exit 1; }

[ $# = 1 ] && [ -n "$1" ] || die "usage: scripts/slurm-up.sh DIR (the cluster's private folder)"
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
RUN=$DIR/run
STATE=$DIR/state
LOGS=$DIR/log
MUNGE=$DIR/munge
CONF=$DIR/slurm.conf
# Memory per CPU a job gets when it asks for none: without it a job takes the whole node.
DEF_MEM_PER_CPU=${SLURM_UP_DEF_MEM_PER_CPU:-1024}

# Close every descriptor inherited from the caller except stdio: the daemons started below
# would keep them open, and a caller waiting for one to close (Foundation's Process watches its
# child through a socket) would wait for the daemons.
for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    case $fd in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done

[ "$(id -u)" = 0 ] || die "run as root (the Slurm daemons run as root)"

# /dev/null must be writable by everyone (munged and slurmd run commands with it).
if [ "$(stat -c %a /dev/null)" != 666 ]; then chmod 666 /dev/null; fi

# 1. Packages.
missing=""
for t in slurmctld slurmd sbatch munged mungekey; do command -v "$t" >/dev/null 2>&1 || missing=1; done
if [ -n "$missing" ]; then
    command -v apt-get >/dev/null 2>&1 || die "Slurm is not installed and there is no apt-get: install slurmctld slurmd slurm-client munge"
    say "installing slurmctld slurmd slurm-client munge (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; } \
        || die "apt-get could not install slurmctld slurmd slurm-client munge"
fi

mkdir -p "$RUN" "$STATE/ctld" "$STATE/d" "$LOGS" "$MUNGE"
chmod 0700 "$MUNGE"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# 2. munge: DIR's own key, socket and daemon (munged runs as root here, hence --force).
SOCKET=$MUNGE/munge.socket
if [ ! -s "$MUNGE/munge.key" ]; then mungekey --create --keyfile "$MUNGE/munge.key" --force >/dev/null; fi
chmod 0400 "$MUNGE/munge.key"
if ! alive "$MUNGE/munged.pid"; then
    rm -f "$MUNGE/munged.pid" "$SOCKET" "$SOCKET.lock"
    # Daemons get no stdio of ours: a caller reading our output would wait for them forever.
    /usr/sbin/munged --force --socket="$SOCKET" --key-file="$MUNGE/munge.key" --pid-file="$MUNGE/munged.pid" \
        --seed-file="$MUNGE/munged.seed" --log-file="$MUNGE/munged.log" </dev/null >/dev/null 2>&1
fi
for _ in $(seq 50); do munge -n -S "$SOCKET" </dev/null 2>/dev/null | unmunge -S "$SOCKET" >/dev/null 2>&1 && break; sleep 0.1; done
munge -n -S "$SOCKET" </dev/null | unmunge -S "$SOCKET" >/dev/null || die "munge does not work (see $MUNGE/munged.log)"

# 3. slurm.conf: this machine's topology from `slurmd -C`, everything on 127.0.0.1, two free
# ports (kept when DIR's cluster was configured before).
host=$(hostname -s)
node=$(slurmd -C | head -1)
case "$node" in NodeName=*) ;; *) die "slurmd -C printed no NodeName line: $node" ;; esac
node_name=$(echo "$node" | sed 's/^NodeName=\([^ ]*\).*/\1/')
if [ -f "$CONF" ]; then
    ctld_port=$(sed -n 's/^SlurmctldPort=//p' "$CONF")
    d_port=$(sed -n 's/^SlurmdPort=//p' "$CONF")
fi
if [ -z "${ctld_port:-}" ] || [ -z "${d_port:-}" ]; then
    # Ports nothing listens on now: bound by the kernel's choice, then released.
    read -r ctld_port d_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
fi
cat >"$CONF.tmp" <<EOF
# A private single-node cluster on 127.0.0.1 (scripts/slurm-up.sh); clients: SLURM_CONF=$CONF
ClusterName=accelgen
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
PlugStackConfig=$DIR/plugstack.conf
# No systemd, no cgroups here: track processes through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$DEF_MEM_PER_CPU
# No accounting daemon: the job completion log is the record of finished jobs.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
MinJobAge=60
MailProg=/bin/true
$node NodeAddr=127.0.0.1 NodeHostname=$host State=UNKNOWN
PartitionName=debug Nodes=$node_name Default=YES MaxTime=INFINITE State=UP
EOF
: >"$DIR/plugstack.conf"
changed=""
if ! cmp -s "$CONF.tmp" "$CONF"; then mv "$CONF.tmp" "$CONF"; changed=1; else rm -f "$CONF.tmp"; fi
export SLURM_CONF=$CONF

works() { timeout 20 srun --quiet -N1 -n1 --mem=16M -t 1 true </dev/null >/dev/null 2>&1; }

# Up already: same configuration, both daemons alive, the controller answering and the node
# serving. A busy node makes `srun true` wait for a free CPU, so it is not asked then: a busy
# cluster is an up cluster, never one to restart (that would kill its jobs).
node_state() { sinfo -h -N -n "$node_name" -o %T 2>/dev/null | head -1; }
if [ -z "$changed" ] && alive "$RUN/slurmctld.pid" && alive "$RUN/slurmd.pid" && scontrol ping 2>/dev/null | grep -q UP; then
    case "$(node_state)" in
        idle*) works && { say "already up (node $node_name on 127.0.0.1; SLURM_CONF=$CONF)"; exit 0; } ;;
        allocated*|mixed*|completing*) say "already up (node $node_name on 127.0.0.1, busy; SLURM_CONF=$CONF)"; exit 0 ;;
        down*|drain*|fail*)
            scontrol update NodeName="$node_name" State=RESUME >/dev/null 2>&1 || true
            for _ in $(seq 20); do works && { say "already up (node $node_name resumed; SLURM_CONF=$CONF)"; exit 0; }; sleep 1; done ;;
    esac
fi

# 4. (Re)start the daemons: a changed plugin needs a restart, not a reconfigure.
for d in slurmd slurmctld; do
    if alive "$RUN/$d.pid"; then
        pid=$(cat "$RUN/$d.pid"); kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$d.pid"
done
/usr/sbin/slurmctld -f "$CONF" </dev/null >>"$LOGS/slurmctld.out" 2>&1
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.1; done
/usr/sbin/slurmd -f "$CONF" -N "$node_name" </dev/null >>"$LOGS/slurmd.out" 2>&1

# Ready when a job step runs, not when sinfo first answers.
for i in $(seq 60); do
    if works; then say "started (node $node_name on 127.0.0.1, ports $ctld_port and $d_port; SLURM_CONF=$CONF)"; exit 0; fi
    # A node left down or drained by an earlier run comes back here.
    if [ "$i" = 5 ] || [ "$i" = 20 ]; then scontrol update NodeName="$node_name" State=RESUME >/dev/null 2>&1 || true; fi
    sleep 1
done
echo "slurm-up: error: srun true still fails after 60 s" >&2
sinfo -N -l >&2 || true
tail -5 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 || true
exit 1

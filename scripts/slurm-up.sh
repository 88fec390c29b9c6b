#!/bin/bash
# Starts a single-node Slurm cluster on 127.0.0.1 from Debian's packages (slurmctld, slurmd,
# slurm-client, munge), for trying and testing `sweep --slurm` (docs/SWEEP.md).
#
#   scripts/slurm-up.sh      install when missing, configure, start, wait until `srun true` works
#   scripts/slurm-down.sh    stop the daemons (by the PIDs this script recorded)
#
# Idempotent: when the cluster is already up with the same configuration it only checks that
# `srun true` works. A changed configuration (plugins need a restart) restarts the daemons.
# Needs root (it writes /etc/slurm/slurm.conf and runs the daemons) and no systemd: munged and
# the Slurm daemons are started by hand. It refuses to overwrite a slurm.conf it did not write.
#
# Prints "slurm-up: started" or "slurm-up: already up" as its last line; exit status 0 when
# `srun true` works, 1 otherwise (with the daemons' log tails).
set -euo pipefail

RUN=/run/accelgen-slurm
STATE=/var/spool/accelgen-slurm
LOGS=/var/log/accelgen-slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by accelgen scripts/slurm-up.sh"
# Memory per CPU a job gets when it asks for none: without it a job takes the whole node.
DEF_MEM_PER_CPU=${SLURM_UP_DEF_MEM_PER_CPU:-1024}

# Close every descriptor inherited from the caller except stdio: the daemons started below
# would keep them open, and a caller waiting for one to close (Foundation's Process watches its
# child through a socket) would wait for the daemons.
for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    case $fd in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done

say() { echo "slurm-up: $*"; }
die() { echo "slurm-up: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it configures /etc/slurm and starts daemons)"

# /dev/null must be writable by everyone (munged and slurmd run commands with it).
if [ "$(stat -c %a /dev/null)" != 666 ]; then chmod 666 /dev/null; fi

# 1. Packages.
missing=""
for t in slurmctld slurmd sbatch munged; do command -v "$t" >/dev/null 2>&1 || missing=1; done
if [ -n "$missing" ]; then
    command -v apt-get >/dev/null 2>&1 || die "Slurm is not installed and there is no apt-get: install slurmctld slurmd slurm-client munge"
    say "installing slurmctld slurmd slurm-client munge (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; } \
        || die "apt-get could not install slurmctld slurmd slurm-client munge"
fi

mkdir -p "$RUN" "$STATE/ctld" "$STATE/d" "$LOGS"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# 2. munge: a key owned by munge, mode 0400; /run/munge; munged as the munge user.
getent passwd munge >/dev/null || die "no munge user (is the munge package installed?)"
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile /etc/munge/munge.key --force >/dev/null
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
fi
chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key; chmod 0755 /run/munge
if ! alive /run/munge/munged.pid; then
    rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    # Daemons get no stdio of ours: a caller reading our output would wait for them forever.
    runuser -u munge -- /usr/sbin/munged </dev/null >/dev/null 2>&1
    echo started >"$RUN/munged.ours"
fi
for _ in $(seq 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
munge -n </dev/null | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"

# 3. slurm.conf: this machine's topology from `slurmd -C`, everything on 127.0.0.1.
host=$(hostname -s)
node=$(slurmd -C | head -1)
case "$node" in NodeName=*) ;; *) die "slurmd -C printed no NodeName line: $node" ;; esac
node_name=$(echo "$node" | sed 's/^NodeName=\([^ ]*\).*/\1/')
conf=$(cat <<EOF
$MARK
# A single-node cluster on 127.0.0.1. Delete this file (after scripts/slurm-down.sh) to undo.
ClusterName=accelgen
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
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
)
if [ -f "$CONF" ] && ! head -1 "$CONF" | grep -qF "$MARK"; then
    die "$CONF exists and was not written by this script; not touching it"
fi
changed=""
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$conf" ]; then
    printf '%s\n' "$conf" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
    changed=1
fi
export SLURM_CONF=$CONF

works() { timeout 20 srun --quiet -N1 -n1 --mem=16M -t 1 true </dev/null >/dev/null 2>&1; }

# Up already: same configuration, both daemons alive, the controller answering and the node
# serving. A busy node makes `srun true` wait for a free CPU, so it is not asked then: a busy
# cluster is an up cluster, never one to restart (that would kill its jobs).
node_state() { sinfo -h -N -n "$node_name" -o %T 2>/dev/null | head -1; }
if [ -z "$changed" ] && alive "$RUN/slurmctld.pid" && alive "$RUN/slurmd.pid" && scontrol ping 2>/dev/null | grep -q UP; then
    case "$(node_state)" in
        idle*) works && { say "already up (node $node_name on 127.0.0.1; $CONF)"; exit 0; } ;;
        allocated*|mixed*|completing*) say "already up (node $node_name on 127.0.0.1, busy; $CONF)"; exit 0 ;;
        down*|drain*|fail*)
            scontrol update NodeName="$node_name" State=RESUME >/dev/null 2>&1 || true
            for _ in $(seq 20); do works && { say "already up (node $node_name resumed; $CONF)"; exit 0; }; sleep 1; done ;;
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
    if works; then say "started (node $node_name on 127.0.0.1; $CONF; logs in $LOGS)"; exit 0; fi
    # A node left down or drained by an earlier run comes back here.
    if [ "$i" = 5 ] || [ "$i" = 20 ]; then scontrol update NodeName="$node_name" State=RESUME >/dev/null 2>&1 || true; fi
    sleep 1
done
echo "slurm-up: error: srun true still fails after 60 s" >&2
sinfo -N -l >&2 || true
tail -5 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2 || true
exit 1

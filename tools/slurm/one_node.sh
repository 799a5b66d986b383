#!/usr/bin/env bash
# A one-node Slurm on this machine (munged + slurmctld + slurmd), for tests and CI.
#
#   bash tools/slurm/one_node.sh install   # apt-get install slurm-wlm + munge (root, Debian/Ubuntu)
#   bash tools/slurm/one_node.sh start     # install if missing, start, wait until the node is idle
#   bash tools/slurm/one_node.sh status    # exit 0 when it is up and the node answers
#   bash tools/slurm/one_node.sh stop      # stop the three daemons this script started
#   bash tools/slurm/one_node.sh env       # print the SLURM_CONF line for the clients
#
# Everything (munge key, slurm.conf, state, spool, logs, pid files) lives in one
# folder, $SLURM_ONE_NODE_DIR (default: ${TMPDIR:-/tmp}/slurm-one-node); nothing
# under /etc is written. The clients (sbatch, squeue, sinfo, scontrol) find the
# cluster through SLURM_CONF, which `start` and `env` print on stdout:
#
#   eval "$(bash tools/slurm/one_node.sh start)"; sbatch --wrap 'hostname'
#
# `start` is idempotent: when the daemons of this folder run and the node answers,
# it only prints the line. The node is `localhost` with the CPUs and memory that
# `slurmd -C` measures, in one partition `debug`. Containers rarely allow cgroups,
# so processes are tracked from /proc (proctrack/linuxproc) and tasks are not
# confined (task/none): fine for tests, not for sharing a machine between users.
set -euo pipefail

DIR="${SLURM_ONE_NODE_DIR:-${TMPDIR:-/tmp}/slurm-one-node}"
CONF="$DIR/slurm.conf"
MUNGE_SOCKET="$DIR/munge/munge.socket.2"
WAIT_S="${SLURM_ONE_NODE_WAIT_S:-60}"

say() { echo "one_node: $*" >&2; }
die() {
  say "$*"
  exit 1
}

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (slurmd starts jobs as their users; munged and
  slurmctld run as root here). As root: bash $0 $1"
}

have_binaries() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v munged >/dev/null && command -v sbatch >/dev/null
}

cmd_install() {
  if have_binaries; then
    say "slurm-wlm and munge are installed ($(slurmctld -V))"
    return 0
  fi
  need_root install
  command -v apt-get >/dev/null ||
    die "slurm-wlm and munge are missing and there is no apt-get here: install Slurm (slurmctld,
  slurmd, sbatch) and munge with this system's package manager, then run: bash $0 start"
  say "apt-get install -y --no-install-recommends slurm-wlm munge"
  # The packages' own services would start with the system's /etc config: keep them off.
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurm-wlm munge >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends slurm-wlm munge >&2; } ||
    die "apt-get could not install slurm-wlm and munge (see above)"
  have_binaries || die "apt-get ran but slurmctld/slurmd/munged/sbatch are still not on PATH"
}

pid_alive() { # pid file
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

cmd_status() {
  pid_alive "$DIR/munged.pid" && pid_alive "$DIR/slurmctld.pid" && pid_alive "$DIR/slurmd.pid" &&
    [ "$(SLURM_CONF="$CONF" sinfo -h -n localhost -o %t 2>/dev/null)" != "" ]
}

stop_one() { # name pidfile
  local pid
  pid_alive "$2" || return 0
  pid="$(cat "$2")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || {
      say "stopped $1 ($pid)"
      return 0
    }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  say "killed $1 ($pid): it did not stop within 10 s"
}

cmd_stop() {
  stop_one slurmd "$DIR/slurmd.pid"
  stop_one slurmctld "$DIR/slurmctld.pid"
  stop_one munged "$DIR/munged.pid"
  rm -f "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munged.pid"
}

write_conf() {
  local node
  # The node line as slurmd measures this machine (CPUs, sockets, cores, threads, memory).
  node="$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]*/NodeName=localhost/')"
  case "$node" in
  NodeName=localhost*CPUs=*RealMemory=*) ;;
  *) die "slurmd -C printed '$node', not a NodeName line with CPUs and RealMemory" ;;
  esac
  cat >"$CONF" <<EOF
# Written by tools/slurm/one_node.sh: a one-node cluster for tests.
ClusterName=onenode
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# Finished jobs stay visible to scontrol for an hour (there is no accounting database).
MinJobAge=3600
$node State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

cmd_start() {
  if cmd_status; then
    say "already running in $DIR: $(SLURM_CONF="$CONF" sinfo -h -o '%P %D %t %c' | head -1)"
    echo "export SLURM_CONF=$CONF"
    return 0
  fi
  need_root start
  have_binaries || cmd_install
  cmd_stop # whatever is left of an earlier start in this folder
  mkdir -p "$DIR/munge" "$DIR/ctld" "$DIR/spool"
  chmod 700 "$DIR" "$DIR/munge"
  [ -s "$DIR/munge/munge.key" ] || mungekey --create --keyfile="$DIR/munge/munge.key" >&2 ||
    die "mungekey could not create $DIR/munge/munge.key"
  chmod 600 "$DIR/munge/munge.key"
  write_conf
  rm -rf "${DIR:?}/ctld/"* "${DIR:?}/spool/"* # a fresh cluster: no jobs of an earlier start
  munged --force --key-file="$DIR/munge/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$DIR/munged.pid" --log-file="$DIR/munged.log" --seed-file="$DIR/munge/seed" ||
    die "munged did not start; its log: $DIR/munged.log"
  slurmctld -f "$CONF" || die "slurmctld did not start; its log: $DIR/slurmctld.log"
  slurmd -f "$CONF" -N localhost || die "slurmd did not start; its log: $DIR/slurmd.log"
  local state=""
  for _ in $(seq 1 $((WAIT_S * 2))); do
    state="$(SLURM_CONF="$CONF" sinfo -h -n localhost -o %t 2>/dev/null || true)"
    [ "$state" = idle ] && break
    sleep 0.5
  done
  if [ "$state" != idle ]; then
    say "the node is '${state:-not answering}' after ${WAIT_S} s, not idle; last log lines:"
    tail -n 5 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
    cmd_stop
    exit 1
  fi
  say "up in $DIR: $(SLURM_CONF="$CONF" sinfo -h -o 'partition %P, %D node, %t, %c CPUs, %m MB')"
  echo "export SLURM_CONF=$CONF"
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) echo "export SLURM_CONF=$CONF" ;;
*)
  echo "usage: bash $0 install|start|status|stop|env   (folder: $DIR)" >&2
  exit 2
  ;;
esac

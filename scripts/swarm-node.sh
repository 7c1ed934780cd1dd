#!/usr/bin/env bash
# Stage 4 (issue 16), on the core node (the manager): admits worker nodes after they joined, and
# drains one before its server is deleted. Run as root:
#   bash -s -- admit TIMEOUT_S ADDR... < swarm-node.sh
#       waits until a node with each private ADDR is ready, labels it app-infra.node=worker (the
#       label the worker services are constrained by) and removes the down nodes that had its
#       address (a replaced server's old node, which left no drain behind), then rotates the worker
#       join token, so the token the joins used is worthless from here on (the next join gets the
#       new one from swarm-init.sh)
#   bash -s -- drain TIMEOUT_S ADDR < swarm-node.sh
#       `docker node update --availability drain`: Swarm stops the node's tasks, each with its stop
#       grace period (an RQ worker finishes its job on SIGTERM), and starts them elsewhere; waits
#       until none runs there, then removes the node from the swarm. A node already gone is fine.
#       Fails after TIMEOUT_S with the node still drained, so the server is not deleted under a job.
#   bash -s -- stop TIMEOUT_S SERVICE [ID] < swarm-node.sh
#       before a service is deleted: scales it to 0 replicas and waits until none of its tasks runs
#       anywhere in the swarm (each stops with the service's grace period: an RQ worker finishes its
#       job). The Docker provider's delete waits only for the tasks on the manager's own engine, and
#       Redis would go next. A service already gone is fine, and so is one of that name whose ID is
#       not ID (a successor: the step was made for the service ID only); fails after TIMEOUT_S.
#   bash -s -- retire STACK ROLE... < swarm-node.sh
#       a stage 3 → 4 move, before the Swarm's services start: stops the stack's one-box containers
#       (label app-infra.stack=STACK, not a Swarm task), one ROLE (label app-infra.role) after the
#       other in the order given, all of a role at once, each with its own stop grace period (plain
#       `docker stop` uses the container's StopTimeout: an RQ worker finishes its job, Redis saves),
#       then removes them. Their volumes stay: the services mount them by the same names. A stack
#       with none (a new one, or a second run) is fine.
#   bash -s -- gate TIMEOUT_S PROXY TARGET LOG_LINES kamal-proxy deploy ... < swarm-node.sh
#       points the edge proxy at the API service: waits up to TIMEOUT_S for the PROXY service's task
#       to run on this node, then runs the kamal-proxy command in it. kamal-proxy health-checks the
#       TARGET service first and keeps the old route if it never answers; then this prints TARGET's
#       last LOG_LINES log lines and fails.
# Environment: SWARM_POLL_S (default 2), the seconds between checks.
set -euo pipefail

say() { echo "swarm-node: $*"; }
die() {
  say "$*" >&2
  exit 1
}

# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh" # app-infra:inline

# "ID ADDR STATE" of every node in the swarm.
nodes() {
  local ids
  ids=$(docker node ls -q)
  [[ -z $ids ]] && return 0
  # shellcheck disable=SC2086  # one word per node ID
  docker node inspect --format '{{.ID}} {{.Status.Addr}} {{.Status.State}}' $ids
}

# All of the input is read (no early exit): nodes would otherwise die of SIGPIPE under pipefail.
node_id() { nodes | awk -v a="$1" '$2 == a && !f { print $1; f = 1 }'; }

# plain_name VALUE: whether VALUE is a plain name (a Swarm service's or a stack's): a letter or digit,
# then letters, digits, _ . or -; never an option or a shell word.
plain_name() { [[ $1 =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]]; }

# How many of the CURRENT STATE lines on stdin (docker node ps, docker service ps) are of a task
# whose container runs or is about to.
count_busy() { grep -cE '^(Running|Starting|Preparing|Ready|Assigned|Accepted)' || true; }

# How many of the node's tasks are still running or about to.
busy() { docker node ps "$1" --format '{{.CurrentState}}' | count_busy; }

admit() {
  local timeout=$1 addr deadline id old
  shift
  (($# > 0)) || die "admit: takes at least one ADDR"
  deadline=$((SECONDS + timeout))
  for addr in "$@"; do
    ipv4 "$addr" || die "ADDR: should be an IPv4 address such as 10.0.1.11 (got '$addr')"
    until nodes | awk -v a="$addr" '$2 == a && $3 == "ready" { f = 1 } END { exit !f }'; do
      ((SECONDS < deadline)) || die "no ready node has the address $addr after ${timeout}s (nodes: $(nodes | tr '\n' ';'))"
      sleep "${SWARM_POLL_S:-2}"
    done
    id=$(nodes | awk -v a="$addr" '$2 == a && $3 == "ready" && !f { print $1; f = 1 }')
    docker node update --label-add app-infra.node=worker "$id" >/dev/null
    say "node $id ($addr) is ready"
    for old in $(nodes | awk -v a="$addr" '$2 == a && $3 == "down" { print $1 }'); do
      docker node rm --force "$old" >/dev/null
      say "removed node $old: down, and $addr is node $id's now"
    done
  done
  docker swarm join-token --rotate -q worker >/dev/null
  say "rotated the worker join token"
}

drain() {
  local timeout=$1 addr=$2 id deadline n
  ipv4 "$addr" || die "ADDR: should be an IPv4 address such as 10.0.1.11 (got '$addr')"
  id=$(node_id "$addr")
  if [[ -z $id ]]; then
    say "no node has the address $addr; nothing to drain"
    return 0
  fi
  docker node update --availability drain "$id" >/dev/null
  say "draining node $id ($addr)"
  deadline=$((SECONDS + timeout))
  while n=$(busy "$id") && ((n > 0)); do
    ((SECONDS < deadline)) || die "node $id ($addr) still runs $n task(s) after ${timeout}s; it stays drained and in the swarm"
    sleep "${SWARM_POLL_S:-2}"
  done
  docker node rm --force "$id" >/dev/null
  say "node $id ($addr) drained and removed from the swarm"
}

# How many of the service's tasks, on any node, are still running or about to.
service_busy() { docker service ps "$1" --format '{{.CurrentState}}' | count_busy; }

stop() {
  local timeout=$1 service=$2 want=${3:-} id deadline n
  plain_name "$service" || die "SERVICE: should be a Swarm service name such as worker-image (got '$service')"
  [[ -z $want || $want =~ ^[a-z0-9]+$ ]] || die "ID: should be a Swarm service ID such as 4k2tbflvsk0bd3hfx7yml0lxx (got '$want')"
  if ! id=$(docker service inspect --format '{{.ID}}' "$service" 2>/dev/null); then
    say "no service $service; nothing to stop"
    return 0
  fi
  if [[ -n $want && $id != "$want" ]]; then
    say "service $service is $id now, not $want; nothing to stop"
    return 0
  fi
  docker service update --detach --replicas 0 "$service" >/dev/null
  say "stopping service $service"
  deadline=$((SECONDS + timeout))
  while n=$(service_busy "$service") && ((n > 0)); do
    ((SECONDS < deadline)) || die "service $service still runs $n task(s) after ${timeout}s"
    sleep "${SWARM_POLL_S:-2}"
  done
  say "service $service stopped: no task runs"
}

# The IDs of the stack's one-box containers of a role, running or not; Swarm's tasks carry the same
# labels and are left alone.
one_box() {
  docker ps -aq --filter "label=app-infra.stack=$1" --filter "label=app-infra.role=$2" \
    --format '{{.ID}} {{.Label "com.docker.swarm.service.id"}}' | awk 'NF == 1 { print $1 }'
}

retire() {
  local stack=$1 role ids
  shift
  plain_name "$stack" || die "STACK: should be a Pulumi stack name such as prod (got '$stack')"
  (($# > 0)) || die "retire: takes STACK and at least one ROLE"
  for role in "$@"; do
    [[ $role =~ ^[a-z]+$ ]] || die "ROLE: should be a role such as worker (got '$role')"
    ids=$(one_box "$stack" "$role")
    if [[ -z $ids ]]; then
      say "no one-box $role container of stack $stack"
      continue
    fi
    # shellcheck disable=SC2086  # one word per container ID
    docker stop $ids >/dev/null
    # shellcheck disable=SC2086
    docker rm $ids >/dev/null
    say "stopped and removed the one-box $role container(s): ${ids//$'\n'/ }"
  done
}

# The ID of the service's running task container on this node, if any.
task_container() {
  docker ps -q --filter "label=com.docker.swarm.service.name=$1" --filter status=running | head -n 1
}

gate() {
  local timeout=$1 proxy=$2 target=$3 lines=$4 deadline c
  shift 4
  plain_name "$proxy" || die "PROXY: should be a Swarm service name such as proxy (got '$proxy')"
  plain_name "$target" || die "TARGET: should be a Swarm service name such as api (got '$target')"
  [[ $lines =~ ^[0-9]+$ ]] || die "LOG_LINES: should be a whole number (got '$lines')"
  (($# > 0)) || die "gate: takes the kamal-proxy command after LOG_LINES"
  deadline=$((SECONDS + timeout))
  until c=$(task_container "$proxy") && [[ -n $c ]]; do
    ((SECONDS < deadline)) || die "no task of service $proxy runs on this node after ${timeout}s"
    sleep "${SWARM_POLL_S:-2}"
  done
  if ! docker exec "$c" "$@"; then
    say "the service $target did not become healthy; the proxy keeps its old route. Its last $lines log lines:" >&2
    docker service logs --tail "$lines" --no-task-ids "$target" >&2 2>&1 || true
    exit 1
  fi
  say "the proxy routes to the service $target"
}

main() {
  (($# >= 2)) || die "takes an action (admit, drain, stop, retire or gate) and its arguments (got: ${*:-nothing})"
  local action=$1 timeout=$2
  shift
  if [[ $action == retire ]]; then
    need_docker
    retire "$@"
    return
  fi
  shift
  [[ $timeout =~ ^[0-9]+$ ]] || die "TIMEOUT_S: should be a whole number of seconds (got '$timeout')"
  need_docker
  case $action in
    admit) admit "$timeout" "$@" ;;
    drain)
      (($# == 1)) || die "drain: takes one ADDR (got $#)"
      drain "$timeout" "$1"
      ;;
    stop)
      (($# == 1 || $# == 2)) || die "stop: takes SERVICE and, optionally, its ID (got $# arguments)"
      stop "$timeout" "$@"
      ;;
    gate)
      (($# >= 4)) || die "gate: takes PROXY, TARGET, LOG_LINES and the kamal-proxy command (got $# arguments)"
      gate "$timeout" "$@"
      ;;
    *) die "the action should be admit, drain, stop, retire or gate (got '$action')" ;;
  esac
}

# Must stay the last line: bash reads a script on stdin only as far as the command it runs next.
main "$@"

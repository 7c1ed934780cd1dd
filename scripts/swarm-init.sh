#!/usr/bin/env bash
# Stage 4 (issue 16), on the core node: makes it the Swarm's manager, on its private address only,
# and prints the current worker join token. Run as root, after Docker is installed:
#   bash -s -- ADVERTISE_ADDR POOL POOL_MASK [WORKER_ADDR...] < swarm-init.sh
# ADVERTISE_ADDR  the core node's private IPv4 (10.0.1.2, src/plan/nodes.ts): the manager advertises,
#                 listens and carries overlay data there, never on the public interface
# POOL            Swarm's address pool for overlay networks, an IPv4 CIDR disjoint from the private
#                 network (Swarm's default 10.0.0.0/8 would hand out the nodes' own 10.0.1.0/24)
# POOL_MASK       the size of each overlay network taken from POOL (24)
# WORKER_ADDR     the worker nodes' private addresses: not used to init, but a change of them runs
#                 this again (the program re-runs a step whose command line changes), so a node
#                 added after a rotation joins with the current token
#
# stdout is the worker join token and nothing else: the program keeps it as a secret and hands it to
# swarm-join.sh on stdin. Everything else goes to stderr, which the program logs, so what
# `docker swarm init` prints (a ready-made join command holding the token) goes nowhere.
# Safe to run again: an active manager is kept (the pool of an existing swarm cannot change; a
# different one is reported, not applied), and the token printed is the current one, so a token
# rotated after the last joins (swarm-node.sh rotate) is what the next join gets.
set -euo pipefail

say() { echo "swarm-init: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh" # app-infra:inline

main() {
  (($# >= 3)) || die "takes ADVERTISE_ADDR POOL POOL_MASK [WORKER_ADDR...] (got: ${*:-nothing})"
  local addr=$1 pool=$2 mask=$3 state w
  shift 3
  for w in "$@"; do ipv4 "$w" || die "WORKER_ADDR: should be an IPv4 address such as 10.0.1.11 (got '$w')"; done
  ipv4 "$addr" || die "ADVERTISE_ADDR: should be an IPv4 address such as 10.0.1.2 (got '$addr')"
  [[ $pool =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] ||
    die "POOL: should be an IPv4 CIDR such as 10.128.0.0/16 (got '$pool')"
  if ! [[ $mask =~ ^[0-9]{1,2}$ ]] || ((10#$mask < 16 || 10#$mask > 28)); then
    die "POOL_MASK: should be a prefix length between 16 and 28 (got '$mask')"
  fi
  need_docker
  own_address ADVERTISE_ADDR "$addr"

  state=$(swarm_state)
  case $state in
    active)
      [[ $(docker info --format '{{.Swarm.ControlAvailable}}') == true ]] ||
        die "this node is in a swarm but not a manager; the core node must be the manager"
      local have
      have=$(docker info --format '{{.Swarm.NodeAddr}}')
      [[ $have == "$addr" ]] || die "this node's swarm advertises $have, not $addr; leave it first (docker swarm leave --force)"
      say "already the manager on $addr"
      ;;
    inactive)
      docker swarm init \
        --advertise-addr "$addr" \
        --listen-addr "$addr:2377" \
        --data-path-addr "$addr" \
        --default-addr-pool "$pool" \
        --default-addr-pool-mask-length "$mask" >/dev/null
      say "initialised the swarm on $addr (overlay pool $pool in /$mask)"
      ;;
    *) die "the swarm state is '$state'; expected active or inactive" ;;
  esac
  # The label the core's services are pinned by (Redis, the bot, the API, the proxy).
  docker node update --label-add app-infra.node=core "$(docker info --format '{{.Swarm.NodeID}}')" >/dev/null
  say "the worker join token for ${#} worker node(s) follows on stdout"
  docker swarm join-token -q worker
}

# Must stay the last line: bash reads a script on stdin only as far as the command it runs next.
main "$@"

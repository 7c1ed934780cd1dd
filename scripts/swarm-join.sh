#!/usr/bin/env bash
# Stage 4 (issue 16), on a worker node: joins the core node's swarm as a worker, on its private
# address only. Run as root, after Docker and the Swarm host firewall are installed:
#   { cat swarm-join.sh; echo "$TOKEN"; } | bash -s -- MANAGER_ADDR ADVERTISE_ADDR
# MANAGER_ADDR    the core node's private IPv4 (the manager listens on MANAGER_ADDR:2377)
# ADVERTISE_ADDR  this node's private IPv4 (10.0.1.(10+n), src/plan/nodes.ts)
# The join token follows the script on stdin, one line. It never appears in a command line, an
# environment variable or a file: `docker swarm join` takes it only as an argument, so the join goes
# to the Engine API instead (POST /swarm/join on the local socket), with the JSON body on curl's
# stdin.
# Safe to run again: a node already in this swarm is left as it is.
set -euo pipefail

say() { echo "swarm-join: $*"; }
die() {
  say "$*" >&2
  exit 1
}

# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh" # app-infra:inline

main() {
  [[ $# -eq 2 ]] || die "takes 2 arguments, MANAGER_ADDR ADVERTISE_ADDR (got: ${*:-nothing})"
  local manager=$1 addr=$2 token state managers
  # The engine's socket: DOCKER_HOST's when it names one (as the docker CLI reads it), else the default.
  local socket=/var/run/docker.sock
  [[ ${DOCKER_HOST:-} == unix://* ]] && socket=${DOCKER_HOST#unix://}
  ipv4 "$manager" || die "MANAGER_ADDR: should be an IPv4 address such as 10.0.1.2 (got '$manager')"
  ipv4 "$addr" || die "ADVERTISE_ADDR: should be an IPv4 address such as 10.0.1.11 (got '$addr')"
  IFS= read -r token || true
  [[ $token =~ ^SWMTKN-1-[a-z0-9-]+$ ]] ||
    die "the join token should follow the script on stdin, one line starting SWMTKN-1- (got ${#token} characters)"
  need_docker
  own_address ADVERTISE_ADDR "$addr"

  state=$(swarm_state)
  case $state in
    active)
      managers=$(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')
      [[ " $managers" == *" $manager:2377 "* ]] ||
        die "this node is in another swarm (managers: ${managers:-none}); leave it first (docker swarm leave --force)"
      say "already a member of the swarm at $manager:2377"
      ;;
    inactive)
      # The Engine API's SwarmJoin (docs.docker.com/reference/api/engine, "Join an existing swarm"):
      # the same fields as the CLI's flags. The token matched the pattern above, so it needs no JSON
      # escaping. The call returns once the node has joined.
      printf '{"ListenAddr":"%s:2377","AdvertiseAddr":"%s","DataPathAddr":"%s","RemoteAddrs":["%s:2377"],"JoinToken":"%s"}' \
        "$addr" "$addr" "$addr" "$manager" "$token" |
        curl -sS --fail-with-body --unix-socket "$socket" -H 'Content-Type: application/json' \
          --data-binary @- http://localhost/swarm/join >&2 ||
        die "joining the swarm at $manager:2377 failed (the Engine API's answer is above)"
      say "joined the swarm at $manager:2377 as $addr"
      ;;
    *) die "the swarm state is '$state'; expected active or inactive" ;;
  esac
}

# Must stay the last line: bash reads a script on stdin only as far as the command it runs next.
main "$@"

# shellcheck shell=bash
# Inlined into the Swarm steps (swarm-init.sh, swarm-join.sh, swarm-node.sh), each of which defines
# say and die.

# ipv4 ADDR: whether ADDR is a dotted IPv4 address.
ipv4() { [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }

# need_docker: dies unless the docker CLI is there.
need_docker() { command -v docker >/dev/null || die "docker not found (install-docker.sh runs first)"; }

# own_address KEY ADDR: dies unless ADDR (the argument KEY) is one of this host's addresses. The
# private network is attached before the Swarm steps run.
# Not `ip … | grep -q`: grep stops at the first match, and ip's SIGPIPE then fails the pipeline
# under pipefail (a test run saw exactly that, now and then).
own_address() {
  local addrs
  addrs=$(ip -4 -o addr show)
  [[ $addrs == *" $2/"* ]] || die "$1: $2 is not an address of this host (is the private network attached?)"
}

# swarm_state: this engine's Swarm state (inactive, active, pending, error or locked).
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}'; }

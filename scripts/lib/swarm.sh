# shellcheck shell=bash
# Inlined into the Swarm steps (swarm-init.sh, swarm-join.sh, swarm-node.sh), each of which defines
# say and die.

# ipv4 ADDR: whether ADDR is a dotted IPv4 address.
ipv4() { [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; }

# need_docker: dies unless the docker CLI is there.
need_docker() { command -v docker >/dev/null || die "docker not found (install-docker.sh runs first)"; }

# own_address KEY ADDR: waits up to OWN_ADDRESS_WAIT_S seconds (60) for ADDR (the argument KEY) to
# be one of this host's addresses, then dies. Hetzner plugs the private interface into a running
# server when the attach action ends, and its address comes by DHCP a few seconds later (the
# lab's emulator does the same, test/emulator/private-net.ts), so the core's first init may run
# before it is there.
# Not `ip … | grep -q`: grep stops at the first match, and ip's SIGPIPE then fails the pipeline
# under pipefail (a test run saw exactly that, now and then).
own_address() {
  local addrs waited=0 limit=${OWN_ADDRESS_WAIT_S:-60}
  for (( ; ; waited++)); do
    addrs=$(ip -4 -o addr show)
    [[ $addrs == *" $2/"* ]] && break
    ((waited < limit)) || die "$1: $2 is not an address of this host after ${limit} s (is the private network attached?)"
    sleep 1
  done
  ((waited == 0)) || say "$2 appeared after ${waited} s"
}

# swarm_state: this engine's Swarm state (inactive, active, pending, error or locked).
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}'; }

#!/usr/bin/env bash
# Stage 4 (issue 16): the host firewall for Docker Swarm's ports on every node, the last host step
# of each (src/plan/host.ts). Run as root:
#   bash -s -- PRIVATE_SUBNET < swarm-firewall.sh
# PRIVATE_SUBNET  the nodes' Hetzner subnet, an IPv4 CIDR such as 10.0.1.0/24 (src/plan/nodes.ts).
#
# Why on the host: the Hetzner firewall filters only the public interface, never private network
# traffic, and Swarm's ports must be reachable from the other nodes and from nothing else:
#   2377/tcp (cluster management), 7946/tcp+udp (gossip), 4789/udp (VXLAN overlay data), ESP
#   (IP protocol 50: encrypted overlays).
# The rules live in a table of their own (inet app_infra_swarm), so Docker's iptables rules and the
# metadata block are untouched; an nftables drop in any base chain drops the packet. IPv4 from
# outside the subnet is dropped, and these ports over IPv6 always (the private network is IPv4).
# A unit loads the same file at boot, before docker.service starts dockerd.
# nft comes from the nftables package, installed here when missing: a minimal Debian lacks it (the
# VM lab's image, on which the lab's stage 3 → 4 run found this step failing for exactly that).
# Environment (paths, overridable for tests):
#   NFT_FILE          default /etc/app-infra/swarm-firewall.nft
#   SYSTEMD_UNIT_DIR  default /etc/systemd/system ("-" skips the unit, for tests without systemd)
#   APT_ATTEMPTS, APT_RETRY_SLEEP_S   as install-docker.sh (30, 10)
# Safe to run again: the file replaces the table atomically (one `nft -f` transaction).
set -euo pipefail

say() { echo "swarm-firewall: $*"; }
die() {
  say "$*" >&2
  exit 1
}

# apt_get (lib/apt.sh explains each option), for nftables when nft is missing.
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh" # app-infra:inline

# The ruleset for subnet $1, as `nft -f` reads it. "table … ; delete table …" first makes a reload
# replace the table rather than add a second copy of every rule.
ruleset() {
  local subnet=$1
  cat <<NFT
# Managed by app-infra (scripts/swarm-firewall.sh): Docker Swarm's ports only from $subnet.
table inet app_infra_swarm
delete table inet app_infra_swarm
table inet app_infra_swarm {
  chain input {
    type filter hook input priority filter - 10; policy accept;
    meta nfproto ipv4 ip saddr != $subnet tcp dport { 2377, 7946 } drop
    meta nfproto ipv4 ip saddr != $subnet udp dport { 4789, 7946 } drop
    meta nfproto ipv4 ip saddr != $subnet meta l4proto esp drop
    meta nfproto ipv6 tcp dport { 2377, 7946 } drop
    meta nfproto ipv6 udp dport { 4789, 7946 } drop
    meta nfproto ipv6 meta l4proto esp drop
  }
}
NFT
}

main() {
  [[ $# -eq 1 ]] || die "takes one argument, the private subnet (got: ${*:-nothing})"
  local subnet=$1 octet
  # An IPv4 CIDR: four octets 0-255 and a prefix 8-30 (a /31 or /32 holds no nodes).
  [[ $subnet =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/([0-9]{1,2})$ ]] ||
    die "PRIVATE_SUBNET: should be an IPv4 CIDR such as 10.0.1.0/24 (got '$subnet')"
  for octet in "${BASH_REMATCH[@]:1:4}"; do
    ((10#$octet <= 255)) || die "PRIVATE_SUBNET: $octet is not an octet (got '$subnet')"
  done
  ((10#${BASH_REMATCH[5]} >= 8 && 10#${BASH_REMATCH[5]} <= 30)) ||
    die "PRIVATE_SUBNET: the prefix should be between 8 and 30 (got '$subnet')"
  NFT_FILE=${NFT_FILE:-/etc/app-infra/swarm-firewall.nft}
  SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-/etc/systemd/system}
  APT_ATTEMPTS=${APT_ATTEMPTS:-30}
  APT_RETRY_SLEEP_S=${APT_RETRY_SLEEP_S:-10}
  if ! command -v nft >/dev/null; then
    say "nft not found: installing nftables"
    apt_get update
    apt_get install -y --no-install-recommends nftables
    command -v nft >/dev/null || die "nft not found after installing nftables"
  fi

  mkdir -p "$(dirname "$NFT_FILE")"
  ruleset "$subnet" >"$NFT_FILE.new"
  # Checked before it replaces anything: a bad file leaves the running rules as they are.
  nft -c -f "$NFT_FILE.new" </dev/null || die "nft refused the ruleset for $subnet (kept the old rules)"
  mv "$NFT_FILE.new" "$NFT_FILE"
  nft -f "$NFT_FILE" </dev/null
  say "Swarm's ports (2377/tcp, 7946/tcp+udp, 4789/udp, ESP) accept only $subnet"

  if [[ $SYSTEMD_UNIT_DIR != - ]]; then
    cat >"$SYSTEMD_UNIT_DIR/app-infra-swarm-firewall.service" <<UNIT
# Managed by app-infra (scripts/swarm-firewall.sh).
[Unit]
Description=Docker Swarm's ports only from the private subnet $subnet
Before=docker.service
Wants=network-pre.target
After=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f $NFT_FILE

[Install]
WantedBy=multi-user.target
UNIT
    systemctl daemon-reload
    systemctl enable app-infra-swarm-firewall.service
  fi
}

# Must stay the last line: bash reads a script on stdin only as far as the command it runs next.
main "$@"

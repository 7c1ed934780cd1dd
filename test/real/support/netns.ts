// What every network-namespace test script starts with. Run under `unshare --net --mount` (the
// Swarm test adds --pid --fork): strict mode, mounts private to the new namespace, a /run/netns of
// its own for `ip netns`, and loopback up. Nothing of this machine's network or mounts is touched.
export const NETNS_PREAMBLE = String.raw`
set -euo pipefail
mount --make-rprivate /
mkdir -p /run/netns
mount -t tmpfs netns /run/netns
ip link set lo up
`;

#!/usr/bin/env bash
# Smoke test of the bridged docker plugin with the real engine: `pulumi up / refresh / preview /
# up (image change -> replace) / destroy` of a tiny TypeScript program that uses @pulumi/docker
# 5.2.0 from the repository's node_modules (docker.Provider, Network, Volume, RemoteImage and two
# Containers), against a PRIVATE dockerd that this script starts in a temporary directory and
# stops at the end (the machine's own docker daemon, if any, is not touched).
#
#   tools/engine/provider-docker/smoke.sh BIN_DIR
#
# BIN_DIR must hold pulumi, pulumi-language-nodejs, pulumi-resource-pulumi-nodejs and
# pulumi-resource-docker (e.g. the last line printed by tools/engine/build.sh).
#
# It also checks how upstream stops a container on delete: kreuzwerker's resourceDockerContainerDelete
# (internal/provider/resource_docker_container_funcs.go:1146-1153 at
# v0.0.0-20260916201441-96d331c98ff4) calls ContainerStop with t = destroy_grace_seconds when that
# is > 0, and t = 0 otherwise. stop_timeout (the container's own StopTimeout) is NOT used there, so a
# container without destroyGraceSeconds is SIGKILLed right after SIGTERM (exit 137).
#
# Needs root, dockerd/containerd/runc (Debian: apt-get install -y docker.io), Go (to build the test
# image's one static binary; no registry is used) and the repository's node_modules (npm ci).
set -euo pipefail

say() { printf 'docker-smoke: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../smoke-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../smoke-lib.sh"

[ $# -eq 1 ] || die "usage: $0 BIN_DIR"
bin="$(smoke_bin_dir "$1" pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs pulumi-resource-docker)"
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
[ -f "$repo/node_modules/@pulumi/docker/package.json" ] || die "no @pulumi/docker in $repo/node_modules; run npm ci"
[ "$(id -u)" -eq 0 ] || die "must run as root (it starts a private dockerd)"
for tool in dockerd containerd runc docker go node; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (dockerd/containerd/runc/docker: apt-get install -y docker.io)"
done

# Short path: the daemon's unix sockets must fit in 108 bytes.
work="$(mktemp -d /tmp/dsmoke.XXXXXX)"
dockerd_pid=""
cleanup() {
  if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
    # Remove whatever a failed run left behind, then stop the daemon we started (by its pid).
    docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # dockerd may leave mounts under its data root.
  if [ -d "$work/docker" ]; then
    grep -F " $work/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- private docker daemon -------------------------------------------------------------------
# vfs storage works on any filesystem; no iptables/default bridge so that it cannot disturb the
# host's networking (user-defined bridge networks still work, just without NAT).
export DOCKER_HOST="unix://$work/docker.sock"
say "starting a private dockerd ($DOCKER_HOST)"
dockerd --host "$DOCKER_HOST" --data-root "$work/docker/data" --exec-root "$work/docker/exec" \
  --pidfile "$work/docker/dockerd.pid" --storage-driver vfs --iptables=false --ip6tables=false \
  --bridge=none >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 100); do
  docker version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || { cat "$work/dockerd.log" >&2; die "dockerd exited"; }
  sleep 0.2
done
docker version >/dev/null 2>&1 || { tail -50 "$work/dockerd.log" >&2; die "dockerd did not come up"; }
say "  dockerd $(docker version --format '{{.Server.Version}}')"

# --- two local images: one static binary, told apart by ENV VERSION ----------------------------
# The binary ignores SIGTERM for 2 s and then exits 0, so the exit code tells whether a stop
# waited (0) or killed (137).
mkdir -p "$work/app" "$work/rootfs"
cat >"$work/app/go.mod" <<'EOF'
module smokeapp

go 1.21
EOF
cat >"$work/app/main.go" <<'EOF'
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	fmt.Printf("smokeapp version=%s started\n", os.Getenv("VERSION"))
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	<-term
	fmt.Println("smokeapp got SIGTERM, exiting in 2s")
	time.Sleep(2 * time.Second)
	os.Exit(0)
}
EOF
(cd "$work/app" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$work/rootfs/smokeapp" .)
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
for v in 1 2; do
  docker import --change "ENV VERSION=$v" --change 'CMD ["/smokeapp"]' "$work/rootfs.tar" "appinfra-smoke:v$v" >/dev/null
done
say "  imported appinfra-smoke:v1 and :v2"

# --- the program ------------------------------------------------------------------------------
smoke_project "$bin" "$repo" "$work" docker-smoke docker-smoke
cat >"$project/index.ts" <<'EOF'
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";

const config = new pulumi.Config();
const provider = new docker.Provider("local", {
    host: config.require("host"),
    // JSON-encoded list config, as the real program sends for ssh:// hosts (unused for unix://).
    sshOpts: ["-o", "StrictHostKeyChecking=no"],
});
const opts = { provider };

const network = new docker.Network("net", { name: "smoke-net" }, opts);
const volume = new docker.Volume("data", { name: "smoke-data" }, opts);
const image = new docker.RemoteImage("img", {
    name: `appinfra-smoke:v${config.require("version")}`,
    keepLocally: true,
}, opts);

// "fast": no destroyGraceSeconds, a long stopTimeout. "graceful": destroyGraceSeconds set.
const fast = new docker.Container("fast", {
    name: "smoke-fast",
    image: image.imageId,
    stopTimeout: 30,
    restart: "unless-stopped",
    networksAdvanced: [{ name: network.id, aliases: ["fast"] }],
    volumes: [{ volumeName: volume.name, containerPath: "/data" }],
    envs: ["ROLE=fast"],
    labels: [{ label: "app-infra.smoke", value: "fast" }],
}, opts);
const graceful = new docker.Container("graceful", {
    name: "smoke-graceful",
    image: image.imageId,
    destroyGraceSeconds: 10,
    networksAdvanced: [{ name: network.id }],
}, opts);

export const networkName = network.name;
export const imageId = image.imageId;
export const fastName = fast.name;
export const gracefulName = graceful.name;
EOF

# How the daemon ended a container: "<signals sent> exit=<code>", from its event log. --until is
# one second ahead because event times have sub-second precision and `date +%s` does not (docker
# events waits until then).
how_stopped() {
  docker events --since "$1" --until "$(($(date +%s) + 1))" --filter "container=$2" \
    --format '{{.Action}} {{index .Actor.Attributes "signal"}}{{index .Actor.Attributes "exitCode"}}' |
    awk '$1=="kill"{s=s "kill" $2 " "} $1=="die"{d="exit=" $2} END{print s d}'
}

smoke_stack "$work"
step config set host "$DOCKER_HOST"
step config set version 1
step up --yes
expect_eq "fast container running" "$(docker inspect -f '{{.State.Running}}' smoke-fast)" "true"
expect_eq "fast VERSION" "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' smoke-fast | grep ^VERSION=)" "VERSION=1"
expect_eq "fast StopTimeout" "$(docker inspect -f '{{.Config.StopTimeout}}' smoke-fast)" "30"
expect_eq "fast on smoke-net" "$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' smoke-fast)" "smoke-net "
expect_eq "fast mounts smoke-data" "$(docker inspect -f '{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}' smoke-fast)" "smoke-data:/data"
expect_eq "graceful running" "$(docker inspect -f '{{.State.Running}}' smoke-graceful)" "true"

step refresh --yes
step preview --expect-no-changes

# Change the image: both containers are replaced (delete-before-replace).
step config set version 2
since="$(date +%s)"
step up --yes
expect_eq "fast VERSION after replace" "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' smoke-fast | grep ^VERSION=)" "VERSION=2"
expect_eq "graceful VERSION after replace" "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' smoke-graceful | grep ^VERSION=)" "VERSION=2"
fast_stop="$(how_stopped "$since" smoke-fast)"
graceful_stop="$(how_stopped "$since" smoke-graceful)"
say "  replaced smoke-fast (stopTimeout 30, no destroyGraceSeconds): $fast_stop"
say "  replaced smoke-graceful (destroyGraceSeconds 10): $graceful_stop"
expect_eq "old fast container ended by" "$fast_stop" "kill15 kill9 exit=137"
expect_eq "old graceful container ended by" "$graceful_stop" "kill15 exit=0"
step preview --expect-no-changes

since="$(date +%s)"
step destroy --yes
expect_eq "containers left" "$(docker ps -aq | wc -l)" "0"
expect_eq "smoke-net left" "$(docker network ls -q --filter name=smoke-net | wc -l)" "0"
expect_eq "smoke-data left" "$(docker volume ls -q --filter name=smoke-data | wc -l)" "0"
say "  destroyed smoke-fast: $(how_stopped "$since" smoke-fast); smoke-graceful: $(how_stopped "$since" smoke-graceful)"
expect_eq "image kept (keepLocally)" "$(docker image ls -q appinfra-smoke:v2 | wc -l)" "1"
step stack rm --yes dev
say "all steps passed"

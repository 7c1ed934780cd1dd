#!/usr/bin/env bash
# Builds `lab-sshd`, the VM lab's SSH server for the Swarm phase (see main.go; test-only, not part
# of the engine), into OUT_BIN_DIR. Called by ../build.sh:
#
#   tools/engine/lab-sshd/build.sh OUT_BIN_DIR
#
# Modules come from the proxy `go env GOPROXY` names; go.sum pins every hash.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../build-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../build-lib.sh"
out_dir=$(out_bin_dir "$@")
cd "$(dirname "${BASH_SOURCE[0]}")"
go build -mod=readonly -trimpath -ldflags "-s -w" -o "$out_dir/lab-sshd" .

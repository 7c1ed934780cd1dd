#!/usr/bin/env bash
# Builds `pulumi-resource-tls` — app-infra's REPLAY of the Pulumi TLS provider (see README.md;
# not the real provider) — into OUT_BIN_DIR. Called by ../build.sh:
#
#   tools/engine/provider-tls/build.sh OUT_BIN_DIR
#
# Modules come from the proxy `go env GOPROXY` names; go.sum pins every hash.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../build-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../build-lib.sh"
out_dir=$(out_bin_dir "$@")
cd "$(dirname "${BASH_SOURCE[0]}")"
go build -mod=readonly -trimpath -ldflags "-s -w" -o "$out_dir/pulumi-resource-tls" .

#!/usr/bin/env bash
# Builds `pulumi-resource-tls` — app-infra's REPLAY of the Pulumi TLS provider (see README.md;
# not the real provider) — into OUT_BIN_DIR. Called by ../build.sh:
#
#   tools/engine/provider-tls/build.sh OUT_BIN_DIR
#
# Modules come from the proxy `go env GOPROXY` names; go.sum pins every hash.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_BIN_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out_dir=$(cd "$1" && pwd)
cd "$here"
go build -mod=readonly -trimpath -o "$out_dir/pulumi-resource-tls" .

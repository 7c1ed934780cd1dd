#!/usr/bin/env bash
# Builds the pulumi-resource-docker plugin into OUT_BIN_DIR.
#
#   tools/engine/provider-docker/build.sh OUT_BIN_DIR
#
# Everything comes from Go modules (the module proxy configured in `go env GOPROXY`): the
# Terraform provider kreuzwerker/terraform-provider-docker and pulumi-terraform-bridge. Steps:
#   1. build our schema generator (cmd/pulumi-tfgen-docker),
#   2. run it to write schema.json into a scratch dir,
#   3. build the plugin, handing it schema.json through `go build -overlay` so that no generated
#      file lands in the source tree.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../build-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../build-lib.sh"
out_dir=$(out_bin_dir "$@")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$here"

echo "provider-docker: building schema generator" >&2
go build -ldflags "-s -w" -o "$work/pulumi-tfgen-docker" ./cmd/pulumi-tfgen-docker

echo "provider-docker: generating schema" >&2
mkdir -p "$work/schema"
# tfgen chats (missing upstream docs, coverage stats); keep it unless it fails.
if ! "$work/pulumi-tfgen-docker" schema --out "$work/schema" >"$work/tfgen.log" 2>&1; then
  cat "$work/tfgen.log" >&2
  echo "provider-docker: schema generation failed" >&2
  exit 1
fi
test -s "$work/schema/schema.json"

cat >"$work/overlay.json" <<JSON
{"Replace": {"$here/cmd/pulumi-resource-docker/schema.json": "$work/schema/schema.json"}}
JSON

echo "provider-docker: building plugin" >&2
go build -overlay "$work/overlay.json" -ldflags "-s -w" -o "$out_dir/pulumi-resource-docker" ./cmd/pulumi-resource-docker

echo "provider-docker: built $out_dir/pulumi-resource-docker" >&2

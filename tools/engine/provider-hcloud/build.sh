#!/usr/bin/env bash
# Builds the Pulumi resource plugin `pulumi-resource-hcloud` into OUT_BIN_DIR.
#
#   tools/engine/provider-hcloud/build.sh OUT_BIN_DIR
#
# Two steps, one ProviderInfo (hcloudinfo/info.go):
#   1. build and run pulumi-tfgen-hcloud -> schema.json + bridge-metadata.json (temporary dir);
#   2. build pulumi-resource-hcloud, which //go:embeds both files. They are mapped into the
#      package with `go build -overlay`, so no generated file is ever written into the tree.
# Modules come from the Go module proxy configured in `go env GOPROXY`; go.sum pins every hash, so
# no checksum-database lookup is needed (the sum database does not know
# terraform-provider-hcloud v1.59.0 here — see README.md).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../build-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../build-lib.sh"
out_dir=$(out_bin_dir "$@")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case "$here$work" in
  *'"'* | *\\*) echo "build.sh: paths with quotes or backslashes are not supported: $here $work" >&2; exit 1 ;;
esac

cd "$here"

echo "provider-hcloud: building pulumi-tfgen-hcloud" >&2
go build -mod=readonly -ldflags "-s -w" -o "$work/pulumi-tfgen-hcloud" ./cmd/pulumi-tfgen-hcloud

echo "provider-hcloud: generating schema" >&2
# Docs and examples are not needed by the engine; converting them would need the upstream docs
# and an HCL converter plugin, neither of which the engine uses at run time.
"$work/pulumi-tfgen-hcloud" schema --out "$work/gen" --skip-docs --skip-examples
for f in schema.json bridge-metadata.json; do
  if [[ ! -s "$work/gen/$f" ]]; then
    echo "build.sh: tfgen did not write $f" >&2
    exit 1
  fi
done

pkg="$here/cmd/pulumi-resource-hcloud"
cat >"$work/overlay.json" <<JSON
{"Replace": {
  "$pkg/schema.json": "$work/gen/schema.json",
  "$pkg/bridge-metadata.json": "$work/gen/bridge-metadata.json"
}}
JSON

echo "provider-hcloud: building pulumi-resource-hcloud" >&2
go build -mod=readonly -overlay "$work/overlay.json" -ldflags "-s -w" \
  -o "$out_dir/pulumi-resource-hcloud" ./cmd/pulumi-resource-hcloud

echo "provider-hcloud: wrote $out_dir/pulumi-resource-hcloud" >&2

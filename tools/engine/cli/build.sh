#!/usr/bin/env bash
# Builds the Pulumi CLI (`pulumi`) into OUT_BIN_DIR from the module versions pinned in this
# directory's go.mod/go.sum. Called by ../build.sh; see ../README.md.
set -euo pipefail
out="${1:?usage: $0 OUT_BIN_DIR}"
cd "$(dirname "$0")"

# The CLI reports this as `pulumi version`; Pulumi's own release build sets it the same way
# (pulumi/pulumi .goreleaser.yml: -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v…).
version="$(go list -mod=readonly -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
go build -mod=readonly \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${version}" \
  -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

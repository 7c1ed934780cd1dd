#!/usr/bin/env bash
# Builds app-infra's own Node.js language host (`pulumi-language-nodejs`, see main.go for why it
# is ours) and installs the `pulumi-resource-pulumi-nodejs` launcher for dynamic providers into
# OUT_BIN_DIR. Called by ../build.sh; see ../README.md.
set -euo pipefail
out="${1:?usage: $0 OUT_BIN_DIR}"
cd "$(dirname "$0")"

go build -mod=readonly -ldflags "-s -w" -o "$out/pulumi-language-nodejs" .
install -m 0755 pulumi-resource-pulumi-nodejs "$out/pulumi-resource-pulumi-nodejs"

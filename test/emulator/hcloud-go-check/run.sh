#!/usr/bin/env bash
# Starts the emulator (fake backend) and drives it with hcloud-go v2.35.0 (see main.go).
# Needs Go and the Go module proxy (or a warm module cache). Not part of `npm test`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$(mktemp -d)
trap 'if [[ -n ${emu_pid:-} ]]; then kill "$emu_pid" 2>/dev/null || true; fi; rm -rf "$out"' EXIT
node "$root/node_modules/tsx/dist/cli.mjs" "$root/test/emulator/main.ts" --port 0 --backend fake >"$out/info" 2>"$out/log" &
emu_pid=$!
for _ in $(seq 1 100); do [[ -s $out/info ]] && break; sleep 0.1; done
url=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).url)' "$out/info")
token=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).token)' "$out/info")
(cd "$here" && GOFLAGS=-mod=mod go run . "$url" "$token") || { cat "$out/log" >&2; exit 1; }

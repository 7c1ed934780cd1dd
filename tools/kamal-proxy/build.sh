#!/usr/bin/env bash
# Builds kamal-proxy (github.com/basecamp/kamal-proxy, MIT) from the module version pinned in this
# directory's go.mod/go.sum, and prints the path of the binary as the LAST line on stdout:
#
#   kamal_proxy=$(tools/kamal-proxy/build.sh | tail -1)
#   "$kamal_proxy" run --help
#
# Why a pinned module and not `go install github.com/basecamp/kamal-proxy/cmd/kamal-proxy@v0.9.2`:
# the Go module proxy here serves v0.9.2 only, and answers 403 for the module's version list,
# which `go install …@version` reads to look for a deprecation notice, so it fails. A `go build`
# inside a module that requires v0.9.2 never asks for the list.
#
# The result is cached under $APP_INFRA_KAMAL_PROXY_DIR (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/app-infra/kamal-proxy), in <hash>/kamal-proxy, where <hash>
# covers this directory's files (go.mod, go.sum, tools.go, this script) and the Go toolchain. A
# hash that is already built is not built again. Concurrent callers (two test workers) wait on one
# lock, so the build runs once. Progress and timings go to stderr.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

say() { printf 'kamal-proxy: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

command -v go >/dev/null || die "go is not on PATH (kamal-proxy is built from the Go module proxy)"
command -v flock >/dev/null || die "flock is not on PATH (Debian package util-linux)"

root="${APP_INFRA_KAMAL_PROXY_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/app-infra/kamal-proxy}"
mkdir -p "$root"

# What decides the binary: this directory's files (docs excluded, so the path of the checkout
# does not matter) and the Go toolchain and target.
hash="$(
  {
    go env GOVERSION GOOS GOARCH
    find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)"
dest="$root/$hash"
binary="$dest/kamal-proxy"

# A download the module proxy refuses shows up in go's output as
#   go: <module>@<version>: reading <proxy URL>: 403 Forbidden
#   	server response: This module version is not available.
# Say plainly which module was refused: a 403 from a filtering proxy is final, retrying won't help.
explain_refusals() {
  local log="$1" proxy
  proxy="$(go env GOPROXY)"
  awk -v proxy="$proxy" '
    /: reading .*: [0-9][0-9][0-9] / {
      mod = $0
      if (match($0, /[^ \t]+@[^ \t:]+: reading /)) { mod = substr($0, RSTART, RLENGTH); sub(/: reading $/, "", mod) }
      code = $0; sub(/.*: reading [^ ]*: /, "", code)
      printf "kamal-proxy: download refused: module %s: the Go module proxy (GOPROXY=%s) answered \"%s\"\n", mod, proxy, code
      found = 1
    }
    END { exit found ? 0 : 1 }
  ' "$log" >&2
}

if [ ! -f "$dest/complete" ]; then
  # One build at a time per cache root; a caller that waited finds the result complete and leaves.
  exec 9>"$root/.lock"
  flock 9
  if [ ! -f "$dest/complete" ]; then
    say "building $(go list -mod=readonly -m -f '{{.Path}}@{{.Version}}' github.com/basecamp/kamal-proxy 2>/dev/null || echo kamal-proxy) into $dest"
    start=$SECONDS
    # Built into a temporary directory and renamed into place, so an interrupted build leaves
    # nothing that looks complete.
    work="$(mktemp -d "$root/.building.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    chmod 755 "$work"
    set +e
    # nice: the build shares the machine's cores with tests and other jobs.
    nice -n 19 go build -mod=readonly -trimpath -o "$work/kamal-proxy" \
      github.com/basecamp/kamal-proxy/cmd/kamal-proxy 2>&1 | tee "$work/build.log" >&2
    rc="${PIPESTATUS[0]}"
    set -e
    if [ "$rc" -ne 0 ]; then
      explain_refusals "$work/build.log" || true
      die "go build exited $rc; its output is above"
    fi
    touch "$work/complete"
    rm -rf "$dest" # a leftover without its `complete` marker
    mv -T "$work" "$dest"
    trap - EXIT
    say "built in $((SECONDS - start))s"
  else
    say "built meanwhile by a concurrent run"
  fi
  flock -u 9
else
  say "up to date"
fi
printf '%s\n' "$binary"

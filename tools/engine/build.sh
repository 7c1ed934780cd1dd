#!/usr/bin/env bash
# Builds the Pulumi engine this repository runs (the CLI, our Node.js language host and the
# resource providers) from Go modules, and prints the directory holding the binaries as the LAST
# line on stdout:
#
#   bin=$(tools/engine/build.sh | tail -1)
#   PATH="$bin:$PATH" pulumi version
#
# Every subdirectory tools/engine/<name>/ with an executable build.sh is a component, built with
# `<name>/build.sh OUT_BIN_DIR`, which must put its binaries into OUT_BIN_DIR. Results are cached
# under $APP_INFRA_ENGINE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/app-infra/engine):
#   components/<name>-<hash>/   one component, keyed by a hash of its files, the local directories
#                               its go.mod replaces modules with (e.g. ../replayplugin), this script,
#                               build-lib.sh and the Go toolchain, so changing one provider does not
#                               relink the others, and changing shared code rebuilds its users;
#   <hash>/bin                  all selected components together, keyed by their hashes.
# A hash that is already built is not built again; Go's own caches make rebuilds cheap.
# Progress and timings go to stderr.
#
# Environment:
#   APP_INFRA_ENGINE_DIR         cache root (see above)
#   APP_INFRA_ENGINE_COMPONENTS  space-separated component names to build (default: all)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

say() { printf 'engine: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v go >/dev/null || die "go is not on PATH (the engine is built from Go modules; see tools/engine/README.md)"

components=()
if [ -n "${APP_INFRA_ENGINE_COMPONENTS:-}" ]; then
  read -r -a wanted <<<"$APP_INFRA_ENGINE_COMPONENTS"
  for name in "${wanted[@]}"; do
    [ -x "$name/build.sh" ] || die "component '$name' has no executable tools/engine/$name/build.sh"
    components+=("$name")
  done
else
  for dir in */; do
    name="${dir%/}"
    [ -x "$name/build.sh" ] && components+=("$name")
  done
fi
[ "${#components[@]}" -gt 0 ] || die "no components found (no tools/engine/*/build.sh)"

root="${APP_INFRA_ENGINE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/app-infra/engine}"
mkdir -p "$root/components"
toolchain="$(go env GOVERSION GOOS GOARCH)"

# The directories a component's Go module builds from besides its own: the local paths its go.mod
# replaces modules with (e.g. `replace app-infra/tools/engine/replayplugin => ../replayplugin`),
# relative to this directory. Replace directives of other modules do not apply, so one level is all.
local_replacements() {
  [ -f "$1/go.mod" ] || return 0
  local json path
  json="$(go mod edit -json "$1/go.mod")" || return 1
  # A module path never starts with "." or "/", so these are the local replacement targets.
  sed -n 's/^[[:space:]]*"Path": "\([./][^"]*\)",\{0,1\}$/\1/p' <<<"$json" | while IFS= read -r path; do
    case "$path" in /*) ;; *) path="$1/$path" ;; esac
    path="$(realpath -m --relative-to=. "$path")"
    # A replacement inside the component (provider-docker/upstreamshim) is hashed already.
    case "$path" in "$1" | "$1"/*) ;; *) printf '%s\n' "$path" ;; esac
  done
}

# What decides a component's binaries: its files and those of its local replacements (paths
# relative to this directory, so the checkout location does not matter; docs excluded), this
# script and build-lib.sh (which component scripts source), and the Go toolchain and target.
component_hash() {
  local inputs=(build.sh build-lib.sh "$1") dir replacements
  replacements="$(local_replacements "$1")" || return 1
  while IFS= read -r dir; do
    [ -n "$dir" ] && inputs+=("$dir")
  done <<<"$replacements"
  {
    printf '%s\n' "$toolchain"
    find "${inputs[@]}" -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

# A download the module proxy refuses shows up in go's output as
#   go: <module>@<version>: reading <proxy URL>: 403 Forbidden
#   	server response: This module version is not available.
# Say plainly which module was refused and what the proxy answered: a 403 from a filtering proxy
# is final, and retrying will not help.
explain_refusals() {
  local log="$1" proxy
  proxy="$(go env GOPROXY)"
  awk -v proxy="$proxy" '
    /: reading .*: [0-9][0-9][0-9] / {
      mod = $0
      if (match($0, /[^ \t]+@[^ \t:]+: reading /)) { mod = substr($0, RSTART, RLENGTH); sub(/: reading $/, "", mod) }
      code = $0; sub(/.*: reading [^ ]*: /, "", code)
      getline nextline
      detail = nextline; sub(/^[ \t]*server response: /, "", detail)
      if (detail == nextline) detail = ""
      printf "engine: download refused: module %s: the Go module proxy (GOPROXY=%s) answered \"%s\"%s\n",
        mod, proxy, code, (detail != "" ? ": " detail : "")
      found = 1
    }
    END { exit found ? 0 : 1 }
  ' "$log" >&2
}

# Builds into a temporary directory and renames it into place, so an interrupted build leaves
# nothing that looks complete; if a concurrent build got there first, its result is kept.
work=""
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
publish() {
  touch "$work/complete"
  if ! mv -T "$work" "$1" 2>/dev/null; then
    [ -f "$1/complete" ] || die "could not move the build to $1"
    rm -rf "$work"
  fi
  work=""
}

total_start=$SECONDS
built=0
component_dirs=()
for name in "${components[@]}"; do
  dest="$root/components/$name-$(component_hash "$name")"
  component_dirs+=("$dest")
  if [ -f "$dest/complete" ]; then
    say "$name: up to date"
    continue
  fi
  say "building $name"
  start=$SECONDS
  work="$(mktemp -d "$root/components/.building-$name.XXXXXX")"
  chmod 755 "$work"
  mkdir "$work/bin"
  # Everything a component prints goes to stderr (and a log), so stdout stays ours.
  set +e
  "./$name/build.sh" "$work/bin" 2>&1 | tee "$work/build.log" >&2
  rc="${PIPESTATUS[0]}"
  set -e
  if [ "$rc" -ne 0 ]; then
    explain_refusals "$work/build.log" || true
    die "component $name failed (tools/engine/$name/build.sh exited $rc); its output is above"
  fi
  publish "$dest"
  built=$((built + 1))
  say "built $name in $((SECONDS - start))s"
done

# The bin directory for exactly this selection: hard links into the component caches.
final="$root/$(printf '%s\n' "${component_dirs[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$final/complete" ]; then
  work="$(mktemp -d "$root/.assembling.XXXXXX")"
  chmod 755 "$work"
  mkdir "$work/bin"
  for dir in "${component_dirs[@]}"; do
    for file in "$dir"/bin/*; do
      [ -e "$file" ] || continue
      target="$work/bin/$(basename "$file")"
      [ ! -e "$target" ] || die "two components install $(basename "$file"): $dir and another"
      ln "$file" "$target" 2>/dev/null || cp -p "$file" "$target"
    done
  done
  publish "$final"
fi
say "built $built of ${#components[@]} component(s) in $((SECONDS - total_start))s: $(cd "$final/bin" && echo *)"
printf '%s\n' "$final/bin"

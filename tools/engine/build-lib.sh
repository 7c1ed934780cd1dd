# shellcheck shell=bash
# Sourced (not run) by the components' build scripts, tools/engine/<name>/build.sh OUT_BIN_DIR,
# after their `set -euo pipefail`:
#
#   # shellcheck source-path=SCRIPTDIR source=../build-lib.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/../build-lib.sh"
#   out_dir=$(out_bin_dir "$@")
#
# tools/engine/build.sh hashes this file into every component, as it does itself.

# out_bin_dir "$@": the one argument a component's build.sh takes, OUT_BIN_DIR, created and
# printed as an absolute path. Any other number of arguments prints the usage and exits 2.
out_bin_dir() {
  if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_BIN_DIR" >&2
    exit 2
  fi
  mkdir -p "$1" && cd "$1" && pwd
}

#!/usr/bin/env bash
# Current readings and thresholds of the app-infra watchdog, for a user over SSH:
#   ssh root@<server> app-infra-status                 (installed by install-watchdog.sh)
#   ssh root@<server> 'bash -s' < scripts/status.sh    (from a checkout, same result)
# It runs the watchdog's own --status, so the table shows exactly what the alerts measure; it
# changes no alert state and sends nothing. The thresholds and secrets files are root-only, hence
# sudo for other users. From a checkout with no installed watchdog (a test, a dry look at a
# fixture via PROC_ROOT), it runs scripts/watchdog.sh next to this file.
# The work is one function called on the last line, so nothing can swallow the rest of the script
# when it arrives on stdin (`bash -s`).
set -euo pipefail

# Read here, not in main: inside a function, bash -s reports "main" as the source file.
readonly SELF=${BASH_SOURCE[0]:-}

main() {
  local bin=${WATCHDOG_BIN:-/usr/local/sbin/app-infra-watchdog} dir=.
  if [[ -x $bin ]]; then
    if ((EUID != 0)) && command -v sudo >/dev/null 2>&1; then exec sudo "$bin" --status; fi
    exec "$bin" --status
  fi
  # Under `bash -s` there is no source file, hence the empty default.
  if [[ $SELF == */* ]]; then dir=${SELF%/*}; fi
  if [[ -n $SELF && -f $dir/watchdog.sh ]]; then exec bash "$dir/watchdog.sh" --status; fi
  printf 'app-infra-status: the watchdog is not installed (%s is missing); run pulumi up\n' "$bin" >&2
  exit 1
}

# Must stay the last line (see the top).
main "$@"

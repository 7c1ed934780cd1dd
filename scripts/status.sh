#!/usr/bin/env bash
# Current readings and thresholds of the app-infra watchdog, for a user over SSH:
#   ssh root@<server> app-infra-status                 (installed by install-watchdog.sh)
#   ssh root@<server> 'bash -s' < scripts/status.sh    (from a checkout, same result)
# It runs the watchdog's own --status, so the table shows exactly what the alerts measure; it
# changes no alert state and sends nothing. The thresholds and secrets files are root-only, hence
# sudo for other users. From a checkout with no installed watchdog (a test, a dry look at a
# fixture via PROC_ROOT), it runs scripts/watchdog.sh next to this file.
set -euo pipefail

bin=${WATCHDOG_BIN:-/usr/local/sbin/app-infra-watchdog}
if [[ -x $bin ]]; then
  if ((EUID != 0)) && command -v sudo >/dev/null 2>&1; then exec sudo "$bin" --status; fi
  exec "$bin" --status
fi
# Under `bash -s` there is no source file, hence the empty default.
src=${BASH_SOURCE[0]:-}
dir=.
if [[ $src == */* ]]; then dir=${src%/*}; fi
if [[ -n $src && -f $dir/watchdog.sh ]]; then exec bash "$dir/watchdog.sh" --status; fi
printf 'app-infra-status: the watchdog is not installed (%s is missing); run pulumi up\n' "$bin" >&2
exit 1

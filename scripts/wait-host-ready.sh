#!/usr/bin/env bash
# Waits until a freshly booted host has finished cloud-init (which may still be installing
# packages and holding apt's lock), fails if cloud-init failed, then prints what the host is.
# Run as root: bash -s [-- IGNORED...] < wait-host-ready.sh
# Arguments are ignored: the program passes the server type only so that a rescale re-runs it.
# Environment: CLOUD_INIT_TIMEOUT_S (default 900) bounds the wait; PROGRESS_EVERY_S (default 30)
# is how often a line says it is still waiting.
# The whole script is one function called on its last line, so a child that reads stdin cannot
# swallow the rest of it (bash reads a script on stdin only as far as the next command).
set -euo pipefail

# Runs `cloud-init status --wait` in the background and prints a line every PROGRESS_EVERY_S s
# while it runs: a silent SSH session of up to 15 min can be dropped by a NAT on the way (GitHub's
# hosted runners sit behind one), and the output keeps it busy. Returns cloud-init's exit code, or
# 124 on timeout. Its own output is dropped: in tabular mode `--wait` prints a dot every 0.25 s
# (cloudinit/cmd/status.py); the status is read afterwards instead.
wait_for_cloud_init() {
  local timeout_s=$1 pid waited_s=0
  timeout "$timeout_s" cloud-init status --wait >/dev/null 2>&1 </dev/null &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited_s=$((waited_s + 1))
    if ((waited_s % PROGRESS_EVERY_S == 0)) && kill -0 "$pid" 2>/dev/null; then
      echo "host: cloud-init still running (${waited_s} s)"
    fi
  done
  wait "$pid"
}

main() {
  local timeout_s=${CLOUD_INIT_TIMEOUT_S:-900} rc status
  PROGRESS_EVERY_S=${PROGRESS_EVERY_S:-30}
  [[ $timeout_s =~ ^[1-9][0-9]*$ ]] || {
    echo "host: CLOUD_INIT_TIMEOUT_S: should be a positive number of seconds (got '$timeout_s')" >&2
    return 1
  }
  [[ $PROGRESS_EVERY_S =~ ^[1-9][0-9]*$ ]] || {
    echo "host: PROGRESS_EVERY_S: should be a positive number of seconds (got '$PROGRESS_EVERY_S')" >&2
    return 1
  }

  if command -v cloud-init >/dev/null 2>&1; then
    echo "host: waiting for cloud-init (up to ${timeout_s} s)"
    rc=0
    wait_for_cloud_init "$timeout_s" || rc=$?
    status=$(cloud-init status --long 2>&1 </dev/null) || true
    # cloud-init >= 23.4 exits 1 on error and 2 on "recoverable" errors (done, but degraded, e.g.
    # a deprecated key in user-data; common on Hetzner, canonical/cloud-init#5971): only 1 fails
    # the deploy. https://cloudinit.readthedocs.io/en/latest/explanation/return_codes.html
    case $rc in
      0) echo "host: cloud-init done" ;;
      2) printf 'host: cloud-init done with recoverable errors:\n%s\n' "$status" ;;
      124) printf 'host: cloud-init still running after %s s:\n%s\n' "$timeout_s" "$status" >&2; return 1 ;;
      *) printf 'host: cloud-init failed (exit %s):\n%s\n' "$rc" "$status" >&2; return 1 ;;
    esac
  else
    echo "host: no cloud-init, not waiting"
  fi

  echo "host: $(uname -srm)"
  free -m
  # What the image itself keeps resident, for the memory budget's systemReserveMb (sed, not head:
  # head would close the pipe early and fail the script under pipefail).
  echo "host: largest processes (RSS in KiB):"
  ps -eo rss=,comm= --sort=-rss | sed -n 1,15p
}

# Must stay the last line (see the top).
main "$@"

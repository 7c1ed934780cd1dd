#!/usr/bin/env bash
# Waits until a freshly booted host has finished cloud-init (which may still be installing
# packages and holding apt's lock), fails if cloud-init failed, then prints what the host is.
# Run as root: bash -s < wait-host-ready.sh
# Environment: CLOUD_INIT_TIMEOUT_S (default 900) bounds the wait.
set -euo pipefail

CLOUD_INIT_TIMEOUT_S=${CLOUD_INIT_TIMEOUT_S:-900}

if command -v cloud-init >/dev/null 2>&1; then
  echo "host: waiting for cloud-init (up to ${CLOUD_INIT_TIMEOUT_S} s)"
  rc=0
  status=$(timeout "$CLOUD_INIT_TIMEOUT_S" cloud-init status --wait --long 2>&1) || rc=$?
  # cloud-init >= 23.4 exits 1 on error and 2 on "recoverable" errors (done, but degraded, e.g.
  # a deprecated key in user-data): only 1 fails the deploy.
  # https://cloudinit.readthedocs.io/en/latest/explanation/return_codes.html
  case $rc in
    0) echo "host: cloud-init done" ;;
    2) printf 'host: cloud-init done with recoverable errors:\n%s\n' "$status" ;;
    124) printf 'host: cloud-init still running after %s s:\n%s\n' "$CLOUD_INIT_TIMEOUT_S" "$status" >&2; exit 1 ;;
    *) printf 'host: cloud-init failed (exit %s):\n%s\n' "$rc" "$status" >&2; exit 1 ;;
  esac
else
  echo "host: no cloud-init, not waiting"
fi

echo "host: $(uname -srm)"
free -m

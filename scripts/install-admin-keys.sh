#!/usr/bin/env bash
# Installs extra admin SSH public keys for root, in a block this script owns inside
# authorized_keys, so keys Hetzner or a human added stay untouched. Idempotent: re-running with
# the same keys changes nothing; an empty list removes the block.
# Usage: install-admin-keys.sh KEYS_BASE64   (newline-separated public keys, base64; "-" = none)
# The whole script is one function called on its last line, so a child that reads stdin cannot
# swallow the rest of it (the program runs it as `bash -s`, the script on stdin).
set -euo pipefail

main() {
  if [ "$#" -ne 1 ]; then
    echo "install-admin-keys: expected 1 argument KEYS_BASE64 (got $#)" >&2
    exit 2
  fi
  AUTH_KEYS="${AUTH_KEYS:-/root/.ssh/authorized_keys}"
  BEGIN="# BEGIN app-infra admin keys"
  END="# END app-infra admin keys"

  keys=""
  if [ "$1" != "-" ]; then
    if ! keys=$(printf '%s' "$1" | base64 -d 2>/dev/null); then
      echo "install-admin-keys: KEYS_BASE64 is not valid base64" >&2
      exit 2
    fi
  fi
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    case "$line" in
      ssh-ed25519\ *|ssh-rsa\ *|ecdsa-sha2-*\ *|sk-ssh-ed25519@openssh.com\ *) ;;
      *) echo "install-admin-keys: not an OpenSSH public key: ${line:0:40}..." >&2; exit 2 ;;
    esac
  done <<<"$keys"

  mkdir -p "$(dirname "$AUTH_KEYS")"
  chmod 700 "$(dirname "$AUTH_KEYS")"
  touch "$AUTH_KEYS"
  chmod 600 "$AUTH_KEYS"

  # Everything outside our block, then our block (if any keys). `desired` is global, not local:
  # the EXIT trap reads it after main has returned.
  desired=$(mktemp)
  trap 'rm -f "$desired"' EXIT
  awk -v b="$BEGIN" -v e="$END" '$0==b{skip=1;next} $0==e{skip=0;next} !skip' "$AUTH_KEYS" >"$desired"
  if [ -n "$keys" ]; then
    { echo "$BEGIN"; printf '%s\n' "$keys" | sed '/^$/d'; echo "$END"; } >>"$desired"
  fi
  if cmp -s "$desired" "$AUTH_KEYS"; then
    echo "admin-keys: unchanged"
  else
    cat "$desired" >"$AUTH_KEYS"
    echo "admin-keys: updated ($(printf '%s\n' "$keys" | sed '/^$/d' | wc -l) key(s))"
  fi
}

# Must stay the last line (see the top).
main "$@"

#!/usr/bin/env bash
# Removes the directory where the program writes the deploy key for a stack (src/live/ssh-files.ts:
# $APP_INFRA_SSH_DIR, default /tmp, then app-infra-ssh-<stack>), after ending the ssh connection
# masters whose sockets live in it (ControlPersist would keep them up to 60 s). For the end of a CI
# job (`if: always()`): a self-hosted runner would otherwise keep the private key on its disk.
# Usage: remove-ssh-dir.sh STACK
set -euo pipefail

stack=${1:-}
# A Pulumi stack name: letters, digits, '-', '_', '.'; never a path.
if [[ ! $stack =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]]; then
  echo "remove-ssh-dir: usage: remove-ssh-dir.sh STACK (got '${stack}')" >&2
  exit 2
fi
dir="${APP_INFRA_SSH_DIR:-/tmp}/app-infra-ssh-${stack}"
if [[ ! -e $dir ]]; then
  echo "remove-ssh-dir: nothing at $dir"
  exit 0
fi
for sock in "$dir"/cm-*; do
  if [[ -S $sock ]]; then
    # The host name is not used with -O: the socket says which master.
    ssh -F /dev/null -S "$sock" -O exit app-infra-host </dev/null >/dev/null 2>&1 || true
  fi
done
rm -rf -- "$dir"
echo "remove-ssh-dir: removed $dir"

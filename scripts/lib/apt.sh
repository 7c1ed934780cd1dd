#!/usr/bin/env bash
# apt_get, shared by install-docker.sh and install-backup.sh, and inlined into them when they ship.
# Not run on its own. Each script that uses it has, where the function would be, the line
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
# followed by the inline mark (INLINE_MARK, src/plan/inline.ts). From a checkout the line sources
# this file (`bash scripts/install-docker.sh`); readScript (components/host.ts) replaces the line
# with this text, minus the shebang, in the text it ships: a host script travels alone on the SSH
# stdin, so it must be self-contained.
# Needs from the script: say and die (its message prefix), APT_ATTEMPTS and APT_RETRY_SLEEP_S.

# apt-get waits for the dpkg lock by itself (DPkg::Lock::Timeout, apt >= 1.9.11), but not for
# every lock (e.g. the lists lock during `update`) and not for a mirror hiccup: retry the whole
# command too.
# - stdin is /dev/null: nothing apt runs can read (and eat) the script, and a question that still
#   comes up fails instead of waiting forever.
# - A changed conffile keeps the local version when it was edited and takes the package's when not
#   (--force-confdef, else --force-confold), instead of dpkg's prompt, which reads stdin whatever
#   DEBIAN_FRONTEND says.
# - needrestart: on Ubuntu 24.04 its apt hook (`apt-pinvoke -m u`) restarts every service that
#   maps an upgraded library, ssh included, after every apt run, interactive or not
#   (discourse.ubuntu.com/t/needrestart-changes-in-ubuntu-24-04-service-restarts/44671).
#   NEEDRESTART_SUSPEND makes the hook skip needrestart altogether (liske/needrestart v3.6,
#   ex/apt/apt-pinvoke: `if [ -n "$NEEDRESTART_SUSPEND" ]; then ... exit 0`); NEEDRESTART_MODE=l
#   (list only) covers a hook that calls needrestart directly: the environment wins over the
#   configured mode unless -r is given (needrestart v3.6, needrestart:230). The skipped restarts
#   are not lost: the next apt run (unattended-upgrades) finds the same outdated processes.
apt_get() {
  local attempt
  for ((attempt = 1; ; attempt++)); do
    if DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 NEEDRESTART_MODE=l \
      apt-get -q -o DPkg::Lock::Timeout=60 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null; then
      return 0
    fi
    ((attempt < APT_ATTEMPTS)) || die "apt-get $* failed $APT_ATTEMPTS times, giving up"
    say "apt-get $* failed (attempt $attempt/$APT_ATTEMPTS), retrying in ${APT_RETRY_SLEEP_S} s"
    sleep "$APT_RETRY_SLEEP_S"
  done
}

#!/usr/bin/env bash
# Converges the host's swap file and memory sysctls. Run as root:
#   bash -s -- SIZE_GB SWAPPINESS < setup-swap.sh
# SIZE_GB     0..64; 0 removes the swap file and its fstab line.
# SWAPPINESS  0..100 (vm.swappiness).
# Environment (paths, overridable for tests):
#   SWAPFILE    default /swapfile
#   FSTAB       default /etc/fstab
#   SYSCTL_FILE default /etc/sysctl.d/60-app-infra.conf
#   MEMINFO     default /proc/meminfo (read for MemAvailable before a swapoff)
# Safe to run again: it changes only what differs and says what it changed.
# The whole script is one function called on its last line, so a child that reads stdin cannot
# swallow the rest of it (the program runs it as `bash -s`, the script on stdin).
set -euo pipefail

# RAM left free after a swapoff has pulled every swapped page back in; below it the OOM killer
# would pick a container, so we refuse and let the operator decide.
readonly SWAPOFF_HEADROOM_MB=256

die() {
  echo "setup-swap: $*" >&2
  exit 1
}

# --- swap file -------------------------------------------------------------------------------

# Prints the KiB of swap in use on $SWAPFILE if it is active, nothing otherwise.
# /proc/swaps escapes a space in a path as \040; our paths have none.
swap_used_kb() {
  awk -v f="$SWAPFILE" 'NR > 1 && $1 == f { print $4; found = 1 } END { exit !found }' /proc/swaps
}

meminfo_kb() {
  awk -v k="$1:" '$1 == k { print $2; found = 1 } END { exit !found }' "$MEMINFO"
}

# swapoff moves every swapped page back into RAM: only do it when RAM can take them.
safe_swapoff() {
  local used_kb avail_kb
  used_kb=$(swap_used_kb) || return 0
  avail_kb=$(meminfo_kb MemAvailable) || die "cannot read MemAvailable from $MEMINFO"
  if ((used_kb + SWAPOFF_HEADROOM_MB * 1024 > avail_kb)); then
    die "refusing to swapoff $SWAPFILE: $((used_kb / 1024)) MB of it is in use and only" \
      "$((avail_kb / 1024)) MB of RAM is available (need the swapped pages plus" \
      "${SWAPOFF_HEADROOM_MB} MB headroom); free memory (stop or shrink services) and run again"
  fi
  swapoff "$SWAPFILE"
  echo "swap: swapoff $SWAPFILE ($((used_kb / 1024)) MB moved back to RAM)"
}

create_swapfile() {
  rm -f "$SWAPFILE"
  # fallocate is instant on ext4 (Hetzner's images); some filesystems refuse it or leave holes
  # swapon rejects, so fall back to writing zeros.
  if ! (umask 077 && fallocate -l "${SIZE_GB}G" "$SWAPFILE") 2>/dev/null; then
    echo "swap: fallocate failed, writing $SIZE_GB GB of zeros with dd"
    rm -f "$SWAPFILE"
    (umask 077 && dd if=/dev/zero of="$SWAPFILE" bs=1M count=$((SIZE_GB * 1024)) status=none)
  fi
  chmod 600 "$SWAPFILE"
  mkswap "$SWAPFILE" >/dev/null
  swapon "$SWAPFILE" ||
    die "swapon $SWAPFILE failed: is $(dirname "$SWAPFILE") on a filesystem that supports swap files (ext4, xfs)?"
  echo "swap: created $SWAPFILE ($SIZE_GB GB), active"
}

main() {
  SWAPFILE=${SWAPFILE:-/swapfile}
  FSTAB=${FSTAB:-/etc/fstab}
  SYSCTL_FILE=${SYSCTL_FILE:-/etc/sysctl.d/60-app-infra.conf}
  MEMINFO=${MEMINFO:-/proc/meminfo}
  [[ $# -eq 2 ]] || die "usage: setup-swap.sh SIZE_GB SWAPPINESS (got $# arguments)"
  SIZE_GB=$1
  SWAPPINESS=$2
  # At most 3 digits before the range check, so a huge number cannot overflow bash arithmetic.
  if ! [[ $SIZE_GB =~ ^[0-9]{1,3}$ ]] || ((10#$SIZE_GB > 64)); then
    die "SIZE_GB: should be an integer between 0 and 64 (got '$SIZE_GB')"
  fi
  if ! [[ $SWAPPINESS =~ ^[0-9]{1,3}$ ]] || ((10#$SWAPPINESS > 100)); then
    die "SWAPPINESS: should be an integer between 0 and 100 (got '$SWAPPINESS')"
  fi
  SIZE_GB=$((10#$SIZE_GB))
  SWAPPINESS=$((10#$SWAPPINESS))
  [[ $SWAPFILE == /* ]] || die "SWAPFILE: should be an absolute path (got '$SWAPFILE')"
  [[ $EUID -eq 0 ]] || die "must run as root"

  want_bytes=$((SIZE_GB * 1024 * 1024 * 1024))
  if ((SIZE_GB == 0)); then
    if [[ -e $SWAPFILE ]]; then
      safe_swapoff
      rm -f "$SWAPFILE"
      echo "swap: removed $SWAPFILE"
    else
      echo "swap: none at $SWAPFILE, nothing to remove"
    fi
  elif [[ -f $SWAPFILE ]]; then
    have_bytes=$(stat -c %s "$SWAPFILE")
    if ((have_bytes == want_bytes)) && swap_used_kb >/dev/null; then
      echo "swap: $SWAPFILE already $SIZE_GB GB, active"
      # A hand-made file may be readable by others: swapped pages can hold secrets.
      if [[ $(stat -c %a "$SWAPFILE") != 600 ]]; then
        chmod 600 "$SWAPFILE"
        echo "swap: chmod 600 $SWAPFILE"
      fi
    elif ((have_bytes == want_bytes)); then
      # Right size but inactive: a run that stopped half-way, or a manual swapoff. Creating it
      # again is cheap and leaves no doubt about its content.
      echo "swap: $SWAPFILE is $SIZE_GB GB but inactive, recreating"
      create_swapfile
    else
      echo "swap: resizing $SWAPFILE from $((have_bytes / 1024 / 1024)) MB to $SIZE_GB GB"
      safe_swapoff
      create_swapfile
    fi
  else
    [[ ! -e $SWAPFILE ]] || die "$SWAPFILE exists and is not a regular file"
    create_swapfile
  fi

  # --- fstab: exactly one line for the swap file, or none for size 0 ------------------------------

  fstab_line="$SWAPFILE none swap sw 0 0"
  touch "$FSTAB"
  current=$(awk -v f="$SWAPFILE" '$1 == f' "$FSTAB")
  if ((SIZE_GB == 0)); then want_fstab=""; else want_fstab=$fstab_line; fi
  if [[ $current != "$want_fstab" ]]; then
    tmp=$(mktemp "$FSTAB.XXXXXX")
    awk -v f="$SWAPFILE" '$1 != f' "$FSTAB" >"$tmp"
    [[ -z $want_fstab ]] || echo "$want_fstab" >>"$tmp"
    chmod --reference="$FSTAB" "$tmp"
    mv "$tmp" "$FSTAB"
    if [[ -z $want_fstab ]]; then
      echo "fstab: removed the $SWAPFILE line from $FSTAB"
    else
      echo "fstab: $FSTAB now has one line for $SWAPFILE"
    fi
  fi

  # --- sysctls -----------------------------------------------------------------------------------

  # vm.overcommit_memory=1: Redis forks for background saves (BGSAVE, AOF rewrite); with the
  # kernel's default heuristic overcommit the fork can fail on a busy box even though copy-on-write
  # needs little memory. Redis's admin guide asks for it:
  # https://redis.io/docs/latest/operate/oss_and_stack/management/admin/
  sysctl_content="# Managed by app-infra (scripts/setup-swap.sh): edits here are overwritten.
vm.swappiness = $SWAPPINESS
vm.overcommit_memory = 1"
  if [[ ! -f $SYSCTL_FILE ]] || [[ $(<"$SYSCTL_FILE") != "$sysctl_content" ]]; then
    mkdir -p "$(dirname "$SYSCTL_FILE")"
    printf '%s\n' "$sysctl_content" >"$SYSCTL_FILE"
    echo "sysctl: wrote $SYSCTL_FILE"
  fi
  before_swappiness=$(</proc/sys/vm/swappiness)
  before_overcommit=$(</proc/sys/vm/overcommit_memory)
  # Applied on every run, so live values that someone changed by hand converge too.
  sysctl -q -p "$SYSCTL_FILE"
  [[ $before_swappiness == "$SWAPPINESS" ]] ||
    echo "sysctl: vm.swappiness $before_swappiness -> $SWAPPINESS"
  [[ $before_overcommit == 1 ]] ||
    echo "sysctl: vm.overcommit_memory $before_overcommit -> 1"
  echo "setup-swap: done (swap $SIZE_GB GB, vm.swappiness $SWAPPINESS, vm.overcommit_memory 1)"
}

# Must stay the last line (see the top).
main "$@"

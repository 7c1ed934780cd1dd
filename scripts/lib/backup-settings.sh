#!/usr/bin/env bash
# What backup-redis.sh and restore-redis.sh share, inlined into them when they ship: the same files
# and settings (the restore reads what install-backup.sh wrote for the backup). Not run on its own.
# Each script that uses it has, where the functions would be, the line
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/backup-settings.sh"
# followed by the inline mark (INLINE_MARK, src/plan/inline.ts). From a checkout the line sources
# this file; readScript (components/host.ts) replaces the line with this text, minus the shebang,
# in the text it ships: both scripts are installed on the host as single files (base64 in
# install-backup.sh's payload), so they must be self-contained.
# Needs from the script: die, which in backup-redis.sh also records the failure for the watchdog.
# install-backup.sh sources it too, for the three paths below: where it writes the files is where
# the backup and the restore read them.

# Where install-backup.sh installs the settings, the S3 keys and the repository password.
BACKUP_ENV_INSTALLED=/etc/app-infra/backup.env
BACKUP_SECRETS_INSTALLED=/etc/app-infra/backup.secrets
BACKUP_PASSWORD_INSTALLED=/etc/app-infra/backup.password

# The paths and names both read, from the environment (tests) or the installed defaults.
backup_paths() {
  BACKUP_ENV=${BACKUP_ENV:-$BACKUP_ENV_INSTALLED}
  BACKUP_SECRETS=${BACKUP_SECRETS:-$BACKUP_SECRETS_INSTALLED}
  BACKUP_PASSWORD_FILE=${BACKUP_PASSWORD_FILE:-$BACKUP_PASSWORD_INSTALLED}
  STATE_DIR=${STATE_DIR:-/var/lib/app-infra}
  RESTIC_CACHE_DIR=${RESTIC_CACHE_DIR:-/var/cache/app-infra-backup}
  LOCK_FILE=${LOCK_FILE:-/run/app-infra-backup.lock}
  REDIS_VOLUME=${REDIS_VOLUME:-redis-data}
  REDIS_DATA_DIR=${REDIS_DATA_DIR:-}
}

# load_file PATH KEYS: sets the listed keys (" KEY1 KEY2 … ") from a KEY=VALUE file (# comments,
# optional quotes); anything else is an error. The file is parsed, never sourced.
load_file() {
  local path=$1 keys=$2 line key value n=0
  [[ -r $path ]] || die "cannot read $path (written by install-backup.sh)"
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line=${line%$'\r'}
    if [[ $line =~ ^[[:space:]]*(#|$) ]]; then continue; fi
    if [[ ! $line =~ ^[[:space:]]*([A-Z_][A-Z0-9_]*)=(.*)$ ]]; then die "$path:$n: should be KEY=VALUE"; fi
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    if [[ $keys != *" $key "* ]]; then die "$path:$n: $key: unknown key (allowed:${keys% })"; fi
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    printf -v "$key" '%s' "$value"
  done <"$path"
}

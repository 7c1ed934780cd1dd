#!/usr/bin/env bash
# Installs the app-infra Redis backup on the host: restic from the distribution's package, the
# backup and restore scripts, their settings and secrets files, and a systemd service + timer that
# runs the backup on an OnCalendar schedule. Idempotent: a file is written only when its content
# differs (a wrong mode is fixed in place); systemd is reloaded and the timer restarted only when a
# unit changed, so a new schedule rewrites the timer and nothing else. Prints what changed, never
# a file's content.
#
# Invocation (as root over SSH, the way components/host.ts runs a step with a payload):
#   command: bash -s -- SCHEDULE [ignored…]     e.g. `bash -s -- '*-*-* 03:15:00' <payload sha256>`
#            SCHEDULE is a systemd OnCalendar= value (`daily`, `*-*-* 03:15:00`, `Mon..Sun 02:00`),
#            checked with `systemd-analyze calendar` where that exists.
#   stdin:   the shipped text of this file (lib/apt.sh and lib/installer.sh inlined in place of
#            their `source` lines by readScript, components/host.ts), then the payload, one
#            KEY=VALUE a line (all five keys required; values are base64, a value may be wrapped
#            in single quotes):
#              BACKUP_SCRIPT_B64=<base64 of scripts/backup-redis.sh, shipped text>
#              RESTORE_SCRIPT_B64=<base64 of scripts/restore-redis.sh, shipped text>
#              BACKUP_ENV_B64=<base64 of the settings file: RESTIC_REPOSITORY=s3:https://…/bucket/path,
#                              KEEP_DAILY=7, KEEP_WEEKLY=4, STACK=<stack> lines>
#              BACKUP_SECRETS_B64=<base64 of AWS_ACCESS_KEY_ID=… and AWS_SECRET_ACCESS_KEY=… lines>
#              BACKUP_PASSWORD_B64=<base64 of the restic repository password (one line)>
#   How: bash reads a script from stdin only as far as the command it runs next, and the whole
#   script is one function called on its last line, so when `main` runs the rest of stdin is the
#   payload, read with builtins: no secret is in an argv, a child's environment or sshd's AcceptEnv.
#   The payload must be a Pulumi secret (host.ts wraps stdin in pulumi.secret). The same variables
#   set before `main` runs (environment) win over the payload, for use by hand. By hand, from a
#   checkout: `bash scripts/install-backup.sh SCHEDULE < payload-file`.
#
# Installed (0755 unless noted):
#   /usr/local/sbin/app-infra-backup-redis        the backup (scripts/backup-redis.sh)
#   /usr/local/sbin/app-infra-restore-redis       the restore (scripts/restore-redis.sh)
#   /etc/app-infra/backup.env          0600       settings
#   /etc/app-infra/backup.secrets      0600       S3 keys
#   /etc/app-infra/backup.password     0600       restic repository password
#   /etc/systemd/system/app-infra-backup.service  0644
#   /etc/systemd/system/app-infra-backup.timer    0644
#
# Environment: DESTDIR (a root for all paths above, default none), SYSTEMCTL (command prefix,
# default `systemctl`; `:` skips systemd, for tests), SYSTEMD_ANALYZE (default `systemd-analyze`),
# APT_ATTEMPTS (default 30) and APT_RETRY_SLEEP_S (default 10) as install-docker.sh.
set -euo pipefail
umask 077

readonly NAME=app-infra-backup
readonly BIN=/usr/local/sbin/app-infra-backup-redis
readonly RESTORE_BIN=/usr/local/sbin/app-infra-restore-redis
readonly UNIT_DIR=/etc/systemd/system
readonly PAYLOAD_KEYS=" BACKUP_SCRIPT_B64 RESTORE_SCRIPT_B64 BACKUP_ENV_B64 BACKUP_SECRETS_B64 BACKUP_PASSWORD_B64 "
# restic's peak RSS, measured by test/real/backup.test.ts (restic 0.14, /usr/bin/time -v, a 250 kB
# dump): 87 MB for `init` (the key derivation, once), 53-59 MB for each later command; one runs at
# a time. The cap leaves room for a larger dump and index; it stops a runaway, it is not the budget.
readonly MEMORY_MAX=384M

say() { printf '%s install: %s\n' "$NAME" "$*"; }
die() {
  printf '%s install: %s\n' "$NAME" "$*" >&2
  exit 1
}

# apt_get (lib/apt.sh explains each option): no apt prompt can read the script's stdin,
# conffiles never prompt, needrestart's hook restarts nothing (ssh included).
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh" # app-infra:inline

# read_payload (the payload after this text on stdin; a key already set keeps its value),
# decode VAR FILE (base64 fed by a builtin, so no value reaches an argv), put SRC PATH MODE
# (install a file unless the same content is there) and start_timer WHEN.
# shellcheck source-path=SCRIPTDIR source=lib/installer.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/installer.sh" # app-infra:inline

# The paths the backup and the restore read their files from (BACKUP_*_INSTALLED), written below.
# shellcheck source-path=SCRIPTDIR source=lib/backup-settings.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/backup-settings.sh" # app-infra:inline
readonly ENV_FILE=$BACKUP_ENV_INSTALLED
readonly SECRETS_FILE=$BACKUP_SECRETS_INSTALLED
readonly PASSWORD_FILE=$BACKUP_PASSWORD_INSTALLED

# The keys a KEY=VALUE file may hold, and which must be there: a wiring mistake fails the deploy
# here, not at 3 a.m. in the first backup.
check_keys() {
  local file=$1 label=$2 allowed=$3 required=$4 line key seen=" "
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    if [[ $line =~ ^[[:space:]]*(#|$) ]]; then continue; fi
    if [[ ! $line =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]]; then
      problems+=("$label: lines should be KEY=VALUE")
      continue
    fi
    key=${BASH_REMATCH[1]}
    if [[ $allowed != *" $key "* ]]; then problems+=("$label: $key: unknown key (allowed:$allowed)"); fi
    if [[ -n ${BASH_REMATCH[2]} ]]; then seen+="$key "; fi
  done <"$file"
  for key in $required; do
    if [[ $seen != *" $key "* ]]; then problems+=("$label: $key: should be set (missing or empty)"); fi
  done
}

check_schedule() {
  local -a analyze
  if [[ -z $SCHEDULE || $SCHEDULE == *[$'\n\r']* ]]; then
    problems+=("SCHEDULE: should be a systemd OnCalendar value such as 'daily' or '*-*-* 03:15:00' (got '${SCHEDULE:0:60}')")
    return 0
  fi
  read -ra analyze <<<"${SYSTEMD_ANALYZE:-systemd-analyze}"
  if command -v "${analyze[0]}" >/dev/null 2>&1; then
    if ! "${analyze[@]}" calendar "$SCHEDULE" >/dev/null 2>&1 </dev/null; then
      problems+=("SCHEDULE: '${SCHEDULE:0:60}' is not a valid OnCalendar value (systemd-analyze calendar refused it)")
    fi
  else
    say "systemd-analyze not found: SCHEDULE '$SCHEDULE' not checked"
  fi
}

write_units() {
  local work=$1
  cat >"$work/service" <<EOF
[Unit]
Description=app-infra: back up Redis to the off-box restic repository
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=$BIN
# The backup must not compete with the app it saves: low CPU and I/O priority.
Nice=10
CPUSchedulingPolicy=batch
CPUWeight=20
IOSchedulingClass=best-effort
IOSchedulingPriority=7
MemoryMax=$MEMORY_MAX
# A large upload over a slow link, and prune, can take a while; a hung run must still end.
TimeoutStartSec=2h
StateDirectory=app-infra
CacheDirectory=app-infra-backup
Environment=RESTIC_CACHE_DIR=/var/cache/app-infra-backup
NoNewPrivileges=yes
PrivateTmp=yes
# read-only, not yes: the docker CLI reads /root/.docker/config.json when it exists.
ProtectHome=read-only
EOF

  cat >"$work/timer" <<EOF
[Unit]
Description=Back up Redis off the box ($SCHEDULE)

[Timer]
OnCalendar=$SCHEDULE
# Persistent: a backup missed while the box was off runs at the next boot. The delay spreads
# many stacks on one schedule over a few minutes at the storage's end.
Persistent=true
RandomizedDelaySec=5min

[Install]
WantedBy=timers.target
EOF
}

install_restic() {
  if [[ $(dpkg-query -W -f='${Status}' restic 2>/dev/null </dev/null || true) == "install ok installed" ]]; then
    return 0
  fi
  if [[ -n $DESTDIR ]] && command -v restic >/dev/null 2>&1; then return 0; fi
  apt_get update
  apt_get install -y --no-install-recommends restic
  say "installed restic ($(restic version </dev/null))"
}

main() {
  DESTDIR=${DESTDIR:-}
  DESTDIR=${DESTDIR%/}
  SCHEDULE=${1:-}
  APT_ATTEMPTS=${APT_ATTEMPTS:-30}
  APT_RETRY_SLEEP_S=${APT_RETRY_SLEEP_S:-10}
  problems=() changed=() units_changed=0

  read_payload
  if [[ -z $DESTDIR && $EUID -ne 0 ]]; then problems+=("must run as root (or with DESTDIR for a test)"); fi
  [[ $APT_ATTEMPTS =~ ^[1-9][0-9]*$ ]] || problems+=("APT_ATTEMPTS: should be a positive integer")
  [[ $APT_RETRY_SLEEP_S =~ ^[0-9]+$ ]] || problems+=("APT_RETRY_SLEEP_S: should be an integer")
  check_schedule
  local key
  for key in $PAYLOAD_KEYS; do
    if [[ -z ${!key:-} ]]; then problems+=("$key: should be given (missing or empty)"); fi
  done

  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  if ((${#problems[@]} == 0)); then
    decode BACKUP_SCRIPT_B64 "$work/backup"
    decode RESTORE_SCRIPT_B64 "$work/restore"
    decode BACKUP_ENV_B64 "$work/env"
    decode BACKUP_SECRETS_B64 "$work/secrets"
    decode BACKUP_PASSWORD_B64 "$work/password"
  fi
  if ((${#problems[@]} == 0)); then
    local f
    for f in backup restore; do
      if [[ $(head -c 2 "$work/$f") != '#!' ]] || ! bash -n "$work/$f" 2>/dev/null; then
        problems+=("${f^^}_SCRIPT_B64: should decode to a bash script; it does not parse")
      fi
    done
    check_keys "$work/env" BACKUP_ENV_B64 " RESTIC_REPOSITORY KEEP_DAILY KEEP_WEEKLY STACK " "RESTIC_REPOSITORY"
    check_keys "$work/secrets" BACKUP_SECRETS_B64 " AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY " \
      "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"
    # restic's --password-file takes the file's first line; a second line is a wiring mistake.
    if [[ ! -s $work/password || $(wc -l <"$work/password") -gt 1 ]]; then
      problems+=("BACKUP_PASSWORD_B64: should decode to one line, the repository password")
    fi
  fi
  if ((${#problems[@]} > 0)); then
    local problem
    for problem in "${problems[@]}"; do printf '%s install: %s\n' "$NAME" "$problem" >&2; done
    return 1
  fi

  install_restic
  write_units "$work"
  put "$work/backup" "$BIN" 0755
  put "$work/restore" "$RESTORE_BIN" 0755
  put "$work/env" "$ENV_FILE" 0600
  put "$work/secrets" "$SECRETS_FILE" 0600
  put "$work/password" "$PASSWORD_FILE" 0600
  put "$work/service" "$UNIT_DIR/$NAME.service" 0644
  put "$work/timer" "$UNIT_DIR/$NAME.timer" 0644

  start_timer "OnCalendar=$SCHEDULE"
}

# Must stay the last line: the payload follows it on stdin.
main "$@"

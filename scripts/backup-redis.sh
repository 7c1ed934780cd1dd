#!/usr/bin/env bash
# app-infra Redis backup: one consistent snapshot of the `redis` container's data, uploaded to an
# off-box restic repository (S3-compatible, e.g. Hetzner Object Storage), then the repository's
# retention (`forget --prune`). Installed by install-backup.sh as /usr/local/sbin/app-infra-backup-redis
# (the shipped text: lib/backup-settings.sh inlined by readScript, components/host.ts) and started
# by app-infra-backup.timer (Type=oneshot, nothing stays running).
#
# What is backed up, and why the RDB rather than the AOF directory:
#   Redis runs with `--appendonly yes --save "" --dir /data` (src/plan/services.ts). Both ways fork
#   once (BGSAVE or BGREWRITEAOF), so they cost the same memory. We take `BGSAVE`'s dump.rdb:
#   - Redis writes it to a temporary file and renames it over dump.rdb when it is complete
#     (rdb.c rdbSave: "temp-%d.rdb" then rename), so the file we open after LASTSAVE moved is a
#     whole point-in-time image; opening it pins that inode even if a later save replaces it.
#   - The AOF directory (Redis >= 7: a manifest, a base file and incr files) keeps changing after
#     BGREWRITEAOF: the incr file grows while we read it, and an automatic rewrite can delete the
#     files we are copying. A copy of it is only "probably" consistent.
#   Restore turns the RDB back into the AOF base (restore-redis.sh), so Redis loads it with AOF on.
#
# Steps: read LASTSAVE, BGSAVE (SCHEDULE: queued if an AOF rewrite runs), wait until LASTSAVE
# changes and rdb_last_bgsave_status is ok, then stream the file into `restic backup --stdin` as
# redis/dump.rdb; `restic init` first when the repository does not exist yet; then `restic forget
# --prune --keep-daily N --keep-weekly M`. The outcome goes to STATE_DIR:
#   backup-last-ok    one line: epoch of the last successful run (the watchdog's "backup too old")
#   backup-last-run   one line: `<epoch> ok|failed <reason>` (the watchdog's "backup failed")
# Exit 0 on success, 1 on failure (after recording it).
#
# Settings: files of KEY=VALUE lines (# comments, optional quotes), parsed, never sourced.
#   BACKUP_ENV      (default /etc/app-infra/backup.env, 0600): RESTIC_REPOSITORY (required, e.g.
#                   s3:https://fsn1.your-objectstorage.com/bucket/redis), KEEP_DAILY (default 7),
#                   KEEP_WEEKLY (default 4), STACK (restic's --host, so snapshots of a rebuilt
#                   server stay one series; default the host name)
#   BACKUP_SECRETS  (default /etc/app-infra/backup.secrets, 0600): AWS_ACCESS_KEY_ID,
#                   AWS_SECRET_ACCESS_KEY (required)
#   BACKUP_PASSWORD_FILE (default /etc/app-infra/backup.password, 0600): the repository password,
#                   given to restic with --password-file, so it is in no argv and no environment.
#   The S3 keys reach restic through its environment only (exported here, never on a command line;
#   /proc/PID/environ is readable by root alone).
# Environment only (tests, tuning): REDIS_CLI (command prefix, default `docker exec redis
#   redis-cli`), DOCKER (default `docker`), REDIS_VOLUME (default redis-data), REDIS_DATA_DIR (the
#   volume's directory on the host; default asked from `docker volume inspect`), RESTIC (command
#   prefix, default `restic`), RESTIC_CACHE_DIR (default /var/cache/app-infra-backup), STATE_DIR
#   (default /var/lib/app-infra), LOCK_FILE (default /run/app-infra-backup.lock, shared with
#   restore-redis.sh), BGSAVE_TIMEOUT_S (default 900).
set -euo pipefail
umask 077

readonly NAME=app-infra-backup
readonly SNAPSHOT_FILE=redis/dump.rdb
readonly ENV_KEYS=" RESTIC_REPOSITORY KEEP_DAILY KEEP_WEEKLY STACK "
readonly SECRET_KEYS=" AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY "

say() { printf '%s: %s\n' "$NAME" "$*"; }

# Every failure goes through here (the library's load_file too): recorded for the watchdog, then
# exit 1.
die() {
  printf '%s: %s\n' "$NAME" "$*" >&2
  record failed "$*"
  exit 1
}

# record ok|failed REASON: atomic writes (temp file + rename), so the watchdog never reads half a line.
record() {
  local status=$1 reason=${2:-} now
  printf -v now '%(%s)T' -1
  mkdir -p "$STATE_DIR" 2>/dev/null || return 0
  reason=${reason//$'\n'/ }
  if printf '%s %s %s\n' "$now" "$status" "${reason:0:200}" >"$STATE_DIR/backup-last-run.tmp"; then
    mv -f "$STATE_DIR/backup-last-run.tmp" "$STATE_DIR/backup-last-run" || true
  fi
  if [[ $status == ok ]] && printf '%s\n' "$now" >"$STATE_DIR/backup-last-ok.tmp"; then
    mv -f "$STATE_DIR/backup-last-ok.tmp" "$STATE_DIR/backup-last-ok" || true
  fi
}

# load_file PATH KEYS (KEY=VALUE files, anything else is an error) and backup_paths (the
# settings files, state, lock and volume, from the environment or their defaults).
# shellcheck source-path=SCRIPTDIR source=lib/backup-settings.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/backup-settings.sh" # app-infra:inline

load_settings() {
  RESTIC_REPOSITORY="" KEEP_DAILY=7 KEEP_WEEKLY=4 STACK=""
  AWS_ACCESS_KEY_ID="" AWS_SECRET_ACCESS_KEY=""
  load_file "$BACKUP_ENV" "$ENV_KEYS"
  load_file "$BACKUP_SECRETS" "$SECRET_KEYS"
  [[ -n $RESTIC_REPOSITORY ]] || die "$BACKUP_ENV: RESTIC_REPOSITORY: should be set (e.g. s3:https://<endpoint>/<bucket>/<path>)"
  [[ $KEEP_DAILY =~ ^[0-9]+$ ]] || die "$BACKUP_ENV: KEEP_DAILY: should be a whole number (got $KEEP_DAILY)"
  [[ $KEEP_WEEKLY =~ ^[0-9]+$ ]] || die "$BACKUP_ENV: KEEP_WEEKLY: should be a whole number (got $KEEP_WEEKLY)"
  ((KEEP_DAILY + KEEP_WEEKLY > 0)) || die "$BACKUP_ENV: KEEP_DAILY + KEEP_WEEKLY: should keep at least one snapshot"
  [[ -n $AWS_ACCESS_KEY_ID && -n $AWS_SECRET_ACCESS_KEY ]] ||
    die "$BACKUP_SECRETS: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: should both be set"
  [[ -r $BACKUP_PASSWORD_FILE && -s $BACKUP_PASSWORD_FILE ]] ||
    die "$BACKUP_PASSWORD_FILE: should hold the repository password (missing or empty)"
  [[ $STACK =~ ^[A-Za-z0-9._-]*$ ]] || die "$BACKUP_ENV: STACK: should match [A-Za-z0-9._-]* (got $STACK)"
  if [[ -z $STACK ]]; then STACK=$(hostname); fi
  # restic's S3 backend reads the keys from its environment; exported here only, for restic.
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY RESTIC_CACHE_DIR
}

# rcli ARGS...: one redis-cli command in the Redis container; prints the reply without the CR.
rcli() {
  local out
  out=$(timeout 30 "${redis_cli[@]}" "$@" </dev/null) || return 1
  printf '%s\n' "${out//$'\r'/}"
}

# The value of FIELD in `INFO persistence`.
info_field() {
  local line
  while IFS= read -r line; do
    if [[ $line == "$1:"* ]]; then
      printf '%s\n' "${line#*:}"
      return 0
    fi
  done < <(rcli INFO persistence)
  return 1
}

# Takes the snapshot; sets DUMP_PATH to the host path of the finished dump.
snapshot() {
  local before now reply deadline dir dbfile
  before=$(rcli LASTSAVE) || die "redis: LASTSAVE failed (is the redis container running?)"
  [[ $before =~ ^[0-9]+$ ]] || die "redis: LASTSAVE: unexpected reply '${before:0:80}'"
  # LASTSAVE has a one-second resolution: start the save in a later second than the last one, so
  # its completion always changes the value.
  printf -v now '%(%s)T' -1
  while ((now <= before)); do
    sleep 0.2
    printf -v now '%(%s)T' -1
  done
  reply=$(rcli BGSAVE SCHEDULE) || die "redis: BGSAVE failed"
  case $reply in
    "Background saving started" | "Background saving scheduled" | *"already in progress"*) ;;
    *) die "redis: BGSAVE: ${reply:0:200}" ;;
  esac
  deadline=$((now + BGSAVE_TIMEOUT_S))
  while :; do
    now=$(rcli LASTSAVE) || die "redis: LASTSAVE failed while waiting for BGSAVE"
    if [[ $now =~ ^[0-9]+$ ]] && ((now > before)); then break; fi
    printf -v now '%(%s)T' -1
    ((now < deadline)) || die "redis: BGSAVE did not finish within ${BGSAVE_TIMEOUT_S} s"
    sleep 1
  done
  [[ $(info_field rdb_last_bgsave_status) == ok ]] || die "redis: BGSAVE finished with an error (INFO persistence: rdb_last_bgsave_status)"
  dbfile=$(rcli CONFIG GET dbfilename | sed -n 2p) || die "redis: CONFIG GET dbfilename failed"
  [[ $dbfile =~ ^[A-Za-z0-9._-]+$ ]] || die "redis: unexpected dbfilename '${dbfile:0:80}'"
  dir=$REDIS_DATA_DIR
  if [[ -z $dir ]]; then
    dir=$("${docker[@]}" volume inspect -f '{{.Mountpoint}}' "$REDIS_VOLUME" </dev/null) ||
      die "docker: cannot find the volume $REDIS_VOLUME"
  fi
  DUMP_PATH=$dir/$dbfile
  [[ -s $DUMP_PATH ]] || die "no dump at $DUMP_PATH after BGSAVE"
}

# Initialises the repository when it does not exist; any other error (a wrong password, the
# endpoint down, bad keys) fails the run, so a typo never starts a second, empty repository.
ensure_repository() {
  local err rc=0
  err=$("${restic[@]}" cat config 2>&1 >/dev/null </dev/null) || rc=$?
  if ((rc == 0)); then return 0; fi
  # restic >= 0.17 exits 10 for "repository does not exist"; 0.14 (Debian 12) and 0.16 (Ubuntu
  # 24.04) exit 1 and print this hint (restic cmd/restic/global.go, OpenRepository).
  if ((rc == 10)) || [[ $err == *"Is there a repository at the following location?"* && $err != *"wrong password"* ]]; then
    say "no repository at $RESTIC_REPOSITORY yet: initialising it"
    "${restic[@]}" init </dev/null || die "restic init failed"
    return 0
  fi
  die "restic: cannot open the repository: $(tail -n 3 <<<"$err" | tr '\n' ' ')"
}

main() {
  backup_paths
  BGSAVE_TIMEOUT_S=${BGSAVE_TIMEOUT_S:-900}
  local -a redis_cli docker restic_cmd restic
  read -ra redis_cli <<<"${REDIS_CLI:-docker exec redis redis-cli}"
  read -ra docker <<<"${DOCKER:-docker}"
  read -ra restic_cmd <<<"${RESTIC:-restic}"

  (($# == 0)) || die "takes no arguments (got: $*)"
  [[ $BGSAVE_TIMEOUT_S =~ ^[1-9][0-9]*$ ]] || die "BGSAVE_TIMEOUT_S: should be a positive integer"
  local start end
  printf -v start '%(%s)T' -1

  # One backup or restore at a time (restore-redis.sh takes the same lock).
  exec 9>"$LOCK_FILE" || die "cannot open $LOCK_FILE"
  flock -n 9 || die "another backup or restore holds $LOCK_FILE"

  load_settings
  restic=("${restic_cmd[@]}" -r "$RESTIC_REPOSITORY" --password-file "$BACKUP_PASSWORD_FILE")
  ensure_repository
  # A run killed mid-way leaves its lock behind; `unlock` removes only locks whose process is gone
  # or that are stale (restic docs, "unlock"), never a live one.
  "${restic[@]}" unlock </dev/null >/dev/null 2>&1 || true

  snapshot
  local size
  size=$(stat -c %s "$DUMP_PATH")
  # Opened once by this redirection: a later BGSAVE renames a new file over the name, and this
  # stream keeps reading the image it opened.
  "${restic[@]}" backup --stdin --stdin-filename "$SNAPSHOT_FILE" --host "$STACK" --tag redis \
    <"$DUMP_PATH" || die "restic backup failed"
  "${restic[@]}" forget --prune --host "$STACK" --tag redis \
    --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" </dev/null ||
    die "restic forget --prune failed (the snapshot itself was saved)"

  printf -v end '%(%s)T' -1
  record ok "dump ${size} bytes in $((end - start)) s"
  say "ok: $SNAPSHOT_FILE (${size} bytes) saved to $RESTIC_REPOSITORY in $((end - start)) s"
}

main "$@"

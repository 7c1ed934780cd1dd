#!/usr/bin/env bash
# app-infra Redis restore: lists the snapshots that backup-redis.sh made, or restores one into the
# `redis-data` volume with the apps and Redis stopped, then starts everything that was running.
# Installed by install-backup.sh as /usr/local/sbin/app-infra-restore-redis (the shipped text:
# lib/backup-settings.sh inlined by readScript, components/host.ts); reads the same files
# as the backup (see backup-redis.sh), so no secret is typed or passed on a command line.
#
# Usage (as root on the box, e.g. `ssh root@<ip> app-infra-restore-redis --list`):
#   restore-redis.sh --list                  the snapshots, newest last
#   restore-redis.sh latest|<snapshot-id> [--force]
#     --force  overwrite a volume that holds data. Without it, the restore refuses unless the volume
#              is empty or the running Redis holds no keys (DBSIZE 0, e.g. a volume that was
#              destroyed and re-created by `pulumi up`).
#
# Order, so a mistake stops before anything is stopped: read the snapshot (a wrong password or id
# fails here), check the volume, then stop the apps (api, bot, worker-image-*: workers get their
# stop timeout to finish the current job), stop Redis, move the old data aside to
# STATE_DIR/redis-pre-restore-<epoch> (on the same disk, for an undo by hand), write the dump both
# as dump.rdb and, with AOF on, as the AOF base (below), start Redis, wait until it answers and has
# loaded, print DBSIZE, and start the apps that were running. If a step fails after the stop,
# Redis and the apps are started again all the same, and the error says where the old data is.
#
# Why the dump becomes the AOF base: with `--appendonly yes` Redis loads only the AOF at start and
# ignores dump.rdb (redis server.c loadDataFromDisk); with no AOF present it would start empty and
# write an empty AOF. Redis >= 7 keeps the AOF as a directory whose manifest lists a base file that
# may be in RDB format ("Redis persistence", multi-part AOF), so the dump is installed as
# <appenddirname>/<appendfilename>.1.base.rdb with a one-line manifest, and Redis loads it as is.
#
# Environment (tests): as backup-redis.sh (REDIS_CLI, DOCKER, REDIS_VOLUME, REDIS_DATA_DIR,
# RESTIC, RESTIC_CACHE_DIR, STATE_DIR, LOCK_FILE, BACKUP_ENV, BACKUP_SECRETS, BACKUP_PASSWORD_FILE),
# plus APP_CONTAINERS (a regular expression of the app container names, default
# ^(api-[0-9a-f]{12}|bot|worker-image-[0-9]+)$: the API is named by its release, src/plan/release.ts),
# REDIS_CONTAINER (default redis), READY_TIMEOUT_S (default 300).
set -euo pipefail
umask 077

readonly NAME=app-infra-restore
readonly SNAPSHOT_FILE=/redis/dump.rdb
readonly ENV_KEYS=" RESTIC_REPOSITORY KEEP_DAILY KEEP_WEEKLY STACK "
readonly SECRET_KEYS=" AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY "

say() { printf '%s: %s\n' "$NAME" "$*"; }
die() {
  printf '%s: %s\n' "$NAME" "$*" >&2
  exit 1
}

# load_file PATH KEYS (KEY=VALUE files, anything else is an error) and backup_paths (the
# settings files, state, lock and volume, from the environment or their defaults).
# shellcheck source-path=SCRIPTDIR source=lib/backup-settings.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/backup-settings.sh" # app-infra:inline

load_settings() {
  # The same file as the backup's: its retention keys are accepted here and not used.
  # shellcheck disable=SC2034
  RESTIC_REPOSITORY="" KEEP_DAILY="" KEEP_WEEKLY="" STACK=""
  AWS_ACCESS_KEY_ID="" AWS_SECRET_ACCESS_KEY=""
  load_file "$BACKUP_ENV" "$ENV_KEYS"
  load_file "$BACKUP_SECRETS" "$SECRET_KEYS"
  [[ -n $RESTIC_REPOSITORY ]] || die "$BACKUP_ENV: RESTIC_REPOSITORY: should be set"
  [[ -r $BACKUP_PASSWORD_FILE ]] || die "cannot read $BACKUP_PASSWORD_FILE"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY RESTIC_CACHE_DIR
}

rcli() {
  local out
  out=$(timeout 30 "${redis_cli[@]}" "$@" </dev/null 2>/dev/null) || return 1
  printf '%s\n' "${out//$'\r'/}"
}

# The Redis persistence settings, asked from the running Redis; the image's defaults when it is
# down (e.g. its volume is gone and it keeps restarting).
redis_settings() {
  local r
  APPENDONLY=yes AOF_DIR=appendonlydir AOF_FILE=appendonly.aof DBFILE=dump.rdb
  if r=$(rcli CONFIG GET appendonly) && [[ $(sed -n 2p <<<"$r") =~ ^(yes|no)$ ]]; then
    APPENDONLY=$(sed -n 2p <<<"$r")
    r=$(rcli CONFIG GET appenddirname) && [[ -n $(sed -n 2p <<<"$r") ]] && AOF_DIR=$(sed -n 2p <<<"$r")
    r=$(rcli CONFIG GET appendfilename) && [[ -n $(sed -n 2p <<<"$r") ]] && AOF_FILE=$(sed -n 2p <<<"$r")
    r=$(rcli CONFIG GET dbfilename) && [[ -n $(sed -n 2p <<<"$r") ]] && DBFILE=$(sed -n 2p <<<"$r")
  fi
  local v
  for v in "$AOF_DIR" "$AOF_FILE" "$DBFILE"; do
    [[ $v =~ ^[A-Za-z0-9._-]+$ ]] || die "redis: unexpected persistence file name '${v:0:80}'"
  done
}

# Sets VOLUME_STATE to empty | keyless | data.
volume_state() {
  local n
  if [[ -z $(find "$DATA_DIR" -mindepth 1 -print -quit) ]]; then
    VOLUME_STATE=empty
  elif n=$(rcli DBSIZE) && [[ $n == 0 ]]; then
    VOLUME_STATE=keyless
  else
    VOLUME_STATE=data
  fi
}

# Starts Redis and the apps that were running; used on success and, best effort, after a failure.
start_all() {
  local ok=1 deadline now loading
  "${docker[@]}" start "$REDIS_CONTAINER" </dev/null >/dev/null || ok=0
  printf -v deadline '%(%s)T' -1
  deadline=$((deadline + READY_TIMEOUT_S))
  while ((ok)); do
    if [[ $(rcli PING) == PONG ]]; then
      loading=$(rcli INFO persistence | sed -n 's/^loading:\([0-9]\).*/\1/p')
      if [[ $loading == 0 ]]; then break; fi
    fi
    printf -v now '%(%s)T' -1
    if ((now >= deadline)); then
      ok=0
      break
    fi
    sleep 0.5
  done
  if ((${#stopped_apps[@]} > 0)); then
    "${docker[@]}" start "${stopped_apps[@]}" </dev/null >/dev/null || ok=0
  fi
  ((ok))
}

on_exit() {
  local rc=$?
  if [[ -n ${tmp_dump:-} ]]; then rm -f "$tmp_dump"; fi
  if ((rc != 0 && stopped)); then
    printf '%s: failed after stopping the app; starting Redis and the apps again\n' "$NAME" >&2
    if [[ -n ${aside:-} ]]; then printf '%s: the data from before the restore is in %s\n' "$NAME" "$aside" >&2; fi
    start_all || printf '%s: could not start everything again: check docker ps -a\n' "$NAME" >&2
  fi
}

main() {
  backup_paths
  REDIS_CONTAINER=${REDIS_CONTAINER:-redis}
  # A variable, since a `}` inside ${…:-…} would end the expansion early.
  local default_apps='^(api-[0-9a-f]{12}|bot|worker-image-[0-9]+)$'
  APP_CONTAINERS=${APP_CONTAINERS:-$default_apps}
  READY_TIMEOUT_S=${READY_TIMEOUT_S:-300}
  local -a redis_cli docker restic_cmd restic
  read -ra redis_cli <<<"${REDIS_CLI:-docker exec redis redis-cli}"
  read -ra docker <<<"${DOCKER:-docker}"
  read -ra restic_cmd <<<"${RESTIC:-restic}"
  stopped=0 stopped_apps=() tmp_dump="" aside=""

  local snapshot="" force=0 list=0 arg
  for arg in "$@"; do
    case $arg in
      --list) list=1 ;;
      --force) force=1 ;;
      -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d'
        return 0
        ;;
      -*) die "unknown option $arg (usage: --list | latest|<snapshot-id> [--force])" ;;
      *)
        [[ -z $snapshot ]] || die "one snapshot at a time (got $snapshot and $arg)"
        snapshot=$arg
        ;;
    esac
  done
  [[ $READY_TIMEOUT_S =~ ^[1-9][0-9]*$ ]] || die "READY_TIMEOUT_S: should be a positive integer"
  load_settings
  restic=("${restic_cmd[@]}" -r "$RESTIC_REPOSITORY" --password-file "$BACKUP_PASSWORD_FILE")

  if ((list)); then
    [[ -z $snapshot ]] || die "--list takes no snapshot"
    "${restic[@]}" snapshots --tag redis </dev/null || die "cannot list the snapshots"
    return 0
  fi
  [[ -n $snapshot ]] || die "which snapshot? (usage: --list | latest|<snapshot-id> [--force])"
  [[ $snapshot =~ ^(latest|[0-9a-f]{8,64})$ ]] || die "snapshot: should be latest or a snapshot id (got $snapshot)"

  exec 9>"$LOCK_FILE" || die "cannot open $LOCK_FILE"
  flock -n 9 || die "a backup or another restore holds $LOCK_FILE; try again when it ends"
  trap on_exit EXIT

  DATA_DIR=$REDIS_DATA_DIR
  if [[ -z $DATA_DIR ]]; then
    DATA_DIR=$("${docker[@]}" volume inspect -f '{{.Mountpoint}}' "$REDIS_VOLUME" </dev/null) ||
      die "docker: no volume $REDIS_VOLUME (run \`pulumi up\` first: it creates the volume)"
  fi
  [[ -d $DATA_DIR ]] || die "$DATA_DIR: not a directory"
  mkdir -p "$STATE_DIR"

  # 1. The dump, read before anything is stopped; next to the volume so the final move is a rename.
  tmp_dump=$(mktemp "$STATE_DIR/restore-dump.XXXXXX")
  say "reading snapshot $snapshot ($SNAPSHOT_FILE) from $RESTIC_REPOSITORY"
  if [[ $snapshot == latest ]]; then
    "${restic[@]}" dump --tag redis latest "$SNAPSHOT_FILE" >"$tmp_dump" </dev/null || die "cannot read snapshot $snapshot"
  else
    "${restic[@]}" dump "$snapshot" "$SNAPSHOT_FILE" >"$tmp_dump" </dev/null || die "cannot read snapshot $snapshot"
  fi
  [[ $(head -c 5 "$tmp_dump") == REDIS ]] || die "snapshot $snapshot: $SNAPSHOT_FILE is not a Redis dump"
  say "snapshot read: $(stat -c %s "$tmp_dump") bytes"

  # 2. The volume.
  redis_settings
  volume_state
  case $VOLUME_STATE in
    empty) say "the volume is empty" ;;
    keyless) say "the volume holds a Redis with no keys (DBSIZE 0): restoring over it" ;;
    data)
      if ((!force)); then
        die "the volume $DATA_DIR holds data (Redis DBSIZE: $(rcli DBSIZE || echo unknown)); add --force to replace it (the old data is kept aside in $STATE_DIR)"
      fi
      say "the volume holds data; --force: replacing it (the old data is kept aside)"
      ;;
  esac

  # 3. Stop the apps, then Redis.
  local name
  while IFS= read -r name; do
    if [[ $name =~ $APP_CONTAINERS ]]; then stopped_apps+=("$name"); fi
  done < <("${docker[@]}" ps --format '{{.Names}}' </dev/null)
  stopped=1
  if ((${#stopped_apps[@]} > 0)); then
    say "stopping ${stopped_apps[*]}"
    "${docker[@]}" stop "${stopped_apps[@]}" </dev/null >/dev/null || die "could not stop ${stopped_apps[*]}"
  fi
  say "stopping $REDIS_CONTAINER"
  "${docker[@]}" stop "$REDIS_CONTAINER" </dev/null >/dev/null || die "could not stop $REDIS_CONTAINER"

  # 4. Old data aside, new data in, owned like the volume's root (the redis image's user).
  printf -v aside '%s/redis-pre-restore-%(%s)T' "$STATE_DIR" -1
  mkdir -p "$aside"
  find "$DATA_DIR" -mindepth 1 -maxdepth 1 -exec mv -t "$aside" {} +
  if [[ -z $(find "$aside" -mindepth 1 -print -quit) ]]; then
    rmdir "$aside"
    aside=""
  fi
  local owner
  owner=$(stat -c %u:%g "$DATA_DIR")
  if [[ $APPENDONLY == yes ]]; then
    mkdir "$DATA_DIR/$AOF_DIR"
    cp "$tmp_dump" "$DATA_DIR/$AOF_DIR/$AOF_FILE.1.base.rdb"
    printf 'file %s.1.base.rdb seq 1 type b\n' "$AOF_FILE" >"$DATA_DIR/$AOF_DIR/$AOF_FILE.manifest"
  fi
  mv "$tmp_dump" "$DATA_DIR/$DBFILE"
  tmp_dump=""
  chown -R "$owner" "$DATA_DIR"
  chmod -R u+rwX,go-w "$DATA_DIR"

  # 5. Start again.
  say "starting $REDIS_CONTAINER"
  if ! start_all; then
    stopped=0
    die "Redis did not answer within ${READY_TIMEOUT_S} s, or an app did not start: check \`docker ps -a\`"
  fi
  stopped=0
  if [[ -n $aside ]]; then say "the data from before the restore is in $aside (delete it when satisfied)"; fi
  say "restored snapshot $snapshot: DBSIZE $(rcli DBSIZE); started ${stopped_apps[*]:-no apps}"
}

main "$@"

#!/usr/bin/env bash
# app-infra watchdog: one check of the host and the app, started every minute by
# app-infra-watchdog.timer (Type=oneshot, no daemon). It reads memory, swap, CPU, the RQ queue,
# Redis memory, API health latency through the edge proxy and its certificate's expiry, disk usage,
# the Redis backup's age and outcome, and container OOM kills/crashes, keeps a little state per
# alert in STATE_DIR, sends alerts to Telegram and/or a webhook, pings an outside heartbeat, and
# logs one line per run.
# The thresholds and the advice come from the operator's sizing note ("Monitoring" section):
# memory > 95 % critical, swap > 50 % needs more RAM, queue > 100 needs more workers,
# CPU > 90 % needs more CPU, API response < 2 s.
#
# Usage:
#   watchdog.sh           check, update alert state, deliver alerts, log one line (exit 0 unless
#                         the state directory is unusable; a failed delivery never fails the run)
#   watchdog.sh --status  print the readings and thresholds as a table; changes no state, sends nothing
#
# Cost: bash (the /proc files are read with builtins), coreutils' timeout, curl, openssl for an
# https API's certificate; redis-cli through REDIS_CLI (`docker exec`) and the docker CLI for
# `inspect` and `events`, one call each, plus one `ps` per @role entry. No python, nothing stays
# running. Helpers return through REPLY rather than $(…) to save forks.
#
# Settings. A variable set in the environment wins over the same key in the files; the files win
# over the defaults. Files are KEY=VALUE lines (# comments, optional quotes), parsed, never sourced.
#   WATCHDOG_ENV      thresholds file (default /etc/app-infra/watchdog.env, 0600)
#   WATCHDOG_SECRETS  secrets file (default /etc/app-infra/watchdog.secrets, 0600) holding only
#                     TELEGRAM_BOT_TOKEN, WEBHOOK_URL and HEARTBEAT_URL (a healthchecks.io-style
#                     push URL: GET after every check run, <url>/fail when the run itself failed)
#   Keys of the thresholds file (defaults in DEFAULTS below, generated from src/plan/watchdog.ts):
#     MEMORY_PERCENT SWAP_PERCENT CPU_PERCENT QUEUE_LENGTH API_LATENCY_MS REDIS_MEMORY_PERCENT
#     FOR_MINUTES      a condition must hold this long (consecutive runs) before it fires; 0 = at once
#     REPEAT_MINUTES   re-send a firing alert at most this often while it holds; 0 = never repeat
#     QUEUE_NAME STACK STAGE WORKERS TELEGRAM_CHAT_ID TELEGRAM_API_BASE
#     API_HEALTH_URL   GET through the edge proxy, as users get it; empty = no API check
#     API_CONNECT_TO   connect there whatever the URL's host resolves to (curl --connect-to), so
#                      the URL can name the domain (Host header, TLS name) without the box's DNS
#     CERT_MIN_DAYS    with an https API_HEALTH_URL: alert "cert" when the served certificate has
#                      fewer days left (read from the same request, curl's %{certs}, and openssl)
#     SCALE_UP_MEMORY, SCALE_UP_CPU  the advice for memory/swap and CPU alerts: the setting that gets
#                      a bigger server on the catalog of the last deploy, with its type, price and
#                      command (the program computes it; the default only names the key)
#     CONTAINERS       space-separated container names, each optionally `name=service` to name its
#                      memory key (KEY_MEMORY_MB) in advice (default: the name minus a trailing -N);
#                      `@role` or `@role=service` (default service: the role) stands for every
#                      container labelled ROLE_LABEL=role and STACK_LABEL=$STACK, listed each run
#                      (the API: its name changes every release, and two run during a switch)
#     REDIS_CLI        command prefix that runs redis-cli and passes stdin (default
#                      `docker exec -i redis redis-cli`)
#     INTERVAL_S       the timer's interval (used to label the CPU average)
#     DISK_PERCENT, DISK_PATHS  alert "disk" when a path's filesystem (`df -P`) is fuller; paths
#                      that do not exist are skipped
#     BACKUP_MAX_AGE_H, BACKUP_STATE_DIR  0 = backups off; else alert "backup-age" when the last
#                      successful backup (BACKUP_STATE_DIR/backup-last-ok) is older than this, and
#                      "backup-failed" while the last run (backup-last-run) failed
#   Stage 4 (a Swarm; each node runs its own watchdog):
#     NODE_NAME        this node's name (core, worker-1, …): every alert, webhook body and log line
#                      names it
#     TASKS            the Swarm services whose tasks run on this node, `name=service:count` each
#                      (`service` names the memory key; `count` the tasks expected here): alert
#                      "tasks_<name>" while fewer run, "task-crash_<name>" at once on a task's OOM
#                      kill or crash (docker events, by the service label Swarm puts on its tasks)
#     SWARM_NODES      on the manager (the core node): the nodes the swarm should have, itself
#                      included; alert "swarm-nodes" while fewer are ready, naming the nodes that are
#                      down or have left; 0 = no check
#     WORKERS_KEY      the config key the queue alert's advice raises (workers, or workerNodes)
#     A word `@name` in REDIS_CLI stands for the running task container of Swarm service `name`.
#   Environment only (tests, tuning): PROC_ROOT (default /proc), STATE_DIR (default
#     /var/lib/app-infra-watchdog), NOW_EPOCH (the clock for alert timing), CPU_SAMPLE_S (gap
#     between the two samples of a first run, default 1).
#
# Secrets never reach a command line or a log: curl gets the Telegram URL (which carries the bot
# token) and the webhook URL from a config read on its stdin (`--config -`), not from its argv.
#
# State (STATE_DIR, 0700): cpu (previous /proc/stat totals), alert-<key> (one small file per
# alert), container-<name> (last restart count), docker-events.since (real clock of the last run),
# labelled-<role> (the containers an @role entry found last run, to tell a removed one),
# task-events.since (TASKS' events window), swarm-nodes (the node names the manager has listed).
set -euo pipefail
umask 077
# Times in alerts are UTC whatever the host's zone; bash's printf %()T reads the exported TZ.
export TZ=UTC

readonly WATCHDOG_NAME=app-infra-watchdog
# Timer jitter: runs are ~60 s apart but can land a second early; without slack a 5-minute
# condition observed at t0 and t0+299 s would wait a whole extra run.
readonly JITTER_S=5
readonly DELIVERY_TIMEOUT_S=10

# The keys, their defaults, which are whole numbers and the config keys the advice names come from
# the program's tables, so the script cannot drift from the file the program writes or from the
# stack's config keys; edit the tables, not these lines.
# BEGIN settings generated from src/plan/watchdog.ts (WATCHDOG_SETTINGS)
declare -A DEFAULTS=(
  [STACK]="" [STAGE]="" [MEMORY_PERCENT]="95" [SWAP_PERCENT]="50" [CPU_PERCENT]="90"
  [QUEUE_LENGTH]="100" [API_LATENCY_MS]="2000" [REDIS_MEMORY_PERCENT]="90" [FOR_MINUTES]="5"
  [REPEAT_MINUTES]="60" [QUEUE_NAME]="img_queue" [API_HEALTH_URL]="" [WORKERS]="" [INTERVAL_S]="60"
  [CONTAINERS]="" [DISK_PERCENT]="85" [DISK_PATHS]="/ /var/lib/docker" [BACKUP_MAX_AGE_H]="0"
  [BACKUP_STATE_DIR]="/var/lib/app-infra" [API_CONNECT_TO]="" [CERT_MIN_DAYS]="14"
  [TELEGRAM_CHAT_ID]=""
  [SCALE_UP_MEMORY]="raise server/memoryGb for more RAM (npm run plan shows the next size up and its price)"
  [SCALE_UP_CPU]="raise server/cores for more vCPUs (npm run plan shows the next size up and its price)"
  [TELEGRAM_API_BASE]="https://api.telegram.org" [REDIS_CLI]="docker exec -i redis redis-cli"
  [NODE_NAME]="" [TASKS]="" [SWARM_NODES]="0" [WORKERS_KEY]="workers"
)
readonly INT_KEYS=" STAGE MEMORY_PERCENT SWAP_PERCENT CPU_PERCENT QUEUE_LENGTH API_LATENCY_MS REDIS_MEMORY_PERCENT FOR_MINUTES REPEAT_MINUTES WORKERS INTERVAL_S DISK_PERCENT BACKUP_MAX_AGE_H CERT_MIN_DAYS SWARM_NODES "
readonly SECRET_KEYS=" TELEGRAM_BOT_TOKEN WEBHOOK_URL HEARTBEAT_URL "
readonly KEY_MEMORY_MB="services/<service>/memoryMb"
readonly STACK_LABEL="app-infra.stack" ROLE_LABEL="app-infra.role"
# END settings generated from src/plan/watchdog.ts

warn() { printf '%s: %s\n' "$WATCHDOG_NAME" "$*" >&2; }

# Remember which keys the environment set, so the files do not override them.
declare -A FROM_ENV=()
for key in "${!DEFAULTS[@]}" $SECRET_KEYS; do
  if [[ -n ${!key+x} ]]; then FROM_ENV[$key]=1; fi
done

# load_file PATH LABEL KIND: KIND "env" accepts the DEFAULTS keys, "secrets" only SECRET_KEYS.
load_file() {
  local path=$1 label=$2 kind=$3 line key value n=0
  if [[ ! -e $path ]]; then return 0; fi
  if [[ ! -r $path ]]; then warn "$label: cannot read $path"; return 0; fi
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line=${line%$'\r'}
    if [[ $line =~ ^[[:space:]]*(#|$) ]]; then continue; fi
    if [[ ! $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Z_][A-Z0-9_]*)=(.*)$ ]]; then
      warn "$label:$n: should be KEY=VALUE (line ignored)"
      continue
    fi
    key=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    if [[ $kind == secrets ]]; then
      if [[ $SECRET_KEYS != *" $key "* ]]; then warn "$label: $key: not a secret key (ignored)"; continue; fi
    elif [[ $SECRET_KEYS == *" $key "* ]]; then
      warn "$label: $key: belongs in the secrets file (ignored)"; continue
    elif [[ -z ${DEFAULTS[$key]+x} ]]; then
      warn "$label: $key: unknown key (ignored)"; continue
    fi
    if [[ -z ${FROM_ENV[$key]+x} ]]; then printf -v "$key" '%s' "$value"; fi
  done <"$path"
}

load_settings() {
  local key fallback
  load_file "${WATCHDOG_ENV:-/etc/app-infra/watchdog.env}" watchdog.env env
  load_file "${WATCHDOG_SECRETS:-/etc/app-infra/watchdog.secrets}" watchdog.secrets secrets
  for key in "${!DEFAULTS[@]}"; do
    if [[ -z ${!key+x} ]]; then printf -v "$key" '%s' "${DEFAULTS[$key]}"; fi
  done
  : "${TELEGRAM_BOT_TOKEN:=}" "${WEBHOOK_URL:=}" "${HEARTBEAT_URL:=}"
  : "${PROC_ROOT:=/proc}" "${STATE_DIR:=/var/lib/app-infra-watchdog}" "${CPU_SAMPLE_S:=1}"
  if [[ ! ${NOW_EPOCH:-} =~ ^[0-9]+$ ]]; then
    if [[ -n ${NOW_EPOCH:-} ]]; then warn "NOW_EPOCH: should be seconds since 1970 (got $NOW_EPOCH), using the clock"; fi
    printf -v NOW_EPOCH '%(%s)T' -1
  fi
  for key in $INT_KEYS CPU_SAMPLE_S; do
    if [[ -n ${!key} && ! ${!key} =~ ^[0-9]+$ ]]; then
      fallback=${DEFAULTS[$key]-1}
      warn "$key: should be a whole number (got ${!key}), using ${fallback:-none}"
      printf -v "$key" '%s' "$fallback"
    fi
  done
  if [[ ! $QUEUE_NAME =~ ^[A-Za-z0-9_.:-]+$ ]]; then
    warn "QUEUE_NAME: should match [A-Za-z0-9_.:-]+ (got $QUEUE_NAME), using ${DEFAULTS[QUEUE_NAME]}"
    QUEUE_NAME=${DEFAULTS[QUEUE_NAME]}
  fi
  TELEGRAM_API_BASE=${TELEGRAM_API_BASE%/}
  # A host name or address (IPv6 in brackets) for curl's --connect-to; anything else would change
  # the meaning of that option's colon-separated value.
  if [[ -n $API_CONNECT_TO && ! $API_CONNECT_TO =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$ ]]; then
    warn "API_CONNECT_TO: should be a host name or address, IPv6 in brackets (got $API_CONNECT_TO), using none"
    API_CONNECT_TO=""
  fi
}

# ---------------------------------------------------------------- measurements
# Each sets globals; an empty value means "not available" and never fires an alert.

read_memory() {
  MEM_PCT="" SWAP_PCT="" MEM_USED_MB="" MEM_TOTAL_MB="" SWAP_USED_MB="" SWAP_TOTAL_MB=""
  local k v rest t="" a="" st=0 sf=0
  if [[ ! -r $PROC_ROOT/meminfo ]]; then return 0; fi
  while read -r k v rest; do
    case $k in
      MemTotal:) t=$v ;; MemAvailable:) a=$v ;; SwapTotal:) st=$v ;; SwapFree:) sf=$v ;;
    esac
  done <"$PROC_ROOT/meminfo"
  if [[ ! $t =~ ^[0-9]+$ || ! $a =~ ^[0-9]+$ || ! $st$sf =~ ^[0-9]+$ ]] || ((t == 0)); then return 0; fi
  MEM_PCT=$((((t - a) * 100 + t / 2) / t)) SWAP_PCT=0
  if ((st > 0)); then SWAP_PCT=$((((st - sf) * 100 + st / 2) / st)); fi
  MEM_USED_MB=$(((t - a + 512) / 1024)) MEM_TOTAL_MB=$(((t + 512) / 1024))
  SWAP_USED_MB=$(((st - sf + 512) / 1024)) SWAP_TOTAL_MB=$(((st + 512) / 1024))
}

# Sets CPU_T (all jiffies: user..steal; guest time is already inside user) and CPU_I (idle + iowait)
# from the aggregate line; both empty when unreadable.
cpu_totals() {
  local name u n sy id io irq sirq steal rest
  CPU_T="" CPU_I=""
  if [[ ! -r $PROC_ROOT/stat ]]; then return 0; fi
  read -r name u n sy id io irq sirq steal rest <"$PROC_ROOT/stat" || true
  if [[ $name != cpu || ! $u$n$sy$id$io$irq$sirq${steal:-0} =~ ^[0-9]+$ ]]; then return 0; fi
  CPU_T=$((u + n + sy + id + io + irq + sirq + ${steal:-0})) CPU_I=$((id + io))
}

# CPU busy % averaged since the previous run (its totals are kept in STATE_DIR/cpu), so a
# one-second spike does not fire and a busy minute is not missed between two samples.
# MODE "check" saves the new totals; "status" only reads them.
read_cpu() {
  local mode=$1 t i pt=0 pi=0 pe=0 dt di
  CPU_PCT="" CPU_WINDOW_S=""
  cpu_totals
  if [[ -z $CPU_T ]]; then return 0; fi
  t=$CPU_T i=$CPU_I
  if [[ -r $STATE_DIR/cpu ]]; then read -r pt pi pe <"$STATE_DIR/cpu" || true; fi
  if [[ ! $pt =~ ^[0-9]+$ || ! $pi =~ ^[0-9]+$ || ! ${pe:-x} =~ ^[0-9]+$ ]]; then pt=0 pi=0 pe=0; fi
  # No previous run, counters reset by a reboot, or (status) a stale state: sample twice.
  if ((pt == 0 || t < pt)) || [[ $mode == status && $((NOW_EPOCH - pe)) -gt $((INTERVAL_S * 3)) ]]; then
    pt=$t pi=$i pe=$NOW_EPOCH
    sleep "$CPU_SAMPLE_S"
    cpu_totals
    t=${CPU_T:-$t} i=${CPU_I:-$i}
    CPU_WINDOW_S=$CPU_SAMPLE_S
  else
    CPU_WINDOW_S=$((NOW_EPOCH - pe))
  fi
  dt=$((t - pt)) di=$((i - pi))
  if ((dt > 0)); then CPU_PCT=$((((dt - di) * 100 + dt / 2) / dt)); else CPU_PCT=0; fi
  if [[ $mode == check ]]; then printf '%s %s %s\n' "$t" "$i" "$NOW_EPOCH" >"$STATE_DIR/cpu"; fi
}

# One redis-cli call for both readings: the default prefix is `docker exec -i`, and each docker
# CLI start costs ~24 MB RSS and ~0.1 s, so the commands go on stdin.
read_redis() {
  QUEUE_LEN="" REDIS_MEM_PCT="" REDIS_USED_MB="" REDIS_MAX_MB=""
  local -a cmd
  local out line first=1 used="" max=""
  read -ra cmd <<<"$REDIS_CLI"
  if ((${#cmd[@]} == 0)); then return 0; fi
  local i
  for i in "${!cmd[@]}"; do
    if [[ ${cmd[i]} == @* ]]; then
      task_container "${cmd[i]#@}"
      if [[ -z $REPLY ]]; then return 0; fi
      cmd[i]=$REPLY
    fi
  done
  out=$(timeout 5 "${cmd[@]}" 2>/dev/null <<<"LLEN rq:queue:$QUEUE_NAME"$'\n'"INFO memory") || true
  while IFS= read -r line; do
    line=${line%$'\r'}
    if ((first)); then
      first=0
      if [[ $line =~ ^[0-9]+$ ]]; then QUEUE_LEN=$line; fi
      continue
    fi
    case $line in
      used_memory:*) used=${line#*:} ;;
      maxmemory:*) max=${line#*:} ;;
    esac
  done <<<"$out"
  if [[ $used =~ ^[0-9]+$ ]]; then REDIS_USED_MB=$(((used + 524288) / 1048576)); fi
  if [[ $used =~ ^[0-9]+$ && $max =~ ^[0-9]+$ ]] && ((max > 0)); then
    REDIS_MEM_PCT=$(((used * 100 + max / 2) / max))
    REDIS_MAX_MB=$(((max + 524288) / 1048576))
  fi
}

# API health latency; a failed request (refused, timeout, HTTP >= 400) counts as over the threshold.
# API_CONNECT_TO sends the request to that address whatever the URL's host resolves to (curl
# --connect-to, the URL's port kept): the URL names the domain, so the Host header and the TLS name
# (SNI, certificate check) are what users send, while the box's own resolver is left out of it.
# For an https URL the same request also brings the served certificate (read_cert).
read_api() {
  API_MS="" API_FAIL="" CERT_END_EPOCH="" CERT_HOST=""
  if [[ -z $API_HEALTH_URL ]]; then return 0; fi
  # Let a slow answer arrive (and be reported with its latency) rather than time out at the threshold.
  local max_s=$(((API_LATENCY_MS + 999) / 1000 + 1)) out rc=0 code t s frac fmt='%{http_code} %{time_total}'
  local -a opts=(-s -o /dev/null --max-time "$max_s")
  if [[ -n $API_CONNECT_TO ]]; then opts+=(--connect-to "::$API_CONNECT_TO:"); fi
  if [[ $API_HEALTH_URL == https://* ]]; then fmt+='\n%{certs}'; fi
  out=$(curl "${opts[@]}" -w "$fmt" "$API_HEALTH_URL" 2>/dev/null) || rc=$?
  read -r code t <<<"${out%%$'\n'*}" || true
  if [[ ${t:-} =~ ^([0-9]+)[.,]?([0-9]*)$ ]]; then
    s=${BASH_REMATCH[1]} frac="${BASH_REMATCH[2]}000"
    API_MS=$((10#$s * 1000 + 10#${frac:0:3}))
  fi
  case $rc in
    0) if [[ ! ${code:-} =~ ^[23][0-9][0-9]$ ]]; then API_FAIL="HTTP ${code:-?}"; fi ;;
    28) API_FAIL="timeout after ${max_s} s" ;;
    7) API_FAIL="connection refused" ;;
    35) API_FAIL="TLS handshake failed" ;;
    60) API_FAIL="certificate not accepted (untrusted, expired or for another name)" ;;
    *) API_FAIL="curl exit $rc" ;;
  esac
  if [[ $API_HEALTH_URL == https://* ]]; then
    CERT_HOST=${API_HEALTH_URL#https://} CERT_HOST=${CERT_HOST%%[/:?#]*}
    if [[ $out == *$'\n'* ]]; then out=${out#*$'\n'}; else out=""; fi
    read_cert "$out" "$rc" "${opts[@]}"
  fi
}

# read_cert CERTS RC CURL_OPTS...: sets CERT_END_EPOCH to the served certificate's notAfter, empty
# when it cannot be read. CERTS is curl's %{certs} (curl 7.88.0 or later, docs/cmdline-opts/
# write-out.md: Debian 12 ships 7.88.1, Ubuntu 24.04 8.5.0): the chain, the server's own first, each
# as details and PEM. The details' layout differs between TLS backends and curl versions, the PEM does
# not, so openssl reads the date from the PEM. curl returns no chain for a certificate it refused
# (curl exit 60: expired, or another name), which is when the date matters most: then one more
# request without verification (-k) only to read it.
read_cert() {
  local certs=$1 rc=$2 end
  shift 2
  first_pem "$certs"
  if [[ -z $REPLY && $rc != 0 ]]; then
    certs=$(curl "$@" -k -w '%{certs}' "$API_HEALTH_URL" 2>/dev/null) || true
    first_pem "$certs"
  fi
  if [[ -z $REPLY ]] || ! command -v openssl >/dev/null 2>&1; then return 0; fi
  end=$(openssl x509 -noout -enddate 2>/dev/null <<<"$REPLY") || return 0
  if openssl_date_epoch "${end#notAfter=}"; then CERT_END_EPOCH=$REPLY; fi
}

# first_pem TEXT: sets REPLY to the first PEM certificate in TEXT, empty if there is none.
first_pem() {
  local line inside=0
  REPLY=""
  while IFS= read -r line; do
    line=${line%$'\r'}
    if [[ $line == *"-----BEGIN CERTIFICATE-----" ]]; then inside=1 REPLY="-----BEGIN CERTIFICATE-----"$'\n'; continue; fi
    if ((inside)); then
      REPLY+="$line"$'\n'
      if [[ $line == "-----END CERTIFICATE-----" ]]; then return 0; fi
    fi
  done <<<"$1"
  REPLY=""
}

# openssl_date_epoch "Dec  1 23:56:17 2026 GMT": sets REPLY to seconds since 1970, the calendar
# arithmetic done in bash (days from the civil date, H. Hinnant's algorithm) instead of a `date -d`
# fork every minute. Returns 1 on anything else; openssl prints notAfter in this form, always GMT.
openssl_date_epoch() {
  local months=JanFebMarAprMayJunJulAugSepOctNovDec y m d era yoe doy doe
  if [[ ! $1 =~ ^([A-Z][a-z][a-z])\ +([0-9]{1,2})\ ([0-9]{2}):([0-9]{2}):([0-9]{2})\ ([0-9]{4})\ GMT$ ]]; then return 1; fi
  m=${months%%"${BASH_REMATCH[1]}"*}
  if ((${#m} == ${#months})); then return 1; fi
  m=$((${#m} / 3 + 1)) d=$((10#${BASH_REMATCH[2]})) y=$((10#${BASH_REMATCH[6]}))
  if ((m <= 2)); then y=$((y - 1)); fi
  era=$((y / 400)) yoe=$((y % 400))
  doy=$(((153 * ((m + 9) % 12) + 2) / 5 + d - 1))
  doe=$((yoe * 365 + yoe / 4 - yoe / 100 + doy))
  REPLY=$((((era * 146097 + doe - 719468) * 24 + 10#${BASH_REMATCH[3]}) * 3600 + 10#${BASH_REMATCH[4]} * 60 + 10#${BASH_REMATCH[5]}))
}

# labelled_entry ROLE[=SERVICE]: appends the containers labelled ROLE_LABEL=ROLE (and STACK_LABEL=
# STACK when STACK is set) to CT_NAMES, newest first; remembers the names the last check run saw
# (STATE_DIR/labelled-ROLE) in LABEL_PREV. When docker cannot list them, those names stand in, so a
# Docker outage shows them as missing instead of forgetting them. Returns 1 for a malformed entry.
declare -A LABEL_PREV=() LABEL_LISTED=()
labelled_entry() {
  local role=${1%%=*} service=${1#*=} out line prev="" listed=1
  if [[ ! $role =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ || ! $service =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
    warn "CONTAINERS: @$1: should be @role or @role=service (ignored)"
    return 1
  fi
  if [[ -r $STATE_DIR/labelled-$role ]]; then
    while IFS= read -r line; do
      if [[ $line =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then prev+="$line"$'\n'; fi
    done <"$STATE_DIR/labelled-$role"
  fi
  local -a filters=(--filter "label=$ROLE_LABEL=$role")
  if [[ -n $STACK ]]; then filters+=(--filter "label=$STACK_LABEL=$STACK"); fi
  if ! out=$(timeout 5 docker ps -a "${filters[@]}" --format '{{.Names}}' 2>/dev/null); then
    out=$prev listed=0
  fi
  LABEL_PREV[$role]=$prev LABEL_LISTED[$role]=$listed
  while IFS= read -r line; do
    if [[ ! $line =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then continue; fi
    CT_NAMES+=("$line") CT_SERVICE+=("$service") CT_GROUP+=("$role")
  done <<<"$out"
}

# Containers: `docker inspect` for status, OOMKilled and RestartCount; `docker events` since the
# last run for OOM kills and exit codes. Docker clears OOMKilled when the restart policy starts the
# container again, and an RQ worker with --max-jobs exits 0 and is restarted by design, so a bare
# RestartCount increase is only an alert when the events cannot tell a clean exit from a crash.
# A die that follows a kill event is a `docker stop`/`kill` (a deploy, an operator), not a crash.
# An `@role[=service]` entry stands for every container labelled with that role and this STACK,
# listed afresh each run (`docker ps -a`): the API's name changes with every release and two run
# during a switch. Such a container is watched like a named one while it exists; once a deploy has
# removed it, it is dropped (run_checks: labelled_gone) rather than reported missing.
read_containers() {
  local mode=$1 name status oom restarts code action since="" real_now events_ok=0 out ev
  CT_NAMES=() CT_SERVICE=() CT_STATUS=() CT_OOM=() CT_RESTARTS=() CT_CODE=() CT_OOM_EVENTS=() CT_CRASHES=() CT_CRASH_CODE=()
  CT_GROUP=()
  CT_EVENTS_OK=0
  CT_SKIP=""
  LABEL_PREV=() LABEL_LISTED=()
  if [[ -z $CONTAINERS ]]; then CT_SKIP="no CONTAINERS"; return 0; fi
  if ! command -v docker >/dev/null 2>&1; then CT_SKIP="no docker"; return 0; fi
  local -a entries
  local entry entries_ok=0
  read -ra entries <<<"$CONTAINERS"
  for entry in "${entries[@]}"; do
    if [[ $entry == @* ]]; then
      labelled_entry "${entry#@}" && entries_ok=1
      continue
    fi
    name=${entry%%=*}
    if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then warn "CONTAINERS: $entry: not a container name (ignored)"; continue; fi
    CT_NAMES+=("$name") CT_GROUP+=("") entries_ok=1
    if [[ $entry == *=* ]]; then
      CT_SERVICE+=("${entry#*=}")
    elif [[ $name =~ ^(.+)-[0-9]+$ ]]; then
      CT_SERVICE+=("${BASH_REMATCH[1]}")
    else
      CT_SERVICE+=("$name")
    fi
  done
  if ((!entries_ok)); then CT_SKIP="no CONTAINERS"; return 0; fi
  if ((${#CT_NAMES[@]} == 0)); then return 0; fi
  local -A by_name=() oom_events=() crashes=() crash_code=() killed=()
  out=$(timeout 5 docker inspect --format \
    '{{.Name}}|{{.State.Status}}|{{.State.OOMKilled}}|{{.RestartCount}}|{{.State.ExitCode}}' \
    "${CT_NAMES[@]}" 2>/dev/null) || true
  while IFS='|' read -r name status oom restarts code; do
    if [[ -n $name ]]; then by_name[${name#/}]="$status|$oom|$restarts|$code"; fi
  done <<<"$out"
  # The events window uses the real clock even when NOW_EPOCH is overridden: docker waits for --until.
  printf -v real_now '%(%s)T' -1
  if [[ -r $STATE_DIR/docker-events.since ]]; then read -r since <"$STATE_DIR/docker-events.since" || true; fi
  if [[ $since =~ ^[0-9]+$ ]] && ((since == real_now)); then
    events_ok=1 # the window is empty; its second is the start of the next run's window
  elif [[ $since =~ ^[0-9]+$ ]] && ((since < real_now)); then
    local -a filters=(--filter type=container --filter event=die --filter event=oom --filter event=kill)
    for name in "${CT_NAMES[@]}"; do filters+=(--filter "container=$name"); done
    if ev=$(timeout 5 docker events --since "$since" --until "$real_now" "${filters[@]}" \
      --format '{{.Actor.Attributes.name}}|{{.Action}}|{{index .Actor.Attributes "exitCode"}}' 2>/dev/null); then
      events_ok=1
      while IFS='|' read -r name action code; do
        case $action in
          oom) oom_events[$name]=$((${oom_events[$name]:-0} + 1)) ;;
          kill) killed[$name]=1 ;;
          die)
            if [[ -n ${killed[$name]:-} ]]; then
              unset "killed[$name]"
            elif [[ $code =~ ^[0-9]+$ ]] && ((code != 0)); then
              crashes[$name]=$((${crashes[$name]:-0} + 1)) crash_code[$name]=$code
            fi
            ;;
        esac
      done <<<"$ev"
    fi
  fi
  if [[ $mode == check ]]; then printf '%s\n' "$real_now" >"$STATE_DIR/docker-events.since"; fi
  CT_EVENTS_OK=$events_ok
  local i
  for i in "${!CT_NAMES[@]}"; do
    name=${CT_NAMES[$i]}
    IFS='|' read -r status oom restarts code <<<"${by_name[$name]:-missing|false||}"
    CT_STATUS[i]=$status CT_OOM[i]=$oom CT_RESTARTS[i]=$restarts CT_CODE[i]=$code
    CT_OOM_EVENTS[i]=${oom_events[$name]:-0} CT_CRASHES[i]=${crashes[$name]:-0} CT_CRASH_CODE[i]=${crash_code[$name]:-}
  done
}

# ---------------------------------------------------------------- Swarm (stage 4)

# The label Swarm puts on every task's container: the service's name.
readonly SWARM_SERVICE_LABEL=com.docker.swarm.service.name

# task_container NAME: sets REPLY to a running task container of Swarm service NAME on this node
# (of this STACK when STACK is set), empty if none runs.
task_container() {
  local -a filters=(--filter "label=$SWARM_SERVICE_LABEL=$1")
  if [[ -n $STACK ]]; then filters+=(--filter "label=$STACK_LABEL=$STACK"); fi
  REPLY=$(timeout 5 docker ps -q "${filters[@]}" 2>/dev/null) || REPLY=""
  REPLY=${REPLY%%$'\n'*}
}

# TASKS: the tasks each listed service runs on this node (one `docker ps` for all, running only: a
# Swarm task is never restarted, a failed one is replaced by a new container while the old one
# stays listed as exited until Swarm's task history drops it) and their OOM kills and crashes since
# the last run (one `docker events`, by the service label rather than by container names that
# change with every task). As for containers, a die after a kill event is a stop (a deploy, a
# drain), not a crash. Sets TK_NAMES/TK_SERVICE/TK_WANT/TK_RUNNING/TK_OOM/TK_CRASHES/TK_CRASH
# (per index), TK_SKIP when nothing could be read.
read_tasks() {
  local mode=$1 entry name out line since="" real_now ev action code task events_ok=1
  TK_NAMES=() TK_SERVICE=() TK_WANT=() TK_RUNNING=() TK_OOM=() TK_CRASHES=() TK_CRASH=() TK_SKIP=""
  if [[ -z $TASKS ]]; then return 0; fi
  if ! command -v docker >/dev/null 2>&1; then TK_SKIP="no docker"; return 0; fi
  for entry in $TASKS; do
    if [[ ! $entry =~ ^([A-Za-z0-9][A-Za-z0-9_.-]*)=([A-Za-z0-9][A-Za-z0-9_.-]*):([0-9]+)$ ]]; then
      warn "TASKS: $entry: should be name=service:count (ignored)"
      continue
    fi
    TK_NAMES+=("${BASH_REMATCH[1]}") TK_SERVICE+=("${BASH_REMATCH[2]}") TK_WANT+=("${BASH_REMATCH[3]}")
  done
  if ((${#TK_NAMES[@]} == 0)); then TK_SKIP="no TASKS"; return 0; fi
  local -a filters=(--filter "label=$SWARM_SERVICE_LABEL")
  if [[ -n $STACK ]]; then filters+=(--filter "label=$STACK_LABEL=$STACK"); fi
  local -A running=() oom=() crashes=() crash=() killed=()
  if ! out=$(timeout 5 docker ps "${filters[@]}" --format "{{.Label \"$SWARM_SERVICE_LABEL\"}}" 2>/dev/null); then
    TK_SKIP="docker ps failed"
  fi
  while IFS= read -r line; do
    if [[ -n $line ]]; then running[$line]=$((${running[$line]:-0} + 1)); fi
  done <<<"$out"
  printf -v real_now '%(%s)T' -1
  if [[ -r $STATE_DIR/task-events.since ]]; then read -r since <"$STATE_DIR/task-events.since" || true; fi
  if [[ $since =~ ^[0-9]+$ ]] && ((since < real_now)); then
    if ev=$(timeout 5 docker events --since "$since" --until "$real_now" --filter type=container \
      --filter event=die --filter event=oom --filter event=kill "${filters[@]}" \
      --format "{{index .Actor.Attributes \"$SWARM_SERVICE_LABEL\"}}|{{.Action}}|{{index .Actor.Attributes \"exitCode\"}}|{{.Actor.Attributes.name}}" 2>/dev/null); then
      while IFS='|' read -r name action code task; do
        case $action in
          oom) oom[$name]=$((${oom[$name]:-0} + 1)) crash[$name]=$task killed[$task]=oom ;;
          kill) killed[$task]=1 ;;
          die)
            # After a kill (a stop) or an OOM kill (counted as that): no crash of its own.
            if [[ -n ${killed[$task]:-} ]]; then
              unset "killed[$task]"
            elif [[ $code =~ ^[0-9]+$ ]] && ((code != 0)); then
              crashes[$name]=$((${crashes[$name]:-0} + 1))
              if [[ -z ${oom[$name]:-} ]]; then crash[$name]="$task|$code"; fi
            fi
            ;;
        esac
      done <<<"$ev"
    else
      events_ok=0
    fi
  fi
  # A failed read keeps its window for the next run: unlike the containers' restart counts, nothing
  # else would tell of a task's OOM kill or crash in it (Swarm replaces the task).
  if [[ $mode == check ]] && ((events_ok)); then printf '%s\n' "$real_now" >"$STATE_DIR/task-events.since"; fi
  local i
  for i in "${!TK_NAMES[@]}"; do
    name=${TK_NAMES[$i]}
    TK_RUNNING[i]=${running[$name]:-0} TK_OOM[i]=${oom[$name]:-0} TK_CRASHES[i]=${crashes[$name]:-0}
    TK_CRASH[i]=${crash[$name]:-}
  done
  if [[ -n $TK_SKIP ]]; then TK_RUNNING=(); fi
}

# SWARM_NODES: the swarm's nodes as the manager sees them. Sets SW_READY (how many are ready),
# SW_BAD ("name (status)" of the listed nodes that are not ready: down, unknown, disconnected),
# SW_GONE (the nodes a whole swarm had, remembered in STATE_DIR/swarm-nodes, that are no longer
# listed: removed by hand, or a server that was deleted), SW_FAIL when the list cannot be read (this
# node is no manager, or dockerd is down). A node the program removes on purpose leaves in a deploy
# that lowers SWARM_NODES too, so the swarm is whole again and the list is remembered afresh.
read_swarm() {
  local mode=$1 out line name status listed="" prev=""
  SW_READY="" SW_BAD="" SW_GONE="" SW_FAIL=""
  if ((SWARM_NODES == 0)); then return 0; fi
  if ! out=$(timeout 10 docker node ls --format '{{.Hostname}}|{{.Status}}' 2>&1); then
    SW_FAIL=${out%%$'\n'*} SW_FAIL=${SW_FAIL:-docker node ls failed}
    return 0
  fi
  SW_READY=0
  while IFS='|' read -r name status; do
    if [[ -z $name ]]; then continue; fi
    listed+="$name"$'\n'
    if [[ ${status,,} == ready ]]; then
      SW_READY=$((SW_READY + 1))
    else
      SW_BAD+="${SW_BAD:+, }$name (${status,,})"
    fi
  done <<<"$out"
  if [[ -r $STATE_DIR/swarm-nodes ]]; then
    while IFS= read -r line; do
      if [[ -n $line ]]; then prev+="$line"$'\n'; fi
    done <"$STATE_DIR/swarm-nodes"
  fi
  while IFS= read -r name; do
    if [[ -n $name && $'\n'$listed != *$'\n'"$name"$'\n'* ]]; then SW_GONE+="${SW_GONE:+, }$name"; fi
  done <<<"$prev"
  # Remembered only while the swarm is whole, so a node that left stays named until it is back.
  if [[ $mode == check && $listed != "$prev" && -z $SW_BAD ]] && ((SW_READY >= SWARM_NODES)); then
    printf '%s' "$listed" >"$STATE_DIR/swarm-nodes.tmp"
    mv -f "$STATE_DIR/swarm-nodes.tmp" "$STATE_DIR/swarm-nodes"
  fi
}

# Disk usage of each DISK_PATHS entry that exists, one `df -P` call for all (POSIX output: one line
# per path, in argument order, the 5th field "NN%", the mount point last). A path on the same
# filesystem as an earlier one is named once. Sets DISK_PCT (the fullest), DISK_DETAIL
# ("/ 40%, /var/lib/docker 91%") and DISK_OVER (those above DISK_PERCENT).
read_disk() {
  DISK_PCT="" DISK_DETAIL="" DISK_OVER=""
  local p line out="" n=0 i=0 pct mount
  local -a paths=()
  local -A seen=()
  for p in $DISK_PATHS; do
    if [[ -e $p ]]; then paths+=("$p"); fi
  done
  if ((${#paths[@]} == 0)); then return 0; fi
  out=$(timeout 10 df -P -- "${paths[@]}" 2>/dev/null) || true
  while IFS= read -r line; do
    n=$((n + 1))
    if ((n == 1)); then continue; fi
    if [[ ! $line =~ [[:space:]]([0-9]+)%[[:space:]]+(/.*)$ ]]; then continue; fi
    pct=${BASH_REMATCH[1]} mount=${BASH_REMATCH[2]} p=${paths[i]:-${BASH_REMATCH[2]}}
    i=$((i + 1))
    if [[ -n ${seen[$mount]:-} ]]; then continue; fi
    seen[$mount]=1
    DISK_DETAIL+="${DISK_DETAIL:+, }$p $pct%"
    if [[ -z $DISK_PCT ]] || ((pct > DISK_PCT)); then DISK_PCT=$pct; fi
    if ((pct > DISK_PERCENT)); then DISK_OVER+="${DISK_OVER:+, }$p $pct%"; fi
  done <<<"$out"
}

# The backup's outcome as backup-redis.sh leaves it in BACKUP_STATE_DIR: backup-last-ok (epoch of
# the last success) and backup-last-run (`<epoch> ok|failed <reason>`). With no success yet, the
# clock starts when the watchdog first saw backups on (STATE_DIR/backup-expected-since), so a
# backup that never ran alerts after BACKUP_MAX_AGE_H too. Nothing is read while backups are off.
read_backup() {
  local mode=$1 line="" f
  BACKUP_OK_EPOCH="" BACKUP_RUN_EPOCH="" BACKUP_RUN_STATUS="" BACKUP_RUN_REASON="" BACKUP_SINCE=""
  if ((BACKUP_MAX_AGE_H == 0)); then
    if [[ $mode == check ]]; then rm -f "$STATE_DIR/backup-expected-since"; fi
    return 0
  fi
  f=$BACKUP_STATE_DIR/backup-last-ok
  if [[ -r $f ]]; then read -r line <"$f" || true; fi
  if [[ $line =~ ^[0-9]+$ ]]; then BACKUP_OK_EPOCH=$line; fi
  line="" f=$BACKUP_STATE_DIR/backup-last-run
  if [[ -r $f ]]; then read -r line <"$f" || true; fi
  if [[ $line =~ ^([0-9]+)\ (ok|failed)\ ?(.*)$ ]]; then
    BACKUP_RUN_EPOCH=${BASH_REMATCH[1]} BACKUP_RUN_STATUS=${BASH_REMATCH[2]} BACKUP_RUN_REASON=${BASH_REMATCH[3]}
  fi
  if [[ -n $BACKUP_OK_EPOCH ]]; then return 0; fi
  line="" f=$STATE_DIR/backup-expected-since
  if [[ -r $f ]]; then read -r line <"$f" || true; fi
  if [[ $line =~ ^[0-9]+$ ]]; then
    BACKUP_SINCE=$line
  elif [[ $mode == check ]]; then
    printf '%s\n' "$NOW_EPOCH" >"$f"
    BACKUP_SINCE=$NOW_EPOCH
  fi
}

# ---------------------------------------------------------------- advice texts
# The backticks in these texts are literal: they mark the command to copy (hence SC2016 below).
# Helpers set REPLY instead of printing: a command substitution is a fork, and this runs every minute.

# Sets STACK_FLAG, once per run.
advice_init() {
  STACK_FLAG=""
  if [[ -n $STACK ]]; then STACK_FLAG=" -s $STACK"; fi
}

# config_set KEY VALUE: sets REPLY to the command that sets config key KEY (a/b/c, as in the key
# table) to VALUE and deploys; a nested key is set with --path and dots, as Pulumi spells it.
# shellcheck disable=SC2016
config_set() {
  local key=$1 flag=""
  if [[ $key == */* ]]; then flag="--path "; fi
  printf -v REPLY '`pulumi config set %s%s %s%s && pulumi up%s`' "$flag" "${key//\//.}" "$2" "$STACK_FLAG" "$STACK_FLAG"
}

workers_advice() {
  local n='<N>'
  if [[ $WORKERS =~ ^[0-9]+$ ]]; then n=$((WORKERS + 1)); fi
  config_set "$WORKERS_KEY" "$n"
  REPLY="needs more workers: $REPLY (each worker needs its memory limit: if memory or swap is high too, $SCALE_UP_MEMORY first)"
}

# memory_mb_advice SERVICE: the stack config key to raise for a container of SERVICE.
memory_mb_advice() {
  local key=${KEY_MEMORY_MB//<service>/$1}
  config_set "$key" '<MB>'
  REPLY="raise $key ($REPLY)"
}

# ---------------------------------------------------------------- alert state and delivery

json_escape() { # sets REPLY
  local s=$1
  s=${s//\\/\\\\} s=${s//\"/\\\"} s=${s//$'\n'/\\n} s=${s//$'\r'/\\r} s=${s//$'\t'/\\t}
  REPLY=${s//[[:cntrl:]]/}
}

cfg_escape() { # sets REPLY: a value inside a double-quoted curl config string
  local s=${1//[$'\r\n']/}
  s=${s//\\/\\\\}
  REPLY=${s//\"/\\\"}
}

# post_json URL BODY: POST with the URL and body in a config on curl's stdin, so that neither shows
# up in the process list. Sets POST_RESULT (HTTP code or curl exit); returns 0 on 2xx.
post_json() {
  local url body rc=0 code
  cfg_escape "$1"; url=$REPLY
  cfg_escape "$2"; body=$REPLY
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time "$DELIVERY_TIMEOUT_S" --connect-timeout 5 \
    --proto '=http,https' -H 'Content-Type: application/json' --config - 2>/dev/null \
    <<<"url = \"$url\""$'\n'"data-binary = \"$body\"") || rc=$?
  if ((rc == 0)) && [[ $code == 2[0-9][0-9] ]]; then POST_RESULT=$code; return 0; fi
  if ((rc != 0)); then POST_RESULT="curl exit $rc"; else POST_RESULT="HTTP $code"; fi
  return 1
}

# heartbeat SUFFIX: GET HEARTBEAT_URL (SUFFIX "" after a good run, "/fail" after a failed one), the
# URL in a config on curl's stdin like post_json's. A failed ping is a warning on stderr (without
# the URL): the outside service notices the silence, which is the point of it.
heartbeat() {
  local url rc=0 code
  cfg_escape "${HEARTBEAT_URL%/}$1"; url=$REPLY
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time "$DELIVERY_TIMEOUT_S" --connect-timeout 5 \
    --retry 2 --proto '=http,https' --config - 2>/dev/null <<<"url = \"$url\"") || rc=$?
  if ((rc != 0)); then
    warn "heartbeat${1:+ $1}: curl exit $rc"
  elif [[ $code != 2[0-9][0-9] ]]; then
    warn "heartbeat${1:+ $1}: HTTP $code"
  fi
}

# The EXIT trap of a check run: the run's status decides the ping. An alert firing is not a
# failure; the watchdog itself failing (its state unusable, an unexpected error under set -e) is.
heartbeat_on_exit() {
  local rc=$1
  trap - EXIT
  if ((rc == 0)); then heartbeat ""; else heartbeat /fail; fi
  exit "$rc"
}

telegram_on() { [[ -n $TELEGRAM_BOT_TOKEN && -n $TELEGRAM_CHAT_ID ]]; }
webhook_on() { [[ -n $WEBHOOK_URL ]]; }

declare -A CHANNEL_DOWN=()
LOG_EVENTS=()

# deliver CHANNEL KEY STATE VALUE THRESHOLD TEXT: returns 0 when delivered. After one failure a
# channel is not tried again in this run (a black-holed receiver would cost --max-time per alert).
deliver() {
  local ch=$1 key=$2 state=$3 value=$4 threshold=$5 text=$6 chat body
  if [[ -n ${CHANNEL_DOWN[$ch]:-} ]]; then return 1; fi
  if [[ $ch == telegram ]]; then
    json_escape "$TELEGRAM_CHAT_ID"; chat=$REPLY
    json_escape "$text"
    body="{\"chat_id\":\"$chat\",\"text\":\"$REPLY\",\"disable_web_page_preview\":true}"
    if post_json "$TELEGRAM_API_BASE/bot$TELEGRAM_BOT_TOKEN/sendMessage" "$body"; then return 0; fi
  else
    local s k v t x n=""
    json_escape "$STACK"; s=$REPLY
    json_escape "$key"; k=$REPLY
    json_escape "$value"; v=$REPLY
    json_escape "$threshold"; t=$REPLY
    json_escape "$text"; x=$REPLY
    # "node" only on stage 4, so the body of stages 1-3 is what receivers have always had.
    if [[ -n $NODE_NAME ]]; then json_escape "$NODE_NAME"; n="\"node\":\"$REPLY\","; fi
    body="{\"stack\":\"$s\",$n\"alert\":\"$k\",\"state\":\"$state\",\"value\":\"$v\",\"threshold\":\"$t\",\"text\":\"$x\"}"
    if post_json "$WEBHOOK_URL" "$body"; then return 0; fi
  fi
  CHANNEL_DOWN[$ch]=$POST_RESULT
  return 1
}

fmt_time() { printf -v REPLY '%(%H:%M)T UTC' "$1"; }

# alert KEY COND VALUE THRESHOLD FOR_S HEAD ADVICE OK_HEAD
#   COND 1/0; HEAD "swap 63% > 50%"; ADVICE what to do; OK_HEAD "swap 20% <= 50%" for "resolved".
# A streak is broken only by a run that sees COND clear, not by a late or missed run: a host that
# is swapping hard delays its timer, and that is exactly when the alert must still fire.
# State file alert-KEY, one key=value a line:
#   since   first run of the current streak of COND (0 = not holding)
#   active  1 once fired, until resolved;  fired  when the last firing (first or repeat) was decided
#   event/text/value/threshold  the last decided event, kept until every channel took it
#   telegram/webhook  1 = that channel still owes the event (retried on every run)
alert() {
  local key=$1 cond=$2 value=$3 threshold=$4 for_s=$5 head=$6 advice=$7 ok_head=$8
  local file="$STATE_DIR/alert-$key" line k v old="" content
  local since=0 active=0 fired=0 event="" text="" evalue="" ethreshold="" telegram=0 webhook=0
  if [[ -r $file ]]; then
    while IFS= read -r line; do
      old+="$line"$'\n'
      k=${line%%=*} v=${line#*=}
      case $k in
        since | active | fired | telegram | webhook) if [[ $v =~ ^[0-9]+$ ]]; then printf -v "$k" '%s' "$v"; fi ;;
        event) if [[ $v == firing || $v == resolved ]]; then event=$v; fi ;;
        text) text=$v ;;
        value) evalue=$v ;;
        threshold) ethreshold=$v ;;
      esac
    done <"$file"
  fi
  local new="" repeat_s=$((REPEAT_MINUTES * 60)) held=0
  if ((cond)); then
    if ((since == 0)); then since=$NOW_EPOCH; fi
    held=$((NOW_EPOCH - since))
    if ((!active)) && ((for_s == 0 || held + JITTER_S >= for_s)); then
      active=1 new=firing
    elif ((active && repeat_s > 0 && NOW_EPOCH - fired + JITTER_S >= repeat_s)); then
      new=firing
    fi
  elif ((active)); then
    active=0 new=resolved
  fi
  if [[ -n $new ]]; then
    # A new event replaces an undelivered older one: the receiver gets the current truth.
    event=$new evalue=$value ethreshold=$threshold
    if [[ $new == firing ]]; then
      fired=$NOW_EPOCH
      text="[$STACK${NODE_NAME:+ $NODE_NAME}] $head"
      if ((held >= 60)); then text+=" for $(((held + 30) / 60)) min"; fi
      text+=" — $advice"
    else
      fmt_time "$since"
      text="[$STACK${NODE_NAME:+ $NODE_NAME}] resolved: $ok_head (alert since $REPLY)"
    fi
    text=${text//[$'\r\n']/ }
    telegram=0 webhook=0
    if telegram_on; then telegram=1; fi
    if webhook_on; then webhook=1; fi
    LOG_EVENTS+=("$key:$new")
  fi
  if ((!cond)); then since=0; fi
  local ch
  for ch in telegram webhook; do
    if [[ ${!ch} != 1 ]]; then continue; fi
    if ! "${ch}_on"; then printf -v "$ch" 0; continue; fi
    if deliver "$ch" "$key" "$event" "$evalue" "$ethreshold" "$text"; then
      LOG_EVENTS+=("$key:$event>$ch")
      printf -v "$ch" 0
    else
      LOG_EVENTS+=("$key:$event>$ch:pending")
    fi
  done
  if ((telegram == 0 && webhook == 0)); then event="" text="" evalue="" ethreshold=""; fi
  printf -v content 'since=%s\nactive=%s\nfired=%s\nevent=%s\ntelegram=%s\nwebhook=%s\nvalue=%s\nthreshold=%s\ntext=%s\n' \
    "$since" "$active" "$fired" "$event" "$telegram" "$webhook" "$evalue" "$ethreshold" "$text"
  # Write only on change; an alert that never held has no file at all.
  if [[ $content == "$old" ]] || [[ -z $old && $since$active$telegram$webhook == 0000 ]]; then return 0; fi
  printf '%s' "$content" >"$file.tmp"
  mv -f "$file.tmp" "$file"
}

# ---------------------------------------------------------------- checks

over() { if [[ -n $1 ]] && (($1 > $2)); then REPLY=1; else REPLY=0; fi; }

# Sets CT_COND/CT_HEAD/CT_VALUE/CT_ADVICE for container index $1, given its previous restart count $2.
# Down after a crash also holds (status exited/dead/restarting with an exit code other than 0, or
# 143/137 that a `docker stop` leaves), so "resolved" is only sent once it runs again.
container_verdict() {
  local i=$1 prev=$2 name=${CT_NAMES[$1]} service=${CT_SERVICE[$1]} restarts=${CT_RESTARTS[$1]} status=${CT_STATUS[$1]} code=${CT_CODE[$1]}
  local new=0 detail="" logs="see \`docker logs --tail 100 ${CT_NAMES[$1]}\`"
  if [[ $restarts =~ ^[0-9]+$ && $prev =~ ^[0-9]+$ ]] && ((restarts > prev)); then new=$((restarts - prev)); fi
  if ((new > 0)); then detail=", restarts $prev -> $restarts"; fi
  CT_COND=0 CT_HEAD="" CT_VALUE="ok" CT_ADVICE=""
  if ((CT_CRASHES[i] > 0)); then code=${CT_CRASH_CODE[i]}; fi
  if ((CT_OOM_EVENTS[i] > 0)) || [[ ${CT_OOM[i]} == true && $status != running ]]; then
    memory_mb_advice "$service"
    CT_COND=1 CT_VALUE="oom-killed" CT_HEAD="container $name was OOM-killed (status $status$detail)"
    CT_ADVICE="$REPLY; if memory is short overall, $SCALE_UP_MEMORY"
  elif ((CT_CRASHES[i] > 0)) || [[ $status =~ ^(exited|dead|restarting)$ && $code =~ ^[1-9][0-9]*$ && ! $code =~ ^(137|143)$ ]]; then
    CT_COND=1 CT_VALUE="exit $code" CT_HEAD="container $name crashed (exit code $code, status $status$detail)"
    CT_ADVICE=$logs
    if [[ $code == 137 ]]; then
      CT_ADVICE+="; 137 is a SIGKILL: if \`journalctl -k | grep -i oom\` shows the kernel's OOM killer, the host is short of memory: $SCALE_UP_MEMORY"
    fi
  elif ((new > 0 && !CT_EVENTS_OK)); then
    memory_mb_advice "$service"
    CT_COND=1 CT_VALUE="restarted" CT_HEAD="container $name restarted (status $status$detail)"
    CT_ADVICE="$logs; if it was OOM-killed, $REPLY"
  elif [[ $status =~ ^(exited|dead)$ ]] && alert_active "container_${name//[^A-Za-z0-9_.-]/_}"; then
    # Still down after the OOM kill or crash that fired: the alert holds. Docker can record the
    # last exit before the kernel's OOM event reaches it, leaving OOMKilled false on a container
    # its restart policy gave up on; that is no recovery.
    CT_COND=1 CT_VALUE="down" CT_HEAD="container $name is still $status after the alert"
    CT_ADVICE=$logs
  fi
}

# Whether alert $1 is firing (its state file says active=1).
alert_active() {
  [[ -r "$STATE_DIR/alert-$1" ]] && grep -qx 'active=1' "$STATE_DIR/alert-$1"
}

run_checks() {
  local for_s=$((FOR_MINUTES * 60))
  if [[ -n $MEM_PCT ]]; then
    over "$MEM_PCT" "$MEMORY_PERCENT"
    alert memory "$REPLY" "$MEM_PCT%" "$MEMORY_PERCENT%" "$for_s" \
      "memory $MEM_PCT% > $MEMORY_PERCENT% (critical)" "needs more RAM: $SCALE_UP_MEMORY" "memory $MEM_PCT% <= $MEMORY_PERCENT%"
    over "$SWAP_PCT" "$SWAP_PERCENT"
    alert swap "$REPLY" "$SWAP_PCT%" "$SWAP_PERCENT%" "$for_s" \
      "swap $SWAP_PCT% > $SWAP_PERCENT%" "needs more RAM: $SCALE_UP_MEMORY" "swap $SWAP_PCT% <= $SWAP_PERCENT%"
  fi
  if [[ -n $CPU_PCT ]]; then
    over "$CPU_PCT" "$CPU_PERCENT"
    alert cpu "$REPLY" "$CPU_PCT%" "$CPU_PERCENT%" "$for_s" \
      "CPU $CPU_PCT% > $CPU_PERCENT% (average)" "needs more CPU: $SCALE_UP_CPU" "CPU $CPU_PCT% <= $CPU_PERCENT%"
  fi
  if [[ -n $QUEUE_LEN ]]; then
    workers_advice
    local more_workers=$REPLY
    over "$QUEUE_LEN" "$QUEUE_LENGTH"
    alert queue "$REPLY" "$QUEUE_LEN jobs" "$QUEUE_LENGTH jobs" "$for_s" \
      "queue $QUEUE_NAME has $QUEUE_LEN jobs > $QUEUE_LENGTH" "$more_workers" "queue $QUEUE_NAME has $QUEUE_LEN jobs <= $QUEUE_LENGTH"
  fi
  if [[ -n $REDIS_MEM_PCT ]]; then
    memory_mb_advice redis
    local redis_advice="$REPLY or find what fills it; the queue's Redis uses noeviction, so writes fail when it is full"
    over "$REDIS_MEM_PCT" "$REDIS_MEMORY_PERCENT"
    alert redis_memory "$REPLY" "$REDIS_MEM_PCT%" "$REDIS_MEMORY_PERCENT%" "$for_s" \
      "Redis memory $REDIS_MEM_PCT% of maxmemory > $REDIS_MEMORY_PERCENT%" "$redis_advice" \
      "Redis memory $REDIS_MEM_PCT% of maxmemory <= $REDIS_MEMORY_PERCENT%"
  fi
  if [[ -n $API_HEALTH_URL ]]; then
    local cond=0 head value="${API_MS:-?} ms"
    head="API health ${API_MS:-?} ms > $API_LATENCY_MS ms"
    if [[ -n $API_FAIL ]]; then cond=1 value=$API_FAIL head="API health check failed ($API_FAIL)"; fi
    over "$API_MS" "$API_LATENCY_MS"
    if ((REPLY)); then cond=1; fi
    # The API container's name changes with every release: the command finds the newest one by
    # label (`docker ps -l`, all states, so a crashed one too); the proxy's name is fixed.
    local api_ps="docker ps -lq --filter label=$ROLE_LABEL=api${STACK:+ --filter label=$STACK_LABEL=$STACK}"
    alert api "$cond" "$value" "$API_LATENCY_MS ms" "$for_s" "$head" \
      "check \`docker logs --tail 100 \$($api_ps)\` (the newest API container) and \`docker logs --tail 100 proxy\` (the edge proxy); if memory is high too, $SCALE_UP_MEMORY; if CPU is, $SCALE_UP_CPU" "API health ${API_MS:-?} ms <= $API_LATENCY_MS ms"
  fi
  if [[ -n $CERT_END_EPOCH ]]; then cert_check; fi
  if [[ -n $DISK_PCT ]]; then
    local disk_cond=0
    if [[ -n $DISK_OVER ]]; then disk_cond=1; fi
    alert disk "$disk_cond" "${DISK_OVER:-$DISK_DETAIL}" "$DISK_PERCENT%" "$for_s" \
      "disk ${DISK_OVER:-$DISK_DETAIL} > $DISK_PERCENT%" \
      "free space: \`docker system prune\` drops unused images, \`journalctl --vacuum-size=200M\` old logs; a growing Redis AOF needs a look at what fills the queue; or raise server/diskGb" \
      "disk $DISK_DETAIL <= $DISK_PERCENT%"
  fi
  if ((BACKUP_MAX_AGE_H > 0)); then
    local backup_advice="see \`journalctl -u app-infra-backup.service\`; \`systemctl start app-infra-backup.service\` runs one now"
    local age_s=0 bcond=0 bhead bok bvalue="none"
    if [[ -n $BACKUP_OK_EPOCH ]]; then
      age_s=$((NOW_EPOCH - BACKUP_OK_EPOCH)) bvalue="$(((NOW_EPOCH - BACKUP_OK_EPOCH) / 3600)) h"
      bhead="last successful backup $bvalue ago > $BACKUP_MAX_AGE_H h"
      bok="last successful backup $bvalue ago <= $BACKUP_MAX_AGE_H h"
    else
      age_s=$((NOW_EPOCH - ${BACKUP_SINCE:-$NOW_EPOCH}))
      bhead="no successful backup in the $((age_s / 3600)) h since backups were set up (> $BACKUP_MAX_AGE_H h)"
      bok="no successful backup yet, $((age_s / 3600)) h since backups were set up <= $BACKUP_MAX_AGE_H h"
    fi
    if ((age_s > BACKUP_MAX_AGE_H * 3600)); then bcond=1; fi
    alert backup-age "$bcond" "$bvalue" "$BACKUP_MAX_AGE_H h" 0 "$bhead" "$backup_advice" "$bok"
    local fcond=0 when="never"
    if [[ $BACKUP_RUN_STATUS == failed ]]; then fcond=1; fi
    if [[ -n $BACKUP_RUN_EPOCH ]]; then printf -v when '%(%Y-%m-%d %H:%M)T UTC' "$BACKUP_RUN_EPOCH"; fi
    alert backup-failed "$fcond" "${BACKUP_RUN_STATUS:-none}" "ok" 0 \
      "backup run at $when failed: ${BACKUP_RUN_REASON:-no reason recorded}" "$backup_advice" \
      "backup run at $when succeeded"
  fi
  local i name prev file
  for i in "${!CT_NAMES[@]}"; do
    name=${CT_NAMES[$i]} prev=""
    file="$STATE_DIR/container-${name//[^A-Za-z0-9_.-]/_}"
    if [[ -r $file ]]; then read -r prev <"$file" || true; fi
    container_verdict "$i" "$prev"
    # An OOM kill or crash is an event: it fires at once, and resolves on the next clean run.
    alert "container_${name//[^A-Za-z0-9_.-]/_}" "$CT_COND" "$CT_VALUE" "no OOM kill or crash" 0 \
      "$CT_HEAD" "$CT_ADVICE" "container $name is ${CT_STATUS[$i]} with no new OOM kill or crash"
    if [[ ${CT_RESTARTS[$i]} =~ ^[0-9]+$ && ${CT_RESTARTS[$i]} != "$prev" ]]; then printf '%s\n' "${CT_RESTARTS[$i]}" >"$file"; fi
  done
  labelled_gone
  swarm_checks "$for_s"
}

# Stage 4: this node's tasks (TASKS) and, on the manager, the swarm's nodes (SWARM_NODES).
# shellcheck disable=SC2016
swarm_checks() {
  local for_s=$1 i name want run key head advice where="on the core node"
  if [[ $NODE_NAME == core ]]; then where="here"; fi
  if [[ -z $TK_SKIP ]]; then
    for i in "${!TK_NAMES[@]}"; do
      name=${TK_NAMES[$i]} want=${TK_WANT[$i]} run=${TK_RUNNING[$i]} key="${TK_NAMES[$i]//[^A-Za-z0-9_.-]/_}"
      over "$want" "$run"
      alert "tasks_$key" "$REPLY" "$run of $want" "$want" "$for_s" \
        "service $name has $run of $want tasks running on this node" \
        "\`docker service ps --no-trunc $name\` $where says why (no room for its memory reservation, an image that cannot be pulled, a node down); if memory is short, $SCALE_UP_MEMORY" \
        "service $name has $run of $want tasks running on this node"
      # An OOM kill or crash is an event: it fires at once and resolves on the next clean run.
      local cond=0 value="no OOM kill or crash" task=${TK_CRASH[$i]%%|*} code=""
      head="" advice=""
      if [[ ${TK_CRASH[$i]} == *"|"* ]]; then code=${TK_CRASH[$i]#*|}; fi
      if ((TK_OOM[i] > 0)); then
        memory_mb_advice "${TK_SERVICE[$i]}"
        cond=1 value="oom-killed" head="service $name: task $task was OOM-killed (${TK_OOM[$i]} in the last run's window)"
        advice="$REPLY; if memory is short overall, $SCALE_UP_MEMORY"
      elif ((TK_CRASHES[i] > 0)); then
        cond=1 value="exit $code" head="service $name: task $task crashed (exit code $code; ${TK_CRASHES[$i]} in the last run's window); Swarm starts a new task"
        advice="\`docker service logs --tail 100 $name\` $where"
        if [[ $code == 137 ]]; then
          advice+="; 137 is a SIGKILL: if \`journalctl -k | grep -i oom\` on this node shows the kernel's OOM killer, the node is short of memory: $SCALE_UP_MEMORY"
        fi
      fi
      alert "task-crash_$key" "$cond" "$value" "no OOM kill or crash" 0 "$head" "$advice" \
        "service $name: no new OOM kill or crash of its tasks"
    done
  fi
  if ((SWARM_NODES > 0)); then
    local cond=0 value
    if [[ -n $SW_FAIL ]]; then
      cond=1 value="unreadable"
      head="swarm: cannot list its nodes ($SW_FAIL)"
      advice="this node should be the swarm's manager: \`docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'\` and \`journalctl -u docker\`; without a manager no service can be changed or rescheduled"
    else
      value="$SW_READY of $SWARM_NODES ready"
      if ((SW_READY < SWARM_NODES)) || [[ -n $SW_BAD ]]; then cond=1; fi
      head="swarm: $SW_READY of $SWARM_NODES nodes ready"
      if [[ -n $SW_BAD$SW_GONE ]]; then head+="; ${SW_BAD}${SW_BAD:+${SW_GONE:+, }}${SW_GONE:+$SW_GONE (left the swarm)}"; fi
      advice="\`docker node ls\` on the core node; the tasks of a node that is down move to the other nodes of its kind where they fit. A worker node's server that was deleted or broken comes back with \`pulumi refresh$STACK_FLAG && pulumi up$STACK_FLAG\`; one that is only powered off, from the Hetzner console"
    fi
    alert swarm-nodes "$cond" "$value" "$SWARM_NODES ready" "$for_s" "$head" "$advice" \
      "swarm: $SW_READY of $SWARM_NODES nodes ready"
  fi
}

# For each @role entry that docker listed: a container the last run saw that is gone now was removed
# (a deploy replaced it): no alert. A firing alert of its own is resolved, saying so; its state files
# are removed once no channel still owes that message (until then it stays in the list, so the
# delivery is retried on the next run like any other). Writes STATE_DIR/labelled-<role>.
labelled_gone() {
  local role name key i keep content old
  for role in "${!LABEL_LISTED[@]}"; do
    if [[ ${LABEL_LISTED[$role]} != 1 ]]; then continue; fi
    keep=""
    for i in "${!CT_NAMES[@]}"; do
      if [[ ${CT_GROUP[$i]} == "$role" ]]; then keep+="${CT_NAMES[$i]}"$'\n'; fi
    done
    content=$keep
    while IFS= read -r name; do
      if [[ -z $name || $'\n'$keep == *$'\n'"$name"$'\n'* ]]; then continue; fi
      key="container_${name//[^A-Za-z0-9_.-]/_}"
      alert "$key" 0 "gone" "no OOM kill or crash" 0 "" "" "container $name was removed (replaced by a deploy)"
      rm -f "$STATE_DIR/container-${name//[^A-Za-z0-9_.-]/_}"
      if [[ -r $STATE_DIR/alert-$key ]] && grep -qxE 'active=1|telegram=1|webhook=1' "$STATE_DIR/alert-$key"; then
        content+="$name"$'\n'
      else
        rm -f "$STATE_DIR/alert-$key"
      fi
    done <<<"${LABEL_PREV[$role]}"
    old=${LABEL_PREV[$role]}
    if [[ $content != "$old" ]]; then
      printf '%s' "$content" >"$STATE_DIR/labelled-$role.tmp"
      mv -f "$STATE_DIR/labelled-$role.tmp" "$STATE_DIR/labelled-$role"
    fi
  done
}

# The served certificate's days left against CERT_MIN_DAYS. kamal-proxy renews its Let's Encrypt
# certificate by itself (golang.org/x/crypto acme/autocert: 30 days before expiry, or a third of a
# shorter lifetime), so a certificate this close to its end means renewal has been failing for
# days. It fires at once and repeats daily rather than every REPEAT_MINUTES: days are its unit.
cert_check() {
  local left_s=$((CERT_END_EPOCH - NOW_EPOCH)) days cond=0 head until repeat=$((24 * 60))
  printf -v until '%(%Y-%m-%d %H:%M)T UTC' "$CERT_END_EPOCH"
  if ((left_s < CERT_MIN_DAYS * 86400)); then cond=1; fi
  if ((left_s > 0)); then
    days=$((left_s / 86400))
    head="TLS certificate of $CERT_HOST expires in $days days ($until), fewer than $CERT_MIN_DAYS"
  else
    days=$((-(-left_s / 86400)))
    head="TLS certificate of $CERT_HOST expired $((-days)) days ago ($until)"
  fi
  if ((REPEAT_MINUTES == 0)); then repeat=0; fi
  REPEAT_MINUTES=$repeat alert cert "$cond" "$days days" "$CERT_MIN_DAYS days" 0 "$head" \
    "kamal-proxy renews it by itself 30 days before expiry, so renewal has been failing: see \`docker logs --tail 100 proxy\` for its ACME errors, check that $CERT_HOST resolves to this server's public address (\`dig +short $CERT_HOST\`) and that ports 80 and 443 reach it from the Internet (Let's Encrypt's challenge comes in there; the firewall opens them when services/api/public is true)" \
    "TLS certificate of $CERT_HOST has $days days left, until $until (>= $CERT_MIN_DAYS)"
}

containers_summary() { # sets REPLY
  local i
  REPLY=""
  if [[ -n $CT_SKIP ]]; then REPLY="skipped($CT_SKIP)"; return 0; fi
  for i in "${!CT_NAMES[@]}"; do
    REPLY+="${REPLY:+,}${CT_NAMES[$i]}:${CT_STATUS[$i]}/r${CT_RESTARTS[$i]:-?}"
    if ((CT_OOM_EVENTS[i] > 0)) || [[ ${CT_OOM[i]} == true ]]; then REPLY+="/oom"; fi
    if ((CT_CRASHES[i] > 0)); then REPLY+="/crash${CT_CRASHES[i]}"; fi
  done
}

backup_summary() { # sets REPLY: off, none, or the last success's age, and the last run's status
  if ((BACKUP_MAX_AGE_H == 0)); then REPLY=off; return 0; fi
  if [[ -n $BACKUP_OK_EPOCH ]]; then REPLY="$(((NOW_EPOCH - BACKUP_OK_EPOCH) / 3600))h"; else REPLY=none; fi
  if [[ -n $BACKUP_RUN_STATUS ]]; then REPLY+="/$BACKUP_RUN_STATUS"; fi
}

na() { printf '%s' "${1:-n/a}${1:+${2:-}}"; }

log_line() {
  local IFS=, ch api=skipped channels="" events
  events="${LOG_EVENTS[*]:-none}"
  for ch in telegram webhook; do
    if [[ -n ${CHANNEL_DOWN[$ch]:-} ]]; then channels+=" $ch=down(${CHANNEL_DOWN[$ch]})"; fi
  done
  if [[ -n $API_FAIL ]]; then api="fail($API_FAIL)"; elif [[ -n $API_HEALTH_URL ]]; then api="${API_MS:-n/a}${API_MS:+ms}"; fi
  if [[ -n $CERT_END_EPOCH ]]; then
    api+=" cert=$(((CERT_END_EPOCH - NOW_EPOCH) / 86400))d"
  elif [[ -n $CERT_HOST ]]; then
    api+=" cert=n/a"
  fi
  backup_summary
  local backup=$REPLY swarm=""
  swarm_summary
  swarm=$REPLY
  containers_summary
  printf '%s stack=%s%s mem=%s swap=%s cpu=%s queue=%s redis_mem=%s api=%s disk=%s backup=%s containers=%s events=%s%s\n' \
    "$WATCHDOG_NAME" "${STACK:-?}" "${NODE_NAME:+ node=$NODE_NAME}" "${MEM_PCT:-n/a}${MEM_PCT:+%}" "${SWAP_PCT:-n/a}${SWAP_PCT:+%}" \
    "${CPU_PCT:-n/a}${CPU_PCT:+%}" "${QUEUE_LEN:-n/a}" "${REDIS_MEM_PCT:-n/a}${REDIS_MEM_PCT:+%}" "$api" \
    "${DISK_PCT:-n/a}${DISK_PCT:+%}" "$backup" "$REPLY$swarm" "$events" "$channels"
}

swarm_summary() { # sets REPLY: " tasks=name:running/wanted,… swarm=ready/nodes", or empty
  local i list=""
  REPLY=""
  if [[ -n $TASKS ]]; then
    for i in "${!TK_NAMES[@]}"; do
      list+="${list:+,}${TK_NAMES[$i]}:${TK_RUNNING[$i]:-?}/${TK_WANT[$i]}"
      if ((TK_OOM[i] > 0)); then list+="/oom"; fi
      if ((TK_CRASHES[i] > 0)); then list+="/crash${TK_CRASHES[$i]}"; fi
    done
    if [[ -n $TK_SKIP ]]; then list="skipped($TK_SKIP)"; fi
    REPLY=" tasks=$list"
  fi
  if ((SWARM_NODES > 0)); then
    if [[ -n $SW_FAIL ]]; then REPLY+=" swarm=n/a"; else REPLY+=" swarm=$SW_READY/$SWARM_NODES"; fi
  fi
}

# ---------------------------------------------------------------- --status

status_row() { printf '%-24s %-30s %-12s %s\n' "$@"; }

verdict_min() { # value minimum -> ok / SHORT
  if (($1 < $2)); then printf 'SHORT'; else printf 'ok'; fi
}

verdict() { # value threshold -> OK / OVER / n/a
  if [[ -z $1 ]]; then printf 'n/a'; elif (($1 > $2)); then printf 'OVER'; else printf 'ok'; fi
}

firing_of() { # key -> " (alert firing since HH:MM UTC)" when the state says so
  local file="$STATE_DIR/alert-$1" k v since=0 active=0
  if [[ -r $file ]]; then
    while IFS='=' read -r k v; do case $k in since) since=$v ;; active) active=$v ;; esac; done <"$file"
  fi
  if [[ $active == 1 && $since =~ ^[0-9]+$ ]] && ((since > 0)); then fmt_time "$since"; printf ', FIRING since %s' "$REPLY"; fi
}

print_status() {
  local i api_value api_state
  local day
  printf -v day '%(%Y-%m-%d %H:%M)T UTC' "$NOW_EPOCH"
  printf 'app-infra watchdog — stack %s, stage %s%s, %s\n\n' "${STACK:-?}" "${STAGE:-?}" "${NODE_NAME:+, node $NODE_NAME}" "$day"
  status_row METRIC VALUE THRESHOLD STATE
  status_row memory "$(na "$MEM_PCT" %)${MEM_PCT:+ ($MEM_USED_MB of $MEM_TOTAL_MB MB)}" "$MEMORY_PERCENT %" "$(verdict "$MEM_PCT" "$MEMORY_PERCENT")$(firing_of memory)"
  status_row swap "$(na "$SWAP_PCT" %)${SWAP_PCT:+ ($SWAP_USED_MB of $SWAP_TOTAL_MB MB)}" "$SWAP_PERCENT %" "$(verdict "$SWAP_PCT" "$SWAP_PERCENT")$(firing_of swap)"
  status_row "cpu (avg ${CPU_WINDOW_S:-?} s)" "$(na "$CPU_PCT" %)" "$CPU_PERCENT %" "$(verdict "$CPU_PCT" "$CPU_PERCENT")$(firing_of cpu)"
  status_row "queue $QUEUE_NAME" "$(na "$QUEUE_LEN" " jobs")" "$QUEUE_LENGTH jobs" "$(verdict "$QUEUE_LEN" "$QUEUE_LENGTH")$(firing_of queue)"
  status_row "redis memory" "$(na "$REDIS_MEM_PCT" %)${REDIS_MEM_PCT:+ ($REDIS_USED_MB of $REDIS_MAX_MB MB)}" "$REDIS_MEMORY_PERCENT %" "$(verdict "$REDIS_MEM_PCT" "$REDIS_MEMORY_PERCENT")$(firing_of redis_memory)"
  if [[ -z $API_HEALTH_URL ]]; then
    api_value="skipped" api_state="n/a"
  elif [[ -n $API_FAIL ]]; then
    api_value="failed ($API_FAIL)" api_state="OVER"
  else
    api_value="$(na "$API_MS" " ms")" api_state=$(verdict "$API_MS" "$API_LATENCY_MS")
  fi
  status_row "api latency" "$api_value" "$API_LATENCY_MS ms" "$api_state$(firing_of api)"
  if [[ -n $CERT_END_EPOCH ]]; then
    local until left=$(((CERT_END_EPOCH - NOW_EPOCH) / 86400)) cstate=ok
    printf -v until '%(%Y-%m-%d)T' "$CERT_END_EPOCH"
    if ((CERT_END_EPOCH - NOW_EPOCH < CERT_MIN_DAYS * 86400)); then cstate=SOON; fi
    status_row "certificate" "$left days (until $until)" "$CERT_MIN_DAYS days" "$cstate$(firing_of cert)"
  elif [[ -n $CERT_HOST ]]; then
    status_row "certificate" "not read" "$CERT_MIN_DAYS days" "n/a"
  fi
  status_row disk "${DISK_DETAIL:-n/a}" "$DISK_PERCENT %" "$(verdict "$DISK_PCT" "$DISK_PERCENT")$(firing_of disk)"
  if ((BACKUP_MAX_AGE_H > 0)); then
    backup_summary
    status_row "backup" "$REPLY${BACKUP_RUN_REASON:+ ($BACKUP_RUN_REASON)}" "$BACKUP_MAX_AGE_H h" \
      "$(if [[ $BACKUP_RUN_STATUS == failed ]]; then printf FAILED; else printf ok; fi)$(firing_of backup-age)$(firing_of backup-failed)"
  else
    status_row "backup" "off" "" ""
  fi
  if [[ -n $CT_SKIP ]]; then
    status_row containers "skipped ($CT_SKIP)" "" ""
  fi
  for i in "${!CT_NAMES[@]}"; do
    local st=ok
    if [[ ${CT_STATUS[$i]} != running ]]; then st=${CT_STATUS[$i]}; fi
    if [[ ${CT_OOM[$i]} == true ]]; then st="OOM-KILLED"; fi
    status_row "container ${CT_NAMES[$i]}" "${CT_STATUS[$i]}, restarts ${CT_RESTARTS[$i]:-?}" "" "$st$(firing_of "container_${CT_NAMES[$i]//[^A-Za-z0-9_.-]/_}")"
  done
  if [[ -n $TASKS && -n $TK_SKIP ]]; then status_row tasks "skipped ($TK_SKIP)" "" ""; fi
  if [[ -z $TK_SKIP ]]; then
    for i in "${!TK_NAMES[@]}"; do
      local key=${TK_NAMES[$i]//[^A-Za-z0-9_.-]/_}
      status_row "tasks ${TK_NAMES[$i]}" "${TK_RUNNING[$i]} running" "${TK_WANT[$i]}" \
        "$(verdict_min "${TK_RUNNING[$i]}" "${TK_WANT[$i]}")$(firing_of "tasks_$key")$(firing_of "task-crash_$key")"
    done
  fi
  if ((SWARM_NODES > 0)); then
    if [[ -n $SW_FAIL ]]; then
      status_row "swarm nodes" "unreadable ($SW_FAIL)" "$SWARM_NODES" "FAILED"
    else
      status_row "swarm nodes" "$SW_READY ready${SW_BAD:+; $SW_BAD}${SW_GONE:+; left: $SW_GONE}" "$SWARM_NODES" \
        "$(verdict_min "$SW_READY" "$SWARM_NODES")$(firing_of swarm-nodes)"
    fi
  fi
  printf '\nalerts fire after %s min, repeat every %s min; telegram: %s; webhook: %s\n' "$FOR_MINUTES" "$REPEAT_MINUTES" \
    "$(if telegram_on; then printf 'on (chat %s)' "$TELEGRAM_CHAT_ID"; else printf off; fi)" \
    "$(if webhook_on; then printf on; else printf off; fi)"
}

# ---------------------------------------------------------------- main

main() {
  local mode=check
  case ${1:-} in
    --status) mode=status ;;
    "") ;;
    *) printf 'usage: %s [--status]\n' "${0##*/}" >&2; return 2 ;;
  esac
  load_settings
  if [[ $mode == check && -n $HEARTBEAT_URL ]]; then trap 'heartbeat_on_exit $?' EXIT; fi
  if [[ $mode == check && ! -d $STATE_DIR ]] && ! mkdir -p "$STATE_DIR" 2>/dev/null; then
    warn "cannot create the state directory $STATE_DIR"
    return 1
  fi
  read_memory
  read_cpu "$mode"
  read_redis
  read_api
  read_containers "$mode"
  read_tasks "$mode"
  read_swarm "$mode"
  read_disk
  read_backup "$mode"
  advice_init
  if [[ $mode == status ]]; then
    print_status
    return 0
  fi
  run_checks
  log_line
}

main "$@"

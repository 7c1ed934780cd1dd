#!/usr/bin/env bash
# Installs the app-infra watchdog on the host: the script, its thresholds file, its secrets file,
# a status command and the systemd service + timer that run one check every INTERVAL_S seconds.
# Idempotent: a file is written only when its content differs (a wrong mode is fixed in place);
# systemd is reloaded and the timer restarted only when a unit changed; the timer is always
# enabled and started. Prints what changed, never a file's content.
#
# Invocation (as root over SSH; this is what components/host.ts does for a step with a payload):
#   command: bash -s -- [INTERVAL_S [ignored…]]      e.g. `bash -s -- 60 <payload sha256>`
#   stdin:   the shipped text of this file (lib/installer.sh inlined in place of its `source` line
#            by readScript, components/host.ts), then the payload, one KEY=VALUE a line:
#              WATCHDOG_SCRIPT_B64=<base64 of scripts/watchdog.sh>
#              WATCHDOG_ENV_B64=<base64 of the thresholds file, KEY=VALUE lines; may be empty>
#              WATCHDOG_SECRETS_B64=<base64 of the secrets file, TELEGRAM_BOT_TOKEN=… and
#                                    WEBHOOK_URL=… lines; may be empty>
#   How: bash reads a script from stdin only as far as the command it runs next (POSIX requires
#   it), and the whole script is one function called on its last line, so when `main` runs, the
#   rest of stdin is exactly the payload, which `main` reads with builtins. The secrets are never
#   in an argv (`ps` shows `bash -s -- 60 …`), in a child's environment or in sshd's AcceptEnv.
#   The payload must be a Pulumi secret (it is: host.ts wraps stdin in pulumi.secret).
#   All three keys must be present (a value may be empty), so a wiring mistake fails the deploy
#   instead of silently dropping alerts. Values may be wrapped in single quotes.
#   Also accepted, for use by hand: the same variables set before `main` runs (environment, or
#   assignments placed before this text on stdin); they win over the payload. INTERVAL_S may also
#   come from the environment; the argument wins. Trailing arguments are ignored (a payload hash
#   passed only to trigger a re-run). By hand, from a checkout:
#   `bash scripts/install-watchdog.sh 60 < payload-file`.
#
# Installed (0755 unless noted):
#   /usr/local/sbin/app-infra-watchdog            the watchdog (scripts/watchdog.sh)
#   /usr/local/sbin/app-infra-status              `app-infra-watchdog --status`
#   /etc/app-infra/watchdog.env        0600       thresholds (read on every run)
#   /etc/app-infra/watchdog.secrets    0600       secrets (read on every run)
#   /etc/systemd/system/app-infra-watchdog.service  0644
#   /etc/systemd/system/app-infra-watchdog.timer    0644
#
# Environment: DESTDIR (a root for all paths above, default none), SYSTEMCTL (command prefix,
# default `systemctl`; `:` skips systemd, for tests), INTERVAL_S (10…3600, default 60).
set -euo pipefail
umask 077

readonly NAME=app-infra-watchdog
readonly BIN=/usr/local/sbin/app-infra-watchdog
readonly STATUS_BIN=/usr/local/sbin/app-infra-status
readonly ENV_FILE=/etc/app-infra/watchdog.env
readonly SECRETS_FILE=/etc/app-infra/watchdog.secrets
readonly UNIT_DIR=/etc/systemd/system
readonly PAYLOAD_KEYS=" WATCHDOG_SCRIPT_B64 WATCHDOG_ENV_B64 WATCHDOG_SECRETS_B64 "

say() { printf '%s install: %s\n' "$NAME" "$*"; }

# read_payload (the payload after this text on stdin; a key already set keeps its value),
# decode VAR FILE (base64 fed by a builtin, so no value reaches an argv), put SRC PATH MODE
# (install a file unless the same content is there) and start_timer WHEN.
# shellcheck source-path=SCRIPTDIR source=lib/installer.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/installer.sh" # app-infra:inline

write_units() {
  local work=$1 timeout_s
  cat >"$work/status" <<EOF
#!/bin/sh
# Installed by install-watchdog.sh: current readings and thresholds, nothing is sent.
exec $BIN --status "\$@"
EOF

  # A check must end before the next is due; its own timeouts (Redis 5 s, docker 2 × 5 s, API,
  # 2 × 10 s delivery) add up to ~40 s at worst.
  timeout_s=$((INTERVAL_S > 60 ? INTERVAL_S - 10 : INTERVAL_S * 5 / 6))
  cat >"$work/service" <<EOF
[Unit]
Description=app-infra watchdog: one check of memory, swap, CPU, queue, Redis, API and containers
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=$BIN
# The watchdog must not compete with the app it watches, yet must still run when the host is
# swapping, which is when it matters: low CPU priority, lowest best-effort I/O (not "idle", which a
# swap storm would starve).
Nice=10
CPUSchedulingPolicy=batch
CPUWeight=20
IOSchedulingClass=best-effort
IOSchedulingPriority=7
# One check with 5 containers peaks at ~50 MB charged: the docker CLI is ~24 MB RSS, the rest is
# its binary's page cache. Under 32M it still runs but re-reads that binary under constant reclaim
# (measured: 68 000 limit hits per run), so the cap is 64M; it only stops a runaway check.
MemoryMax=64M
MemorySwapMax=0
TimeoutStartSec=${timeout_s}s
StateDirectory=app-infra-watchdog
StateDirectoryMode=0700
NoNewPrivileges=yes
PrivateTmp=yes
# read-only, not yes: the docker CLI reads /root/.docker/config.json when it exists.
ProtectHome=read-only
ProtectSystem=full
EOF

  cat >"$work/timer" <<EOF
[Unit]
Description=Run app-infra-watchdog every ${INTERVAL_S} s

[Timer]
# OnActiveSec starts the cycle when the timer is (re)started, OnBootSec after a reboot,
# OnUnitActiveSec keeps it going. No Persistent=: it applies to OnCalendar= only, and a missed
# check is not worth catching up.
OnActiveSec=${INTERVAL_S}s
OnBootSec=${INTERVAL_S}s
OnUnitActiveSec=${INTERVAL_S}s
AccuracySec=1s

[Install]
WantedBy=timers.target
EOF
}

main() {
  DESTDIR=${DESTDIR:-}
  DESTDIR=${DESTDIR%/}
  INTERVAL_S=${1:-${INTERVAL_S:-60}}
  problems=() changed=() units_changed=0

  read_payload
  if [[ -z $DESTDIR && $EUID -ne 0 ]]; then problems+=("must run as root (or with DESTDIR for a test)"); fi
  if [[ ! $INTERVAL_S =~ ^[0-9]+$ ]] || ((INTERVAL_S < 10 || INTERVAL_S > 3600)); then
    problems+=("INTERVAL_S: should be a whole number of seconds between 10 and 3600 (got $INTERVAL_S)")
  fi
  if [[ -z ${WATCHDOG_SCRIPT_B64:-} ]]; then problems+=("WATCHDOG_SCRIPT_B64: should be the base64 of scripts/watchdog.sh (missing)"); fi
  if [[ -z ${WATCHDOG_ENV_B64+x} ]]; then problems+=("WATCHDOG_ENV_B64: should be given, empty for an empty thresholds file (missing)"); fi
  if [[ -z ${WATCHDOG_SECRETS_B64+x} ]]; then problems+=("WATCHDOG_SECRETS_B64: should be given, empty for no secrets (missing)"); fi
  local tool
  for tool in base64 cmp curl timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then problems+=("$tool: required by the watchdog, not found on this host"); fi
  done

  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  if ((${#problems[@]} == 0)); then
    decode WATCHDOG_SCRIPT_B64 "$work/watchdog"
    decode WATCHDOG_ENV_B64 "$work/env"
    decode WATCHDOG_SECRETS_B64 "$work/secrets"
    if [[ -s $work/watchdog ]] && { [[ $(head -c 2 "$work/watchdog") != '#!' ]] || ! bash -n "$work/watchdog" 2>/dev/null; }; then
      problems+=("WATCHDOG_SCRIPT_B64: should decode to a bash script (scripts/watchdog.sh); it does not parse")
    fi
  fi
  if ((${#problems[@]} > 0)); then
    local problem
    for problem in "${problems[@]}"; do printf '%s install: %s\n' "$NAME" "$problem" >&2; done
    return 1
  fi

  write_units "$work"
  put "$work/watchdog" "$BIN" 0755
  put "$work/status" "$STATUS_BIN" 0755
  put "$work/env" "$ENV_FILE" 0600
  put "$work/secrets" "$SECRETS_FILE" 0600
  put "$work/service" "$UNIT_DIR/$NAME.service" 0644
  put "$work/timer" "$UNIT_DIR/$NAME.timer" 0644

  start_timer "every ${INTERVAL_S} s"
}

# Must stay the last line: the payload follows it on stdin.
main "$@"

#!/usr/bin/env bash
# Installs the app-infra watchdog on the host: the script, its thresholds file, its secrets file,
# a status command and the systemd service + timer that run one check every INTERVAL_S seconds.
# Idempotent: a file is written only when its content differs (a wrong mode is fixed in place);
# systemd is reloaded and the timer restarted only when a unit changed; the timer is always
# enabled and started. Prints what changed, never a file's content.
#
# Payload (how the Pulumi program runs this, as root over SSH):
#   command: `bash -s`
#   stdin:   four shell assignments, then this file's text, verbatim:
#              WATCHDOG_SCRIPT_B64='<base64 of scripts/watchdog.sh>'
#              WATCHDOG_ENV_B64='<base64 of the thresholds file, KEY=VALUE lines>'
#              WATCHDOG_SECRETS_B64='<base64 of the secrets file: TELEGRAM_BOT_TOKEN=…, WEBHOOK_URL=…>'
#              INTERVAL_S='60'
#              <contents of scripts/install-watchdog.sh>
#   Base64 has no quote characters, so single quotes keep each value literal. The values live only
#   in this bash process's memory: not in any argv (`ps` shows `bash -s`), not in the environment
#   of a child, not in sshd's AcceptEnv. Mark the stdin as a Pulumi secret. Either of ENV and
#   SECRETS may be '' (an empty file is written); all three must be present, so a wiring mistake
#   fails here instead of silently dropping alerts. The same variables may come from the
#   environment instead (tests run `WATCHDOG_SCRIPT_B64=… bash install-watchdog.sh`).
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

DESTDIR=${DESTDIR:-}
DESTDIR=${DESTDIR%/}
INTERVAL_S=${INTERVAL_S:-60}
read -ra systemctl <<<"${SYSTEMCTL:-systemctl}"

say() { printf '%s install: %s\n' "$NAME" "$*"; }

problems=()
if [[ -z $DESTDIR && $EUID -ne 0 ]]; then problems+=("must run as root (or with DESTDIR for a test)"); fi
if [[ ! $INTERVAL_S =~ ^[0-9]+$ ]] || ((INTERVAL_S < 10 || INTERVAL_S > 3600)); then
  problems+=("INTERVAL_S: should be a whole number of seconds between 10 and 3600 (got $INTERVAL_S)")
fi
if [[ -z ${WATCHDOG_SCRIPT_B64:-} ]]; then problems+=("WATCHDOG_SCRIPT_B64: should be the base64 of scripts/watchdog.sh (missing)"); fi
if [[ -z ${WATCHDOG_ENV_B64+x} ]]; then problems+=("WATCHDOG_ENV_B64: should be given, '' for an empty thresholds file (missing)"); fi
if [[ -z ${WATCHDOG_SECRETS_B64+x} ]]; then problems+=("WATCHDOG_SECRETS_B64: should be given, '' for no secrets (missing)"); fi
for tool in base64 cmp curl awk timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then problems+=("$tool: required by the watchdog, not found on this host"); fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# decode VAR FILE: the payload is decoded with builtins feeding base64 on stdin (no argv exposure).
decode() {
  local var=$1 out=$2
  if ! printf '%s' "${!var:-}" | base64 -d >"$out" 2>/dev/null; then
    problems+=("$var: should be base64 (decoding failed)")
  fi
}
if ((${#problems[@]} == 0)); then
  decode WATCHDOG_SCRIPT_B64 "$work/watchdog"
  decode WATCHDOG_ENV_B64 "$work/env"
  decode WATCHDOG_SECRETS_B64 "$work/secrets"
  if [[ -s $work/watchdog ]] && { [[ $(head -c 2 "$work/watchdog") != '#!' ]] || ! bash -n "$work/watchdog" 2>/dev/null; }; then
    problems+=("WATCHDOG_SCRIPT_B64: should decode to a bash script (scripts/watchdog.sh); it does not parse")
  fi
fi
if ((${#problems[@]} > 0)); then
  printf '%s install: %s\n' "$NAME" "${problems[@]}" >&2
  exit 1
fi

cat >"$work/status" <<EOF
#!/bin/sh
# Installed by install-watchdog.sh: current readings and thresholds, nothing is sent.
exec $BIN --status "\$@"
EOF

# The check must finish before the next one is due; its own timeouts add up to ~35 s at worst.
timeout_s=$((INTERVAL_S > 60 ? INTERVAL_S - 10 : INTERVAL_S * 5 / 6))
cat >"$work/service" <<EOF
[Unit]
Description=app-infra watchdog: one check of memory, swap, CPU, queue, Redis, API and containers
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=$BIN
# The watchdog must never compete with the app it watches.
Nice=10
CPUSchedulingPolicy=batch
IOSchedulingClass=idle
CPUWeight=20
# Measured peak of one check ~30 MB (the docker CLI alone is ~24 MB RSS); the cap leaves room for
# page cache and keeps a misbehaving run from taking the app's memory.
MemoryMax=64M
MemorySwapMax=0
TimeoutStartSec=${timeout_s}s
StateDirectory=app-infra-watchdog
StateDirectoryMode=0700
NoNewPrivileges=yes
PrivateTmp=yes
ProtectHome=yes
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

changed=()
units_changed=0

# put SRC PATH MODE: install SRC at DESTDIR/PATH unless the same content is already there.
put() {
  local src=$1 path=$2 mode=$3 dest=$DESTDIR$2 dir
  dir=${dest%/*}
  if [[ ! -d $dir ]]; then install -d -m 0755 "$dir"; fi
  if [[ -f $dest ]] && cmp -s "$src" "$dest"; then
    if [[ $(stat -c %a "$dest") != "${mode#0}" ]]; then
      chmod "$mode" "$dest"
      say "fixed mode $mode of $path"
    fi
    return 0
  fi
  install -m "$mode" "$src" "$dest.new"
  mv -f "$dest.new" "$dest"
  changed+=("$path")
  say "wrote $path"
  if [[ $path == "$UNIT_DIR"/* ]]; then units_changed=1; fi
}

put "$work/watchdog" "$BIN" 0755
put "$work/status" "$STATUS_BIN" 0755
put "$work/env" "$ENV_FILE" 0600
put "$work/secrets" "$SECRETS_FILE" 0600
put "$work/service" "$UNIT_DIR/$NAME.service" 0644
put "$work/timer" "$UNIT_DIR/$NAME.timer" 0644

if ((units_changed)); then "${systemctl[@]}" daemon-reload; fi
"${systemctl[@]}" enable --now "$NAME.timer"
if ((units_changed)); then "${systemctl[@]}" restart "$NAME.timer"; fi

if ((${#changed[@]} == 0)); then
  say "unchanged (timer enabled, every ${INTERVAL_S} s)"
else
  say "${#changed[@]} file(s) changed$( ((units_changed)) && printf ', timer restarted'), every ${INTERVAL_S} s"
fi

#!/usr/bin/env bash
# Installs and configures Docker Engine on Ubuntu 24.04 from Ubuntu's own archive (package
# docker.io), so no third-party apt repository or key is involved. Run as root, from a checkout:
#   bash scripts/install-docker.sh
# The program sends it as `bash -s` with its shipped text on stdin: this file with lib/apt.sh
# inlined (readScript, components/host.ts), since a script on stdin cannot source a file.
# Converges: package installed, /etc/docker/daemon.json, docker.service enabled and running,
# security upgrades of docker.io restart dockerd (under live-restore), containers cannot reach the
# cloud metadata service, a weekly prune of old images that spares the last releases'
# (docker-prune.timer). Safe to run again; restarts dockerd only when daemon.json changed.
# Arguments: KEPT_IMAGES_FILE [swarm]
#   KEPT_IMAGES_FILE  the list of the last releases' images that `pulumi up` writes
#                     (src/plan/releases.ts KEPT_IMAGES_FILE); the prune spares what it names
#   swarm             a stage-4 node: live-restore off, since dockerd refuses Swarm mode with it
#                     ("--live-restore daemon configuration is incompatible with swarm mode").
#                     Without it live-restore is on, unless this engine is still in a swarm (a
#                     stack moved back to stage 3 whose core has not left it yet): then it stays
#                     off, and the log says so.
# Environment (for tests):
#   DOCKER_DAEMON_JSON  default /etc/docker/daemon.json
#   SYSTEMD_UNIT_DIR    default /etc/systemd/system
#   SBIN_DIR            default /usr/local/sbin (the metadata-block helper)
#   APT_ATTEMPTS        default 30 tries of an apt-get command ...
#   APT_RETRY_SLEEP_S   default 10 s apart (cloud-init or unattended-upgrades may hold the lock)
#
# The whole script is one function called on its last line: bash reads a script on stdin only as
# far as the command it runs next, so a child that read stdin (dpkg's conffile prompt, a
# maintainer script) would otherwise swallow the rest of the script, and bash would exit 0 with
# half the work undone. Children also get </dev/null where they might read.
set -euo pipefail

# The metadata service of Hetzner Cloud (and most clouds). It serves the server's user-data, which
# holds the pinned SSH host private key (src/plan/cloud-init.ts), without authentication.
readonly METADATA_IP=169.254.169.254
readonly METADATA_HELPER_NAME=app-infra-block-metadata
readonly PRUNE_HELPER_NAME=app-infra-prune-images
# The prune removes unused images created more than 7 days ago, as `until=168h` did before.
readonly PRUNE_MAX_AGE_S=604800

say() { echo "install-docker: $*"; }
die() {
  say "$*" >&2
  exit 1
}

# apt_get: apt-get retried, with stdin, conffile prompts and needrestart's restarts held off
# (lib/apt.sh explains each option).
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh" # app-infra:inline
# prune_images: the weekly prune's program, installed as $SBIN_DIR/$PRUNE_HELPER_NAME.
# shellcheck source-path=SCRIPTDIR source=lib/prune-images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/prune-images.sh" # app-infra:inline

# Writes stdin to $1 only when the content differs; returns 0 if it wrote, 1 if unchanged.
# $2: the mode (default 644). Errors die explicitly: callers test the result in an `if` or `||`,
# where bash ignores set -e inside the function.
write_if_changed() {
  local path=$1 mode=${2:-644} tmp
  mkdir -p "$(dirname "$path")" || die "cannot create $(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX") || die "cannot create a temporary file next to $path"
  cat >"$tmp" || die "cannot write $tmp"
  if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  { chmod "$mode" "$tmp" && mv "$tmp" "$path"; } || die "cannot install $path"
  say "wrote $path"
}

# --- daemon.json, before the package so a first install starts with it ------------------------

# Logs: json-file rotated at 10 MB x 3 per container, so chatty containers cannot fill the disk
# (Docker's default json-file driver never rotates).
# live-restore ($1, true or false): containers keep running while dockerd restarts (config change,
# package upgrade); off on a Swarm node (above).
write_daemon_json() {
  write_if_changed "$DOCKER_DAEMON_JSON" <<JSON
{
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "10m",
    "max-file": "3"
  },
  "live-restore": $1
}
JSON
}

# Whether daemon.json texts $1 and $2 differ in live-restore alone: dockerd reloads that one on
# SIGHUP (moby daemon/reload.go:108 and 244-253 at v28.5.2), so no restart is needed.
only_live_restore_differs() {
  local a=${1//\"live-restore\": true/\"live-restore\": X} b=${2//\"live-restore\": true/\"live-restore\": X}
  a=${a//\"live-restore\": false/\"live-restore\": X}
  b=${b//\"live-restore\": false/\"live-restore\": X}
  [[ $1 != "$2" && $a == "$b" ]]
}

# --- upgrades of docker.io restart dockerd ----------------------------------------------------
#
# docker.io reaches noble-security (e.g. 27.5.1-0ubuntu3~24.04.2, canonical/docker.io-app), so
# unattended-upgrades installs it. Its postinst restarts a running dockerd only when the debconf
# question docker.io/restart is true, and the template's default is false
# (canonical/docker.io-app, branch ubuntu/noble, debian/docker.io.templates and
# debian/docker.io.postinst: `db_get docker.io/restart; if [ "$RET" = 'true' ]; then invoke-rc.d
# docker restart`); needrestart never restarts docker either (its override_rc excludes ^docker).
# So by default a security upgrade leaves the old dockerd running against new containerd/runc
# binaries, which the template itself warns breaks starting new containers (LP: #1658691), and
# the next deploy that replaces a container can fail.
#
# We answer true rather than `apt-mark hold docker.io containerd runc`: a hold would also stop
# the security fixes of runc and containerd (container escapes), which matter more on a box that
# runs the app's own images than a restart does, and the restart is cheap here because
# daemon.json sets live-restore: containers keep running while dockerd restarts. The caveat
# (docs.docker.com, "Live restore"): live-restore is only supported across patch releases; a
# major jump in the security pocket (a copy of an SRU) may leave dockerd unable to re-attach, and
# a container would then be restarted by its restart policy. An operator who prefers control
# holds the three packages by hand and upgrades them deliberately (README, "Host upgrades").
# Set before the package is installed, so even the first upgrade after install restarts.
preseed_restart_on_upgrade() {
  # debconf-show prints `* docker.io/restart: true` (the * when the question was seen).
  if debconf-show docker.io 2>/dev/null </dev/null | grep -Eq '^[* ] docker\.io/restart: true$'; then
    return 0
  fi
  debconf-set-selections <<<'docker.io docker.io/restart boolean true'
  say "docker.io upgrades now restart dockerd (debconf docker.io/restart=true)"
}

# --- containers cannot reach the cloud metadata service ----------------------------------------
#
# Hetzner serves user-data at http://169.254.169.254/hetzner/v1/userdata to the server without
# authentication, and containers on a Docker bridge are routed (and NATed) through the host, so a
# compromised container could read the SSH host private key and impersonate the host to the
# deployer. A REJECT for that address in the DOCKER-USER chain stops forwarded traffic only: the
# host's own requests (cloud-init) go through OUTPUT, not FORWARD, and are untouched.
#
# Why DOCKER-USER and how it survives:
# - dockerd jumps to DOCKER-USER first from FORWARD, before its own accept rules, and never
#   deletes or changes the rules in it; it only creates the chain when it is missing (moby
#   daemon/libnetwork/firewall_linux.go setupUserChain, and iptables.go NewChain: "Add chain if it
#   doesn't exist"; the same in v24.0.7's arrangeUserFilterRule). So a dockerd restart keeps it.
# - A reboot empties the kernel's tables, so the rule is restored by an ExecStartPre of
#   docker.service (a drop-in): the helper creates the chain if needed and inserts the rule
#   *before* dockerd starts, i.e. before it restarts any container. daemon.json cannot express
#   such a rule, and nftables-backend dockerd (an opt-in, "firewall-backend") has no DOCKER-USER;
#   we do not set it.
# - The helper is idempotent (-C before -I), so it runs again at the end of this script for a
#   dockerd that was started before the drop-in existed.
# - "-" on ExecStartPre: a failure is logged but does not keep dockerd (and the app) down; this
#   script checks the rule on every run and fails the deploy without it.
# IPv4 only: the metadata service has no IPv6 address.
write_metadata_block() {
  local changed=1
  write_if_changed "$SBIN_DIR/$METADATA_HELPER_NAME" 755 <<EOF || changed=0
#!/bin/sh
# Managed by app-infra (scripts/install-docker.sh): containers may not reach the cloud metadata
# service ($METADATA_IP), which serves this server's user-data. Idempotent; run by docker.service
# (ExecStartPre) and by install-docker.sh.
set -eu
comment="app-infra: no cloud metadata for containers"
iptables -w -n -L DOCKER-USER >/dev/null 2>&1 || iptables -w -N DOCKER-USER
if ! iptables -w -C DOCKER-USER -d $METADATA_IP/32 -m comment --comment "\$comment" -j REJECT 2>/dev/null; then
  iptables -w -I DOCKER-USER 1 -d $METADATA_IP/32 -m comment --comment "\$comment" -j REJECT
  echo "$METADATA_HELPER_NAME: containers can no longer reach $METADATA_IP"
fi
EOF
  write_if_changed "$SYSTEMD_UNIT_DIR/docker.service.d/50-app-infra-metadata.conf" <<EOF || ((changed)) || return 1
# Managed by app-infra (scripts/install-docker.sh): the metadata block is in place before dockerd
# (re)starts any container, also after a reboot.
[Service]
ExecStartPre=-$SBIN_DIR/$METADATA_HELPER_NAME
EOF
}

# --- weekly prune of old images, sparing the last releases' -------------------------------------
#
# `docker image prune -a` would also remove the images of the releases a rollback goes back to
# (they are unused once replaced), and a rollback would then depend on the registry still having
# them. The helper is prune_images (scripts/lib/prune-images.sh), written out with `declare -f`
# so the file is exactly the function this script was shipped with.

# $1: the kept-images file. Returns 0 when it wrote any of the three files.
write_prune_units() {
  local kept_file=$1 wrote=0 helper
  helper="$(
    printf '%s\n' '#!/usr/bin/env bash' \
      '# Managed by app-infra (scripts/install-docker.sh, scripts/lib/prune-images.sh): removes' \
      "# unused Docker images older than 7 days, except the last releases' (the list in the first" \
      '# argument). Run weekly by docker-prune.service.' \
      'set -euo pipefail'
    declare -f prune_images
    printf '%s\n' 'prune_images "$@"'
  )"
  write_if_changed "$SBIN_DIR/$PRUNE_HELPER_NAME" 755 <<<"$helper" && wrote=1
  write_if_changed "$SYSTEMD_UNIT_DIR/docker-prune.service" <<UNIT && wrote=1
# Managed by app-infra (scripts/install-docker.sh).
[Unit]
Description=Remove unused Docker images older than 7 days, except the last releases'
Requires=docker.service
After=docker.service

[Service]
Type=oneshot
ExecStart=$SBIN_DIR/$PRUNE_HELPER_NAME $kept_file $PRUNE_MAX_AGE_S
UNIT
  write_if_changed "$SYSTEMD_UNIT_DIR/docker-prune.timer" <<'UNIT' && wrote=1
# Managed by app-infra (scripts/install-docker.sh).
[Unit]
Description=Weekly prune of old Docker images

[Timer]
OnCalendar=weekly
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
UNIT
  ((wrote))
}

main() {
  DOCKER_DAEMON_JSON=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
  SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-/etc/systemd/system}
  SBIN_DIR=${SBIN_DIR:-/usr/local/sbin}
  APT_ATTEMPTS=${APT_ATTEMPTS:-30}
  APT_RETRY_SLEEP_S=${APT_RETRY_SLEEP_S:-10}

  [[ ($# -eq 1 || ($# -eq 2 && $2 == swarm)) && $1 == /* ]] ||
    die "takes the kept-images file as an absolute path, then optionally 'swarm' (got: ${*:-nothing})"
  local kept_file=$1 live_restore=true old_json=""
  if [[ ${2:-} == swarm ]]; then
    live_restore=false
  elif command -v docker >/dev/null &&
    [[ $(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null </dev/null || true) == active ]]; then
    live_restore=false
    say "this engine is still in a swarm: live-restore stays off (docker swarm leave --force, then run this again)"
  fi
  [[ $APT_ATTEMPTS =~ ^[1-9][0-9]*$ ]] || die "APT_ATTEMPTS: should be a positive integer (got '$APT_ATTEMPTS')"
  [[ $APT_RETRY_SLEEP_S =~ ^[0-9]+$ ]] || die "APT_RETRY_SLEEP_S: should be an integer (got '$APT_RETRY_SLEEP_S')"

  # Also for what runs outside apt_get (debconf-set-selections, systemctl).
  export DEBIAN_FRONTEND=noninteractive

  local daemon_json_changed=0 fresh_install=0
  [[ -f $DOCKER_DAEMON_JSON ]] && old_json=$(<"$DOCKER_DAEMON_JSON")
  if write_daemon_json "$live_restore"; then daemon_json_changed=1; fi
  if write_metadata_block; then
    # Read by the next start of dockerd; this run applies the rule itself below.
    systemctl daemon-reload
  fi
  preseed_restart_on_upgrade

  # --- package ----------------------------------------------------------------------------------
  if [[ $(dpkg-query -W -f='${Status}' docker.io 2>/dev/null || true) == "install ok installed" ]]; then
    say "docker.io already installed ($(dpkg-query -W -f='${Version}' docker.io))"
  else
    apt_get update
    # No recommends (git, pigz, ubuntu-fan, ...), but apparmor, which docker.io only recommends:
    # without /sbin/apparmor_parser Docker runs containers unconfined, silently (containerd
    # pkg/apparmor hostSupports). Ubuntu server images ship it; this keeps it so.
    apt_get install -y --no-install-recommends docker.io apparmor
    say "installed docker.io ($(dpkg-query -W -f='${Version}' docker.io))"
    fresh_install=1
  fi

  # --- service ----------------------------------------------------------------------------------
  if ! systemctl is-enabled --quiet docker.service; then
    systemctl enable docker.service
    say "enabled docker.service"
  fi
  if ! systemctl is-active --quiet docker.service; then
    systemctl start docker.service
    say "started docker.service"
  elif ((daemon_json_changed && !fresh_install)) &&
    only_live_restore_differs "$old_json" "$(<"$DOCKER_DAEMON_JSON")"; then
    # No restart, so the containers are not touched; the reload is asynchronous, so wait for it
    # (the Swarm's init runs right after this step).
    systemctl reload docker.service
    local waited
    for ((waited = 0; waited < 30; waited++)); do
      [[ $(docker info --format '{{.LiveRestoreEnabled}}' </dev/null) == "$live_restore" ]] && break
      sleep 1
    done
    [[ $(docker info --format '{{.LiveRestoreEnabled}}' </dev/null) == "$live_restore" ]] ||
      die "dockerd did not take live-restore: $live_restore from $DOCKER_DAEMON_JSON within 30 s of a reload"
    say "reloaded docker.service (live-restore: $live_restore)"
  elif ((daemon_json_changed && !fresh_install)); then
    # log-driver and log-opts are not among the options dockerd reloads on SIGHUP: restart.
    systemctl restart docker.service
    say "restarted docker.service ($DOCKER_DAEMON_JSON changed)"
  fi

  # dockerd may have been running since before the drop-in existed: apply the block now too.
  "$SBIN_DIR/$METADATA_HELPER_NAME" </dev/null ||
    die "could not block containers from $METADATA_IP (iptables, chain DOCKER-USER)"

  # --- weekly prune ---------------------------------------------------------------------------
  if write_prune_units "$kept_file"; then
    systemctl daemon-reload
    systemctl enable docker-prune.timer
    # A running timer keeps its old schedule until restarted.
    systemctl restart docker-prune.timer
    say "enabled and (re)started docker-prune.timer"
  elif ! systemctl is-enabled --quiet docker-prune.timer || ! systemctl is-active --quiet docker-prune.timer; then
    systemctl enable --now docker-prune.timer
    say "enabled docker-prune.timer"
  fi

  say "done ($(docker --version))"
}

# Must stay the last line (see the top).
main "$@"

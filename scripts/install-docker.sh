#!/usr/bin/env bash
# Installs and configures Docker Engine on Ubuntu 24.04 from Ubuntu's own archive (package
# docker.io), so no third-party apt repository or key is involved. Run as root:
#   bash -s < install-docker.sh
# Converges: package installed, /etc/docker/daemon.json, docker.service enabled and running,
# a weekly prune of old images (docker-prune.timer). Safe to run again; restarts dockerd only
# when daemon.json changed.
# Environment (for tests):
#   DOCKER_DAEMON_JSON  default /etc/docker/daemon.json
#   SYSTEMD_UNIT_DIR    default /etc/systemd/system
#   APT_ATTEMPTS        default 30 tries of an apt-get command ...
#   APT_RETRY_SLEEP_S   default 10 s apart (cloud-init or unattended-upgrades may hold the lock)
set -euo pipefail

DOCKER_DAEMON_JSON=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-/etc/systemd/system}
APT_ATTEMPTS=${APT_ATTEMPTS:-30}
APT_RETRY_SLEEP_S=${APT_RETRY_SLEEP_S:-10}

die() {
  echo "install-docker: $*" >&2
  exit 1
}

[[ $# -eq 0 ]] || die "takes no arguments (got: $*)"
[[ $APT_ATTEMPTS =~ ^[1-9][0-9]*$ ]] || die "APT_ATTEMPTS: should be a positive integer (got '$APT_ATTEMPTS')"
[[ $APT_RETRY_SLEEP_S =~ ^[0-9]+$ ]] || die "APT_RETRY_SLEEP_S: should be an integer (got '$APT_RETRY_SLEEP_S')"

export DEBIAN_FRONTEND=noninteractive

# apt-get waits for the dpkg lock by itself (DPkg::Lock::Timeout, apt >= 1.9.11), but not for
# every lock (e.g. the lists lock during `update`) and not for a mirror hiccup: retry the whole
# command too.
apt_get() {
  local attempt
  for ((attempt = 1; ; attempt++)); do
    if apt-get -q -o DPkg::Lock::Timeout=60 "$@"; then
      return 0
    fi
    ((attempt < APT_ATTEMPTS)) || die "apt-get $* failed $APT_ATTEMPTS times, giving up"
    echo "install-docker: apt-get $* failed (attempt $attempt/$APT_ATTEMPTS), retrying in ${APT_RETRY_SLEEP_S} s"
    sleep "$APT_RETRY_SLEEP_S"
  done
}

# Writes stdin to $1 only when the content differs; returns 0 if it wrote, 1 if unchanged.
write_if_changed() {
  local path=$1 tmp
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX")
  cat >"$tmp"
  if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 644 "$tmp"
  mv "$tmp" "$path"
  echo "install-docker: wrote $path"
}

# --- daemon.json, before the package so a first install starts with it ------------------------

# Logs: json-file rotated at 10 MB x 3 per container, so chatty containers cannot fill the disk
# (Docker's default json-file driver never rotates).
# live-restore: containers keep running while dockerd restarts (config change, package upgrade).
daemon_json_changed=0
if write_if_changed "$DOCKER_DAEMON_JSON" <<'JSON'; then daemon_json_changed=1; fi
{
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "10m",
    "max-file": "3"
  },
  "live-restore": true
}
JSON

# --- package ------------------------------------------------------------------------------------

if [[ $(dpkg-query -W -f='${Status}' docker.io 2>/dev/null || true) == "install ok installed" ]]; then
  echo "install-docker: docker.io already installed ($(dpkg-query -W -f='${Version}' docker.io))"
  fresh_install=0
else
  apt_get update
  # No recommends: git, pigz and ubuntu-fan are not needed to run containers.
  apt_get install -y --no-install-recommends docker.io
  echo "install-docker: installed docker.io ($(dpkg-query -W -f='${Version}' docker.io))"
  fresh_install=1
fi

# --- service ------------------------------------------------------------------------------------

if ! systemctl is-enabled --quiet docker.service; then
  systemctl enable docker.service
  echo "install-docker: enabled docker.service"
fi
if ! systemctl is-active --quiet docker.service; then
  systemctl start docker.service
  echo "install-docker: started docker.service"
elif ((daemon_json_changed && !fresh_install)); then
  # log-driver and log-opts are not among the options dockerd reloads on SIGHUP: restart.
  systemctl restart docker.service
  echo "install-docker: restarted docker.service ($DOCKER_DAEMON_JSON changed)"
fi

# --- weekly prune of images unused for 7 days ---------------------------------------------------

units_changed=0
if write_if_changed "$SYSTEMD_UNIT_DIR/docker-prune.service" <<'UNIT'; then units_changed=1; fi
# Managed by app-infra (scripts/install-docker.sh).
[Unit]
Description=Remove Docker images unused for 7 days
Requires=docker.service
After=docker.service

[Service]
Type=oneshot
ExecStart=/usr/bin/docker image prune -af --filter until=168h
UNIT
if write_if_changed "$SYSTEMD_UNIT_DIR/docker-prune.timer" <<'UNIT'; then units_changed=1; fi
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
if ((units_changed)); then
  systemctl daemon-reload
  systemctl enable docker-prune.timer
  # A running timer keeps its old schedule until restarted.
  systemctl restart docker-prune.timer
  echo "install-docker: enabled and (re)started docker-prune.timer"
elif ! systemctl is-enabled --quiet docker-prune.timer || ! systemctl is-active --quiet docker-prune.timer; then
  systemctl enable --now docker-prune.timer
  echo "install-docker: enabled docker-prune.timer"
fi

echo "install-docker: done ($(docker --version))"

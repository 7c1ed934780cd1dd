#!/usr/bin/env bash
# Builds the lab's VM and container base from Debian's packages, into OUT_DIR (created here):
#   vmlinuz, initrd.img   the kernel of linux-image-cloud-amd64 and its initramfs (direct kernel
#                         boot: qemu -kernel/-initrd, no bootloader)
#   root.raw              a sparse raw ext4 root disk (no partition table): Debian 12 with systemd,
#                         openssh-server, cloud-init, curl, ca-certificates, python3 — and no
#                         Docker: the program's install-docker.sh installs docker.io from the
#                         mirror, as on a new Hetzner server
#   lab-base.tar          a minimal Debian 12 root file system with python3-fastapi, -uvicorn,
#                         -rq, -redis and redis-server, for `docker import` inside the VM
#   recipe.sha256         the recipe hash this was built from
# Usage: build-image.sh OUT_DIR RECIPE_HASH      (as root; the caller holds the cache's flock)
#        build-image.sh --print-mirror [APT_DIR]  (the mirror it would use; APT_DIR: /etc/apt)
# Environment: LAB_MIRROR (default: the Debian mirror this machine's apt uses, read from
# /etc/apt/sources.list and /etc/apt/sources.list.d/ at run time), LAB_ROOT_DISK_GB (default 12).
# The host needs: debootstrap, e2fsprogs (mkfs.ext4 -d: no loop device is needed), util-linux.
set -euo pipefail

SUITE=bookworm

# The first URI of an enabled `deb` source for Debian's `main` whose suites include SUITE (else
# another Debian suite: the archive serves every suite at the same root). Both formats of
# sources.list(5): one-line files (*.list) and deb822 stanzas (*.sources; Debian 12 ships
# /etc/apt/sources.list.d/debian.sources). Prints nothing when there is none.
apt_mirror() {
  local apt_dir=$1 f files=()
  [[ -f $apt_dir/sources.list ]] && files+=("$apt_dir/sources.list")
  for f in "$apt_dir"/sources.list.d/*.list "$apt_dir"/sources.list.d/*.sources; do
    [[ -f $f ]] && files+=("$f")
  done
  ((${#files[@]})) || return 0
  # One "URI SUITE..." line per usable source, in file order; then the best suite wins.
  awk '
    function flush() {
      if (f["types"] ~ /(^| )deb( |$)/ && f["components"] ~ /(^| )main( |$)/ && tolower(f["enabled"]) != "no" && f["uris"] != "") {
        split(f["uris"], u, " "); print u[1], f["suites"]
      }
      split("", f); last = ""
    }
    FNR == 1 { flush() }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*#/) next
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      # A line starting with white space continues the field before it.
      if ($0 ~ /^[ \t]/) { if (last != "") f[last] = f[last] " " $0; next }
      last = tolower($0); sub(/:.*/, "", last)
      val = $0; sub(/^[^:]*:[ \t]*/, "", val)
      f[last] = val
      next
    }
    {
      line = $0; sub(/#.*/, "", line); gsub(/\[[^]]*\]/, " ", line)
      n = split(line, w, /[ \t]+/); i = (w[1] == "") ? 2 : 1
      if (w[i] != "deb") next
      c = ""; for (j = i + 3; j <= n; j++) c = c " " w[j]
      if (c ~ / main( |$)/) print w[i + 1], w[i + 2]
    }
    END { flush() }
  ' "${files[@]}" | awk -v suite="$SUITE" '
    {
      for (i = 2; i <= NF; i++) {
        if ($i == suite && exact == "") exact = $1
        if ($i ~ /^(bullseye|bookworm|trixie|forky|duke|sid|oldstable|stable|testing|unstable)$/ && other == "") other = $1
      }
    }
    END { if (exact != "") print exact; else if (other != "") print other }
  '
}

if [[ ${1:-} == --print-mirror ]]; then
  m=$(apt_mirror "${2:-/etc/apt}")
  [[ -n $m ]] || { echo "build-image: no Debian mirror in ${2:-/etc/apt}/sources.list{,.d}" >&2; exit 1; }
  echo "$m"
  exit 0
fi

OUT_DIR=${1:?usage: build-image.sh OUT_DIR RECIPE_HASH}
RECIPE_HASH=${2:?usage: build-image.sh OUT_DIR RECIPE_HASH}
MIRROR=${LAB_MIRROR:-$(apt_mirror /etc/apt)}
[[ -n $MIRROR ]] || {
  echo "build-image: found no Debian mirror for debootstrap: no enabled 'deb' source of Debian's 'main' in" \
    "/etc/apt/sources.list or /etc/apt/sources.list.d/*.{list,sources}; set LAB_MIRROR to one" >&2
  exit 1
}
ROOT_DISK_GB=${LAB_ROOT_DISK_GB:-12}

# The VM: what the brief of the lab names, plus what a booted systemd box needs to get an address
# (systemd-networkd is part of systemd) and what the program's scripts call (procps: free, sysctl;
# util-linux: swapon, fallocate, mkswap; iproute2 for debugging). apparmor: Debian's kernel enables
# AppArmor, and dockerd refuses to start containers when it cannot load its profile without it.
# locales: cloud-init's locale module runs update-locale and fails the boot without it (below).
VM_PACKAGES=apparmor,locales,systemd,systemd-sysv,udev,dbus,openssh-server,cloud-init,curl,ca-certificates,python3,linux-image-cloud-amd64,initramfs-tools,procps,iproute2,kmod,util-linux,e2fsprogs
# The containers' base: the reference app's Python stack and the Redis stand-in, both from Debian.
# Debian ships the `uvicorn` command in its own package, apart from the python3-uvicorn module.
BASE_PACKAGES=python3,python3-fastapi,python3-uvicorn,uvicorn,python3-rq,python3-redis,redis-server

[[ $EUID -eq 0 ]] || { echo "build-image: must run as root (debootstrap)" >&2; exit 1; }
say() { printf '[build-image %(%H:%M:%S)T] %s\n' -1 "$*"; }
if [[ -n ${LAB_MIRROR:-} ]]; then say "Debian mirror: $MIRROR (LAB_MIRROR)"; else say "Debian mirror: $MIRROR (from this machine's apt sources)"; fi
work=$(mktemp -d /var/tmp/app-infra-lab-build.XXXXXX)
# Unmount the chroot's /proc, /sys and /dev before removing anything (an interrupted build leaves
# them mounted), and never cross into another file system while removing.
cleanup() {
  local m
  for m in dev sys proc; do if mountpoint -q "$work/vm/$m"; then umount -l "$work/vm/$m"; fi; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
mkdir -p "$OUT_DIR"

build_vm() {
  local root=$work/vm
  say "debootstrap VM root, then apt-get install ${VM_PACKAGES//,/ }"
  # debootstrap's own resolver trips over cloud-init's Python dependencies: it only lays down a
  # minimal base, and apt (with its real resolver) installs the rest inside the chroot.
  debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$work/vm.log" 2>&1 ||
    { tail -30 "$work/vm.log" "$root/debootstrap/debootstrap.log" >&2; return 1; }
  mount -t proc proc "$root/proc"
  mount -t sysfs sys "$root/sys"
  mount --bind /dev "$root/dev"
  # No service may start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  local rc=0
  {
    chroot "$root" apt-get -q update &&
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -q install -y --no-install-recommends ${VM_PACKAGES//,/ } &&
      # cloud-init sets LANG=en_US.UTF-8 with update-locale, which refuses a locale that is not
      # generated; Debian's locale-gen ignores its arguments and builds what locale.gen lists
      # (Hetzner's Ubuntu image has it already).
      sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' "$root/etc/locale.gen" &&
      chroot "$root" locale-gen
  } >>"$work/vm.log" 2>&1 || rc=$?
  umount "$root/dev" "$root/sys" "$root/proc"
  rm -f "$root/usr/sbin/policy-rc.d"
  ((rc == 0)) || { tail -30 "$work/vm.log" >&2; return 1; }

  # The root disk is a whole virtio disk, ext4, no partition table.
  # By label: virtio disks are probed in parallel, so the root disk is not always vda.
  printf 'LABEL=lab-root / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
  echo app-infra-lab >"$root/etc/hostname"
  # Every boot is a fresh machine to systemd and cloud-init (like a new Hetzner server).
  : >"$root/etc/machine-id"
  rm -f "$root"/var/lib/dbus/machine-id "$root"/etc/ssh/ssh_host_*
  rm -rf "$root/var/lib/cloud"
  # DHCP on the qemu user network (10.0.2.15); cloud-init must not rewrite networking.
  cat >"$root/etc/systemd/network/80-lab.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
  chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
  printf 'nameserver 10.0.2.3\n' >"$root/etc/resolv.conf"
  # Stand-ins for Hetzner's platform: only NoCloud (the lab's seed disk) is looked for, no
  # default user is created (Hetzner's images log in as root with the keys of `sshKeys`).
  cat >"$root/etc/cloud/cloud.cfg.d/90-app-infra-lab.cfg" <<'EOF'
# app-infra lab: stands in for Hetzner's platform.
datasource_list: [ NoCloud, None ]
network: {config: disabled}
users: []
EOF
  # apt in the VM uses the same mirror (debootstrap wrote it to sources.list): install-docker.sh
  # fetches docker.io from it through qemu's user network. No registry is reachable: the lab's
  # images are built inside the VM.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb

  local kver modules=("$root"/lib/modules/*)
  kver=${modules[0]##*/}
  [[ -f $root/boot/initrd.img-$kver ]] || chroot "$root" update-initramfs -c -k "$kver" >/dev/null
  cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
  say "mkfs.ext4 ${ROOT_DISK_GB}G root disk (kernel $kver)"
  truncate -s "${ROOT_DISK_GB}G" "$work/root.raw"
  mkfs.ext4 -q -F -L lab-root -d "$root" "$work/root.raw"
}

build_base() {
  local root=$work/base
  say "debootstrap container base ($BASE_PACKAGES)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$root" "$MIRROR" >"$work/base.log" 2>&1 ||
    { tail -30 "$work/base.log" >&2; return 1; }
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  # The VM imports this tar (docker import) on every lab run: 112 s for 194 MB under TCG (a lab
  # run of 2026-11-27 21:06). Documentation and translations are a quarter of it and no container
  # reads them, as Debian's slim container images leave them out.
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
  # What the lab's images would otherwise add with RUN, one container started under TCG each
  # (24-29 s for the Redis stand-in's one line): kamal-proxy's user and state directory
  # (test/lab/edge.ts, as the official image has them; the path is src/plan/proxy.ts
  # PROXY_STATE_PATH), and the Redis stand-in's entrypoint (test/lab/images/redis.Dockerfile):
  # for a `redis-server` command, protected mode off, as the official image's build does.
  chroot "$root" useradd --create-home --uid 1000 kamal-proxy
  mkdir -p "$root/home/kamal-proxy/.config/kamal-proxy"
  chown -R 1000:1000 "$root/home/kamal-proxy"
  cat >"$root/usr/local/bin/redis-stand-in-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -e
if [ "${1:-}" = redis-server ]; then shift; exec redis-server "$@" --protected-mode no; fi
exec "$@"
ENTRYPOINT
  chmod 755 "$root/usr/local/bin/redis-stand-in-entrypoint.sh"
  # redis-server's package starts nothing in a container; its config file is not used (the
  # program passes every setting on the command line).
  tar -C "$root" --numeric-owner -cf "$work/lab-base.tar" .
}

build_vm &
vm_pid=$!
build_base &
base_pid=$!
rc=0
wait "$vm_pid" || rc=1
wait "$base_pid" || rc=1
((rc == 0)) || { echo "build-image: failed" >&2; exit 1; }

for f in vmlinuz initrd.img root.raw lab-base.tar; do mv -f "$work/$f" "$OUT_DIR/$f"; done
echo "$RECIPE_HASH" >"$OUT_DIR/recipe.sha256"
say "done: $OUT_DIR ($(du -sh --apparent-size "$OUT_DIR" | cut -f1) apparent, $(du -sh "$OUT_DIR" | cut -f1) on disk)"

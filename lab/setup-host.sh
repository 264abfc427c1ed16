#!/usr/bin/env bash
# Installs the host packages the Xen lab needs, as root. Idempotent: when
# everything is present it neither calls apt-get update nor installs.
#   qemu-system-x86   boots Xen under TCG (no usable KVM on CI machines)
#   debootstrap       builds the dom0 root filesystem from the Debian mirror
#   e2fsprogs         mkfs.ext4 -d: ext4 images without loop mounts
#   busybox-static    (the guest initramfs uses the image's own copy; this
#                     one lets the host sanity-check it)
#   cpio gzip         pack the guest initramfs
#   gcc pkg-config libxen-dev   compile the C lab tests on the host
#   libcrypt-dev      libcrypt.a: the guest agent (lab/guest/nxl-agent.c),
#                     static, hashes passwords with crypt(3)
set -euo pipefail

PKGS=(qemu-system-x86 qemu-utils debootstrap e2fsprogs busybox-static cpio
      gzip gcc libc6-dev libcrypt-dev pkg-config libxen-dev ca-certificates
      debian-archive-keyring coreutils util-linux)

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed' || printf '%s\n' "$p"
    done
}

if [ "$(id -u)" -ne 0 ]; then
    echo "lab/setup-host.sh: run as root (it installs packages with apt-get)" >&2
    exit 1
fi

mapfile -t need < <(missing "${PKGS[@]}")
if [ "${#need[@]}" -eq 0 ]; then
    echo "lab/setup-host.sh: all lab packages present"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${need[@]}"
echo "lab/setup-host.sh: installed ${need[*]}"

#!/usr/bin/env bash
# Builds the Xen lab's boot set: a Debian 12 dom0 root filesystem (ext4), its
# kernel and initramfs, and the Xen hypervisor as an ELF that QEMU's multiboot
# loader accepts. Cached under ${NXL_LAB_CACHE:-/var/cache/novaxl-lab}/<key>/,
# where <key> hashes every input: this script (package list, dom0 init stub and
# guest init are all in it), the mirrors, and the host's libxen-dev version
# (dom0 runs binaries compiled on the host, so their Xen libraries must match).
#
#   lab/build-image.sh               build if missing, print the cache dir
#   lab/build-image.sh --print-dir   print the cache dir, build nothing
#   lab/build-image.sh --force       rebuild even if cached
#
# The build goes to a temp dir renamed into place at the end, so an
# interrupted build never leaves a directory that looks valid. Runs as root
# (debootstrap, chroot).
set -euo pipefail

SUITE=bookworm
# Debian packages of the dom0. python3 comes in through xen-utils-common.
# libyajl2 and libxml2: the project's run-time dependencies.
# qemu-system-xen: the device model of HVM guests and the qdisk backend of
# PV/PVH disks (/etc/init.d/xen starts dom0's qdisk QEMU when it is there).
# iproute2: the guest bridge and vif-bridge; util-linux: losetup for the
# block hotplug script.
PKGS=(linux-image-amd64 xen-hypervisor-4.17-amd64 xen-utils-4.17
      xenstore-utils busybox-static kmod udev initramfs-tools cpio procps
      libyajl2 libxml2 iproute2 util-linux qemu-system-xen)
# Guest kernel modules put in the guest initramfs (the kernel has them as
# modules): disks and NICs from the translation reach the guest.
GUEST_MODULES=(drivers/block/xen-blkfront.ko drivers/net/xen-netfront.ko)
# Modules the dom0's initramfs needs to find its root on a virtio disk.
INITRD_MODULES=(virtio_pci virtio_blk ext4)
ROOTFS_SIZE=${NXL_LAB_ROOTFS_SIZE:-2G}

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
cache_root=${NXL_LAB_CACHE:-/var/cache/novaxl-lab}

log() { printf 'build-image: [%3ds] %s\n' "$(($(date +%s) - ${t0:-$(date +%s)}))" "$*" >&2; }

# The mirrors the host's apt uses (deb822 .sources or one-line .list), so
# the lab needs no network beyond what apt already reaches.
# Prints "MAIN SECURITY"; either may be overridden by the environment.
find_mirrors() {
    local main="" sec="" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # Stanzas are separated by blank lines; keep Types/URIs/Suites.
        while read -r uri suites; do
            case " $suites " in
                *" $SUITE-security "*) [ -n "$sec" ] || sec=$uri ;;
            esac
            case " $suites " in
                *" $SUITE "*) [ -n "$main" ] || main=$uri ;;
            esac
        done < <(awk -v RS= '
            /(^|\n)Types:[^\n]*deb([ \t\n]|$)/ && !/(^|\n)Enabled: *no/ {
                u = ""; s = ""
                n = split($0, L, "\n")
                for (i = 1; i <= n; i++) {
                    if (L[i] ~ /^URIs:/)   { u = L[i]; sub(/^URIs:[ \t]*/, "", u); sub(/[ \t].*/, "", u) }
                    if (L[i] ~ /^Suites:/) { s = L[i]; sub(/^Suites:[ \t]*/, "", s) }
                }
                if (u != "") print u, s
            }' "$f")
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        while read -r uri suite; do
            case $suite in
                "$SUITE-security") [ -n "$sec" ] || sec=$uri ;;
                "$SUITE") [ -n "$main" ] || main=$uri ;;
            esac
        done < <(sed -n 's/^deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\([^ \t]\+\).*/\2 \3/p' "$f")
    done
    main=${NXL_LAB_MIRROR:-${main:-http://deb.debian.org/debian}}
    sec=${NXL_LAB_SECURITY_MIRROR:-${sec:-http://deb.debian.org/debian-security}}
    printf '%s %s\n' "${main%/}" "${sec%/}"
}

read -r MIRROR SECURITY_MIRROR < <(find_mirrors)
host_libxen=$(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null || echo none)
key=$( { cat "$self"; echo "$MIRROR $SECURITY_MIRROR $host_libxen $ROOTFS_SIZE"; } |
      sha256sum | cut -c1-16)
out="$cache_root/$key"

case ${1:-} in
    --print-dir) echo "$out"; exit 0 ;;
    --force) force=1 ;;
    "") force=0 ;;
    *) echo "usage: $0 [--print-dir|--force]" >&2; exit 2 ;;
esac

if [ "$force" = 0 ] && [ -f "$out/stamp" ]; then
    log "cached: $out"
    echo "$out"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "build-image: must run as root (debootstrap, chroot)" >&2
    exit 1
fi
for t in debootstrap mkfs.ext4 cpio gzip; do
    command -v "$t" >/dev/null || { echo "build-image: $t missing: run lab/setup-host.sh" >&2; exit 1; }
done

t0=$(date +%s)
mkdir -p "$cache_root"
tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
chmod 755 "$tmp"   # readable by whoever boots it
root="$tmp/rootfs"
cleanup() {
    # Unmount before deleting, and never cross into a mount: a leftover
    # bind mount must not take host files with it.
    local m
    for m in sys proc; do
        mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
    done
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

log "mirror $MIRROR, security $SECURITY_MIRROR, host libxen-dev $host_libxen"
log "debootstrap $SUITE (minbase) into $root"
debootstrap --variant=minbase --components=main "$SUITE" "$root" "$MIRROR" \
    >"$tmp/debootstrap.log" 2>&1 || { tail -30 "$tmp/debootstrap.log" >&2; exit 1; }

cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
# No daemon may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
# A small initramfs: only what finds a virtio ext4 root. Set before the
# kernel is installed so that the initramfs is generated once.
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/usr/share/initramfs-tools/modules.d"
printf 'MODULES=list\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/novaxl-lab.conf"
printf '%s\n' "${INITRD_MODULES[@]}" >"$root/usr/share/initramfs-tools/modules.d/novaxl-lab"

# dpkg without fsync: the image is rebuilt from scratch if anything fails.
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/nxl-lab-unsafe-io"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
phases="debootstrap=$(($(date +%s) - t0))s"
log "apt: update, upgrade, install ${#PKGS[@]} packages"
{
    in_root apt-get update -q &&
    in_root apt-get -y -q -o Dpkg::Options::=--force-confold upgrade &&
    in_root apt-get -y -q --no-install-recommends -o Dpkg::Options::=--force-confold \
        install "${PKGS[@]}"
} >"$tmp/apt.log" 2>&1 || { tail -40 "$tmp/apt.log" >&2; exit 1; }
umount "$root/sys" "$root/proc"
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/dpkg/dpkg.cfg.d/nxl-lab-unsafe-io"
phases="$phases apt=$(($(date +%s) - t0))s"

# shellcheck disable=SC2016  # ${Version} is dpkg-query's, not ours
dom0_libxen=$(chroot "$root" dpkg-query -W -f='${Version}' libxenmisc4.17)
if [ "$dom0_libxen" != "$host_libxen" ]; then
    log "WARNING: dom0 Xen libraries $dom0_libxen != host libxen-dev $host_libxen"
fi

# Boot set, straight from the installed packages.
kver=$(basename "$(ls -d "$root"/lib/modules/*)")
cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/initrd.img"
# Xen's .gz is a 32-bit multiboot ELF once decompressed.
gzip -dc "$root"/boot/xen-4.17-amd64.gz >"$tmp/xen.elf"

# ---- dom0 configuration --------------------------------------------------
echo nxl-lab-dom0 >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 nxl-lab-dom0\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 rw 0 1\n' >"$root/etc/fstab"
mkdir -p "$root/novaxl" "$root/var/log/xen/console" "$root/var/lib/novaxl/images"
# PID 1: a stub that mounts the payload disk and hands over to the payload's
# dom0-main.sh, so that changing the lab's logic needs no image rebuild.
cat >"$root/sbin/nxl-init" <<'EOF'
#!/bin/bash
# PID 1 of the novaxl lab dom0 (built into the image by lab/build-image.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-vt100}
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw / 2>/dev/null
exec </dev/hvc0 >/dev/hvc0 2>&1
if mount -o ro /dev/vdb /novaxl && [ -f /novaxl/lab/dom0-main.sh ]; then
    /bin/bash /novaxl/lab/dom0-main.sh
    echo "NXL-INIT: dom0-main.sh exited $?"
else
    echo "NXL-INIT: no payload on /dev/vdb (lab/run.sh attaches one); shell:"
    setsid -c /bin/bash -i
fi
sync
busybox poweroff -f
EOF
chmod 755 "$root/sbin/nxl-init"

# ---- guest assets --------------------------------------------------------
# The dom0's own kernel, and a tiny static-busybox initramfs whose /init
# loads the Xen block and net frontends, waits for its devices, prints a
# marker, its command line (so tests can pass a token through extra=), its
# memory and devices on its console, then sleeps: once the marker is out the
# guest is idle (blocked). Its /sbin/reboot (nxl-reboot) makes it honour a
# reboot request from the toolstack (see there). Installed under the image ids the project's
# examples use (examples/pv-direct-kernel.json: nxl-lab-kernel and
# nxl-lab-initrd) in the directory the driver looks images up in.
g="$tmp/guest-initrd"
mkdir -p "$g"/{bin,sbin,dev,proc,sys,usr/bin,usr/sbin,lib/modules}
cp "$root/bin/busybox" "$g/bin/busybox"
for m in "${GUEST_MODULES[@]}"; do
    cp "$root/lib/modules/$kver/kernel/$m" "$g/lib/modules/"
done
mknod "$g/dev/console" c 5 1
cat >"$g/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
ln -sf /bin/nxl-reboot /sbin/reboot
ln -sf /bin/nxl-reboot /sbin/poweroff
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
for m in /lib/modules/*.ko; do insmod "$m" 2>/dev/null; done
# xenbus lists the domain's PV devices at once; their frontends connect
# asynchronously: wait (at most 10 s) until each has its block device or
# NIC.
nvbd=$(ls /sys/bus/xen/devices 2>/dev/null | grep -c '^vbd-')
nvif=$(ls /sys/bus/xen/devices 2>/dev/null | grep -c '^vif-')
i=0
while :; do
    blk=$(ls /sys/block | grep -v -e '^loop' -e '^ram' | tr '\n' ' ')
    net=$(ls /sys/class/net | grep -v '^lo$' | tr '\n' ' ')
    set -- $blk; nb=$#
    set -- $net; nn=$#
    [ "$nb" -ge "$nvbd" ] && [ "$nn" -ge "$nvif" ] && break
    [ $i -ge 10 ] && break
    sleep 1
    i=$((i + 1))
done
echo "NOVAXL-GUEST-UP kernel=$(uname -r) hypervisor=$(cat /sys/hypervisor/type 2>/dev/null || echo none)"
echo "NOVAXL-GUEST-CMDLINE $(cat /proc/cmdline)"
echo "NOVAXL-GUEST-MEM $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
echo "NOVAXL-GUEST-DEVS blk=[${blk% }] net=[${net% }]"
while :; do sleep 3600; done
EOF
chmod 755 "$g/init"
# A PV guest's kernel answers the toolstack's reboot request (control/shutdown
# "reboot": xl reboot, the driver's SOFT reboot) with orderly_reboot(), which
# runs the usermode helper "/sbin/reboot" with no arguments and PATH
# /sbin:/bin:/usr/sbin:/usr/bin, and forces a restart only if that cannot be
# executed. busybox's plain reboot just signals PID 1, which the shell /init
# ignores: this helper reboots for real. A test needs a guest that ignores
# the request too (the driver's HARD fallback): NXL-IGNORE-REBOOT written at
# the start of a disk (from dom0, while the guest runs) makes it do nothing.
# A poweroff request (control/shutdown "poweroff": xl shutdown, the driver's
# power_off) runs "/sbin/poweroff" the same way, and is this script too:
# NXL-IGNORE-POWEROFF on a disk makes the guest ignore it (power_off's
# destroy after its timeout), else it says NOVAXL-GUEST-POWEROFF and powers
# off.
cat >"$g/bin/nxl-reboot" <<'EOF'
#!/bin/busybox sh
exec </dev/null >/dev/console 2>&1
case "$0" in
*poweroff) what=POWEROFF ;;
*) what=REBOOT ;;
esac
marker=NXL-IGNORE-$what
# The disk may have been written from dom0 since the guest read it.
echo 1 >/proc/sys/vm/drop_caches
for d in /dev/xvd?; do
    [ -b "$d" ] || continue
    if [ "$(/bin/busybox dd if="$d" bs=${#marker} count=1 2>/dev/null)" = "$marker" ]; then
        echo "NOVAXL-GUEST-$what ignored: $marker on $d"
        exit 0
    fi
done
echo "NOVAXL-GUEST-$what"
/bin/busybox sync
# /sbin/reboot and /sbin/poweroff are this script: busybox's own, forced
# (no init to ask).
if [ $what = POWEROFF ]; then
    exec /bin/busybox poweroff -f
fi
exec /bin/busybox reboot -f
EOF
chmod 755 "$g/bin/nxl-reboot"
(cd "$g" && find . | cpio -o -H newc --quiet | gzip -9) \
    >"$root/var/lib/novaxl/images/nxl-lab-initrd"
cp "$root/boot/vmlinuz-$kver" "$root/var/lib/novaxl/images/nxl-lab-kernel"
# The names of earlier lab versions, for scripts that still use them.
ln -s nxl-lab-kernel "$root/var/lib/novaxl/images/guest-kernel"
ln -s nxl-lab-initrd "$root/var/lib/novaxl/images/guest-initrd"

# Smaller image: no package lists or caches, no docs.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
       "$root"/var/cache/apt/archives/*.deb "$root"/usr/share/doc/* \
       "$root"/usr/share/man/* "$root"/usr/share/locale/*

log "mkfs.ext4 -d ($ROOTFS_SIZE sparse)"
mkfs.ext4 -q -F -L nxl-lab-root -d "$root" "$tmp/rootfs.ext4" "$ROOTFS_SIZE"
rm -rf --one-file-system "$root" "$g"
phases="$phases mkfs=$(($(date +%s) - t0))s"

{
    echo "key=$key"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "seconds=$(($(date +%s) - t0))"
    echo "phases=$phases"
    echo "mirror=$MIRROR"
    echo "security_mirror=$SECURITY_MIRROR"
    echo "kernel=$kver"
    echo "host_libxen=$host_libxen"
    echo "dom0_libxen=$dom0_libxen"
} >"$tmp/stamp"
rm -f "$tmp"/*.log
# Atomic publish: a concurrent or earlier build of the same key loses.
rm -rf --one-file-system "$out"
mv -T "$tmp" "$out"
trap - EXIT
# Older keys are dead weight (~0.7 GiB each): drop them. A QEMU still
# running on one keeps its open files.
for d in "$cache_root"/*/; do
    d=${d%/}
    if [ "$d" != "$out" ] && [ -f "$d/stamp" ]; then
        log "removing stale image $d"
        rm -rf --one-file-system "$d"
    fi
done
log "built $out in $(($(date +%s) - t0))s"
echo "$out"

#!/bin/bash
# HVM smoke test: an HVM guest (hvmloader, SeaBIOS, the device model
# qemu-system-xen in dom0) boots the lab kernel and initramfs by direct
# kernel boot; its init's marker arrives on the emulated serial port, which
# QEMU writes to a file. Xen's HVM here is nested: SVM as emulated by the
# outer QEMU's TCG. "quiet": every byte on the emulated UART is a trip
# through Xen and the device model, so the kernel's boot log would cost
# about a minute.
set -euo pipefail
# shellcheck source=lib.sh
. "$NXL_LAB_TESTS_DIR/lib.sh"

name=nxl-lab-hvm
bound=240
token="tok$$x$RANDOM"
serial="$PWD/$name-serial.log"
xl info | grep -q '^virt_caps.*hvm' || die "Xen reports no HVM: $(xl info | grep virt_caps)"
[ -x /usr/libexec/xen-qemu-system-i386 ] || die "no qemu-system-xen in dom0"
xl destroy "$name" >/dev/null 2>&1 || true
rm -f "$serial"
cat >"$name.cfg" <<CFG
name = "$name"
type = "hvm"
kernel = "$NXL_LAB_GUEST_KERNEL"
ramdisk = "$NXL_LAB_GUEST_INITRD"
extra = "console=ttyS0 quiet nxl.token=$token"
memory = 128
vcpus = 1
vnc = 0
sdl = 0
vga = "none"
serial = "file:$serial"
on_crash = "preserve"
CFG
cat "$name.cfg"
t0=$SECONDS
xl create "$name.cfg" || die "xl create failed"
say "xl create returned after $((SECONDS - t0))s"
deadline=$((t0 + bound))
while [ "$SECONDS" -lt "$deadline" ]; do
    if grep -q "NOVAXL-GUEST-CMDLINE.*nxl.token=$token" "$serial" 2>/dev/null; then
        break
    fi
    sleep 2
done
if ! grep -q "NOVAXL-GUEST-CMDLINE.*nxl.token=$token" "$serial" 2>/dev/null; then
    say "--- serial (tail):"
    tail -30 "$serial" 2>/dev/null || say "(none)"
    say "--- qemu-dm log:"
    tail -20 "/var/log/xen/qemu-dm-$name.log" 2>/dev/null || true
    xl list || true
    xl destroy "$name" || true
    die "no marker with token on the HVM serial within ${bound}s"
fi
say "guest up after $((SECONDS - t0))s:"
grep NOVAXL- "$serial" | tr -d '\r' | sed 's/^/    /'
grep -q "NOVAXL-GUEST-UP .*hypervisor=xen" "$serial" || die "not on xen"
pgrep -f "xen-qemu-system-i386.*-xen-domid $(xl domid "$name")" >/dev/null ||
    die "no device model process for $name"
xl destroy "$name" || die "xl destroy failed"
if xl domid "$name" >/dev/null 2>&1; then die "$name still listed"; fi
say "destroyed; total $((SECONDS - t0))s"

#!/bin/bash
# Runs in the lab's dom0 as the hand-over from PID 1 (/sbin/nxl-init, built
# into the image), from the payload disk mounted at /novaxl: kept out of the
# image so that changing it costs a payload rebuild (seconds), not an image
# rebuild. Starts the Xen daemons, then does what nxl.mode= on the dom0
# kernel command line says: check (run the lab tests), demo, or shell.
# Every fork costs ~0.3 s under TCG: times come from $EPOCHREALTIME.
set -euo pipefail
payload=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lab.env
. "$payload/lab/lab.env"

elapsed() { # seconds since $1 (an $EPOCHREALTIME), one decimal
    local now=${EPOCHREALTIME/./} then=${1/./}
    local d=$(((now - then) / 100000))
    printf '%d.%d' $((d / 10)) $((d % 10))
}
boot_t0=$EPOCHREALTIME

mode=check
timeout=$NXL_LAB_DEFAULT_TEST_TIMEOUT
read -r -a cmdline </proc/cmdline
for w in "${cmdline[@]}"; do
    case $w in
        nxl.mode=*) mode=${w#nxl.mode=} ;;
        nxl.timeout=*) timeout=${w#nxl.timeout=} ;;
    esac
done
echo nxl-lab-dom0 >/proc/sys/kernel/hostname
echo "LAB-DOM0 mode=$mode uptime=$(cut -d' ' -f1 /proc/uptime)s"

# The project's installed tree (make install DESTDIR=...), laid over / so
# that whatever prefix it was configured with is where it expects to be.
if [ -d "$payload/sysroot" ]; then
    cp -a "$payload/sysroot/." /
    ldconfig
    echo "LAB-DOM0 sysroot installed"
fi

# Xen daemons: Debian's own script (xenfs, modules, oxenstored with
# xen-init-dom0, xenconsoled). Guest consoles are logged to files so that
# tests can read what a guest printed.
mkdir -p "$NXL_LAB_CONSOLE_LOG_DIR" /var/log/xen /run/xen
t=$EPOCHREALTIME
if XENCONSOLED_ARGS="--log=guest --log-dir=$NXL_LAB_CONSOLE_LOG_DIR" \
        /etc/init.d/xen start; then
    echo "LAB-XEN-UP $(elapsed "$t")s uptime=$(cut -d' ' -f1 /proc/uptime)s"
else
    echo "LAB-XEN-FAILED: /etc/init.d/xen start exited non-zero"
fi

# Guest devices: the PV backends (vif, and blkback for phy: disks; qdisk
# disks are served by the QEMU that /etc/init.d/xen started when
# qemu-system-xen is installed), and the bridge the project's examples put
# their NICs on. libxl runs the vif-bridge and block hotplug scripts itself.
t=$EPOCHREALTIME
# tun: an HVM guest's emulated NIC is a tap the device model opens through
# /dev/net/tun, which without udev's static nodes only exists once the
# module is loaded (else QEMU fails and libxl says only ERROR_FAIL).
modprobe -a xen-netback xen-blkback bridge tun 2>/dev/null ||
    echo "LAB-DOM0: modprobe xen-netback xen-blkback bridge tun failed"
ip link set lo up
if ip link add "$NXL_LAB_BRIDGE" type bridge && ip link set "$NXL_LAB_BRIDGE" up; then
    echo "LAB-NET bridge $NXL_LAB_BRIDGE up $(elapsed "$t")s"
else
    echo "LAB-NET: cannot create bridge $NXL_LAB_BRIDGE"
fi

export PATH="$payload/lab/bin:$PATH"
export NXL_LAB_TEST_TIMEOUT=$timeout
case $mode in
    check) "$payload/lab/run-tests.sh" || true ;;
    demo)
        rc=0
        "$payload/lab/demo.sh" || rc=$?
        echo "LAB-DEMO-DONE rc=$rc"
        ;;
    shell)
        echo "LAB-SHELL: dom0 shell; payload at $payload; 'exit' powers off"
        # A controlling terminal, so that ^C reaches the foreground job.
        setsid -c /bin/bash -i </dev/hvc0 >/dev/hvc0 2>&1 || true
        ;;
    *) echo "LAB-DOM0: unknown nxl.mode=$mode" ;;
esac
echo "LAB-POWEROFF after $(elapsed "$boot_t0")s in dom0"

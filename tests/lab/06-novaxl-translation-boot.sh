#!/bin/bash
# The project's translation boots on real Xen. For each lab example (a PV
# guest with a qdisk root disk and a NIC on xenbr0, and a PVH guest with a
# qdisk disk), the installed `novaxl dry-run` turns the spawn request into
# libxl's JSON; nxl-lab-create hands exactly that to libxl
# (libxl_domain_create_new, then unpause). The guest must boot the kernel
# and initramfs the driver found by image id, with the command line from
# the image properties, and see the disk and NIC the translation gave it;
# dom0's backends must be connected (vif on the bridge); destroy must take
# it all away.
set -euo pipefail
# shellcheck source=lib.sh
. "$NXL_LAB_TESTS_DIR/lib.sh"

command -v novaxl >/dev/null ||
    die "novaxl is not installed in dom0 (lab/stage.sh --install DESTDIR)"
command -v nxl-lab-create >/dev/null || die "nxl-lab-create not staged"
say "novaxl: $(command -v novaxl) ($(novaxl --version 2>&1 | head -1))"

# json_str FILE KEY: the first "KEY": "value" in libxl's pretty JSON.
json_str() {
    sed -n "s/^ *\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" "$1" | head -1
}

translation_boot() {
    local example=$1 bound=$2 json name type kernel ramdisk cmdline
    local disk ifname domid t0 log devs state
    json="$PWD/$(basename "$example" .json).libxl.json"
    say "=== $example"
    novaxl dry-run "$example" >"$json" || die "novaxl dry-run $example failed"
    name=$(json_str "$json" name)
    type=$(json_str "$json" type)
    kernel=$(json_str "$json" kernel)
    ramdisk=$(json_str "$json" ramdisk)
    cmdline=$(json_str "$json" cmdline)
    disk=$(json_str "$json" pdev_path)
    ifname=$(json_str "$json" ifname)
    say "translation: name=$name type=$type kernel=$kernel ramdisk=$ramdisk"
    say "             cmdline='$cmdline' disk=${disk:-none} nic=${ifname:-none}"
    if [ -z "$name" ] || [ -z "$type" ]; then die "no name/type in $json"; fi
    [ "$kernel" = "$NXL_LAB_GUEST_KERNEL" ] ||
        die "kernel id not resolved to the lab kernel: '$kernel'"
    [ "$ramdisk" = "$NXL_LAB_GUEST_INITRD" ] ||
        die "ramdisk id not resolved to the lab initrd: '$ramdisk'"
    # The instance's disk is the driver's to create at spawn; dry-run only
    # names it. A blank sparse file stands in for it.
    if [ -n "$disk" ]; then
        mkdir -p "$(dirname "$disk")"
        truncate -s 64M "$disk"
    fi
    xl destroy "$name" >/dev/null 2>&1 || true
    log="$NXL_LAB_CONSOLE_LOG_DIR/guest-$name.log"
    rm -f "$log"

    t0=$SECONDS
    nxl-lab-create "$json" >create.out || {
        cat create.out
        die "libxl could not create $name from the translation"
    }
    domid=$(sed -n 's/^domid //p' create.out)
    say "libxl created $name as domain $domid in $((SECONDS - t0))s"
    wait_for_console "$name" NOVAXL-GUEST-DEVS "$((bound - (SECONDS - t0)))" || {
        say "--- console log $log:"
        cat "$log" 2>/dev/null || say "(none)"
        xl list || true
        xl destroy "$name" || true
        die "$name did not boot within ${bound}s"
    }
    say "guest up after $((SECONDS - t0))s:"
    grep NOVAXL- "$log" | sed 's/^/    /'
    grep -q "NOVAXL-GUEST-UP .*hypervisor=xen" "$log" || die "no marker"
    grep -qF "NOVAXL-GUEST-CMDLINE $cmdline" "$log" ||
        die "guest command line is not the translation's '$cmdline'"
    devs=$(grep NOVAXL-GUEST-DEVS "$log" | tail -1)
    if [ -n "$disk" ]; then
        case $devs in *"blk=["*xvda*) ;; *) die "guest has no xvda: $devs" ;; esac
        state=$(xenstore-read "/local/domain/0/backend/qdisk/$domid/51712/state" 2>/dev/null ||
                xenstore-read "/local/domain/0/backend/vbd/$domid/51712/state" 2>/dev/null || true)
        [ "$state" = 4 ] || die "disk backend state '$state', not 4 (connected)"
        say "disk: backend connected, guest sees xvda"
    fi
    if [ -n "$ifname" ]; then
        case $devs in *"net=["*eth0*) ;; *) die "guest has no eth0: $devs" ;; esac
        state=$(xenstore-read "/local/domain/0/backend/vif/$domid/0/state" 2>/dev/null || true)
        [ "$state" = 4 ] || die "vif backend state '$state', not 4 (connected)"
        ip -o link show "$ifname" | grep -q "master $NXL_LAB_BRIDGE" ||
            die "$ifname is not on $NXL_LAB_BRIDGE: $(ip -o link show "$ifname" 2>&1)"
        say "nic: $ifname on $NXL_LAB_BRIDGE, backend connected, guest sees eth0"
    fi
    xl list "$name" | sed 's/^/    /'
    xl list "$name" | awk 'NR == 2 && $3 >= 127 && $3 <= 129 { ok = 1 } END { exit !ok }' ||
        die "memory is not the flavor's 128 MiB"

    xl destroy "$name" || die "xl destroy $name failed"
    if xl domid "$name" >/dev/null 2>&1; then die "$name still listed"; fi
    if [ -n "$ifname" ] && ip link show "$ifname" >/dev/null 2>&1; then
        die "$ifname still exists after destroy"
    fi
    [ -z "$disk" ] || rm -rf "$(dirname "$disk")"
    say "destroyed; $example total $((SECONDS - t0))s"
}

translation_boot "$NXL_LAB_EXAMPLES_DIR/pv-direct-kernel.json" 90
translation_boot "$NXL_LAB_EXAMPLES_DIR/pvh-direct-kernel.json" 120
say "translations boot"

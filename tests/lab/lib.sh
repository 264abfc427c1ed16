# Helpers for the lab tests (sourced; runs in the lab's dom0). The paths come
# from lab/lab.env, exported by lab/run-tests.sh. Bounds are in seconds of
# wall time ($SECONDS), never loop counts: each fork costs ~0.3 s under TCG.
# shellcheck shell=bash

say() { printf '%s\n' "$*"; }
die() { printf 'FAILED: %s\n' "$*"; exit 1; }

# domain_state NAME: the xl state flags (e.g. "-b----"), empty if no domain.
domain_state() {
    xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'
}

# wait_for_console NAME PATTERN BOUND: until the guest's console log (written
# by xenconsoled --log=guest) has a line matching PATTERN, at most BOUND s.
wait_for_console() {
    local name=$1 pattern=$2 bound=$3 log
    local deadline=$((SECONDS + bound))
    log="$NXL_LAB_CONSOLE_LOG_DIR/guest-$name.log"
    while [ "$SECONDS" -lt "$deadline" ]; do
        if [ -f "$log" ] && grep -q -- "$pattern" "$log"; then
            return 0
        fi
        sleep 1
    done
    return 1
}

# guest_boot_test TYPE NAME BOUND: boot the lab guest kernel+initramfs as
# TYPE (pv|pvh) with xl, wait for its marker and a per-run token on its
# console, pause/unpause it, destroy it, and check that it is gone.
guest_boot_test() {
    local type=$1 name=$2 bound=$3 token cfg log t0 domid state
    token="tok$$x$RANDOM"
    cfg="$PWD/$name.cfg"
    log="$NXL_LAB_CONSOLE_LOG_DIR/guest-$name.log"
    [ -r "$NXL_LAB_GUEST_KERNEL" ] || die "no guest kernel $NXL_LAB_GUEST_KERNEL"
    [ -r "$NXL_LAB_GUEST_INITRD" ] || die "no guest initrd $NXL_LAB_GUEST_INITRD"
    # A leftover from an earlier attempt would make the checks lie.
    xl destroy "$name" >/dev/null 2>&1 || true
    rm -f "$log"
    cat >"$cfg" <<CFG
name = "$name"
type = "$type"
kernel = "$NXL_LAB_GUEST_KERNEL"
ramdisk = "$NXL_LAB_GUEST_INITRD"
extra = "console=hvc0 nxl.token=$token"
memory = 128
vcpus = 1
on_crash = "preserve"
CFG
    say "xl create ($type, bound ${bound}s):"
    cat "$cfg"
    t0=$SECONDS
    # xl itself (not the guest) intermittently aborts under TCG with a glibc
    # mutex assertion ("mutex->__data.__owner == 0"): seen once in ~10
    # creates. A death by signal gets one visible retry; any other failure
    # is a failure.
    local rc=0
    xl create "$cfg" || rc=$?
    if [ "$rc" -ge 128 ]; then
        say "WARNING: xl create died of signal $((rc - 128)); retrying once"
        xl destroy "$name" >/dev/null 2>&1 || true
        rm -f "$log"
        rc=0
        xl create "$cfg" || rc=$?
    fi
    [ "$rc" -eq 0 ] || die "xl create failed (status $rc)"
    say "xl create returned after $((SECONDS - t0))s"
    domid=$(xl domid "$name") || die "no domid for $name"
    [ -n "$(xenstore-read "/local/domain/$domid/name")" ] ||
        die "no xenstore entry for domain $domid"

    if ! wait_for_console "$name" "NOVAXL-GUEST-CMDLINE.*nxl.token=$token" \
            "$((bound - (SECONDS - t0)))"; then
        say "--- console log $log:"
        cat "$log" 2>/dev/null || say "(none)"
        say "--- xl list:"
        xl list || true
        say "--- xl dmesg (tail):"
        xl dmesg | tail -20 || true
        xl destroy "$name" || true
        die "no '$NXL_LAB_GUEST_MARKER' with token from $name within ${bound}s"
    fi
    grep -q "$NXL_LAB_GUEST_MARKER.*hypervisor=xen" "$log" ||
        die "marker without hypervisor=xen: $(cat "$log")"
    say "guest console up after $((SECONDS - t0))s:"
    grep NOVAXL- "$log"

    xl pause "$name" || die "xl pause failed"
    state=$(domain_state "$name")
    case $state in *p*) ;; *) die "state after pause: '$state'" ;; esac
    xl unpause "$name" || die "xl unpause failed"
    state=$(domain_state "$name")
    case $state in *p*) die "still paused after unpause: '$state'" ;; esac
    say "pause/unpause ok ($state)"

    xl destroy "$name" || die "xl destroy failed"
    if xl domid "$name" >/dev/null 2>&1; then
        die "$name still listed after destroy"
    fi
    if xenstore-exists "/local/domain/$domid" 2>/dev/null; then
        die "/local/domain/$domid still in xenstore after destroy"
    fi
    say "destroyed; total $((SECONDS - t0))s"
}

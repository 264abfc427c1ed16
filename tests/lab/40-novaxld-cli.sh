#!/bin/bash
# Issue 6 on real Xen: the installed novaxld serves the installed novaxl.
# novaxld runs in dom0 on private sockets (read-write and read-only) and
# a private instances dir; through it, `novaxl spawn` of
# examples/pv-direct-kernel.json boots a guest, `novaxl console` shows the
# guest's own output, `list` and `--json info` see it running, pause and
# unpause work, `diagnostics` and `disk-info` answer for the running
# guest, `set-bootable no` / `yes` reach the instance's record, a
# mutating call on the read-only socket is refused and changes nothing,
# `dumpxml` prints the stored request as libvirt XML (uuid, name, and the
# very libxl config of the example under `dry-run --xml`; refused on the
# read-only socket), `destroy` removes the domain; `novaxl events`,
# started before the spawn, shows exactly the operations and the
# lifecycle (started, paused, resumed, stopped, in that order, each
# once); `spawn --xml` of the dumped XML boots the guest again with the
# same stored request, and `destroy` removes it; SIGTERM
# stops novaxld with status 0 and its sockets gone.
# `host status` on the read-only socket reports no console warning (the
# lab's xenconsoled logs guests into novaxld's console_log_dir).
# Exit 0 pass, 1 fail, 77 skip (not a Xen dom0).
set -euo pipefail
grep -qs control_d /proc/xen/capabilities || {
    echo "not a Xen dom0: skipped"
    exit 77
}
# shellcheck source=lib.sh
. "$NXL_LAB_TESTS_DIR/lib.sh"

command -v novaxl >/dev/null || die "novaxl is not installed in dom0"
command -v novaxld >/dev/null || die "novaxld is not installed in dom0"

example=$NXL_LAB_EXAMPLES_DIR/pv-direct-kernel.json
uuid=$(sed -n 's/^ *"uuid": "\([0-9a-f-]*\)",\{0,1\}$/\1/p' "$example" | head -1)
name=$(sed -n 's/^ *"name": "\(instance-[0-9a-f]*\)",\{0,1\}$/\1/p' "$example" | head -1)
if [ -z "$uuid" ] || [ -z "$name" ]; then die "no uuid/name in $example"; fi
log=$NXL_LAB_CONSOLE_LOG_DIR/guest-$name.log

work=$(mktemp -d "$PWD/40.XXXXXX")
# On the root file system (ext4), as the default instances dir is: the
# qdisk backend serves the instance's disk from here.
inst=/var/lib/novaxl/lab-40-instances
sock=$work/rw.sock
ro=$work/ro.sock
daemon_pid="" events_pid=""
t0=$SECONDS

at() { say "[$((SECONDS - t0))s] $*"; }

cleanup() {
    local rc=$?
    if [ -n "$events_pid" ]; then kill "$events_pid" 2>/dev/null || true; fi
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        sleep 2
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    xl destroy "$name" >/dev/null 2>&1 || true
    if [ "$rc" -ne 0 ]; then
        say "--- novaxld log:"
        cat "$work/novaxld.log" 2>/dev/null || true
        say "--- events:"
        cat "$work/events.out" "$work/events.err" 2>/dev/null || true
    fi
    rm -rf "$inst"
    exit "$rc"
}
trap cleanup EXIT

# nx ARGS: novaxl on the daemon's read-write socket, bounded.
nx() { timeout 120 novaxl --socket "$sock" "$@"; }

state_name() {
    nx --json info "$uuid" | tr -d ' \n' |
        sed -n 's/.*"state_name":"\([a-z_]*\)".*/\1/p'
}

expect_state() {
    local got
    got=$(state_name)
    [ "$got" = "$1" ] || die "novaxl --json info: state '$got', want '$1'"
    at "novaxl --json info: $got"
}

# What an earlier test may have left with this name.
xl destroy "$name" >/dev/null 2>&1 || true
rm -f "$log"
rm -rf "$inst"
mkdir -p "$inst"

# ---- novaxld --------------------------------------------------------------
# Its status goes to a file: the test waits for it, bounded, after SIGTERM.
(
    novaxld --foreground --socket "$sock" --ro-socket "$ro" \
        --instances-dir "$inst" --log-level info >"$work/novaxld.log" 2>&1 &
    echo "$!" >"$work/novaxld.pid"
    rc=0
    wait "$!" || rc=$?
    echo "$rc" >"$work/novaxld.rc"
) &
deadline=$((SECONDS + 30))
until [ -S "$sock" ] && [ -S "$ro" ]; do
    [ ! -f "$work/novaxld.rc" ] ||
        die "novaxld exited with status $(cat "$work/novaxld.rc") at start"
    [ "$SECONDS" -lt "$deadline" ] || die "no novaxld sockets within 30s"
    sleep 0.5
done
daemon_pid=$(cat "$work/novaxld.pid")
at "novaxld (pid $daemon_pid) listening on $sock and $ro"

# The lab's xenconsoled logs guests where novaxld reads them: host status
# (on the read-only socket) has no console warning.
timeout 60 novaxl --socket "$ro" host status >"$work/status.out" 2>&1 ||
    die "novaxl host status failed: $(cat "$work/status.out")"
grep -qx 'console_warning  -' "$work/status.out" ||
    die "novaxl host status: $(cat "$work/status.out")"
at "novaxl host status: no console warning"

# ---- the event stream, from the daemon's first event ------------------------
# --since 0: every event of this run, whenever the stream connects. Ten:
# spawn, pause, unpause, destroy, each an operation and a lifecycle event,
# and the two set_bootable operations.
timeout 200 novaxl --socket "$sock" events --since 0 --count 10 \
    >"$work/events.out" 2>"$work/events.err" &
events_pid=$!

# ---- spawn ------------------------------------------------------------------
at "novaxl spawn $example"
rc=0
out=$(nx spawn "$example") || rc=$?
[ "$rc" = 0 ] || die "novaxl spawn failed (status $rc)"
[ "$out" = "$uuid" ] || die "spawn printed '$out', not $uuid"
domid=$(xl domid "$name") || die "no domain $name after spawn"
at "spawned: $uuid is domain $domid ($name)"
[ -d "$inst/$uuid" ] || die "spawn made no instance dir $inst/$uuid"
say "    $inst/$uuid: $(cd "$inst/$uuid" && echo *)"

# ---- the guest's console, through novaxld ---------------------------------
deadline=$((SECONDS + 120))
until nx console "$uuid" --name "$name" >"$work/console.out" 2>&1 &&
    grep -q "$NXL_LAB_GUEST_MARKER.*hypervisor=xen" "$work/console.out"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        say "--- novaxl console:"
        cat "$work/console.out"
        say "--- xenconsoled's $log:"
        cat "$log" 2>/dev/null || say "(none)"
        die "no '$NXL_LAB_GUEST_MARKER' from novaxl console within 120s"
    fi
    sleep 2
done
at "novaxl console shows the guest up:"
sed -n '/^vnc:/p; /NOVAXL-/p' "$work/console.out" | sed 's/^/    /'
grep -q NOVAXL-GUEST-CMDLINE "$work/console.out" ||
    die "no guest command line in novaxl console"

# ---- list, info -------------------------------------------------------------
nx list >"$work/list.out" || die "novaxl list failed"
sed 's/^/    /' "$work/list.out"
awk -v u="$uuid" -v d="$domid" '$1 == u && $2 == d && $3 == "running" { ok = 1 }
    END { exit !ok }' "$work/list.out" ||
    die "novaxl list does not show $uuid as domain $domid running"
expect_state running

# ---- the read-only socket -------------------------------------------------
timeout 60 novaxl --socket "$ro" list | grep -q "^$uuid " ||
    die "novaxl list on the read-only socket does not show $uuid"
rc=0
timeout 60 novaxl --json --socket "$ro" pause "$uuid" \
    >"$work/ro.out" 2>"$work/ro.err" || rc=$?
[ "$rc" = 5 ] || die "pause on the read-only socket: status $rc, not 5: $(cat "$work/ro.out" "$work/ro.err")"
grep -q '"code": *"NXL_E_DENIED"' "$work/ro.out" ||
    die "pause on the read-only socket: not NXL_E_DENIED: $(cat "$work/ro.out")"
case $(domain_state "$name") in
    *p*) die "the refused pause paused $name" ;;
esac
at "read-only socket: list ok, pause refused (status 5, NXL_E_DENIED), still running"

# ---- pause, unpause -------------------------------------------------------
nx pause "$uuid" || die "novaxl pause failed"
case $(domain_state "$name") in
    *p*) ;;
    *) die "xl: $name not paused after novaxl pause: '$(domain_state "$name")'" ;;
esac
expect_state paused
nx unpause "$uuid" || die "novaxl unpause failed"
case $(domain_state "$name") in
    *p*) die "xl: $name still paused after novaxl unpause" ;;
esac
expect_state running

# ---- diagnostics, disk-info, set-bootable through novaxld ------------------
nx --json diagnostics "$uuid" | tr -d ' \n' >"$work/diag.json" ||
    die "novaxl diagnostics failed: $(cat "$work/diag.json")"
grep -q '"state":"running"' "$work/diag.json" ||
    die "novaxl diagnostics: not running: $(cat "$work/diag.json")"
grep -q '"hypervisor":"xen"' "$work/diag.json" ||
    die "novaxl diagnostics: hypervisor is not xen: $(cat "$work/diag.json")"
maxmem=$(sed -n 's/.*"memory_details":{"maximum":\([0-9]*\).*/\1/p' \
    "$work/diag.json")
[ "${maxmem:-0}" -gt 0 ] ||
    die "novaxl diagnostics: memory_details.maximum '$maxmem'"
ncpu=$(grep -o '"id":[0-9]*,"time"' "$work/diag.json" | wc -l)
[ "$ncpu" -ge 1 ] || die "novaxl diagnostics: no cpu_details"
at "novaxl diagnostics: running on xen, ${maxmem} MiB, $ncpu vCPU(s)"
nx disk-info "$uuid" >"$work/disks.out" || die "novaxl disk-info failed"
head -1 "$work/disks.out" | grep -q '^TYPE ' ||
    die "novaxl disk-info: no table: $(cat "$work/disks.out")"
at "novaxl disk-info: $(($(wc -l <"$work/disks.out") - 1)) local disk(s)"
nx set-bootable "$uuid" no || die "novaxl set-bootable no failed"
grep -q '"unbootable": *true' "$inst/$uuid/novaxl.json" ||
    die "set-bootable no did not reach $inst/$uuid/novaxl.json"
nx set-bootable "$uuid" yes || die "novaxl set-bootable yes failed"
grep -q '"unbootable": *false' "$inst/$uuid/novaxl.json" ||
    die "set-bootable yes did not reach $inst/$uuid/novaxl.json"
expect_state running
at "novaxl set-bootable no / yes: recorded, the guest untouched"
# ---- dumpxml: the stored request as libvirt XML -----------------------------
nx dumpxml "$uuid" >"$work/dom.xml" || die "novaxl dumpxml failed"
grep -q "^<domain type='xen'>" "$work/dom.xml" &&
    grep -q "^  <uuid>$uuid</uuid>\$" "$work/dom.xml" &&
    grep -q "^  <name>$name</name>\$" "$work/dom.xml" ||
    die "novaxl dumpxml: no <domain type='xen'> with uuid $uuid and name $name: $(head -5 "$work/dom.xml")"
novaxl dry-run "$example" >"$work/cfg-json.out" ||
    die "novaxl dry-run $example failed"
novaxl dry-run --xml "$work/dom.xml" >"$work/cfg-xml.out" ||
    die "novaxl dry-run --xml of the dump failed"
cmp -s "$work/cfg-json.out" "$work/cfg-xml.out" ||
    die "the dump builds another libxl config: $(diff "$work/cfg-json.out" "$work/cfg-xml.out")"
rc=0
timeout 60 novaxl --json --socket "$ro" dumpxml "$uuid" >"$work/ro-dump.out" 2>&1 || rc=$?
[ "$rc" = 5 ] && grep -q '"code": *"NXL_E_DENIED"' "$work/ro-dump.out" ||
    die "dumpxml on the read-only socket: status $rc: $(cat "$work/ro-dump.out")"
at "novaxl dumpxml: <domain type='xen'> of $uuid ($name), $(wc -l <"$work/dom.xml") lines, the example's libxl config; refused read-only"

# ---- destroy ----------------------------------------------------------------
nx destroy "$uuid" || die "novaxl destroy failed"
if xl domid "$name" >/dev/null 2>&1; then die "$name still in xl list"; fi
if xenstore-exists "/local/domain/$domid" 2>/dev/null; then
    die "/local/domain/$domid still in xenstore"
fi
rc=0
nx info "$uuid" >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || die "novaxl info after destroy: status $rc, not 3 (not found)"
if nx list | grep -q "^$uuid "; then die "novaxl list still shows $uuid"; fi
[ ! -e "$inst/$uuid" ] || die "destroy left $inst/$uuid: $(ls -A "$inst/$uuid")"
at "destroyed: gone from xl, xenstore, novaxl list and $inst"

# ---- the events -------------------------------------------------------------
deadline=$((SECONDS + 30))
while kill -0 "$events_pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] ||
        die "novaxl events --count 10 still waiting 30s after destroy"
    sleep 0.5
done
rc=0
wait "$events_pid" || rc=$?
events_pid=""
[ "$rc" = 0 ] || die "novaxl events exited with status $rc: $(cat "$work/events.err")"
at "novaxl events:"
sed 's/^/    /' "$work/events.out"
got=$(awk -v u="$uuid" '$3 == "lifecycle" && $4 == u { printf "%s ", $5 }' \
    "$work/events.out")
[ "$got" = "started paused resumed stopped " ] ||
    die "lifecycle events '$got', want 'started paused resumed stopped'"
got=$(awk -v u="$uuid" '$3 == "operation" && $4 == u { printf "%s:%s ", $5, $6 }' \
    "$work/events.out")
[ "$got" = "spawn:ok pause:ok unpause:ok set_bootable:ok set_bootable:ok destroy:ok " ] ||
    die "operation events '$got', want spawn, pause, unpause, set_bootable twice, destroy, all ok"

# ---- spawn --xml of the dump: the guest again -------------------------------
rm -f "$log" "$log.1"
at "novaxl spawn --xml (the dumped XML)"
out=$(nx spawn --xml "$work/dom.xml") || die "novaxl spawn --xml failed"
[ "$out" = "$uuid" ] || die "spawn --xml printed '$out', not $uuid"
domid=$(xl domid "$name") || die "no domain $name after spawn --xml"
deadline=$((SECONDS + 120))
until nx console "$uuid" --name "$name" >"$work/console2.out" 2>&1 &&
    grep -q "$NXL_LAB_GUEST_MARKER.*hypervisor=xen" "$work/console2.out"; do
    [ "$SECONDS" -lt "$deadline" ] ||
        die "no '$NXL_LAB_GUEST_MARKER' within 120s of spawn --xml: $(cat "$work/console2.out")"
    sleep 2
done
nx dumpxml "$uuid" >"$work/dom2.xml" || die "novaxl dumpxml after spawn --xml failed"
cmp -s "$work/dom.xml" "$work/dom2.xml" ||
    die "spawn --xml stored another request: $(diff "$work/dom.xml" "$work/dom2.xml")"
nx destroy "$uuid" || die "novaxl destroy after spawn --xml failed"
if xl domid "$name" >/dev/null 2>&1; then die "$name still in xl list"; fi
at "spawn --xml: domain $domid booted the guest, the same request stored; destroyed"

# ---- SIGTERM ----------------------------------------------------------------
kill -TERM "$daemon_pid"
deadline=$((SECONDS + 30))
until [ -f "$work/novaxld.rc" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "novaxld still running 30s after SIGTERM"
    sleep 0.5
done
daemon_pid=""
rc=$(cat "$work/novaxld.rc")
[ "$rc" = 0 ] || die "novaxld exited with status $rc after SIGTERM"
if [ -e "$sock" ] || [ -e "$ro" ]; then die "novaxld left its sockets"; fi
at "novaxld stopped by SIGTERM: status 0, sockets removed"
say "--- novaxld log:"
sed 's/^/    /' "$work/novaxld.log"
say "novaxld and novaxl drive a guest through its life on real Xen"

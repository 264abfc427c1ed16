#!/bin/bash
# The lab's demo, run in dom0 by `lab/run.sh --demo STAGING` (after
# dom0-main.sh started the Xen daemons): Xen is up, `xl info` in short, then
# the installed novaxl takes examples/pv-direct-kernel.json through its
# life: dry-run translation, spawn, the guest's console, info, pause and
# unpause, power-off and power-on, destroy; and xl agrees at every step.
# Exit 0 when every step worked.
set -euo pipefail
payload=$(cd "$(dirname "$0")/.." && pwd)
set -a
# shellcheck source=../lab.env
. "$payload/lab/lab.env"
set +a
export PATH="$payload/lab/bin:$PATH"
example=${NXL_DEMO_EXAMPLE:-$NXL_LAB_EXAMPLES_DIR/pv-direct-kernel.json}
work=$(mktemp -d)
cd "$work"

step() { printf '\nDEMO: ==== %s\n' "$*"; }
fail() { printf 'DEMO: FAILED: %s\n' "$*"; exit 1; }

step "Xen is up: this is dom0 of a real Xen, in QEMU"
printf 'DEMO: /sys/hypervisor/type: %s, capabilities: %s\n' \
    "$(cat /sys/hypervisor/type)" "$(cat /proc/xen/capabilities)"
pgrep -a oxenstored || pgrep -a xenstored || fail "no xenstored"
pgrep -a xenconsoled || fail "no xenconsoled"

step "xl info (summary)"
xl info | grep -E '^(host|release|nr_cpus|cpu_mhz|virt_caps|total_memory|free_memory|xen_version|xen_caps|xen_commandline)\b'

command -v novaxl >/dev/null ||
    fail "novaxl is not in the payload (stage with lab/stage.sh --install DESTDIR)"
uuid=$(sed -n 's/^ *"uuid": "\([0-9a-f-]*\)",\{0,1\}$/\1/p' "$example" | head -1)
[ -n "$uuid" ] || fail "no instance uuid in $example"

step "novaxl dry-run $(basename "$example")  (spawn request -> libxl_domain_config)"
novaxl dry-run "$example" | tee guest.json
name=$(sed -n 's/^ *"name": "\(.*\)",\{0,1\}$/\1/p' guest.json | head -1)
[ -n "$name" ] || fail "no domain name in the translation"
log="$NXL_LAB_CONSOLE_LOG_DIR/guest-$name.log"
rm -f "$log"

state() { novaxl --json info "$uuid" | tr -d ' \n' | sed -n 's/.*"state":\([0-9]*\).*/\1/p'; }
expect_state() {
    local want=$1 got
    got=$(state)
    echo "DEMO: novaxl info $uuid: state $got (want $want)"
    [ "$got" = "$want" ] || fail "state $got, want $want"
}
wait_console() {
    local deadline=$((SECONDS + $1))
    until grep -q "$NXL_LAB_GUEST_MARKER" "$log" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do
        sleep 1
    done
    grep -q "$NXL_LAB_GUEST_MARKER" "$log" 2>/dev/null
}

step "novaxl spawn $(basename "$example")  (journaled; the guest runs when it returns)"
t0=$SECONDS
novaxl spawn "$example" || fail "spawn failed"
echo "DEMO: spawned in $((SECONDS - t0))s"

step "novaxl list; xl list"
novaxl list
xl list

step "console of $name (xenconsoled's log, what get_console_output serves), at most 90 s"
wait_console 90 || { novaxl destroy "$uuid" || true; fail "guest did not boot"; }
sed 's/^/  console| /' "$log"
echo "DEMO: guest up $((SECONDS - t0))s after spawn"
expect_state 1

step "novaxl pause / unpause (Nova power states: 3 PAUSED, 1 RUNNING)"
novaxl pause "$uuid"
expect_state 3
xl list "$name"
novaxl unpause "$uuid"
expect_state 1

step "novaxl power-off --timeout 30 (clean shutdown through the guest, destroyed after the timeout)"
novaxl power-off --timeout 30 "$uuid"
expect_state 4
xl list "$name" 2>/dev/null && fail "the domain is still there after power-off"
echo "DEMO: no domain, the instance is still known: novaxl list"
novaxl list

step "novaxl power-on"
rm -f "$log"
t0=$SECONDS
novaxl power-on "$uuid"
wait_console 90 || fail "guest did not boot again"
echo "DEMO: guest up again $((SECONDS - t0))s after power-on"
expect_state 1

step "novaxl destroy; nothing left behind"
novaxl destroy "$uuid"
novaxl list
xl list
xl list "$name" 2>/dev/null && fail "the domain survived destroy"
if novaxl info "$uuid" >/dev/null 2>&1; then fail "the instance is still known"; fi
echo "DEMO: done"

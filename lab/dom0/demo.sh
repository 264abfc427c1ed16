#!/bin/bash
# The lab's demo, run in dom0 by `lab/run.sh --demo STAGING` (after
# dom0-main.sh started the Xen daemons): Xen is up, `xl info` in short, the
# installed novaxl translates examples/pv-direct-kernel.json (dry-run), libxl
# creates exactly that guest, its console output, `xl list`, destroy.
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
step "novaxl dry-run $(basename "$example")  (spawn request -> libxl_domain_config)"
novaxl dry-run "$example" | tee guest.json
name=$(sed -n 's/^ *"name": "\(.*\)",\{0,1\}$/\1/p' guest.json | head -1)
disk=$(sed -n 's/^ *"pdev_path": "\(.*\)",\{0,1\}$/\1/p' guest.json | head -1)
[ -n "$name" ] || fail "no domain name in the translation"
if [ -n "$disk" ]; then
    # The driver creates the instance disk at spawn; dry-run only names it.
    mkdir -p "$(dirname "$disk")"
    truncate -s 64M "$disk"
fi

step "create $name from that JSON with libxl (create_new leaves it paused; then unpause)"
log="$NXL_LAB_CONSOLE_LOG_DIR/guest-$name.log"
rm -f "$log"
t0=$SECONDS
nxl-lab-create guest.json || fail "libxl could not create the guest"
echo "DEMO: created in $((SECONDS - t0))s"

step "xl list"
xl list

step "console of $name (xenconsoled's log), waiting at most 90 s"
deadline=$((SECONDS + 90))
until grep -q NOVAXL-GUEST-DEVS "$log" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do
    sleep 1
done
sed 's/^/  console| /' "$log" 2>/dev/null || true
grep -q NOVAXL-GUEST-UP "$log" 2>/dev/null || { xl destroy "$name" || true; fail "guest did not boot"; }
echo "DEMO: guest up $((SECONDS - t0))s after create"

step "xl list; block and network devices of $name"
xl list
xl block-list "$name" || true
xl network-list "$name" || true

step "xl destroy $name"
xl destroy "$name"
xl list
[ -z "$disk" ] || rm -rf "$(dirname "$disk")"
echo "DEMO: done"

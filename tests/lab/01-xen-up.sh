#!/bin/bash
# The lab really runs on Xen: the hypervisor is there, this is dom0 with
# control rights, xl talks to it, and the dom0 xenstored answers.
set -euo pipefail
# shellcheck source=lib.sh
. "$NXL_LAB_TESTS_DIR/lib.sh"

[ "$(cat /sys/hypervisor/type)" = xen ] || die "/sys/hypervisor/type is not xen"
grep -q control_d /proc/xen/capabilities || die "not a control domain"
xl info >xl-info || die "xl info failed"
grep -E '^(xen_version|nr_cpus|total_memory|free_memory|xen_caps)' xl-info
grep -q '^xen_version *: 4\.17' xl-info || die "not Xen 4.17"
xl list | grep -q '^Domain-0 ' || die "Domain-0 not in xl list"
[ "$(xenstore-read /local/domain/0/name)" = Domain-0 ] ||
    die "xenstore /local/domain/0/name is not Domain-0"
[ "$(xenstore-read /local/domain/0/domid)" = 0 ] || die "dom0 domid in xenstore"
pgrep -x oxenstored >/dev/null || pgrep -x xenstored >/dev/null ||
    die "no xenstored process"
pgrep -x xenconsoled >/dev/null || die "no xenconsoled process"
say "xen up, dom0 ok"

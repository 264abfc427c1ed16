#!/bin/sh
# test_driverimpls.sh: runs scripts/check-driverimpls on the source tree
# (it must pass), then on broken copies of the files it reads, each of
# which it must refuse with a message naming the method at fault. A
# checker that cannot fail proves nothing, so every kind of drift it
# claims to catch is tried once here.
# Ends with "N passed, N failed".
set -u

srcdir=${NXL_TEST_SRCDIR:?run under make check}
check=$srcdir/scripts/check-driverimpls
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nxl-impls.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

# The real tree.
if bash "$check" "$srcdir" >"$tmp/out" 2>&1; then
    ok "source tree is consistent: $(tail -n 1 "$tmp/out")"
else
    fail "source tree"
    cat "$tmp/out"
fi

# fresh: a copy of exactly the files the checker reads, in $tmp/t.
fresh() {
    rm -rf "$tmp/t"
    mkdir -p "$tmp/t/include/novaxl" "$tmp/t/common" "$tmp/t/xl_driver" \
        "$tmp/t/docs"
    cp "$srcdir/include/novaxl/nxl.h" "$tmp/t/include/novaxl/"
    cp "$srcdir"/common/*.c "$srcdir/common/driver.h" "$tmp/t/common/"
    cp "$srcdir"/xl_driver/*.c "$tmp/t/xl_driver/"
    cp "$srcdir/docs/contract.md" "$tmp/t/docs/"
}

# expect_fail NAME WANT: the checker must exit 1 on $tmp/t and print a
# line containing WANT (the method and the problem).
expect_fail() {
    bash "$check" "$tmp/t" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -F -q -- "$2" "$tmp/out"; then
        ok "$1"
    else
        fail "$1 (exit $rc, wanted a line with '$2')"
        cat "$tmp/out"
    fi
}

# edit FILE SED-SCRIPT: edits a copied file in place (portable sed -i).
edit() {
    sed "$2" "$tmp/t/$1" >"$tmp/edit" && cat "$tmp/edit" >"$tmp/t/$1"
}

# An unchanged copy passes: the failures below come from the edits.
fresh
if bash "$check" "$tmp/t" >"$tmp/out" 2>&1; then
    ok "unchanged copy passes"
else
    fail "unchanged copy"
    cat "$tmp/out"
fi

fresh
edit docs/contract.md '/^| pause |/d'
expect_fail "row removed" "pause: no row in docs/contract.md"

fresh
edit docs/contract.md '/^| get_rdp_console |/p'
expect_fail "row duplicated" "get_rdp_console: 2 rows in docs/contract.md"

fresh
edit docs/contract.md 's/^| swap_volume | unsupported |/| swap_volume | implemented |/'
expect_fail "unsupported row says implemented" \
    'swap_volume: docs/contract.md says "implemented" but the code says "unsupported"'

fresh
edit docs/contract.md 's/^| live_migration | not implemented yet |/| live_migration | implemented |/'
expect_fail "NULL member's row says implemented" \
    'live_migration: docs/contract.md says "implemented" but the code says "not implemented yet"'

fresh
edit docs/contract.md 's/^| is_xenapi | implemented |/| is_xenapi | unsupported |/'
expect_fail "implemented row says unsupported" \
    'is_xenapi: docs/contract.md says "unsupported" but the code says "implemented"'

fresh
edit docs/contract.md 's/^| macs_for_instance | implemented |/| macs_for_instance | done |/'
expect_fail "unknown status word" 'macs_for_instance: docs/contract.md status "done"'

fresh
edit docs/contract.md 's/^| is_xenapi | implemented | .*/| is_xenapi | implemented |  |/'
expect_fail "row without notes" "is_xenapi: docs/contract.md row has no notes"

fresh
echo '| frobnicate | implemented | no such method |' >>"$tmp/t/docs/contract.md"
expect_fail "row for an unknown method" \
    "frobnicate: docs/contract.md has a row, but nxl.h marks no such method"

# A member dropped from the libxl table: now NULL, so its row is wrong.
fresh
edit xl_driver/xl_driver.c '/^    \.is_xenapi = nxl_xl_is_xenapi,$/d'
expect_fail "member dropped from the table" \
    'is_xenapi: docs/contract.md says "implemented" but the code says "not implemented yet"'

# A member whose implementation has the wrong name.
fresh
edit xl_driver/xl_driver.c 's/^    \.is_xenapi = nxl_xl_is_xenapi,$/    .is_xenapi = xl_is_xenapi,/'
expect_fail "implementation misnamed" \
    'is_xenapi: libxl member is "xl_is_xenapi"; implementations are named nxl_xl_is_xenapi'

# A member pointing at a function no xl_driver/*.c defines.
fresh
edit xl_driver/xl_driver.c 's/^\(static int \)nxl_xl_is_xenapi(/\1nxl_xl_is_xenapi_old(/'
expect_fail "implementation not defined" \
    "is_xenapi: nxl_xl_is_xenapi is not defined in any xl_driver/*.c file"

# An implementation may live in any xl_driver/*.c file, but only once.
fresh
cat >"$tmp/t/xl_driver/xl_extra.c" <<'EOF'
int nxl_xl_is_xenapi(nxl_driver *drv, bool *is_xenapi_r, nxl_error *err)
{
    *is_xenapi_r = false;
    return 0;
}
EOF
expect_fail "implementation defined twice" \
    "is_xenapi: nxl_xl_is_xenapi is defined 2 times"

# The same definition moved to another file is fine.
fresh
edit xl_driver/xl_driver.c '/^    \.volume_snapshot_delete = nxl_xl_volume_snapshot_delete,$/a\
    .post_live_migration = nxl_xl_post_live_migration,'
cat >"$tmp/t/xl_driver/xl_extra.c" <<'EOF'
/* Braces in strings and comments must not confuse the scanner: { */
int nxl_xl_post_live_migration(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_block_device_info *bdi,
                               const char *migrate_data_json, nxl_error *err)
{
    if (!migrate_data_json)
        return nxl_error_set(err, NXL_E_INVAL, "post_live_migration: {");
    return 0;
}
EOF
expect_fail "implementation in another file counts, row must follow" \
    'post_live_migration: docs/contract.md says "not implemented yet" but the code says "implemented"'
edit docs/contract.md 's/^| post_live_migration | not implemented yet |/| post_live_migration | implemented |/'
if bash "$check" "$tmp/t" >"$tmp/out" 2>&1; then
    ok "implementation in another file, row updated: passes"
else
    fail "implementation in another file, row updated"
    cat "$tmp/out"
fi

# The unsupported marker: a body that is more than the one return...
fresh
edit xl_driver/xl_driver.c '/^    return NXL_UNSUPPORTED(err, "swap_volume",$/i\
    (void)inst;'
expect_fail "marker with other statements" \
    "swap_volume: nxl_xl_swap_volume() uses NXL_UNSUPPORTED, so its body must be that one return statement"

# ... a marker naming another method ...
fresh
edit xl_driver/xl_driver.c 's/NXL_UNSUPPORTED(err, "swap_volume",/NXL_UNSUPPORTED(err, "volume_snapshot_create",/'
expect_fail "marker for the wrong method" \
    'swap_volume: nxl_xl_swap_volume() says it is unsupported for "volume_snapshot_create"'

# ... and an unsupported answer that bypasses the marker.
fresh
edit xl_driver/xl_driver.c 's/return NXL_UNSUPPORTED(err, "swap_volume",/return nxl_error_set(err, NXL_E_UNSUPPORTED, "swap_volume: "/'
expect_fail "unsupported without the marker" \
    "swap_volume: nxl_xl_swap_volume() only returns an unsupported code; write it as return NXL_UNSUPPORTED"

# The dispatcher layer.
fresh
edit common/driver.c 's/not_implemented(drv, "unpause", err)/not_implemented(drv, "pause", err)/'
expect_fail "dispatcher names another method" \
    'unpause: dispatcher nxl_instance_unpause() does not answer not_implemented(drv, "unpause", ...)'

fresh
edit common/driver.c 's/^int nxl_instance_unpause(/int nxl_instance_unpause_old(/'
expect_fail "dispatcher missing" \
    "unpause: no dispatcher nxl_instance_unpause() in common/driver.c"

fresh
edit common/driver.h '/^    int (\*unpause)(/d'
expect_fail "ops member missing" \
    "unpause: no member in nxl_driver_ops (common/driver.h)"

fresh
edit common/driver.h 's/^    X(unpause)\( *\)\\$/    X(unpaws)\1\\/'
expect_fail "NXL_DRIVER_METHODS out of step" \
    "NXL_DRIVER_METHODS does not list the members of nxl_driver_ops in order"

fresh
edit include/novaxl/nxl.h 's|^/\* contract: unpause \*/$|/* unpause */|'
expect_fail "marker missing in nxl.h" \
    'unpause: nxl_driver_ops has a member for it, but nxl.h marks no "contract: unpause"'

fresh
edit include/novaxl/nxl.h 's|^/\* contract-module: swap_is_usable \*/$|/* contract-module: swap_is_usable */\
/* contract-module: swap_is_usable */|'
expect_fail "method marked twice" "swap_is_usable: marked twice in include/novaxl/nxl.h"

fresh
edit common/bdi.c 's/^bool nxl_swap_is_usable(/bool nxl_swap_is_usable_old(/'
expect_fail "module helper not defined" \
    "swap_is_usable: nxl_swap_is_usable() is not defined in common/*.c"

fresh
edit docs/contract.md 's/^| method | status | notes |$/| method | state | notes |/'
expect_fail "table header" "the table header must be | method | status | notes |"

# Usage errors are not "inconsistent".
bash "$check" a b >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ]; then ok "usage error exits 2"; else fail "usage error (exit $rc)"; fi
bash "$check" "$tmp/nonexistent" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ]; then ok "missing tree exits 2"; else fail "missing tree (exit $rc)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

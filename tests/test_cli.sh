#!/bin/sh
# test_cli.sh: runs the real novaxl binary.
#  - every examples/*.json through dry-run: exit 0 and a libxl config on
#    stdout (or the refusal tests/fixtures/xl_config/cli-examples.txt
#    states); test_xl_config checks libxl parses each example's config;
#  - every good tests/fixtures/xl_config case: stdout is byte for byte its
#    golden file (goldens are libxl's own output, see test_xl_config.c);
#  - every bad case: exit code for its NXL_E_* code, exactly one stderr
#    line "novaxl: <file>: ..." containing the expected text, no stdout;
#  - spawn -N / --dry-run / global -N equal dry-run; usage errors; --json;
#  - the instance commands (spawn, list, info, destroy, pause, unpause,
#    suspend, resume, power-off/shutdown, power-on/start, reboot,
#    soft-delete, restore, rescue, unrescue, rebuild, set-bootable,
#    crash-dump, diagnostics, disk-info, console, metadata): usage errors,
#    bad UUIDs,
#    and off dom0 --local exits 4 without creating anything (the lab
#    drives them on real Xen; tests/test_service.c drives them through a
#    real novaxld);
#  - host (power-action wants --yes), aggregate (show too) and events
#    usage; -N prints the call it would make
#    (parsed with tests/nxl-jsonget); --socket to nowhere is exit 4.
# Ends with "N passed, N failed".
set -u

srcdir=${NXL_TEST_SRCDIR:?run under make check}
builddir=${NXL_TEST_BUILDDIR:?run under make check}
novaxl=$builddir/cli/novaxl
jsonget=$builddir/tests/nxl-jsonget
fixtures=$srcdir/tests/fixtures/xl_config
golden=$srcdir/tests/golden/xl_config
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nxl-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

# run NAME EXPECTED-EXIT ARGS...: runs novaxl, output in $tmp/out, $tmp/err
run() {
    r_name=$1 r_want=$2
    shift 2
    "$novaxl" "$@" >"$tmp/out" 2>"$tmp/err"
    r_got=$?
    if [ "$r_got" -eq "$r_want" ]; then
        return 0
    fi
    fail "$r_name: exit $r_got, want $r_want"
    sed 's/^/    stderr: /' "$tmp/err"
    return 1
}

# one_line_err NAME PREFIX NEEDLE: stderr is one line, PREFIX..., has NEEDLE
one_line_err() {
    e_lines=$(wc -l <"$tmp/err")
    e_first=$(head -n 1 "$tmp/err")
    case $e_first in
    "$2"*) ;;
    *) fail "$1: stderr does not start with '$2': $e_first"; return 1 ;;
    esac
    if [ "$e_lines" -ne 1 ]; then
        fail "$1: $e_lines lines on stderr, want 1"
        return 1
    fi
    if ! grep -qF -- "$3" "$tmp/err"; then
        fail "$1: stderr lacks '$3': $e_first"
        return 1
    fi
    return 0
}

exit_for_code() {
    case $1 in
    NXL_E_INVAL) echo 2 ;;
    NXL_E_NOT_FOUND) echo 3 ;;
    NXL_E_HYPERVISOR) echo 4 ;;
    NXL_E_UNSUPPORTED | NXL_E_NOT_IMPLEMENTED) echo 6 ;;
    *) echo 5 ;;
    esac
}

if [ ! -x "$novaxl" ] || [ ! -x "$jsonget" ]; then
    echo "novaxl or nxl-jsonget not built in $builddir"
    exit 99
fi

# json_is NAME PATH WANT: stdout is one JSON document whose PATH is WANT.
json_is() {
    j_got=$("$jsonget" "$tmp/out" "$2") || {
        fail "$1: stdout is not JSON with $2"
        return 1
    }
    [ "$j_got" = "$3" ] && return 0
    fail "$1: $2 is '$j_got', want '$3'"
    return 1
}

# ---- global options and usage ------------------------------------------
if run version 0 --version && grep -q '^novaxl [0-9]' "$tmp/out"; then
    ok "--version"
else
    fail "--version prints 'novaxl <version>'"
fi
if run help 0 --help && grep -q 'dry-run' "$tmp/out" &&
    grep -q 'spawn' "$tmp/out" && grep -q 'Exit codes' "$tmp/out"; then
    ok "--help lists the commands and exit codes"
else
    fail "--help"
fi
run "no command" 1 && ok "no command: usage, exit 1"
run "unknown command" 1 frobnicate &&
    one_line_err "unknown command" "novaxl: unknown command 'frobnicate'" \
        "--help" && ok "unknown command: exit 1"
run "dry-run without file" 1 dry-run &&
    grep -q 'missing FILE' "$tmp/err" && ok "dry-run without FILE: exit 1"
run "missing file" 3 dry-run "$tmp/nonexistent.json" &&
    one_line_err "missing file" "novaxl: $tmp/nonexistent.json: " \
        "No such file" && ok "missing file: exit 3"
printf '{ "instance": ' >"$tmp/broken.json"
run "broken json" 2 dry-run "$tmp/broken.json" &&
    one_line_err "broken json" "novaxl: $tmp/broken.json: " "" &&
    [ ! -s "$tmp/out" ] && ok "unparsable request: exit 2, one line"
# Larger than NXL_MAX_DOCUMENT_BYTES (1 MiB): refused before parsing.
head -c 1048577 /dev/zero | tr '\0' ' ' >"$tmp/huge.json"
run "huge file" 2 dry-run "$tmp/huge.json" &&
    one_line_err "huge file" "novaxl: $tmp/huge.json: " "" &&
    ok "oversized request: exit 2"
# ---- instance commands (without Xen: only what fails before libxl) ---------
uuid=2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f
inst=$tmp/instances
if [ -e /proc/xen/capabilities ] && grep -q control_d /proc/xen/capabilities; then
    echo "# a Xen dom0: skipping the no-hypervisor checks"
else
    # Off dom0 the driver says so (exit 4) and creates nothing on disk.
    run "spawn without -N" 4 --instances-dir "$inst" spawn \
        "$srcdir/examples/pv-direct-kernel.json" &&
        one_line_err "spawn" "novaxl: $srcdir/examples/pv-direct-kernel.json: " \
            "dom0" && [ ! -e "$inst" ] &&
        ok "spawn without Xen: exit 4, nothing created"
    for cmd in "list" "info $uuid" "destroy $uuid" "pause $uuid" \
        "unpause $uuid" "power-off $uuid --timeout 5" "power-on $uuid" \
        "reboot $uuid --hard" "suspend $uuid" "resume $uuid" \
        "shutdown $uuid" "start $uuid" "soft-delete $uuid" "restore $uuid" \
        "console $uuid --name instance-1" "host resources" "host uptime" \
        "metadata set $uuid a=b" "dumpxml $uuid"; do
        # shellcheck disable=SC2086  # the command's words are wanted
        run "$cmd" 4 --instances-dir "$inst" $cmd &&
            one_line_err "$cmd" "novaxl: " "dom0" && [ ! -e "$inst" ] &&
            ok "$cmd without Xen: exit 4"
    done
fi
run "spawn of a broken file" 2 --instances-dir "$inst" spawn "$tmp/broken.json" &&
    one_line_err "spawn broken" "novaxl: $tmp/broken.json: " "" &&
    [ ! -e "$inst" ] && ok "spawn of a broken request: exit 2 before any host access"
for cmd in info destroy pause unpause power-off power-on reboot suspend \
    resume shutdown start soft-delete restore; do
    run "$cmd without UUID" 1 "$cmd" &&
        grep -q "missing UUID" "$tmp/err" && ok "$cmd without UUID: exit 1"
    run "$cmd with a bad UUID" 2 "$cmd" not-a-uuid &&
        one_line_err "$cmd bad uuid" "novaxl: not-a-uuid: " "canonical UUID" &&
        ok "$cmd with a bad UUID: exit 2"
    run "$cmd with two UUIDs" 1 "$cmd" "$uuid" "$uuid" &&
        ok "$cmd with two UUIDs: exit 1"
    run "$cmd --bogus" 1 "$cmd" --bogus "$uuid" && ok "$cmd --bogus: exit 1"
done
run "list with an operand" 1 list extra && ok "list with an operand: exit 1"
for t in abc -1 1.5 86401 ""; do
    run "power-off --timeout '$t'" 1 power-off "$uuid" --timeout "$t" &&
        grep -q "timeout wants" "$tmp/err" &&
        ok "power-off --timeout '$t': exit 1"
done
run "power-off --retry-interval x" 1 power-off "$uuid" --retry-interval x &&
    ok "power-off --retry-interval x: exit 1"
run "help reboot" 0 help reboot && grep -q -- "--hard" "$tmp/out" &&
    ok "help reboot shows --hard"

# ---- examples -------------------------------------------------------------
n_examples=0
for ex in "$srcdir"/examples/*.json; do
    [ -e "$ex" ] || continue
    n_examples=$((n_examples + 1))
    name=$(basename "$ex" .json)
    expect=$(grep -v '^#' "$fixtures/cli-examples.txt" |
        awk -v n="$name" '$1 == n { $1 = ""; print substr($0, 2) }')
    if [ -n "$expect" ]; then
        code=${expect%% *}
        needle=${expect#* }
        run "example $name" "$code" dry-run "$ex" &&
            one_line_err "example $name" "novaxl: $ex: " "$needle" &&
            ok "example $name: refused as documented (exit $code)"
        continue
    fi
    inst=$(grep -m 1 '"name": "instance-' "$ex" | sed 's/.*"name": "\([^"]*\)".*/\1/')
    if run "example $name" 0 dry-run "$ex" &&
        [ ! -s "$tmp/err" ] && [ "$(head -n 1 "$tmp/out")" = "{" ] &&
        [ "$(tail -n 1 "$tmp/out")" = "}" ] &&
        grep -q '"c_info": {' "$tmp/out" &&
        grep -q "\"name\": \"$inst\"" "$tmp/out"; then
        ok "example $name: dry-run prints its libxl config"
    else
        fail "example $name: dry-run output"
    fi
done
[ "$n_examples" -gt 0 ] && ok "examples found: $n_examples" ||
    fail "no examples/*.json"

# ---- golden fixtures --------------------------------------------------------
n_good=0
for fx in "$fixtures"/*.json; do
    name=$(basename "$fx" .json)
    case $name in bad-*) continue ;; esac
    n_good=$((n_good + 1))
    if run "fixture $name" 0 dry-run "$fx" &&
        cmp -s "$tmp/out" "$golden/$name.json"; then
        ok "fixture $name: output equals its golden file"
    else
        fail "fixture $name: output differs from $golden/$name.json"
        diff "$golden/$name.json" "$tmp/out" | head -n 10 | sed 's/^/    /'
    fi
done
[ "$n_good" -ge 15 ] && ok "good fixtures: $n_good" ||
    fail "only $n_good good fixtures"

# -N forms print the same as dry-run.
fx=$fixtures/pv-direct-kernel.json
for form in "spawn -N" "spawn --dry-run" "-N spawn"; do
    # shellcheck disable=SC2086
    if run "$form" 0 $form "$fx" && cmp -s "$tmp/out" "$golden/pv-direct-kernel.json"; then
        ok "novaxl $form equals dry-run"
    else
        fail "novaxl $form"
    fi
done

# ---- bad fixtures -----------------------------------------------------------
n_bad=0
for fx in "$fixtures"/bad-*.json; do
    name=$(basename "$fx" .json)
    n_bad=$((n_bad + 1))
    code=$(head -n 1 "$fixtures/$name.err")
    needle=$(sed -n 2p "$fixtures/$name.err")
    want=$(exit_for_code "$code")
    run "$name" "$want" dry-run "$fx" &&
        one_line_err "$name" "novaxl: $fx: " "$needle" &&
        if [ -s "$tmp/out" ]; then
            fail "$name: wrote to stdout"
        else
            ok "$name: exit $want, one line"
        fi
done
[ "$n_bad" -ge 8 ] && ok "bad fixtures: $n_bad" || fail "only $n_bad bad fixtures"

# --json: the failure also as an object on stdout.
fx=$fixtures/bad-vm-mode.json
if run "--json" 2 --json dry-run "$fx" &&
    json_is "--json" error.code NXL_E_INVAL &&
    json_is "--json" error.exception InvalidInput &&
    json_is "--json" error.subject "$fx" &&
    "$jsonget" "$tmp/out" error.message | grep -qF "vm_mode: 'lxc'"; then
    ok "--json reports the error as JSON"
else
    fail "--json error object"
fi
run "--json bad uuid" 2 --json info not-a-uuid &&
    json_is "--json bad uuid" error.code NXL_E_INVAL &&
    json_is "--json bad uuid" error.subject not-a-uuid &&
    ok "--json info with a bad UUID: an error object, exit 2"

# ---- the newer commands: usage, -N, sockets ----------------------------------
# -N: the call a modifying command would make, and nothing else.
run "-N pause" 0 --json -N --local pause "$uuid" &&
    json_is "-N pause" method pause && json_is "-N pause" params.uuid "$uuid" &&
    json_is "-N pause" dry_run true && ok "-N --json pause: the call, exit 0"
run "-N power-off" 0 --json -N power-off "$uuid" --timeout 7 &&
    json_is "-N power-off" method power_off &&
    json_is "-N power-off" params.timeout 7 &&
    json_is "-N power-off" params.retry_interval 10 &&
    ok "-N power-off: timeout and retry_interval"
run "-N shutdown" 0 --json -N shutdown "$uuid" &&
    json_is "-N shutdown" params.timeout 60 && ok "shutdown is power-off"
run "-N start" 0 --json -N start "$uuid" &&
    json_is "-N start" method power_on && ok "start is power-on"
run "-N reboot" 0 --json -N reboot "$uuid" --hard &&
    json_is "-N reboot" params.reboot_type HARD && ok "-N reboot --hard"
run "-N destroy" 0 --json -N destroy "$uuid" --keep-disks &&
    json_is "-N destroy" params.destroy_disks false && ok "-N destroy --keep-disks"
run "-N metadata" 0 --json -N metadata set "$uuid" a=b c==d &&
    json_is "-N metadata" method change_instance_metadata &&
    json_is "-N metadata" params.diff.a.1 b &&
    json_is "-N metadata" params.diff.c.1 =d && ok "-N metadata set: the diff"
run "-N metadata unset" 0 --json -N metadata unset "$uuid" a &&
    json_is "-N metadata unset" params.diff.a.0 - && ok "-N metadata unset"
run "-N host disable" 0 --json -N host disable &&
    json_is "-N host disable" params.enabled false && ok "-N host disable"
run "-N maintenance" 0 --json -N host maintenance on --host h1 &&
    json_is "-N maintenance" params.host h1 &&
    json_is "-N maintenance" params.mode true && ok "-N host maintenance on"
run "-N aggregate add" 0 --json -N aggregate add h1 --id 4 --name p4 --zone z &&
    json_is "-N aggregate add" method add_to_aggregate &&
    json_is "-N aggregate add" params.aggregate.id 4 &&
    json_is "-N aggregate add" params.aggregate.availability_zone z &&
    json_is "-N aggregate add" params.host h1 && ok "-N aggregate add"
run "-N aggregate undo" 0 --json -N aggregate undo remove h1 --id 4 --name p4 &&
    json_is "-N aggregate undo" params.op remove_from_aggregate &&
    json_is "-N aggregate undo" params.set_error true && ok "-N aggregate undo"
run "-N rescue" 0 --json -N rescue "$uuid" rescue-img --password pw &&
    json_is "-N rescue" method rescue &&
    json_is "-N rescue" params.uuid "$uuid" &&
    json_is "-N rescue" params.image_meta.id rescue-img &&
    json_is "-N rescue" params.image_meta.disk_format raw &&
    json_is "-N rescue" params.rescue_password pw && ok "-N rescue: the call"
run "-N unrescue" 0 --json -N unrescue "$uuid" &&
    json_is "-N unrescue" method unrescue && ok "-N unrescue"
run "-N set-bootable" 0 --json -N set-bootable "$uuid" no &&
    json_is "-N set-bootable" method set_bootable &&
    json_is "-N set-bootable" params.is_bootable false && ok "-N set-bootable no"
run "-N crash-dump" 0 --json -N crash-dump "$uuid" &&
    json_is "-N crash-dump" method trigger_crash_dump && ok "-N crash-dump"
run "-N rebuild" 0 --json -N rebuild "$srcdir/examples/pv-direct-kernel.json" \
    --preserve-ephemeral &&
    json_is "-N rebuild" method rebuild &&
    json_is "-N rebuild" params.preserve_ephemeral true &&
    json_is "-N rebuild" params.recreate false && ok "-N rebuild: the call"
run "-N host power-action" 0 --json -N host power-action reboot &&
    json_is "-N host power-action" method host_power_action &&
    json_is "-N host power-action" params.action reboot &&
    ok "-N host power-action: the call, no --yes needed"
echo '{"instance": {}}' >"$tmp/bad-req.json"
run "rebuild bad file" 2 --json rebuild "$tmp/bad-req.json" &&
    json_is "rebuild bad file" error.code NXL_E_INVAL &&
    ok "rebuild of a bad request: exit 2, nothing sent"
run "diagnostics bad uuid" 2 --json diagnostics not-a-uuid &&
    ok "diagnostics with a bad UUID: exit 2"
run "-N human" 0 -N pause "$uuid" &&
    grep -q "^novaxl: dry run: would call pause " "$tmp/out" &&
    ok "-N without --json: one line"
for args in "host" "host frobnicate" "host maintenance" \
    "host maintenance sideways" "host uptime extra" "host uptime --node n" \
    "aggregate" "aggregate add" "aggregate add h1" \
    "aggregate add h1 --id x --name p" "aggregate undo h1 --id 1 --name p" \
    "aggregate add h1 --id 1 --name p --no-set-error" \
    "metadata" "metadata set" "metadata set $uuid" "metadata set $uuid a" \
    "metadata unset $uuid a=b" "console $uuid" \
    "console $uuid --name n --log --vnc" "events extra" "events --since x" \
    "events --count 0" "events --no-follow" \
    "rescue" "rescue $uuid" "rescue $uuid img extra" "unrescue" \
    "rebuild" "rebuild a b" "set-bootable $uuid" "set-bootable $uuid maybe" \
    "crash-dump" "diagnostics" "diagnostics $uuid extra" "disk-info" \
    "host power-action" "host power-action reboot" "host uptime --yes" \
    "aggregate show" "aggregate show --id x" "aggregate show extra --id 1" \
    "aggregate show --id 1 --name p"; do
    # shellcheck disable=SC2086
    run "$args" 1 $args && [ ! -s "$tmp/out" ] && ok "$args: usage, exit 1"
done
run "console bad name" 2 --local console "$uuid" --name "a/b" &&
    ok "console with a bad name: exit 2"
run "--socket nowhere" 4 --json --socket "$tmp/none.sock" list &&
    json_is "--socket nowhere" error.code NXL_E_HYPERVISOR &&
    ok "--socket to nowhere: exit 4"
run "--socket and --local" 1 --socket "$tmp/none.sock" --local list &&
    ok "--socket with --local: exit 1"
run "--socket and --instances-dir" 1 --socket "$tmp/none.sock" \
    --instances-dir "$tmp/i" list && ok "--socket with --instances-dir: exit 1"
run "events --local" 6 --json --local events &&
    json_is "events --local" error.code NXL_E_UNSUPPORTED &&
    ok "events in-process: exit 6"
# The default socket does not exist here: in-process, like --local.
if [ ! -e /run/novaxl/novaxld.sock ]; then
    run "default" 2 info not-a-uuid && ok "no daemon: in-process"
fi

# ---- libvirt XML: dry-run --xml, spawn --xml, dumpxml ------------------------
# Each example's golden XML (tests/golden/xml, checked by tests/test_xml)
# builds the very libxl config, or the very refusal, of its JSON.
for ex in "$srcdir"/examples/*.json; do
    name=$(basename "$ex" .json)
    xml=$srcdir/tests/golden/xml/$name.xml
    "$novaxl" dry-run "$ex" >"$tmp/json.out" 2>"$tmp/json.err"
    want=$?
    if ! run "dry-run --xml $name" "$want" dry-run --xml "$xml"; then
        continue
    fi
    if cmp -s "$tmp/out" "$tmp/json.out" &&
        [ "$(sed "s|$xml|F|" "$tmp/err")" = "$(sed "s|$ex|F|" "$tmp/json.err")" ]; then
        ok "dry-run --xml $name: the same result as its JSON (exit $want)"
    else
        fail "dry-run --xml $name differs from dry-run of the JSON"
    fi
    run "spawn -N --xml $name" "$want" spawn -N --xml "$xml" &&
        cmp -s "$tmp/out" "$tmp/json.out" &&
        ok "spawn -N --xml $name: the same as dry-run"
done
cat >"$tmp/xxe.xml" <<'EOF_XML'
<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<domain type='xen'><name>&x;</name></domain>
EOF_XML
run "dry-run --xml XXE" 2 --json dry-run --xml "$tmp/xxe.xml" &&
    json_is "XXE" error.code NXL_E_INVAL &&
    "$jsonget" "$tmp/out" error.message | grep -qF "DOCTYPE is not allowed" &&
    ! grep -q "root:" "$tmp/out" "$tmp/err" &&
    ok "dry-run --xml of an XXE document: exit 2, nothing read"
run "spawn --xml XXE" 2 --instances-dir "$tmp/inst-xxe" spawn --xml \
    "$tmp/xxe.xml" &&
    one_line_err "spawn --xml XXE" "novaxl: $tmp/xxe.xml: " "DOCTYPE" &&
    [ ! -e "$tmp/inst-xxe" ] && ok "spawn --xml XXE: exit 2, nothing created"
printf "<domain type='xen'><name>x</domain>" >"$tmp/bad.xml"
run "dry-run --xml malformed" 2 dry-run --xml "$tmp/bad.xml" &&
    one_line_err "malformed xml" "novaxl: $tmp/bad.xml: " "not well-formed" &&
    [ ! -s "$tmp/out" ] && ok "dry-run --xml of malformed XML: exit 2, one line"
run "dry-run --xml of JSON" 2 dry-run --xml "$srcdir/examples/pv-direct-kernel.json" &&
    grep -q "not well-formed" "$tmp/err" && ok "dry-run --xml of a JSON file: exit 2"
sed "s|<on_crash>preserve|<on_crash>destroy|" \
    "$srcdir/tests/golden/xml/pv-direct-kernel.xml" >"$tmp/crash.xml"
run "on_crash destroy" 2 --json dry-run --xml "$tmp/crash.xml" &&
    "$jsonget" "$tmp/out" error.message | grep -qF "on_crash: 'destroy' cannot be honoured" &&
    ok "dry-run --xml with an action novaxl cannot honour: exit 2"
run "dry-run --xml without file" 1 dry-run --xml &&
    grep -q "missing FILE" "$tmp/err" && ok "dry-run --xml without FILE: exit 1"
run "dumpxml without UUID" 1 dumpxml && grep -q "missing UUID" "$tmp/err" &&
    ok "dumpxml without UUID: exit 1"
run "dumpxml bad UUID" 2 dumpxml not-a-uuid &&
    one_line_err "dumpxml bad uuid" "novaxl: not-a-uuid: " "canonical UUID" &&
    ok "dumpxml with a bad UUID: exit 2"
run "dumpxml two UUIDs" 1 dumpxml "$uuid" "$uuid" && ok "dumpxml with two UUIDs: exit 1"
run "dumpxml --socket nowhere" 4 --json --socket "$tmp/none.sock" dumpxml "$uuid" &&
    json_is "dumpxml --socket nowhere" error.code NXL_E_HYPERVISOR &&
    ok "dumpxml through an absent novaxld: exit 4"
run "help dumpxml" 0 help dumpxml && grep -q "libvirt" "$tmp/out" &&
    ok "help dumpxml"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

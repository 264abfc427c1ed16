#!/bin/bash
# Runs the lab tests in $NXL_LAB_TESTS_DIR (see below), each bounded by
# $NXL_LAB_TEST_TIMEOUT seconds, and prints exactly one result line per test
# on the console for lab/run.sh to parse:
#   PASS <name> <seconds>s | FAIL <name> <seconds>s <reason> | SKIP <name>
# then "LAB-DONE passed=N failed=N skipped=N retried=N". A test killed by a
# fatal signal runs once more (LAB-RETRY; see below). A test's own output goes to
# the console too, prefixed "  | ", so failures can be read from a CI log.
# Exit status of a test: 0 pass, 77 skip, anything else fail.
set -euo pipefail
payload=$(cd "$(dirname "$0")/.." && pwd)
# Exported: the tests read the lab's paths from the environment.
set -a
# shellcheck source=../lab.env
. "$payload/lab/lab.env"
set +a
bound=${NXL_LAB_TEST_TIMEOUT:-$NXL_LAB_DEFAULT_TEST_TIMEOUT}

elapsed() {
    local now=${EPOCHREALTIME/./} then=${1/./}
    local d=$(((now - then) / 100000))
    printf '%d.%d' $((d / 10)) $((d % 10))
}

passed=0 failed=0 skipped=0 retries=0
work=$(mktemp -d)
# Tests are the executables named [0-9]* (scripts and C tests) and t[0-9]*
# (C tests built with the project), in name order (C collation).
export PATH="$payload/lab/bin:$PATH"
tests=()
for t in "$NXL_LAB_TESTS_DIR"/[0-9]* "$NXL_LAB_TESTS_DIR"/t[0-9]*; do
    if [ -f "$t" ] && [ -x "$t" ]; then tests+=("$t"); fi
done
mapfile -t tests < <(printf '%s\n' "${tests[@]}" | LC_ALL=C sort)
echo "LAB-TESTS ${#tests[@]}: $(printf '%s ' "${tests[@]##*/}")"
xenstored_dead=""
for t in "${tests[@]}"; do
    [ -n "$t" ] || continue
    name=$(basename "$t")
    # Without xenstored every test would hang until its bound: say so, fail
    # the rest at once.
    if [ -z "$xenstored_dead" ] && ! pgrep -x oxenstored >/dev/null &&
        ! pgrep -x xenstored >/dev/null; then
        xenstored_dead=$name
        echo "LAB-XENSTORED-DEAD before $name"
        dmesg | grep -i -e segfault -e xenstored | tail -5 | sed 's/^/  | /'
    fi
    if [ -n "$xenstored_dead" ]; then
        failed=$((failed + 1))
        echo "FAIL $name 0.0s not run: xenstored died before $xenstored_dead"
        continue
    fi
    echo "LAB-START $name"
    t0=$EPOCHREALTIME
    retried=""
    while :; do
        # A scratch dir as cwd. set +e: the status is the test's verdict.
        set +e
        (cd "$work" && timeout -k 10 "$bound" "$t") 2>&1 | sed -u 's/^/  | /'
        rc=${PIPESTATUS[0]}
        set -e
        # Every test must leave the host as it found it. Whatever a failed
        # or timed-out test left running is destroyed here, so that one
        # failure never cascades into the next test (same example UUIDs,
        # dom0 memory); a passing test that left a domain behind fails for
        # the leak.
        left=$(xl list 2>/dev/null | awk 'NR > 1 && $2 != 0 { print $2 }' | tr '\n' ' ')
        if [ -n "$left" ]; then
            echo "LAB-CLEANUP after $name: destroying leftover domain(s) $left"
            for id in $left; do xl destroy "$id" >/dev/null 2>&1 || true; done
            if [ "$rc" -eq 0 ]; then rc=99; fi
        fi
        # Under TCG, processes in this dom0 die of heap corruption now and
        # then, Xen's own xl included (lab/README.md, "Known flakes"). A
        # test killed by SIGSEGV, SIGBUS or SIGABRT (its backtrace is
        # above) runs once more on the cleaned host, and says so; a second
        # death fails it.
        case $rc in
            134|135|139) ;;
            *) break ;;
        esac
        [ -z "$retried" ] || break
        retried="the first run died of signal $((rc - 128))"
        retries=$((retries + 1))
        echo "LAB-RETRY $name: $retried; once more"
    done
    secs=$(elapsed "$t0")
    case $rc in
        0) passed=$((passed + 1))
            echo "PASS $name ${secs}s${retried:+ (retried: $retried)}" ;;
        77) skipped=$((skipped + 1)); echo "SKIP $name" ;;
        124|137) failed=$((failed + 1))
            echo "FAIL $name ${secs}s timed out after ${bound}s" ;;
        99) failed=$((failed + 1))
            echo "FAIL $name ${secs}s passed but left domain(s) $left behind" ;;
        *) failed=$((failed + 1)); echo "FAIL $name ${secs}s exit status $rc" ;;
    esac
done
rm -rf "$work"
echo "LAB-DONE passed=$passed failed=$failed skipped=$skipped retried=$retries"
[ "$failed" -eq 0 ]

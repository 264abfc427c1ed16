#!/bin/bash
# test_completion.sh: completion/novaxl in a real bash: commands, global
# options, subcommands and per-command options complete, and every command
# of `novaxl --help` is one the completion offers.
# Under make check this runs with /bin/sh: go on in bash (skip without).
if [ -z "${BASH_VERSION:-}" ]; then
    command -v bash >/dev/null 2>&1 || { echo "no bash"; exit 77; }
    exec bash "$0" "$@"
fi
set -u

srcdir=${NXL_TEST_SRCDIR:?run under make check}
builddir=${NXL_TEST_BUILDDIR:?run under make check}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

PATH=$builddir/cli:$PATH
# shellcheck source=/dev/null
. "$srcdir/completion/novaxl" || { echo "cannot source the completion"; exit 1; }

# comp WORDS...: completes the last word (may be "") of "novaxl WORDS".
comp() {
    COMP_WORDS=(novaxl "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _novaxl novaxl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}

expect() {
    want=$1
    shift
    got=$(comp "$@")
    if [ "$got" = "$want" ]; then
        ok "novaxl $* -> $want"
    else
        fail "novaxl $*: got '$got', want '$want'"
    fi
}

expect "suspend " su
expect "set-bootable shutdown soft-delete spawn start suspend " s
expect "--json " --js
expect "list " --local li
expect "maintenance " host ma
expect "status " host st
expect "off on " host maintenance ""
expect "add remove show undo " aggregate ""
expect "no yes " set-bootable x ""
expect "reboot shutdown startup " host power-action ""
expect "--disk-format --help --password " rescue x --
expect "--help --preserve-ephemeral --recreate " rebuild --
expect "add remove " aggregate undo ""
expect "--no-follow " events --no
expect "--hard --help " reboot x --h
expect "--keep-disks " destroy x --k
expect "--help --log --name --vnc " console x --
expect "set unset " metadata ""
expect "dumpxml " du
expect "--dry-run --help --xml " spawn --
expect "--help --xml " dry-run --
# FILE: a JSON request, or with --xml a libvirt domain document
cdir=$(mktemp -d "${TMPDIR:-/tmp}/nxl-comp.XXXXXX") && {
    touch "$cdir/req.json" "$cdir/dom.xml"
    cd "$cdir" || exit 1
    expect "req.json " spawn ""
    expect "dom.xml " spawn --xml ""
    expect "dom.xml " dry-run --xml ""
    cd - >/dev/null || exit 1
    rm -rf "$cdir"
}

# Every command novaxl --help lists is offered.
missing=""
for cmd in $(novaxl --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }'); do
    case " $(comp "") " in
    *" $cmd "*) ;;
    *) missing="$missing $cmd" ;;
    esac
done
[ -z "$missing" ] && ok "every command of --help completes" ||
    fail "commands not offered:$missing"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# test_man.sh: man/novaxl.1 and man/novaxld.8 render without a single
# warning (groff -man -ww, or mandoc -Tlint), and they are accurate: every
# command and global option `novaxl --help` lists, and every option
# `novaxld --help` lists, is in its page. Skipped (77) with no formatter.
set -u

srcdir=${NXL_TEST_SRCDIR:?run under make check}
builddir=${NXL_TEST_BUILDDIR:?run under make check}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nxl-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

if command -v groff >/dev/null 2>&1; then
    render() { LC_ALL=C.UTF-8 groff -man -Tutf8 -ww "$1"; }
elif command -v mandoc >/dev/null 2>&1; then
    render() { mandoc -Tlint -Wwarning "$1" >&2 && mandoc -Tutf8 "$1"; }
else
    echo "no groff or mandoc: cannot render man pages"
    exit 77
fi

for page in novaxl.1 novaxld.8; do
    f=$srcdir/man/$page
    if render "$f" >"$tmp/$page.txt" 2>"$tmp/$page.err" &&
        [ ! -s "$tmp/$page.err" ] && [ -s "$tmp/$page.txt" ]; then
        ok "$page renders without warnings"
    else
        fail "$page: warnings or errors:"
        sed 's/^/    /' "$tmp/$page.err"
    fi
    # Plain text (no overstrike) for the checks below.
    sed 's/.\x08//g' "$tmp/$page.txt" >"$tmp/$page.plain"
done

# Every command of novaxl --help is in novaxl(1), and every long option.
"$builddir/cli/novaxl" --help >"$tmp/help" || fail "novaxl --help"
cmds=$(sed -n '/^Commands:/,/^$/p' "$tmp/help" | awk 'NF > 1 { print $1 }')
n=0
for cmd in $cmds; do
    n=$((n + 1))
    sed -n '/^COMMANDS/,/^EXIT STATUS/p' "$tmp/novaxl.1.plain" |
        grep -qw -- "$cmd" || fail "novaxl(1) lacks the command '$cmd'"
done
[ "$n" -ge 20 ] && ok "novaxl(1) documents the $n commands of --help" ||
    fail "only $n commands in novaxl --help"
for opt in $(grep -o -- '--[a-z-]*' "$tmp/help" | sort -u); do
    grep -q -- "$opt" "$tmp/novaxl.1.plain" ||
        fail "novaxl(1) lacks the option $opt"
done
ok "novaxl(1) documents every option of --help"
# Each command's own options (novaxl help COMMAND) too.
for cmd in $cmds; do
    "$builddir/cli/novaxl" help "$cmd" >"$tmp/h" 2>&1 || fail "help $cmd"
    for opt in $(grep -o -- '--[a-z-]*' "$tmp/h" | sort -u); do
        grep -q -- "$opt" "$tmp/novaxl.1.plain" ||
            fail "novaxl(1) lacks '$cmd $opt'"
    done
done
ok "novaxl(1) documents every command's options"

"$builddir/service/novaxld" --help >"$tmp/dhelp" 2>&1 || fail "novaxld --help"
for opt in $(grep -o -- '--[a-z-]*' "$tmp/dhelp" | sort -u); do
    case $opt in --fake-port) continue ;; esac
    grep -q -- "$opt" "$tmp/novaxld.8.plain" ||
        fail "novaxld(8) lacks the option $opt"
done
ok "novaxld(8) documents every option of novaxld --help"

# Exit codes: the page lists the ones --help lists.
for code in 0 1 2 3 4 5 6; do
    grep -q "^ *$code *$\|^ *$code  " "$tmp/novaxl.1.plain" ||
        fail "novaxl(1) lacks exit status $code"
done
ok "novaxl(1) lists exit statuses 0..6"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

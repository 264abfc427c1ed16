#!/usr/bin/env bash
# Fills a staging directory that lab/run.sh turns into the payload disk
# (mounted at /novaxl in dom0):
#   lab/            dom0-main.sh run-tests.sh demo.sh lab.env
#   lab/bin/        lab/helpers/*.c compiled on the host (nxl-lab-create),
#                   lab/guest/nxl-*.c compiled static (nxl-xsprobe,
#                   nxl-agent, for guests)
#   tests/lab/      the lab tests, run in name order by run-tests.sh:
#                     tests/lab/[0-9]*.sh   copied, suffix dropped
#                     tests/lab/[0-9]*.c    compiled here against libxenlight
#                     tests/lab/src/t*.c    the build's tests/lab/t* (built
#                                           with the project, see
#                                           xl_driver/port.mk); needs --build
#                   and lib.sh (a library, not a test)
#   examples/       the project's examples/ (spawn requests)
#   sysroot/        with --install DESTDIR: the project's `make install
#                   DESTDIR=...` tree, laid over dom0's / at boot
#
#   lab/stage.sh STAGING [--install DESTDIR] [--build BUILDDIR]
# STAGING's lab/, tests/, examples/ and sysroot/ are replaced; nothing else
# is touched. Everything compiled here runs in dom0: the host's libxen-dev
# must be the version of dom0's Xen libraries (lab/build-image.sh keys its
# cache on it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

usage() { echo "usage: $0 STAGING [--install DESTDIR] [--build BUILDDIR]" >&2; exit 2; }
[ $# -ge 1 ] || usage
staging=$1
shift
destdir="" build=""
while [ $# -gt 0 ]; do
    case $1 in
        --install) [ $# -ge 2 ] || usage; destdir=$2; shift 2 ;;
        --build) [ $# -ge 2 ] || usage; build=$(cd "$2" && pwd); shift 2 ;;
        *) usage ;;
    esac
done

mkdir -p "$staging"
staging=$(cd "$staging" && pwd)
rm -rf "${staging:?}/lab" "$staging/tests" "$staging/sysroot" "$staging/examples"
mkdir -p "$staging/lab/bin" "$staging/tests/lab"

install -m 644 "$here/lab.env" "$staging/lab/lab.env"
install -m 755 "$here"/dom0/*.sh "$staging/lab/"
cp -r "$top/examples" "$staging/examples"

CC=${CC:-gcc}
# shellcheck disable=SC2207  # word splitting of pkg-config output is wanted
xen_flags=($(pkg-config --cflags --libs xenlight xentoollog xenforeignmemory))
cc_xen() { # OUT SRC
    "$CC" -std=gnu11 -O2 -g -Wall -Wextra -Werror -o "$1" "$2" "${xen_flags[@]}"
}
for src in "$here"/helpers/*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    cc_xen "$staging/lab/bin/$name" "$src"
done
# Programs for inside the lab guest, whose initramfs has only a static
# busybox: static, no Xen libraries (lab tests add them to a guest
# initramfs of their own). Each lab/guest/nxl-*.c is one program, linked
# with the shared xenstore client (lab/guest/xenbus.c) and static libcrypt
# (nxl-agent's crypt(3); a static link takes only what a program uses).
for src in "$here"/guest/nxl-*.c; do
    [ -f "$src" ] || continue
    "$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -static \
        -o "$staging/lab/bin/$(basename "$src" .c)" "$src" \
        "$here/guest/xenbus.c" -lcrypt
done

shopt -s nullglob
install -m 644 "$top/tests/lab/lib.sh" "$staging/tests/lab/lib.sh"
for src in "$top"/tests/lab/[0-9]*.sh; do
    name=$(basename "$src" .sh)
    install -m 755 "$src" "$staging/tests/lab/$name"
done
for src in "$top"/tests/lab/[0-9]*.c; do
    name=$(basename "$src" .c)
    cc_xen "$staging/tests/lab/$name" "$src"
done
# Tests that use the project's own code: the build compiles them (one
# noinst program tests/lab/tNAME per tests/lab/src/tNAME.c); a source the
# build has no rule for is compiled here against the build's convenience
# library, so a new one is picked up without touching a .mk file.
for src in "$top"/tests/lab/src/t*.c; do
    name=$(basename "$src" .c)
    if [ -z "$build" ]; then
        echo "stage.sh: $name not staged: no --build BUILDDIR" >&2
        continue
    fi
    bin="$build/tests/lab/$name"
    if make -C "$build" -s "tests/lab/$name" >/dev/null 2>&1 && [ -x "$bin" ]; then
        install -m 755 "$bin" "$staging/tests/lab/$name"
        continue
    fi
    lib="$build/.libs/libnovaxl-internal.a"
    [ -f "$lib" ] || { echo "stage.sh: $name: no $lib (build first)" >&2; exit 1; }
    echo "stage.sh: $name: no make rule, compiling against $lib"
    # With the lab tests' shared helpers (tests/lab/src/labutil.c), which a
    # test that does not use them never notices.
    # shellcheck disable=SC2046  # word splitting of pkg-config output
    "$CC" -std=gnu11 -O2 -g -Wall -Wextra -Werror \
        -I"$top/include" -I"$top" -I"$build" \
        -o "$staging/tests/lab/$name" "$src" "$top/tests/lab/src/labutil.c" \
        "$lib" \
        $(pkg-config --cflags --libs xenlight xentoollog xenstore xencontrol \
            yajl libxml-2.0) -lpthread
done

if [ -n "$destdir" ]; then
    [ -d "$destdir" ] || { echo "stage.sh: no such directory: $destdir" >&2; exit 1; }
    mkdir -p "$staging/sysroot"
    cp -a "$destdir/." "$staging/sysroot/"
fi
n=$(find "$staging/tests/lab" -maxdepth 1 -type f -perm -u+x | wc -l)
echo "stage.sh: staged $n lab tests in $staging"

#!/usr/bin/env bash
# `make check-xen`: the Xen lab suite against the current build.
#   lab/check-xen.sh SRCDIR BUILDDIR [--check|--demo]
# Builds (or reuses) the cached dom0 image, installs BUILDDIR into a DESTDIR,
# stages it with the lab tests, boots the lab and runs them. Output and the
# serial log go to BUILDDIR/lab-out. Needs root for a first image build.
# Environment: see lab/run.sh (NXL_LAB_CACHE, NXL_LAB_TIMEOUT, ...).
set -euo pipefail
usage() { echo "usage: $0 SRCDIR BUILDDIR [--check|--demo]" >&2; exit 2; }
[ $# -eq 2 ] || [ $# -eq 3 ] || usage
mode=${3:---check}
case $mode in --check | --demo) ;; *) usage ;; esac
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
out="$build/lab-out"
rm -rf "$out/destdir" "$out/staging"
mkdir -p "$out"

if [ "$(id -u)" -eq 0 ]; then
    "$src/lab/setup-host.sh"
fi
"$src/lab/build-image.sh" >/dev/null
make -C "$build" install DESTDIR="$out/destdir" >"$out/install.log" 2>&1 ||
    { tail -30 "$out/install.log"; echo "check-xen: make install failed" >&2; exit 1; }
"$src/lab/stage.sh" "$out/staging" --install "$out/destdir" --build "$build"
NXL_LAB_OUT=$out exec "$src/lab/run.sh" "$mode" "$out/staging"

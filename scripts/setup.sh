#!/usr/bin/env bash
# Installs every Debian package novaxl needs to build and test, as root.
# Idempotent: packages already present are not reinstalled and apt's lists
# are refreshed only when something is missing.
set -euo pipefail

BUILD_PKGS=(build-essential libxen-dev libyajl-dev libxml2-dev libcunit1-dev
            autoconf automake libtool pkg-config valgrind clang-format
            cppcheck)
# The Xen userspace, without the hypervisor, grub and qemu that its
# recommends would pull in: the tests run the real xenstored in userspace.
TEST_PKGS=(xen-utils-4.17 xenstore-utils)

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed' || printf '%s\n' "$p"
    done
}

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs packages with apt-get)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
mapfile -t need_build < <(missing "${BUILD_PKGS[@]}")
mapfile -t need_test < <(missing "${TEST_PKGS[@]}")
if [ "${#need_build[@]}" -gt 0 ] || [ "${#need_test[@]}" -gt 0 ]; then
    apt-get update -q
fi
if [ "${#need_build[@]}" -gt 0 ]; then
    apt-get install -y -q "${need_build[@]}"
fi
if [ "${#need_test[@]}" -gt 0 ]; then
    apt-get install -y -q --no-install-recommends "${need_test[@]}"
fi

# The Xen lab (QEMU, debootstrap, ...) has its own host requirements.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$here/lab/setup-host.sh" ] && [ "${NXL_SKIP_LAB:-0}" != 1 ]; then
    "$here/lab/setup-host.sh"
fi
echo "setup.sh: all packages present"

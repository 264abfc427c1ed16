#!/bin/bash
# A PV guest (the dom0 kernel + busybox initramfs) created from an xl config
# really boots: its init prints the marker and our token on its console.
set -euo pipefail
# shellcheck source=lib.sh
. "$NXL_LAB_TESTS_DIR/lib.sh"
guest_boot_test pv nxl-lab-pv 60

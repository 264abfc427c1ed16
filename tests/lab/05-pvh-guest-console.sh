#!/bin/bash
# The same as 04 as a PVH guest (needs RDTSCP hidden from QEMU's CPU).
set -euo pipefail
# shellcheck source=lib.sh
. "$NXL_LAB_TESTS_DIR/lib.sh"
guest_boot_test pvh nxl-lab-pvh 90

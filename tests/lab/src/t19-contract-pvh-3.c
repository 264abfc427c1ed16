/* Lab test: the lifecycle contract suite on real Xen with a PVH guest
 * (examples/pvh-direct-kernel.json), the third third of its cases in order
 * (tests/lab/src/contract-lab.c; exit 0 pass, 1 fail, 77 off dom0). */
#include "config.h"

#include "tests/lab/src/contract-lab.h"

int main(void)
{
    return nxl_lab_contract_main("pvh-direct-kernel", "pv-direct-kernel", 3, 3);
}

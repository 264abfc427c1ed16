/* Lab test: the lifecycle contract suite on real Xen with a PV guest
 * (examples/pv-direct-kernel.json), the first third of its cases in order
 * (tests/lab/src/contract-lab.c; exit 0 pass, 1 fail, 77 off dom0). */
#include "config.h"

#include "tests/lab/src/contract-lab.h"

int main(void)
{
    return nxl_lab_contract_main("pv-direct-kernel", "pvh-direct-kernel", 1, 3);
}

/* nxl-xsprobe: a minimal xenstore client for the lab guest, which has no
 * Xen tools: one XS_READ or XS_WRITE over the guest's own xenbus device
 * (/dev/xen/xenbus, through lab/guest/xenbus.c), so that a lab test can
 * show what a guest can and cannot do with the nodes the driver publishes
 * for it. Built static by lab/stage.sh (the guest initramfs holds only a
 * static busybox).
 *
 *   nxl-xsprobe read PATH         prints the value, exit 0
 *   nxl-xsprobe write PATH VALUE  prints OK, exit 0
 * A refusal prints "ERROR <xenstored's error name>" and exits 1; a local
 * failure prints "ERROR <what>: <errno text>" and exits 2. A relative
 * PATH is relative to the guest's /local/domain/<domid>.
 */
#include <stdio.h>
#include <string.h>

#include "xenbus.h"

int main(int argc, char **argv)
{
    static char reply[NXL_XB_PAYLOAD_MAX + 1];
    nxl_xb xb;
    int write_op, r;

    if (argc < 3 ||
        (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "write") != 0) ||
        (strcmp(argv[1], "write") == 0) != (argc == 4)) {
        fprintf(stderr, "usage: nxl-xsprobe read PATH | write PATH VALUE\n");
        return 2;
    }
    write_op = argc == 4;
    if (strlen(argv[2]) + 1 + (write_op ? strlen(argv[3]) : 0) >
        NXL_XB_PAYLOAD_MAX) {
        printf("ERROR too long\n");
        return 2;
    }
    if ((r = nxl_xb_open(&xb)) < 0) {
        printf("ERROR open /dev/xen/xenbus: %s\n", strerror(-r));
        return 2;
    }
    if (write_op)
        r = nxl_xb_write(&xb, argv[2], argv[3], reply, sizeof(reply));
    else
        r = nxl_xb_read(&xb, argv[2], reply, sizeof(reply), NULL);
    nxl_xb_close(&xb);
    if (r < 0) {
        printf("ERROR xenbus: %s\n", strerror(-r));
        return 2;
    }
    if (r == NXL_XB_REFUSED) {
        printf("ERROR %s\n", reply);
        return 1;
    }
    printf("%s\n", write_op ? "OK" : reply);
    return 0;
}

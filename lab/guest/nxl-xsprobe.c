/* nxl-xsprobe: a minimal xenstore client for the lab guest, which has no
 * Xen tools: one XS_READ or XS_WRITE over the guest's own xenbus device
 * (/dev/xen/xenbus), so that a lab test can show what a guest can and
 * cannot do with the nodes the driver publishes for it. Built static by
 * lab/stage.sh (the guest initramfs holds only a static busybox).
 *
 *   nxl-xsprobe read PATH         prints the value, exit 0
 *   nxl-xsprobe write PATH VALUE  prints OK, exit 0
 * A refusal prints "ERROR <xenstored's error name>" and exits 1; a local
 * failure prints "ERROR <what>: <errno text>" and exits 2. A relative
 * PATH is relative to the guest's /local/domain/<domid>.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* xen/include/public/io/xs_wire.h */
struct xsd_sockmsg {
    uint32_t type, req_id, tx_id, len;
};
enum { XS_READ = 2, XS_WRITE = 11, XS_ERROR = 16 };
#define XENSTORE_PAYLOAD_MAX 4096

static int full_read(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = read(fd, (char *)buf + got, len - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    static char reply[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h;
    size_t plen, vlen = 0;
    int fd, write_op;

    if (argc < 3 ||
        (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "write") != 0) ||
        (strcmp(argv[1], "write") == 0) != (argc == 4)) {
        fprintf(stderr, "usage: nxl-xsprobe read PATH | write PATH VALUE\n");
        return 2;
    }
    write_op = argc == 4;
    plen = strlen(argv[2]) + 1;
    if (write_op)
        vlen = strlen(argv[3]);
    if (plen + vlen > XENSTORE_PAYLOAD_MAX) {
        printf("ERROR too long\n");
        return 2;
    }
    memset(&h, 0, sizeof(h));
    h.type = write_op ? XS_WRITE : XS_READ;
    h.req_id = 1;
    h.len = (uint32_t)(plen + vlen);
    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), argv[2], plen);
    if (write_op)
        memcpy(msg + sizeof(h) + plen, argv[3], vlen);
    fd = open("/dev/xen/xenbus", O_RDWR);
    if (fd < 0) {
        printf("ERROR open /dev/xen/xenbus: %s\n", strerror(errno));
        return 2;
    }
    if (write(fd, msg, sizeof(h) + h.len) != (ssize_t)(sizeof(h) + h.len) ||
        full_read(fd, &h, sizeof(h)) < 0 || h.len > XENSTORE_PAYLOAD_MAX ||
        full_read(fd, reply, h.len) < 0) {
        printf("ERROR xenbus: %s\n", strerror(errno));
        return 2;
    }
    reply[h.len] = '\0';
    close(fd);
    if (h.type == XS_ERROR) {
        printf("ERROR %s\n", reply);
        return 1;
    }
    if (write_op)
        printf("OK\n");
    else
        printf("%s\n", reply);
    return 0;
}

/*
 * nxl-lab-hold: maps one page of a guest into this dom0 process, as a
 * device model maps its guest's memory, and keeps it mapped until its
 * standard input closes. A destroy of that domain meanwhile leaves a
 * zombie: Xen keeps the domain, dying, for as long as the page is held,
 * which is what a stuck QEMU or a leaked mapping does to a real host.
 *
 *   nxl-lab-hold DOMID GFN READYFILE
 *
 * GFN is a guest frame number (a PVH or HVM guest's; a PV guest's frames
 * are machine frames). Once the page is mapped and read, READYFILE is
 * created; at EOF on stdin the page is let go and the program exits 0.
 * Exit 1 when the page cannot be mapped, 2 on usage.
 * Compiled on the host by lab/stage.sh against the same libxen as dom0's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenforeignmemory.h>

int main(int argc, char **argv)
{
    xenforeignmemory_handle *fmem;
    unsigned long domid;
    xen_pfn_t gfn;
    char buf[64], *end;
    volatile const unsigned char *page;
    int err = 0, fd;
    ssize_t r;

    if (argc != 4)
        goto usage;
    errno = 0;
    domid = strtoul(argv[1], &end, 10);
    if (errno || *end || domid == 0 || domid >= 0x7ff0)
        goto usage;
    gfn = (xen_pfn_t)strtoull(argv[2], &end, 0);
    if (errno || *end)
        goto usage;

    fmem = xenforeignmemory_open(NULL, 0);
    if (!fmem) {
        fprintf(stderr, "nxl-lab-hold: xenforeignmemory_open: %s\n",
                strerror(errno));
        return 1;
    }
    page =
        xenforeignmemory_map(fmem, (uint32_t)domid, PROT_READ, 1, &gfn, &err);
    if (!page || err) {
        fprintf(stderr,
                "nxl-lab-hold: map of domain %lu gfn 0x%" PRIx64 ": %s\n",
                domid, (uint64_t)gfn, strerror(page ? -err : errno));
        return 1;
    }
    /* Read it: the mapping is real, not merely reserved. */
    printf("nxl-lab-hold: domain %lu gfn 0x%" PRIx64 " mapped (first byte "
           "0x%02x)\n",
           domid, (uint64_t)gfn, page[0]);
    fflush(stdout);
    fd = open(argv[3], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "nxl-lab-hold: %s: %s\n", argv[3], strerror(errno));
        return 1;
    }
    close(fd);
    do
        r = read(STDIN_FILENO, buf, sizeof(buf));
    while (r > 0 || (r < 0 && errno == EINTR));
    xenforeignmemory_unmap(fmem, (void *)page, 1);
    xenforeignmemory_close(fmem);
    printf("nxl-lab-hold: domain %lu gfn 0x%" PRIx64 " let go\n", domid,
           (uint64_t)gfn);
    return 0;

usage:
    fprintf(stderr, "usage: nxl-lab-hold DOMID GFN READYFILE\n");
    return 2;
}

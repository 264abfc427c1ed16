/* xsd-shim: lets the real xenstored (Xen 4.17, C daemon) run as an
 * ordinary process with no hypervisor, for tests only.
 *
 * Preloaded into xenstored alone (LD_PRELOAD is set in the child's
 * environment only). It replaces the few libxenctrl, libxengnttab and
 * libxenevtchn calls xenstored makes at start-up and when domains come and
 * go, and the open() of the two /proc/xen files that describe dom0's ring:
 *
 * - xc_domain_getinfo answers "the domain exists and is alive", because
 *   xenstored 4.17 asks before it accepts a domid in a permission list.
 * - Grant maps of a guest's ring are backed by $NXL_XSD_DIR/ring-<domid>
 *   (one shared page), so a test can play that guest honestly: it maps the
 *   same file and speaks the ring protocol, and xenstored enforces
 *   permissions against that domid as it would on Xen.
 * - The event channel fd is the FIFO $NXL_XSD_DIR/evtchn. Nothing writes to
 *   it unless a test acting as a guest writes a port number (4 bytes) to
 *   wake xenstored; xenevtchn_pending() then returns that port.
 * - /proc/xen/xsd_port reads "1"; /proc/xen/xsd_kva is one zeroed page, the
 *   ring of a dom0 that never speaks (dom0 talks over the unix socket).
 *
 * Built without sanitizers: xenstored is not an ASan binary.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#define SHIM_PAGE 4096
#define SHIM_VIRQ_PORT 100 /* local port of the VIRQ_DOM_EXC binding */

/* Opaque handles: xenstored only compares them with NULL and passes them
 * back, so distinct static objects are enough. */
static char fake_xc, fake_gnttab, fake_evtchn;
static int evtchn_fd = -1;
static int next_port = SHIM_VIRQ_PORT + 1;

static const char *shim_dir(void)
{
    const char *d = getenv("NXL_XSD_DIR");

    return d && *d ? d : NULL;
}

static int memfd_with(const char *name, const void *data, size_t len,
                      size_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) < 0 ||
        (len && pwrite(fd, data, len, 0) != (ssize_t)len)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* ---- open(): the two /proc/xen files ----------------------------------- */

typedef int (*open_fn)(const char *, int, ...);

static int shim_open(const char *sym, const char *path, int flags, mode_t mode)
{
    static open_fn real_open, real_open64;
    open_fn *slot = strcmp(sym, "open") == 0 ? &real_open : &real_open64;

    if (path && strcmp(path, "/proc/xen/xsd_port") == 0)
        return memfd_with("xsd_port", "1", 1, 1);
    if (path && strcmp(path, "/proc/xen/xsd_kva") == 0)
        return memfd_with("xsd_kva", NULL, 0, SHIM_PAGE);
    if (!*slot)
        *slot = (open_fn)dlsym(RTLD_NEXT, sym);
    if (!*slot) {
        errno = ENOSYS;
        return -1;
    }
    return (*slot)(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;

    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return shim_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;

    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return shim_open("open64", path, flags, mode);
}

/* ---- libxenctrl -------------------------------------------------------- */

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    return (xc_interface *)&fake_xc;
}

int xc_interface_close(xc_interface *xch)
{
    return 0;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
                      unsigned int max_doms, xc_dominfo_t *info)
{
    if (max_doms == 0)
        return 0;
    memset(info, 0, sizeof(*info));
    info->domid = first_domid;
    info->running = 1;
    return 1;
}

/* ---- libxengnttab ------------------------------------------------------ */

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
                                 unsigned open_flags)
{
    return (xengnttab_handle *)&fake_gnttab;
}

int xengnttab_close(xengnttab_handle *xgt)
{
    return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
    return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
                              uint32_t ref, int prot)
{
    const char *dir = shim_dir();
    char path[PATH_MAX];
    void *p;
    int fd;

    if (!dir) {
        p = mmap(NULL, SHIM_PAGE, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    if (snprintf(path, sizeof(path), "%s/ring-%u", dir, domid) >=
        (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    fd = shim_open("open", path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    if (ftruncate(fd, SHIM_PAGE) < 0) {
        close(fd);
        return NULL;
    }
    p = mmap(NULL, SHIM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
    return munmap(start_address, (size_t)count * SHIM_PAGE);
}

/* ---- libxenevtchn ------------------------------------------------------ */

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
                                 unsigned int flags)
{
    const char *dir = shim_dir();

    if (evtchn_fd < 0 && dir) {
        char path[PATH_MAX];

        if (snprintf(path, sizeof(path), "%s/evtchn", dir) >=
            (int)sizeof(path)) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        if (mkfifo(path, 0600) < 0 && errno != EEXIST)
            return NULL;
        /* O_RDWR: the FIFO never reports EOF when no writer is open. */
        evtchn_fd = shim_open("open", path, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
    } else if (evtchn_fd < 0) {
        int p[2];

        /* No directory: a pipe whose write end stays open and unused. */
        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
            return NULL;
        evtchn_fd = p[0];
    }
    return evtchn_fd < 0 ? NULL : (xenevtchn_handle *)&fake_evtchn;
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
                                   unsigned open_flags)
{
    errno = ENOSYS; /* only used by live update, which tests never do */
    return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
    return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
    return evtchn_fd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
    return 0; /* a test playing the guest polls its ring instead */
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
                                                     uint32_t domid,
                                                     evtchn_port_t remote_port)
{
    return next_port++;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce,
                                              unsigned int virq)
{
    return SHIM_VIRQ_PORT;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
    return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
    uint32_t port;
    ssize_t n = read(evtchn_fd, &port, sizeof(port));

    if (n != (ssize_t)sizeof(port)) {
        errno = EAGAIN;
        return -1;
    }
    return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
    return 0;
}

/* The xenbus wire protocol over the guest's /dev/xen/xenbus (xenbus.h). */
#include "xenbus.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* xen/include/public/io/xs_wire.h */
struct xsd_sockmsg {
    uint32_t type, req_id, tx_id, len;
};
enum {
    XS_DIRECTORY = 1,
    XS_READ = 2,
    XS_WATCH = 4,
    XS_WRITE = 11,
    XS_WATCH_EVENT = 15,
    XS_ERROR = 16,
};

static int full_read(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = read(fd, (char *)buf + got, len - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EPIPE;
        got += (size_t)r;
    }
    return 0;
}

/* One message off the device; its payload NUL terminated in buf (size
 * NXL_XB_PAYLOAD_MAX + 1 at least). A length over the protocol's maximum
 * means the stream is out of step: -EPROTO, and the caller gives up. */
static int read_msg(nxl_xb *xb, struct xsd_sockmsg *h, char *buf, size_t size)
{
    int r;

    if ((r = full_read(xb->fd, h, sizeof(*h))) < 0)
        return r;
    if (h->len > NXL_XB_PAYLOAD_MAX || h->len >= size)
        return -EPROTO;
    if ((r = full_read(xb->fd, buf, h->len)) < 0)
        return r;
    buf[h->len] = '\0';
    return 0;
}

int nxl_xb_open(nxl_xb *xb)
{
    memset(xb, 0, sizeof(*xb));
    xb->next_id = 1;
    xb->fd = open("/dev/xen/xenbus", O_RDWR | O_CLOEXEC);
    return xb->fd < 0 ? -errno : 0;
}

void nxl_xb_close(nxl_xb *xb)
{
    if (xb->fd >= 0)
        close(xb->fd);
    xb->fd = -1;
}

int nxl_xb_request(nxl_xb *xb, uint32_t type, const void *payload, size_t len,
                   char *reply, size_t size, size_t *len_r)
{
    static char msg[sizeof(struct xsd_sockmsg) + NXL_XB_PAYLOAD_MAX];
    struct xsd_sockmsg h;
    uint32_t id = xb->next_id++;
    ssize_t w;
    int r;

    if (len > NXL_XB_PAYLOAD_MAX)
        return -E2BIG;
    memset(&h, 0, sizeof(h));
    h.type = type;
    h.req_id = id;
    h.len = (uint32_t)len;
    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), payload, len);
    /* The kernel takes a request in one write. */
    do
        w = write(xb->fd, msg, sizeof(h) + len);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return -errno;
    if ((size_t)w != sizeof(h) + len)
        return -EIO;
    for (;;) {
        if ((r = read_msg(xb, &h, reply, size)) < 0)
            return r;
        if (h.type == XS_WATCH_EVENT) {
            xb->events++;
            continue;
        }
        if (h.req_id != id)
            continue; /* not ours (cannot happen: one request at a time) */
        break;
    }
    if (len_r)
        *len_r = h.len;
    return h.type == XS_ERROR ? NXL_XB_REFUSED : 0;
}

/* path NUL, then extra (len bytes), into buf. */
static int payload2(char *buf, size_t size, const char *path, const char *extra,
                    size_t len, size_t *n_r)
{
    size_t plen = strlen(path) + 1;

    if (plen + len > size)
        return -E2BIG;
    memcpy(buf, path, plen);
    if (len)
        memcpy(buf + plen, extra, len);
    *n_r = plen + len;
    return 0;
}

int nxl_xb_read(nxl_xb *xb, const char *path, char *val, size_t size,
                size_t *len_r)
{
    size_t len = 0;
    int r =
        nxl_xb_request(xb, XS_READ, path, strlen(path) + 1, val, size, &len);

    if (r == 0 && memchr(val, '\0', len))
        return -EINVAL;
    if (r == 0 && len_r)
        *len_r = len;
    return r;
}

int nxl_xb_write(nxl_xb *xb, const char *path, const char *val, char *why,
                 size_t size)
{
    static char buf[NXL_XB_PAYLOAD_MAX];
    static char reply[NXL_XB_PAYLOAD_MAX + 1];
    size_t n;
    int r;

    if ((r = payload2(buf, sizeof(buf), path, val, strlen(val), &n)) < 0)
        return r;
    r = nxl_xb_request(xb, XS_WRITE, buf, n, reply, sizeof(reply), NULL);
    if (r == NXL_XB_REFUSED && why && size) {
        strncpy(why, reply, size - 1);
        why[size - 1] = '\0';
    }
    return r;
}

int nxl_xb_directory(nxl_xb *xb, const char *path, char *buf, size_t size,
                     size_t *n_r)
{
    size_t len = 0, n = 0;
    int r = nxl_xb_request(xb, XS_DIRECTORY, path, strlen(path) + 1, buf, size,
                           &len);

    if (r != 0)
        return r;
    /* "a\0b\0" (each name NUL terminated); an empty directory is "". */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\0')
            n++;
    if (len && buf[len - 1] != '\0')
        return -EPROTO;
    *n_r = n;
    return 0;
}

int nxl_xb_watch(nxl_xb *xb, const char *path, const char *token)
{
    static char buf[NXL_XB_PAYLOAD_MAX];
    static char reply[NXL_XB_PAYLOAD_MAX + 1];
    size_t n;
    int r;

    if ((r = payload2(buf, sizeof(buf), path, token, strlen(token) + 1, &n)) <
        0)
        return r;
    return nxl_xb_request(xb, XS_WATCH, buf, n, reply, sizeof(reply), NULL);
}

int nxl_xb_wait(nxl_xb *xb, int timeout_ms)
{
    static char buf[NXL_XB_PAYLOAD_MAX + 1];
    struct pollfd p = {.fd = xb->fd, .events = POLLIN};
    struct xsd_sockmsg h;
    int r;

    if (xb->events) {
        xb->events = 0;
        return 1;
    }
    r = poll(&p, 1, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    if (r == 0)
        return 0;
    if ((r = read_msg(xb, &h, buf, sizeof(buf))) < 0)
        return r;
    /* Anything but an event here is a stray reply: nothing to do. */
    return h.type == XS_WATCH_EVENT;
}

/* A minimal xenstore client for programs inside the lab guest, which has
 * no Xen tools and no libraries but static libc: the xenbus wire protocol
 * (xen/include/public/io/xs_wire.h) spoken directly over the guest
 * kernel's /dev/xen/xenbus. Shared by nxl-xsprobe and nxl-agent (lab/stage.sh
 * links it into every lab/guest/nxl-*.c program).
 *
 * The device carries replies and watch events on one stream: a request
 * returns its own reply, and watch events that arrive meanwhile are only
 * counted (the callers rescan what they watch, so which node fired does not
 * matter). Paths without a leading '/' are relative to the guest's
 * /local/domain/<domid>.
 *
 * Return values: 0 on success; NXL_XB_REFUSED when xenstored answered with
 * an error (its name, e.g. "EACCES" or "ENOENT", is in the buffer the
 * caller gave); a negative errno for a local failure.
 */
#ifndef NXL_LAB_GUEST_XENBUS_H
#define NXL_LAB_GUEST_XENBUS_H

#include <stddef.h>
#include <stdint.h>

#define NXL_XB_PAYLOAD_MAX 4096
#define NXL_XB_REFUSED 1

typedef struct nxl_xb {
    int fd;
    uint32_t next_id;
    unsigned events; /* watch events read since the last nxl_xb_wait */
} nxl_xb;

int nxl_xb_open(nxl_xb *xb);
void nxl_xb_close(nxl_xb *xb);

/* One request of type (XS_*) with payload; the reply's payload, NUL
 * terminated, in reply (size at least NXL_XB_PAYLOAD_MAX + 1), its length
 * in *len_r (may be NULL). */
int nxl_xb_request(nxl_xb *xb, uint32_t type, const void *payload, size_t len,
                   char *reply, size_t size, size_t *len_r);

/* XS_READ of path into val (size at least NXL_XB_PAYLOAD_MAX + 1); a
 * value holding a NUL byte is refused (-EINVAL): callers treat values as
 * C strings. */
int nxl_xb_read(nxl_xb *xb, const char *path, char *val, size_t size,
                size_t *len_r);
/* XS_WRITE of the string val; on NXL_XB_REFUSED the error name is in
 * why (size at least NXL_XB_PAYLOAD_MAX + 1), which may be NULL. */
int nxl_xb_write(nxl_xb *xb, const char *path, const char *val, char *why,
                 size_t size);
/* XS_DIRECTORY: the children's names, each NUL terminated, one after
 * another in buf (size at least NXL_XB_PAYLOAD_MAX + 1); their count in
 * *n_r. */
int nxl_xb_directory(nxl_xb *xb, const char *path, char *buf, size_t size,
                     size_t *n_r);
/* XS_WATCH of path with token (xenstored fires it once at once). */
int nxl_xb_watch(nxl_xb *xb, const char *path, const char *token);
/* Waits at most timeout_ms for a watch event unless one arrived during an
 * earlier request; 1 when there was one (all pending ones are consumed), 0
 * on timeout. */
int nxl_xb_wait(nxl_xb *xb, int timeout_ms);

#endif /* NXL_LAB_GUEST_XENBUS_H */

/* novaxl: the xenstore layer, the only code that calls libxenstore.
 *
 * Why a layer at all:
 * - Guests can write parts of xenstore (their /local/domain/<id> subtree),
 *   so every path we build from a name or a guest-supplied key goes through
 *   nxl_xs_key_validate()/nxl_xs_path_join(): one component can never climb
 *   or reach into another subtree, and values read from guest-writable
 *   nodes are capped with nxl_xs_read_bounded() before anyone parses them.
 * - libxenstore reports failures through errno and NULL/false returns and
 *   hands out strings with mixed ownership rules. Here every failure is an
 *   NXL_E_* code with a message naming the path, and every string we return
 *   is our own malloc'd copy, so callers free one way.
 * - Transactions fail at commit with EAGAIN when someone else touched what
 *   we read; the retry loop libxl documents is easy to get subtly wrong
 *   (leaking a transaction, keeping a stale error), so it lives here once,
 *   in nxl_xs_transact().
 * - libxenstore falls back to /dev/xen/xenbus when the socket is missing.
 *   On a real dom0 that would silently redirect a test (or an operator who
 *   set XENSTORED_PATH on purpose) to the production store, so when
 *   XENSTORED_PATH is set we insist on reaching that socket.
 *
 * Thread safety: a handle may be shared between threads; libxenstore (built
 * with pthreads, as Debian's is) serialises requests on it, and this layer
 * keeps no mutable state of its own but nxl_xs_transact()'s atomic
 * counters. Watch events are consumed by whichever
 * thread calls nxl_xs_read_watch(), so give watch consumers their own
 * handle.
 */
#ifndef NOVAXL_XENSTORE_XS_H
#define NOVAXL_XENSTORE_XS_H

#include <stdbool.h>
#include <stddef.h>

#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "common/internal.h"
#include "novaxl/nxl-types.h"

typedef struct nxl_xs nxl_xs;

/* Limits. A key is one path component; the path and payload caps are the
 * protocol's own (xs_wire.h), checked here so the error names the path. */
#define NXL_XS_KEY_MAX 64
#define NXL_XS_PATH_MAX XENSTORE_ABS_PATH_MAX
#define NXL_XS_PAYLOAD_MAX XENSTORE_PAYLOAD_MAX
#define NXL_XS_TOKEN_MAX 256
#define NXL_XS_PERMS_MAX 64 /* entries besides the owner, per node */
/* How many times nxl_xs_transact() runs the body before NXL_E_CONFLICT. */
#define NXL_XS_TRANSACT_ATTEMPTS 16

/* ---- connection ---------------------------------------------------------- */

/* Connects to xenstored: the socket named by XENSTORED_PATH (libxenstore's
 * variable) when set, else libxenstore's default (socket, then the xenbus
 * device). Fails with NXL_E_HYPERVISOR naming the socket. Free the handle
 * with nxl_xs_close(). */
NXL_HIDDEN int nxl_xs_open(nxl_xs **xs_r, nxl_error *err);
/* Closes the connection; NULL is fine. Open transactions are dropped. */
NXL_HIDDEN void nxl_xs_close(nxl_xs *xs);
/* libxenstore's xs_open() writes a static buffer: any other code that
 * opens a xenstore connection through it (libxl_ctx_alloc does) holds
 * this lock meanwhile, as nxl_xs_open() does. */
NXL_HIDDEN void nxl_xs_open_lock(void);
NXL_HIDDEN void nxl_xs_open_unlock(void);

/* ---- validation ---------------------------------------------------------- */

/* One path component: 1..NXL_XS_KEY_MAX bytes of [A-Za-z0-9_-]. That rules
 * out '/', "." and "..", control characters and '@' (xenstored reserves a
 * leading '@' for special watch paths and rejects '.' outright). */
NXL_HIDDEN int nxl_xs_key_validate(const char *key, nxl_error *err);
/* An absolute path: "/" or "/k1/k2..." with components in xenstored's own
 * character set [A-Za-z0-9_@-], no empty component, no trailing '/', at
 * most NXL_XS_PATH_MAX bytes. */
NXL_HIDDEN int nxl_xs_path_validate(const char *path, nxl_error *err);

/* Joins base (a valid path) and n keys (each must pass
 * nxl_xs_key_validate()) into *path_r, malloc'd; free() it. Nothing is
 * written to *path_r on failure. */
NXL_HIDDEN int nxl_xs_path_join(char **path_r, const char *base,
                                const char *const *keys, size_t n,
                                nxl_error *err);
/* NXL_XS_PATH_JOIN(&p, err, "/local/domain/0", "novaxl", uuid) */
#define NXL_XS_PATH_JOIN(path_r, err, base, ...)                               \
    nxl_xs_path_join((path_r), (base), (const char *const[]){__VA_ARGS__},     \
                     sizeof((const char *const[]){__VA_ARGS__}) /              \
                         sizeof(const char *),                                 \
                     (err))

/* ---- nodes --------------------------------------------------------------- */

/* t is XBT_NULL or a transaction from nxl_xs_transaction_start(). */

/* Reads a node. *val_r is a malloc'd copy with a NUL appended (the value
 * itself may contain NULs; *len_r, which may be NULL, excludes the added
 * one); free() it. NXL_E_NOT_FOUND when the node does not exist. */
NXL_HIDDEN int nxl_xs_read(nxl_xs *xs, xs_transaction_t t, const char *path,
                           char **val_r, size_t *len_r, nxl_error *err);
/* For guest-writable nodes: as nxl_xs_read(), but NXL_E_INVAL when the
 * value is longer than max bytes or contains a NUL, so callers can treat it
 * as a bounded C string. */
NXL_HIDDEN int nxl_xs_read_bounded(nxl_xs *xs, xs_transaction_t t,
                                   const char *path, size_t max, char **val_r,
                                   size_t *len_r, nxl_error *err);
/* Creates or replaces a node (parents are created as needed). The request
 * (path, NUL, value) must fit in NXL_XS_PAYLOAD_MAX. */
NXL_HIDDEN int nxl_xs_write(nxl_xs *xs, xs_transaction_t t, const char *path,
                            const void *data, size_t len, nxl_error *err);
NXL_HIDDEN int nxl_xs_write_str(nxl_xs *xs, xs_transaction_t t,
                                const char *path, const char *value,
                                nxl_error *err);
/* Creates an empty node; succeeds when it already exists. */
NXL_HIDDEN int nxl_xs_mkdir(nxl_xs *xs, xs_transaction_t t, const char *path,
                            nxl_error *err);
/* Removes a node and its children; succeeds when it does not exist (even
 * when its parent is missing too), so clean-up paths can call it
 * unconditionally. "/" is refused with NXL_E_INVAL. */
NXL_HIDDEN int nxl_xs_rm(nxl_xs *xs, xs_transaction_t t, const char *path,
                         nxl_error *err);
/* The names of path's children, in xenstored's order. names_r must be
 * initialised; on success its old contents are freed and replaced (the
 * vector is also NULL-terminated), on failure it is left alone. */
NXL_HIDDEN int nxl_xs_directory(nxl_xs *xs, xs_transaction_t t,
                                const char *path, nxl_strv *names_r,
                                nxl_error *err);

/* ---- permissions --------------------------------------------------------- */

typedef enum nxl_xs_access {
    NXL_XS_ACCESS_NONE = 0,
    NXL_XS_ACCESS_READ = 1,
    NXL_XS_ACCESS_WRITE = 2,
    NXL_XS_ACCESS_BOTH = 3,
} nxl_xs_access;

typedef struct nxl_xs_perm {
    unsigned int domid;
    nxl_xs_access access;
} nxl_xs_perm;

/* A node's ACL as xenstored keeps it: the owner (who may do anything) and
 * the access every domain not listed gets, then per-domain exceptions. */
typedef struct nxl_xs_perms {
    unsigned int owner;
    nxl_xs_access others;
    nxl_xs_perm *entries; /* n entries, malloc'd */
    size_t n;
} nxl_xs_perms;

NXL_HIDDEN void nxl_xs_perms_init(nxl_xs_perms *p);
NXL_HIDDEN void nxl_xs_perms_dispose(nxl_xs_perms *p);
/* Appends (domid, access); NXL_E_INVAL past NXL_XS_PERMS_MAX. */
NXL_HIDDEN int nxl_xs_perms_add(nxl_xs_perms *p, unsigned int domid,
                                nxl_xs_access access, nxl_error *err);

/* Fills perms_r (initialised by the caller, disposed first). */
NXL_HIDDEN int nxl_xs_get_perms(nxl_xs *xs, xs_transaction_t t,
                                const char *path, nxl_xs_perms *perms_r,
                                nxl_error *err);
/* Domids must be below DOMID_FIRST_RESERVED. */
NXL_HIDDEN int nxl_xs_set_perms(nxl_xs *xs, xs_transaction_t t,
                                const char *path, const nxl_xs_perms *perms,
                                nxl_error *err);

/* ---- transactions -------------------------------------------------------- */

NXL_HIDDEN int nxl_xs_transaction_start(nxl_xs *xs, xs_transaction_t *t_r,
                                        nxl_error *err);
/* NXL_E_CONFLICT when another change got in first: nothing was applied,
 * start again. Either way t is finished. */
NXL_HIDDEN int nxl_xs_transaction_commit(nxl_xs *xs, xs_transaction_t t,
                                         nxl_error *err);
/* Drops t and its changes. XBT_NULL is a no-op. */
NXL_HIDDEN int nxl_xs_transaction_abort(nxl_xs *xs, xs_transaction_t t,
                                        nxl_error *err);

/* The body of a transaction: do the reads and writes on t and return 0, or
 * a negative code (set in err) to abort. Returning NXL_E_CONFLICT asks for
 * another attempt. It may run several times, so it must not keep side
 * effects outside xenstore from an earlier attempt. */
typedef int (*nxl_xs_txn_fn)(nxl_xs *xs, xs_transaction_t t, void *opaque,
                             nxl_error *err);

/* Start, run fn, commit; on conflict start over after a short random
 * pause, at most NXL_XS_TRANSACT_ATTEMPTS times, then NXL_E_CONFLICT. A failing
 * fn aborts the transaction and its code and message are returned. */
NXL_HIDDEN int nxl_xs_transact(nxl_xs *xs, nxl_xs_txn_fn fn, void *opaque,
                               nxl_error *err);

/* What nxl_xs_transact() has done in this process so far, over every
 * handle (for benchmarks and tests: the conflicts are otherwise retried
 * out of sight). Plain counters, read with nxl_xs_transact_counts(). */
typedef struct nxl_xs_txn_counts {
    unsigned long calls;     /* nxl_xs_transact() calls */
    unsigned long attempts;  /* transactions started (bodies run) */
    unsigned long conflicts; /* attempts that ended in NXL_E_CONFLICT */
} nxl_xs_txn_counts;
NXL_HIDDEN void nxl_xs_transact_counts(nxl_xs_txn_counts *r);

/* ---- watches ------------------------------------------------------------- */

/* path is a valid path or one of xenstored's "@introduceDomain" and
 * "@releaseDomain"; token is 1..NXL_XS_TOKEN_MAX printable bytes without
 * spaces. A watch fires once when set, then for each change to path or
 * anything below it. Do not watch a path and one of its subpaths with the
 * same token: the handle filters stale events after an unwatch by the
 * (path, token) pair. */
NXL_HIDDEN int nxl_xs_watch(nxl_xs *xs, const char *path, const char *token,
                            nxl_error *err);
NXL_HIDDEN int nxl_xs_unwatch(nxl_xs *xs, const char *path, const char *token,
                              nxl_error *err);
/* Becomes readable when an event may be pending (poll it, then call
 * nxl_xs_read_watch() with timeout 0 until it returns 0). */
NXL_HIDDEN int nxl_xs_watch_fd(nxl_xs *xs);
/* Waits up to timeout_ms (0: just check, -1: forever) for one event.
 * Returns 1 with *path_r and *token_r set (malloc'd; free() both), 0 when
 * none arrived in time (outputs untouched), or a negative code. */
NXL_HIDDEN int nxl_xs_read_watch(nxl_xs *xs, int timeout_ms, char **path_r,
                                 char **token_r, nxl_error *err);

#endif /* NOVAXL_XENSTORE_XS_H */

/* The xenstore layer: libxenstore behind NXL_E_* codes, validated paths and
 * malloc'd copies. See xs.h for why it exists. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>

#include "xenstore/xs.h"

struct nxl_xs {
    struct xs_handle *h;
    char *where; /* the socket we asked for, for messages */
};

/* ---- errors -------------------------------------------------------------- */

static int code_for_errno(int e)
{
    switch (e) {
    case ENOENT:
        return NXL_E_NOT_FOUND;
    case EACCES:
    case EPERM:
        return NXL_E_DENIED;
    case EINVAL:
    case E2BIG:
    case EISDIR:
    case ENAMETOOLONG:
        return NXL_E_INVAL;
    case EAGAIN:
        return NXL_E_CONFLICT;
    case EEXIST:
        return NXL_E_EXISTS;
    case ENOMEM:
        return NXL_E_NOMEM;
    case EIO:
        return NXL_E_IO;
    /* libxenstore leaves errno at 0 or EBADF when the daemon hangs up. */
    case 0:
    case EBADF:
    case EPIPE:
    case ECONNREFUSED:
    case ECONNRESET:
    case ENOTCONN:
    case ESHUTDOWN:
        return NXL_E_HYPERVISOR;
    default:
        return NXL_E_FAILED;
    }
}

/* libxenstore answers EINVAL both for xenstored's own EINVAL and, once its
 * reader thread (started by the first watch) has seen the daemon hang up,
 * for every later call. A request that any dom0 connection may make tells
 * the two apart; it only runs on this error path. */
static bool connection_lost(const nxl_xs *xs)
{
    unsigned int len;
    char *v = xs_read(xs->h, XBT_NULL, "/", &len);

    free(v);
    return v == NULL;
}

/* Records a libxenstore failure; e is errno as it was right after it. */
static int xs_fail(const nxl_xs *xs, nxl_error *err, int e, const char *op,
                   const char *path)
{
    int code = code_for_errno(e);

    if (e == EINVAL && connection_lost(xs))
        code = NXL_E_HYPERVISOR;

    if (code == NXL_E_HYPERVISOR)
        return nxl_error_set_errno(err, code, e,
                                   "xenstore %s %s: lost the connection to "
                                   "xenstored at %s",
                                   op, path, xs->where);
    return nxl_error_set_errno(err, code, e, "xenstore %s %s failed", op, path);
}

/* ---- validation ---------------------------------------------------------- */

static bool key_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int nxl_xs_key_validate(const char *key, nxl_error *err)
{
    size_t i;

    if (!key)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore key is missing");
    if (!*key)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore key is empty");
    for (i = 0; key[i]; i++) {
        if (i >= NXL_XS_KEY_MAX)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "xenstore key '%.*s...' is longer than %d "
                                 "bytes",
                                 16, key, NXL_XS_KEY_MAX);
        if (!key_char_ok(key[i]))
            /* Print the byte, not the key: it may be a control character. */
            return nxl_error_set(err, NXL_E_INVAL,
                                 "xenstore key has byte 0x%02x at offset %zu; "
                                 "only [A-Za-z0-9_-] is allowed",
                                 (unsigned int)(unsigned char)key[i], i);
    }
    return 0;
}

int nxl_xs_path_validate(const char *path, nxl_error *err)
{
    size_t i, len;

    if (!path)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore path is missing");
    len = strnlen(path, NXL_XS_PATH_MAX + 1);
    if (len > NXL_XS_PATH_MAX)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore path '%.32s...' is longer than %d "
                             "bytes",
                             path, NXL_XS_PATH_MAX);
    if (path[0] != '/')
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore path '%.64s' is not absolute", path);
    if (len == 1)
        return 0;
    for (i = 1; i < len; i++) {
        char c = path[i];

        if (c == '/') {
            if (path[i - 1] == '/' || i == len - 1)
                return nxl_error_set(err, NXL_E_INVAL,
                                     "xenstore path '%.64s' has an empty "
                                     "component",
                                     path);
            continue;
        }
        /* The daemon's own character set: anything else it refuses, and
         * '.' in particular can never form "..". */
        if (!key_char_ok(c) && c != '@')
            return nxl_error_set(err, NXL_E_INVAL,
                                 "xenstore path has byte 0x%02x at offset %zu",
                                 (unsigned int)(unsigned char)c, i);
    }
    return 0;
}

int nxl_xs_path_join(char **path_r, const char *base, const char *const *keys,
                     size_t n, nxl_error *err)
{
    char *out = NULL;
    size_t len, blen, i, pos;
    int rc;

    if (!path_r || (n && !keys)) {
        rc = nxl_error_set(err, NXL_E_INVAL, "xenstore path join: bad call");
        goto out;
    }
    rc = nxl_xs_path_validate(base, err);
    if (rc)
        goto out;
    blen = strlen(base);
    if (blen == 1)
        blen = 0; /* "/" + "/k" would give "//k" */
    len = blen;
    for (i = 0; i < n; i++) {
        rc = nxl_xs_key_validate(keys[i], err);
        if (rc)
            goto out;
        len += 1 + strlen(keys[i]);
    }
    if (len == 0)
        len = 1;
    if (len > NXL_XS_PATH_MAX) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "xenstore path under %s would be %zu bytes, more "
                           "than %d",
                           base, len, NXL_XS_PATH_MAX);
        goto out;
    }
    out = malloc(len + 1);
    if (!out) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory joining %s", base);
        goto out;
    }
    memcpy(out, base, blen);
    pos = blen;
    for (i = 0; i < n; i++) {
        size_t klen = strlen(keys[i]);

        out[pos++] = '/';
        memcpy(out + pos, keys[i], klen);
        pos += klen;
    }
    if (pos == 0)
        out[pos++] = '/';
    out[pos] = '\0';
    *path_r = NXL_STEAL(out);
    rc = 0;
out:
    free(out);
    return rc;
}

/* Common entry checks: every operation names its path in errors, so the
 * path is checked before anything goes on the wire. */
static int check_call(const nxl_xs *xs, const char *path, const char *op,
                      nxl_error *err)
{
    if (!xs || !xs->h)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore %s: no connection",
                             op);
    return nxl_xs_path_validate(path, err);
}

/* ---- connection ---------------------------------------------------------- */

/* libxenstore would fall back to /dev/xen/xenbus if this socket is not
 * there; an explicit XENSTORED_PATH means "this daemon", so make sure it
 * answers connect() first. */
static int probe_socket(const char *path, nxl_error *err)
{
    struct sockaddr_un sa;
    int fd = -1;
    int rc;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        rc = nxl_error_set(err, NXL_E_HYPERVISOR,
                           "cannot connect to xenstored: XENSTORED_PATH %s "
                           "is too long for a unix socket",
                           path);
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_HYPERVISOR, errno,
                                 "cannot connect to xenstored at %s "
                                 "(XENSTORED_PATH)",
                                 path);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* libxenstore builds its socket path in a static buffer
 * (xs_daemon_socket(), which xs_open() calls too): two threads opening at
 * once write it together. Opens are rare; they take turns (libxl's too,
 * see nxl_xs_open_lock()). */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

void nxl_xs_open_lock(void)
{
    pthread_mutex_lock(&open_lock);
}

void nxl_xs_open_unlock(void)
{
    pthread_mutex_unlock(&open_lock);
}

int nxl_xs_open(nxl_xs **xs_r, nxl_error *err)
{
    const char *env = getenv("XENSTORED_PATH");
    nxl_xs *xs = NULL;
    int rc, open_errno = 0;

    if (!xs_r) {
        rc = nxl_error_set(err, NXL_E_INVAL, "xenstore open: bad call");
        goto out;
    }
    xs = calloc(1, sizeof(*xs));
    if (!xs) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory opening xenstore");
        goto out;
    }
    if (env && *env) {
        rc = probe_socket(env, err);
        if (rc)
            goto out;
    }
    pthread_mutex_lock(&open_lock);
    rc = nxl__strdup(&xs->where, env && *env ? env : xs_daemon_socket(), err);
    /* XS_UNWATCH_FILTER: once nxl_xs_unwatch() returns, no stale event for
     * that watch comes out of nxl_xs_read_watch(). */
    if (!rc) {
        xs->h = xs_open(XS_UNWATCH_FILTER);
        open_errno = errno;
    }
    pthread_mutex_unlock(&open_lock);
    if (rc)
        goto out;
    if (!xs->h) {
        rc = nxl_error_set_errno(err, NXL_E_HYPERVISOR, open_errno,
                                 "cannot connect to xenstored at %s%s",
                                 xs->where,
                                 env && *env ? "" : " or /dev/xen/xenbus");
        goto out;
    }
    nxl__debug("xenstore: connected to %s", xs->where);
    *xs_r = NXL_STEAL(xs);
    rc = 0;
out:
    nxl_xs_close(xs);
    return rc;
}

void nxl_xs_close(nxl_xs *xs)
{
    if (!xs)
        return;
    xs_close(xs->h);
    free(xs->where);
    free(xs);
}

/* ---- nodes --------------------------------------------------------------- */

static int read_common(nxl_xs *xs, xs_transaction_t t, const char *path,
                       size_t max, char **val_r, size_t *len_r, nxl_error *err)
{
    unsigned int len = 0;
    char *raw = NULL;
    char *copy = NULL;
    int rc;

    rc = check_call(xs, path, "read", err);
    if (rc)
        goto out;
    if (!val_r) {
        rc =
            nxl_error_set(err, NXL_E_INVAL, "xenstore read %s: bad call", path);
        goto out;
    }
    raw = xs_read(xs->h, t, path, &len);
    if (!raw) {
        rc = xs_fail(xs, err, errno, "read", path);
        goto out;
    }
    if (len > max) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "xenstore value at %s is %u bytes, more than the "
                           "%zu allowed",
                           path, len, max);
        goto out;
    }
    if (max != SIZE_MAX && memchr(raw, '\0', len)) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "xenstore value at %s contains a NUL byte", path);
        goto out;
    }
    copy = malloc((size_t)len + 1);
    if (!copy) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    memcpy(copy, raw, len);
    copy[len] = '\0';
    *val_r = NXL_STEAL(copy);
    if (len_r)
        *len_r = len;
    rc = 0;
out:
    free(raw);
    free(copy);
    return rc;
}

int nxl_xs_read(nxl_xs *xs, xs_transaction_t t, const char *path, char **val_r,
                size_t *len_r, nxl_error *err)
{
    return read_common(xs, t, path, SIZE_MAX, val_r, len_r, err);
}

int nxl_xs_read_bounded(nxl_xs *xs, xs_transaction_t t, const char *path,
                        size_t max, char **val_r, size_t *len_r, nxl_error *err)
{
    if (max == SIZE_MAX)
        max--; /* SIZE_MAX means "unbounded" to read_common */
    return read_common(xs, t, path, max, val_r, len_r, err);
}

int nxl_xs_write(nxl_xs *xs, xs_transaction_t t, const char *path,
                 const void *data, size_t len, nxl_error *err)
{
    size_t plen;
    int rc;

    rc = check_call(xs, path, "write", err);
    if (rc)
        return rc;
    if (!data && len)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore write %s: no data",
                             path);
    plen = strlen(path) + 1;
    if (len > NXL_XS_PAYLOAD_MAX - plen)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore value for %s is %zu bytes; at most %zu "
                             "fit with this path",
                             path, len, NXL_XS_PAYLOAD_MAX - plen);
    if (!xs_write(xs->h, t, path, len ? data : "", (unsigned int)len))
        return xs_fail(xs, err, errno, "write", path);
    return 0;
}

int nxl_xs_write_str(nxl_xs *xs, xs_transaction_t t, const char *path,
                     const char *value, nxl_error *err)
{
    if (!value)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore write %s: no value",
                             path ? path : "");
    return nxl_xs_write(xs, t, path, value, strlen(value), err);
}

int nxl_xs_mkdir(nxl_xs *xs, xs_transaction_t t, const char *path,
                 nxl_error *err)
{
    int rc = check_call(xs, path, "mkdir", err);

    if (rc)
        return rc;
    if (!xs_mkdir(xs->h, t, path))
        return xs_fail(xs, err, errno, "mkdir", path);
    return 0;
}

int nxl_xs_rm(nxl_xs *xs, xs_transaction_t t, const char *path, nxl_error *err)
{
    int rc = check_call(xs, path, "rm", err);

    if (rc)
        return rc;
    if (strcmp(path, "/") == 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore rm: refusing to remove the root");
    if (!xs_rm(xs->h, t, path) && errno != ENOENT)
        return xs_fail(xs, err, errno, "rm", path);
    return 0;
}

int nxl_xs_directory(nxl_xs *xs, xs_transaction_t t, const char *path,
                     nxl_strv *names_r, nxl_error *err)
{
    unsigned int num = 0, i;
    char **raw = NULL;
    nxl_strv tmp = {NULL, 0};
    int rc;

    rc = check_call(xs, path, "directory", err);
    if (rc)
        goto out;
    if (!names_r) {
        rc = nxl_error_set(err, NXL_E_INVAL, "xenstore directory %s: bad call",
                           path);
        goto out;
    }
    raw = xs_directory(xs->h, t, path, &num);
    if (!raw) {
        rc = xs_fail(xs, err, errno, "directory", path);
        goto out;
    }
    /* One extra NULL slot so the vector is also NULL-terminated. */
    tmp.v = calloc((size_t)num + 1, sizeof(*tmp.v));
    if (!tmp.v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory listing %s", path);
        goto out;
    }
    for (i = 0; i < num; i++) {
        tmp.v[i] = strdup(raw[i]);
        if (!tmp.v[i]) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory listing %s",
                               path);
            goto out;
        }
        tmp.n++;
    }
    /* Replace the caller's contents only now that nothing can fail. */
    for (i = 0; i < names_r->n; i++)
        free(names_r->v[i]);
    free(names_r->v);
    *names_r = tmp;
    tmp.v = NULL;
    tmp.n = 0;
    rc = 0;
out:
    for (i = 0; i < tmp.n; i++)
        free(tmp.v[i]);
    free(tmp.v);
    free(raw); /* one block: the array and its strings */
    return rc;
}

/* ---- permissions --------------------------------------------------------- */

void nxl_xs_perms_init(nxl_xs_perms *p)
{
    if (!p)
        return;
    p->owner = 0;
    p->others = NXL_XS_ACCESS_NONE;
    p->entries = NULL;
    p->n = 0;
}

void nxl_xs_perms_dispose(nxl_xs_perms *p)
{
    if (!p)
        return;
    free(p->entries);
    nxl_xs_perms_init(p);
}

static int perm_check(unsigned int domid, int access, const char *what,
                      nxl_error *err)
{
    if (domid >= DOMID_FIRST_RESERVED)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore %s: domid %u is not a real domain", what,
                             domid);
    if (access < NXL_XS_ACCESS_NONE || access > NXL_XS_ACCESS_BOTH)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore %s: access %d for domain %u is not "
                             "none, read, write or both",
                             what, access, domid);
    return 0;
}

int nxl_xs_perms_add(nxl_xs_perms *p, unsigned int domid, nxl_xs_access access,
                     nxl_error *err)
{
    nxl_xs_perm *grown;
    int rc;

    if (!p)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore perms add: bad call");
    rc = perm_check(domid, (int)access, "perms", err);
    if (rc)
        return rc;
    if (p->n >= NXL_XS_PERMS_MAX)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore perms: more than %d entries",
                             NXL_XS_PERMS_MAX);
    grown = realloc(p->entries, (p->n + 1) * sizeof(*p->entries));
    if (!grown)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory adding a perm");
    p->entries = grown;
    p->entries[p->n].domid = domid;
    p->entries[p->n].access = access;
    p->n++;
    return 0;
}

static nxl_xs_access access_from_xs(unsigned int perms)
{
    return (nxl_xs_access)(perms & (XS_PERM_READ | XS_PERM_WRITE));
}

int nxl_xs_get_perms(nxl_xs *xs, xs_transaction_t t, const char *path,
                     nxl_xs_perms *perms_r, nxl_error *err)
{
    struct xs_permissions *raw = NULL;
    unsigned int num = 0, i;
    nxl_xs_perms tmp;
    int rc;

    nxl_xs_perms_init(&tmp);
    rc = check_call(xs, path, "get-perms", err);
    if (rc)
        goto out;
    if (!perms_r) {
        rc = nxl_error_set(err, NXL_E_INVAL, "xenstore get-perms %s: bad call",
                           path);
        goto out;
    }
    raw = xs_get_permissions(xs->h, t, path, &num);
    if (!raw) {
        rc = xs_fail(xs, err, errno, "get-perms", path);
        goto out;
    }
    if (num == 0) {
        /* xenstored always sends the owner entry; anything else is a
         * protocol surprise, not an empty ACL. */
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "xenstore get-perms %s: no owner entry", path);
        goto out;
    }
    tmp.owner = raw[0].id;
    tmp.others = access_from_xs(raw[0].perms);
    if (num > 1) {
        tmp.entries = calloc(num - 1, sizeof(*tmp.entries));
        if (!tmp.entries) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory reading %s",
                               path);
            goto out;
        }
        for (i = 1; i < num; i++) {
            tmp.entries[i - 1].domid = raw[i].id;
            tmp.entries[i - 1].access = access_from_xs(raw[i].perms);
        }
        tmp.n = num - 1;
    }
    nxl_xs_perms_dispose(perms_r);
    *perms_r = tmp;
    nxl_xs_perms_init(&tmp);
    rc = 0;
out:
    nxl_xs_perms_dispose(&tmp);
    free(raw);
    return rc;
}

int nxl_xs_set_perms(nxl_xs *xs, xs_transaction_t t, const char *path,
                     const nxl_xs_perms *perms, nxl_error *err)
{
    struct xs_permissions *raw = NULL;
    size_t i;
    int rc;

    rc = check_call(xs, path, "set-perms", err);
    if (rc)
        goto out;
    if (!perms || (perms->n && !perms->entries)) {
        rc = nxl_error_set(err, NXL_E_INVAL, "xenstore set-perms %s: bad call",
                           path);
        goto out;
    }
    if (perms->n > NXL_XS_PERMS_MAX) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "xenstore set-perms %s: %zu entries, at most %d",
                           path, perms->n, NXL_XS_PERMS_MAX);
        goto out;
    }
    rc = perm_check(perms->owner, (int)perms->others, "set-perms", err);
    if (rc)
        goto out;
    for (i = 0; i < perms->n; i++) {
        rc = perm_check(perms->entries[i].domid, (int)perms->entries[i].access,
                        "set-perms", err);
        if (rc)
            goto out;
    }
    raw = calloc(perms->n + 1, sizeof(*raw));
    if (!raw) {
        rc = nxl_error_set(err, NXL_E_NOMEM,
                           "out of memory setting perms on %s", path);
        goto out;
    }
    raw[0].id = perms->owner;
    raw[0].perms = (unsigned int)perms->others;
    for (i = 0; i < perms->n; i++) {
        raw[i + 1].id = perms->entries[i].domid;
        raw[i + 1].perms = (unsigned int)perms->entries[i].access;
    }
    if (!xs_set_permissions(xs->h, t, path, raw,
                            (unsigned int)(perms->n + 1))) {
        rc = xs_fail(xs, err, errno, "set-perms", path);
        goto out;
    }
    rc = 0;
out:
    free(raw);
    return rc;
}

/* ---- transactions -------------------------------------------------------- */

int nxl_xs_transaction_start(nxl_xs *xs, xs_transaction_t *t_r, nxl_error *err)
{
    xs_transaction_t t;

    if (!xs || !xs->h || !t_r)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore transaction start: bad call");
    t = xs_transaction_start(xs->h);
    if (t == XBT_NULL)
        return xs_fail(xs, err, errno, "transaction start", "/");
    *t_r = t;
    return 0;
}

int nxl_xs_transaction_commit(nxl_xs *xs, xs_transaction_t t, nxl_error *err)
{
    int e;

    if (!xs || !xs->h || t == XBT_NULL)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore transaction commit: bad call");
    if (xs_transaction_end(xs->h, t, false))
        return 0;
    e = errno;
    if (e == EAGAIN)
        return nxl_error_set(err, NXL_E_CONFLICT,
                             "xenstore transaction %u: another change got in "
                             "first; nothing was applied",
                             (unsigned int)t);
    return xs_fail(xs, err, e, "transaction commit", "/");
}

int nxl_xs_transaction_abort(nxl_xs *xs, xs_transaction_t t, nxl_error *err)
{
    if (!xs || !xs->h)
        return nxl_error_set(err, NXL_E_INVAL,
                             "xenstore transaction abort: bad call");
    if (t == XBT_NULL)
        return 0;
    if (!xs_transaction_end(xs->h, t, true))
        return xs_fail(xs, err, errno, "transaction abort", "/");
    return 0;
}

/* Hands a per-attempt error to the caller, keeping the caller's first
 * failure if it already holds one (nxl_error_set's rule). */
static void error_move(nxl_error *dst, nxl_error *src)
{
    if (dst && dst->code == NXL_OK && src->code != NXL_OK) {
        *dst = *src;
        nxl_error_init(src);
        return;
    }
    nxl_error_dispose(src);
}

static nxl_xs_txn_counts txn_counts;

#define COUNT(member)                                                          \
    __atomic_add_fetch(&txn_counts.member, 1, __ATOMIC_RELAXED)

void nxl_xs_transact_counts(nxl_xs_txn_counts *r)
{
    r->calls = __atomic_load_n(&txn_counts.calls, __ATOMIC_RELAXED);
    r->attempts = __atomic_load_n(&txn_counts.attempts, __ATOMIC_RELAXED);
    r->conflicts = __atomic_load_n(&txn_counts.conflicts, __ATOMIC_RELAXED);
}

/* Before attempt `next` (2..) after a conflict: a random pause of up to
 * 1 ms << (next - 2), at most 32 ms, so that two writers that retry at
 * once stop colliding on every attempt: bench-xenstore's two writers
 * publishing to one domain conflicted on 998 of 1000 transactions with
 * immediate retries, on 90-350 with these pauses. A writer that never
 * pauses can still starve another (about 1 publish in 300 gave up after
 * 16 attempts there); novaxl's own writers of one instance never race,
 * as the instance lock serialises them. The worst case over every retry
 * is under 0.4 s. */
static void transact_backoff(int next)
{
    static __thread uint64_t seed;
    struct timespec ts;
    uint64_t cap_us = 1000u << (next - 2 < 5 ? next - 2 : 5);

    if (!seed) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
               (uint64_t)(uintptr_t)&ts;
        seed |= 1;
    }
    /* xorshift64: per-thread, no lock, no call into libc's rand state. */
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)(seed % cap_us) * 1000;
    nanosleep(&ts, NULL);
}

int nxl_xs_transact(nxl_xs *xs, nxl_xs_txn_fn fn, void *opaque, nxl_error *err)
{
    nxl_error attempt_err = NXL_ERROR_INIT;
    xs_transaction_t t = XBT_NULL;
    int attempt;
    int rc;

    if (!xs || !xs->h || !fn) {
        rc = nxl_error_set(err, NXL_E_INVAL, "xenstore transact: bad call");
        goto out;
    }
    COUNT(calls);
    for (attempt = 1;; attempt++) {
        /* A conflict from the last attempt is not the caller's error. */
        nxl_error_dispose(&attempt_err);
        rc = nxl_xs_transaction_start(xs, &t, &attempt_err);
        if (rc)
            goto out;
        COUNT(attempts);
        rc = fn(xs, t, opaque, &attempt_err);
        if (rc == 0) {
            rc = nxl_xs_transaction_commit(xs, t, &attempt_err);
            t = XBT_NULL; /* finished, whatever commit said */
        }
        if (rc != NXL_E_CONFLICT)
            goto out;
        COUNT(conflicts);
        nxl__debug("xenstore transaction: conflict on attempt %d", attempt);
        if (attempt >= NXL_XS_TRANSACT_ATTEMPTS) {
            nxl_error_dispose(&attempt_err);
            rc = nxl_error_set(err, NXL_E_CONFLICT,
                               "xenstore transaction still conflicting after "
                               "%d attempts",
                               attempt);
            goto out;
        }
        if (t != XBT_NULL) {
            /* fn asked for a retry: drop its transaction first. */
            nxl_xs_transaction_abort(xs, t, NULL);
            t = XBT_NULL;
        }
        transact_backoff(attempt + 1);
    }
out:
    if (t != XBT_NULL)
        nxl_xs_transaction_abort(xs, t, NULL);
    error_move(err, &attempt_err);
    return rc;
}

/* ---- watches ------------------------------------------------------------- */

static int watch_args(const nxl_xs *xs, const char *path, const char *token,
                      const char *op, nxl_error *err)
{
    size_t i;
    int rc;

    if (!xs || !xs->h)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore %s: no connection",
                             op);
    if (!path || (strcmp(path, "@introduceDomain") != 0 &&
                  strcmp(path, "@releaseDomain") != 0)) {
        rc = nxl_xs_path_validate(path, err);
        if (rc)
            return rc;
    }
    if (!token || !*token)
        return nxl_error_set(err, NXL_E_INVAL, "xenstore %s %s: empty token",
                             op, path);
    for (i = 0; token[i]; i++) {
        if (i >= NXL_XS_TOKEN_MAX)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "xenstore %s %s: token longer than %d bytes",
                                 op, path, NXL_XS_TOKEN_MAX);
        if (token[i] <= ' ' || token[i] > '~')
            return nxl_error_set(err, NXL_E_INVAL,
                                 "xenstore %s %s: token has byte 0x%02x", op,
                                 path, (unsigned int)(unsigned char)token[i]);
    }
    return 0;
}

int nxl_xs_watch(nxl_xs *xs, const char *path, const char *token,
                 nxl_error *err)
{
    int rc = watch_args(xs, path, token, "watch", err);

    if (rc)
        return rc;
    if (!xs_watch(xs->h, path, token))
        return xs_fail(xs, err, errno, "watch", path);
    return 0;
}

int nxl_xs_unwatch(nxl_xs *xs, const char *path, const char *token,
                   nxl_error *err)
{
    int rc = watch_args(xs, path, token, "unwatch", err);

    if (rc)
        return rc;
    if (!xs_unwatch(xs->h, path, token))
        return xs_fail(xs, err, errno, "unwatch", path);
    return 0;
}

int nxl_xs_watch_fd(nxl_xs *xs)
{
    if (!xs || !xs->h)
        return -1;
    return xs_fileno(xs->h);
}

#define WATCH_POLL_SLICE_MS 250

int nxl_xs_read_watch(nxl_xs *xs, int timeout_ms, char **path_r, char **token_r,
                      nxl_error *err)
{
    char **ev = NULL;
    char *path = NULL, *token = NULL;
    int64_t deadline = timeout_ms > 0 ? nxl__mono_ms() + timeout_ms : 0;
    int rc;

    if (!xs || !xs->h || !path_r || !token_r) {
        rc = nxl_error_set(err, NXL_E_INVAL, "xenstore read-watch: bad call");
        goto out;
    }
    for (;;) {
        struct pollfd pfd;
        int wait_ms, r;

        ev = xs_check_watch(xs->h);
        if (ev)
            break;
        if (errno != EAGAIN) {
            rc = xs_fail(xs, err, errno, "read-watch", "(watches)");
            goto out;
        }
        if (timeout_ms == 0) {
            rc = 0;
            goto out;
        }
        /* Poll in slices: when the daemon goes away libxenstore's reader
         * thread stops without waking the watch fd, and only the next
         * xs_check_watch() tells. */
        wait_ms = WATCH_POLL_SLICE_MS;
        if (timeout_ms > 0) {
            int64_t left = deadline - nxl__mono_ms();

            if (left <= 0) {
                rc = 0;
                goto out;
            }
            if (left < wait_ms)
                wait_ms = (int)left;
        }
        pfd.fd = xs_fileno(xs->h);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (pfd.fd < 0) {
            rc = xs_fail(xs, err, errno, "read-watch", "(watches)");
            goto out;
        }
        r = poll(&pfd, 1, wait_ms);
        if (r < 0 && errno != EINTR) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                     "xenstore read-watch: poll failed");
            goto out;
        }
    }
    rc = nxl__strdup(&path, ev[XS_WATCH_PATH], err);
    if (rc)
        goto out;
    rc = nxl__strdup(&token, ev[XS_WATCH_TOKEN], err);
    if (rc)
        goto out;
    *path_r = NXL_STEAL(path);
    *token_r = NXL_STEAL(token);
    rc = 1;
out:
    free(ev); /* one block: the array and both strings */
    free(path);
    free(token);
    return rc;
}

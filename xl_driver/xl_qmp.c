/* A small QMP client for block statistics; the why is in xl_qmp.h.
 *
 * Messages are read line by line (QEMU ends each with "\r\n"), so one
 * message is parsed as soon as its newline arrives and nothing past it is
 * waited for. Commands carry an id, and only the reply with that id is
 * taken: asynchronous events in between are skipped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "xl_driver/xl_qmp.h"

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cfg_dir;        /* NULL: NXL_XL_QMP_DIR */
static unsigned cfg_timeout; /* 0: NXL_XL_QMP_TIMEOUT_MS */

int nxl__xl_qmp_set(const char *dir, unsigned timeout_ms, nxl_error *err)
{
    char *d = NULL;

    if (dir && dir[0] != '/')
        return nxl_error_set(err, NXL_E_INVAL,
                             "QMP: socket directory must be absolute");
    if (dir && !(d = strdup(dir)))
        return nxl_error_set(err, NXL_E_NOMEM, "QMP: out of memory");
    pthread_mutex_lock(&cfg_lock);
    free(cfg_dir);
    cfg_dir = d;
    cfg_timeout = timeout_ms;
    pthread_mutex_unlock(&cfg_lock);
    return 0;
}

typedef struct qmp_conn {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct timespec deadline;
    char *buf; /* bytes read and not yet taken */
    size_t len, cap;
    size_t total; /* bytes read in the session */
} qmp_conn;

static int64_t ms_left(const qmp_conn *c)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(c->deadline.tv_sec - now.tv_sec) * 1000 +
           (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for events on the socket until the deadline. */
static int wait_fd(qmp_conn *c, short events, const char *what, nxl_error *err)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    int64_t left;
    int r;

    for (;;) {
        left = ms_left(c);
        if (left <= 0)
            return nxl_error_set(err, NXL_E_TIMEOUT,
                                 "QMP %s: no %s from QEMU in time", c->path,
                                 what);
        r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return nxl_error_set_errno(err, NXL_E_IO, errno, "QMP %s: poll",
                                       c->path);
    }
}

static int conn_open(qmp_conn *c, uint32_t domid, nxl_error *err)
{
    struct sockaddr_un sa;
    unsigned timeout;
    int rc;

    memset(c, 0, sizeof(*c));
    c->fd = -1;
    pthread_mutex_lock(&cfg_lock);
    rc = snprintf(c->path, sizeof(c->path), "%s/qmp-libxenstat-%" PRIu32,
                  cfg_dir ? cfg_dir : NXL_XL_QMP_DIR, domid);
    timeout = cfg_timeout ? cfg_timeout : NXL_XL_QMP_TIMEOUT_MS;
    pthread_mutex_unlock(&cfg_lock);
    if (rc < 0 || (size_t)rc >= sizeof(c->path))
        return nxl_error_set(err, NXL_E_IO,
                             "QMP: socket path of domain %" PRIu32 " too long",
                             domid);
    clock_gettime(CLOCK_MONOTONIC, &c->deadline);
    c->deadline.tv_sec += timeout / 1000;
    c->deadline.tv_nsec += (long)(timeout % 1000) * 1000000;
    if (c->deadline.tv_nsec >= 1000000000) {
        c->deadline.tv_sec++;
        c->deadline.tv_nsec -= 1000000000;
    }
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "QMP: socket");
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return 0;
    if (errno == ENOENT)
        return nxl_error_set(err, NXL_E_NOT_FOUND,
                             "QMP: no socket %s (no QEMU runs for domain "
                             "%" PRIu32 ")",
                             c->path, domid);
    /* A full backlog: a unix socket does not complete later. */
    return nxl_error_set_errno(err, NXL_E_IO, errno, "QMP: connect to %s",
                               c->path);
}

static void conn_close(qmp_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

static int send_all(qmp_conn *c, const char *data, size_t len, nxl_error *err)
{
    while (len) {
        ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
        int rc;

        if (w > 0) {
            data += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return nxl_error_set_errno(err, NXL_E_IO, errno, "QMP %s: send",
                                       c->path);
        if ((rc = wait_fd(c, POLLOUT, "room for a command", err)))
            return rc;
    }
    return 0;
}

/* The next message, without its line end, NUL-terminated in *msg_r
 * (free()). */
static int read_message(qmp_conn *c, char **msg_r, size_t *len_r,
                        nxl_error *err)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        ssize_t r;
        int rc;

        if (nl) {
            size_t n = (size_t)(nl - c->buf), taken = n + 1;
            char *m;

            if (n && c->buf[n - 1] == '\r')
                n--;
            if (!(m = malloc(n + 1)))
                return nxl_error_set(err, NXL_E_NOMEM, "QMP: out of memory");
            memcpy(m, c->buf, n);
            m[n] = '\0';
            memmove(c->buf, c->buf + taken, c->len - taken);
            c->len -= taken;
            *msg_r = m;
            *len_r = n;
            return 0;
        }
        if (c->len > NXL_QMP_MAX_MESSAGE)
            return nxl_error_set(err, NXL_E_IO,
                                 "QMP %s: a message longer than %d bytes",
                                 c->path, NXL_QMP_MAX_MESSAGE);
        if (c->total >= NXL_XL_QMP_MAX_SESSION)
            return nxl_error_set(err, NXL_E_IO,
                                 "QMP %s: more than %d bytes without the "
                                 "reply",
                                 c->path, NXL_XL_QMP_MAX_SESSION);
        if (c->cap - c->len < 4096) {
            size_t cap = c->cap ? c->cap * 2 : 8192;
            char *b = realloc(c->buf, cap);

            if (!b)
                return nxl_error_set(err, NXL_E_NOMEM, "QMP: out of memory");
            c->buf = b;
            c->cap = cap;
        }
        r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r > 0) {
            c->len += (size_t)r;
            c->total += (size_t)r;
            continue;
        }
        if (r == 0)
            return nxl_error_set(
                err, NXL_E_IO, "QMP %s: QEMU closed the connection%s", c->path,
                c->len ? " in the middle of a message" : "");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return nxl_error_set_errno(err, NXL_E_IO, errno, "QMP %s: recv",
                                       c->path);
        if ((rc = wait_fd(c, POLLIN, "answer", err)))
            return rc;
    }
}

/* Sends execute and returns its reply's text in *reply_r (free()), events
 * skipped; a QEMU error is NXL_E_FAILED. */
static int command(qmp_conn *c, const char *execute, const char *id,
                   char **reply_r, size_t *len_r, nxl_error *err)
{
    char *cmd = NULL, *msg = NULL, *mid = NULL, *desc = NULL;
    nxl_error e = NXL_ERROR_INIT;
    nxl_qmp_kind kind;
    size_t len;
    int rc;

    if ((rc = nxl__qmp_command_to_json(execute, id, &cmd, err)))
        return rc;
    if ((rc = send_all(c, cmd, strlen(cmd), err)) ||
        (rc = send_all(c, "\n", 1, err)))
        goto out;
    for (;;) {
        free(msg);
        free(mid);
        free(desc);
        msg = mid = desc = NULL;
        if ((rc = read_message(c, &msg, &len, err)))
            goto out;
        rc = nxl__qmp_message(msg, len, &kind, &mid, &desc, &e);
        if (rc) {
            rc = nxl_error_set(err, rc == NXL_E_NOMEM ? rc : NXL_E_IO,
                               "QMP %s: %s: %s", c->path, execute,
                               nxl_error_message(&e));
            goto out;
        }
        if (kind == NXL_QMP_EVENT)
            continue;
        if (kind == NXL_QMP_GREETING || !mid || strcmp(mid, id) != 0) {
            rc = nxl_error_set(err, NXL_E_IO,
                               "QMP %s: %s: a message that is not its reply",
                               c->path, execute);
            goto out;
        }
        if (kind == NXL_QMP_ERROR) {
            rc = nxl_error_set(err, NXL_E_FAILED, "QMP %s: %s: QEMU: %s",
                               c->path, execute, desc);
            goto out;
        }
        *reply_r = msg;
        *len_r = len;
        msg = NULL;
        rc = 0;
        goto out;
    }
out:
    nxl_error_dispose(&e);
    free(cmd);
    free(msg);
    free(mid);
    free(desc);
    return rc;
}

int nxl__xl_qmp_blockstats(uint32_t domid, nxl_qmp_blockstats *stats_r,
                           nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    char *msg = NULL;
    nxl_qmp_kind kind;
    qmp_conn c;
    size_t len;
    int rc;

    if ((rc = conn_open(&c, domid, err)))
        goto out;
    /* QEMU greets first; until then it takes no command. */
    if ((rc = read_message(&c, &msg, &len, err)))
        goto out;
    rc = nxl__qmp_message(msg, len, &kind, NULL, NULL, &e);
    if (rc || kind != NXL_QMP_GREETING) {
        rc = nxl_error_set(err, rc == NXL_E_NOMEM ? rc : NXL_E_IO,
                           "QMP %s: no greeting%s%s", c.path, rc ? ": " : "",
                           rc ? nxl_error_message(&e) : "");
        goto out;
    }
    free(msg);
    msg = NULL;
    if ((rc = command(&c, "qmp_capabilities", "nxl-1", &msg, &len, err)))
        goto out;
    free(msg);
    msg = NULL;
    if ((rc = command(&c, "query-blockstats", "nxl-2", &msg, &len, err)))
        goto out;
    rc = nxl__qmp_blockstats_from_json(msg, len, stats_r, &e);
    if (rc)
        rc = nxl_error_set(err, rc == NXL_E_NOMEM ? rc : NXL_E_IO, "QMP %s: %s",
                           c.path, nxl_error_message(&e));
out:
    nxl_error_dispose(&e);
    free(msg);
    conn_close(&c);
    return rc;
}

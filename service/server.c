/* novaxld's server: Unix stream sockets, peer credentials, connections,
 * JSON-RPC 2.0 framing (one request per line), a pool of workers, and the
 * subscribe stream.
 *
 * Threads: the main thread accepts and takes signals; each connection has
 * a reader thread that frames and checks requests and hands them to the
 * worker pool, so several requests of one connection are in flight at
 * once (max_inflight, then the reader stops reading: back-pressure); the
 * workers call the driver (which serialises per instance itself) and
 * write the reply under the connection's write lock, one line each.
 *
 * Lifetimes: a connection is referenced by its reader and by each of its
 * jobs; the last reference closes the socket. Shutdown stops accepting,
 * stops the readers (requests not yet read are not in flight), lets every
 * queued or running job finish and answer, ends the streams, then joins
 * the workers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "service/svc.h"

typedef struct conn conn;
typedef struct job job;

struct nxl_svc_server {
    nxl_driver *drv;
    nxl_svc_bus *bus;
    char *paths[2]; /* [0] read-write, [1] read-only (NULL: none) */
    int fds[2];
    bool has_gid[2];
    gid_t gids[2]; /* admin group (rw), ro group (ro) */
    unsigned max_request, max_inflight, write_timeout, nworkers;
    char epoch[32];

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* connection count, inflight counts */
    pthread_cond_t qcond; /* the job queue */
    unsigned idle_timeout, max_connections;
    unsigned nconns, next_conn_id;
    bool stopping;
    bool workers_stop;
    job *qhead, *qtail;
    pthread_t *workers;
    unsigned nstarted;
};

struct conn {
    nxl_svc_server *srv;
    int fd;
    bool ro;
    unsigned id;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    pthread_mutex_t wlock; /* one reply line at a time; broken */
    bool broken;
    /* under srv->lock */
    unsigned refs, inflight;
};

struct job {
    job *next;
    conn *c;
    const nxl_svc_method *m;
    nxl_json *root; /* the request; owns id and params */
    bool notification;
    struct timespec start;
};

static const char *const socket_name[2] = {"read-write", "read-only"};

/* ---- replies ---------------------------------------------------------------
 */

static const char encode_failed[] =
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
    "\"message\":\"novaxld could not encode the reply\"}}";

static void reply_head(nxl_jw *w, const nxl_json *id)
{
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "jsonrpc", "2.0");
    nxl__jw_key(w, "id");
    nxl__jw_value(w, id); /* NULL: null */
}

/* {"jsonrpc","id","error":{"code","message","data":{"kind","code",
 * "message"}}}: data.kind is the contract's (nova's) exception name. */
static char *reply_error(const nxl_json *id, int rpc_code, const nxl_error *e)
{
    nxl_jw *w = nxl__jw_new();
    char *line = NULL;

    reply_head(w, id);
    nxl__jw_key(w, "error");
    nxl__jw_object_open(w);
    nxl__jw_kv_int(w, "code", rpc_code);
    nxl__jw_kv_string(w, "message", nxl_error_message(e));
    nxl__jw_key(w, "data");
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "kind", nxl_error_nova_name(e->code));
    nxl__jw_kv_string(w, "code", nxl_error_code_name(e->code));
    nxl__jw_kv_string(w, "message", nxl_error_message(e));
    nxl__jw_object_close(w);
    nxl__jw_object_close(w);
    nxl__jw_object_close(w);
    if (nxl__jw_finish(w, &line, NULL))
        line = NULL;
    nxl__jw_free(w);
    return line;
}

static char *reply_result(const nxl_json *id, const char *result)
{
    nxl_jw *w = nxl__jw_new();
    char *line = NULL;

    reply_head(w, id);
    nxl__jw_key(w, "result");
    nxl__jw_document(w, result);
    nxl__jw_object_close(w);
    if (nxl__jw_finish(w, &line, NULL))
        line = NULL;
    nxl__jw_free(w);
    return line;
}

/* ---- connections
 * ------------------------------------------------------------- */

/* One line out, whole; a failure (peer gone, or too slow for
 * write_timeout) breaks the connection for good. */
static int conn_write(conn *c, const char *line)
{
    const char *parts[2] = {line ? line : encode_failed, "\n"};
    int rc = 0;

    pthread_mutex_lock(&c->wlock);
    if (c->broken) {
        rc = -1;
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(parts[k]), off = 0;
        while (off < len) {
            ssize_t n = send(c->fd, parts[k] + off, len - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                nxl_svc_log(LOG_INFO, NULL,
                            "connection %u: write failed (%s): closing", c->id,
                            n < 0 ? strerror(errno) : "closed");
                c->broken = true;
                shutdown(c->fd, SHUT_RDWR);
                rc = -1;
                goto out;
            }
            off += (size_t)n;
        }
    }
out:
    pthread_mutex_unlock(&c->wlock);
    return rc;
}

static void conn_write_error(conn *c, const nxl_json *id, int rpc_code,
                             int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void conn_write_error(conn *c, const nxl_json *id, int rpc_code,
                             int code, const char *fmt, ...)
{
    nxl_error e = NXL_ERROR_INIT;
    char msg[1024];
    char *line;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    nxl_error_set(&e, code, "%s", msg);
    line = reply_error(id, rpc_code, &e);
    conn_write(c, line);
    free(line);
    nxl_error_dispose(&e);
}

static void conn_unref(conn *c)
{
    nxl_svc_server *srv = c->srv;
    bool last;

    pthread_mutex_lock(&srv->lock);
    last = --c->refs == 0;
    if (last) {
        srv->nconns--;
        pthread_cond_broadcast(&srv->cond);
    }
    pthread_mutex_unlock(&srv->lock);
    if (!last)
        return;
    nxl_svc_log(LOG_DEBUG, NULL, "connection %u: closed", c->id);
    close(c->fd);
    pthread_mutex_destroy(&c->wlock);
    free(c);
}

/* ---- workers
 * ----------------------------------------------------------------- */

static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void run_job(nxl_svc_server *srv, job *j)
{
    nxl_svc_call call;
    nxl_error err = NXL_ERROR_INIT;
    nxl_jw *w = nxl__jw_new();
    const nxl_json *params = nxl__json_get(j->root, "params");
    const nxl_json *id = nxl__json_get(j->root, "id");
    char *result = NULL, *line = NULL;
    int rc;

    memset(&call, 0, sizeof(call));
    call.drv = srv->drv;
    call.params = nxl__json_type(params) == NXL_JSON_OBJECT ? params : NULL;
    call.rpc_code = NXL_RPC_DRIVER_ERROR;
    rc = j->m->fn(&call, w, &err);
    if (rc == 0 && (rc = nxl__jw_finish(w, &result, &err)))
        call.rpc_code = NXL_RPC_INTERNAL_ERROR;
    if (rc == 0) {
        nxl_svc_log(j->m->mutating ? LOG_INFO : LOG_DEBUG,
                    call.uuid[0] ? call.uuid : NULL,
                    "%s: done in %ld ms%s%s (connection %u, uid %u)",
                    j->m->name, ms_since(&j->start),
                    call.result_word ? ": " : "",
                    call.result_word ? call.result_word : "", j->c->id,
                    (unsigned)j->c->uid);
        line = reply_result(id, result);
    } else {
        nxl_svc_log(LOG_WARNING, call.uuid[0] ? call.uuid : NULL,
                    "%s: failed after %ld ms: %s: %s (connection %u, uid %u)",
                    j->m->name, ms_since(&j->start),
                    nxl_error_nova_name(err.code), nxl_error_message(&err),
                    j->c->id, (unsigned)j->c->uid);
        line = reply_error(id, call.rpc_code, &err);
    }
    /* A request refused before the driver acted (bad params) changed
     * nothing: no event. */
    if (j->m->mutating && !(rc && call.rpc_code == NXL_RPC_INVALID_PARAMS))
        nxl_svc_bus_operation(srv->bus, j->m->name,
                              call.uuid[0] ? call.uuid : NULL, call.result_word,
                              rc ? &err : NULL);
    if (!j->notification)
        conn_write(j->c, line);
    free(line);
    free(result);
    nxl__jw_free(w);
    nxl_error_dispose(&err);
}

static void *worker_main(void *arg)
{
    nxl_svc_server *srv = arg;

    for (;;) {
        job *j;

        pthread_mutex_lock(&srv->lock);
        while (!srv->qhead && !srv->workers_stop)
            pthread_cond_wait(&srv->qcond, &srv->lock);
        j = srv->qhead;
        if (!j) {
            pthread_mutex_unlock(&srv->lock);
            break;
        }
        srv->qhead = j->next;
        if (!srv->qhead)
            srv->qtail = NULL;
        pthread_mutex_unlock(&srv->lock);

        run_job(srv, j);

        pthread_mutex_lock(&srv->lock);
        j->c->inflight--;
        pthread_cond_broadcast(&srv->cond);
        pthread_mutex_unlock(&srv->lock);
        conn_unref(j->c);
        nxl__json_free(j->root);
        free(j);
    }
    return NULL;
}

/* ---- framing
 * ------------------------------------------------------------------ */

typedef enum { LINE_OK, LINE_SUBSCRIBE, LINE_CLOSE } line_result;

/* subscribe: the reply, then the connection is a stream from *after_r. */
static line_result do_subscribe(conn *c, const nxl_json *id,
                                const nxl_json *params, uint64_t *after_r)
{
    nxl_svc_server *srv = c->srv;
    const nxl_json *since = nxl__json_get(params, "since");
    uint64_t last = nxl_svc_bus_last_id(srv->bus);
    uint64_t after = last;
    long long v;
    nxl_jw *w;
    char *result = NULL, *line;

    if (since && nxl__json_type(since) != NXL_JSON_NULL) {
        if (!nxl__json_integer(since, &v) || v < 0) {
            conn_write_error(c, id, NXL_RPC_INVALID_PARAMS, NXL_E_INVAL,
                             "params: 'since' must be an event id (an "
                             "integer >= 0)");
            return LINE_OK;
        }
        if ((uint64_t)v > last) {
            conn_write_error(c, id, NXL_RPC_INVALID_PARAMS, NXL_E_INVAL,
                             "params: since %lld is beyond the last event "
                             "id %llu: ids restart with novaxld (this run's "
                             "epoch is %s); subscribe without 'since'",
                             v, (unsigned long long)last, srv->epoch);
            return LINE_OK;
        }
        after = (uint64_t)v;
    }
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    nxl__jw_kv_bool(w, "subscribed", true);
    nxl__jw_kv_string(w, "epoch", srv->epoch);
    nxl__jw_kv_uint(w, "last_id", last);
    nxl__jw_kv_uint(w, "oldest_id", nxl_svc_bus_oldest_id(srv->bus));
    nxl__jw_object_close(w);
    if (nxl__jw_finish(w, &result, NULL))
        result = NULL;
    nxl__jw_free(w);
    if (id) {
        line = reply_result(id, result);
        conn_write(c, line);
        free(line);
    }
    free(result);
    nxl_svc_log(LOG_INFO, NULL,
                "connection %u: subscribed after event %llu (uid %u)", c->id,
                (unsigned long long)after, (unsigned)c->uid);
    *after_r = after;
    return LINE_SUBSCRIBE;
}

/* One request line: check it, answer protocol errors at once, queue the
 * rest. */
static line_result handle_line(conn *c, const char *text, size_t len,
                               uint64_t *after_r)
{
    nxl_svc_server *srv = c->srv;
    nxl_error e = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const nxl_json *id, *method, *params, *ver;
    const nxl_svc_method *m;
    const char *name;
    job *j;
    size_t i;

    for (i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            break;
    if (i == len)
        return LINE_OK; /* blank lines are keep-alives */
    if (len > srv->max_request) {
        conn_write_error(c, NULL, NXL_RPC_INVALID_REQUEST, NXL_E_INVAL,
                         "request too large (%zu bytes, limit %u)", len,
                         srv->max_request);
        return LINE_OK;
    }
    if (nxl__json_parse(text, len, srv->max_request, &root, &e)) {
        nxl_svc_log(LOG_INFO, NULL, "connection %u: parse error: %s", c->id,
                    nxl_error_message(&e));
        conn_write_error(c, NULL, NXL_RPC_PARSE_ERROR, NXL_E_INVAL, "%s",
                         nxl_error_message(&e));
        nxl_error_dispose(&e);
        return LINE_OK;
    }
    if (nxl__json_type(root) != NXL_JSON_OBJECT) {
        conn_write_error(c, NULL, NXL_RPC_INVALID_REQUEST, NXL_E_INVAL,
                         "a request is one JSON object (batches are not "
                         "supported), not %s",
                         nxl__json_type_name(root));
        goto drop;
    }
    id = nxl__json_get(root, "id");
    if (id && nxl__json_type(id) != NXL_JSON_STRING &&
        nxl__json_type(id) != NXL_JSON_INTEGER &&
        nxl__json_type(id) != NXL_JSON_NUMBER &&
        nxl__json_type(id) != NXL_JSON_NULL) {
        conn_write_error(c, NULL, NXL_RPC_INVALID_REQUEST, NXL_E_INVAL,
                         "'id' must be a string, a number or null, not %s",
                         nxl__json_type_name(id));
        goto drop;
    }
    ver = nxl__json_get(root, "jsonrpc");
    if (!nxl__json_string(ver) || strcmp(nxl__json_string(ver), "2.0") != 0) {
        conn_write_error(c, id, NXL_RPC_INVALID_REQUEST, NXL_E_INVAL,
                         "'jsonrpc' must be \"2.0\"");
        goto drop;
    }
    method = nxl__json_get(root, "method");
    name = nxl__json_string(method);
    if (!name) {
        conn_write_error(c, id, NXL_RPC_INVALID_REQUEST, NXL_E_INVAL,
                         "'method' must be a string, not %s",
                         nxl__json_type_name(method));
        goto drop;
    }
    params = nxl__json_get(root, "params");
    if (params && nxl__json_type(params) != NXL_JSON_OBJECT &&
        nxl__json_type(params) != NXL_JSON_NULL) {
        conn_write_error(c, id, NXL_RPC_INVALID_PARAMS, NXL_E_INVAL,
                         "params: must be an object (by-name), not %s",
                         nxl__json_type_name(params));
        goto drop;
    }
    m = nxl_svc_method_find(name);
    if (!m) {
        char q[96];
        conn_write_error(c, id, NXL_RPC_METHOD_NOT_FOUND, NXL_E_INVAL,
                         "no method %s", nxl__quote(q, sizeof(q), name));
        goto drop;
    }
    if (c->ro && !m->read_only) {
        nxl_svc_log(LOG_WARNING, NULL,
                    "connection %u: %s refused on the read-only socket "
                    "(pid %d, uid %u)",
                    c->id, m->name, (int)c->pid, (unsigned)c->uid);
        conn_write_error(c, id, NXL_RPC_FORBIDDEN, NXL_E_DENIED,
                         "%s: not allowed on the read-only socket", m->name);
        goto drop;
    }
    if (strcmp(m->name, "subscribe") == 0) {
        line_result r = do_subscribe(c, id, params, after_r);
        nxl__json_free(root);
        return r;
    }
    if (!m->fn) {
        conn_write_error(c, id, NXL_RPC_NOT_IMPLEMENTED, NXL_E_NOT_IMPLEMENTED,
                         "%s: not implemented yet by novaxld (a contract "
                         "method without a JSON-RPC mapping yet)",
                         m->name);
        goto drop;
    }

    j = calloc(1, sizeof(*j));
    if (!j) {
        conn_write_error(c, id, NXL_RPC_INTERNAL_ERROR, NXL_E_NOMEM,
                         "out of memory");
        goto drop;
    }
    j->c = c;
    j->m = m;
    j->root = root;
    j->notification = id == NULL;
    clock_gettime(CLOCK_MONOTONIC, &j->start);
    pthread_mutex_lock(&srv->lock);
    /* Back-pressure: stop reading until a slot frees up. */
    while (c->inflight >= srv->max_inflight && !srv->stopping)
        pthread_cond_wait(&srv->cond, &srv->lock);
    if (srv->stopping) {
        pthread_mutex_unlock(&srv->lock);
        conn_write_error(c, id, NXL_RPC_BUSY, NXL_E_FAILED,
                         "novaxld is stopping: request not started");
        free(j);
        goto drop;
    }
    c->inflight++;
    c->refs++;
    if (srv->qtail)
        srv->qtail->next = j;
    else
        srv->qhead = j;
    srv->qtail = j;
    pthread_cond_signal(&srv->qcond);
    pthread_mutex_unlock(&srv->lock);
    nxl_svc_log(LOG_DEBUG, NULL, "connection %u: %s queued", c->id, m->name);
    return LINE_OK;
drop:
    nxl__json_free(root);
    return LINE_OK;
}

/* The stream after subscribe: events from after+1, gap events where the
 * backlog no longer reaches, until the peer goes, a write fails or the
 * daemon stops. Input from the peer is read and dropped. */
static void stream(conn *c, uint64_t after)
{
    nxl_svc_server *srv = c->srv;

    for (;;) {
        char *line = NULL;
        uint64_t id = 0;
        struct pollfd p = {c->fd, POLLIN, 0};
        char sink[512];

        switch (nxl_svc_bus_next(srv->bus, after, 1000, &line, &id)) {
        case NXL_SVC_BUS_EVENT:
        case NXL_SVC_BUS_GAP:
            if (conn_write(c, line)) {
                free(line);
                return;
            }
            free(line);
            after = id;
            continue;
        case NXL_SVC_BUS_TIMEOUT:
            break;
        case NXL_SVC_BUS_NOMEM:
            nxl_svc_log(LOG_ERR, NULL,
                        "connection %u: out of memory in the "
                        "event stream: closing",
                        c->id);
            return;
        case NXL_SVC_BUS_STOPPED:
            return;
        }
        if (poll(&p, 1, 0) > 0) {
            ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return;
        }
    }
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    nxl_svc_server *srv = c->srv;
    size_t cap = srv->max_request + 1;
    char *buf = malloc(cap);
    size_t len = 0;
    bool discarding = false;
    struct timespec last;

    if (!buf) {
        nxl_svc_log(LOG_ERR, NULL, "connection %u: out of memory", c->id);
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &last);
    for (;;) {
        struct pollfd p = {c->fd, POLLIN, 0};
        unsigned idle;
        bool busy;
        char *nl;
        ssize_t n;
        int r;

        pthread_mutex_lock(&srv->lock);
        idle = srv->idle_timeout;
        busy = c->inflight > 0;
        r = srv->stopping;
        pthread_mutex_unlock(&srv->lock);
        if (r)
            break;
        if (busy)
            clock_gettime(CLOCK_MONOTONIC, &last);
        else if (idle && ms_since(&last) >= (long)idle * 1000) {
            nxl_svc_log(LOG_INFO, NULL, "connection %u: idle for %u s: closing",
                        c->id, idle);
            break;
        }
        r = poll(&p, 1, 250);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        n = recv(c->fd, buf + len, cap - len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &last);
        len += (size_t)n;
        while ((nl = memchr(buf, '\n', len))) {
            size_t llen = (size_t)(nl - buf);
            uint64_t after = 0;
            line_result lr = LINE_OK;

            if (discarding)
                discarding = false; /* the end of an oversized line */
            else
                lr = handle_line(c, buf, llen, &after);
            memmove(buf, nl + 1, len - llen - 1);
            len -= llen + 1;
            if (lr == LINE_SUBSCRIBE) {
                stream(c, after);
                goto out;
            }
            if (lr == LINE_CLOSE)
                goto out;
        }
        if (len == cap) {
            /* No newline within the limit: refuse, drop the rest of the
             * line as it comes, and keep the connection. */
            if (!discarding) {
                nxl_svc_log(LOG_INFO, NULL,
                            "connection %u: request over %u bytes refused",
                            c->id, srv->max_request);
                conn_write_error(c, NULL, NXL_RPC_INVALID_REQUEST, NXL_E_INVAL,
                                 "request too large (more than %u bytes)",
                                 srv->max_request);
            }
            discarding = true;
            len = 0;
        }
    }
out:
    free(buf);
    conn_unref(c);
    return NULL;
}

/* ---- accepting
 * ---------------------------------------------------------------- */

static bool uid_in_group(uid_t uid, gid_t pgid, gid_t want)
{
    struct passwd pw, *res = NULL;
    char pwbuf[4096];
    gid_t groups[256];
    int n = (int)NXL_ARRAY_SIZE(groups);

    if (pgid == want)
        return true;
    if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) || !res)
        return false;
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
        n = (int)NXL_ARRAY_SIZE(groups); /* the first 256 are filled */
    for (int i = 0; i < n; i++)
        if (groups[i] == want)
            return true;
    return false;
}

/* The read-write socket: root, novaxld's own user, the admin group. The
 * read-only one: those, and anyone (or only ro_group, when set). */
static bool peer_allowed(nxl_svc_server *srv, bool ro, const struct ucred *cr)
{
    bool rw_ok =
        cr->uid == 0 || cr->uid == geteuid() ||
        (srv->has_gid[0] && uid_in_group(cr->uid, cr->gid, srv->gids[0]));

    if (!ro || rw_ok)
        return rw_ok;
    return !srv->has_gid[1] || uid_in_group(cr->uid, cr->gid, srv->gids[1]);
}

static void refuse(int fd, int rpc_code, int code, const char *msg)
{
    nxl_error e = NXL_ERROR_INIT;
    struct timeval tv = {1, 0};
    char *line;

    nxl_error_set(&e, code, "%s", msg);
    line = reply_error(NULL, rpc_code, &e);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (line && send(fd, line, strlen(line), MSG_NOSIGNAL) > 0)
        (void)!send(fd, "\n", 1, MSG_NOSIGNAL);
    free(line);
    nxl_error_dispose(&e);
    close(fd);
}

static void accept_one(nxl_svc_server *srv, int which)
{
    struct ucred cr;
    socklen_t crlen = sizeof(cr);
    pthread_attr_t attr;
    pthread_t tid;
    struct timeval tv;
    conn *c;
    int fd, r;

    fd = accept4(srv->fds[which], NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
            nxl_svc_log(LOG_ERR, NULL, "accept on the %s socket: %s",
                        socket_name[which], strerror(errno));
        return;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0) {
        nxl_svc_log(LOG_WARNING, NULL,
                    "refused a connection on the %s socket: no peer "
                    "credentials (%s)",
                    socket_name[which], strerror(errno));
        close(fd);
        return;
    }
    if (!peer_allowed(srv, which == 1, &cr)) {
        nxl_svc_log(LOG_WARNING, NULL,
                    "refused a connection on the %s socket from pid %d uid "
                    "%u gid %u: not root, not novaxld's user, not in the "
                    "allowed group",
                    socket_name[which], (int)cr.pid, (unsigned)cr.uid,
                    (unsigned)cr.gid);
        refuse(fd, NXL_RPC_FORBIDDEN, NXL_E_DENIED,
               "permission denied: this peer may not use this socket");
        return;
    }
    pthread_mutex_lock(&srv->lock);
    if (srv->nconns >= srv->max_connections || srv->stopping) {
        unsigned max = srv->max_connections;
        bool stopping = srv->stopping;
        pthread_mutex_unlock(&srv->lock);
        nxl_svc_log(LOG_WARNING, NULL,
                    "refused a connection from pid %d uid %u: %s", (int)cr.pid,
                    (unsigned)cr.uid,
                    stopping ? "stopping" : "too many connections");
        if (stopping)
            refuse(fd, NXL_RPC_BUSY, NXL_E_FAILED, "novaxld is stopping");
        else {
            char msg[96];
            snprintf(msg, sizeof(msg), "too many connections (limit %u)", max);
            refuse(fd, NXL_RPC_BUSY, NXL_E_FAILED, msg);
        }
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        pthread_mutex_unlock(&srv->lock);
        close(fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    c->ro = which == 1;
    c->id = ++srv->next_conn_id;
    c->pid = cr.pid;
    c->uid = cr.uid;
    c->gid = cr.gid;
    c->refs = 1; /* the reader's */
    pthread_mutex_init(&c->wlock, NULL);
    srv->nconns++;
    pthread_mutex_unlock(&srv->lock);

    tv.tv_sec = srv->write_timeout;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    nxl_svc_log(LOG_DEBUG, NULL,
                "connection %u on the %s socket from pid %d uid %u gid %u",
                c->id, socket_name[which], (int)cr.pid, (unsigned)cr.uid,
                (unsigned)cr.gid);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    r = pthread_create(&tid, &attr, conn_main, c);
    pthread_attr_destroy(&attr);
    if (r) {
        nxl_svc_log(LOG_ERR, NULL, "connection %u: no thread: %s", c->id,
                    strerror(r));
        conn_unref(c);
    }
}

/* ---- sockets
 * ------------------------------------------------------------------ */

static int resolve_group(const char *name, gid_t *gid_r, nxl_error *err)
{
    struct group gr, *res = NULL;
    char buf[4096];
    char *end;
    unsigned long v;

    if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res) {
        *gid_r = res->gr_gid;
        return 0;
    }
    errno = 0;
    v = strtoul(name, &end, 10);
    if (!errno && *name && !*end && v < (gid_t)-1) {
        *gid_r = (gid_t)v;
        return 0;
    }
    return nxl_error_set(err, NXL_E_INVAL, "no group '%s'", name);
}

static int bind_socket(const char *path, unsigned mode, bool set_gid, gid_t gid,
                       int *fd_r, nxl_error *err)
{
    struct sockaddr_un sa;
    struct stat st;
    char dir[PATH_MAX];
    char *slash;
    mode_t old;
    int fd, r;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return nxl_error_set(err, NXL_E_INVAL,
                             "%s: socket path too long (limit %zu bytes)", path,
                             sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return nxl_error_set_errno(err, NXL_E_IO, errno, "mkdir %s", dir);
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s exists and is not a socket", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(fd);
            return nxl_error_set(err, NXL_E_CONFLICT,
                                 "%s: another novaxld is serving it", path);
        }
        if (fd >= 0)
            close(fd);
        unlink(path); /* stale: its daemon is gone */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "socket");
    /* Never reachable with wider permissions than asked, not even
     * between bind and chmod. Single-threaded here. */
    old = umask(0177);
    r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0) {
        r = nxl_error_set_errno(err, NXL_E_IO, errno, "bind %s", path);
        close(fd);
        return r;
    }
    if ((set_gid && chown(path, (uid_t)-1, gid) < 0) ||
        chmod(path, (mode_t)mode) < 0 || listen(fd, 64) < 0) {
        r = nxl_error_set_errno(err, NXL_E_IO, errno, "%s", path);
        close(fd);
        unlink(path);
        return r;
    }
    *fd_r = fd;
    return 0;
}

int nxl_svc_server_new(const nxl_svc_config *cfg, nxl_driver *drv,
                       nxl_svc_bus *bus, nxl_svc_server **srv_r, nxl_error *err)
{
    nxl_svc_server *srv = calloc(1, sizeof(*srv));
    struct timespec ts;
    int rc;

    if (!srv)
        return nxl_error_set(err, NXL_E_NOMEM, "server: out of memory");
    srv->drv = drv;
    srv->bus = bus;
    srv->fds[0] = srv->fds[1] = -1;
    srv->max_request = cfg->max_request_bytes;
    srv->max_inflight = cfg->max_inflight;
    srv->write_timeout = cfg->write_timeout;
    srv->nworkers = cfg->workers;
    srv->idle_timeout = cfg->idle_timeout;
    srv->max_connections = cfg->max_connections;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(srv->epoch, sizeof(srv->epoch), "%lld%06ld", (long long)ts.tv_sec,
             ts.tv_nsec / 1000);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->cond, NULL);
    pthread_cond_init(&srv->qcond, NULL);

    if ((cfg->admin_group &&
         (rc = resolve_group(cfg->admin_group, &srv->gids[0], err))) ||
        (cfg->ro_group &&
         (rc = resolve_group(cfg->ro_group, &srv->gids[1], err))))
        goto fail;
    srv->has_gid[0] = cfg->admin_group != NULL;
    srv->has_gid[1] = cfg->ro_group != NULL;
    if ((rc = nxl__strdup(&srv->paths[0], cfg->socket_path, err)) ||
        (rc = nxl__strdup(&srv->paths[1], cfg->ro_socket_path, err)))
        goto fail;
    if ((rc = bind_socket(srv->paths[0], cfg->socket_mode, srv->has_gid[0],
                          srv->gids[0], &srv->fds[0], err)))
        goto fail;
    if (srv->paths[1] &&
        (rc = bind_socket(srv->paths[1], cfg->ro_socket_mode, srv->has_gid[1],
                          srv->gids[1], &srv->fds[1], err)))
        goto fail;
    srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
    if (!srv->workers) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "server: out of memory");
        goto fail;
    }
    for (; srv->nstarted < srv->nworkers; srv->nstarted++) {
        int r = pthread_create(&srv->workers[srv->nstarted], NULL, worker_main,
                               srv);
        if (r) {
            rc = nxl_error_set_errno(err, NXL_E_FAILED, r,
                                     "starting worker threads");
            goto fail;
        }
    }
    *srv_r = srv;
    return 0;
fail:
    nxl_svc_server_free(srv);
    return rc;
}

void nxl_svc_server_reconfigure(nxl_svc_server *srv, const nxl_svc_config *cfg)
{
    pthread_mutex_lock(&srv->lock);
    srv->idle_timeout = cfg->idle_timeout;
    srv->max_connections = cfg->max_connections;
    pthread_mutex_unlock(&srv->lock);
    nxl_svc_log_set_level(cfg->log_level);
}

static void stop_listening(nxl_svc_server *srv)
{
    for (int k = 0; k < 2; k++) {
        if (srv->fds[k] < 0)
            continue;
        close(srv->fds[k]);
        srv->fds[k] = -1;
        if (srv->paths[k])
            unlink(srv->paths[k]);
    }
}

int nxl_svc_server_run(nxl_svc_server *srv, int sigfd,
                       void (*reload)(void *opaque, nxl_svc_server *srv),
                       void *opaque)
{
    bool running = true;

    while (running) {
        struct pollfd p[3] = {{sigfd, POLLIN, 0},
                              {srv->fds[0], POLLIN, 0},
                              {srv->fds[1], POLLIN, 0}};
        int r = poll(p, srv->fds[1] >= 0 ? 3 : 2, -1);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            nxl_svc_log(LOG_ERR, NULL, "poll: %s", strerror(errno));
            break;
        }
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    nxl_svc_log(LOG_INFO, NULL, "SIGHUP: reloading");
                    if (reload)
                        reload(opaque, srv);
                } else {
                    nxl_svc_log(LOG_INFO, NULL,
                                "%s: stopping (finishing requests in flight)",
                                strsignal((int)si.ssi_signo));
                    running = false;
                }
            }
        }
        for (int k = 0; running && k < 2; k++)
            if (srv->fds[k] >= 0 && (p[k + 1].revents & POLLIN))
                accept_one(srv, k);
    }

    /* Stop: no new connections or requests; what was read finishes. */
    stop_listening(srv);
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    nxl_svc_bus_stop(srv->bus);
    pthread_mutex_lock(&srv->lock);
    while (srv->nconns > 0)
        pthread_cond_wait(&srv->cond, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
    nxl_svc_log(LOG_INFO, NULL, "every connection closed");
    return 0;
}

void nxl_svc_server_free(nxl_svc_server *srv)
{
    if (!srv)
        return;
    stop_listening(srv);
    pthread_mutex_lock(&srv->lock);
    srv->workers_stop = true;
    pthread_cond_broadcast(&srv->qcond);
    pthread_mutex_unlock(&srv->lock);
    for (unsigned i = 0; i < srv->nstarted; i++)
        pthread_join(srv->workers[i], NULL);
    free(srv->workers);
    free(srv->paths[0]);
    free(srv->paths[1]);
    pthread_cond_destroy(&srv->qcond);
    pthread_cond_destroy(&srv->cond);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

/* The libxl backend's console members: the log tail and the VNC details
 * of console/con.h, reached from an instance.
 *
 * An instance's domain is found by its name (libxl's domain name is
 * nova's instance name, xl_config.c) and then checked against the
 * instance's UUID from the hypervisor's own domain info: the name comes
 * from xenstore, the UUID does not, so a guest cannot make us hand out
 * another instance's console.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "console/bridge.h"
#include "console/con.h"
#include "xl_driver/xl_console.h"
#include "xl_driver/xl_host.h"
#include "xl_driver/xl_lifecycle.h"
#include "xenstore/xs.h"

nxl_port *nxl__xl_host_port(nxl_driver *drv)
{
    nxl_xl_state *st = drv->priv;
    nxl_port *port;

    if (!st)
        return NULL;
    pthread_mutex_lock(&st->lock);
    port = st->port;
    pthread_mutex_unlock(&st->lock);
    return port;
}

int nxl__xl_host_require_port(nxl_driver *drv, const char *method,
                              nxl_port **port_r, nxl_error *err)
{
    nxl_port *port = nxl__xl_host_port(drv);

    if (!port)
        return nxl_error_set(err, NXL_E_HYPERVISOR,
                             "%s: not connected to the hypervisor (call "
                             "init_host first)",
                             method);
    *port_r = port;
    return 0;
}

int nxl__xl_instance_domid(nxl_driver *drv, const nxl_instance *inst,
                           const char *method, uint32_t *domid_r,
                           nxl_error *err)
{
    nxl_port_dominfo info;
    nxl_port *port = NULL;
    uint32_t domid;
    int rc;

    if (!inst->name)
        return nxl_error_set(err, NXL_E_INVAL, "%s: instance.name is NULL",
                             method);
    if ((rc = nxl__xl_host_require_port(drv, method, &port, err)) < 0)
        return rc;
    rc = port->ops->name_to_domid(port, inst->name, &domid, err);
    if (rc < 0)
        return rc;
    memset(&info, 0, sizeof(info));
    if ((rc = port->ops->domain_info(port, domid, &info, err)) < 0)
        return rc;
    if (strcmp(info.uuid, inst->uuid) != 0)
        return nxl_error_set(err, NXL_E_NOT_FOUND,
                             "%s: domain %u is named '%s' but belongs to "
                             "%s, not instance %s",
                             method, domid, inst->name, info.uuid, inst->uuid);
    *domid_r = domid;
    return 0;
}

int nxl_xl_get_console_output(nxl_driver *drv, const nxl_instance *inst,
                              nxl_buf *out_r, nxl_error *err)
{
    nxl_buf out;
    char *path = NULL;
    int rc;

    if (!inst->name)
        return nxl_error_set(err, NXL_E_INVAL,
                             "get_console_output: instance.name is NULL");
    nxl_buf_init(&out);
    if ((rc = nxl_con_log_path(drv->layout.console_log_dir, inst->name, &path,
                               err)) < 0 ||
        (rc = nxl_con_tail(path, NXL_CON_OUTPUT_MAX, &out, err)) < 0)
        goto out;
    /* Nova's callers treat the result as text: never hand out NULL. */
    if (!out.data && nxl_buf_append(&out, "", 0) < 0) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "get_console_output: no memory");
        goto out;
    }
    *out_r = out;
    nxl_buf_init(&out);
    rc = 0;
out:
    nxl_buf_dispose(&out);
    free(path);
    return rc;
}

int nxl_xl_get_vnc_console(nxl_driver *drv, const nxl_instance *inst,
                           nxl_console *console_r, nxl_error *err)
{
    nxl_xs *xs = NULL;
    uint32_t domid;
    int rc;

    if ((rc = nxl__xl_instance_domid(drv, inst, "get_vnc_console", &domid,
                                     err)) < 0 ||
        (rc = nxl_xs_open(&xs, err)) < 0)
        return rc;
    rc = nxl_con_vnc(xs, domid, console_r, err);
    nxl_xs_close(xs);
    return rc;
}

/* SPICE: qemu publishes nothing about it in xenstore, so the source is
 * libxl's own record of the domain's config (what it handed qemu). */
int nxl_xl_get_spice_console(nxl_driver *drv, const nxl_instance *inst,
                             nxl_console *console_r, nxl_error *err)
{
    nxl_port *port = NULL;
    nxl_json *root = NULL;
    const nxl_json *spice;
    const char *enable, *host;
    char *doc = NULL;
    long long p = 0, tls = 0;
    uint32_t domid;
    nxl_console c;
    int rc;

    nxl_console_init(&c);
    if ((rc = nxl__xl_instance_domid(drv, inst, "get_spice_console", &domid,
                                     err)) < 0 ||
        (rc = nxl__xl_host_require_port(drv, "get_spice_console", &port, err)) <
            0 ||
        (rc = port->ops->retrieve_config(port, domid, &doc, err)) < 0 ||
        (rc = nxl__json_parse(doc, strlen(doc), 0, &root, err)) < 0)
        goto out;
    spice = nxl__json_get(
        nxl__json_get(nxl__json_get(root, "b_info"), "type.hvm"), "spice");
    enable = nxl__json_string(nxl__json_get(spice, "enable"));
    if (!enable || strcmp(enable, "True") != 0) {
        rc = nxl_error_set(err, NXL_E_CONSOLE_UNAVAILABLE,
                           "get_spice_console: domain %u of instance %s has "
                           "no SPICE server configured",
                           domid, inst->uuid);
        goto out;
    }
    nxl__json_integer(nxl__json_get(spice, "port"), &p);
    nxl__json_integer(nxl__json_get(spice, "tls_port"), &tls);
    host = nxl__json_string(nxl__json_get(spice, "host"));
    if ((p <= 0 && tls <= 0) || p > 65535 || tls < 0 || tls > 65535) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "get_spice_console: domain %u's SPICE server has "
                           "no usable port (port %lld, tls_port %lld)",
                           domid, p, tls);
        goto out;
    }
    c.type = NXL_CONSOLE_SPICE;
    c.port = p > 0 ? (int)p : -1;
    c.tls_port = tls > 0 ? (int)tls : -1;
    /* libxl's default listen address is all of the host's. */
    if ((rc = nxl__strdup(&c.host, host && host[0] ? host : "0.0.0.0", err)) <
        0)
        goto out;
    *console_r = c;
    nxl_console_init(&c);
    rc = 0;
out:
    nxl_console_dispose(&c);
    nxl__json_free(root);
    free(doc);
    return rc;
}

/* ---- SPICE ports (xl_console.h) ------------------------------------------ */

/* Ports picked for creates still under way, process-wide: ports are the
 * host's, and two drivers in one process (tests) share them. */
static pthread_mutex_t spice_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned spice_claims[64];
static size_t spice_n_claims;

/* Whether port can be bound on addr now. SO_REUSEADDR as qemu sets it:
 * a port whose old connections linger in TIME_WAIT is free for qemu. */
static bool spice_port_free(const struct sockaddr_storage *addr, socklen_t len,
                            unsigned port)
{
    struct sockaddr_storage a = *addr;
    int one = 1, fd;
    bool ok;

    if (a.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
    fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
         bind(fd, (struct sockaddr *)&a, len) == 0;
    close(fd);
    return ok;
}

int nxl__xl_spice_claim(const char *host, unsigned min, unsigned max,
                        unsigned *port_r, nxl_error *err)
{
    struct sockaddr_storage addr;
    socklen_t len;
    int rc;

    if ((rc = nxl_con_listen_addr("SPICE listen address", host, &addr, &len,
                                  err)) < 0 ||
        (rc = nxl_con_port_range("SPICE ports", min, max, err)) < 0)
        return rc;
    pthread_mutex_lock(&spice_lock);
    for (unsigned p = min;
         p <= max && spice_n_claims < NXL_ARRAY_SIZE(spice_claims); p++) {
        bool claimed = false;

        for (size_t i = 0; i < spice_n_claims && !claimed; i++)
            claimed = spice_claims[i] == p;
        if (claimed || !spice_port_free(&addr, len, p))
            continue;
        spice_claims[spice_n_claims++] = p;
        pthread_mutex_unlock(&spice_lock);
        *port_r = p;
        return 0;
    }
    rc = nxl_error_set(err, NXL_E_FAILED,
                       "SPICE: no free port in %u:%u on %s (%zu claimed by "
                       "creates under way)",
                       min, max, host, spice_n_claims);
    pthread_mutex_unlock(&spice_lock);
    return rc;
}

int nxl__xl_spice_check_listen(const char *host, nxl_error *err)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, "0", &hints, &res);
    if (res)
        freeaddrinfo(res);
    if (rc == 0)
        return 0;
    return nxl_error_set(err, NXL_E_FAILED,
                         "SPICE: qemu's SPICE server could not listen on %s: "
                         "it resolves the address with AI_ADDRCONFIG, which "
                         "says '%s' (a host whose only address of that "
                         "family is loopback's has none for it: give dom0 "
                         "an address on an interface other than lo)",
                         host ? host : "(none)", gai_strerror(rc));
}

void nxl__xl_spice_release(unsigned port)
{
    pthread_mutex_lock(&spice_lock);
    for (size_t i = 0; port && i < spice_n_claims; i++)
        if (spice_claims[i] == port) {
            spice_claims[i] = spice_claims[--spice_n_claims];
            break;
        }
    pthread_mutex_unlock(&spice_lock);
}

/* ---- serial bridges and log upkeep (xl_console.h) ----------------------- */

/* A name whose logs go once no domain has it. */
typedef struct named {
    char uuid[NXL_UUID_STRLEN + 1];
    char *name;
} named;

struct nxl_xl_console {
    /* Guards everything here; taken by get_serial_console's callers and
     * the event thread, never while calling the listener. */
    pthread_mutex_t lock;
    nxl_con_bridges *bridges; /* made by the first bridge */
    char *warning;            /* init_host's xenconsoled check */
    char *proc;               /* test seam; NULL: /proc */
    nxl_con_reopen_fn *reopen;
    void *reopen_opaque;
    uint64_t next_logs_ms;
    named *known; /* instances with a record, last tick */
    size_t n_known;
    named *gone; /* their record went; logs deleted when the name is free */
    size_t n_gone;
};

static nxl_xl_console *con_of(nxl_driver *drv)
{
    nxl_xl_state *st = drv->priv;

    return st ? st->con : NULL;
}

int nxl__xl_console_new(nxl_xl_console **con_r, nxl_error *err)
{
    nxl_xl_console *c = calloc(1, sizeof(*c));

    if (!c || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return nxl_error_set(err, NXL_E_NOMEM, "console state: no memory");
    }
    c->reopen = nxl_con_reopen_xenconsoled;
    *con_r = c;
    return 0;
}

static void named_free(named *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

void nxl__xl_console_free(nxl_xl_console *c)
{
    if (!c)
        return;
    nxl_con_bridges_free(c->bridges);
    named_free(c->known, c->n_known);
    named_free(c->gone, c->n_gone);
    free(c->warning);
    free(c->proc);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void nxl__xl_console_set_proc(nxl_driver *drv, const char *proc)
{
    nxl_xl_console *c = con_of(drv);

    pthread_mutex_lock(&c->lock);
    free(c->proc);
    c->proc = proc ? strdup(proc) : NULL;
    pthread_mutex_unlock(&c->lock);
}

void nxl__xl_console_set_reopen(nxl_driver *drv, nxl_con_reopen_fn *fn,
                                void *opaque)
{
    nxl_xl_console *c = con_of(drv);

    pthread_mutex_lock(&c->lock);
    c->reopen = fn;
    c->reopen_opaque = opaque;
    pthread_mutex_unlock(&c->lock);
}

void nxl__xl_console_logs_due(nxl_driver *drv)
{
    nxl_xl_console *c = con_of(drv);

    pthread_mutex_lock(&c->lock);
    c->next_logs_ms = 0;
    pthread_mutex_unlock(&c->lock);
}

int nxl_xl_console_warning(nxl_driver *drv, char **warning_r, nxl_error *err)
{
    nxl_xl_console *c = con_of(drv);
    int rc = 0;

    *warning_r = NULL;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    if (c->warning && !(*warning_r = strdup(c->warning)))
        rc = nxl_error_set(err, NXL_E_NOMEM, "console_warning: no memory");
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* The persisted port of uuid; 0 when none or unreadable. */
static unsigned port_load(nxl_xl_state *st, const char *uuid)
{
    char *path =
        nxl__xl_store_instance_file(&st->store, uuid, NXL_XL_SERIAL_PORT_FILE);
    char *data = NULL, *end = NULL;
    unsigned long p = 0;
    size_t len = 0;

    if (path && nxl__read_file_capped(path, 16, &data, &len, NULL) == 0) {
        errno = 0;
        p = strtoul(data, &end, 10);
        if (errno || end == data || (*end && *end != '\n') || p > 65535)
            p = 0;
    }
    free(data);
    free(path);
    return (unsigned)p;
}

/* Written like the record (a temporary name, fsync, rename, directory
 * sync), so a crash leaves the old port or the new one. */
static int port_save(nxl_xl_state *st, const char *uuid, unsigned port,
                     nxl_error *err)
{
    char *path =
        nxl__xl_store_instance_file(&st->store, uuid, NXL_XL_SERIAL_PORT_FILE);
    char *tmp = NULL, buf[16];
    int fd = -1, rc, n;

    if (!path || asprintf(&tmp, "%s.tmp", path) < 0) {
        tmp = NULL;
        rc = nxl_error_set(err, NXL_E_NOMEM, "serial port: no memory");
        goto out;
    }
    n = snprintf(buf, sizeof(buf), "%u\n", port);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || write(fd, buf, (size_t)n) != n || fsync(fd) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot write %s", tmp);
        goto out;
    }
    close(fd);
    fd = -1;
    rc = nxl__xl_store_rename(tmp, path, err);
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(path);
    return rc;
}

/* Starts (or retargets) uuid's bridge to tty on its persisted port, and
 * persists the port it got. Under c->lock. */
static int bridge_up(nxl_driver *drv, nxl_xl_console *c, const char *uuid,
                     const char *tty, unsigned *port_r, nxl_error *err)
{
    nxl_xl_state *st = drv->priv;
    unsigned want = port_load(st, uuid), port = 0;
    int rc;

    if (!c->bridges && (rc = nxl_con_bridges_new(drv->console.serial_listen,
                                                 drv->console.serial_port_min,
                                                 drv->console.serial_port_max,
                                                 &c->bridges, err)) < 0)
        return rc;
    if ((rc = nxl_con_bridge_start(c->bridges, uuid, tty, want, &port, err)) <
        0)
        return rc;
    if (port != want && (rc = port_save(st, uuid, port, err)) < 0) {
        /* A port that would not survive a restart is not handed out. */
        nxl_con_bridge_stop(c->bridges, uuid);
        return rc;
    }
    *port_r = port;
    return 0;
}

/* The pty of rec's live domain into tty; false when it has none. */
static bool live_tty(nxl_xl_state *st, nxl_xs **xs, const nxl_record *rec,
                     char *tty, size_t size)
{
    nxl_port_dominfo d;
    char *t = NULL;

    memset(&d, 0, sizeof(d));
    if (rec->domid <= 0 ||
        st->port->ops->domain_info(st->port, (uint32_t)rec->domid, &d, NULL) <
            0 ||
        strcmp(d.uuid, rec->uuid) != 0 || d.dying || d.shutdown)
        return false;
    if (!*xs && nxl_xs_open(xs, NULL) < 0)
        return false;
    if (nxl_con_serial_tty(*xs, (uint32_t)rec->domid, &t, NULL) < 0)
        return false;
    snprintf(tty, size, "%s", t);
    free(t);
    return true;
}

static const char *known_name(const named *v, size_t n, const char *uuid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].uuid, uuid) == 0)
            return v[i].name;
    return NULL;
}

static bool known_has(const named *v, size_t n, const char *uuid)
{
    return known_name(v, n, uuid) != NULL;
}

/* Logs of instances whose record is gone, once no domain has the name. */
static void delete_gone_logs(nxl_driver *drv, nxl_xl_console *c)
{
    nxl_xl_state *st = drv->priv;

    for (size_t i = 0; i < c->n_gone;) {
        nxl_error e = NXL_ERROR_INIT;
        uint32_t domid;
        size_t n = 0;

        if (st->port->ops->name_to_domid(st->port, c->gone[i].name, &domid,
                                         NULL) == 0) {
            i++; /* still dying, or re-created: try again next time */
            continue;
        }
        if (nxl_con_delete_logs(drv->layout.console_log_dir, c->gone[i].name,
                                &n, &e) < 0)
            nxl__debug("console logs: %s", nxl_error_message(&e));
        else if (n)
            nxl__debug("console logs: deleted %zu log(s) of %s (instance %s "
                       "is gone)",
                       n, c->gone[i].name, c->gone[i].uuid);
        nxl_error_dispose(&e);
        free(c->gone[i].name);
        c->gone[i] = c->gone[--c->n_gone];
    }
}

/* One pass over the records: bridges reconciled, names tracked. */
static void reconcile(nxl_driver *drv, nxl_xl_console *c)
{
    nxl_xl_state *st = drv->priv;
    named *known = NULL;
    size_t n_known = 0;
    nxl_xs *xs = NULL;
    nxl_strv uuids;
    char **keys = NULL;
    size_t n_keys = 0;

    nxl_strv_init(&uuids);
    if (nxl__xl_store_list_records(&st->store, &uuids, NULL) < 0)
        goto out;
    known = calloc(uuids.n + 1, sizeof(*known));
    if (!known)
        goto out;
    for (size_t i = 0; i < uuids.n; i++) {
        nxl_record rec;
        char tty[32];
        unsigned want, port;

        const char *name = known_name(c->known, c->n_known, uuids.v[i]);

        /* Every second for every instance: an instance whose name is
         * known already and has no serial port costs two stats, not a
         * parse of its record. */
        want = port_load(st, uuids.v[i]);
        if (name && !want) {
            if (nxl__xl_record_exists(&st->store, uuids.v[i]) &&
                (known[n_known].name = strdup(name))) {
                snprintf(known[n_known].uuid, sizeof(known[n_known].uuid), "%s",
                         uuids.v[i]);
                n_known++;
            }
            nxl_con_bridge_stop(c->bridges, uuids.v[i]);
            continue;
        }
        nxl__record_init(&rec);
        if (nxl__xl_record_load(&st->store, uuids.v[i], &rec, NULL) < 0) {
            nxl__record_dispose(&rec);
            continue;
        }
        snprintf(known[n_known].uuid, sizeof(known[n_known].uuid), "%s",
                 rec.uuid);
        if (rec.req.instance.name &&
            (known[n_known].name = strdup(rec.req.instance.name)))
            n_known++;
        if (want && live_tty(st, &xs, &rec, tty, sizeof(tty))) {
            nxl_error e = NXL_ERROR_INIT;

            if (bridge_up(drv, c, rec.uuid, tty, &port, &e) < 0)
                nxl__debug("serial bridge %s: %s", rec.uuid,
                           nxl_error_message(&e));
            nxl_error_dispose(&e);
        } else {
            nxl_con_bridge_stop(c->bridges, rec.uuid);
        }
        nxl__record_dispose(&rec);
    }
    /* Bridges of instances without a record any more. */
    if (nxl_con_bridge_keys(c->bridges, &keys, &n_keys, NULL) == 0)
        for (size_t i = 0; i < n_keys; i++) {
            if (!known_has(known, n_known, keys[i]))
                nxl_con_bridge_stop(c->bridges, keys[i]);
            free(keys[i]);
        }
    free(keys);
    /* Names whose record went since the last pass. */
    for (size_t i = 0; i < c->n_known; i++) {
        named *g;

        if (known_has(known, n_known, c->known[i].uuid) ||
            !(g = realloc(c->gone, (c->n_gone + 1) * sizeof(*g))))
            continue;
        c->gone = g;
        c->gone[c->n_gone++] = c->known[i];
        c->known[i].name = NULL;
    }
    named_free(c->known, c->n_known);
    c->known = known;
    c->n_known = n_known;
    known = NULL;
    n_known = 0;
out:
    named_free(known, n_known);
    nxl_xs_close(xs);
    nxl_strv_dispose(&uuids);
}

static void log_policy(nxl_driver *drv, nxl_xl_console *c)
{
    nxl_error e = NXL_ERROR_INIT;
    size_t n = 0;

    if (nxl_con_rotate(drv->layout.console_log_dir, drv->console.log_cap,
                       c->reopen, c->reopen_opaque, &n, &e) < 0)
        nxl__debug("console logs: %s", nxl_error_message(&e));
    else if (n)
        nxl__debug("console logs: rotated %zu log(s) above %llu bytes", n,
                   (unsigned long long)drv->console.log_cap);
    nxl_error_dispose(&e);
}

void nxl__xl_console_tick(nxl_driver *drv)
{
    nxl_xl_console *c = con_of(drv);
    nxl_xl_state *st = drv->priv;

    if (!c || !st->port || !st->store_open)
        return;
    pthread_mutex_lock(&c->lock);
    reconcile(drv, c);
    delete_gone_logs(drv, c);
    if ((uint64_t)nxl__mono_ms() >= c->next_logs_ms) {
        log_policy(drv, c);
        c->next_logs_ms =
            nxl__mono_ms() + drv->console.log_interval_s * 1000ull;
    }
    pthread_mutex_unlock(&c->lock);
}

void nxl__xl_console_init_host(nxl_driver *drv)
{
    nxl_xl_console *c = con_of(drv);
    nxl_error e = NXL_ERROR_INIT;
    char *w = NULL;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    if (nxl_con_xenconsoled_check(c->proc, drv->layout.console_log_dir, &w,
                                  &e) < 0 &&
        asprintf(&w, "cannot check xenconsoled's logging: %s",
                 nxl_error_message(&e)) < 0)
        w = NULL;
    nxl_error_dispose(&e);
    free(c->warning);
    c->warning = w;
    if (w)
        nxl__debug("init_host: WARNING: %s", w);
    pthread_mutex_unlock(&c->lock);
    /* Persisted bridges of live domains come back now, not a tick later. */
    nxl__xl_console_tick(drv);
}

void nxl__xl_console_cleanup_host(nxl_driver *drv)
{
    nxl_xl_console *c = con_of(drv);

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    nxl_con_bridges_free(c->bridges);
    c->bridges = NULL;
    pthread_mutex_unlock(&c->lock);
}

/* Serial consoles: the guest's serial pty bridged to a TCP port of ours
 * (xl_console.h). One mechanism for every guest type: for HVM, qemu's own
 * "tcp:" chardev would need the port fixed in the domain config at
 * creation (a port collision then fails the boot), cannot move to a new
 * range without rebuilding the domain, and would accept any number of
 * clients, each stealing bytes from the others; the pty qemu publishes
 * at serial/0/tty is bridged like the PV console's. */
int nxl_xl_get_serial_console(nxl_driver *drv, const nxl_instance *inst,
                              nxl_console *console_r, nxl_error *err)
{
    nxl_xl_state *st = drv->priv;
    nxl_xl_console *c = con_of(drv);
    nxl_xs *xs = NULL;
    nxl_console con;
    char *tty = NULL;
    const char *host;
    unsigned port = 0;
    uint32_t domid;
    int rc;

    nxl_console_init(&con);
    if ((rc = nxl__xl_instance_domid(drv, inst, "get_serial_console", &domid,
                                     err)) < 0 ||
        (rc = nxl_xs_open(&xs, err)) < 0 ||
        (rc = nxl_con_serial_tty(xs, domid, &tty, err)) < 0)
        goto out;
    /* The bridge and its port belong to the instance's record: without
     * one the event thread would close the bridge at once. */
    if (!st->store_open || !nxl__xl_record_exists(&st->store, inst->uuid)) {
        rc = nxl_error_set(err, NXL_E_NOT_FOUND,
                           "get_serial_console: instance %s has no record "
                           "on this host",
                           inst->uuid);
        goto out;
    }
    pthread_mutex_lock(&c->lock);
    rc = bridge_up(drv, c, inst->uuid, tty, &port, err);
    pthread_mutex_unlock(&c->lock);
    if (rc < 0)
        goto out;
    /* A wildcard listen address is reached by the compute host's name. */
    host = drv->console.serial_listen;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
        host = drv->host;
    if ((rc = nxl__strdup(&con.host, host, err)) < 0)
        goto out;
    con.type = NXL_CONSOLE_SERIAL;
    con.port = (int)port;
    con.internal_access_path = NXL_STEAL(tty);
    *console_r = con;
    nxl_console_init(&con);
    rc = 0;
out:
    nxl_console_dispose(&con);
    nxl_xs_close(xs);
    free(tty);
    return rc;
}

int nxl_xl_get_console_pool_info(nxl_driver *drv, const char *console_type,
                                 nxl_console_pool *pool_r, nxl_error *err)
{
    static const char *const types[] = {"vnc", "spice", "serial"};
    nxl_console_pool p;
    bool known = false;
    int rc;

    for (size_t i = 0; i < NXL_ARRAY_SIZE(types); i++)
        known = known || strcmp(console_type, types[i]) == 0;
    if (!known)
        return nxl_error_set(err, NXL_E_INVAL,
                             "get_console_pool_info: console type '%s' is not "
                             "one of vnc, spice, serial",
                             console_type);
    /* Consoles are served by dom0 itself, under the compute host's name;
     * they take no credentials of their own (nova's proxies hand out
     * tokens), so username and password stay NULL. */
    nxl_console_pool_init(&p);
    if ((rc = nxl__strdup(&p.address, drv->host, err)) < 0) {
        nxl_console_pool_dispose(&p);
        return rc;
    }
    *pool_r = p;
    return 0;
}

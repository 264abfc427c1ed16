/* The real hypervisor port: each op is one libxl call (plus the copy or
 * conversion its arguments need), on one libxl_ctx per port.
 *
 * libxl documents the ctx as thread-safe, so ops need no lock of ours.
 * Two things do: the table of armed death watches, and the event loop
 * (libxl_osevent_beforepoll/afterpoll may not be used by two threads at
 * once), which wait_event runs itself so it can honour a timeout
 * (libxl_event_wait has none). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <libxl_utils.h>
#include <xenctrl.h>

#include "common/internal.h"
#include "xl_driver/xl_log.h"
#include "xl_driver/xl_port.h"
#include "xl_driver/xl_rc.h"
#include "xenstore/xs.h"

typedef struct lx_watch {
    uint32_t domid;
    libxl_evgen_domain_death *evgen;
} lx_watch;

typedef struct lx_port {
    nxl_port port; /* first: the ops header */
    libxl_ctx *ctx;
    nxl_xl_logger lg;
    pthread_mutex_t watch_lock; /* watches, n_watches */
    lx_watch *watches;
    size_t n_watches;
    pthread_mutex_t wait_lock; /* one event-loop thread at a time; fds */
    struct pollfd *fds;
    int fds_cap;
} lx_port;

/* Records libxl's failure with libxl's own last message. */
#define lx_fail(lp, err, r, domid, ...)                                        \
    nxl__xl_error_set((err), (r), (domid), &(lp)->lg, __VA_ARGS__)

static lx_port *lx(nxl_port *port)
{
    return (lx_port *)port;
}

static void lx_free(nxl_port *port)
{
    lx_port *lp = lx(port);

    /* evgens belong to the ctx: disable them before it goes. */
    for (size_t i = 0; i < lp->n_watches; i++)
        libxl_evdisable_domain_death(lp->ctx, lp->watches[i].evgen);
    free(lp->watches);
    libxl_ctx_free(lp->ctx);
    nxl__xl_logger_dispose(&lp->lg);
    pthread_mutex_destroy(&lp->watch_lock);
    pthread_mutex_destroy(&lp->wait_lock);
    free(lp->fds);
    free(lp);
}

/* After a failed create or restore: the domid libxl handed back names a
 * half-created domain only if it still exists (libxl destroys it itself
 * unless it was interrupted, ERROR_ABORTED). */
static int leftover_domid(lx_port *lp, uint32_t domid)
{
    if (domid == (uint32_t)INVALID_DOMID || domid == 0)
        return -1;
    return libxl_domain_info(lp->ctx, NULL, domid) == 0 ? (int)domid : -1;
}

static int lx_create(nxl_port *port, const libxl_domain_config *cfg,
                     uint32_t *domid_r, nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_domain_config copy;
    uint32_t domid = INVALID_DOMID;
    int rc, r;

    /* libxl fills defaults into the config it is given; the caller's
     * stays as it built it. */
    libxl_domain_config_init(&copy);
    libxl_domain_config_copy(lp->ctx, &copy, cfg);
    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_create_new(lp->ctx, &copy, &domid, NULL, NULL);
    if (r) {
        int left = leftover_domid(lp, domid);

        rc = lx_fail(lp, err, r, left, "libxl_domain_create_new(%s)",
                     cfg->c_info.name ? cfg->c_info.name : "");
        goto out;
    }
    *domid_r = domid;
    rc = 0;
out:
    libxl_domain_config_dispose(&copy);
    return rc;
}

static int lx_destroy(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_destroy(lp->ctx, domid, NULL);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_domain_destroy(%u)",
                       domid);
    return 0;
}

static int lx_pause(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_pause(lp->ctx, domid, NULL);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_domain_pause(%u)", domid);
    return 0;
}

static int lx_unpause(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_unpause(lp->ctx, domid, NULL);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_domain_unpause(%u)",
                       domid);
    return 0;
}

static int lx_shutdown(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_shutdown(lp->ctx, domid, NULL);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_domain_shutdown(%u)",
                       domid);
    return 0;
}

static int lx_reboot(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_reboot(lp->ctx, domid, NULL);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_domain_reboot(%u)",
                       domid);
    return 0;
}

static int lx_send_nmi(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_send_trigger(lp->ctx, domid, LIBXL_TRIGGER_NMI, 0, NULL);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_send_trigger(%u, nmi)",
                       domid);
    return 0;
}

static void dominfo_from_libxl(const libxl_dominfo *in, nxl_port_dominfo *out)
{
    memset(out, 0, sizeof(*out));
    out->domid = in->domid;
    snprintf(out->uuid, sizeof(out->uuid), LIBXL_UUID_FMT,
             LIBXL_UUID_BYTES(in->uuid));
    out->running = in->running;
    out->blocked = in->blocked;
    out->paused = in->paused;
    out->shutdown = in->shutdown;
    out->dying = in->dying;
    /* libxl's shutdown_reason means nothing unless shutdown is set. */
    out->shutdown_reason =
        in->shutdown ? in->shutdown_reason : LIBXL_SHUTDOWN_REASON_UNKNOWN;
    out->crashed =
        in->shutdown && in->shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH;
    out->mem_kb = in->current_memkb;
    out->max_mem_kb = in->max_memkb;
    out->vcpus = in->vcpu_online;
    out->cpu_time_ns = in->cpu_time;
    out->cpupool = in->cpupool;
}

static int lx_domain_info(nxl_port *port, uint32_t domid, nxl_port_dominfo *r,
                          nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_dominfo info;
    int rc, xr;

    libxl_dominfo_init(&info);
    nxl__xl_logger_clear(&lp->lg);
    xr = libxl_domain_info(lp->ctx, &info, domid);
    if (xr) {
        rc = lx_fail(lp, err, xr, (int)domid, "libxl_domain_info(%u)", domid);
        goto out;
    }
    dominfo_from_libxl(&info, r);
    rc = 0;
out:
    libxl_dominfo_dispose(&info);
    return rc;
}

static int lx_list(nxl_port *port, nxl_port_dominfo **list_r, size_t *n_r,
                   nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_dominfo *doms = NULL;
    nxl_port_dominfo *v = NULL;
    int nb = 0, rc;

    nxl__xl_logger_clear(&lp->lg);
    doms = libxl_list_domain(lp->ctx, &nb);
    if (!doms) {
        /* libxl_list_domain has no rc; it logged why. */
        rc = lx_fail(lp, err, ERROR_FAIL, -1, "libxl_list_domain");
        goto out;
    }
    v = calloc((size_t)nb, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory listing domains");
        goto out;
    }
    for (int i = 0; i < nb; i++)
        dominfo_from_libxl(&doms[i], &v[i]);
    *n_r = (size_t)nb;
    *list_r = NXL_STEAL(v);
    rc = 0;
out:
    if (doms)
        libxl_dominfo_list_free(doms, nb);
    free(v);
    return rc;
}

static int lx_name_to_domid(nxl_port *port, const char *name, uint32_t *domid_r,
                            nxl_error *err)
{
    lx_port *lp = lx(port);
    uint32_t domid;
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_name_to_domid(lp->ctx, name, &domid);
    /* libxl_name_to_domid's ERROR_INVAL is its "no such name". */
    if (r == ERROR_INVAL)
        return nxl_error_set_libxl(err, NXL_E_NOT_FOUND, r, -1,
                                   "no domain named \"%s\"", name);
    if (r)
        return lx_fail(lp, err, r, -1, "libxl_name_to_domid(%s)", name);
    *domid_r = domid;
    return 0;
}

static int lx_save(nxl_port *port, uint32_t domid, int fd, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_suspend(lp->ctx, domid, fd, 0, NULL);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_domain_suspend(%u)",
                       domid);
    return 0;
}

static int lx_restore(nxl_port *port, const libxl_domain_config *cfg, int fd,
                      uint32_t *domid_r, nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_domain_config copy;
    libxl_domain_restore_params params;
    uint32_t domid = INVALID_DOMID;
    int rc, r;

    libxl_domain_config_init(&copy);
    libxl_domain_restore_params_init(&params);
    libxl_domain_config_copy(lp->ctx, &copy, cfg);
    /* lx_save's libxl_domain_suspend writes a libxl (v2) stream. The
     * default, 1 (xl's pre-4.6 format), makes libxl run its python
     * legacy converter on it, which fails (in Debian's dom0 it cannot
     * even import its module) and the restore with it. */
    params.stream_version = 2;
    nxl__xl_logger_clear(&lp->lg);
    r = libxl_domain_create_restore(lp->ctx, &copy, &domid, fd, -1, &params,
                                    NULL, NULL);
    if (r) {
        int left = leftover_domid(lp, domid);

        rc = lx_fail(lp, err, r, left, "libxl_domain_create_restore(%s)",
                     cfg->c_info.name ? cfg->c_info.name : "");
        goto out;
    }
    *domid_r = domid;
    rc = 0;
out:
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&copy);
    return rc;
}

static int lx_retrieve_config(nxl_port *port, uint32_t domid, char **json_r,
                              nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_domain_config cfg;
    char *json = NULL;
    int rc, r;

    libxl_domain_config_init(&cfg);
    nxl__xl_logger_clear(&lp->lg);
    r = libxl_retrieve_domain_configuration(lp->ctx, domid, &cfg, NULL);
    if (r) {
        rc = lx_fail(lp, err, r, (int)domid,
                     "libxl_retrieve_domain_configuration(%u)", domid);
        goto out;
    }
    json = libxl_domain_config_to_json(lp->ctx, &cfg);
    if (!json) {
        rc = lx_fail(lp, err, ERROR_NOMEM, (int)domid,
                     "libxl_domain_config_to_json(%u)", domid);
        goto out;
    }
    *json_r = NXL_STEAL(json);
    rc = 0;
out:
    libxl_domain_config_dispose(&cfg);
    return rc;
}

static int lx_userdata_store(nxl_port *port, uint32_t domid, const char *userid,
                             const uint8_t *data, size_t len, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    if (len > INT_MAX)
        return nxl_error_set_libxl(err, NXL_E_INVAL, 0, (int)domid,
                                   "userdata of %zu bytes is too large", len);
    nxl__xl_logger_clear(&lp->lg);
    r = libxl_userdata_store(lp->ctx, domid, userid, data, (int)len);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_userdata_store(%u, %s)",
                       domid, userid);
    return 0;
}

static int lx_userdata_retrieve(nxl_port *port, uint32_t domid,
                                const char *userid, uint8_t **data_r,
                                size_t *len_r, nxl_error *err)
{
    lx_port *lp = lx(port);
    uint8_t *data = NULL;
    int len = 0, r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_userdata_retrieve(lp->ctx, domid, userid, &data, &len);
    if (r)
        return lx_fail(lp, err, r, (int)domid,
                       "libxl_userdata_retrieve(%u, %s)", domid, userid);
    /* libxl allocates with malloc: the caller's free() matches. */
    *data_r = data;
    *len_r = data ? (size_t)len : 0;
    return 0;
}

static int lx_userdata_remove(nxl_port *port, uint32_t domid,
                              const char *userid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int r;

    nxl__xl_logger_clear(&lp->lg);
    r = libxl_userdata_unlink(lp->ctx, domid, userid);
    if (r)
        return lx_fail(lp, err, r, (int)domid, "libxl_userdata_unlink(%u, %s)",
                       domid, userid);
    return 0;
}

static int lx_host_info(nxl_port *port, nxl_port_hostinfo *r, nxl_error *err)
{
    lx_port *lp = lx(port);
    const libxl_version_info *ver;
    libxl_physinfo pi;
    uint64_t page_kb;
    int rc, xr;

    libxl_physinfo_init(&pi);
    nxl__xl_logger_clear(&lp->lg);
    xr = libxl_get_physinfo(lp->ctx, &pi);
    if (xr) {
        rc = lx_fail(lp, err, xr, -1, "libxl_get_physinfo");
        goto out;
    }
    /* Cached in the ctx after the first call; not ours to free. */
    ver = libxl_get_version_info(lp->ctx);
    if (!ver) {
        rc = lx_fail(lp, err, ERROR_FAIL, -1, "libxl_get_version_info");
        goto out;
    }
    page_kb = ver->pagesize > 0 ? (uint64_t)ver->pagesize / 1024 : 4;
    memset(r, 0, sizeof(*r));
    r->nr_cpus = pi.nr_cpus;
    r->threads_per_core = pi.threads_per_core;
    r->cores_per_socket = pi.cores_per_socket;
    r->nr_nodes = pi.nr_nodes;
    r->cpu_khz = pi.cpu_khz;
    r->total_kb = pi.total_pages * page_kb;
    r->free_kb = pi.free_pages * page_kb;
    r->cap_pv = pi.cap_pv;
    r->cap_hvm = pi.cap_hvm;
    r->xen_major = ver->xen_version_major;
    r->xen_minor = ver->xen_version_minor;
    snprintf(r->xen_extra, sizeof(r->xen_extra), "%s",
             ver->xen_version_extra ? ver->xen_version_extra : "");
    snprintf(r->capabilities, sizeof(r->capabilities), "%s",
             ver->capabilities ? ver->capabilities : "");
    rc = 0;
out:
    libxl_physinfo_dispose(&pi);
    return rc;
}

/* ---- events -------------------------------------------------------------- */

static lx_watch *find_watch(lx_port *lp, uint32_t domid)
{
    for (size_t i = 0; i < lp->n_watches; i++)
        if (lp->watches[i].domid == domid)
            return &lp->watches[i];
    return NULL;
}

/* Under watch_lock. */
static void drop_watch(lx_port *lp, lx_watch *w)
{
    size_t i = (size_t)(w - lp->watches);

    libxl_evdisable_domain_death(lp->ctx, w->evgen);
    memmove(&lp->watches[i], &lp->watches[i + 1],
            (lp->n_watches - i - 1) * sizeof(*lp->watches));
    lp->n_watches--;
}

static int lx_watch_domain(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_evgen_domain_death *evgen = NULL;
    lx_watch *v;
    int rc, r;

    pthread_mutex_lock(&lp->watch_lock);
    if (find_watch(lp, domid)) {
        rc = 0;
        goto out;
    }
    v = realloc(lp->watches, (lp->n_watches + 1) * sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory arming a watch");
        goto out;
    }
    lp->watches = v;
    nxl__xl_logger_clear(&lp->lg);
    r = libxl_evenable_domain_death(lp->ctx, domid, domid, &evgen);
    if (r) {
        rc = lx_fail(lp, err, r, (int)domid, "libxl_evenable_domain_death(%u)",
                     domid);
        goto out;
    }
    lp->watches[lp->n_watches].domid = domid;
    lp->watches[lp->n_watches].evgen = evgen;
    lp->n_watches++;
    rc = 0;
out:
    pthread_mutex_unlock(&lp->watch_lock);
    return rc;
}

static int lx_unwatch_domain(nxl_port *port, uint32_t domid, nxl_error *err)
{
    lx_port *lp = lx(port);
    lx_watch *w;

    pthread_mutex_lock(&lp->watch_lock);
    w = find_watch(lp, domid);
    if (w)
        drop_watch(lp, w);
    pthread_mutex_unlock(&lp->watch_lock);
    return 0;
}

/* One round of the loop libxl_event.h documents: beforepoll, poll,
 * afterpoll. Under wait_lock. */
static int poll_once(lx_port *lp, int timeout_ms, nxl_error *err)
{
    struct timeval now;
    int nfds, tmo, r;

    for (;;) {
        nfds = lp->fds_cap;
        tmo = timeout_ms;
        gettimeofday(&now, NULL);
        r = libxl_osevent_beforepoll(lp->ctx, &nfds, lp->fds, &tmo, now);
        if (r != ERROR_BUFFERFULL)
            break;
        {
            struct pollfd *fds = realloc(lp->fds, (size_t)nfds * sizeof(*fds));

            if (!fds)
                return nxl_error_set(err, NXL_E_NOMEM,
                                     "out of memory polling for events");
            lp->fds = fds;
            lp->fds_cap = nfds;
        }
    }
    if (r)
        return lx_fail(lp, err, r, -1, "libxl_osevent_beforepoll");
    r = poll(lp->fds, (nfds_t)nfds, tmo);
    if (r < 0 && errno != EINTR)
        return nxl_error_set_errno(err, NXL_E_IO, errno,
                                   "poll for domain events");
    gettimeofday(&now, NULL);
    libxl_osevent_afterpoll(lp->ctx, nfds, lp->fds, now);
    return 0;
}

static int lx_wait_event(nxl_port *port, int timeout_ms, nxl_port_event *ev_r,
                         nxl_error *err)
{
    const uint64_t mask = (1ULL << LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) |
                          (1ULL << LIBXL_EVENT_TYPE_DOMAIN_DEATH);
    lx_port *lp = lx(port);
    libxl_event *ev = NULL;
    int64_t deadline = nxl__mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc, r;

    pthread_mutex_lock(&lp->wait_lock);
    for (bool polled = false;; polled = true) {
        int64_t left;

        r = libxl_event_check(lp->ctx, &ev, mask, NULL, NULL);
        if (r == 0)
            break;
        if (r != ERROR_NOT_READY) {
            rc = lx_fail(lp, err, r, -1, "libxl_event_check");
            goto out;
        }
        left = timeout_ms < 0 ? -1 : deadline - nxl__mono_ms();
        /* libxl notices xenstore watches only in afterpoll: even a zero
         * timeout gets one non-blocking round before giving up. */
        if (polled && timeout_ms >= 0 && left <= 0) {
            rc = nxl_error_set(err, NXL_E_TIMEOUT,
                               "no domain event within %d ms", timeout_ms);
            goto out;
        }
        if (timeout_ms >= 0 && left < 0)
            left = 0; /* not -1, which poll takes as "forever" */
        rc = poll_once(lp, left > INT_MAX ? INT_MAX : (int)left, err);
        if (rc)
            goto out;
    }
    ev_r->domid = ev->domid;
    if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
        /* The evgen stays: libxl reports the same domain's DEATH on it. */
        ev_r->kind = NXL_PORT_EV_SHUTDOWN;
        ev_r->shutdown_reason = ev->u.domain_shutdown.shutdown_reason;
    } else {
        lx_watch *w;

        ev_r->kind = NXL_PORT_EV_DEATH;
        ev_r->shutdown_reason = LIBXL_SHUTDOWN_REASON_UNKNOWN;
        /* A dead domain's evgen reports nothing more: release it. */
        pthread_mutex_lock(&lp->watch_lock);
        w = find_watch(lp, ev->domid);
        if (w)
            drop_watch(lp, w);
        pthread_mutex_unlock(&lp->watch_lock);
    }
    rc = 0;
out:
    pthread_mutex_unlock(&lp->wait_lock);
    if (ev)
        libxl_event_free(lp->ctx, ev);
    return rc;
}

static int lx_vcpu_list(nxl_port *port, uint32_t domid, nxl_port_vcpu **list_r,
                        size_t *n_r, nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_vcpuinfo *vi = NULL;
    nxl_port_vcpu *v = NULL;
    int nb = 0, nr_cpus = 0, rc, xr;

    nxl__xl_logger_clear(&lp->lg);
    vi = libxl_list_vcpu(lp->ctx, domid, &nb, &nr_cpus);
    if (!vi) {
        /* libxl_list_vcpu has no rc: ask libxl_domain_info whether the
         * domain is gone, so that the caller can tell NOT_FOUND apart. */
        xr = libxl_domain_info(lp->ctx, NULL, domid);
        rc = lx_fail(lp, err, xr ? xr : ERROR_FAIL, (int)domid,
                     "libxl_list_vcpu(%u)", domid);
        goto out;
    }
    v = calloc(nb > 0 ? (size_t)nb : 1, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory listing vcpus");
        goto out;
    }
    for (int i = 0; i < nb; i++) {
        v[i].id = vi[i].vcpuid;
        v[i].online = vi[i].online;
        v[i].time_ns = vi[i].vcpu_time;
    }
    *n_r = (size_t)nb;
    *list_r = NXL_STEAL(v);
    rc = 0;
out:
    free(v);
    if (vi)
        libxl_vcpuinfo_list_free(vi, nb);
    return rc;
}

static int lx_start_time(nxl_port *port, uint32_t domid, uint64_t *secs_r,
                         nxl_error *err)
{
    lx_port *lp = lx(port);
    uint32_t t;
    int xr;

    nxl__xl_logger_clear(&lp->lg);
    t = libxl_vm_get_start_time(lp->ctx, domid);
    /* (uint32_t)-1 is libxl's "cannot read it": the domain is gone or
     * its /vm node is. */
    if (t == (uint32_t)-1) {
        xr = libxl_domain_info(lp->ctx, NULL, domid);
        return lx_fail(lp, err, xr ? xr : ERROR_DOMAIN_NOTFOUND, (int)domid,
                       "libxl_vm_get_start_time(%u)", domid);
    }
    *secs_r = t;
    return 0;
}

static int lx_need_memory(nxl_port *port, const libxl_domain_config *cfg,
                          uint64_t *need_kb_r, nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_domain_config copy;
    uint64_t need = 0;
    int rc, xr;

    nxl__xl_logger_clear(&lp->lg);
    libxl_domain_config_init(&copy);
    libxl_domain_config_copy(lp->ctx, &copy, cfg);
    xr = libxl_domain_need_memory(lp->ctx, &copy, INVALID_DOMID, &need);
    if (xr) {
        rc = lx_fail(lp, err, xr, -1, "libxl_domain_need_memory");
        goto out;
    }
    *need_kb_r = need;
    rc = 0;
out:
    libxl_domain_config_dispose(&copy);
    return rc;
}

/* ---- physical CPUs, NUMA, cpupools --------------------------------------- */

static int lx_pcpu_list(nxl_port *port, nxl_port_pcpu **list_r, size_t *n_r,
                        nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_cputopology *topo = NULL;
    xc_cpuinfo_t *info = NULL;
    xc_interface *xch = NULL;
    nxl_port_pcpu *v = NULL;
    int nb = 0, nr_idle = 0, rc;

    nxl__xl_logger_clear(&lp->lg);
    topo = libxl_get_cpu_topology(lp->ctx, &nb);
    if (!topo || nb <= 0) {
        rc = lx_fail(lp, err, ERROR_FAIL, -1, "libxl_get_cpu_topology");
        goto out;
    }
    /* libxl has no call for per-CPU idle time; libxc's sysctl has. A
     * handle per call: host stats are polled, not hot. */
    xch = xc_interface_open(nxl__xl_logger_xtl(&lp->lg), NULL, 0);
    if (!xch) {
        rc = lx_fail(lp, err, ERROR_FAIL, -1, "xc_interface_open");
        goto out;
    }
    info = calloc((size_t)nb, sizeof(*info));
    v = calloc((size_t)nb, sizeof(*v));
    if (!info || !v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory listing CPUs");
        goto out;
    }
    if (xc_getcpuinfo(xch, nb, info, &nr_idle) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_HYPERVISOR, errno, "xc_getcpuinfo");
        goto out;
    }
    for (int i = 0; i < nb; i++) {
        v[i].cpu = (uint32_t)i;
        if (topo[i].core == LIBXL_CPUTOPOLOGY_INVALID_ENTRY)
            continue; /* offline */
        v[i].online = true;
        v[i].core = topo[i].core;
        v[i].socket = topo[i].socket;
        v[i].node =
            topo[i].node == LIBXL_CPUTOPOLOGY_INVALID_ENTRY ? 0 : topo[i].node;
        v[i].idle_ns = i < nr_idle ? info[i].idletime : 0;
    }
    *n_r = (size_t)nb;
    *list_r = NXL_STEAL(v);
    rc = 0;
out:
    free(v);
    free(info);
    if (xch)
        xc_interface_close(xch);
    if (topo)
        libxl_cputopology_list_free(topo, nb);
    return rc;
}

static int lx_numa_list(nxl_port *port, nxl_port_numa_node **list_r,
                        size_t *n_r, nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_numainfo *ni = NULL;
    nxl_port_numa_node *v = NULL;
    int nb = 0, rc;

    nxl__xl_logger_clear(&lp->lg);
    ni = libxl_get_numainfo(lp->ctx, &nb);
    if (!ni || nb <= 0) {
        rc = lx_fail(lp, err, ERROR_FAIL, -1, "libxl_get_numainfo");
        goto out;
    }
    v = calloc((size_t)nb, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory listing nodes");
        goto out;
    }
    for (int i = 0; i < nb; i++) {
        v[i].node = (uint32_t)i;
        if (ni[i].size == LIBXL_NUMAINFO_INVALID_ENTRY)
            continue;
        v[i].online = true;
        /* libxl reports bytes. */
        v[i].total_kb = ni[i].size / 1024;
        v[i].free_kb = ni[i].free / 1024;
    }
    *n_r = (size_t)nb;
    *list_r = NXL_STEAL(v);
    rc = 0;
out:
    free(v);
    if (ni)
        libxl_numainfo_list_free(ni, nb);
    return rc;
}

static int lx_cpupool_list(nxl_port *port, nxl_port_cpupool **list_r,
                           size_t *n_r, nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_cpupoolinfo *pools = NULL;
    nxl_port_cpupool *v = NULL;
    int nb = 0, rc;

    nxl__xl_logger_clear(&lp->lg);
    pools = libxl_list_cpupool(lp->ctx, &nb);
    if (!pools) {
        rc = lx_fail(lp, err, ERROR_FAIL, -1, "libxl_list_cpupool");
        goto out;
    }
    v = calloc(nb > 0 ? (size_t)nb : 1, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory listing pools");
        goto out;
    }
    for (int i = 0; i < nb; i++) {
        int cpu;

        v[i].poolid = pools[i].poolid;
        snprintf(v[i].name, sizeof(v[i].name), "%s",
                 pools[i].pool_name ? pools[i].pool_name : "");
        v[i].n_domains = pools[i].n_dom;
        libxl_for_each_set_bit(cpu, pools[i].cpumap)
            nxl__port_cpumap_set(v[i].cpumap, (uint32_t)cpu);
    }
    *n_r = (size_t)nb;
    *list_r = NXL_STEAL(v);
    rc = 0;
out:
    free(v);
    if (pools)
        libxl_cpupoolinfo_list_free(pools, nb);
    return rc;
}

static int lx_cpupool_create(nxl_port *port, const char *name,
                             const uint8_t *cpumap, uint32_t *poolid_r,
                             nxl_error *err)
{
    lx_port *lp = lx(port);
    libxl_bitmap map;
    libxl_uuid uuid;
    uint32_t poolid = LIBXL_CPUPOOL_POOLID_ANY, existing;
    int rc, xr;

    nxl__xl_logger_clear(&lp->lg);
    if (libxl_name_to_cpupoolid(lp->ctx, name, &existing) == 0)
        return nxl_error_set(err, NXL_E_EXISTS,
                             "cpupool '%s' already exists (id %u)", name,
                             existing);
    libxl_bitmap_init(&map);
    if ((xr = libxl_cpu_bitmap_alloc(lp->ctx, &map, 0))) {
        rc = lx_fail(lp, err, xr, -1, "libxl_cpu_bitmap_alloc");
        goto out;
    }
    for (uint32_t cpu = 0; cpu < NXL_PORT_MAX_CPUS; cpu++)
        if (nxl__port_cpumap_test(cpumap, cpu)) {
            if (cpu >= map.size * 8) {
                rc = nxl_error_set(err, NXL_E_INVAL,
                                   "cpupool '%s': CPU %u is beyond the "
                                   "host's CPUs",
                                   name, cpu);
                goto out;
            }
            libxl_bitmap_set(&map, (int)cpu);
        }
    libxl_uuid_generate(&uuid);
    xr = libxl_cpupool_create(lp->ctx, name, libxl_get_scheduler(lp->ctx), map,
                              &uuid, &poolid);
    if (xr) {
        rc = lx_fail(lp, err, xr, -1, "libxl_cpupool_create(%s)", name);
        goto out;
    }
    *poolid_r = poolid;
    rc = 0;
out:
    libxl_bitmap_dispose(&map);
    return rc;
}

static int lx_cpupool_destroy(nxl_port *port, uint32_t poolid, nxl_error *err)
{
    lx_port *lp = lx(port);
    int xr;

    nxl__xl_logger_clear(&lp->lg);
    xr = libxl_cpupool_destroy(lp->ctx, poolid);
    if (xr)
        return lx_fail(lp, err, xr, -1, "libxl_cpupool_destroy(%u)", poolid);
    return 0;
}

static int lx_cpupool_cpu_add(nxl_port *port, uint32_t poolid, uint32_t cpu,
                              nxl_error *err)
{
    lx_port *lp = lx(port);
    int xr;

    nxl__xl_logger_clear(&lp->lg);
    xr = libxl_cpupool_cpuadd(lp->ctx, poolid, (int)cpu);
    if (xr)
        return lx_fail(lp, err, xr, -1, "libxl_cpupool_cpuadd(%u, %u)", poolid,
                       cpu);
    return 0;
}

static int lx_cpupool_cpu_remove(nxl_port *port, uint32_t poolid, uint32_t cpu,
                                 nxl_error *err)
{
    lx_port *lp = lx(port);
    int xr;

    nxl__xl_logger_clear(&lp->lg);
    xr = libxl_cpupool_cpuremove(lp->ctx, poolid, (int)cpu);
    if (xr)
        return lx_fail(lp, err, xr, -1, "libxl_cpupool_cpuremove(%u, %u)",
                       poolid, cpu);
    return 0;
}

static const nxl_port_ops lx_ops = {
    .name = "libxl",
    .free = lx_free,
    .create = lx_create,
    .destroy = lx_destroy,
    .pause = lx_pause,
    .unpause = lx_unpause,
    .shutdown = lx_shutdown,
    .reboot = lx_reboot,
    .send_nmi = lx_send_nmi,
    .domain_info = lx_domain_info,
    .list = lx_list,
    .name_to_domid = lx_name_to_domid,
    .save = lx_save,
    .restore = lx_restore,
    .retrieve_config = lx_retrieve_config,
    .userdata_store = lx_userdata_store,
    .userdata_retrieve = lx_userdata_retrieve,
    .userdata_remove = lx_userdata_remove,
    .host_info = lx_host_info,
    .watch_domain = lx_watch_domain,
    .unwatch_domain = lx_unwatch_domain,
    .wait_event = lx_wait_event,
    .vcpu_list = lx_vcpu_list,
    .start_time = lx_start_time,
    .need_memory = lx_need_memory,
    .pcpu_list = lx_pcpu_list,
    .numa_list = lx_numa_list,
    .cpupool_list = lx_cpupool_list,
    .cpupool_create = lx_cpupool_create,
    .cpupool_destroy = lx_cpupool_destroy,
    .cpupool_cpu_add = lx_cpupool_cpu_add,
    .cpupool_cpu_remove = lx_cpupool_cpu_remove,
};

int nxl__port_libxl_new(nxl_port **port_r, nxl_error *err)
{
    char why[NXL_XL_LOG_MSG_MAX];
    lx_port *lp;
    int rc, r;

    lp = calloc(1, sizeof(*lp));
    if (!lp)
        return nxl_error_set(err, NXL_E_NOMEM,
                             "out of memory opening a libxl context");
    lp->port.ops = &lx_ops;
    nxl__xl_logger_init(&lp->lg);
    pthread_mutex_init(&lp->watch_lock, NULL);
    pthread_mutex_init(&lp->wait_lock, NULL);
    nxl_xs_open_lock(); /* libxl opens xenstore with xs_open() */
    r = libxl_ctx_alloc(&lp->ctx, LIBXL_VERSION, 0,
                        nxl__xl_logger_xtl(&lp->lg));
    nxl_xs_open_unlock();
    if (r) {
        /* Off dom0 this is where it ends: no /dev/xen/privcmd for libxc
         * (or no permission). libxl's logger has the reason. */
        if (!nxl__xl_logger_last_error(&lp->lg, why, sizeof(why)))
            snprintf(why, sizeof(why), "%s", nxl__xl_rc_name(r));
        rc = nxl_error_set_libxl(err, NXL_E_HYPERVISOR, r, -1,
                                 "cannot open libxl context: is this a Xen "
                                 "dom0? (%s)",
                                 why);
        lp->ctx = NULL;
        goto out;
    }
    *port_r = &NXL_STEAL(lp)->port;
    rc = 0;
out:
    if (lp)
        lx_free(&lp->port);
    return rc;
}

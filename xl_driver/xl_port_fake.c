/* The fake hypervisor port: domains in memory, failures on cue.
 *
 * It models only what libxl shows the driver (see xl_port.h): states,
 * shutdown reasons, events, domids, memory, and libxl's raw error codes,
 * which go through the same xl_rc map as the real port's. It keeps one
 * mutex over all its state, and a condition variable for wait_event. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxl_utils.h>

#include "common/internal.h"
#include "xl_driver/xl_port.h"
#include "xl_driver/xl_rc.h"

/* Xen's domids stop below DOMID_FIRST_RESERVED (0x7ff0). */
#define FAKE_DOMID_MAX 0x7fef
#define FAKE_DOM0_KB (1024 * 1024)
#define FAKE_DEFAULT_TOTAL_KB (8ULL * 1024 * 1024)
#define FAKE_DEFAULT_CPUS 4
/* libxl's defaults for an unset memory size and vcpu count. */
#define FAKE_DEFAULT_MEMKB (32 * 1024)

/* The save blob: magic, version, then little-endian fields, the config
 * JSON, and an FNV-1a checksum over everything before it. */
static const char save_magic[16] = "NOVAXL-FAKESAVE\n";
#define SAVE_VERSION 1
#define SAVE_HEADER_LEN (16 + 4 + 4 + 8 + 8 + 4)

enum fake_op {
    OP_CREATE,
    OP_DESTROY,
    OP_PAUSE,
    OP_UNPAUSE,
    OP_SHUTDOWN,
    OP_REBOOT,
    OP_SEND_NMI,
    OP_DOMAIN_INFO,
    OP_LIST,
    OP_NAME_TO_DOMID,
    OP_SAVE,
    OP_RESTORE,
    OP_RETRIEVE_CONFIG,
    OP_USERDATA_STORE,
    OP_USERDATA_RETRIEVE,
    OP_USERDATA_REMOVE,
    OP_HOST_INFO,
    OP_WATCH_DOMAIN,
    OP_UNWATCH_DOMAIN,
    OP_WAIT_EVENT,
    OP_VCPU_LIST,
    OP_START_TIME,
    OP_NEED_MEMORY,
    OP_PCPU_LIST,
    OP_NUMA_LIST,
    OP_CPUPOOL_LIST,
    OP_CPUPOOL_CREATE,
    OP_CPUPOOL_DESTROY,
    OP_CPUPOOL_CPU_ADD,
    OP_CPUPOOL_CPU_REMOVE,
    OP__MAX
};

/* Named after the ops-table members, as the call log and fail() use. */
static const char *const op_names[OP__MAX] = {
    [OP_CREATE] = "create",
    [OP_DESTROY] = "destroy",
    [OP_PAUSE] = "pause",
    [OP_UNPAUSE] = "unpause",
    [OP_SHUTDOWN] = "shutdown",
    [OP_REBOOT] = "reboot",
    [OP_SEND_NMI] = "send_nmi",
    [OP_DOMAIN_INFO] = "domain_info",
    [OP_LIST] = "list",
    [OP_NAME_TO_DOMID] = "name_to_domid",
    [OP_SAVE] = "save",
    [OP_RESTORE] = "restore",
    [OP_RETRIEVE_CONFIG] = "retrieve_config",
    [OP_USERDATA_STORE] = "userdata_store",
    [OP_USERDATA_RETRIEVE] = "userdata_retrieve",
    [OP_USERDATA_REMOVE] = "userdata_remove",
    [OP_HOST_INFO] = "host_info",
    [OP_WATCH_DOMAIN] = "watch_domain",
    [OP_UNWATCH_DOMAIN] = "unwatch_domain",
    [OP_WAIT_EVENT] = "wait_event",
    [OP_VCPU_LIST] = "vcpu_list",
    [OP_START_TIME] = "start_time",
    [OP_NEED_MEMORY] = "need_memory",
    [OP_PCPU_LIST] = "pcpu_list",
    [OP_NUMA_LIST] = "numa_list",
    [OP_CPUPOOL_LIST] = "cpupool_list",
    [OP_CPUPOOL_CREATE] = "cpupool_create",
    [OP_CPUPOOL_DESTROY] = "cpupool_destroy",
    [OP_CPUPOOL_CPU_ADD] = "cpupool_cpu_add",
    [OP_CPUPOOL_CPU_REMOVE] = "cpupool_cpu_remove",
};

typedef struct fake_fault {
    unsigned countdown; /* calls left until the failing one; 0: off */
    bool always;
    bool after; /* fail after doing the work */
    int code;
} fake_fault;

typedef struct fake_userdata {
    struct fake_userdata *next;
    char *userid;
    uint8_t *data;
    size_t len;
} fake_userdata;

typedef struct fake_dom {
    uint32_t domid;
    char *name;
    char uuid[NXL_UUID_STRLEN + 1];
    bool paused;
    bool shutdown;
    int shutdown_reason;
    /* A shutdown/reboot request a paused guest has not seen yet: it acts
     * on it once unpaused, as a real PV guest does. -1 when none. */
    int pending_request;
    bool hung;
    /* A dom0 process holds one of its pages ("hold"): a destroy leaves it
     * dying, listed, until "release", as Xen keeps a zombie. */
    bool held;
    bool dying;
    bool armed;
    bool shutdown_reported;
    uint64_t max_kb;
    uint64_t cur_kb;
    uint32_t vcpus;
    uint64_t cpu_ns;    /* accumulated while running */
    uint64_t run_since; /* CLOCK_MONOTONIC ns, when running */
    char *config_json;  /* libxl_domain_config_to_json of its config */
    uint64_t start_s;   /* CLOCK_REALTIME s at creation (/vm/.../start_time) */
    fake_userdata *userdata;
    uint32_t cpupool;
} fake_dom;

typedef struct fake_pool {
    uint32_t poolid;
    char name[NXL_PORT_POOL_NAME_MAX + 1];
    uint8_t cpumap[NXL_PORT_MAX_CPUS / 8];
} fake_pool;

typedef struct fake_port {
    nxl_port port; /* first: the ops header */
    pthread_mutex_t lock;
    pthread_cond_t event_cond;
    fake_dom **doms;
    size_t n_doms;
    uint32_t next_domid;
    uint64_t total_kb;
    uint32_t nr_cpus;
    uint32_t nr_nodes;
    uint64_t pcpu_idle[NXL_PORT_MAX_CPUS];
    fake_pool *pools; /* Pool-0 first */
    size_t n_pools;
    uint32_t next_poolid;
    fake_fault faults[OP__MAX];
    nxl_buf calls;
    nxl_port_event *events;
    size_t n_events;
} fake_port;

static const nxl_port_ops fake_ops;

static fake_port *fake_of(nxl_port *port)
{
    nxl_port *inner = nxl__port_trace_inner(port);

    assert(inner && inner->ops == &fake_ops);
    return (fake_port *)inner;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A failure with libxl's raw rc, mapped and worded exactly as the real
 * port does (xl_rc), with no logger: the fake has no libxl messages. */
#define fail_libxl(err, libxl_rc, domid, ...)                                  \
    nxl__xl_error_set((err), (libxl_rc), (domid), NULL, "fake: " __VA_ARGS__)

/* ---- bookkeeping under the lock ----------------------------------------- */

static void log_call(fake_port *fp, enum fake_op op)
{
    /* An out-of-memory here loses a log entry; tests would then fail on
     * the log, which is the right place to notice. */
    if (fp->calls.len)
        nxl_buf_append(&fp->calls, " ", 1);
    nxl_buf_append(&fp->calls, op_names[op], strlen(op_names[op]));
}

/* Logs the call and says whether this call is the one to fail: 0 when
 * not, else the code, with *after telling when. */
static int enter(fake_port *fp, enum fake_op op, bool *after)
{
    fake_fault *f = &fp->faults[op];

    log_call(fp, op);
    *after = false;
    if (f->always) {
        *after = f->after;
        return f->code;
    }
    if (f->countdown && --f->countdown == 0) {
        *after = f->after;
        return f->code;
    }
    return 0;
}

static int injected(nxl_error *err, enum fake_op op, int code, int domid)
{
    return nxl_error_set_libxl(err, code, 0, domid,
                               "fake: injected failure of %s (%s)",
                               op_names[op], nxl_error_code_name(code));
}

static fake_dom *find_dom(fake_port *fp, uint32_t domid)
{
    for (size_t i = 0; i < fp->n_doms; i++)
        if (fp->doms[i]->domid == domid)
            return fp->doms[i];
    return NULL;
}

static fake_dom *find_dom_by_name(fake_port *fp, const char *name)
{
    /* libxl removed a dying domain's name from xenstore at its destroy:
     * the name is free again. */
    for (size_t i = 0; i < fp->n_doms; i++)
        if (fp->doms[i]->name && !fp->doms[i]->dying &&
            strcmp(fp->doms[i]->name, name) == 0)
            return fp->doms[i];
    return NULL;
}

static bool dom_running(const fake_dom *d)
{
    return !d->paused && !d->shutdown;
}

static uint64_t dom_cpu_ns(const fake_dom *d)
{
    return d->cpu_ns + (dom_running(d) ? now_ns() - d->run_since : 0);
}

/* Call before any change of paused/shutdown, so cpu time stays right. */
static void dom_stop_clock(fake_dom *d)
{
    if (dom_running(d))
        d->cpu_ns += now_ns() - d->run_since;
}

static void dom_start_clock(fake_dom *d)
{
    if (dom_running(d))
        d->run_since = now_ns();
}

static void queue_event(fake_port *fp, uint32_t domid, int kind, int reason)
{
    nxl_port_event *ev;

    ev = realloc(fp->events, (fp->n_events + 1) * sizeof(*ev));
    if (!ev)
        abort(); /* a test double that loses events would lie */
    fp->events = ev;
    ev[fp->n_events].domid = domid;
    ev[fp->n_events].kind = kind;
    ev[fp->n_events].shutdown_reason = reason;
    fp->n_events++;
    pthread_cond_broadcast(&fp->event_cond);
}

static void dom_set_shutdown(fake_port *fp, fake_dom *d, int reason)
{
    if (d->shutdown)
        return;
    dom_stop_clock(d);
    d->shutdown = true;
    d->shutdown_reason = reason;
    d->pending_request = -1;
    if (d->armed && !d->shutdown_reported) {
        d->shutdown_reported = true;
        queue_event(fp, d->domid, NXL_PORT_EV_SHUTDOWN, reason);
    }
}

/* A request to the guest: it acts now if it runs, at unpause if paused,
 * never if hung (the caller then has to time out and destroy). */
static void dom_request(fake_port *fp, fake_dom *d, int reason)
{
    if (d->hung || d->shutdown)
        return;
    if (d->paused) {
        d->pending_request = reason;
        return;
    }
    dom_set_shutdown(fp, d, reason);
}

static void dom_free(fake_dom *d)
{
    fake_userdata *u, *next;

    if (!d)
        return;
    for (u = d->userdata; u; u = next) {
        next = u->next;
        free(u->userid);
        free(u->data);
        free(u);
    }
    free(d->name);
    free(d->config_json);
    free(d);
}

static void dom_remove(fake_port *fp, fake_dom *d)
{
    for (size_t i = 0; i < fp->n_doms; i++) {
        if (fp->doms[i] != d)
            continue;
        memmove(&fp->doms[i], &fp->doms[i + 1],
                (fp->n_doms - i - 1) * sizeof(*fp->doms));
        fp->n_doms--;
        break;
    }
    if (d->armed)
        queue_event(fp, d->domid, NXL_PORT_EV_DEATH,
                    LIBXL_SHUTDOWN_REASON_UNKNOWN);
    dom_free(d);
}

static fake_pool *find_pool(fake_port *fp, uint32_t poolid)
{
    for (size_t i = 0; i < fp->n_pools; i++)
        if (fp->pools[i].poolid == poolid)
            return &fp->pools[i];
    return NULL;
}

/* The pool holding cpu; NULL when it is free. */
static fake_pool *pool_of_cpu(fake_port *fp, uint32_t cpu)
{
    for (size_t i = 0; i < fp->n_pools; i++)
        if (nxl__port_cpumap_test(fp->pools[i].cpumap, cpu))
            return &fp->pools[i];
    return NULL;
}

static uint32_t pool_domains(const fake_port *fp, uint32_t poolid)
{
    uint32_t n = poolid == 0; /* Domain-0 */

    for (size_t i = 0; i < fp->n_doms; i++)
        n += fp->doms[i]->cpupool == poolid;
    return n;
}

static bool map_empty(const uint8_t *map)
{
    for (size_t i = 0; i < NXL_PORT_MAX_CPUS / 8; i++)
        if (map[i])
            return false;
    return true;
}

/* One Pool-0 of every CPU, as Xen boots. */
static void pools_reset(fake_port *fp)
{
    fake_pool *p = realloc(fp->pools, sizeof(*p));

    if (!p)
        abort(); /* a fake without Pool-0 would lie */
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "Pool-0");
    for (uint32_t cpu = 0; cpu < fp->nr_cpus; cpu++)
        nxl__port_cpumap_set(p->cpumap, cpu);
    fp->pools = p;
    fp->n_pools = 1;
    fp->next_poolid = 1;
}

static uint64_t free_kb(const fake_port *fp)
{
    uint64_t kb = FAKE_DOM0_KB;

    for (size_t i = 0; i < fp->n_doms; i++)
        kb += fp->doms[i]->max_kb;
    return kb < fp->total_kb ? fp->total_kb - kb : 0;
}

static int alloc_domid(fake_port *fp, uint32_t *domid_r)
{
    for (uint32_t tries = 0; tries < FAKE_DOMID_MAX; tries++) {
        uint32_t domid = fp->next_domid;

        fp->next_domid = domid >= FAKE_DOMID_MAX ? 1 : domid + 1;
        if (!find_dom(fp, domid)) {
            *domid_r = domid;
            return 0;
        }
    }
    return -1;
}

/* Adds a paused domain, as libxl_domain_create_new leaves it. The checks
 * are libxl's own (libxl__domain_config_setdefault, __domain_make, the
 * builder), with libxl's rc, so a config the real port would refuse is
 * refused here too. */
static int dom_add(fake_port *fp, const libxl_domain_config *cfg,
                   fake_dom **d_r, nxl_error *err)
{
    const libxl_domain_create_info *ci = &cfg->c_info;
    const libxl_domain_build_info *bi = &cfg->b_info;
    fake_dom *d = NULL;
    libxl_uuid uuid;
    int rc;

    if (ci->type == LIBXL_DOMAIN_TYPE_INVALID) {
        rc = fail_libxl(err, ERROR_INVAL, -1, "domain type unspecified");
        goto out;
    }
    if (bi->type != ci->type) {
        rc = fail_libxl(err, ERROR_INVAL, -1,
                        "invalid domain type: c_info %s, b_info %s",
                        libxl_domain_type_to_string(ci->type),
                        libxl_domain_type_to_string(bi->type));
        goto out;
    }
    if (ci->name && find_dom_by_name(fp, ci->name)) {
        rc = fail_libxl(err, ERROR_INVAL, -1,
                        "domain with name \"%s\" already exists", ci->name);
        goto out;
    }
    if (!find_pool(fp, ci->poolid)) {
        /* libxl__domain_make's xc_cpupool_movedomain fails. */
        rc = fail_libxl(err, ERROR_FAIL, -1, "cpupool %u does not exist",
                        ci->poolid);
        goto out;
    }
    if (ci->type != LIBXL_DOMAIN_TYPE_HVM && !bi->kernel &&
        !(ci->type == LIBXL_DOMAIN_TYPE_PV && bi->bootloader)) {
        rc = fail_libxl(err, ERROR_FAIL, -1,
                        "cannot build a %s domain without a kernel",
                        libxl_domain_type_to_string(ci->type));
        goto out;
    }

    d = calloc(1, sizeof(*d));
    if (!d) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    d->pending_request = -1;
    d->shutdown_reason = LIBXL_SHUTDOWN_REASON_UNKNOWN;
    d->paused = true;
    d->max_kb = bi->max_memkb == LIBXL_MEMKB_DEFAULT ? FAKE_DEFAULT_MEMKB
                                                     : bi->max_memkb;
    d->cur_kb =
        bi->target_memkb == LIBXL_MEMKB_DEFAULT ? d->max_kb : bi->target_memkb;
    d->vcpus = bi->max_vcpus ? bi->max_vcpus : 1;
    d->start_s = (uint64_t)time(NULL);
    d->cpupool = ci->poolid;
    if (d->max_kb > free_kb(fp)) {
        /* What the domain builder's failed allocation comes back as. */
        rc = fail_libxl(err, ERROR_FAIL, -1,
                        "not enough free memory for %" PRIu64 " KiB "
                        "(%" PRIu64 " KiB free)",
                        d->max_kb, free_kb(fp));
        goto out;
    }
    uuid = ci->uuid;
    if (libxl_uuid_is_nil(&uuid))
        libxl_uuid_generate(&uuid);
    snprintf(d->uuid, sizeof(d->uuid), LIBXL_UUID_FMT, LIBXL_UUID_BYTES(uuid));
    /* libxl's JSON generator needs no ctx (only its error path would). */
    d->config_json =
        libxl_domain_config_to_json(NULL, (libxl_domain_config *)cfg);
    if (!d->config_json) {
        rc = nxl_error_set(err, NXL_E_NOMEM,
                           "fake: cannot serialise the domain config");
        goto out;
    }
    rc = nxl__strdup(&d->name, ci->name, err);
    if (rc)
        goto out;
    if (alloc_domid(fp, &d->domid) < 0) {
        rc = fail_libxl(err, ERROR_FAIL, -1, "no free domid");
        goto out;
    }
    {
        fake_dom **v = realloc(fp->doms, (fp->n_doms + 1) * sizeof(*v));

        if (!v) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
            goto out;
        }
        fp->doms = v;
    }
    fp->doms[fp->n_doms++] = d;
    *d_r = NXL_STEAL(d);
    rc = 0;
out:
    dom_free(d);
    return rc;
}

static int lookup(fake_port *fp, uint32_t domid, fake_dom **d_r, nxl_error *err)
{
    fake_dom *d = find_dom(fp, domid);

    if (domid == 0)
        return fail_libxl(err, ERROR_INVAL, 0,
                          "domain 0 is the toolstack's own domain");
    if (!d)
        return fail_libxl(err, ERROR_DOMAIN_NOTFOUND, (int)domid,
                          "domain %u does not exist", domid);
    *d_r = d;
    return 0;
}

/* Takes the lock and logs the call, for the ops that an injected fault
 * fails before they do anything. The caller unlocks, failure or not. */
static int begin(fake_port *fp, enum fake_op op, int domid, nxl_error *err)
{
    bool after;
    int fault;

    pthread_mutex_lock(&fp->lock);
    fault = enter(fp, op, &after);
    return fault ? injected(err, op, fault, domid) : 0;
}

/* begin(), then the domain the op is about. */
static int begin_dom(fake_port *fp, enum fake_op op, uint32_t domid,
                     fake_dom **d_r, nxl_error *err)
{
    int rc = begin(fp, op, (int)domid, err);

    return rc ? rc : lookup(fp, domid, d_r, err);
}

/* A destroy: the domain goes, unless a dom0 process holds its memory:
 * then it stays, dying, and libxl's death event still fires. */
static void dom_destroy(fake_port *fp, fake_dom *d)
{
    if (!d->held) {
        dom_remove(fp, d);
        return;
    }
    if (d->dying)
        return;
    dom_stop_clock(d);
    d->dying = true;
    d->paused = true;
    if (d->armed) {
        d->armed = false;
        queue_event(fp, d->domid, NXL_PORT_EV_DEATH,
                    LIBXL_SHUTDOWN_REASON_UNKNOWN);
    }
}

/* For the ops that a fault may fail after they have done their work:
 * takes the lock, logs the call and finds the domain. A fault "before"
 * fails here; one "after" is left in *fault_r for the caller to report
 * once the op is done. The caller unlocks, failure or not. */
static int begin_dom_after(fake_port *fp, enum fake_op op, uint32_t domid,
                           int *fault_r, fake_dom **d_r, nxl_error *err)
{
    bool after;

    pthread_mutex_lock(&fp->lock);
    *fault_r = enter(fp, op, &after);
    if (*fault_r && !after)
        return injected(err, op, *fault_r, (int)domid);
    return lookup(fp, domid, d_r, err);
}

/* ---- ops ---------------------------------------------------------------- */

static void fake_free(nxl_port *port)
{
    fake_port *fp = (fake_port *)port;

    for (size_t i = 0; i < fp->n_doms; i++)
        dom_free(fp->doms[i]);
    free(fp->doms);
    free(fp->events);
    free(fp->pools);
    nxl_buf_dispose(&fp->calls);
    pthread_cond_destroy(&fp->event_cond);
    pthread_mutex_destroy(&fp->lock);
    free(fp);
}

static int fake_create(nxl_port *port, const libxl_domain_config *cfg,
                       uint32_t *domid_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d = NULL;
    bool after;
    int rc;

    pthread_mutex_lock(&fp->lock);
    rc = enter(fp, OP_CREATE, &after);
    if (rc && !after) {
        rc = injected(err, OP_CREATE, rc, -1);
        goto out;
    }
    if (rc) {
        /* libxl's ERROR_ABORTED: the domain exists, half made. */
        int code = rc;

        rc = dom_add(fp, cfg, &d, err);
        if (rc)
            goto out;
        rc = injected(err, OP_CREATE, code, (int)d->domid);
        goto out;
    }
    rc = dom_add(fp, cfg, &d, err);
    if (rc)
        goto out;
    *domid_r = d->domid;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* destroy, pause, unpause, shutdown, reboot, send_nmi: one shape. */
static int simple_op(nxl_port *port, enum fake_op op, uint32_t domid,
                     nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    int rc, fault;

    rc = begin_dom_after(fp, op, domid, &fault, &d, err);
    if (rc)
        goto out;
    if (d->dying && op != OP_DESTROY) {
        /* Xen refuses to pause, unpause or signal a dying domain. */
        rc = fail_libxl(err, ERROR_FAIL, (int)domid, "domain %u is dying",
                        domid);
        goto out;
    }
    switch (op) {
    case OP_DESTROY:
        dom_destroy(fp, d);
        break;
    case OP_PAUSE:
        /* Xen counts pauses; libxl callers treat pause as a flag. */
        dom_stop_clock(d);
        d->paused = true;
        break;
    case OP_UNPAUSE:
        d->paused = false;
        dom_start_clock(d);
        if (d->pending_request >= 0)
            dom_set_shutdown(fp, d, d->pending_request);
        break;
    case OP_SHUTDOWN:
        dom_request(fp, d, LIBXL_SHUTDOWN_REASON_POWEROFF);
        break;
    case OP_REBOOT:
        dom_request(fp, d, LIBXL_SHUTDOWN_REASON_REBOOT);
        break;
    case OP_SEND_NMI:
        /* Our guests have no NMI handler worth modelling: the NMI is
         * delivered and a running guest crashes, as Linux does with
         * panic_on_unrecovered_nmi. */
        if (dom_running(d) && !d->hung)
            dom_set_shutdown(fp, d, LIBXL_SHUTDOWN_REASON_CRASH);
        break;
    default:
        abort();
    }
    rc = fault ? injected(err, op, fault, (int)domid) : 0;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_destroy(nxl_port *port, uint32_t domid, nxl_error *err)
{
    return simple_op(port, OP_DESTROY, domid, err);
}

static int fake_pause(nxl_port *port, uint32_t domid, nxl_error *err)
{
    return simple_op(port, OP_PAUSE, domid, err);
}

static int fake_unpause(nxl_port *port, uint32_t domid, nxl_error *err)
{
    return simple_op(port, OP_UNPAUSE, domid, err);
}

static int fake_shutdown(nxl_port *port, uint32_t domid, nxl_error *err)
{
    return simple_op(port, OP_SHUTDOWN, domid, err);
}

static int fake_reboot(nxl_port *port, uint32_t domid, nxl_error *err)
{
    return simple_op(port, OP_REBOOT, domid, err);
}

static int fake_send_nmi(nxl_port *port, uint32_t domid, nxl_error *err)
{
    return simple_op(port, OP_SEND_NMI, domid, err);
}

static void dom0_info(const fake_port *fp, nxl_port_dominfo *r)
{
    memset(r, 0, sizeof(*r));
    r->domid = 0;
    snprintf(r->uuid, sizeof(r->uuid), "00000000-0000-0000-0000-000000000000");
    r->running = true;
    r->shutdown_reason = LIBXL_SHUTDOWN_REASON_UNKNOWN;
    r->mem_kb = FAKE_DOM0_KB;
    r->max_mem_kb = FAKE_DOM0_KB;
    r->vcpus = fp->nr_cpus;
    r->cpupool = 0;
}

static void dom_info(const fake_dom *d, nxl_port_dominfo *r)
{
    memset(r, 0, sizeof(*r));
    r->domid = d->domid;
    memcpy(r->uuid, d->uuid, sizeof(r->uuid));
    r->running = dom_running(d) && !d->dying;
    r->paused = d->paused;
    r->dying = d->dying;
    r->shutdown = d->shutdown;
    r->crashed =
        d->shutdown && d->shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH;
    r->shutdown_reason =
        d->shutdown ? d->shutdown_reason : LIBXL_SHUTDOWN_REASON_UNKNOWN;
    r->mem_kb = d->cur_kb;
    r->max_mem_kb = d->max_kb;
    r->vcpus = d->vcpus;
    r->cpu_time_ns = dom_cpu_ns(d);
    r->cpupool = d->cpupool;
}

static int fake_domain_info(nxl_port *port, uint32_t domid, nxl_port_dominfo *r,
                            nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    int rc;

    rc = begin(fp, OP_DOMAIN_INFO, (int)domid, err);
    if (rc)
        goto out;
    if (domid == 0) {
        dom0_info(fp, r);
        goto out;
    }
    d = find_dom(fp, domid);
    if (!d) {
        rc = fail_libxl(err, ERROR_DOMAIN_NOTFOUND, (int)domid,
                        "domain %u does not exist", domid);
        goto out;
    }
    dom_info(d, r);
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_list(nxl_port *port, nxl_port_dominfo **list_r, size_t *n_r,
                     nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    nxl_port_dominfo *v = NULL;
    int rc;

    rc = begin(fp, OP_LIST, -1, err);
    if (rc)
        goto out;
    v = calloc(fp->n_doms + 1, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    /* libxl lists by domid, Domain-0 first. */
    dom0_info(fp, &v[0]);
    for (size_t i = 0; i < fp->n_doms; i++)
        dom_info(fp->doms[i], &v[i + 1]);
    for (size_t i = 2; i <= fp->n_doms; i++)
        for (size_t j = i; j > 1 && v[j - 1].domid > v[j].domid; j--) {
            nxl_port_dominfo t = v[j];

            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *n_r = fp->n_doms + 1;
    *list_r = NXL_STEAL(v);
out:
    pthread_mutex_unlock(&fp->lock);
    free(v);
    return rc;
}

static int fake_name_to_domid(nxl_port *port, const char *name,
                              uint32_t *domid_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    int rc;

    rc = begin(fp, OP_NAME_TO_DOMID, -1, err);
    if (rc)
        goto out;
    if (strcmp(name, "Domain-0") == 0) {
        *domid_r = 0;
        goto out;
    }
    d = find_dom_by_name(fp, name);
    if (!d) {
        /* libxl_name_to_domid says ERROR_INVAL for an unknown name;
         * here that can only mean "not found". */
        rc = nxl_error_set_libxl(err, NXL_E_NOT_FOUND, ERROR_INVAL, -1,
                                 "fake: no domain named \"%s\"", name);
        goto out;
    }
    *domid_r = d->domid;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* ---- save / restore ------------------------------------------------------ */

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

#define FNV_INIT 2166136261u

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;

    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 0, -errno, or 1 on a short read (end of file). */
static int read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = read(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fake_save(nxl_port *port, uint32_t domid, int fd, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    uint8_t hdr[SAVE_HEADER_LEN], sum[4];
    fake_dom *d;
    size_t json_len;
    uint32_t h;
    int rc, fault, r;

    rc = begin_dom_after(fp, OP_SAVE, domid, &fault, &d, err);
    if (rc)
        goto out;
    if (d->shutdown || d->hung) {
        /* libxl waits for the guest to acknowledge the suspend request. */
        rc = fail_libxl(err, ERROR_FAIL, (int)domid,
                        "guest did not respond to the suspend request");
        goto out;
    }
    json_len = strlen(d->config_json);
    memcpy(hdr, save_magic, sizeof(save_magic));
    put_le(hdr + 16, SAVE_VERSION, 4);
    put_le(hdr + 20, d->vcpus, 4);
    put_le(hdr + 24, d->max_kb, 8);
    put_le(hdr + 32, d->cur_kb, 8);
    put_le(hdr + 40, json_len, 4);
    h = fnv1a(FNV_INIT, hdr, sizeof(hdr));
    h = fnv1a(h, (const uint8_t *)d->config_json, json_len);
    put_le(sum, h, 4);
    r = write_all(fd, hdr, sizeof(hdr));
    if (!r)
        r = write_all(fd, d->config_json, json_len);
    if (!r)
        r = write_all(fd, sum, sizeof(sum));
    if (r) {
        /* libxl reports a failed stream write as ERROR_FAIL. */
        rc = fail_libxl(err, ERROR_FAIL, (int)domid,
                        "writing the save stream: %s", strerror(-r));
        if (err && err->sys_errno == 0)
            err->sys_errno = -r;
        goto out;
    }
    dom_set_shutdown(fp, d, LIBXL_SHUTDOWN_REASON_SUSPEND);
    rc = fault ? injected(err, OP_SAVE, fault, (int)domid) : 0;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* Reads and checks a save blob; the stream is refused unless every part
 * of it is intact. */
static int read_blob(int fd, nxl_error *err)
{
    uint8_t hdr[SAVE_HEADER_LEN], sum[4];
    char *json = NULL;
    uint64_t json_len;
    uint32_t h;
    int rc, r;

    r = read_all(fd, hdr, sizeof(hdr));
    if (r) {
        rc = fail_libxl(err, ERROR_FAIL, -1, "restore stream: %s",
                        r > 0 ? "truncated header" : strerror(-r));
        goto out;
    }
    if (memcmp(hdr, save_magic, sizeof(save_magic)) != 0) {
        rc = fail_libxl(err, ERROR_FAIL, -1, "restore stream: bad magic");
        goto out;
    }
    if (get_le(hdr + 16, 4) != SAVE_VERSION) {
        rc = fail_libxl(err, ERROR_FAIL, -1,
                        "restore stream: unsupported version %" PRIu64,
                        get_le(hdr + 16, 4));
        goto out;
    }
    json_len = get_le(hdr + 40, 4);
    if (json_len == 0 || json_len > NXL_MAX_DOCUMENT_BYTES) {
        rc = fail_libxl(err, ERROR_FAIL, -1,
                        "restore stream: bad config length %" PRIu64, json_len);
        goto out;
    }
    json = malloc(json_len);
    if (!json) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    r = read_all(fd, json, json_len);
    if (!r)
        r = read_all(fd, sum, sizeof(sum));
    if (r) {
        rc = fail_libxl(err, ERROR_FAIL, -1, "restore stream: %s",
                        r > 0 ? "truncated" : strerror(-r));
        goto out;
    }
    h = fnv1a(FNV_INIT, hdr, sizeof(hdr));
    h = fnv1a(h, (const uint8_t *)json, json_len);
    if (get_le(sum, 4) != h) {
        rc = fail_libxl(err, ERROR_FAIL, -1, "restore stream: bad checksum");
        goto out;
    }
    rc = 0;
out:
    free(json);
    return rc;
}

static int fake_restore(nxl_port *port, const libxl_domain_config *cfg, int fd,
                        uint32_t *domid_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d = NULL;
    bool after;
    int rc, fault;

    pthread_mutex_lock(&fp->lock);
    fault = enter(fp, OP_RESTORE, &after);
    if (fault && !after) {
        rc = injected(err, OP_RESTORE, fault, -1);
        goto out;
    }
    /* libxl builds the domain from cfg, then fills it from the stream;
     * a bad stream ends with the new domain destroyed again. */
    rc = read_blob(fd, err);
    if (rc)
        goto out;
    rc = dom_add(fp, cfg, &d, err);
    if (rc)
        goto out;
    if (fault) {
        rc = injected(err, OP_RESTORE, fault, (int)d->domid);
        goto out;
    }
    *domid_r = d->domid;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_retrieve_config(nxl_port *port, uint32_t domid, char **json_r,
                                nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    char *copy = NULL;
    int rc;

    rc = begin_dom(fp, OP_RETRIEVE_CONFIG, domid, &d, err);
    if (rc)
        goto out;
    rc = nxl__strdup(&copy, d->config_json, err);
    if (rc)
        goto out;
    *json_r = NXL_STEAL(copy);
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* ---- userdata ------------------------------------------------------------ */

static fake_userdata **userdata_slot(fake_dom *d, const char *userid)
{
    fake_userdata **pp;

    for (pp = &d->userdata; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->userid, userid) == 0)
            break;
    return pp;
}

static void userdata_drop(fake_userdata **pp)
{
    fake_userdata *u = *pp;

    if (!u)
        return;
    *pp = u->next;
    free(u->userid);
    free(u->data);
    free(u);
}

static int fake_userdata_store(nxl_port *port, uint32_t domid,
                               const char *userid, const uint8_t *data,
                               size_t len, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_userdata **pp, *u = NULL;
    uint8_t *copy = NULL;
    fake_dom *d;
    int rc;

    rc = begin_dom(fp, OP_USERDATA_STORE, domid, &d, err);
    if (rc)
        goto out;
    pp = userdata_slot(d, userid);
    if (len == 0) {
        userdata_drop(pp);
        goto out;
    }
    copy = malloc(len);
    if (!copy) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    memcpy(copy, data, len);
    if (!*pp) {
        u = calloc(1, sizeof(*u));
        if (!u) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
            goto out;
        }
        rc = nxl__strdup(&u->userid, userid, err);
        if (rc)
            goto out;
        *pp = NXL_STEAL(u);
    }
    free((*pp)->data);
    (*pp)->data = NXL_STEAL(copy);
    (*pp)->len = len;
out:
    pthread_mutex_unlock(&fp->lock);
    if (u)
        free(u->userid);
    free(u);
    free(copy);
    return rc;
}

static int fake_userdata_retrieve(nxl_port *port, uint32_t domid,
                                  const char *userid, uint8_t **data_r,
                                  size_t *len_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_userdata *u;
    uint8_t *copy = NULL;
    fake_dom *d;
    int rc;

    rc = begin_dom(fp, OP_USERDATA_RETRIEVE, domid, &d, err);
    if (rc)
        goto out;
    u = *userdata_slot(d, userid);
    if (u) {
        copy = malloc(u->len);
        if (!copy) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
            goto out;
        }
        memcpy(copy, u->data, u->len);
    }
    *len_r = u ? u->len : 0;
    *data_r = NXL_STEAL(copy);
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_userdata_remove(nxl_port *port, uint32_t domid,
                                const char *userid, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    int rc;

    rc = begin_dom(fp, OP_USERDATA_REMOVE, domid, &d, err);
    if (rc)
        goto out;
    userdata_drop(userdata_slot(d, userid));
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_host_info(nxl_port *port, nxl_port_hostinfo *r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    int rc;

    rc = begin(fp, OP_HOST_INFO, -1, err);
    if (rc)
        goto out;
    memset(r, 0, sizeof(*r));
    r->nr_cpus = fp->nr_cpus;
    r->threads_per_core = 1;
    r->cores_per_socket = fp->nr_cpus;
    r->nr_nodes = fp->nr_nodes;
    r->cpu_khz = 2000000;
    r->total_kb = fp->total_kb;
    r->free_kb = free_kb(fp);
    r->cap_pv = true;
    r->cap_hvm = true;
    r->xen_major = 4;
    r->xen_minor = 17;
    snprintf(r->xen_extra, sizeof(r->xen_extra), ".0-fake");
    snprintf(r->capabilities, sizeof(r->capabilities),
             "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* ---- events -------------------------------------------------------------- */

static int fake_watch_domain(nxl_port *port, uint32_t domid, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    int rc;

    rc = begin(fp, OP_WATCH_DOMAIN, (int)domid, err);
    if (rc)
        goto out;
    d = find_dom(fp, domid);
    if (!d) {
        /* libxl's first look at the domain finds it gone. */
        queue_event(fp, domid, NXL_PORT_EV_DEATH,
                    LIBXL_SHUTDOWN_REASON_UNKNOWN);
        goto out;
    }
    if (d->armed)
        goto out;
    d->armed = true;
    d->shutdown_reported = false;
    if (d->shutdown) {
        d->shutdown_reported = true;
        queue_event(fp, domid, NXL_PORT_EV_SHUTDOWN, d->shutdown_reason);
    }
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_unwatch_domain(nxl_port *port, uint32_t domid, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    int rc;

    rc = begin(fp, OP_UNWATCH_DOMAIN, (int)domid, err);
    if (rc)
        goto out;
    d = find_dom(fp, domid);
    if (d)
        d->armed = false;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_wait_event(nxl_port *port, int timeout_ms, nxl_port_event *ev_r,
                           nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    struct timespec deadline;
    int rc;

    clock_gettime(CLOCK_REALTIME, &deadline);
    if (timeout_ms > 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    rc = begin(fp, OP_WAIT_EVENT, -1, err);
    if (rc)
        goto out;
    while (fp->n_events == 0) {
        int r;

        if (timeout_ms == 0)
            break;
        if (timeout_ms < 0)
            r = pthread_cond_wait(&fp->event_cond, &fp->lock);
        else
            r = pthread_cond_timedwait(&fp->event_cond, &fp->lock, &deadline);
        if (r == ETIMEDOUT)
            break;
    }
    if (fp->n_events == 0) {
        rc = nxl_error_set(err, NXL_E_TIMEOUT,
                           "fake: no domain event within %d ms", timeout_ms);
        goto out;
    }
    *ev_r = fp->events[0];
    memmove(&fp->events[0], &fp->events[1],
            (fp->n_events - 1) * sizeof(*fp->events));
    fp->n_events--;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* Every vcpu runs whenever the domain does, so each has used an equal
 * share of the domain's CPU time; vcpu 0 takes the remainder, so that the
 * shares add up to what domain_info reports, as they do on Xen. */
static int fake_vcpu_list(nxl_port *port, uint32_t domid,
                          nxl_port_vcpu **list_r, size_t *n_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    nxl_port_vcpu *v = NULL;
    fake_dom *d;
    uint64_t total;
    int rc;

    rc = begin_dom(fp, OP_VCPU_LIST, domid, &d, err);
    if (rc)
        goto out;
    v = calloc(d->vcpus, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    total = dom_cpu_ns(d);
    for (uint32_t i = 0; i < d->vcpus; i++) {
        v[i].id = i;
        v[i].online = true;
        v[i].time_ns = total / d->vcpus;
    }
    v[0].time_ns += total % d->vcpus;
    *n_r = d->vcpus;
    *list_r = NXL_STEAL(v);
out:
    pthread_mutex_unlock(&fp->lock);
    free(v);
    return rc;
}

static int fake_start_time(nxl_port *port, uint32_t domid, uint64_t *secs_r,
                           nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_dom *d;
    int rc;

    rc = begin_dom(fp, OP_START_TIME, domid, &d, err);
    if (rc)
        goto out;
    *secs_r = d->start_s;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* libxl 4.17's libxl__domain_need_memory_calculate, after its defaults:
 * the RAM target, plus shadow (defaulted, for every type, to
 * libxl_get_required_shadow_memory of max memory and vcpus: the lab saw
 * 4 MiB for a 128 MiB, 1-vcpu PV guest) and IOMMU
 * page tables, plus 2 MiB for HVM/PVH (LIBXL_HVM_EXTRA_MEMORY; 32 MiB more
 * with a stub domain) or 1 MiB for PV (LIBXL_PV_EXTRA_MEMORY), rounded
 * up to 2 MiB. The lab compares the real op with `xl` on Xen. */
static int fake_need_memory(nxl_port *port, const libxl_domain_config *cfg,
                            uint64_t *need_kb_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    const libxl_domain_build_info *b = &cfg->b_info;
    uint64_t max_kb, need;
    int rc;

    rc = begin(fp, OP_NEED_MEMORY, -1, err);
    if (rc)
        goto out;
    if (b->max_memkb == LIBXL_MEMKB_DEFAULT || b->max_memkb == 0) {
        /* libxl's setdefault would pick 32 MiB; the driver always sets
         * it, so a config without it is a bug worth hearing about. */
        rc = fail_libxl(err, ERROR_INVAL, -1,
                        "fake need_memory: max_memkb not set");
        goto out;
    }
    max_kb = b->max_memkb;
    need = b->target_memkb == LIBXL_MEMKB_DEFAULT ? max_kb : b->target_memkb;
    if (b->shadow_memkb != LIBXL_MEMKB_DEFAULT)
        need += b->shadow_memkb;
    else
        need += libxl_get_required_shadow_memory(
            (unsigned long)max_kb, b->max_vcpus ? b->max_vcpus : 1);
    if (b->iommu_memkb != LIBXL_MEMKB_DEFAULT)
        need += b->iommu_memkb;
    if (b->type == LIBXL_DOMAIN_TYPE_PV) {
        need += 1024;
    } else {
        need += 2048;
        if (b->type == LIBXL_DOMAIN_TYPE_HVM &&
            !libxl_defbool_is_default(b->device_model_stubdomain) &&
            libxl_defbool_val(b->device_model_stubdomain))
            need += 32 * 1024;
    }
    if (need % 2048)
        need += 2048 - need % 2048;
    *need_kb_r = need;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

/* ---- physical CPUs, NUMA, cpupools --------------------------------------- */

static uint32_t cpu_node(const fake_port *fp, uint32_t cpu)
{
    return (uint32_t)((uint64_t)cpu * fp->nr_nodes / fp->nr_cpus);
}

static int fake_pcpu_list(nxl_port *port, nxl_port_pcpu **list_r, size_t *n_r,
                          nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    nxl_port_pcpu *v = NULL;
    int rc;

    rc = begin(fp, OP_PCPU_LIST, -1, err);
    if (rc)
        goto out;
    v = calloc(fp->nr_cpus, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    /* One socket per node, one thread per core, as host_info says. */
    for (uint32_t i = 0; i < fp->nr_cpus; i++) {
        v[i].cpu = i;
        v[i].online = true;
        v[i].idle_ns = fp->pcpu_idle[i];
        v[i].core = i;
        v[i].node = cpu_node(fp, i);
        v[i].socket = v[i].node;
    }
    *n_r = fp->nr_cpus;
    *list_r = NXL_STEAL(v);
out:
    pthread_mutex_unlock(&fp->lock);
    free(v);
    return rc;
}

static int fake_numa_list(nxl_port *port, nxl_port_numa_node **list_r,
                          size_t *n_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    nxl_port_numa_node *v = NULL;
    int rc;

    rc = begin(fp, OP_NUMA_LIST, -1, err);
    if (rc)
        goto out;
    v = calloc(fp->nr_nodes, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < fp->nr_nodes; i++) {
        v[i].node = i;
        v[i].online = true;
        v[i].total_kb = fp->total_kb / fp->nr_nodes;
        v[i].free_kb = free_kb(fp) / fp->nr_nodes;
    }
    *n_r = fp->nr_nodes;
    *list_r = NXL_STEAL(v);
out:
    pthread_mutex_unlock(&fp->lock);
    free(v);
    return rc;
}

static int fake_cpupool_list(nxl_port *port, nxl_port_cpupool **list_r,
                             size_t *n_r, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    nxl_port_cpupool *v = NULL;
    int rc;

    rc = begin(fp, OP_CPUPOOL_LIST, -1, err);
    if (rc)
        goto out;
    v = calloc(fp->n_pools, sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    for (size_t i = 0; i < fp->n_pools; i++) {
        v[i].poolid = fp->pools[i].poolid;
        memcpy(v[i].name, fp->pools[i].name, sizeof(v[i].name));
        memcpy(v[i].cpumap, fp->pools[i].cpumap, sizeof(v[i].cpumap));
        v[i].n_domains = pool_domains(fp, fp->pools[i].poolid);
    }
    *n_r = fp->n_pools;
    *list_r = NXL_STEAL(v);
out:
    pthread_mutex_unlock(&fp->lock);
    free(v);
    return rc;
}

static int fake_cpupool_create(nxl_port *port, const char *name,
                               const uint8_t *cpumap, uint32_t *poolid_r,
                               nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_pool *p;
    int rc;

    rc = begin(fp, OP_CPUPOOL_CREATE, -1, err);
    if (rc)
        goto out;
    for (size_t i = 0; i < fp->n_pools; i++)
        if (strcmp(fp->pools[i].name, name) == 0) {
            rc = nxl_error_set(err, NXL_E_EXISTS,
                               "cpupool '%s' already exists (id %u)", name,
                               fp->pools[i].poolid);
            goto out;
        }
    if (strlen(name) > NXL_PORT_POOL_NAME_MAX) {
        rc = fail_libxl(err, ERROR_INVAL, -1, "cpupool name too long");
        goto out;
    }
    for (uint32_t cpu = 0; cpu < NXL_PORT_MAX_CPUS; cpu++) {
        if (!nxl__port_cpumap_test(cpumap, cpu))
            continue;
        /* Xen's EBUSY / EINVAL from XEN_SYSCTL_CPUPOOL_OP_ADDCPU. */
        if (cpu >= fp->nr_cpus || pool_of_cpu(fp, cpu)) {
            rc = fail_libxl(
                err, ERROR_FAIL, -1, "cpupool '%s': CPU %u is %s", name, cpu,
                cpu >= fp->nr_cpus ? "not on this host" : "not free");
            goto out;
        }
    }
    p = realloc(fp->pools, (fp->n_pools + 1) * sizeof(*p));
    if (!p) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "fake: out of memory");
        goto out;
    }
    fp->pools = p;
    p = &fp->pools[fp->n_pools++];
    memset(p, 0, sizeof(*p));
    p->poolid = fp->next_poolid++;
    snprintf(p->name, sizeof(p->name), "%s", name);
    memcpy(p->cpumap, cpumap, sizeof(p->cpumap));
    *poolid_r = p->poolid;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_cpupool_destroy(nxl_port *port, uint32_t poolid, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    fake_pool *p;
    int rc;

    rc = begin(fp, OP_CPUPOOL_DESTROY, -1, err);
    if (rc)
        goto out;
    p = find_pool(fp, poolid);
    if (!p || poolid == 0) {
        rc = fail_libxl(err, ERROR_INVAL, -1, "cannot destroy cpupool %u",
                        poolid);
        goto out;
    }
    if (pool_domains(fp, poolid) > 0) {
        rc = fail_libxl(err, ERROR_FAIL, -1,
                        "cpupool %u still has domains (EBUSY)", poolid);
        goto out;
    }
    memmove(p, p + 1, (size_t)(fp->pools + fp->n_pools - (p + 1)) * sizeof(*p));
    fp->n_pools--;
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int pool_cpu_op(nxl_port *port, enum fake_op op, uint32_t poolid,
                       uint32_t cpu, nxl_error *err)
{
    fake_port *fp = (fake_port *)port;
    bool add = op == OP_CPUPOOL_CPU_ADD;
    fake_pool *p, *owner;
    uint8_t rest[NXL_PORT_MAX_CPUS / 8];
    int rc;

    rc = begin(fp, op, -1, err);
    if (rc)
        goto out;
    p = find_pool(fp, poolid);
    owner = cpu < fp->nr_cpus ? pool_of_cpu(fp, cpu) : NULL;
    if (!p || cpu >= fp->nr_cpus) {
        rc = fail_libxl(err, ERROR_INVAL, -1, "no cpupool %u or CPU %u", poolid,
                        cpu);
        goto out;
    }
    if (add ? owner != NULL : owner != p) {
        rc = fail_libxl(err, ERROR_FAIL, -1, "CPU %u is %s", cpu,
                        add ? "not free" : "not in the pool");
        goto out;
    }
    if (add) {
        nxl__port_cpumap_set(p->cpumap, cpu);
        goto out;
    }
    memcpy(rest, p->cpumap, sizeof(rest));
    rest[cpu / 8] &= (uint8_t) ~(1u << (cpu % 8));
    /* Xen keeps at least one CPU in a pool that has domains. */
    if (map_empty(rest) && pool_domains(fp, poolid) > 0) {
        rc = fail_libxl(err, ERROR_FAIL, -1,
                        "CPU %u is the last of cpupool %u, which has "
                        "domains (EBUSY)",
                        cpu, poolid);
        goto out;
    }
    memcpy(p->cpumap, rest, sizeof(rest));
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

static int fake_cpupool_cpu_add(nxl_port *port, uint32_t poolid, uint32_t cpu,
                                nxl_error *err)
{
    return pool_cpu_op(port, OP_CPUPOOL_CPU_ADD, poolid, cpu, err);
}

static int fake_cpupool_cpu_remove(nxl_port *port, uint32_t poolid,
                                   uint32_t cpu, nxl_error *err)
{
    return pool_cpu_op(port, OP_CPUPOOL_CPU_REMOVE, poolid, cpu, err);
}

static const nxl_port_ops fake_ops = {
    .name = "fake",
    .free = fake_free,
    .create = fake_create,
    .destroy = fake_destroy,
    .pause = fake_pause,
    .unpause = fake_unpause,
    .shutdown = fake_shutdown,
    .reboot = fake_reboot,
    .send_nmi = fake_send_nmi,
    .domain_info = fake_domain_info,
    .list = fake_list,
    .name_to_domid = fake_name_to_domid,
    .save = fake_save,
    .restore = fake_restore,
    .retrieve_config = fake_retrieve_config,
    .userdata_store = fake_userdata_store,
    .userdata_retrieve = fake_userdata_retrieve,
    .userdata_remove = fake_userdata_remove,
    .host_info = fake_host_info,
    .watch_domain = fake_watch_domain,
    .unwatch_domain = fake_unwatch_domain,
    .wait_event = fake_wait_event,
    .vcpu_list = fake_vcpu_list,
    .start_time = fake_start_time,
    .need_memory = fake_need_memory,
    .pcpu_list = fake_pcpu_list,
    .numa_list = fake_numa_list,
    .cpupool_list = fake_cpupool_list,
    .cpupool_create = fake_cpupool_create,
    .cpupool_destroy = fake_cpupool_destroy,
    .cpupool_cpu_add = fake_cpupool_cpu_add,
    .cpupool_cpu_remove = fake_cpupool_cpu_remove,
};

/* ---- construction and test controls ---------------------------------------
 */

int nxl__port_fake_new(nxl_port **port_r)
{
    fake_port *fp = calloc(1, sizeof(*fp));

    if (!fp)
        return NXL_E_NOMEM;
    fp->port.ops = &fake_ops;
    pthread_mutex_init(&fp->lock, NULL);
    pthread_cond_init(&fp->event_cond, NULL);
    nxl_buf_init(&fp->calls);
    fp->next_domid = 1;
    fp->total_kb = FAKE_DEFAULT_TOTAL_KB;
    fp->nr_cpus = FAKE_DEFAULT_CPUS;
    fp->nr_nodes = 1;
    pools_reset(fp);
    *port_r = &fp->port;
    return 0;
}

bool nxl__port_is_fake(const nxl_port *port)
{
    nxl_port *inner = nxl__port_trace_inner((nxl_port *)port);

    return inner && inner->ops == &fake_ops;
}

static int op_index(const char *op)
{
    for (int i = 0; i < OP__MAX; i++)
        if (strcmp(op_names[i], op) == 0)
            return i;
    return -1;
}

static int set_fault(nxl_port *port, const char *op, unsigned nth, int code,
                     bool after)
{
    fake_port *fp = fake_of(port);
    int i = op ? op_index(op) : -1;

    if (i < 0 || code > 0 || code <= _NXL_E_MAX)
        return NXL_E_INVAL;
    pthread_mutex_lock(&fp->lock);
    fp->faults[i].countdown = code == NXL_OK ? 0 : nth;
    fp->faults[i].always = code != NXL_OK && nth == 0;
    fp->faults[i].after = after;
    fp->faults[i].code = code;
    pthread_mutex_unlock(&fp->lock);
    return 0;
}

int nxl__port_fake_fail(nxl_port *port, const char *op, unsigned nth, int code)
{
    return set_fault(port, op, nth, code, false);
}

int nxl__port_fake_fail_after(nxl_port *port, const char *op, unsigned nth,
                              int code)
{
    return set_fault(port, op, nth, code, true);
}

char *nxl__port_fake_calls(nxl_port *port)
{
    fake_port *fp = fake_of(port);
    char *s;

    pthread_mutex_lock(&fp->lock);
    s = strdup(fp->calls.data ? fp->calls.data : "");
    pthread_mutex_unlock(&fp->lock);
    return s;
}

void nxl__port_fake_calls_reset(nxl_port *port)
{
    fake_port *fp = fake_of(port);

    pthread_mutex_lock(&fp->lock);
    nxl_buf_dispose(&fp->calls);
    pthread_mutex_unlock(&fp->lock);
}

int nxl__port_fake_external(nxl_port *port, const char *action, uint32_t domid)
{
    fake_port *fp = fake_of(port);
    fake_dom *d;
    int rc;

    pthread_mutex_lock(&fp->lock);
    rc = lookup(fp, domid, &d, NULL);
    if (rc)
        goto out;
    if (strcmp(action, "destroy") == 0) {
        dom_destroy(fp, d);
    } else if (strcmp(action, "hold") == 0) {
        d->held = true;
    } else if (strcmp(action, "release") == 0) {
        d->held = false;
        /* Its death was told, and its watch disarmed, at the destroy. */
        if (d->dying)
            dom_remove(fp, d);
    } else if (strcmp(action, "pause") == 0) {
        dom_stop_clock(d);
        d->paused = true;
    } else if (strcmp(action, "unpause") == 0) {
        d->paused = false;
        dom_start_clock(d);
        if (d->pending_request >= 0)
            dom_set_shutdown(fp, d, d->pending_request);
    } else if (strcmp(action, "poweroff") == 0) {
        dom_set_shutdown(fp, d, LIBXL_SHUTDOWN_REASON_POWEROFF);
    } else if (strcmp(action, "reboot") == 0) {
        dom_set_shutdown(fp, d, LIBXL_SHUTDOWN_REASON_REBOOT);
    } else if (strcmp(action, "crash") == 0) {
        dom_set_shutdown(fp, d, LIBXL_SHUTDOWN_REASON_CRASH);
    } else if (strcmp(action, "hang") == 0) {
        d->hung = true;
    } else {
        rc = NXL_E_INVAL;
    }
out:
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

int nxl__port_fake_external_create(nxl_port *port, const char *name,
                                   uint32_t *domid_r)
{
    fake_port *fp = fake_of(port);
    libxl_domain_config cfg;
    fake_dom *d;
    int rc;

    libxl_domain_config_init(&cfg);
    cfg.c_info.type = LIBXL_DOMAIN_TYPE_PV;
    libxl_domain_build_info_init_type(&cfg.b_info, LIBXL_DOMAIN_TYPE_PV);
    cfg.c_info.name = strdup(name);
    cfg.b_info.kernel = strdup("/boot/vmlinuz-foreign");
    if (!cfg.c_info.name || !cfg.b_info.kernel) {
        rc = NXL_E_NOMEM;
        goto out;
    }
    cfg.b_info.max_memkb = 256 * 1024;
    cfg.b_info.target_memkb = 256 * 1024;
    cfg.b_info.max_vcpus = 1;
    pthread_mutex_lock(&fp->lock);
    rc = dom_add(fp, &cfg, &d, NULL);
    if (!rc) {
        d->paused = false;
        dom_start_clock(d);
        *domid_r = d->domid;
    }
    pthread_mutex_unlock(&fp->lock);
out:
    libxl_domain_config_dispose(&cfg);
    return rc;
}

void nxl__port_fake_set_host(nxl_port *port, uint64_t total_kb,
                             uint32_t nr_cpus)
{
    fake_port *fp = fake_of(port);

    pthread_mutex_lock(&fp->lock);
    fp->total_kb = total_kb;
    fp->nr_cpus = nr_cpus < NXL_PORT_MAX_CPUS ? nr_cpus : NXL_PORT_MAX_CPUS;
    if (fp->nr_nodes > fp->nr_cpus)
        fp->nr_nodes = fp->nr_cpus;
    pools_reset(fp);
    pthread_mutex_unlock(&fp->lock);
}

int nxl__port_fake_set_pcpu_idle(nxl_port *port, uint32_t cpu, uint64_t idle_ns)
{
    fake_port *fp = fake_of(port);
    int rc = NXL_E_INVAL;

    pthread_mutex_lock(&fp->lock);
    if (cpu < fp->nr_cpus) {
        fp->pcpu_idle[cpu] = idle_ns;
        rc = 0;
    }
    pthread_mutex_unlock(&fp->lock);
    return rc;
}

void nxl__port_fake_set_numa(nxl_port *port, uint32_t nodes)
{
    fake_port *fp = fake_of(port);

    pthread_mutex_lock(&fp->lock);
    fp->nr_nodes = nodes == 0 ? 1 : nodes > fp->nr_cpus ? fp->nr_cpus : nodes;
    pools_reset(fp);
    pthread_mutex_unlock(&fp->lock);
}

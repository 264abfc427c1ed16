/* A port that forwards every op to another and logs the call and its
 * result, like git's refs/debug.c. Operators turn it on with NXL_TRACE=1
 * to see exactly what the driver asked of libxl, and in which order. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "xl_driver/xl_port.h"

typedef struct trace_port {
    nxl_port port; /* first: the ops header */
    nxl_port *inner;
    nxl_port_trace_fn *fn;
    void *user;
} trace_port;

static const nxl_port_ops trace_ops;

static trace_port *tp_of(nxl_port *port)
{
    return (trace_port *)port;
}

static void emit(trace_port *tp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void emit(trace_port *tp, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    tp->fn(tp->user, line);
}

/* Logs "<port>: <call> = <rc>[: <message>]". The message is only there
 * when the caller passed an err; without one the code still shows. */
static int done(trace_port *tp, const char *call, int rc, const nxl_error *err)
{
    if (rc == 0)
        emit(tp, "port %s: %s = 0", tp->inner->ops->name, call);
    else
        emit(tp, "port %s: %s = %s%s%s", tp->inner->ops->name, call,
             nxl_error_code_name(rc), err && err->code ? ": " : "",
             err && err->code ? nxl_error_message(err) : "");
    return rc;
}

static void trace_free(nxl_port *port)
{
    trace_port *tp = tp_of(port);

    nxl__port_free(tp->inner);
    free(tp);
}

static int trace_create(nxl_port *port, const libxl_domain_config *cfg,
                        uint32_t *domid_r, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    uint32_t domid = 0;
    char call[320];
    int rc;

    rc = tp->inner->ops->create(tp->inner, cfg, &domid, err);
    if (rc == 0)
        *domid_r = domid;
    if (rc == 0)
        snprintf(call, sizeof(call), "create(%s) -> domid %u",
                 cfg->c_info.name ? cfg->c_info.name : "", domid);
    else
        snprintf(call, sizeof(call), "create(%s)",
                 cfg->c_info.name ? cfg->c_info.name : "");
    return done(tp, call, rc, err);
}

#define TRACE_DOMID_OP(op)                                                     \
    static int trace_##op(nxl_port *port, uint32_t domid, nxl_error *err)      \
    {                                                                          \
        trace_port *tp = tp_of(port);                                          \
        char call[64];                                                         \
                                                                               \
        snprintf(call, sizeof(call), #op "(%u)", domid);                       \
        return done(tp, call, tp->inner->ops->op(tp->inner, domid, err), err); \
    }

TRACE_DOMID_OP(destroy)
TRACE_DOMID_OP(pause)
TRACE_DOMID_OP(unpause)
TRACE_DOMID_OP(shutdown)
TRACE_DOMID_OP(reboot)
TRACE_DOMID_OP(send_nmi)
TRACE_DOMID_OP(watch_domain)
TRACE_DOMID_OP(unwatch_domain)

static int trace_domain_info(nxl_port *port, uint32_t domid,
                             nxl_port_dominfo *r, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[64];

    snprintf(call, sizeof(call), "domain_info(%u)", domid);
    return done(tp, call, tp->inner->ops->domain_info(tp->inner, domid, r, err),
                err);
}

static int trace_list(nxl_port *port, nxl_port_dominfo **list_r, size_t *n_r,
                      nxl_error *err)
{
    trace_port *tp = tp_of(port);

    return done(tp, "list()", tp->inner->ops->list(tp->inner, list_r, n_r, err),
                err);
}

static int trace_name_to_domid(nxl_port *port, const char *name,
                               uint32_t *domid_r, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[320];

    snprintf(call, sizeof(call), "name_to_domid(%s)", name);
    return done(tp, call,
                tp->inner->ops->name_to_domid(tp->inner, name, domid_r, err),
                err);
}

static int trace_save(nxl_port *port, uint32_t domid, int fd, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[64];

    snprintf(call, sizeof(call), "save(%u, fd %d)", domid, fd);
    return done(tp, call, tp->inner->ops->save(tp->inner, domid, fd, err), err);
}

static int trace_restore(nxl_port *port, const libxl_domain_config *cfg, int fd,
                         uint32_t *domid_r, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[320];

    snprintf(call, sizeof(call), "restore(%s, fd %d)",
             cfg->c_info.name ? cfg->c_info.name : "", fd);
    return done(tp, call,
                tp->inner->ops->restore(tp->inner, cfg, fd, domid_r, err), err);
}

static int trace_retrieve_config(nxl_port *port, uint32_t domid, char **json_r,
                                 nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[64];

    snprintf(call, sizeof(call), "retrieve_config(%u)", domid);
    return done(tp, call,
                tp->inner->ops->retrieve_config(tp->inner, domid, json_r, err),
                err);
}

static int trace_userdata_store(nxl_port *port, uint32_t domid,
                                const char *userid, const uint8_t *data,
                                size_t len, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[320];

    snprintf(call, sizeof(call), "userdata_store(%u, %s, %zu bytes)", domid,
             userid, len);
    return done(tp, call,
                tp->inner->ops->userdata_store(tp->inner, domid, userid, data,
                                               len, err),
                err);
}

static int trace_userdata_retrieve(nxl_port *port, uint32_t domid,
                                   const char *userid, uint8_t **data_r,
                                   size_t *len_r, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[320];

    snprintf(call, sizeof(call), "userdata_retrieve(%u, %s)", domid, userid);
    return done(tp, call,
                tp->inner->ops->userdata_retrieve(tp->inner, domid, userid,
                                                  data_r, len_r, err),
                err);
}

static int trace_userdata_remove(nxl_port *port, uint32_t domid,
                                 const char *userid, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[320];

    snprintf(call, sizeof(call), "userdata_remove(%u, %s)", domid, userid);
    return done(tp, call,
                tp->inner->ops->userdata_remove(tp->inner, domid, userid, err),
                err);
}

static int trace_host_info(nxl_port *port, nxl_port_hostinfo *r, nxl_error *err)
{
    trace_port *tp = tp_of(port);

    return done(tp, "host_info()", tp->inner->ops->host_info(tp->inner, r, err),
                err);
}

static int trace_wait_event(nxl_port *port, int timeout_ms,
                            nxl_port_event *ev_r, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    nxl_port_event ev;
    char call[160];
    int rc;

    rc = tp->inner->ops->wait_event(tp->inner, timeout_ms, &ev, err);
    if (rc == 0) {
        *ev_r = ev;
        snprintf(call, sizeof(call), "wait_event(%d ms) -> domid %u %s %s",
                 timeout_ms, ev.domid,
                 ev.kind == NXL_PORT_EV_DEATH ? "death" : "shutdown",
                 ev.kind == NXL_PORT_EV_DEATH
                     ? ""
                     : nxl__port_shutdown_reason_name(ev.shutdown_reason));
    } else {
        snprintf(call, sizeof(call), "wait_event(%d ms)", timeout_ms);
    }
    return done(tp, call, rc, err);
}

static int trace_vcpu_list(nxl_port *port, uint32_t domid,
                           nxl_port_vcpu **list_r, size_t *n_r, nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[64];

    snprintf(call, sizeof(call), "vcpu_list(%u)", domid);
    return done(tp, call,
                tp->inner->ops->vcpu_list(tp->inner, domid, list_r, n_r, err),
                err);
}

static int trace_start_time(nxl_port *port, uint32_t domid, uint64_t *secs_r,
                            nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[64];

    snprintf(call, sizeof(call), "start_time(%u)", domid);
    return done(tp, call,
                tp->inner->ops->start_time(tp->inner, domid, secs_r, err), err);
}

static int trace_need_memory(nxl_port *port, const libxl_domain_config *cfg,
                             uint64_t *need_kb_r, nxl_error *err)
{
    trace_port *tp = tp_of(port);

    return done(tp, "need_memory",
                tp->inner->ops->need_memory(tp->inner, cfg, need_kb_r, err),
                err);
}

#define TRACE_LIST_OP(op, type)                                                \
    static int trace_##op(nxl_port *port, type **list_r, size_t *n_r,          \
                          nxl_error *err)                                      \
    {                                                                          \
        trace_port *tp = tp_of(port);                                          \
                                                                               \
        return done(tp, #op "()",                                              \
                    tp->inner->ops->op(tp->inner, list_r, n_r, err), err);     \
    }

TRACE_LIST_OP(pcpu_list, nxl_port_pcpu)
TRACE_LIST_OP(numa_list, nxl_port_numa_node)
TRACE_LIST_OP(cpupool_list, nxl_port_cpupool)

static int trace_cpupool_create(nxl_port *port, const char *name,
                                const uint8_t *cpumap, uint32_t *poolid_r,
                                nxl_error *err)
{
    trace_port *tp = tp_of(port);
    uint32_t poolid = 0;
    char call[160];
    int rc;

    rc = tp->inner->ops->cpupool_create(tp->inner, name, cpumap, &poolid, err);
    if (rc == 0)
        *poolid_r = poolid;
    snprintf(call, sizeof(call), "cpupool_create(%s)%s", name,
             rc == 0 ? " -> pool" : "");
    if (rc == 0)
        snprintf(call + strlen(call), sizeof(call) - strlen(call), " %u",
                 poolid);
    return done(tp, call, rc, err);
}

static int trace_cpupool_destroy(nxl_port *port, uint32_t poolid,
                                 nxl_error *err)
{
    trace_port *tp = tp_of(port);
    char call[64];

    snprintf(call, sizeof(call), "cpupool_destroy(%u)", poolid);
    return done(tp, call,
                tp->inner->ops->cpupool_destroy(tp->inner, poolid, err), err);
}

#define TRACE_POOL_CPU_OP(op)                                                  \
    static int trace_##op(nxl_port *port, uint32_t poolid, uint32_t cpu,       \
                          nxl_error *err)                                      \
    {                                                                          \
        trace_port *tp = tp_of(port);                                          \
        char call[64];                                                         \
                                                                               \
        snprintf(call, sizeof(call), #op "(%u, %u)", poolid, cpu);             \
        return done(tp, call, tp->inner->ops->op(tp->inner, poolid, cpu, err), \
                    err);                                                      \
    }

TRACE_POOL_CPU_OP(cpupool_cpu_add)
TRACE_POOL_CPU_OP(cpupool_cpu_remove)

static const nxl_port_ops trace_ops = {
    .name = "trace",
    .free = trace_free,
    .create = trace_create,
    .destroy = trace_destroy,
    .pause = trace_pause,
    .unpause = trace_unpause,
    .shutdown = trace_shutdown,
    .reboot = trace_reboot,
    .send_nmi = trace_send_nmi,
    .domain_info = trace_domain_info,
    .list = trace_list,
    .name_to_domid = trace_name_to_domid,
    .save = trace_save,
    .restore = trace_restore,
    .retrieve_config = trace_retrieve_config,
    .userdata_store = trace_userdata_store,
    .userdata_retrieve = trace_userdata_retrieve,
    .userdata_remove = trace_userdata_remove,
    .host_info = trace_host_info,
    .watch_domain = trace_watch_domain,
    .unwatch_domain = trace_unwatch_domain,
    .wait_event = trace_wait_event,
    .vcpu_list = trace_vcpu_list,
    .start_time = trace_start_time,
    .need_memory = trace_need_memory,
    .pcpu_list = trace_pcpu_list,
    .numa_list = trace_numa_list,
    .cpupool_list = trace_cpupool_list,
    .cpupool_create = trace_cpupool_create,
    .cpupool_destroy = trace_cpupool_destroy,
    .cpupool_cpu_add = trace_cpupool_cpu_add,
    .cpupool_cpu_remove = trace_cpupool_cpu_remove,
};

int nxl__port_trace_new(nxl_port *port, nxl_port_trace_fn *fn, void *user,
                        nxl_port **port_r)
{
    trace_port *tp = calloc(1, sizeof(*tp));

    if (!tp)
        return NXL_E_NOMEM;
    tp->port.ops = &trace_ops;
    tp->inner = port;
    tp->fn = fn;
    tp->user = user;
    *port_r = &tp->port;
    return 0;
}

static void debug_sink(void *user, const char *line)
{
    nxl__debug("%s", line);
}

nxl_port *nxl__port_trace_wrap(nxl_port *port)
{
    const char *v = getenv("NXL_TRACE");
    nxl_port *traced;

    if (!v || strcmp(v, "1") != 0)
        return port;
    if (nxl__port_trace_new(port, debug_sink, NULL, &traced))
        return port;
    return traced;
}

nxl_port *nxl__port_trace_inner(nxl_port *port)
{
    while (port && port->ops == &trace_ops)
        port = tp_of(port)->inner;
    return port;
}

const char *nxl__port_shutdown_reason_name(int reason)
{
    switch (reason) {
    case LIBXL_SHUTDOWN_REASON_POWEROFF:
        return "poweroff";
    case LIBXL_SHUTDOWN_REASON_REBOOT:
        return "reboot";
    case LIBXL_SHUTDOWN_REASON_SUSPEND:
        return "suspend";
    case LIBXL_SHUTDOWN_REASON_CRASH:
        return "crash";
    case LIBXL_SHUTDOWN_REASON_WATCHDOG:
        return "watchdog";
    case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
        return "soft_reset";
    default:
        return "unknown";
    }
}

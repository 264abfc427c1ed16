/* The dispatchers: one small function per public call of nxl.h.
 *
 * Each validates its arguments (the contract's, not the backend's: NULL
 * where Nova has no None, a canonical instance UUID, valid host names),
 * then hands over to the backend's member, or answers
 * NXL_E_NOT_IMPLEMENTED when the member is NULL. Nothing here knows Xen.
 *
 * Per-instance locking is not here yet: the lifecycle work adds a lock
 * map to struct nxl_driver (see common/driver.h), taken after
 * check_instance() succeeds and released when the member returns.
 */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/driver.h"
#include "common/internal.h"

/* ---- argument checks --------------------------------------------------- */

static int null_arg(nxl_error *err, const char *method, const char *arg)
{
    return nxl_error_set(err, NXL_E_INVAL, "%s: %s is NULL", method, arg);
}

static int not_implemented(const nxl_driver *drv, const char *method,
                           nxl_error *err)
{
    return nxl_error_set(err, NXL_E_NOT_IMPLEMENTED,
                         "%s: not implemented yet by the '%s' driver", method,
                         drv->ops->name);
}

static int check_instance(const nxl_instance *inst, const char *method,
                          nxl_error *err)
{
    char field[128];

    if (!inst)
        return null_arg(err, method, "instance");
    /* The UUID is the only key a backend uses to find the domain, and it
     * ends up in file and xenstore paths: refuse anything non-canonical
     * here, once for every backend. */
    snprintf(field, sizeof(field), "%s: instance.uuid", method);
    return nxl_uuid_validate(inst->uuid, field, err);
}

static int check_name(const char *name, const char *method, const char *arg,
                      nxl_error *err)
{
    char field[128];

    if (!name)
        return null_arg(err, method, arg);
    snprintf(field, sizeof(field), "%s: %s", method, arg);
    return nxl_name_validate(name, field, err);
}

/* ---- open and close ------------------------------------------------------ */

static const nxl_driver_ops *const backends[] = {
    &nxl_xl_driver_ops,
};

static int copy_or_keep(char **dst, const char *src, nxl_error *err)
{
    char *copy;

    /* A NULL config field keeps the default already in *dst. */
    if (!src)
        return 0;
    copy = strdup(src);
    if (!copy)
        return nxl_error_set(err, NXL_E_NOMEM,
                             "driver open: out of memory copying '%s'", src);
    free(*dst);
    *dst = copy;
    return 0;
}

/* nova's [serial_console] port_range: "min:max", 1 <= min <= max <= 65535. */
static int parse_port_range(const char *s, unsigned *min_r, unsigned *max_r,
                            nxl_error *err)
{
    unsigned long a, b;
    char *end = NULL;

    errno = 0;
    a = *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
    if (!end || *end != ':' || end[1] < '0' || end[1] > '9' || errno)
        goto bad;
    b = strtoul(end + 1, &end, 10);
    if (*end || errno || a < 1 || b > 65535 || a > b)
        goto bad;
    *min_r = (unsigned)a;
    *max_r = (unsigned)b;
    return 0;
bad:
    return nxl_error_set(err, NXL_E_INVAL,
                         "load_compute_driver: config.serial_port_range "
                         "'%.32s' is not min:max with 1 <= min <= max <= "
                         "65535",
                         s);
}

static int open_console_config(nxl_driver *drv, const nxl_driver_config *cfg,
                               nxl_error *err)
{
    struct in6_addr a;
    const char *listen =
        cfg && cfg->serial_listen ? cfg->serial_listen : "127.0.0.1";
    int rc;

    drv->console.serial_port_min = 10000;
    drv->console.serial_port_max = 20000;
    drv->console.log_cap =
        cfg && cfg->console_log_cap ? cfg->console_log_cap : 1024 * 1024;
    drv->console.log_interval_s =
        cfg && cfg->console_log_interval ? cfg->console_log_interval : 60;
    if (cfg && cfg->serial_port_range &&
        (rc = parse_port_range(cfg->serial_port_range,
                               &drv->console.serial_port_min,
                               &drv->console.serial_port_max, err)) < 0)
        return rc;
    if (inet_pton(AF_INET, listen, &a) != 1 &&
        inet_pton(AF_INET6, listen, &a) != 1)
        return nxl_error_set(err, NXL_E_INVAL,
                             "load_compute_driver: config.serial_listen "
                             "'%.64s' is not a numeric IPv4 or IPv6 address",
                             listen);
    return nxl__strdup(&drv->console.serial_listen, listen, err);
}

int nxl__driver_open_ops(const nxl_driver_ops *ops,
                         const nxl_driver_config *cfg, nxl_driver **drv_r,
                         nxl_error *err)
{
    nxl_driver *drv = NULL;
    bool lock_ready = false;
    char hostname[HOST_NAME_MAX + 1];
    int rc;

    assert(ops && ops->name);
    if (!drv_r) {
        rc = null_arg(err, "load_compute_driver", "drv_r");
        goto out;
    }
    if (cfg && cfg->host &&
        (rc = check_name(cfg->host, "load_compute_driver", "config.host",
                         err)) < 0)
        goto out;

    drv = calloc(1, sizeof(*drv));
    if (!drv) {
        rc = nxl_error_set(err, NXL_E_NOMEM,
                           "load_compute_driver: out of memory");
        goto out;
    }
    drv->ops = ops;
    nxl_host_layout_init(&drv->layout);
    if (pthread_mutex_init(&drv->listener_lock, NULL) != 0) {
        rc = nxl_error_set(err, NXL_E_NOMEM,
                           "load_compute_driver: cannot create a mutex");
        goto out;
    }
    lock_ready = true;

    if (cfg && cfg->host) {
        rc = nxl__strdup(&drv->host, cfg->host, err);
    } else {
        /* Nova's CONF.host defaults to the socket host name too. */
        if (gethostname(hostname, sizeof(hostname)) < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                     "load_compute_driver: gethostname");
            goto out;
        }
        hostname[sizeof(hostname) - 1] = '\0';
        if ((rc = check_name(hostname, "load_compute_driver", "gethostname()",
                             err)) < 0)
            goto out;
        rc = nxl__strdup(&drv->host, hostname, err);
    }
    if (rc < 0)
        goto out;

    rc = nxl_host_layout_default(&drv->layout);
    if (rc < 0) {
        rc = nxl_error_set(err, rc, "load_compute_driver: host layout");
        goto out;
    }
    if (cfg) {
        if ((rc = copy_or_keep(&drv->layout.instances_dir, cfg->instances_dir,
                               err)) < 0 ||
            (rc = copy_or_keep(&drv->layout.image_cache_dir,
                               cfg->image_cache_dir, err)) < 0 ||
            (rc = copy_or_keep(&drv->layout.console_log_dir,
                               cfg->console_log_dir, err)) < 0)
            goto out;
    }
    if ((rc = open_console_config(drv, cfg, err)) < 0)
        goto out;

    if (ops->open && (rc = ops->open(drv, err)) < 0)
        goto out;

    *drv_r = NXL_STEAL(drv);
    rc = 0;
out:
    if (drv) {
        /* ops->open failed or never ran: nothing for ops->close. */
        if (lock_ready)
            pthread_mutex_destroy(&drv->listener_lock);
        nxl_host_layout_dispose(&drv->layout);
        free(drv->console.serial_listen);
        free(drv->host);
        free(drv);
    }
    return rc;
}

/* contract-module: load_compute_driver */
int nxl_driver_open(const char *backend, const nxl_driver_config *cfg,
                    nxl_driver **drv_r, nxl_error *err)
{
    size_t i;

    if (!backend)
        return null_arg(err, "load_compute_driver", "backend");
    for (i = 0; i < NXL_ARRAY_SIZE(backends); i++)
        if (strcmp(backends[i]->name, backend) == 0)
            return nxl__driver_open_ops(backends[i], cfg, drv_r, err);
    return nxl_error_set(err, NXL_E_INVAL,
                         "load_compute_driver: unknown backend '%s' "
                         "(known: libxl)",
                         backend);
}

void nxl_driver_close(nxl_driver *drv)
{
    if (!drv)
        return;
    if (drv->ops->close)
        drv->ops->close(drv);
    pthread_mutex_destroy(&drv->listener_lock);
    nxl_host_layout_dispose(&drv->layout);
    free(drv->console.serial_listen);
    free(drv->host);
    free(drv);
}

const char *nxl_driver_name(const nxl_driver *drv)
{
    return drv ? drv->ops->name : NULL;
}

/* ---- unsupported members ------------------------------------------------- */

int nxl__unsupported(nxl_error *err, int code, const char *method,
                     const char *reason)
{
    assert(code == NXL_E_UNSUPPORTED || code == NXL_E_QUIESCE_UNSUPP);
    assert(method && reason && reason[0]);
    return nxl_error_set(err, code, "%s: %s", method, reason);
}

/* ---- events: nova's base-class behaviour ----------------------------------
 */

int nxl__driver_register_event_listener(nxl_driver *drv, nxl_event_fn *cb,
                                        void *opaque, nxl_error *err)
{
    pthread_mutex_lock(&drv->listener_lock);
    drv->listener = cb;
    drv->listener_opaque = cb ? opaque : NULL;
    pthread_mutex_unlock(&drv->listener_lock);
    return 0;
}

int nxl__driver_emit_event(nxl_driver *drv, const nxl_event *ev, nxl_error *err)
{
    nxl_event_fn *cb;
    void *opaque;

    pthread_mutex_lock(&drv->listener_lock);
    cb = drv->listener;
    opaque = drv->listener_opaque;
    if (ev->transition == NXL_EVENT_AGGREGATE &&
        !(drv->listener_kinds & NXL_EVENT_KIND_AGGREGATE))
        cb = NULL; /* a lifecycle-only listener: not for it */
    pthread_mutex_unlock(&drv->listener_lock);
    /* Called unlocked, so that a listener may re-register; with none,
     * the event is dropped as nova's emit_event drops it. */
    if (cb)
        cb(opaque, ev);
    else
        nxl__debug("emit_event: no listener for %s of %s",
                   nxl_event_transition_name(ev->transition), ev->uuid);
    return 0;
}

/* ---- dispatchers -----------------------------------------------------------
 */

/* contract: capabilities */
int nxl_driver_capabilities(nxl_driver *drv, const nxl_capabilities **caps_r,
                            nxl_error *err)
{
    if (!drv)
        return null_arg(err, "capabilities", "drv");
    if (!caps_r)
        return null_arg(err, "capabilities", "caps_r");
    if (!drv->ops->capabilities)
        return not_implemented(drv, "capabilities", err);
    *caps_r = drv->ops->capabilities;
    return 0;
}

/* contract: need_legacy_block_device_info */
int nxl_driver_need_legacy_block_device_info(nxl_driver *drv, bool *legacy_r,
                                             nxl_error *err)
{
    if (!drv)
        return null_arg(err, "need_legacy_block_device_info", "drv");
    if (!legacy_r)
        return null_arg(err, "need_legacy_block_device_info", "legacy_r");
    if (!drv->ops->need_legacy_block_device_info)
        return not_implemented(drv, "need_legacy_block_device_info", err);
    return drv->ops->need_legacy_block_device_info(drv, legacy_r, err);
}

/* contract: is_xenapi */
int nxl_driver_is_xenapi(nxl_driver *drv, bool *is_xenapi_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "is_xenapi", "drv");
    if (!is_xenapi_r)
        return null_arg(err, "is_xenapi", "is_xenapi_r");
    if (!drv->ops->is_xenapi)
        return not_implemented(drv, "is_xenapi", err);
    return drv->ops->is_xenapi(drv, is_xenapi_r, err);
}

/* contract: is_supported_fs_format */
int nxl_driver_is_supported_fs_format(nxl_driver *drv, const char *fs_type,
                                      bool *supported_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "is_supported_fs_format", "drv");
    if (!fs_type)
        return null_arg(err, "is_supported_fs_format", "fs_type");
    if (!supported_r)
        return null_arg(err, "is_supported_fs_format", "supported_r");
    if (!drv->ops->is_supported_fs_format)
        return not_implemented(drv, "is_supported_fs_format", err);
    return drv->ops->is_supported_fs_format(drv, fs_type, supported_r, err);
}

/* contract: register_event_listener */
int nxl_driver_register_event_listener(nxl_driver *drv, nxl_event_fn *cb,
                                       void *opaque, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "register_event_listener", "drv");
    if (!drv->ops->register_event_listener)
        return not_implemented(drv, "register_event_listener", err);
    return drv->ops->register_event_listener(drv, cb, opaque, err);
}

int nxl_driver_set_event_kinds(nxl_driver *drv, unsigned kinds, nxl_error *err)
{
    unsigned unknown =
        kinds & ~(NXL_EVENT_KIND_LIFECYCLE | NXL_EVENT_KIND_AGGREGATE);

    if (!drv)
        return null_arg(err, "set_event_kinds", "drv");
    if (unknown)
        return nxl_error_set(err, NXL_E_INVAL,
                             "set_event_kinds: unknown kind bits 0x%x",
                             unknown);
    pthread_mutex_lock(&drv->listener_lock);
    drv->listener_kinds = kinds;
    pthread_mutex_unlock(&drv->listener_lock);
    return 0;
}

/* contract: emit_event */
int nxl_driver_emit_event(nxl_driver *drv, const nxl_event *ev, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "emit_event", "drv");
    if (!ev)
        return null_arg(err, "emit_event", "ev");
    if ((rc = nxl_uuid_validate(ev->uuid, "emit_event: event.uuid", err)) < 0)
        return rc;
    /* Aggregate events come from the driver's own state machine only: an
     * nxl_event from a caller has nothing behind its base. */
    if (ev->transition == NXL_EVENT_AGGREGATE ||
        !strcmp(nxl_event_transition_name(ev->transition), "unknown"))
        return nxl_error_set(err, NXL_E_INVAL,
                             "emit_event: unknown transition %d",
                             ev->transition);
    if (!drv->ops->emit_event)
        return not_implemented(drv, "emit_event", err);
    return drv->ops->emit_event(drv, ev, err);
}

/* contract: init_host */
int nxl_host_init(nxl_driver *drv, const char *host, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "init_host", "drv");
    if ((rc = check_name(host, "init_host", "host", err)) < 0)
        return rc;
    if (!drv->ops->init_host)
        return not_implemented(drv, "init_host", err);
    return drv->ops->init_host(drv, host, err);
}

/* contract: cleanup_host */
int nxl_host_cleanup(nxl_driver *drv, const char *host, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "cleanup_host", "drv");
    if ((rc = check_name(host, "cleanup_host", "host", err)) < 0)
        return rc;
    if (!drv->ops->cleanup_host)
        return not_implemented(drv, "cleanup_host", err);
    return drv->ops->cleanup_host(drv, host, err);
}

/* contract: list_instances */
int nxl_host_list_instances(nxl_driver *drv, nxl_strv *names_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "list_instances", "drv");
    if (!names_r)
        return null_arg(err, "list_instances", "names_r");
    if (!drv->ops->list_instances)
        return not_implemented(drv, "list_instances", err);
    return drv->ops->list_instances(drv, names_r, err);
}

/* contract: list_instance_uuids */
int nxl_host_list_instance_uuids(nxl_driver *drv, nxl_strv *uuids_r,
                                 nxl_error *err)
{
    if (!drv)
        return null_arg(err, "list_instance_uuids", "drv");
    if (!uuids_r)
        return null_arg(err, "list_instance_uuids", "uuids_r");
    if (!drv->ops->list_instance_uuids)
        return not_implemented(drv, "list_instance_uuids", err);
    return drv->ops->list_instance_uuids(drv, uuids_r, err);
}

/* contract: get_num_instances */
int nxl_host_get_num_instances(nxl_driver *drv, size_t *n_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_num_instances", "drv");
    if (!n_r)
        return null_arg(err, "get_num_instances", "n_r");
    if (!drv->ops->get_num_instances)
        return not_implemented(drv, "get_num_instances", err);
    return drv->ops->get_num_instances(drv, n_r, err);
}

/* contract: get_available_nodes */
int nxl_host_get_available_nodes(nxl_driver *drv, bool refresh,
                                 nxl_strv *nodes_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_available_nodes", "drv");
    if (!nodes_r)
        return null_arg(err, "get_available_nodes", "nodes_r");
    if (!drv->ops->get_available_nodes)
        return not_implemented(drv, "get_available_nodes", err);
    return drv->ops->get_available_nodes(drv, refresh, nodes_r, err);
}

/* contract: node_is_available */
int nxl_host_node_is_available(nxl_driver *drv, const char *nodename,
                               bool *available_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "node_is_available", "drv");
    if (nodename &&
        (rc = check_name(nodename, "node_is_available", "nodename", err)) < 0)
        return rc;
    if (!available_r)
        return null_arg(err, "node_is_available", "available_r");
    if (!drv->ops->node_is_available)
        return not_implemented(drv, "node_is_available", err);
    return drv->ops->node_is_available(drv, nodename, available_r, err);
}

/* contract: get_available_resource */
int nxl_host_get_available_resource(nxl_driver *drv, const char *nodename,
                                    nxl_host_resources *res_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_available_resource", "drv");
    if (nodename && (rc = check_name(nodename, "get_available_resource",
                                     "nodename", err)) < 0)
        return rc;
    if (!res_r)
        return null_arg(err, "get_available_resource", "res_r");
    if (!drv->ops->get_available_resource)
        return not_implemented(drv, "get_available_resource", err);
    return drv->ops->get_available_resource(drv, nodename, res_r, err);
}

/* contract: get_host_cpu_stats */
int nxl_host_get_cpu_stats(nxl_driver *drv, nxl_host_cpu_stats *stats_r,
                           nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_host_cpu_stats", "drv");
    if (!stats_r)
        return null_arg(err, "get_host_cpu_stats", "stats_r");
    if (!drv->ops->get_host_cpu_stats)
        return not_implemented(drv, "get_host_cpu_stats", err);
    return drv->ops->get_host_cpu_stats(drv, stats_r, err);
}

/* contract: get_host_ip_addr */
int nxl_host_get_ip_addr(nxl_driver *drv, char **ip_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_host_ip_addr", "drv");
    if (!ip_r)
        return null_arg(err, "get_host_ip_addr", "ip_r");
    if (!drv->ops->get_host_ip_addr)
        return not_implemented(drv, "get_host_ip_addr", err);
    return drv->ops->get_host_ip_addr(drv, ip_r, err);
}

/* contract: get_host_uptime */
int nxl_host_get_uptime(nxl_driver *drv, char **uptime_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_host_uptime", "drv");
    if (!uptime_r)
        return null_arg(err, "get_host_uptime", "uptime_r");
    if (!drv->ops->get_host_uptime)
        return not_implemented(drv, "get_host_uptime", err);
    return drv->ops->get_host_uptime(drv, uptime_r, err);
}

/* contract: set_host_enabled */
int nxl_host_set_enabled(nxl_driver *drv, bool enabled, const char **result_r,
                         nxl_error *err)
{
    if (!drv)
        return null_arg(err, "set_host_enabled", "drv");
    if (!result_r)
        return null_arg(err, "set_host_enabled", "result_r");
    if (!drv->ops->set_host_enabled)
        return not_implemented(drv, "set_host_enabled", err);
    return drv->ops->set_host_enabled(drv, enabled, result_r, err);
}

/* contract: host_maintenance_mode */
int nxl_host_maintenance_mode(nxl_driver *drv, const char *host, bool mode,
                              nxl_maintenance *result_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "host_maintenance_mode", "drv");
    if ((rc = check_name(host, "host_maintenance_mode", "host", err)) < 0)
        return rc;
    if (!result_r)
        return null_arg(err, "host_maintenance_mode", "result_r");
    if (!drv->ops->host_maintenance_mode)
        return not_implemented(drv, "host_maintenance_mode", err);
    return drv->ops->host_maintenance_mode(drv, host, mode, result_r, err);
}

/* contract: host_power_action */
int nxl_host_power_action(nxl_driver *drv, const char *action, char **result_r,
                          nxl_error *err)
{
    if (!drv)
        return null_arg(err, "host_power_action", "drv");
    if (!action)
        return null_arg(err, "host_power_action", "action");
    if (strcmp(action, "startup") != 0 && strcmp(action, "shutdown") != 0 &&
        strcmp(action, "reboot") != 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "host_power_action: action '%s' is not startup, "
                             "shutdown or reboot",
                             action);
    if (!result_r)
        return null_arg(err, "host_power_action", "result_r");
    if (!drv->ops->host_power_action)
        return not_implemented(drv, "host_power_action", err);
    return drv->ops->host_power_action(drv, action, result_r, err);
}

/* contract: get_console_pool_info */
int nxl_host_get_console_pool_info(nxl_driver *drv, const char *console_type,
                                   nxl_console_pool *pool_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_console_pool_info", "drv");
    if (!console_type)
        return null_arg(err, "get_console_pool_info", "console_type");
    if (!pool_r)
        return null_arg(err, "get_console_pool_info", "pool_r");
    if (!drv->ops->get_console_pool_info)
        return not_implemented(drv, "get_console_pool_info", err);
    return drv->ops->get_console_pool_info(drv, console_type, pool_r, err);
}

/* contract: get_all_bw_counters */
int nxl_host_get_all_bw_counters(nxl_driver *drv, const nxl_instance *instances,
                                 size_t n, nxl_bw_counter_list *bw_r,
                                 nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_all_bw_counters", "drv");
    if (!instances && n > 0)
        return null_arg(err, "get_all_bw_counters", "instances");
    if (!bw_r)
        return null_arg(err, "get_all_bw_counters", "bw_r");
    if (!drv->ops->get_all_bw_counters)
        return not_implemented(drv, "get_all_bw_counters", err);
    return drv->ops->get_all_bw_counters(drv, instances, n, bw_r, err);
}

/* contract: get_all_volume_usage */
int nxl_host_get_all_volume_usage(nxl_driver *drv,
                                  const nxl_instance_bdms *host_bdms, size_t n,
                                  nxl_volume_usage_list *usage_r,
                                  nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_all_volume_usage", "drv");
    if (!host_bdms && n > 0)
        return null_arg(err, "get_all_volume_usage", "host_bdms");
    if (!usage_r)
        return null_arg(err, "get_all_volume_usage", "usage_r");
    if (!drv->ops->get_all_volume_usage)
        return not_implemented(drv, "get_all_volume_usage", err);
    return drv->ops->get_all_volume_usage(drv, host_bdms, n, usage_r, err);
}

/* contract: get_per_instance_usage */
int nxl_host_get_per_instance_usage(nxl_driver *drv,
                                    nxl_instance_usage_list *usage_r,
                                    nxl_error *err)
{
    if (!drv)
        return null_arg(err, "get_per_instance_usage", "drv");
    if (!usage_r)
        return null_arg(err, "get_per_instance_usage", "usage_r");
    if (!drv->ops->get_per_instance_usage)
        return not_implemented(drv, "get_per_instance_usage", err);
    return drv->ops->get_per_instance_usage(drv, usage_r, err);
}

/* contract: poll_rebooting_instances */
int nxl_host_poll_rebooting_instances(nxl_driver *drv, unsigned int timeout,
                                      const nxl_instance *instances, size_t n,
                                      nxl_error *err)
{
    if (!drv)
        return null_arg(err, "poll_rebooting_instances", "drv");
    if (!instances && n > 0)
        return null_arg(err, "poll_rebooting_instances", "instances");
    if (!drv->ops->poll_rebooting_instances)
        return not_implemented(drv, "poll_rebooting_instances", err);
    return drv->ops->poll_rebooting_instances(drv, timeout, instances, n, err);
}

/* contract: manage_image_cache */
int nxl_host_manage_image_cache(nxl_driver *drv,
                                const nxl_instance *all_instances, size_t n,
                                nxl_error *err)
{
    if (!drv)
        return null_arg(err, "manage_image_cache", "drv");
    if (!all_instances && n > 0)
        return null_arg(err, "manage_image_cache", "all_instances");
    if (!drv->ops->manage_image_cache)
        return not_implemented(drv, "manage_image_cache", err);
    return drv->ops->manage_image_cache(drv, all_instances, n, err);
}

/* contract: filter_defer_apply_on */
int nxl_host_filter_defer_apply_on(nxl_driver *drv, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "filter_defer_apply_on", "drv");
    if (!drv->ops->filter_defer_apply_on)
        return not_implemented(drv, "filter_defer_apply_on", err);
    return drv->ops->filter_defer_apply_on(drv, err);
}

/* contract: filter_defer_apply_off */
int nxl_host_filter_defer_apply_off(nxl_driver *drv, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "filter_defer_apply_off", "drv");
    if (!drv->ops->filter_defer_apply_off)
        return not_implemented(drv, "filter_defer_apply_off", err);
    return drv->ops->filter_defer_apply_off(drv, err);
}

/* contract: refresh_security_group_rules */
int nxl_host_refresh_security_group_rules(nxl_driver *drv,
                                          const char *security_group_id,
                                          nxl_error *err)
{
    if (!drv)
        return null_arg(err, "refresh_security_group_rules", "drv");
    if (!security_group_id)
        return null_arg(err, "refresh_security_group_rules",
                        "security_group_id");
    if (!drv->ops->refresh_security_group_rules)
        return not_implemented(drv, "refresh_security_group_rules", err);
    return drv->ops->refresh_security_group_rules(drv, security_group_id, err);
}

/* contract: add_to_aggregate */
int nxl_aggregate_add_host(nxl_driver *drv, const nxl_aggregate *agg,
                           const char *host, const char *kwargs_json,
                           nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "add_to_aggregate", "drv");
    if (!agg)
        return null_arg(err, "add_to_aggregate", "agg");
    if ((rc = check_name(agg->name, "add_to_aggregate", "aggregate.name",
                         err)) < 0)
        return rc;
    if ((rc = check_name(host, "add_to_aggregate", "host", err)) < 0)
        return rc;
    if (!drv->ops->add_to_aggregate)
        return not_implemented(drv, "add_to_aggregate", err);
    return drv->ops->add_to_aggregate(drv, agg, host, kwargs_json, err);
}

/* contract: remove_from_aggregate */
int nxl_aggregate_remove_host(nxl_driver *drv, const nxl_aggregate *agg,
                              const char *host, const char *kwargs_json,
                              nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "remove_from_aggregate", "drv");
    if (!agg)
        return null_arg(err, "remove_from_aggregate", "agg");
    if ((rc = check_name(agg->name, "remove_from_aggregate", "aggregate.name",
                         err)) < 0)
        return rc;
    if ((rc = check_name(host, "remove_from_aggregate", "host", err)) < 0)
        return rc;
    if (!drv->ops->remove_from_aggregate)
        return not_implemented(drv, "remove_from_aggregate", err);
    return drv->ops->remove_from_aggregate(drv, agg, host, kwargs_json, err);
}

/* contract: undo_aggregate_operation */
int nxl_aggregate_undo_operation(nxl_driver *drv, const char *op,
                                 const nxl_aggregate *agg, const char *host,
                                 bool set_error, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "undo_aggregate_operation", "drv");
    if (!op)
        return null_arg(err, "undo_aggregate_operation", "op");
    /* nova passes the operation itself; only its two inverses exist. */
    if (strcmp(op, "add_to_aggregate") != 0 &&
        strcmp(op, "remove_from_aggregate") != 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "undo_aggregate_operation: op '%s' is neither "
                             "add_to_aggregate nor remove_from_aggregate",
                             op);
    if (!agg)
        return null_arg(err, "undo_aggregate_operation", "agg");
    if ((rc = check_name(agg->name, "undo_aggregate_operation",
                         "aggregate.name", err)) < 0)
        return rc;
    if ((rc = check_name(host, "undo_aggregate_operation", "host", err)) < 0)
        return rc;
    if (!drv->ops->undo_aggregate_operation)
        return not_implemented(drv, "undo_aggregate_operation", err);
    return drv->ops->undo_aggregate_operation(drv, op, agg, host, set_error,
                                              err);
}

int nxl_aggregate_get_record(nxl_driver *drv, int64_t id, char **json_r,
                             nxl_error *err)
{
    if (!drv)
        return null_arg(err, "aggregate_record", "drv");
    if (!json_r)
        return null_arg(err, "aggregate_record", "json_r");
    if (id < 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "aggregate_record: id %lld is negative",
                             (long long)id);
    if (!drv->ops->aggregate_record)
        return not_implemented(drv, "aggregate_record", err);
    return drv->ops->aggregate_record(drv, id, json_r, err);
}

int nxl_instance_get_request(nxl_driver *drv, const nxl_instance *inst,
                             char **json_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "instance_request", "drv");
    if ((rc = check_instance(inst, "instance_request", err)) < 0)
        return rc;
    if (!json_r)
        return null_arg(err, "instance_request", "json_r");
    *json_r = NULL;
    if (!drv->ops->instance_request)
        return not_implemented(drv, "instance_request", err);
    return drv->ops->instance_request(drv, inst, json_r, err);
}

int nxl_host_get_console_warning(nxl_driver *drv, char **warning_r,
                                 nxl_error *err)
{
    if (!drv)
        return null_arg(err, "console_warning", "drv");
    if (!warning_r)
        return null_arg(err, "console_warning", "warning_r");
    *warning_r = NULL;
    if (!drv->ops->console_warning)
        return not_implemented(drv, "console_warning", err);
    return drv->ops->console_warning(drv, warning_r, err);
}

/* contract: spawn */
int nxl_instance_spawn(nxl_driver *drv, const nxl_spawn_req *req,
                       nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "spawn", "drv");
    if (!req)
        return null_arg(err, "spawn", "req");
    if ((rc = check_instance(&req->instance, "spawn", err)) < 0)
        return rc;
    if (!drv->ops->spawn)
        return not_implemented(drv, "spawn", err);
    return drv->ops->spawn(drv, req, err);
}

/* contract: destroy */
int nxl_instance_destroy(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_network_info *network_info,
                         const nxl_block_device_info *bdi, bool destroy_disks,
                         const char *migrate_data_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "destroy", "drv");
    if ((rc = check_instance(inst, "destroy", err)) < 0)
        return rc;
    if (!drv->ops->destroy)
        return not_implemented(drv, "destroy", err);
    return drv->ops->destroy(drv, inst, network_info, bdi, destroy_disks,
                             migrate_data_json, err);
}

/* contract: cleanup */
int nxl_instance_cleanup(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_network_info *network_info,
                         const nxl_block_device_info *bdi, bool destroy_disks,
                         const char *migrate_data_json, bool destroy_vifs,
                         nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "cleanup", "drv");
    if ((rc = check_instance(inst, "cleanup", err)) < 0)
        return rc;
    if (!drv->ops->cleanup)
        return not_implemented(drv, "cleanup", err);
    return drv->ops->cleanup(drv, inst, network_info, bdi, destroy_disks,
                             migrate_data_json, destroy_vifs, err);
}

/* contract: rebuild */
int nxl_instance_rebuild(nxl_driver *drv, const nxl_spawn_req *req,
                         nxl_block_devices_fn *block_devices, void *opaque,
                         bool recreate, bool preserve_ephemeral, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "rebuild", "drv");
    if (!req)
        return null_arg(err, "rebuild", "req");
    if ((rc = check_instance(&req->instance, "rebuild", err)) < 0)
        return rc;
    if (!drv->ops->rebuild)
        return not_implemented(drv, "rebuild", err);
    return drv->ops->rebuild(drv, req, block_devices, opaque, recreate,
                             preserve_ephemeral, err);
}

/* contract: get_info */
int nxl_instance_get_info(nxl_driver *drv, const nxl_instance *inst,
                          nxl_instance_info *info_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_info", "drv");
    if ((rc = check_instance(inst, "get_info", err)) < 0)
        return rc;
    if (!info_r)
        return null_arg(err, "get_info", "info_r");
    if (!drv->ops->get_info)
        return not_implemented(drv, "get_info", err);
    return drv->ops->get_info(drv, inst, info_r, err);
}

/* contract: instance_exists */
int nxl_instance_exists(nxl_driver *drv, const nxl_instance *inst,
                        bool *exists_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "instance_exists", "drv");
    if ((rc = check_instance(inst, "instance_exists", err)) < 0)
        return rc;
    if (!exists_r)
        return null_arg(err, "instance_exists", "exists_r");
    if (!drv->ops->instance_exists)
        return not_implemented(drv, "instance_exists", err);
    return drv->ops->instance_exists(drv, inst, exists_r, err);
}

/* contract: instance_on_disk */
int nxl_instance_on_disk(nxl_driver *drv, const nxl_instance *inst,
                         bool *on_disk_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "instance_on_disk", "drv");
    if ((rc = check_instance(inst, "instance_on_disk", err)) < 0)
        return rc;
    if (!on_disk_r)
        return null_arg(err, "instance_on_disk", "on_disk_r");
    if (!drv->ops->instance_on_disk)
        return not_implemented(drv, "instance_on_disk", err);
    return drv->ops->instance_on_disk(drv, inst, on_disk_r, err);
}

/* contract: delete_instance_files */
int nxl_instance_delete_files(nxl_driver *drv, const nxl_instance *inst,
                              bool *deleted_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "delete_instance_files", "drv");
    if ((rc = check_instance(inst, "delete_instance_files", err)) < 0)
        return rc;
    if (!deleted_r)
        return null_arg(err, "delete_instance_files", "deleted_r");
    if (!drv->ops->delete_instance_files)
        return not_implemented(drv, "delete_instance_files", err);
    return drv->ops->delete_instance_files(drv, inst, deleted_r, err);
}

/* contract: reboot */
int nxl_instance_reboot(nxl_driver *drv, const nxl_instance *inst,
                        const nxl_network_info *network_info, int reboot_type,
                        const nxl_block_device_info *bdi,
                        nxl_bad_volumes_fn *bad_volumes, void *opaque,
                        nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "reboot", "drv");
    if ((rc = check_instance(inst, "reboot", err)) < 0)
        return rc;
    if (reboot_type != NXL_REBOOT_SOFT && reboot_type != NXL_REBOOT_HARD)
        return nxl_error_set(err, NXL_E_INVAL,
                             "reboot: reboot_type %d is neither SOFT nor HARD",
                             reboot_type);
    if (!drv->ops->reboot)
        return not_implemented(drv, "reboot", err);
    return drv->ops->reboot(drv, inst, network_info, reboot_type, bdi,
                            bad_volumes, opaque, err);
}

/* contract: power_off */
int nxl_instance_power_off(nxl_driver *drv, const nxl_instance *inst,
                           unsigned int timeout, unsigned int retry_interval,
                           nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "power_off", "drv");
    if ((rc = check_instance(inst, "power_off", err)) < 0)
        return rc;
    if (!drv->ops->power_off)
        return not_implemented(drv, "power_off", err);
    return drv->ops->power_off(drv, inst, timeout, retry_interval, err);
}

/* contract: power_on */
int nxl_instance_power_on(nxl_driver *drv, const nxl_instance *inst,
                          const nxl_network_info *network_info,
                          const nxl_block_device_info *bdi, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "power_on", "drv");
    if ((rc = check_instance(inst, "power_on", err)) < 0)
        return rc;
    if (!drv->ops->power_on)
        return not_implemented(drv, "power_on", err);
    return drv->ops->power_on(drv, inst, network_info, bdi, err);
}

/* contract: pause */
int nxl_instance_pause(nxl_driver *drv, const nxl_instance *inst,
                       nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "pause", "drv");
    if ((rc = check_instance(inst, "pause", err)) < 0)
        return rc;
    if (!drv->ops->pause)
        return not_implemented(drv, "pause", err);
    return drv->ops->pause(drv, inst, err);
}

/* contract: unpause */
int nxl_instance_unpause(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "unpause", "drv");
    if ((rc = check_instance(inst, "unpause", err)) < 0)
        return rc;
    if (!drv->ops->unpause)
        return not_implemented(drv, "unpause", err);
    return drv->ops->unpause(drv, inst, err);
}

/* contract: suspend */
int nxl_instance_suspend(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "suspend", "drv");
    if ((rc = check_instance(inst, "suspend", err)) < 0)
        return rc;
    if (!drv->ops->suspend)
        return not_implemented(drv, "suspend", err);
    return drv->ops->suspend(drv, inst, err);
}

/* contract: resume */
int nxl_instance_resume(nxl_driver *drv, const nxl_instance *inst,
                        const nxl_network_info *network_info,
                        const nxl_block_device_info *bdi, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "resume", "drv");
    if ((rc = check_instance(inst, "resume", err)) < 0)
        return rc;
    if (!drv->ops->resume)
        return not_implemented(drv, "resume", err);
    return drv->ops->resume(drv, inst, network_info, bdi, err);
}

/* contract: resume_state_on_host_boot */
int nxl_instance_resume_state_on_host_boot(nxl_driver *drv,
                                           const nxl_instance *inst,
                                           const nxl_network_info *network_info,
                                           const nxl_block_device_info *bdi,
                                           nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "resume_state_on_host_boot", "drv");
    if ((rc = check_instance(inst, "resume_state_on_host_boot", err)) < 0)
        return rc;
    if (!drv->ops->resume_state_on_host_boot)
        return not_implemented(drv, "resume_state_on_host_boot", err);
    return drv->ops->resume_state_on_host_boot(drv, inst, network_info, bdi,
                                               err);
}

/* contract: soft_delete */
int nxl_instance_soft_delete(nxl_driver *drv, const nxl_instance *inst,
                             nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "soft_delete", "drv");
    if ((rc = check_instance(inst, "soft_delete", err)) < 0)
        return rc;
    if (!drv->ops->soft_delete)
        return not_implemented(drv, "soft_delete", err);
    return drv->ops->soft_delete(drv, inst, err);
}

/* contract: restore */
int nxl_instance_restore(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "restore", "drv");
    if ((rc = check_instance(inst, "restore", err)) < 0)
        return rc;
    if (!drv->ops->restore)
        return not_implemented(drv, "restore", err);
    return drv->ops->restore(drv, inst, err);
}

/* contract: rescue */
int nxl_instance_rescue(nxl_driver *drv, const nxl_instance *inst,
                        const nxl_network_info *network_info,
                        const nxl_image_meta *image_meta,
                        const char *rescue_password, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "rescue", "drv");
    if ((rc = check_instance(inst, "rescue", err)) < 0)
        return rc;
    if (!image_meta)
        return null_arg(err, "rescue", "image_meta");
    if (!drv->ops->rescue)
        return not_implemented(drv, "rescue", err);
    return drv->ops->rescue(drv, inst, network_info, image_meta,
                            rescue_password, err);
}

/* contract: unrescue */
int nxl_instance_unrescue(nxl_driver *drv, const nxl_instance *inst,
                          const nxl_network_info *network_info, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "unrescue", "drv");
    if ((rc = check_instance(inst, "unrescue", err)) < 0)
        return rc;
    if (!drv->ops->unrescue)
        return not_implemented(drv, "unrescue", err);
    return drv->ops->unrescue(drv, inst, network_info, err);
}

/* contract: set_bootable */
int nxl_instance_set_bootable(nxl_driver *drv, const nxl_instance *inst,
                              bool is_bootable, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "set_bootable", "drv");
    if ((rc = check_instance(inst, "set_bootable", err)) < 0)
        return rc;
    if (!drv->ops->set_bootable)
        return not_implemented(drv, "set_bootable", err);
    return drv->ops->set_bootable(drv, inst, is_bootable, err);
}

/* contract: trigger_crash_dump */
int nxl_instance_trigger_crash_dump(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "trigger_crash_dump", "drv");
    if ((rc = check_instance(inst, "trigger_crash_dump", err)) < 0)
        return rc;
    if (!drv->ops->trigger_crash_dump)
        return not_implemented(drv, "trigger_crash_dump", err);
    return drv->ops->trigger_crash_dump(drv, inst, err);
}

/* contract: estimate_instance_overhead */
int nxl_instance_estimate_overhead(nxl_driver *drv, const nxl_instance *inst,
                                   nxl_overhead *overhead_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "estimate_instance_overhead", "drv");
    if ((rc = check_instance(inst, "estimate_instance_overhead", err)) < 0)
        return rc;
    if (!overhead_r)
        return null_arg(err, "estimate_instance_overhead", "overhead_r");
    if (!drv->ops->estimate_instance_overhead)
        return not_implemented(drv, "estimate_instance_overhead", err);
    return drv->ops->estimate_instance_overhead(drv, inst, overhead_r, err);
}

/* contract: get_console_output */
int nxl_instance_get_console_output(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_buf *out_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_console_output", "drv");
    if ((rc = check_instance(inst, "get_console_output", err)) < 0)
        return rc;
    if (!out_r)
        return null_arg(err, "get_console_output", "out_r");
    if (!drv->ops->get_console_output)
        return not_implemented(drv, "get_console_output", err);
    return drv->ops->get_console_output(drv, inst, out_r, err);
}

/* contract: get_vnc_console */
int nxl_instance_get_vnc_console(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_console *console_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_vnc_console", "drv");
    if ((rc = check_instance(inst, "get_vnc_console", err)) < 0)
        return rc;
    if (!console_r)
        return null_arg(err, "get_vnc_console", "console_r");
    if (!drv->ops->get_vnc_console)
        return not_implemented(drv, "get_vnc_console", err);
    return drv->ops->get_vnc_console(drv, inst, console_r, err);
}

/* contract: get_spice_console */
int nxl_instance_get_spice_console(nxl_driver *drv, const nxl_instance *inst,
                                   nxl_console *console_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_spice_console", "drv");
    if ((rc = check_instance(inst, "get_spice_console", err)) < 0)
        return rc;
    if (!console_r)
        return null_arg(err, "get_spice_console", "console_r");
    if (!drv->ops->get_spice_console)
        return not_implemented(drv, "get_spice_console", err);
    return drv->ops->get_spice_console(drv, inst, console_r, err);
}

/* contract: get_serial_console */
int nxl_instance_get_serial_console(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_console *console_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_serial_console", "drv");
    if ((rc = check_instance(inst, "get_serial_console", err)) < 0)
        return rc;
    if (!console_r)
        return null_arg(err, "get_serial_console", "console_r");
    if (!drv->ops->get_serial_console)
        return not_implemented(drv, "get_serial_console", err);
    return drv->ops->get_serial_console(drv, inst, console_r, err);
}

/* contract: get_rdp_console */
int nxl_instance_get_rdp_console(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_console *console_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_rdp_console", "drv");
    if ((rc = check_instance(inst, "get_rdp_console", err)) < 0)
        return rc;
    if (!console_r)
        return null_arg(err, "get_rdp_console", "console_r");
    if (!drv->ops->get_rdp_console)
        return not_implemented(drv, "get_rdp_console", err);
    return drv->ops->get_rdp_console(drv, inst, console_r, err);
}

/* contract: get_mks_console */
int nxl_instance_get_mks_console(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_console *console_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_mks_console", "drv");
    if ((rc = check_instance(inst, "get_mks_console", err)) < 0)
        return rc;
    if (!console_r)
        return null_arg(err, "get_mks_console", "console_r");
    if (!drv->ops->get_mks_console)
        return not_implemented(drv, "get_mks_console", err);
    return drv->ops->get_mks_console(drv, inst, console_r, err);
}

/* contract: get_diagnostics */
int nxl_instance_get_diagnostics_json(nxl_driver *drv, const nxl_instance *inst,
                                      char **diag_json_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_diagnostics", "drv");
    if ((rc = check_instance(inst, "get_diagnostics", err)) < 0)
        return rc;
    if (!diag_json_r)
        return null_arg(err, "get_diagnostics", "diag_json_r");
    if (!drv->ops->get_diagnostics)
        return not_implemented(drv, "get_diagnostics", err);
    return drv->ops->get_diagnostics(drv, inst, diag_json_r, err);
}

/* contract: get_instance_diagnostics */
int nxl_instance_get_diagnostics(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_diagnostics *diag_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_instance_diagnostics", "drv");
    if ((rc = check_instance(inst, "get_instance_diagnostics", err)) < 0)
        return rc;
    if (!diag_r)
        return null_arg(err, "get_instance_diagnostics", "diag_r");
    if (!drv->ops->get_instance_diagnostics)
        return not_implemented(drv, "get_instance_diagnostics", err);
    return drv->ops->get_instance_diagnostics(drv, inst, diag_r, err);
}

/* contract: get_instance_disk_info */
int nxl_instance_get_disk_info(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_block_device_info *bdi,
                               nxl_disk_info_list *disks_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_instance_disk_info", "drv");
    if ((rc = check_instance(inst, "get_instance_disk_info", err)) < 0)
        return rc;
    if (!disks_r)
        return null_arg(err, "get_instance_disk_info", "disks_r");
    if (!drv->ops->get_instance_disk_info)
        return not_implemented(drv, "get_instance_disk_info", err);
    return drv->ops->get_instance_disk_info(drv, inst, bdi, disks_r, err);
}

/* contract: block_stats */
int nxl_instance_block_stats(nxl_driver *drv, const nxl_instance *inst,
                             const char *disk_id, nxl_block_stats *stats_r,
                             nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "block_stats", "drv");
    if ((rc = check_instance(inst, "block_stats", err)) < 0)
        return rc;
    if (!disk_id)
        return null_arg(err, "block_stats", "disk_id");
    if (!stats_r)
        return null_arg(err, "block_stats", "stats_r");
    if (!drv->ops->block_stats)
        return not_implemented(drv, "block_stats", err);
    return drv->ops->block_stats(drv, inst, disk_id, stats_r, err);
}

/* contract: change_instance_metadata */
int nxl_instance_change_metadata(nxl_driver *drv, const nxl_instance *inst,
                                 const char *diff_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "change_instance_metadata", "drv");
    if ((rc = check_instance(inst, "change_instance_metadata", err)) < 0)
        return rc;
    if (!diff_json)
        return null_arg(err, "change_instance_metadata", "diff_json");
    if (!drv->ops->change_instance_metadata)
        return not_implemented(drv, "change_instance_metadata", err);
    return drv->ops->change_instance_metadata(drv, inst, diff_json, err);
}

/* contract: set_admin_password */
int nxl_instance_set_admin_password(nxl_driver *drv, const nxl_instance *inst,
                                    const char *new_pass, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "set_admin_password", "drv");
    if ((rc = check_instance(inst, "set_admin_password", err)) < 0)
        return rc;
    if (!new_pass)
        return null_arg(err, "set_admin_password", "new_pass");
    if (!drv->ops->set_admin_password)
        return not_implemented(drv, "set_admin_password", err);
    return drv->ops->set_admin_password(drv, inst, new_pass, err);
}

/* contract: inject_file */
int nxl_instance_inject_file(nxl_driver *drv, const nxl_instance *inst,
                             const char *b64_path, const char *b64_contents,
                             nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "inject_file", "drv");
    if ((rc = check_instance(inst, "inject_file", err)) < 0)
        return rc;
    if (!b64_path)
        return null_arg(err, "inject_file", "b64_path");
    if (!b64_contents)
        return null_arg(err, "inject_file", "b64_contents");
    if (!drv->ops->inject_file)
        return not_implemented(drv, "inject_file", err);
    return drv->ops->inject_file(drv, inst, b64_path, b64_contents, err);
}

/* contract: quiesce */
int nxl_instance_quiesce(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_image_meta *image_meta, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "quiesce", "drv");
    if ((rc = check_instance(inst, "quiesce", err)) < 0)
        return rc;
    if (!drv->ops->quiesce)
        return not_implemented(drv, "quiesce", err);
    return drv->ops->quiesce(drv, inst, image_meta, err);
}

/* contract: unquiesce */
int nxl_instance_unquiesce(nxl_driver *drv, const nxl_instance *inst,
                           const nxl_image_meta *image_meta, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "unquiesce", "drv");
    if ((rc = check_instance(inst, "unquiesce", err)) < 0)
        return rc;
    if (!drv->ops->unquiesce)
        return not_implemented(drv, "unquiesce", err);
    return drv->ops->unquiesce(drv, inst, image_meta, err);
}

/* contract: snapshot */
int nxl_instance_snapshot(nxl_driver *drv, const nxl_instance *inst,
                          const char *image_id,
                          nxl_task_state_fn *update_task_state, void *opaque,
                          nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "snapshot", "drv");
    if ((rc = check_instance(inst, "snapshot", err)) < 0)
        return rc;
    if (!image_id)
        return null_arg(err, "snapshot", "image_id");
    if (!drv->ops->snapshot)
        return not_implemented(drv, "snapshot", err);
    return drv->ops->snapshot(drv, inst, image_id, update_task_state, opaque,
                              err);
}

/* contract: post_interrupted_snapshot_cleanup */
int nxl_instance_post_interrupted_snapshot_cleanup(nxl_driver *drv,
                                                   const nxl_instance *inst,
                                                   nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "post_interrupted_snapshot_cleanup", "drv");
    if ((rc = check_instance(inst, "post_interrupted_snapshot_cleanup", err)) <
        0)
        return rc;
    if (!drv->ops->post_interrupted_snapshot_cleanup)
        return not_implemented(drv, "post_interrupted_snapshot_cleanup", err);
    return drv->ops->post_interrupted_snapshot_cleanup(drv, inst, err);
}

/* contract: attach_interface */
int nxl_instance_attach_interface(nxl_driver *drv, const nxl_instance *inst,
                                  const nxl_image_meta *image_meta,
                                  const nxl_vif *vif, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "attach_interface", "drv");
    if ((rc = check_instance(inst, "attach_interface", err)) < 0)
        return rc;
    if (!image_meta)
        return null_arg(err, "attach_interface", "image_meta");
    if (!vif)
        return null_arg(err, "attach_interface", "vif");
    if (!drv->ops->attach_interface)
        return not_implemented(drv, "attach_interface", err);
    return drv->ops->attach_interface(drv, inst, image_meta, vif, err);
}

/* contract: detach_interface */
int nxl_instance_detach_interface(nxl_driver *drv, const nxl_instance *inst,
                                  const nxl_vif *vif, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "detach_interface", "drv");
    if ((rc = check_instance(inst, "detach_interface", err)) < 0)
        return rc;
    if (!vif)
        return null_arg(err, "detach_interface", "vif");
    if (!drv->ops->detach_interface)
        return not_implemented(drv, "detach_interface", err);
    return drv->ops->detach_interface(drv, inst, vif, err);
}

/* contract: plug_vifs */
int nxl_instance_plug_vifs(nxl_driver *drv, const nxl_instance *inst,
                           const nxl_network_info *network_info, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "plug_vifs", "drv");
    if ((rc = check_instance(inst, "plug_vifs", err)) < 0)
        return rc;
    if (!network_info)
        return null_arg(err, "plug_vifs", "network_info");
    if (!drv->ops->plug_vifs)
        return not_implemented(drv, "plug_vifs", err);
    return drv->ops->plug_vifs(drv, inst, network_info, err);
}

/* contract: unplug_vifs */
int nxl_instance_unplug_vifs(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_network_info *network_info,
                             nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "unplug_vifs", "drv");
    if ((rc = check_instance(inst, "unplug_vifs", err)) < 0)
        return rc;
    if (!network_info)
        return null_arg(err, "unplug_vifs", "network_info");
    if (!drv->ops->unplug_vifs)
        return not_implemented(drv, "unplug_vifs", err);
    return drv->ops->unplug_vifs(drv, inst, network_info, err);
}

/* contract: inject_network_info */
int nxl_instance_inject_network_info(nxl_driver *drv, const nxl_instance *inst,
                                     const nxl_network_info *network_info,
                                     nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "inject_network_info", "drv");
    if ((rc = check_instance(inst, "inject_network_info", err)) < 0)
        return rc;
    if (!network_info)
        return null_arg(err, "inject_network_info", "network_info");
    if (!drv->ops->inject_network_info)
        return not_implemented(drv, "inject_network_info", err);
    return drv->ops->inject_network_info(drv, inst, network_info, err);
}

/* contract: reset_network */
int nxl_instance_reset_network(nxl_driver *drv, const nxl_instance *inst,
                               nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "reset_network", "drv");
    if ((rc = check_instance(inst, "reset_network", err)) < 0)
        return rc;
    if (!drv->ops->reset_network)
        return not_implemented(drv, "reset_network", err);
    return drv->ops->reset_network(drv, inst, err);
}

/* contract: dhcp_options_for_instance */
int nxl_instance_dhcp_options(nxl_driver *drv, const nxl_instance *inst,
                              nxl_kvlist *opts_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "dhcp_options_for_instance", "drv");
    if ((rc = check_instance(inst, "dhcp_options_for_instance", err)) < 0)
        return rc;
    if (!opts_r)
        return null_arg(err, "dhcp_options_for_instance", "opts_r");
    if (!drv->ops->dhcp_options_for_instance)
        return not_implemented(drv, "dhcp_options_for_instance", err);
    return drv->ops->dhcp_options_for_instance(drv, inst, opts_r, err);
}

/* contract: macs_for_instance */
int nxl_instance_macs(nxl_driver *drv, const nxl_instance *inst,
                      nxl_strv *macs_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "macs_for_instance", "drv");
    if ((rc = check_instance(inst, "macs_for_instance", err)) < 0)
        return rc;
    if (!macs_r)
        return null_arg(err, "macs_for_instance", "macs_r");
    if (!drv->ops->macs_for_instance)
        return not_implemented(drv, "macs_for_instance", err);
    return drv->ops->macs_for_instance(drv, inst, macs_r, err);
}

/* contract: network_binding_host_id */
int nxl_instance_network_binding_host_id(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         char **host_id_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "network_binding_host_id", "drv");
    if ((rc = check_instance(inst, "network_binding_host_id", err)) < 0)
        return rc;
    if (!host_id_r)
        return null_arg(err, "network_binding_host_id", "host_id_r");
    if (!drv->ops->network_binding_host_id)
        return not_implemented(drv, "network_binding_host_id", err);
    return drv->ops->network_binding_host_id(drv, inst, host_id_r, err);
}

/* contract: deallocate_networks_on_reschedule */
int nxl_instance_deallocate_networks_on_reschedule(nxl_driver *drv,
                                                   const nxl_instance *inst,
                                                   bool *deallocate_r,
                                                   nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "deallocate_networks_on_reschedule", "drv");
    if ((rc = check_instance(inst, "deallocate_networks_on_reschedule", err)) <
        0)
        return rc;
    if (!deallocate_r)
        return null_arg(err, "deallocate_networks_on_reschedule",
                        "deallocate_r");
    if (!drv->ops->deallocate_networks_on_reschedule)
        return not_implemented(drv, "deallocate_networks_on_reschedule", err);
    return drv->ops->deallocate_networks_on_reschedule(drv, inst, deallocate_r,
                                                       err);
}

/* contract: ensure_filtering_rules_for_instance */
int nxl_instance_ensure_filtering_rules(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        const nxl_network_info *network_info,
                                        nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "ensure_filtering_rules_for_instance", "drv");
    if ((rc = check_instance(inst, "ensure_filtering_rules_for_instance",
                             err)) < 0)
        return rc;
    if (!network_info)
        return null_arg(err, "ensure_filtering_rules_for_instance",
                        "network_info");
    if (!drv->ops->ensure_filtering_rules_for_instance)
        return not_implemented(drv, "ensure_filtering_rules_for_instance", err);
    return drv->ops->ensure_filtering_rules_for_instance(drv, inst,
                                                         network_info, err);
}

/* contract: unfilter_instance */
int nxl_instance_unfilter(nxl_driver *drv, const nxl_instance *inst,
                          const nxl_network_info *network_info, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "unfilter_instance", "drv");
    if ((rc = check_instance(inst, "unfilter_instance", err)) < 0)
        return rc;
    if (!network_info)
        return null_arg(err, "unfilter_instance", "network_info");
    if (!drv->ops->unfilter_instance)
        return not_implemented(drv, "unfilter_instance", err);
    return drv->ops->unfilter_instance(drv, inst, network_info, err);
}

/* contract: refresh_instance_security_rules */
int nxl_instance_refresh_security_rules(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "refresh_instance_security_rules", "drv");
    if ((rc = check_instance(inst, "refresh_instance_security_rules", err)) < 0)
        return rc;
    if (!drv->ops->refresh_instance_security_rules)
        return not_implemented(drv, "refresh_instance_security_rules", err);
    return drv->ops->refresh_instance_security_rules(drv, inst, err);
}

/* contract: default_root_device_name */
int nxl_instance_default_root_device_name(nxl_driver *drv,
                                          const nxl_instance *inst,
                                          const nxl_image_meta *image_meta,
                                          const nxl_bdm *root_bdm,
                                          char **name_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "default_root_device_name", "drv");
    if ((rc = check_instance(inst, "default_root_device_name", err)) < 0)
        return rc;
    if (!name_r)
        return null_arg(err, "default_root_device_name", "name_r");
    if (!drv->ops->default_root_device_name)
        return not_implemented(drv, "default_root_device_name", err);
    return drv->ops->default_root_device_name(drv, inst, image_meta, root_bdm,
                                              name_r, err);
}

/* contract: get_device_name_for_instance */
int nxl_instance_get_device_name(nxl_driver *drv, const nxl_instance *inst,
                                 const nxl_block_device_info *bdms,
                                 const char *requested, char **name_r,
                                 nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_device_name_for_instance", "drv");
    if ((rc = check_instance(inst, "get_device_name_for_instance", err)) < 0)
        return rc;
    /* bdms may be NULL: an instance with no block devices yet (nova's
     * empty list), as nxl.h documents. */
    if (!name_r)
        return null_arg(err, "get_device_name_for_instance", "name_r");
    if (!drv->ops->get_device_name_for_instance)
        return not_implemented(drv, "get_device_name_for_instance", err);
    return drv->ops->get_device_name_for_instance(drv, inst, bdms, requested,
                                                  name_r, err);
}

/* contract: default_device_names_for_instance */
int nxl_instance_default_device_names(nxl_driver *drv, const nxl_instance *inst,
                                      const char *root_device_name,
                                      nxl_block_device_info *bdi,
                                      nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "default_device_names_for_instance", "drv");
    if ((rc = check_instance(inst, "default_device_names_for_instance", err)) <
        0)
        return rc;
    if (!root_device_name)
        return null_arg(err, "default_device_names_for_instance",
                        "root_device_name");
    if (!bdi)
        return null_arg(err, "default_device_names_for_instance", "bdi");
    if (!drv->ops->default_device_names_for_instance)
        return not_implemented(drv, "default_device_names_for_instance", err);
    return drv->ops->default_device_names_for_instance(
        drv, inst, root_device_name, bdi, err);
}

/* contract: attach_volume */
int nxl_instance_attach_volume(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_connection_info *connection_info,
                               const char *mountpoint, const char *disk_bus,
                               const char *device_type,
                               const char *encryption_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "attach_volume", "drv");
    if ((rc = check_instance(inst, "attach_volume", err)) < 0)
        return rc;
    if (!connection_info)
        return null_arg(err, "attach_volume", "connection_info");
    if (!mountpoint)
        return null_arg(err, "attach_volume", "mountpoint");
    if (!drv->ops->attach_volume)
        return not_implemented(drv, "attach_volume", err);
    return drv->ops->attach_volume(drv, inst, connection_info, mountpoint,
                                   disk_bus, device_type, encryption_json, err);
}

/* contract: detach_volume */
int nxl_instance_detach_volume(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_connection_info *connection_info,
                               const char *mountpoint,
                               const char *encryption_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "detach_volume", "drv");
    if ((rc = check_instance(inst, "detach_volume", err)) < 0)
        return rc;
    if (!connection_info)
        return null_arg(err, "detach_volume", "connection_info");
    if (!mountpoint)
        return null_arg(err, "detach_volume", "mountpoint");
    if (!drv->ops->detach_volume)
        return not_implemented(drv, "detach_volume", err);
    return drv->ops->detach_volume(drv, inst, connection_info, mountpoint,
                                   encryption_json, err);
}

/* contract: swap_volume */
int nxl_instance_swap_volume(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_connection_info *old_connection_info,
                             const nxl_connection_info *new_connection_info,
                             const char *mountpoint, uint64_t resize_to,
                             nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "swap_volume", "drv");
    if ((rc = check_instance(inst, "swap_volume", err)) < 0)
        return rc;
    if (!old_connection_info)
        return null_arg(err, "swap_volume", "old_connection_info");
    if (!new_connection_info)
        return null_arg(err, "swap_volume", "new_connection_info");
    if (!mountpoint)
        return null_arg(err, "swap_volume", "mountpoint");
    if (!drv->ops->swap_volume)
        return not_implemented(drv, "swap_volume", err);
    return drv->ops->swap_volume(drv, inst, old_connection_info,
                                 new_connection_info, mountpoint, resize_to,
                                 err);
}

/* contract: volume_snapshot_create */
int nxl_instance_volume_snapshot_create(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        const char *volume_id,
                                        const char *create_info_json,
                                        nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "volume_snapshot_create", "drv");
    if ((rc = check_instance(inst, "volume_snapshot_create", err)) < 0)
        return rc;
    if (!volume_id)
        return null_arg(err, "volume_snapshot_create", "volume_id");
    if (!create_info_json)
        return null_arg(err, "volume_snapshot_create", "create_info_json");
    if (!drv->ops->volume_snapshot_create)
        return not_implemented(drv, "volume_snapshot_create", err);
    return drv->ops->volume_snapshot_create(drv, inst, volume_id,
                                            create_info_json, err);
}

/* contract: volume_snapshot_delete */
int nxl_instance_volume_snapshot_delete(
    nxl_driver *drv, const nxl_instance *inst, const char *volume_id,
    const char *snapshot_id, const char *delete_info_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "volume_snapshot_delete", "drv");
    if ((rc = check_instance(inst, "volume_snapshot_delete", err)) < 0)
        return rc;
    if (!volume_id)
        return null_arg(err, "volume_snapshot_delete", "volume_id");
    if (!snapshot_id)
        return null_arg(err, "volume_snapshot_delete", "snapshot_id");
    if (!delete_info_json)
        return null_arg(err, "volume_snapshot_delete", "delete_info_json");
    if (!drv->ops->volume_snapshot_delete)
        return not_implemented(drv, "volume_snapshot_delete", err);
    return drv->ops->volume_snapshot_delete(drv, inst, volume_id, snapshot_id,
                                            delete_info_json, err);
}

/* contract: get_volume_connector */
int nxl_instance_get_volume_connector(nxl_driver *drv, const nxl_instance *inst,
                                      nxl_volume_connector *connector_r,
                                      nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "get_volume_connector", "drv");
    if (inst && (rc = check_instance(inst, "get_volume_connector", err)) < 0)
        return rc;
    if (!connector_r)
        return null_arg(err, "get_volume_connector", "connector_r");
    if (!drv->ops->get_volume_connector)
        return not_implemented(drv, "get_volume_connector", err);
    return drv->ops->get_volume_connector(drv, inst, connector_r, err);
}

/* contract: migrate_disk_and_power_off */
int nxl_instance_migrate_disk_and_power_off(
    nxl_driver *drv, const nxl_instance *inst, const char *dest,
    const nxl_flavor *flavor, const nxl_network_info *network_info,
    const nxl_block_device_info *bdi, unsigned int timeout,
    unsigned int retry_interval, char **disk_info_json_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "migrate_disk_and_power_off", "drv");
    if ((rc = check_instance(inst, "migrate_disk_and_power_off", err)) < 0)
        return rc;
    if ((rc = check_name(dest, "migrate_disk_and_power_off", "dest", err)) < 0)
        return rc;
    if (!flavor)
        return null_arg(err, "migrate_disk_and_power_off", "flavor");
    if (!disk_info_json_r)
        return null_arg(err, "migrate_disk_and_power_off", "disk_info_json_r");
    if (!drv->ops->migrate_disk_and_power_off)
        return not_implemented(drv, "migrate_disk_and_power_off", err);
    return drv->ops->migrate_disk_and_power_off(
        drv, inst, dest, flavor, network_info, bdi, timeout, retry_interval,
        disk_info_json_r, err);
}

/* contract: finish_migration */
int nxl_migration_finish(nxl_driver *drv, const nxl_migration *migration,
                         const nxl_instance *inst, const char *disk_info_json,
                         const nxl_network_info *network_info,
                         const nxl_image_meta *image_meta, bool resize_instance,
                         const nxl_block_device_info *bdi, bool power_on,
                         nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "finish_migration", "drv");
    if (!migration)
        return null_arg(err, "finish_migration", "migration");
    if ((rc = check_instance(inst, "finish_migration", err)) < 0)
        return rc;
    if (!disk_info_json)
        return null_arg(err, "finish_migration", "disk_info_json");
    if (!image_meta)
        return null_arg(err, "finish_migration", "image_meta");
    if (!drv->ops->finish_migration)
        return not_implemented(drv, "finish_migration", err);
    return drv->ops->finish_migration(drv, migration, inst, disk_info_json,
                                      network_info, image_meta, resize_instance,
                                      bdi, power_on, err);
}

/* contract: finish_revert_migration */
int nxl_migration_finish_revert(nxl_driver *drv, const nxl_instance *inst,
                                const nxl_network_info *network_info,
                                const nxl_block_device_info *bdi, bool power_on,
                                nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "finish_revert_migration", "drv");
    if ((rc = check_instance(inst, "finish_revert_migration", err)) < 0)
        return rc;
    if (!drv->ops->finish_revert_migration)
        return not_implemented(drv, "finish_revert_migration", err);
    return drv->ops->finish_revert_migration(drv, inst, network_info, bdi,
                                             power_on, err);
}

/* contract: confirm_migration */
int nxl_migration_confirm(nxl_driver *drv, const nxl_migration *migration,
                          const nxl_instance *inst,
                          const nxl_network_info *network_info, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "confirm_migration", "drv");
    if (!migration)
        return null_arg(err, "confirm_migration", "migration");
    if ((rc = check_instance(inst, "confirm_migration", err)) < 0)
        return rc;
    if (!drv->ops->confirm_migration)
        return not_implemented(drv, "confirm_migration", err);
    return drv->ops->confirm_migration(drv, migration, inst, network_info, err);
}

/* contract: check_instance_shared_storage_local */
int nxl_shared_storage_check_local(nxl_driver *drv, const nxl_instance *inst,
                                   char **data_json_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "check_instance_shared_storage_local", "drv");
    if ((rc = check_instance(inst, "check_instance_shared_storage_local",
                             err)) < 0)
        return rc;
    if (!data_json_r)
        return null_arg(err, "check_instance_shared_storage_local",
                        "data_json_r");
    if (!drv->ops->check_instance_shared_storage_local)
        return not_implemented(drv, "check_instance_shared_storage_local", err);
    return drv->ops->check_instance_shared_storage_local(drv, inst, data_json_r,
                                                         err);
}

/* contract: check_instance_shared_storage_remote */
int nxl_shared_storage_check_remote(nxl_driver *drv, const char *data_json,
                                    bool *shared_r, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "check_instance_shared_storage_remote", "drv");
    if (!data_json)
        return null_arg(err, "check_instance_shared_storage_remote",
                        "data_json");
    if (!shared_r)
        return null_arg(err, "check_instance_shared_storage_remote",
                        "shared_r");
    if (!drv->ops->check_instance_shared_storage_remote)
        return not_implemented(drv, "check_instance_shared_storage_remote",
                               err);
    return drv->ops->check_instance_shared_storage_remote(drv, data_json,
                                                          shared_r, err);
}

/* contract: check_instance_shared_storage_cleanup */
int nxl_shared_storage_check_cleanup(nxl_driver *drv, const char *data_json,
                                     nxl_error *err)
{
    if (!drv)
        return null_arg(err, "check_instance_shared_storage_cleanup", "drv");
    if (!data_json)
        return null_arg(err, "check_instance_shared_storage_cleanup",
                        "data_json");
    if (!drv->ops->check_instance_shared_storage_cleanup)
        return not_implemented(drv, "check_instance_shared_storage_cleanup",
                               err);
    return drv->ops->check_instance_shared_storage_cleanup(drv, data_json, err);
}

/* contract: check_can_live_migrate_destination */
int nxl_live_migration_check_destination(
    nxl_driver *drv, const nxl_instance *inst,
    const char *src_compute_info_json, const char *dst_compute_info_json,
    bool block_migration, bool disk_over_commit, char **dest_check_data_json_r,
    nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "check_can_live_migrate_destination", "drv");
    if ((rc = check_instance(inst, "check_can_live_migrate_destination", err)) <
        0)
        return rc;
    if (!src_compute_info_json)
        return null_arg(err, "check_can_live_migrate_destination",
                        "src_compute_info_json");
    if (!dst_compute_info_json)
        return null_arg(err, "check_can_live_migrate_destination",
                        "dst_compute_info_json");
    if (!dest_check_data_json_r)
        return null_arg(err, "check_can_live_migrate_destination",
                        "dest_check_data_json_r");
    if (!drv->ops->check_can_live_migrate_destination)
        return not_implemented(drv, "check_can_live_migrate_destination", err);
    return drv->ops->check_can_live_migrate_destination(
        drv, inst, src_compute_info_json, dst_compute_info_json,
        block_migration, disk_over_commit, dest_check_data_json_r, err);
}

/* contract: check_can_live_migrate_destination_cleanup */
int nxl_live_migration_check_destination_cleanup(
    nxl_driver *drv, const char *dest_check_data_json, nxl_error *err)
{
    if (!drv)
        return null_arg(err, "check_can_live_migrate_destination_cleanup",
                        "drv");
    if (!dest_check_data_json)
        return null_arg(err, "check_can_live_migrate_destination_cleanup",
                        "dest_check_data_json");
    if (!drv->ops->check_can_live_migrate_destination_cleanup)
        return not_implemented(
            drv, "check_can_live_migrate_destination_cleanup", err);
    return drv->ops->check_can_live_migrate_destination_cleanup(
        drv, dest_check_data_json, err);
}

/* contract: check_can_live_migrate_source */
int nxl_live_migration_check_source(nxl_driver *drv, const nxl_instance *inst,
                                    const char *dest_check_data_json,
                                    const nxl_block_device_info *bdi,
                                    char **migrate_data_json_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "check_can_live_migrate_source", "drv");
    if ((rc = check_instance(inst, "check_can_live_migrate_source", err)) < 0)
        return rc;
    if (!dest_check_data_json)
        return null_arg(err, "check_can_live_migrate_source",
                        "dest_check_data_json");
    if (!migrate_data_json_r)
        return null_arg(err, "check_can_live_migrate_source",
                        "migrate_data_json_r");
    if (!drv->ops->check_can_live_migrate_source)
        return not_implemented(drv, "check_can_live_migrate_source", err);
    return drv->ops->check_can_live_migrate_source(
        drv, inst, dest_check_data_json, bdi, migrate_data_json_r, err);
}

/* contract: pre_live_migration */
int nxl_live_migration_pre(nxl_driver *drv, const nxl_instance *inst,
                           const nxl_block_device_info *bdi,
                           const nxl_network_info *network_info,
                           const char *disk_info_json,
                           const char *migrate_data_json,
                           char **migrate_data_json_r, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "pre_live_migration", "drv");
    if ((rc = check_instance(inst, "pre_live_migration", err)) < 0)
        return rc;
    if (!migrate_data_json_r)
        return null_arg(err, "pre_live_migration", "migrate_data_json_r");
    if (!drv->ops->pre_live_migration)
        return not_implemented(drv, "pre_live_migration", err);
    return drv->ops->pre_live_migration(drv, inst, bdi, network_info,
                                        disk_info_json, migrate_data_json,
                                        migrate_data_json_r, err);
}

/* contract: live_migration */
int nxl_instance_live_migrate(nxl_driver *drv, const nxl_instance *inst,
                              const char *dest, nxl_live_migration_fn *post,
                              nxl_live_migration_fn *recover, void *opaque,
                              bool block_migration,
                              const char *migrate_data_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "live_migration", "drv");
    if ((rc = check_instance(inst, "live_migration", err)) < 0)
        return rc;
    if ((rc = check_name(dest, "live_migration", "dest", err)) < 0)
        return rc;
    if (!post)
        return null_arg(err, "live_migration", "post");
    if (!recover)
        return null_arg(err, "live_migration", "recover");
    if (!drv->ops->live_migration)
        return not_implemented(drv, "live_migration", err);
    return drv->ops->live_migration(drv, inst, dest, post, recover, opaque,
                                    block_migration, migrate_data_json, err);
}

/* contract: live_migration_abort */
int nxl_instance_live_migration_abort(nxl_driver *drv, const nxl_instance *inst,
                                      nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "live_migration_abort", "drv");
    if ((rc = check_instance(inst, "live_migration_abort", err)) < 0)
        return rc;
    if (!drv->ops->live_migration_abort)
        return not_implemented(drv, "live_migration_abort", err);
    return drv->ops->live_migration_abort(drv, inst, err);
}

/* contract: live_migration_force_complete */
int nxl_instance_live_migration_force_complete(nxl_driver *drv,
                                               const nxl_instance *inst,
                                               nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "live_migration_force_complete", "drv");
    if ((rc = check_instance(inst, "live_migration_force_complete", err)) < 0)
        return rc;
    if (!drv->ops->live_migration_force_complete)
        return not_implemented(drv, "live_migration_force_complete", err);
    return drv->ops->live_migration_force_complete(drv, inst, err);
}

/* contract: post_live_migration */
int nxl_live_migration_post(nxl_driver *drv, const nxl_instance *inst,
                            const nxl_block_device_info *bdi,
                            const char *migrate_data_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "post_live_migration", "drv");
    if ((rc = check_instance(inst, "post_live_migration", err)) < 0)
        return rc;
    if (!drv->ops->post_live_migration)
        return not_implemented(drv, "post_live_migration", err);
    return drv->ops->post_live_migration(drv, inst, bdi, migrate_data_json,
                                         err);
}

/* contract: post_live_migration_at_source */
int nxl_live_migration_post_at_source(nxl_driver *drv, const nxl_instance *inst,
                                      const nxl_network_info *network_info,
                                      nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "post_live_migration_at_source", "drv");
    if ((rc = check_instance(inst, "post_live_migration_at_source", err)) < 0)
        return rc;
    if (!network_info)
        return null_arg(err, "post_live_migration_at_source", "network_info");
    if (!drv->ops->post_live_migration_at_source)
        return not_implemented(drv, "post_live_migration_at_source", err);
    return drv->ops->post_live_migration_at_source(drv, inst, network_info,
                                                   err);
}

/* contract: post_live_migration_at_destination */
int nxl_live_migration_post_at_destination(nxl_driver *drv,
                                           const nxl_instance *inst,
                                           const nxl_network_info *network_info,
                                           bool block_migration,
                                           const nxl_block_device_info *bdi,
                                           nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "post_live_migration_at_destination", "drv");
    if ((rc = check_instance(inst, "post_live_migration_at_destination", err)) <
        0)
        return rc;
    if (!drv->ops->post_live_migration_at_destination)
        return not_implemented(drv, "post_live_migration_at_destination", err);
    return drv->ops->post_live_migration_at_destination(
        drv, inst, network_info, block_migration, bdi, err);
}

/* contract: rollback_live_migration_at_destination */
int nxl_live_migration_rollback_at_destination(
    nxl_driver *drv, const nxl_instance *inst,
    const nxl_network_info *network_info, const nxl_block_device_info *bdi,
    bool destroy_disks, const char *migrate_data_json, nxl_error *err)
{
    int rc;

    if (!drv)
        return null_arg(err, "rollback_live_migration_at_destination", "drv");
    if ((rc = check_instance(inst, "rollback_live_migration_at_destination",
                             err)) < 0)
        return rc;
    if (!drv->ops->rollback_live_migration_at_destination)
        return not_implemented(drv, "rollback_live_migration_at_destination",
                               err);
    return drv->ops->rollback_live_migration_at_destination(
        drv, inst, network_info, bdi, destroy_disks, migrate_data_json, err);
}

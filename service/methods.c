/* The method table: one JSON-RPC request -> one nxl_* call -> one reply.
 *
 * params is always a JSON object (by-name). An instance is named by
 * {"uuid": ..., "name": ...} (name optional); the other arguments keep
 * nova's names and defaults. Unknown keys are ignored, like every
 * document novaxl reads. Every contract method and module helper of
 * nxl.h is mapped (tests/test_service.c walks the markers); one the
 * driver does not implement still is, and passes the driver's
 * NotImplementedError through, so a client sees what an in-process
 * caller would. A contract method added to nxl.h before its mapping
 * would go in the table with fn NULL: server.c answers it
 * NXL_RPC_NOT_IMPLEMENTED, never "method not found". */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "service/svc.h"

/* ---- parameters -------------------------------------------------------------
 */

static int bad_params(nxl_svc_call *call, nxl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad_params(nxl_svc_call *call, nxl_error *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    call->rpc_code = NXL_RPC_INVALID_PARAMS;
    return nxl_error_set(err, NXL_E_INVAL, "params: %s", msg);
}

/* A present, non-null member. */
static const nxl_json *param(const nxl_svc_call *call, const char *key)
{
    const nxl_json *v = nxl__json_get(call->params, key);

    return v && nxl__json_type(v) != NXL_JSON_NULL ? v : NULL;
}

static int p_string(nxl_svc_call *call, const char *key, bool required,
                    const char **out, nxl_error *err)
{
    const nxl_json *v = param(call, key);

    *out = NULL;
    if (!v)
        return required ? bad_params(call, err, "'%s' is required", key) : 0;
    if (!(*out = nxl__json_string(v)))
        return bad_params(call, err, "'%s' must be a string, not %s", key,
                          nxl__json_type_name(v));
    return 0;
}

static int p_bool(nxl_svc_call *call, const char *key, bool required, bool def,
                  bool *out, nxl_error *err)
{
    const nxl_json *v = param(call, key);

    *out = def;
    if (!v)
        return required ? bad_params(call, err, "'%s' is required", key) : 0;
    if (!nxl__json_bool(v, out))
        return bad_params(call, err, "'%s' must be a boolean, not %s", key,
                          nxl__json_type_name(v));
    return 0;
}

static int p_uint(nxl_svc_call *call, const char *key, unsigned def,
                  unsigned max, unsigned *out, nxl_error *err)
{
    const nxl_json *v = param(call, key);
    long long n;

    *out = def;
    if (!v)
        return 0;
    if (!nxl__json_integer(v, &n) || n < 0 || n > (long long)max)
        return bad_params(call, err, "'%s' must be an integer in 0..%u", key,
                          max);
    *out = (unsigned)n;
    return 0;
}

/* {"uuid": ..., "name": ...}: the instance the call is about. */
static int p_instance(nxl_svc_call *call, nxl_instance *inst, nxl_error *err)
{
    const char *uuid, *name;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    if ((rc = p_string(call, "uuid", true, &uuid, err)) ||
        (rc = p_string(call, "name", false, &name, err)))
        return rc;
    if (nxl_uuid_validate(uuid, "uuid", &e) ||
        (name && nxl_name_validate(name, "name", &e))) {
        rc = bad_params(call, err, "%s", nxl_error_message(&e));
        nxl_error_dispose(&e);
        return rc;
    }
    snprintf(inst->uuid, sizeof(inst->uuid), "%s", uuid);
    for (char *p = inst->uuid; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    memcpy(call->uuid, inst->uuid, sizeof(call->uuid));
    if (name && nxl__strdup(&inst->name, name, err))
        return NXL_E_NOMEM;
    return 0;
}

/* An optional sub-document (network_info, block_device_info) through its
 * parser in common/json.c. *present_r says whether it was given. */
typedef int subdoc_fn(const char *doc, size_t len, void *out, nxl_error *err);

static int p_subdoc(nxl_svc_call *call, const char *key, subdoc_fn *parse,
                    void *out, bool *present_r, nxl_error *err)
{
    const nxl_json *v = param(call, key);
    nxl_error e = NXL_ERROR_INIT;
    char *text = NULL;
    int rc;

    *present_r = false;
    if (!v)
        return 0;
    if ((rc = nxl__json_to_text(v, &text, err)))
        return rc;
    rc = parse(text, strlen(text), out, &e);
    free(text);
    if (rc) {
        rc = rc == NXL_E_INVAL
                 ? bad_params(call, err, "%s: %s", key, nxl_error_message(&e))
                 : nxl_error_set(err, rc, "%s", nxl_error_message(&e));
        nxl_error_dispose(&e);
        return rc;
    }
    *present_r = true;
    return 0;
}

static int parse_ni(const char *doc, size_t len, void *out, nxl_error *err)
{
    return nxl__network_info_from_json(doc, len, out, err);
}

static int parse_bdi(const char *doc, size_t len, void *out, nxl_error *err)
{
    return nxl__block_device_info_from_json(doc, len, out, err);
}

/* ---- result helpers
 * ---------------------------------------------------------- */

static void write_strv(nxl_jw *w, const nxl_strv *sv)
{
    nxl__jw_array_open(w);
    for (size_t i = 0; i < sv->n; i++)
        nxl__jw_string(w, sv->v[i]);
    nxl__jw_array_close(w);
}

/* ---- host -----------------------------------------------------------------
 */

/* The shape of the host methods that take nothing and give a list. */
typedef int host_strv_fn(nxl_driver *drv, nxl_strv *sv_r, nxl_error *err);

static int on_host_strv(nxl_svc_call *call, nxl_jw *w, host_strv_fn *fn,
                        nxl_error *err)
{
    nxl_strv sv;
    int rc;

    nxl_strv_init(&sv);
    if ((rc = fn(call->drv, &sv, err)) == 0)
        write_strv(w, &sv);
    nxl_strv_dispose(&sv);
    return rc;
}

/* ... and of those that give one malloc'd string. */
typedef int host_string_fn(nxl_driver *drv, char **s_r, nxl_error *err);

static int on_host_string(nxl_svc_call *call, nxl_jw *w, host_string_fn *fn,
                          nxl_error *err)
{
    char *s = NULL;
    int rc;

    if ((rc = fn(call->drv, &s, err)) == 0)
        nxl__jw_string(w, s);
    free(s);
    return rc;
}

static int m_list_instances(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_host_strv(call, w, nxl_host_list_instances, err);
}

static int m_list_instance_uuids(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_host_strv(call, w, nxl_host_list_instance_uuids, err);
}

static int m_get_num_instances(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    size_t n;
    int rc;

    if ((rc = nxl_host_get_num_instances(call->drv, &n, err)) == 0)
        nxl__jw_uint(w, n);
    return rc;
}

static int m_get_available_nodes(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_strv sv;
    bool refresh;
    int rc;

    if ((rc = p_bool(call, "refresh", false, false, &refresh, err)))
        return rc;
    nxl_strv_init(&sv);
    if ((rc = nxl_host_get_available_nodes(call->drv, refresh, &sv, err)) == 0)
        write_strv(w, &sv);
    nxl_strv_dispose(&sv);
    return rc;
}

static int m_node_is_available(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    const char *node;
    bool avail;
    int rc;

    if ((rc = p_string(call, "nodename", true, &node, err)) ||
        (rc = nxl_host_node_is_available(call->drv, node, &avail, err)))
        return rc;
    nxl__jw_bool(w, avail);
    return 0;
}

static int m_get_available_resource(nxl_svc_call *call, nxl_jw *w,
                                    nxl_error *err)
{
    nxl_host_resources res;
    const char *node;
    int rc;

    if ((rc = p_string(call, "nodename", false, &node, err)))
        return rc;
    nxl_host_resources_init(&res);
    if ((rc = nxl_host_get_available_resource(call->drv, node, &res, err)))
        goto out;
    nxl__jw_object_open(w);
    nxl__jw_kv_uint(w, "vcpus", res.vcpus);
    nxl__jw_kv_uint(w, "memory_mb", res.memory_mb);
    nxl__jw_kv_uint(w, "local_gb", res.local_gb);
    nxl__jw_kv_uint(w, "vcpus_used", res.vcpus_used);
    nxl__jw_kv_uint(w, "memory_mb_used", res.memory_mb_used);
    nxl__jw_kv_uint(w, "local_gb_used", res.local_gb_used);
    nxl__jw_kv_string(w, "hypervisor_type", res.hypervisor_type);
    nxl__jw_kv_uint(w, "hypervisor_version", res.hypervisor_version);
    nxl__jw_kv_string(w, "hypervisor_hostname", res.hypervisor_hostname);
    /* JSON documents in strings, as nova's dict holds them. */
    nxl__jw_kv_string(w, "cpu_info", res.cpu_info);
    nxl__jw_kv_int(w, "disk_available_least", res.disk_available_least);
    nxl__jw_kv_string(w, "numa_topology", res.numa_topology);
    nxl__jw_key(w, "supported_instances");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < res.n_supported_instances; i++) {
        nxl__jw_array_open(w);
        nxl__jw_string(w, res.supported_instances[i].arch);
        nxl__jw_string(w, res.supported_instances[i].hv_type);
        nxl__jw_string(w, res.supported_instances[i].vm_mode);
        nxl__jw_array_close(w);
    }
    nxl__jw_array_close(w);
    nxl__jw_object_close(w);
out:
    nxl_host_resources_dispose(&res);
    return rc;
}

static int m_get_host_cpu_stats(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_host_cpu_stats st;
    int rc;

    if ((rc = nxl_host_get_cpu_stats(call->drv, &st, err)))
        return rc;
    nxl__jw_object_open(w);
    nxl__jw_kv_uint(w, "kernel", st.kernel);
    nxl__jw_kv_uint(w, "idle", st.idle);
    nxl__jw_kv_uint(w, "user", st.user);
    nxl__jw_kv_uint(w, "iowait", st.iowait);
    nxl__jw_kv_uint(w, "frequency", st.frequency);
    nxl__jw_object_close(w);
    return 0;
}

static int m_get_host_ip_addr(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_host_string(call, w, nxl_host_get_ip_addr, err);
}

static int m_get_host_uptime(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_host_string(call, w, nxl_host_get_uptime, err);
}

static int m_set_host_enabled(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    const char *result;
    bool enabled;
    int rc;

    if ((rc = p_bool(call, "enabled", true, false, &enabled, err)) ||
        (rc = nxl_host_set_enabled(call->drv, enabled, &result, err)))
        return rc;
    call->result_word = result;
    nxl__jw_string(w, result);
    return 0;
}

static int m_host_maintenance_mode(nxl_svc_call *call, nxl_jw *w,
                                   nxl_error *err)
{
    nxl_maintenance res;
    const char *host;
    bool mode;
    int rc;

    nxl_maintenance_init(&res);
    if ((rc = p_string(call, "host", true, &host, err)) ||
        (rc = p_bool(call, "mode", true, false, &mode, err)) ||
        (rc = nxl_host_maintenance_mode(call->drv, host, mode, &res, err)))
        goto out;
    call->result_word = res.state;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "state", res.state);
    nxl__jw_key(w, "not_evacuated");
    write_strv(w, &res.not_evacuated);
    nxl__jw_kv_string(w, "reason", res.reason);
    nxl__jw_object_close(w);
out:
    nxl_maintenance_dispose(&res);
    return rc;
}

static int m_capabilities(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    const nxl_capabilities *c;
    int rc;

    if ((rc = nxl_driver_capabilities(call->drv, &c, err)))
        return rc;
    nxl__jw_object_open(w);
#define CAP(f) nxl__jw_kv_bool(w, #f, c->f)
    CAP(supports_recreate);
    CAP(has_imagecache);
    CAP(supports_migrate_to_same_host);
    CAP(supports_attach_interface);
    CAP(supports_device_tagging);
    CAP(supports_tagged_attach_interface);
    CAP(supports_tagged_attach_volume);
    CAP(supports_multiattach);
    CAP(supports_trusted_certs);
    CAP(supports_image_type_raw);
    CAP(supports_image_type_qcow2);
    CAP(supports_image_type_vhd);
    CAP(supports_image_type_aki);
    CAP(supports_image_type_ari);
    CAP(supports_image_type_ami);
    CAP(supports_image_type_iso);
#undef CAP
    nxl__jw_object_close(w);
    return 0;
}

/* ---- instances --------------------------------------------------------------
 */

static int m_spawn(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    nxl_spawn_req req;
    char *text = NULL;
    int rc;

    nxl_spawn_req_init(&req);
    if (!call->params) {
        rc = bad_params(call, err, "spawn wants the spawn request document");
        goto out;
    }
    if ((rc = nxl__json_to_text(call->params, &text, err)))
        goto out;
    if ((rc = nxl__spawn_req_from_json(text, strlen(text), &req, &e))) {
        rc = rc == NXL_E_INVAL
                 ? bad_params(call, err, "%s", nxl_error_message(&e))
                 : nxl_error_set(err, rc, "%s", nxl_error_message(&e));
        goto out;
    }
    memcpy(call->uuid, req.instance.uuid, sizeof(call->uuid));
    if ((rc = nxl_instance_spawn(call->drv, &req, err)))
        goto out;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "uuid", req.instance.uuid);
    nxl__jw_object_close(w);
out:
    nxl_error_dispose(&e);
    free(text);
    nxl_spawn_req_dispose(&req);
    return rc;
}

/* The shape most instance methods share: the instance, one call, null. */
typedef int inst_fn(nxl_driver *drv, const nxl_instance *inst, nxl_error *err);

static int on_instance(nxl_svc_call *call, nxl_jw *w, inst_fn *fn,
                       nxl_error *err)
{
    nxl_instance inst;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = fn(call->drv, &inst, err)) == 0)
        nxl__jw_null(w);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_pause(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_pause, err);
}

static int m_unpause(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_unpause, err);
}

static int m_trigger_crash_dump(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_trigger_crash_dump, err);
}

static int m_suspend(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_suspend, err);
}

/* An instance with nova's optional network_info and block_device_info;
 * ni and bdi are NULL when the call leaves them out. */
typedef struct inst_docs {
    nxl_instance inst;
    nxl_network_info ni_buf;
    nxl_block_device_info bdi_buf;
    const nxl_network_info *ni;
    const nxl_block_device_info *bdi;
} inst_docs;

static void inst_docs_init(inst_docs *d)
{
    nxl_instance_init(&d->inst);
    nxl_network_info_init(&d->ni_buf);
    nxl_block_device_info_init(&d->bdi_buf);
    d->ni = NULL;
    d->bdi = NULL;
}

static void inst_docs_dispose(inst_docs *d)
{
    nxl_block_device_info_dispose(&d->bdi_buf);
    nxl_network_info_dispose(&d->ni_buf);
    nxl_instance_dispose(&d->inst);
}

/* Reads "network_info" and "block_device_info" (the instance is read on
 * its own, so that a method may read its own parameters in between). */
static int p_docs(nxl_svc_call *call, inst_docs *d, nxl_error *err)
{
    bool has_ni = false, has_bdi = false;
    int rc;

    if ((rc = p_subdoc(call, "network_info", parse_ni, &d->ni_buf, &has_ni,
                       err)) ||
        (rc = p_subdoc(call, "block_device_info", parse_bdi, &d->bdi_buf,
                       &has_bdi, err)))
        return rc;
    d->ni = has_ni ? &d->ni_buf : NULL;
    d->bdi = has_bdi ? &d->bdi_buf : NULL;
    return 0;
}

/* The shape of resume and power_on: the instance and its documents, one
 * call, null. */
typedef int inst_docs_fn(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_network_info *network_info,
                         const nxl_block_device_info *bdi, nxl_error *err);

static int on_instance_docs(nxl_svc_call *call, nxl_jw *w, inst_docs_fn *fn,
                            nxl_error *err)
{
    inst_docs d;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) || (rc = p_docs(call, &d, err)) ||
        (rc = fn(call->drv, &d.inst, d.ni, d.bdi, err)))
        goto out;
    nxl__jw_null(w);
out:
    inst_docs_dispose(&d);
    return rc;
}

static int m_resume(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_docs(call, w, nxl_instance_resume, err);
}

static int m_destroy(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    inst_docs d;
    bool destroy_disks;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc =
             p_bool(call, "destroy_disks", false, true, &destroy_disks, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_instance_destroy(call->drv, &d.inst, d.ni, d.bdi,
                                   destroy_disks, NULL, err)))
        goto out;
    nxl__jw_null(w);
out:
    inst_docs_dispose(&d);
    return rc;
}

static int m_get_info(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    nxl_instance_info info;
    char *json = NULL;
    int rc;

    nxl_instance_init(&inst);
    nxl_instance_info_init(&info);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = nxl_instance_get_info(call->drv, &inst, &info, err)) ||
        (rc = nxl__instance_info_to_json(&info, &json, err)))
        goto out;
    nxl__jw_document(w, json);
out:
    free(json);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_instance_exists(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    bool exists;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = nxl_instance_exists(call->drv, &inst, &exists, err)) == 0)
        nxl__jw_bool(w, exists);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_power_off(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    unsigned timeout, retry;
    int rc;

    nxl_instance_init(&inst);
    /* nova's defaults: timeout=0 (destroy at once), retry_interval=0. */
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_uint(call, "timeout", 0, 86400, &timeout, err)) ||
        (rc = p_uint(call, "retry_interval", 0, 86400, &retry, err)) ||
        (rc = nxl_instance_power_off(call->drv, &inst, timeout, retry, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_power_on(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_docs(call, w, nxl_instance_power_on, err);
}

static int m_reboot(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    const char *type;
    int rtype, rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "reboot_type", false, &type, err)))
        goto out;
    if (!type || strcmp(type, "SOFT") == 0) {
        rtype = NXL_REBOOT_SOFT;
    } else if (strcmp(type, "HARD") == 0) {
        rtype = NXL_REBOOT_HARD;
    } else {
        rc =
            bad_params(call, err, "'reboot_type' must be \"SOFT\" or \"HARD\"");
        goto out;
    }
    if ((rc = nxl_instance_reboot(call->drv, &inst, NULL, rtype, NULL, NULL,
                                  NULL, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_get_console_output(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    nxl_buf out;
    int rc;

    nxl_instance_init(&inst);
    nxl_buf_init(&out);
    /* Guest output: invalid UTF-8 goes out as U+FFFD (json.c). */
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = nxl_instance_get_console_output(call->drv, &inst, &out, err)) ==
            0)
        nxl__jw_string_len(w, out.data ? out.data : "", out.len);
    nxl_buf_dispose(&out);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_get_vnc_console(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    nxl_console con;
    int rc;

    nxl_instance_init(&inst);
    nxl_console_init(&con);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = nxl_instance_get_vnc_console(call->drv, &inst, &con, err)))
        goto out;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "host", con.host);
    nxl__jw_kv_int(w, "port", con.port);
    nxl__jw_kv_string(w, "internal_access_path", con.internal_access_path);
    nxl__jw_object_close(w);
out:
    nxl_console_dispose(&con);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_soft_delete(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_soft_delete, err);
}

static int m_restore(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_restore, err);
}

/* {"diff": {"key": ["+", "v"] | ["-"], ...}}: nova's metadata diff. */
static int m_change_instance_metadata(nxl_svc_call *call, nxl_jw *w,
                                      nxl_error *err)
{
    const nxl_json *diff = param(call, "diff");
    nxl_instance inst;
    char *text = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)))
        goto out;
    if (!diff) {
        rc = bad_params(call, err, "'diff' is required");
        goto out;
    }
    if (nxl__json_type(diff) != NXL_JSON_OBJECT) {
        rc = bad_params(call, err, "'diff' must be an object, not %s",
                        nxl__json_type_name(diff));
        goto out;
    }
    if ((rc = nxl__json_to_text(diff, &text, err)) ||
        (rc = nxl_instance_change_metadata(call->drv, &inst, text, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(text);
    nxl_instance_dispose(&inst);
    return rc;
}

/* {"uuid"?, "name"?}: nova asks for the host's connector without an
 * instance. */
static int m_get_volume_connector(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_volume_connector vc;
    nxl_instance inst;
    bool has_inst = param(call, "uuid") != NULL;
    int rc;

    nxl_instance_init(&inst);
    nxl_volume_connector_init(&vc);
    if ((has_inst && (rc = p_instance(call, &inst, err))) ||
        (rc = nxl_instance_get_volume_connector(
             call->drv, has_inst ? &inst : NULL, &vc, err)))
        goto out;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "ip", vc.ip);
    nxl__jw_kv_string(w, "initiator", vc.initiator);
    nxl__jw_kv_string(w, "host", vc.host);
    nxl__jw_object_close(w);
out:
    nxl_volume_connector_dispose(&vc);
    nxl_instance_dispose(&inst);
    return rc;
}

/* ---- aggregates -------------------------------------------------------------
 */

/* {"aggregate": nova's Aggregate, "host": ...}: both required. */
static int p_aggregate(nxl_svc_call *call, nxl_aggregate *agg,
                       const char **host, nxl_error *err)
{
    const nxl_json *v = param(call, "aggregate");
    nxl_error e = NXL_ERROR_INIT;
    char *text = NULL;
    int rc;

    if (!v)
        return bad_params(call, err, "'aggregate' is required");
    if (nxl__json_type(v) != NXL_JSON_OBJECT)
        return bad_params(call, err, "'aggregate' must be an object, not %s",
                          nxl__json_type_name(v));
    if ((rc = p_string(call, "host", true, host, err)))
        return rc;
    if ((rc = nxl__json_to_text(v, &text, err)))
        return rc;
    rc = nxl__aggregate_from_json(text, strlen(text), agg, &e);
    free(text);
    if (rc)
        rc = rc == NXL_E_INVAL
                 ? bad_params(call, err, "%s", nxl_error_message(&e))
                 : nxl_error_set(err, rc, "%s", nxl_error_message(&e));
    nxl_error_dispose(&e);
    return rc;
}

typedef int agg_fn(nxl_driver *drv, const nxl_aggregate *agg, const char *host,
                   const char *kwargs_json, nxl_error *err);

/* add/remove: the aggregate, the host and nova's kwargs (an object,
 * optional). */
static int on_aggregate(nxl_svc_call *call, nxl_jw *w, agg_fn *fn,
                        nxl_error *err)
{
    const nxl_json *kw = param(call, "kwargs");
    nxl_aggregate agg;
    const char *host;
    char *kwargs = NULL;
    int rc;

    nxl_aggregate_init(&agg);
    if ((rc = p_aggregate(call, &agg, &host, err)))
        goto out;
    if (kw && nxl__json_type(kw) != NXL_JSON_OBJECT) {
        rc = bad_params(call, err, "'kwargs' must be an object, not %s",
                        nxl__json_type_name(kw));
        goto out;
    }
    if ((kw && (rc = nxl__json_to_text(kw, &kwargs, err))) ||
        (rc = fn(call->drv, &agg, host, kwargs, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(kwargs);
    nxl_aggregate_dispose(&agg);
    return rc;
}

static int m_add_to_aggregate(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_aggregate(call, w, nxl_aggregate_add_host, err);
}

static int m_remove_from_aggregate(nxl_svc_call *call, nxl_jw *w,
                                   nxl_error *err)
{
    return on_aggregate(call, w, nxl_aggregate_remove_host, err);
}

/* {"op": "add_to_aggregate" | "remove_from_aggregate", "aggregate",
 * "host", "set_error" (true, nova's default)}. */
static int m_undo_aggregate_operation(nxl_svc_call *call, nxl_jw *w,
                                      nxl_error *err)
{
    nxl_aggregate agg;
    const char *op, *host;
    bool set_error;
    int rc;

    nxl_aggregate_init(&agg);
    if ((rc = p_string(call, "op", true, &op, err)))
        goto out;
    if (strcmp(op, "add_to_aggregate") != 0 &&
        strcmp(op, "remove_from_aggregate") != 0) {
        rc = bad_params(call, err,
                        "'op' must be \"add_to_aggregate\" or "
                        "\"remove_from_aggregate\"");
        goto out;
    }
    if ((rc = p_aggregate(call, &agg, &host, err)) ||
        (rc = p_bool(call, "set_error", false, true, &set_error, err)) ||
        (rc = nxl_aggregate_undo_operation(call->drv, op, &agg, host, set_error,
                                           err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_aggregate_dispose(&agg);
    return rc;
}

/* novaxl's own (not nova's): {"id"} -> this host's record of the
 * aggregate, for `novaxl aggregate show`. */
static int m_aggregate_record(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    const nxl_json *v = param(call, "id");
    long long id;
    char *json = NULL;
    int rc;

    if (!v)
        return bad_params(call, err, "'id' is required");
    if (!nxl__json_integer(v, &id) || id < 0)
        return bad_params(call, err,
                          "'id' must be a non-negative integer, not %s",
                          nxl__json_type_name(v));
    if ((rc = nxl_aggregate_get_record(call->drv, (int64_t)id, &json, err)))
        return rc;
    nxl__jw_document(w, json);
    free(json);
    return 0;
}

/* novaxl's own (not nova's), for `novaxl host status`: what an operator
 * should know about the host that no nova method reports.
 * console_warning is null when guest consoles are logged where the
 * driver reads them. */
static int m_host_status(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    char *warning = NULL;
    int rc;

    if ((rc = nxl_host_get_console_warning(call->drv, &warning, err)))
        return rc;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "driver", nxl_driver_name(call->drv));
    nxl__jw_kv_string(w, "console_warning", warning);
    nxl__jw_object_close(w);
    free(warning);
    return 0;
}

/* novaxl's own (not nova's): {"uuid", "name"?} -> the spawn request the
 * driver keeps for the instance, for `novaxl dumpxml`. */
static int m_instance_request(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    char *json = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = nxl_instance_get_request(call->drv, &inst, &json, err)))
        goto out;
    nxl__jw_document(w, json);
out:
    free(json);
    nxl_instance_dispose(&inst);
    return rc;
}

/* ---- more parameters
 * ---------------------------------------------------------- */

static int parse_im(const char *doc, size_t len, void *out, nxl_error *err)
{
    return nxl__image_meta_from_json(doc, len, out, err);
}

static int parse_vif(const char *doc, size_t len, void *out, nxl_error *err)
{
    return nxl__vif_from_json(doc, len, out, err);
}

static int parse_ci(const char *doc, size_t len, void *out, nxl_error *err)
{
    return nxl__connection_info_from_json(doc, len, out, err);
}

static int parse_flavor(const char *doc, size_t len, void *out, nxl_error *err)
{
    return nxl__flavor_from_json(doc, len, out, err);
}

static int parse_migration(const char *doc, size_t len, void *out,
                           nxl_error *err)
{
    return nxl__migration_from_json(doc, len, out, err);
}

static int parse_instance_doc(const char *doc, size_t len, void *out,
                              nxl_error *err)
{
    return nxl__instance_from_json(doc, len, out, err);
}

static int parse_bdm(const char *doc, size_t len, void *out, nxl_error *err)
{
    return nxl__bdm_from_json(doc, len, out, err);
}

/* A sub-document the method cannot do without. */
static int p_subdoc_req(nxl_svc_call *call, const char *key, subdoc_fn *parse,
                        void *out, nxl_error *err)
{
    bool present;
    int rc = p_subdoc(call, key, parse, out, &present, err);

    if (rc == 0 && !present)
        return bad_params(call, err, "'%s' is required", key);
    return rc;
}

/* One of nova's free-form dicts (migrate_data, disk_info, create_info,
 * ...): an object, passed on as JSON text; *text_r NULL when absent. */
static int p_dict(nxl_svc_call *call, const char *key, bool required,
                  char **text_r, nxl_error *err)
{
    const nxl_json *v = param(call, key);

    *text_r = NULL;
    if (!v)
        return required ? bad_params(call, err, "'%s' is required", key) : 0;
    if (nxl__json_type(v) != NXL_JSON_OBJECT)
        return bad_params(call, err, "'%s' must be an object, not %s", key,
                          nxl__json_type_name(v));
    return nxl__json_to_text(v, text_r, err);
}

/* An instance named inside an array: {"uuid", "name"?} like the
 * top-level one (a whole nova instance object works too: its other
 * members are ignored). */
static int p_instance_at(nxl_svc_call *call, const char *key, size_t i,
                         const nxl_json *obj, nxl_instance *inst,
                         nxl_error *err)
{
    const char *uuid = nxl__json_string(nxl__json_get(obj, "uuid"));
    const nxl_json *nv = nxl__json_get(obj, "name");
    const char *name = nxl__json_string(nv);
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    if (nxl__json_type(obj) != NXL_JSON_OBJECT)
        return bad_params(call, err, "'%s[%zu]' must be an object, not %s", key,
                          i, nxl__json_type_name(obj));
    if (!uuid)
        return bad_params(call, err, "'%s[%zu].uuid' must be a string", key, i);
    if (nv && nxl__json_type(nv) != NXL_JSON_NULL && !name)
        return bad_params(call, err, "'%s[%zu].name' must be a string", key, i);
    if (nxl_uuid_validate(uuid, "uuid", &e) ||
        (name && nxl_name_validate(name, "name", &e))) {
        rc =
            bad_params(call, err, "%s[%zu]: %s", key, i, nxl_error_message(&e));
        nxl_error_dispose(&e);
        return rc;
    }
    snprintf(inst->uuid, sizeof(inst->uuid), "%s", uuid);
    for (char *p = inst->uuid; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (name && nxl__strdup(&inst->name, name, err))
        return NXL_E_NOMEM;
    return 0;
}

/* A list of instances (absent: none). */
typedef struct inst_list {
    nxl_instance *v;
    size_t n;
} inst_list;

static void inst_list_dispose(inst_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        nxl_instance_dispose(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int p_instances(nxl_svc_call *call, const char *key, inst_list *l,
                       nxl_error *err)
{
    const nxl_json *v = param(call, key);
    size_t n;
    int rc;

    l->v = NULL;
    l->n = 0;
    if (!v)
        return 0;
    if (nxl__json_type(v) != NXL_JSON_ARRAY)
        return bad_params(call, err, "'%s' must be an array, not %s", key,
                          nxl__json_type_name(v));
    if ((n = nxl__json_len(v)) > NXL_MAX_LIST_ITEMS)
        return bad_params(call, err, "'%s' holds over %d instances", key,
                          NXL_MAX_LIST_ITEMS);
    if (n && !(l->v = calloc(n, sizeof(*l->v))))
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        nxl_instance_init(&l->v[i]);
        l->n = i + 1;
        if ((rc = p_instance_at(call, key, i, nxl__json_at(v, i), &l->v[i],
                                err)))
            return rc;
    }
    return 0;
}

/* An array of strings -> sv. */
static int p_strings(nxl_svc_call *call, const char *key, bool required,
                     nxl_strv *sv, nxl_error *err)
{
    const nxl_json *v = param(call, key);

    if (!v)
        return required ? bad_params(call, err, "'%s' is required", key) : 0;
    if (nxl__json_type(v) != NXL_JSON_ARRAY)
        return bad_params(call, err, "'%s' must be an array, not %s", key,
                          nxl__json_type_name(v));
    if (nxl__json_len(v) > NXL_MAX_LIST_ITEMS)
        return bad_params(call, err, "'%s' holds over %d items", key,
                          NXL_MAX_LIST_ITEMS);
    for (size_t i = 0; i < nxl__json_len(v); i++) {
        const char *s = nxl__json_string(nxl__json_at(v, i));
        if (!s)
            return bad_params(call, err, "'%s[%zu]' must be a string", key, i);
        if (nxl_strv_push(sv, s))
            return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    }
    return 0;
}

/* ---- more result writers
 * ----------------------------------------------------- */

static void write_kvlist(nxl_jw *w, const nxl_kvlist *kv)
{
    nxl__jw_object_open(w);
    for (size_t i = 0; i < kv->n; i++)
        nxl__jw_kv_string(w, kv->items[i].key, kv->items[i].value);
    nxl__jw_object_close(w);
}

static void write_ci(nxl_jw *w, const nxl_connection_info *ci)
{
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "driver_volume_type", ci->driver_volume_type);
    nxl__jw_kv_string(w, "serial", ci->serial);
    nxl__jw_key(w, "data");
    write_kvlist(w, &ci->data);
    nxl__jw_object_close(w);
}

static void write_swap(nxl_jw *w, const nxl_swap_bdm *s)
{
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "device_name", s->device_name);
    nxl__jw_kv_string(w, "disk_bus", s->disk_bus);
    nxl__jw_kv_uint(w, "swap_size", s->swap_size);
    nxl__jw_object_close(w);
}

static void write_ephemerals(nxl_jw *w, const nxl_ephemeral_bdm *e, size_t n)
{
    nxl__jw_array_open(w);
    for (size_t i = 0; i < n; i++) {
        nxl__jw_object_open(w);
        nxl__jw_kv_int(w, "num", e[i].num);
        nxl__jw_kv_string(w, "device_name", e[i].device_name);
        nxl__jw_kv_string(w, "device_type", e[i].device_type);
        nxl__jw_kv_string(w, "disk_bus", e[i].disk_bus);
        nxl__jw_kv_string(w, "guest_format", e[i].guest_format);
        nxl__jw_kv_uint(w, "size", e[i].size);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
}

static void write_mappings(nxl_jw *w, const nxl_volume_bdm *m, size_t n)
{
    nxl__jw_array_open(w);
    for (size_t i = 0; i < n; i++) {
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "mount_device", m[i].mount_device);
        nxl__jw_kv_string(w, "device_type", m[i].device_type);
        nxl__jw_kv_string(w, "disk_bus", m[i].disk_bus);
        nxl__jw_kv_int(w, "boot_index", m[i].boot_index);
        nxl__jw_kv_bool(w, "delete_on_termination", m[i].delete_on_termination);
        nxl__jw_key(w, "connection_info");
        write_ci(w, &m[i].connection_info);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
}

/* nova's block_device_info dict, as block_device_info params take it. */
static void write_bdi(nxl_jw *w, const nxl_block_device_info *bdi)
{
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "root_device_name", bdi->root_device_name);
    nxl__jw_key(w, "ephemerals");
    write_ephemerals(w, bdi->ephemerals, bdi->n_ephemerals);
    nxl__jw_key(w, "swap");
    if (bdi->has_swap)
        write_swap(w, &bdi->swap);
    else
        nxl__jw_null(w);
    nxl__jw_key(w, "block_device_mapping");
    write_mappings(w, bdi->mappings, bdi->n_mappings);
    nxl__jw_object_close(w);
}

static void write_console(nxl_jw *w, const nxl_console *con)
{
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "host", con->host);
    nxl__jw_kv_int(w, "port", con->port);
    nxl__jw_kv_string(w, "internal_access_path", con->internal_access_path);
    if (con->type == NXL_CONSOLE_SPICE)
        nxl__jw_kv_int(w, "tls_port", con->tls_port);
    nxl__jw_object_close(w);
}

/* ---- driver properties, events, host lifecycle
 * ------------------------------- */

typedef int drv_bool_fn(nxl_driver *drv, bool *b_r, nxl_error *err);

static int on_drv_bool(nxl_svc_call *call, nxl_jw *w, drv_bool_fn *fn,
                       nxl_error *err)
{
    bool b;
    int rc;

    if ((rc = fn(call->drv, &b, err)) == 0)
        nxl__jw_bool(w, b);
    return rc;
}

static int m_need_legacy_block_device_info(nxl_svc_call *call, nxl_jw *w,
                                           nxl_error *err)
{
    return on_drv_bool(call, w, nxl_driver_need_legacy_block_device_info, err);
}

static int m_is_xenapi(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_drv_bool(call, w, nxl_driver_is_xenapi, err);
}

static int m_is_supported_fs_format(nxl_svc_call *call, nxl_jw *w,
                                    nxl_error *err)
{
    const char *fs;
    bool ok;
    int rc;

    if ((rc = p_string(call, "fs_type", true, &fs, err)) ||
        (rc = nxl_driver_is_supported_fs_format(call->drv, fs, &ok, err)))
        return rc;
    nxl__jw_bool(w, ok);
    return 0;
}

/* The daemon's bus is the driver's one listener: a remote client cannot
 * take its place, it subscribes to the bus instead. */
static int m_register_event_listener(nxl_svc_call *call, nxl_jw *w,
                                     nxl_error *err)
{
    (void)call;
    (void)w;
    return nxl_error_set(err, NXL_E_UNSUPPORTED,
                         "register_event_listener: novaxld is the driver's "
                         "listener; call 'subscribe' to receive its events "
                         "on this connection");
}

/* {"uuid", "transition": "started" | ... | 0..5 | 100,
 * "timestamp_us"?}: through the driver to its listener, the bus. */
static int m_emit_event(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    const nxl_json *t = param(call, "transition");
    const nxl_json *ts = param(call, "timestamp_us");
    nxl_instance inst;
    nxl_event ev;
    long long n;
    int rc;

    memset(&ev, 0, sizeof(ev));
    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)))
        goto out;
    memcpy(ev.uuid, inst.uuid, sizeof(ev.uuid));
    ev.transition = -1;
    if (t && nxl__json_string(t)) {
        static const int all[] = {NXL_EVENT_STARTED,   NXL_EVENT_STOPPED,
                                  NXL_EVENT_PAUSED,    NXL_EVENT_RESUMED,
                                  NXL_EVENT_SUSPENDED, NXL_EVENT_CRASHED};
        for (size_t i = 0; i < NXL_ARRAY_SIZE(all); i++)
            if (strcasecmp(nxl__json_string(t),
                           nxl_event_transition_name(all[i])) == 0)
                ev.transition = all[i];
    } else if (t && nxl__json_integer(t, &n) && n >= 0 && n <= 100) {
        ev.transition = (int)n;
    }
    if (!t) {
        rc = bad_params(call, err, "'transition' is required");
        goto out;
    }
    if (ev.transition < 0) {
        rc = bad_params(call, err,
                        "'transition' must be a transition name "
                        "(started, stopped, paused, resumed, "
                        "suspended, crashed) or its number");
        goto out;
    }
    if (ts && (!nxl__json_integer(ts, &n) || n < 0)) {
        rc = bad_params(call, err,
                        "'timestamp_us' must be a non-negative integer");
        goto out;
    }
    if (ts) {
        ev.timestamp_us = n;
    } else {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ev.timestamp_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    }
    if ((rc = nxl_driver_emit_event(call->drv, &ev, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

/* novaxld opened the driver, ran init_host at start-up and runs
 * cleanup_host at exit; letting a client do either would pull the
 * hypervisor session from under every other client. */
static int daemon_owned(const char *method, nxl_error *err)
{
    return nxl_error_set(err, NXL_E_UNSUPPORTED,
                         "%s: novaxld owns the driver's lifecycle (init_host "
                         "at start-up, cleanup_host at exit); restart "
                         "novaxld to reconnect to the hypervisor",
                         method);
}

static int m_init_host(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    (void)call;
    (void)w;
    return daemon_owned("init_host", err);
}

static int m_cleanup_host(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    (void)call;
    (void)w;
    return daemon_owned("cleanup_host", err);
}

/* The driver this daemon loaded at start-up. */
static int m_load_compute_driver(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    (void)err;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "backend", nxl_driver_name(call->drv));
    nxl__jw_object_close(w);
    return 0;
}

/* ---- more host methods
 * -------------------------------------------------------- */

static int m_host_power_action(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    const char *action;
    char *result = NULL;
    int rc;

    if ((rc = p_string(call, "action", true, &action, err)) ||
        (rc = nxl_host_power_action(call->drv, action, &result, err)))
        return rc;
    nxl__jw_string(w, result);
    free(result);
    return 0;
}

static int m_get_console_pool_info(nxl_svc_call *call, nxl_jw *w,
                                   nxl_error *err)
{
    nxl_console_pool pool;
    const char *type;
    int rc;

    nxl_console_pool_init(&pool);
    if ((rc = p_string(call, "console_type", true, &type, err)) ||
        (rc = nxl_host_get_console_pool_info(call->drv, type, &pool, err)))
        goto out;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "address", pool.address);
    nxl__jw_kv_string(w, "username", pool.username);
    nxl__jw_kv_string(w, "password", pool.password);
    nxl__jw_object_close(w);
out:
    nxl_console_pool_dispose(&pool);
    return rc;
}

static int m_get_all_bw_counters(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_bw_counter_list bw;
    inst_list l;
    int rc;

    nxl_bw_counter_list_init(&bw);
    if ((rc = p_instances(call, "instances", &l, err)) ||
        (rc = nxl_host_get_all_bw_counters(call->drv, l.v, l.n, &bw, err)))
        goto out;
    nxl__jw_array_open(w);
    for (size_t i = 0; i < bw.n; i++) {
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "uuid", bw.items[i].uuid);
        nxl__jw_kv_string(w, "mac_address", bw.items[i].mac_address);
        nxl__jw_kv_uint(w, "bw_in", bw.items[i].bw_in);
        nxl__jw_kv_uint(w, "bw_out", bw.items[i].bw_out);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
out:
    inst_list_dispose(&l);
    nxl_bw_counter_list_dispose(&bw);
    return rc;
}

/* {"compute_host_bdms": [{"instance": {uuid, name?},
 * "block_device_info": {...}}, ...]}. */
static int m_get_all_volume_usage(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    static const char key[] = "compute_host_bdms";
    const nxl_json *v = param(call, key);
    nxl_volume_usage_list usage;
    nxl_instance *insts = NULL;
    nxl_block_device_info *bdis = NULL;
    nxl_instance_bdms *pairs = NULL;
    size_t n = 0;
    int rc = 0;

    nxl_volume_usage_list_init(&usage);
    if (v && nxl__json_type(v) != NXL_JSON_ARRAY) {
        rc = bad_params(call, err, "'%s' must be an array, not %s", key,
                        nxl__json_type_name(v));
        goto out;
    }
    n = nxl__json_len(v);
    if (n > NXL_MAX_LIST_ITEMS) {
        rc = bad_params(call, err, "'%s' holds over %d items", key,
                        NXL_MAX_LIST_ITEMS);
        goto out;
    }
    if (n && (!(insts = calloc(n, sizeof(*insts))) ||
              !(bdis = calloc(n, sizeof(*bdis))) ||
              !(pairs = calloc(n, sizeof(*pairs))))) {
        free(insts);
        free(bdis);
        insts = NULL;
        bdis = NULL;
        n = 0;
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        nxl_instance_init(&insts[i]);
        nxl_block_device_info_init(&bdis[i]);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const nxl_json *e = nxl__json_at(v, i);
        const nxl_json *b = nxl__json_get(e, "block_device_info");
        nxl_error pe = NXL_ERROR_INIT;
        char *text = NULL;

        if ((rc = p_instance_at(call, key, i, nxl__json_get(e, "instance"),
                                &insts[i], err)))
            break;
        pairs[i].instance = &insts[i];
        if (!b || nxl__json_type(b) == NXL_JSON_NULL)
            continue;
        if ((rc = nxl__json_to_text(b, &text, err)))
            break;
        rc =
            nxl__block_device_info_from_json(text, strlen(text), &bdis[i], &pe);
        free(text);
        if (rc)
            rc = bad_params(call, err, "%s[%zu]: %s", key, i,
                            nxl_error_message(&pe));
        nxl_error_dispose(&pe);
        pairs[i].bdi = &bdis[i];
    }
    if (rc ||
        (rc = nxl_host_get_all_volume_usage(call->drv, pairs, n, &usage, err)))
        goto out;
    nxl__jw_array_open(w);
    for (size_t i = 0; i < usage.n; i++) {
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "volume", usage.items[i].volume);
        nxl__jw_kv_string(w, "instance", usage.items[i].instance);
        nxl__jw_kv_uint(w, "rd_req", usage.items[i].rd_req);
        nxl__jw_kv_uint(w, "rd_bytes", usage.items[i].rd_bytes);
        nxl__jw_kv_uint(w, "wr_req", usage.items[i].wr_req);
        nxl__jw_kv_uint(w, "wr_bytes", usage.items[i].wr_bytes);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
out:
    for (size_t i = 0; i < n; i++) {
        nxl_instance_dispose(&insts[i]);
        nxl_block_device_info_dispose(&bdis[i]);
    }
    free(insts);
    free(bdis);
    free(pairs);
    nxl_volume_usage_list_dispose(&usage);
    return rc;
}

static int m_get_per_instance_usage(nxl_svc_call *call, nxl_jw *w,
                                    nxl_error *err)
{
    nxl_instance_usage_list usage;
    int rc;

    nxl_instance_usage_list_init(&usage);
    if ((rc = nxl_host_get_per_instance_usage(call->drv, &usage, err)) == 0) {
        /* nova's dict: uuid -> {uuid, memory_mb, vcpus} */
        nxl__jw_object_open(w);
        for (size_t i = 0; i < usage.n; i++) {
            nxl__jw_key(w, usage.items[i].uuid);
            nxl__jw_object_open(w);
            nxl__jw_kv_string(w, "uuid", usage.items[i].uuid);
            nxl__jw_kv_uint(w, "memory_mb", usage.items[i].memory_mb);
            nxl__jw_kv_uint(w, "vcpus", usage.items[i].vcpus);
            nxl__jw_object_close(w);
        }
        nxl__jw_object_close(w);
    }
    nxl_instance_usage_list_dispose(&usage);
    return rc;
}

static int m_poll_rebooting_instances(nxl_svc_call *call, nxl_jw *w,
                                      nxl_error *err)
{
    unsigned timeout;
    inst_list l;
    int rc;

    if ((rc = p_uint(call, "timeout", 0, 86400 * 365, &timeout, err)))
        return rc;
    if ((rc = p_instances(call, "instances", &l, err)) == 0 &&
        (rc = nxl_host_poll_rebooting_instances(call->drv, timeout, l.v, l.n,
                                                err)) == 0)
        nxl__jw_null(w);
    inst_list_dispose(&l);
    return rc;
}

static int m_manage_image_cache(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    inst_list l;
    int rc;

    if ((rc = p_instances(call, "all_instances", &l, err)) == 0 &&
        (rc = nxl_host_manage_image_cache(call->drv, l.v, l.n, err)) == 0)
        nxl__jw_null(w);
    inst_list_dispose(&l);
    return rc;
}

static int m_filter_defer_apply_on(nxl_svc_call *call, nxl_jw *w,
                                   nxl_error *err)
{
    int rc = nxl_host_filter_defer_apply_on(call->drv, err);

    if (rc == 0)
        nxl__jw_null(w);
    return rc;
}

static int m_filter_defer_apply_off(nxl_svc_call *call, nxl_jw *w,
                                    nxl_error *err)
{
    int rc = nxl_host_filter_defer_apply_off(call->drv, err);

    if (rc == 0)
        nxl__jw_null(w);
    return rc;
}

static int m_refresh_security_group_rules(nxl_svc_call *call, nxl_jw *w,
                                          nxl_error *err)
{
    const char *id;
    int rc;

    if ((rc = p_string(call, "security_group_id", true, &id, err)) ||
        (rc = nxl_host_refresh_security_group_rules(call->drv, id, err)))
        return rc;
    nxl__jw_null(w);
    return 0;
}

/* ---- more instance methods
 * ---------------------------------------------------- */

/* The shape of methods that answer one bool about the instance. */
typedef int inst_bool_fn(nxl_driver *drv, const nxl_instance *inst, bool *b_r,
                         nxl_error *err);

static int on_instance_bool(nxl_svc_call *call, nxl_jw *w, inst_bool_fn *fn,
                            nxl_error *err)
{
    nxl_instance inst;
    bool b;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = fn(call->drv, &inst, &b, err)) == 0)
        nxl__jw_bool(w, b);
    nxl_instance_dispose(&inst);
    return rc;
}

/* ... one malloc'd string ... */
typedef int inst_string_fn(nxl_driver *drv, const nxl_instance *inst,
                           char **s_r, nxl_error *err);

static int on_instance_string(nxl_svc_call *call, nxl_jw *w, inst_string_fn *fn,
                              nxl_error *err)
{
    nxl_instance inst;
    char *s = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = fn(call->drv, &inst, &s, err)) == 0)
        nxl__jw_string(w, s);
    free(s);
    nxl_instance_dispose(&inst);
    return rc;
}

/* ... and the instance plus its network_info, answering null. */
typedef int inst_ni_fn(nxl_driver *drv, const nxl_instance *inst,
                       const nxl_network_info *ni, nxl_error *err);

static int on_instance_ni(nxl_svc_call *call, nxl_jw *w, inst_ni_fn *fn,
                          bool ni_required, nxl_error *err)
{
    inst_docs d;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) || (rc = p_docs(call, &d, err)))
        goto out;
    if (ni_required && !d.ni) {
        rc = bad_params(call, err, "'network_info' is required");
        goto out;
    }
    if ((rc = fn(call->drv, &d.inst, d.ni, err)))
        goto out;
    nxl__jw_null(w);
out:
    inst_docs_dispose(&d);
    return rc;
}

static int m_cleanup(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    inst_docs d;
    bool destroy_disks, destroy_vifs;
    char *md = NULL;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc =
             p_bool(call, "destroy_disks", false, true, &destroy_disks, err)) ||
        (rc = p_bool(call, "destroy_vifs", false, true, &destroy_vifs, err)) ||
        (rc = p_dict(call, "migrate_data", false, &md, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_instance_cleanup(call->drv, &d.inst, d.ni, d.bdi,
                                   destroy_disks, md, destroy_vifs, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(md);
    inst_docs_dispose(&d);
    return rc;
}

/* The spawn request document plus "recreate" and "preserve_ephemeral".
 * Volumes are not moved here: nova's detach/attach_block_devices are
 * the compute manager's (block_devices NULL). */
static int m_rebuild(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    nxl_spawn_req req;
    bool recreate, preserve;
    char *text = NULL;
    int rc;

    nxl_spawn_req_init(&req);
    if (!call->params) {
        rc = bad_params(call, err, "rebuild wants the spawn request document");
        goto out;
    }
    if ((rc = p_bool(call, "recreate", false, false, &recreate, err)) ||
        (rc = p_bool(call, "preserve_ephemeral", false, false, &preserve,
                     err)) ||
        (rc = nxl__json_to_text(call->params, &text, err)))
        goto out;
    if ((rc = nxl__spawn_req_from_json(text, strlen(text), &req, &e))) {
        rc = rc == NXL_E_INVAL
                 ? bad_params(call, err, "%s", nxl_error_message(&e))
                 : nxl_error_set(err, rc, "%s", nxl_error_message(&e));
        goto out;
    }
    memcpy(call->uuid, req.instance.uuid, sizeof(call->uuid));
    if ((rc = nxl_instance_rebuild(call->drv, &req, NULL, NULL, recreate,
                                   preserve, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_error_dispose(&e);
    free(text);
    nxl_spawn_req_dispose(&req);
    return rc;
}

static int m_instance_on_disk(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_bool(call, w, nxl_instance_on_disk, err);
}

static int m_delete_instance_files(nxl_svc_call *call, nxl_jw *w,
                                   nxl_error *err)
{
    return on_instance_bool(call, w, nxl_instance_delete_files, err);
}

static int m_resume_state_on_host_boot(nxl_svc_call *call, nxl_jw *w,
                                       nxl_error *err)
{
    return on_instance_docs(call, w, nxl_instance_resume_state_on_host_boot,
                            err);
}

/* {"uuid", "image_meta" (the rescue image, required),
 * "rescue_password"?, "network_info"?}. */
static int m_rescue(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_image_meta im;
    inst_docs d;
    const char *pw;
    int rc;

    inst_docs_init(&d);
    nxl_image_meta_init(&im);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_subdoc_req(call, "image_meta", parse_im, &im, err)) ||
        (rc = p_string(call, "rescue_password", false, &pw, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_instance_rescue(call->drv, &d.inst, d.ni, &im, pw, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_image_meta_dispose(&im);
    inst_docs_dispose(&d);
    return rc;
}

static int m_unrescue(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_ni(call, w, nxl_instance_unrescue, false, err);
}

static int m_set_bootable(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    bool bootable;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_bool(call, "is_bootable", true, false, &bootable, err)) ||
        (rc = nxl_instance_set_bootable(call->drv, &inst, bootable, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

/* The overhead depends on the flavor: this one takes nova's whole
 * instance document ({"instance": {...}}), not just a uuid. */
static int m_estimate_instance_overhead(nxl_svc_call *call, nxl_jw *w,
                                        nxl_error *err)
{
    nxl_instance inst;
    nxl_overhead oh;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_subdoc_req(call, "instance", parse_instance_doc, &inst, err)) ||
        (rc = nxl_instance_estimate_overhead(call->drv, &inst, &oh, err)))
        goto out;
    nxl__jw_object_open(w);
    nxl__jw_kv_uint(w, "memory_mb", oh.memory_mb);
    nxl__jw_kv_uint(w, "disk_gb", oh.disk_gb);
    nxl__jw_kv_uint(w, "vcpus", oh.vcpus);
    nxl__jw_object_close(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

typedef int console_fn(nxl_driver *drv, const nxl_instance *inst,
                       nxl_console *con_r, nxl_error *err);

static int on_console(nxl_svc_call *call, nxl_jw *w, console_fn *fn,
                      nxl_error *err)
{
    nxl_instance inst;
    nxl_console con;
    int rc;

    nxl_instance_init(&inst);
    nxl_console_init(&con);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = fn(call->drv, &inst, &con, err)) == 0)
        write_console(w, &con);
    nxl_console_dispose(&con);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_get_spice_console(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_console(call, w, nxl_instance_get_spice_console, err);
}

static int m_get_serial_console(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_console(call, w, nxl_instance_get_serial_console, err);
}

static int m_get_rdp_console(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_console(call, w, nxl_instance_get_rdp_console, err);
}

static int m_get_mks_console(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_console(call, w, nxl_instance_get_mks_console, err);
}

static int m_get_diagnostics(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    char *json = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = nxl_instance_get_diagnostics_json(call->drv, &inst, &json,
                                                err)) == 0)
        nxl__jw_document(w, json);
    free(json);
    nxl_instance_dispose(&inst);
    return rc;
}

static void write_diagnostics(nxl_jw *w, const nxl_diagnostics *d)
{
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "state", d->state);
    nxl__jw_kv_string(w, "driver", d->driver);
    nxl__jw_kv_string(w, "hypervisor", d->hypervisor);
    nxl__jw_kv_string(w, "hypervisor_os", d->hypervisor_os);
    nxl__jw_kv_uint(w, "uptime", d->uptime);
    nxl__jw_kv_bool(w, "config_drive", d->config_drive);
    nxl__jw_key(w, "cpu_details");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < d->n_cpu_details; i++) {
        const nxl_cpu_diagnostics *c = &d->cpu_details[i];
        nxl__jw_object_open(w);
        nxl__jw_kv_int(w, "id", c->id);
        nxl__jw_kv_uint(w, "time", c->time);
        nxl__jw_kv_int(w, "utilisation", c->utilisation);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
    nxl__jw_key(w, "nic_details");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < d->n_nic_details; i++) {
        const nxl_nic_diagnostics *n = &d->nic_details[i];
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "mac_address", n->mac_address);
        nxl__jw_kv_uint(w, "rx_octets", n->rx_octets);
        nxl__jw_kv_uint(w, "rx_errors", n->rx_errors);
        nxl__jw_kv_uint(w, "rx_drop", n->rx_drop);
        nxl__jw_kv_uint(w, "rx_packets", n->rx_packets);
        nxl__jw_kv_uint(w, "rx_rate", n->rx_rate);
        nxl__jw_kv_uint(w, "tx_octets", n->tx_octets);
        nxl__jw_kv_uint(w, "tx_errors", n->tx_errors);
        nxl__jw_kv_uint(w, "tx_drop", n->tx_drop);
        nxl__jw_kv_uint(w, "tx_packets", n->tx_packets);
        nxl__jw_kv_uint(w, "tx_rate", n->tx_rate);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
    nxl__jw_key(w, "disk_details");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < d->n_disk_details; i++) {
        const nxl_disk_diagnostics *k = &d->disk_details[i];
        nxl__jw_object_open(w);
        nxl__jw_kv_uint(w, "read_bytes", k->read_bytes);
        nxl__jw_kv_uint(w, "read_requests", k->read_requests);
        nxl__jw_kv_uint(w, "write_bytes", k->write_bytes);
        nxl__jw_kv_uint(w, "write_requests", k->write_requests);
        nxl__jw_kv_uint(w, "errors_count", k->errors_count);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
    nxl__jw_key(w, "memory_details");
    nxl__jw_object_open(w);
    nxl__jw_kv_uint(w, "maximum", d->memory_details.maximum);
    nxl__jw_kv_uint(w, "used", d->memory_details.used);
    nxl__jw_object_close(w);
    nxl__jw_object_close(w);
}

static int m_get_instance_diagnostics(nxl_svc_call *call, nxl_jw *w,
                                      nxl_error *err)
{
    nxl_instance inst;
    nxl_diagnostics d;
    int rc;

    nxl_instance_init(&inst);
    nxl_diagnostics_init(&d);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = nxl_instance_get_diagnostics(call->drv, &inst, &d, err)) == 0)
        write_diagnostics(w, &d);
    nxl_diagnostics_dispose(&d);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_get_instance_disk_info(nxl_svc_call *call, nxl_jw *w,
                                    nxl_error *err)
{
    nxl_disk_info_list disks;
    inst_docs d;
    int rc;

    inst_docs_init(&d);
    nxl_disk_info_list_init(&disks);
    if ((rc = p_instance(call, &d.inst, err)) || (rc = p_docs(call, &d, err)) ||
        (rc = nxl_instance_get_disk_info(call->drv, &d.inst, d.bdi, &disks,
                                         err)))
        goto out;
    nxl__jw_array_open(w);
    for (size_t i = 0; i < disks.n; i++) {
        const nxl_disk_info *k = &disks.items[i];
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "path", k->path);
        nxl__jw_kv_string(w, "type", k->type);
        nxl__jw_kv_uint(w, "virt_disk_size", k->virt_disk_size);
        nxl__jw_kv_string(w, "backing_file", k->backing_file);
        nxl__jw_kv_uint(w, "disk_size", k->disk_size);
        nxl__jw_kv_uint(w, "over_committed_disk_size",
                        k->over_committed_disk_size);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
out:
    nxl_disk_info_list_dispose(&disks);
    inst_docs_dispose(&d);
    return rc;
}

static int m_block_stats(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    nxl_block_stats st;
    const char *disk;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "disk_id", true, &disk, err)) ||
        (rc = nxl_instance_block_stats(call->drv, &inst, disk, &st, err)))
        goto out;
    /* nova's list: [rd_req, rd_bytes, wr_req, wr_bytes, errs] */
    nxl__jw_array_open(w);
    nxl__jw_int(w, st.rd_req);
    nxl__jw_int(w, st.rd_bytes);
    nxl__jw_int(w, st.wr_req);
    nxl__jw_int(w, st.wr_bytes);
    nxl__jw_int(w, st.errs);
    nxl__jw_array_close(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_set_admin_password(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    const char *pw;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "new_pass", true, &pw, err)) ||
        (rc = nxl_instance_set_admin_password(call->drv, &inst, pw, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_inject_file(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    const char *path, *contents;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "b64_path", true, &path, err)) ||
        (rc = p_string(call, "b64_contents", true, &contents, err)) ||
        (rc = nxl_instance_inject_file(call->drv, &inst, path, contents, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

typedef int inst_im_fn(nxl_driver *drv, const nxl_instance *inst,
                       const nxl_image_meta *im, nxl_error *err);

/* quiesce / unquiesce: the instance and an optional image_meta. */
static int on_instance_im(nxl_svc_call *call, nxl_jw *w, inst_im_fn *fn,
                          nxl_error *err)
{
    nxl_instance inst;
    nxl_image_meta im;
    bool has_im;
    int rc;

    nxl_instance_init(&inst);
    nxl_image_meta_init(&im);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_subdoc(call, "image_meta", parse_im, &im, &has_im, err)) ||
        (rc = fn(call->drv, &inst, has_im ? &im : NULL, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_image_meta_dispose(&im);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_quiesce(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_im(call, w, nxl_instance_quiesce, err);
}

static int m_unquiesce(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_im(call, w, nxl_instance_unquiesce, err);
}

/* The task states the driver reports go to the daemon's log; a client
 * follows the operation through its completion event. */
static int snapshot_task_state(void *opaque, const char *task_state,
                               const char *expected_state, nxl_error *err)
{
    const nxl_svc_call *call = opaque;

    (void)err;
    nxl_svc_log(LOG_INFO, call->uuid, "snapshot: task state %s%s%s",
                task_state ? task_state : "-",
                expected_state ? " (expected " : "",
                expected_state ? expected_state : "");
    return 0;
}

static int m_snapshot(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    const char *image_id;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "image_id", true, &image_id, err)) ||
        (rc = nxl_instance_snapshot(call->drv, &inst, image_id,
                                    snapshot_task_state, call, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_post_interrupted_snapshot_cleanup(nxl_svc_call *call, nxl_jw *w,
                                               nxl_error *err)
{
    return on_instance(call, w, nxl_instance_post_interrupted_snapshot_cleanup,
                       err);
}

/* ---- networking
 * ---------------------------------------------------------------- */

static int m_attach_interface(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    nxl_image_meta im;
    nxl_vif vif;
    int rc;

    nxl_instance_init(&inst);
    nxl_image_meta_init(&im);
    nxl_vif_init(&vif);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_subdoc_req(call, "image_meta", parse_im, &im, err)) ||
        (rc = p_subdoc_req(call, "vif", parse_vif, &vif, err)) ||
        (rc = nxl_instance_attach_interface(call->drv, &inst, &im, &vif, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_vif_dispose(&vif);
    nxl_image_meta_dispose(&im);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_detach_interface(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    nxl_vif vif;
    int rc;

    nxl_instance_init(&inst);
    nxl_vif_init(&vif);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_subdoc_req(call, "vif", parse_vif, &vif, err)) ||
        (rc = nxl_instance_detach_interface(call->drv, &inst, &vif, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_vif_dispose(&vif);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_plug_vifs(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_ni(call, w, nxl_instance_plug_vifs, true, err);
}

static int m_unplug_vifs(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_ni(call, w, nxl_instance_unplug_vifs, true, err);
}

static int m_inject_network_info(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_ni(call, w, nxl_instance_inject_network_info, true, err);
}

static int m_reset_network(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_reset_network, err);
}

static int m_dhcp_options_for_instance(nxl_svc_call *call, nxl_jw *w,
                                       nxl_error *err)
{
    nxl_instance inst;
    nxl_kvlist opts;
    int rc;

    nxl_instance_init(&inst);
    nxl_kvlist_init(&opts);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = nxl_instance_dhcp_options(call->drv, &inst, &opts, err)) == 0) {
        /* Neutron's extra_dhcp_opts; nova's None when there are none. */
        if (!opts.n) {
            nxl__jw_null(w);
        } else {
            nxl__jw_array_open(w);
            for (size_t i = 0; i < opts.n; i++) {
                nxl__jw_object_open(w);
                nxl__jw_kv_string(w, "opt_name", opts.items[i].key);
                nxl__jw_kv_string(w, "opt_value", opts.items[i].value);
                nxl__jw_object_close(w);
            }
            nxl__jw_array_close(w);
        }
    }
    nxl_kvlist_dispose(&opts);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_macs_for_instance(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_instance inst;
    nxl_strv macs;
    int rc;

    nxl_instance_init(&inst);
    nxl_strv_init(&macs);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = nxl_instance_macs(call->drv, &inst, &macs, err)) == 0) {
        /* an empty list is nova's None: no constraint */
        if (macs.n)
            write_strv(w, &macs);
        else
            nxl__jw_null(w);
    }
    nxl_strv_dispose(&macs);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_network_binding_host_id(nxl_svc_call *call, nxl_jw *w,
                                     nxl_error *err)
{
    return on_instance_string(call, w, nxl_instance_network_binding_host_id,
                              err);
}

static int m_deallocate_networks_on_reschedule(nxl_svc_call *call, nxl_jw *w,
                                               nxl_error *err)
{
    return on_instance_bool(
        call, w, nxl_instance_deallocate_networks_on_reschedule, err);
}

static int m_ensure_filtering_rules_for_instance(nxl_svc_call *call, nxl_jw *w,
                                                 nxl_error *err)
{
    return on_instance_ni(call, w, nxl_instance_ensure_filtering_rules, true,
                          err);
}

static int m_unfilter_instance(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance_ni(call, w, nxl_instance_unfilter, true, err);
}

static int m_refresh_instance_security_rules(nxl_svc_call *call, nxl_jw *w,
                                             nxl_error *err)
{
    return on_instance(call, w, nxl_instance_refresh_security_rules, err);
}

/* ---- block devices and volumes
 * ------------------------------------------------ */

/* The device-name methods look at the instance's root_device_name: they
 * take nova's instance document ("instance") when given, else the
 * uuid/name pair. */
static int p_instance_or_doc(nxl_svc_call *call, nxl_instance *inst,
                             nxl_error *err)
{
    int rc;

    if (!param(call, "instance"))
        return p_instance(call, inst, err);
    if ((rc = p_subdoc_req(call, "instance", parse_instance_doc, inst, err)))
        return rc;
    memcpy(call->uuid, inst->uuid, sizeof(call->uuid));
    return 0;
}

static int m_default_root_device_name(nxl_svc_call *call, nxl_jw *w,
                                      nxl_error *err)
{
    nxl_instance inst;
    nxl_image_meta im;
    nxl_bdm root;
    bool has_im, has_root;
    char *name = NULL;
    int rc;

    nxl_instance_init(&inst);
    nxl_image_meta_init(&im);
    nxl_bdm_init(&root);
    if ((rc = p_instance_or_doc(call, &inst, err)) ||
        (rc = p_subdoc(call, "image_meta", parse_im, &im, &has_im, err)) ||
        (rc = p_subdoc(call, "root_bdm", parse_bdm, &root, &has_root, err)) ||
        (rc = nxl_instance_default_root_device_name(
             call->drv, &inst, has_im ? &im : NULL, has_root ? &root : NULL,
             &name, err)))
        goto out;
    nxl__jw_string(w, name);
out:
    free(name);
    nxl_bdm_dispose(&root);
    nxl_image_meta_dispose(&im);
    nxl_instance_dispose(&inst);
    return rc;
}

/* {"uuid" | "instance", "bdms"? (a block_device_info), "requested"?}. */
static int m_get_device_name_for_instance(nxl_svc_call *call, nxl_jw *w,
                                          nxl_error *err)
{
    nxl_instance inst;
    nxl_block_device_info bdms;
    const char *requested;
    bool has_bdms;
    char *name = NULL;
    int rc;

    nxl_instance_init(&inst);
    nxl_block_device_info_init(&bdms);
    if ((rc = p_instance_or_doc(call, &inst, err)) ||
        (rc = p_subdoc(call, "bdms", parse_bdi, &bdms, &has_bdms, err)) ||
        (rc = p_string(call, "requested", false, &requested, err)) ||
        (rc = nxl_instance_get_device_name(
             call->drv, &inst, has_bdms ? &bdms : NULL, requested, &name, err)))
        goto out;
    nxl__jw_string(w, name);
out:
    free(name);
    nxl_block_device_info_dispose(&bdms);
    nxl_instance_dispose(&inst);
    return rc;
}

/* Answers the block_device_info with every device name filled. */
static int m_default_device_names_for_instance(nxl_svc_call *call, nxl_jw *w,
                                               nxl_error *err)
{
    nxl_instance inst;
    nxl_block_device_info bdi;
    const char *root;
    int rc;

    nxl_instance_init(&inst);
    nxl_block_device_info_init(&bdi);
    if ((rc = p_instance_or_doc(call, &inst, err)) ||
        (rc = p_string(call, "root_device_name", true, &root, err)) ||
        (rc = p_subdoc_req(call, "block_device_info", parse_bdi, &bdi, err)) ||
        (rc = nxl_instance_default_device_names(call->drv, &inst, root, &bdi,
                                                err)))
        goto out;
    write_bdi(w, &bdi);
out:
    nxl_block_device_info_dispose(&bdi);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_attach_volume(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_connection_info ci;
    nxl_instance inst;
    const char *mp, *bus, *type;
    char *enc = NULL;
    int rc;

    nxl_instance_init(&inst);
    nxl_connection_info_init(&ci);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_subdoc_req(call, "connection_info", parse_ci, &ci, err)) ||
        (rc = p_string(call, "mountpoint", true, &mp, err)) ||
        (rc = p_string(call, "disk_bus", false, &bus, err)) ||
        (rc = p_string(call, "device_type", false, &type, err)) ||
        (rc = p_dict(call, "encryption", false, &enc, err)) ||
        (rc = nxl_instance_attach_volume(call->drv, &inst, &ci, mp, bus, type,
                                         enc, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(enc);
    nxl_connection_info_dispose(&ci);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_detach_volume(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_connection_info ci;
    nxl_instance inst;
    const char *mp;
    char *enc = NULL;
    int rc;

    nxl_instance_init(&inst);
    nxl_connection_info_init(&ci);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_subdoc_req(call, "connection_info", parse_ci, &ci, err)) ||
        (rc = p_string(call, "mountpoint", true, &mp, err)) ||
        (rc = p_dict(call, "encryption", false, &enc, err)) ||
        (rc = nxl_instance_detach_volume(call->drv, &inst, &ci, mp, enc, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(enc);
    nxl_connection_info_dispose(&ci);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_swap_volume(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_connection_info oci, nci;
    nxl_instance inst;
    const char *mp;
    unsigned resize;
    int rc;

    nxl_instance_init(&inst);
    nxl_connection_info_init(&oci);
    nxl_connection_info_init(&nci);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_subdoc_req(call, "old_connection_info", parse_ci, &oci, err)) ||
        (rc = p_subdoc_req(call, "new_connection_info", parse_ci, &nci, err)) ||
        (rc = p_string(call, "mountpoint", true, &mp, err)) ||
        (rc = p_uint(call, "resize_to", 0, 1024 * 1024, &resize, err)) ||
        (rc = nxl_instance_swap_volume(call->drv, &inst, &oci, &nci, mp, resize,
                                       err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_connection_info_dispose(&nci);
    nxl_connection_info_dispose(&oci);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_volume_snapshot_create(nxl_svc_call *call, nxl_jw *w,
                                    nxl_error *err)
{
    nxl_instance inst;
    const char *vol;
    char *info = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "volume_id", true, &vol, err)) ||
        (rc = p_dict(call, "create_info", true, &info, err)) ||
        (rc = nxl_instance_volume_snapshot_create(call->drv, &inst, vol, info,
                                                  err)))
        goto out;
    nxl__jw_null(w);
out:
    free(info);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_volume_snapshot_delete(nxl_svc_call *call, nxl_jw *w,
                                    nxl_error *err)
{
    nxl_instance inst;
    const char *vol, *snap;
    char *info = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "volume_id", true, &vol, err)) ||
        (rc = p_string(call, "snapshot_id", true, &snap, err)) ||
        (rc = p_dict(call, "delete_info", true, &info, err)) ||
        (rc = nxl_instance_volume_snapshot_delete(call->drv, &inst, vol, snap,
                                                  info, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(info);
    nxl_instance_dispose(&inst);
    return rc;
}

/* ---- cold migration and resize
 * ----------------------------------------------- */

static int m_migrate_disk_and_power_off(nxl_svc_call *call, nxl_jw *w,
                                        nxl_error *err)
{
    nxl_flavor flavor;
    inst_docs d;
    const char *dest;
    unsigned timeout, retry;
    char *disk_info = NULL;
    int rc;

    inst_docs_init(&d);
    nxl_flavor_init(&flavor);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_string(call, "dest", true, &dest, err)) ||
        (rc = p_subdoc_req(call, "flavor", parse_flavor, &flavor, err)) ||
        (rc = p_uint(call, "timeout", 0, 86400, &timeout, err)) ||
        (rc = p_uint(call, "retry_interval", 0, 86400, &retry, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_instance_migrate_disk_and_power_off(
             call->drv, &d.inst, dest, &flavor, d.ni, d.bdi, timeout, retry,
             &disk_info, err)))
        goto out;
    /* nova's disk_info: a JSON document in a string */
    nxl__jw_string(w, disk_info);
out:
    free(disk_info);
    nxl_flavor_dispose(&flavor);
    inst_docs_dispose(&d);
    return rc;
}

/* disk_info comes back as finish_migration's argument: the string
 * migrate_disk_and_power_off answered. */
static int m_finish_migration(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_migration mig;
    nxl_image_meta im;
    inst_docs d;
    const char *disk_info;
    bool resize, power_on;
    int rc;

    inst_docs_init(&d);
    nxl_migration_init(&mig);
    nxl_image_meta_init(&im);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_subdoc_req(call, "migration", parse_migration, &mig, err)) ||
        (rc = p_string(call, "disk_info", true, &disk_info, err)) ||
        (rc = p_subdoc_req(call, "image_meta", parse_im, &im, err)) ||
        (rc = p_bool(call, "resize_instance", false, false, &resize, err)) ||
        (rc = p_bool(call, "power_on", false, true, &power_on, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_migration_finish(call->drv, &mig, &d.inst, disk_info, d.ni,
                                   &im, resize, d.bdi, power_on, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_image_meta_dispose(&im);
    nxl_migration_dispose(&mig);
    inst_docs_dispose(&d);
    return rc;
}

static int m_finish_revert_migration(nxl_svc_call *call, nxl_jw *w,
                                     nxl_error *err)
{
    inst_docs d;
    bool power_on;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_bool(call, "power_on", false, true, &power_on, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_migration_finish_revert(call->drv, &d.inst, d.ni, d.bdi,
                                          power_on, err)))
        goto out;
    nxl__jw_null(w);
out:
    inst_docs_dispose(&d);
    return rc;
}

static int m_confirm_migration(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    nxl_migration mig;
    inst_docs d;
    int rc;

    inst_docs_init(&d);
    nxl_migration_init(&mig);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_subdoc_req(call, "migration", parse_migration, &mig, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_migration_confirm(call->drv, &mig, &d.inst, d.ni, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_migration_dispose(&mig);
    inst_docs_dispose(&d);
    return rc;
}

/* ---- shared storage checks
 * ----------------------------------------------------- */

static int m_check_instance_shared_storage_local(nxl_svc_call *call, nxl_jw *w,
                                                 nxl_error *err)
{
    nxl_instance inst;
    char *data = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) == 0 &&
        (rc = nxl_shared_storage_check_local(call->drv, &inst, &data, err)) ==
            0)
        nxl__jw_document(w, data); /* NULL: nova's None */
    free(data);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_check_instance_shared_storage_remote(nxl_svc_call *call, nxl_jw *w,
                                                  nxl_error *err)
{
    char *data = NULL;
    bool shared;
    int rc;

    if ((rc = p_dict(call, "data", true, &data, err)) == 0 &&
        (rc = nxl_shared_storage_check_remote(call->drv, data, &shared, err)) ==
            0)
        nxl__jw_bool(w, shared);
    free(data);
    return rc;
}

static int m_check_instance_shared_storage_cleanup(nxl_svc_call *call,
                                                   nxl_jw *w, nxl_error *err)
{
    char *data = NULL;
    int rc;

    if ((rc = p_dict(call, "data", true, &data, err)) == 0 &&
        (rc = nxl_shared_storage_check_cleanup(call->drv, data, err)) == 0)
        nxl__jw_null(w);
    free(data);
    return rc;
}

/* ---- live migration
 * -------------------------------------------------------------- */

static int m_check_can_live_migrate_destination(nxl_svc_call *call, nxl_jw *w,
                                                nxl_error *err)
{
    nxl_instance inst;
    char *src = NULL, *dst = NULL, *out = NULL;
    bool block, overcommit;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_dict(call, "src_compute_info", true, &src, err)) ||
        (rc = p_dict(call, "dst_compute_info", true, &dst, err)) ||
        (rc = p_bool(call, "block_migration", false, false, &block, err)) ||
        (rc = p_bool(call, "disk_over_commit", false, false, &overcommit,
                     err)) ||
        (rc = nxl_live_migration_check_destination(
             call->drv, &inst, src, dst, block, overcommit, &out, err)))
        goto out;
    nxl__jw_document(w, out);
out:
    free(out);
    free(dst);
    free(src);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_check_can_live_migrate_destination_cleanup(nxl_svc_call *call,
                                                        nxl_jw *w,
                                                        nxl_error *err)
{
    char *data = NULL;
    int rc;

    if ((rc = p_dict(call, "dest_check_data", true, &data, err)) == 0 &&
        (rc = nxl_live_migration_check_destination_cleanup(call->drv, data,
                                                           err)) == 0)
        nxl__jw_null(w);
    free(data);
    return rc;
}

static int m_check_can_live_migrate_source(nxl_svc_call *call, nxl_jw *w,
                                           nxl_error *err)
{
    inst_docs d;
    char *data = NULL, *out = NULL;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_dict(call, "dest_check_data", true, &data, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_live_migration_check_source(call->drv, &d.inst, data, d.bdi,
                                              &out, err)))
        goto out;
    nxl__jw_document(w, out);
out:
    free(out);
    free(data);
    inst_docs_dispose(&d);
    return rc;
}

static int m_pre_live_migration(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    inst_docs d;
    char *disk = NULL, *md = NULL, *out = NULL;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_dict(call, "disk_info", false, &disk, err)) ||
        (rc = p_dict(call, "migrate_data", false, &md, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_live_migration_pre(call->drv, &d.inst, d.bdi, d.ni, disk, md,
                                     &out, err)))
        goto out;
    nxl__jw_document(w, out);
out:
    free(out);
    free(md);
    free(disk);
    inst_docs_dispose(&d);
    return rc;
}

/* nova passes post_method and recover_method; over the socket the call
 * answers which of the two the driver chose, with its arguments. */
typedef struct lm_outcome {
    const char *which;
    char *dest;
    bool block_migration;
    char *migrate_data;
} lm_outcome;

static void lm_record(lm_outcome *o, const char *which, const char *dest,
                      bool block, const char *md)
{
    o->which = which;
    free(o->dest);
    free(o->migrate_data);
    o->dest = dest ? strdup(dest) : NULL;
    o->migrate_data = md ? strdup(md) : NULL;
    o->block_migration = block;
}

static void lm_post(void *opaque, const nxl_instance *inst, const char *dest,
                    bool block, const char *md)
{
    (void)inst;
    lm_record(opaque, "post", dest, block, md);
}

static void lm_recover(void *opaque, const nxl_instance *inst, const char *dest,
                       bool block, const char *md)
{
    (void)inst;
    lm_record(opaque, "recover", dest, block, md);
}

static int m_live_migration(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    lm_outcome o = {NULL, NULL, false, NULL};
    nxl_instance inst;
    const char *dest;
    bool block;
    char *md = NULL;
    int rc;

    nxl_instance_init(&inst);
    if ((rc = p_instance(call, &inst, err)) ||
        (rc = p_string(call, "dest", true, &dest, err)) ||
        (rc = p_bool(call, "block_migration", false, false, &block, err)) ||
        (rc = p_dict(call, "migrate_data", false, &md, err)) ||
        (rc = nxl_instance_live_migrate(call->drv, &inst, dest, lm_post,
                                        lm_recover, &o, block, md, err)))
        goto out;
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "outcome", o.which);
    nxl__jw_kv_string(w, "dest", o.dest);
    nxl__jw_kv_bool(w, "block_migration", o.block_migration);
    nxl__jw_key(w, "migrate_data");
    nxl__jw_document(w, o.migrate_data);
    nxl__jw_object_close(w);
out:
    free(o.dest);
    free(o.migrate_data);
    free(md);
    nxl_instance_dispose(&inst);
    return rc;
}

static int m_live_migration_abort(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    return on_instance(call, w, nxl_instance_live_migration_abort, err);
}

static int m_live_migration_force_complete(nxl_svc_call *call, nxl_jw *w,
                                           nxl_error *err)
{
    return on_instance(call, w, nxl_instance_live_migration_force_complete,
                       err);
}

static int m_post_live_migration(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    inst_docs d;
    char *md = NULL;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_dict(call, "migrate_data", false, &md, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_live_migration_post(call->drv, &d.inst, d.bdi, md, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(md);
    inst_docs_dispose(&d);
    return rc;
}

static int m_post_live_migration_at_source(nxl_svc_call *call, nxl_jw *w,
                                           nxl_error *err)
{
    return on_instance_ni(call, w, nxl_live_migration_post_at_source, true,
                          err);
}

static int m_post_live_migration_at_destination(nxl_svc_call *call, nxl_jw *w,
                                                nxl_error *err)
{
    inst_docs d;
    bool block;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_bool(call, "block_migration", false, false, &block, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_live_migration_post_at_destination(call->drv, &d.inst, d.ni,
                                                     block, d.bdi, err)))
        goto out;
    nxl__jw_null(w);
out:
    inst_docs_dispose(&d);
    return rc;
}

static int m_rollback_live_migration_at_destination(nxl_svc_call *call,
                                                    nxl_jw *w, nxl_error *err)
{
    inst_docs d;
    bool destroy_disks;
    char *md = NULL;
    int rc;

    inst_docs_init(&d);
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc =
             p_bool(call, "destroy_disks", false, true, &destroy_disks, err)) ||
        (rc = p_dict(call, "migrate_data", false, &md, err)) ||
        (rc = p_docs(call, &d, err)) ||
        (rc = nxl_live_migration_rollback_at_destination(
             call->drv, &d.inst, d.ni, d.bdi, destroy_disks, md, err)))
        goto out;
    nxl__jw_null(w);
out:
    free(md);
    inst_docs_dispose(&d);
    return rc;
}

/* ---- nova.virt.driver's module-level helpers
 * ---------------------------------- */

/* {"instance" | "uuid", "bdms": [nova BDM, ...]} -> block_device_info. */
static int m_get_block_device_info(nxl_svc_call *call, nxl_jw *w,
                                   nxl_error *err)
{
    const nxl_json *v = param(call, "bdms");
    nxl_block_device_info bdi;
    nxl_instance inst;
    nxl_bdm *bdms = NULL;
    size_t n = 0;
    int rc;

    nxl_instance_init(&inst);
    nxl_block_device_info_init(&bdi);
    if ((rc = p_instance_or_doc(call, &inst, err)))
        goto out;
    if (v && nxl__json_type(v) != NXL_JSON_ARRAY) {
        rc = bad_params(call, err, "'bdms' must be an array, not %s",
                        nxl__json_type_name(v));
        goto out;
    }
    if (nxl__json_len(v) > NXL_MAX_LIST_ITEMS) {
        rc = bad_params(call, err, "'bdms' holds over %d items",
                        NXL_MAX_LIST_ITEMS);
        goto out;
    }
    if (nxl__json_len(v) && !(bdms = calloc(nxl__json_len(v), sizeof(*bdms)))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nxl__json_len(v); i++) {
        nxl_error pe = NXL_ERROR_INIT;
        char *text = NULL;

        nxl_bdm_init(&bdms[i]);
        n = i + 1;
        if ((rc = nxl__json_to_text(nxl__json_at(v, i), &text, err)))
            goto out;
        rc = nxl__bdm_from_json(text, strlen(text), &bdms[i], &pe);
        free(text);
        if (rc)
            rc = bad_params(call, err, "bdms[%zu]: %s", i,
                            nxl_error_message(&pe));
        nxl_error_dispose(&pe);
        if (rc)
            goto out;
    }
    if ((rc = nxl_block_device_info_from_bdms(&inst, bdms, n, &bdi, err)))
        goto out;
    write_bdi(w, &bdi);
out:
    for (size_t i = 0; i < n; i++)
        nxl_bdm_dispose(&bdms[i]);
    free(bdms);
    nxl_block_device_info_dispose(&bdi);
    nxl_instance_dispose(&inst);
    return rc;
}

/* The block_device_info_get_* helpers: {"block_device_info"?} (absent
 * is nova's None). */
/* What each helper writes of the block_device_info (NULL: nova's None). */
typedef void bdi_part_fn(nxl_jw *w, const nxl_block_device_info *bdi);

static int on_helper_bdi(nxl_svc_call *call, nxl_jw *w, bdi_part_fn *part,
                         nxl_error *err)
{
    nxl_block_device_info bdi;
    bool has;
    int rc;

    nxl_block_device_info_init(&bdi);
    if ((rc = p_subdoc(call, "block_device_info", parse_bdi, &bdi, &has,
                       err)) == 0)
        part(w, has ? &bdi : NULL);
    nxl_block_device_info_dispose(&bdi);
    return rc;
}

static void part_root(nxl_jw *w, const nxl_block_device_info *bdi)
{
    nxl__jw_string(w, nxl_block_device_info_get_root(bdi));
}

static void part_swap(nxl_jw *w, const nxl_block_device_info *bdi)
{
    write_swap(w, nxl_block_device_info_get_swap(bdi));
}

static void part_ephemerals(nxl_jw *w, const nxl_block_device_info *bdi)
{
    const nxl_ephemeral_bdm *e = NULL;
    size_t n = nxl_block_device_info_get_ephemerals(bdi, &e);

    write_ephemerals(w, e, n);
}

static void part_mapping(nxl_jw *w, const nxl_block_device_info *bdi)
{
    const nxl_volume_bdm *m = NULL;
    size_t n = nxl_block_device_info_get_mapping(bdi, &m);

    write_mappings(w, m, n);
}

static int m_block_device_info_get_root(nxl_svc_call *call, nxl_jw *w,
                                        nxl_error *err)
{
    return on_helper_bdi(call, w, part_root, err);
}

static int m_block_device_info_get_swap(nxl_svc_call *call, nxl_jw *w,
                                        nxl_error *err)
{
    return on_helper_bdi(call, w, part_swap, err);
}

static int m_block_device_info_get_ephemerals(nxl_svc_call *call, nxl_jw *w,
                                              nxl_error *err)
{
    return on_helper_bdi(call, w, part_ephemerals, err);
}

static int m_block_device_info_get_mapping(nxl_svc_call *call, nxl_jw *w,
                                           nxl_error *err)
{
    return on_helper_bdi(call, w, part_mapping, err);
}

/* {"swap": {"device_name", "swap_size"}?}. */
static int m_swap_is_usable(nxl_svc_call *call, nxl_jw *w, nxl_error *err)
{
    const nxl_json *v = param(call, "swap");
    const char *dev = NULL;
    long long size = 0;
    nxl_swap_bdm swap;
    int rc;

    if (v && nxl__json_type(v) != NXL_JSON_OBJECT)
        return bad_params(call, err, "'swap' must be an object, not %s",
                          nxl__json_type_name(v));
    if (v) {
        const nxl_json *d = nxl__json_get(v, "device_name");
        const nxl_json *s = nxl__json_get(v, "swap_size");
        if (d && nxl__json_type(d) != NXL_JSON_NULL &&
            !(dev = nxl__json_string(d)))
            return bad_params(call, err, "'swap.device_name' must be a string");
        if (s && nxl__json_type(s) != NXL_JSON_NULL &&
            (!nxl__json_integer(s, &size) || size < 0))
            return bad_params(call, err,
                              "'swap.swap_size' must be a "
                              "non-negative integer");
    }
    nxl_swap_bdm_init(&swap);
    if (dev && (rc = nxl__strdup(&swap.device_name, dev, err)))
        return rc;
    swap.swap_size = (uint64_t)size;
    nxl__jw_bool(w, nxl_swap_is_usable(v ? &swap : NULL));
    nxl_swap_bdm_dispose(&swap);
    return 0;
}

/* {"entries": ["name=value", ...]} -> {"name": "value", ...}. */
static int m_driver_dict_from_config(nxl_svc_call *call, nxl_jw *w,
                                     nxl_error *err)
{
    nxl_kvlist dict;
    nxl_strv entries;
    int rc;

    nxl_strv_init(&entries);
    nxl_kvlist_init(&dict);
    if ((rc = p_strings(call, "entries", true, &entries, err)) == 0 &&
        (rc = nxl_driver_dict_from_config((const char *const *)entries.v,
                                          entries.n, &dict, err)) == 0)
        write_kvlist(w, &dict);
    nxl_kvlist_dispose(&dict);
    nxl_strv_dispose(&entries);
    return rc;
}

/* ---- the table
 * ----------------------------------------------------------------- */

#define RO(n)                                                                  \
    {                                                                          \
#n, m_##n, true, false                                                 \
    } /* info call */
#define RW(n)                                                                  \
    {                                                                          \
#n, m_##n, false, false                                                \
    } /* privileged, changes nothing */
#define MUT(n)                                                                 \
    {                                                                          \
#n, m_##n, false, true                                                 \
    } /* changes state: an event */

static const nxl_svc_method methods[] = {
    /* served by server.c: turns the connection into an event stream */
    {"subscribe", NULL, true, false},

    RO(capabilities),
    RO(need_legacy_block_device_info),
    RO(is_xenapi),
    RO(is_supported_fs_format),
    /* answers an error pointing at subscribe */
    RO(register_event_listener),
    RW(emit_event), /* the event itself goes on the bus */
    /* the daemon's own: answered with an error saying so */
    RW(init_host),
    RW(cleanup_host),
    RO(list_instances),
    RO(list_instance_uuids),
    RO(get_num_instances),
    RO(get_available_nodes),
    RO(node_is_available),
    RO(get_available_resource),
    RO(get_host_cpu_stats),
    RO(get_host_ip_addr),
    RO(get_host_uptime),
    MUT(set_host_enabled),
    MUT(host_maintenance_mode),
    MUT(host_power_action),
    RW(get_console_pool_info), /* holds credentials */
    RO(get_all_bw_counters),
    RO(get_all_volume_usage),
    RO(get_per_instance_usage),
    MUT(poll_rebooting_instances),
    MUT(manage_image_cache),
    MUT(filter_defer_apply_on),
    MUT(filter_defer_apply_off),
    MUT(refresh_security_group_rules),
    MUT(add_to_aggregate),
    MUT(remove_from_aggregate),
    MUT(undo_aggregate_operation),
    RO(aggregate_record), /* novaxl's own: `novaxl aggregate show` */
    RO(host_status),      /* novaxl's own: `novaxl host status` */
    RW(instance_request), /* novaxl's own, `novaxl dumpxml`: credentials */
    MUT(spawn),
    MUT(destroy),
    MUT(cleanup),
    MUT(rebuild),
    RO(get_info),
    RO(instance_exists),
    RO(instance_on_disk),
    MUT(delete_instance_files),
    MUT(reboot),
    MUT(power_off),
    MUT(power_on),
    MUT(pause),
    MUT(unpause),
    MUT(suspend),
    MUT(resume),
    MUT(resume_state_on_host_boot),
    MUT(soft_delete),
    MUT(restore),
    MUT(rescue),
    MUT(unrescue),
    MUT(set_bootable),
    MUT(trigger_crash_dump),
    RO(estimate_instance_overhead),
    /* Guest output and console access are not "info": rw socket only. */
    RW(get_console_output),
    RW(get_vnc_console),
    RW(get_spice_console),
    RW(get_serial_console),
    RW(get_rdp_console),
    RW(get_mks_console),
    RO(get_diagnostics),
    RO(get_instance_diagnostics),
    RO(get_instance_disk_info),
    RO(block_stats),
    MUT(change_instance_metadata),
    MUT(set_admin_password),
    MUT(inject_file),
    MUT(quiesce),
    MUT(unquiesce),
    MUT(snapshot),
    MUT(post_interrupted_snapshot_cleanup),
    MUT(attach_interface),
    MUT(detach_interface),
    MUT(plug_vifs),
    MUT(unplug_vifs),
    MUT(inject_network_info),
    MUT(reset_network),
    RO(dhcp_options_for_instance),
    RO(macs_for_instance),
    RO(network_binding_host_id),
    RO(deallocate_networks_on_reschedule),
    MUT(ensure_filtering_rules_for_instance),
    MUT(unfilter_instance),
    MUT(refresh_instance_security_rules),
    RO(default_root_device_name),
    RO(get_device_name_for_instance),
    RO(default_device_names_for_instance),
    MUT(attach_volume),
    MUT(detach_volume),
    MUT(swap_volume),
    MUT(volume_snapshot_create),
    MUT(volume_snapshot_delete),
    RO(get_volume_connector),
    MUT(migrate_disk_and_power_off),
    MUT(finish_migration),
    MUT(finish_revert_migration),
    MUT(confirm_migration),
    /* the shared-storage checks leave and remove a marker file */
    RW(check_instance_shared_storage_local),
    RO(check_instance_shared_storage_remote),
    RW(check_instance_shared_storage_cleanup),
    RW(check_can_live_migrate_destination),
    RW(check_can_live_migrate_destination_cleanup),
    RW(check_can_live_migrate_source),
    MUT(pre_live_migration),
    MUT(live_migration),
    MUT(live_migration_abort),
    MUT(live_migration_force_complete),
    MUT(post_live_migration),
    MUT(post_live_migration_at_source),
    MUT(post_live_migration_at_destination),
    MUT(rollback_live_migration_at_destination),

    /* nova.virt.driver's module-level helpers (contract-module) */
    RO(load_compute_driver),
    RO(get_block_device_info),
    RO(block_device_info_get_root),
    RO(block_device_info_get_swap),
    RO(block_device_info_get_ephemerals),
    RO(block_device_info_get_mapping),
    RO(swap_is_usable),
    RO(driver_dict_from_config),
};

const nxl_svc_method *nxl_svc_method_find(const char *name)
{
    for (size_t i = 0; name && i < NXL_ARRAY_SIZE(methods); i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

const nxl_svc_method *nxl_svc_methods(size_t *n_r)
{
    *n_r = NXL_ARRAY_SIZE(methods);
    return methods;
}

/* The method table: one JSON-RPC request -> one nxl_* call -> one reply.
 *
 * params is always a JSON object (by-name). An instance is named by
 * {"uuid": ..., "name": ...} (name optional); the other arguments keep
 * nova's names and defaults. Unknown keys are ignored, like every
 * document novaxl reads. A contract method without a mapping yet is in
 * the table with fn NULL: server.c answers it NXL_RPC_NOT_IMPLEMENTED
 * ("<method>: not implemented yet by novaxld"), never "method not
 * found", so a client can tell "not yet" from a typo. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "service/svc.h"

/* ---- parameters ------------------------------------------------------------- */

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

static int p_bool(nxl_svc_call *call, const char *key, bool required,
                  bool def, bool *out, nxl_error *err)
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

/* ---- result helpers ---------------------------------------------------------- */

static void write_strv(nxl_jw *w, const nxl_strv *sv)
{
    nxl__jw_array_open(w);
    for (size_t i = 0; i < sv->n; i++)
        nxl__jw_string(w, sv->v[i]);
    nxl__jw_array_close(w);
}

/* ---- host ----------------------------------------------------------------- */

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

static int m_list_instance_uuids(nxl_svc_call *call, nxl_jw *w,
                                 nxl_error *err)
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

static int m_get_available_nodes(nxl_svc_call *call, nxl_jw *w,
                                 nxl_error *err)
{
    nxl_strv sv;
    bool refresh;
    int rc;

    if ((rc = p_bool(call, "refresh", false, false, &refresh, err)))
        return rc;
    nxl_strv_init(&sv);
    if ((rc = nxl_host_get_available_nodes(call->drv, refresh, &sv, err)) ==
        0)
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
    const char *host, *result;
    bool mode;
    int rc;

    if ((rc = p_string(call, "host", true, &host, err)) ||
        (rc = p_bool(call, "mode", true, false, &mode, err)) ||
        (rc = nxl_host_maintenance_mode(call->drv, host, mode, &result, err)))
        return rc;
    call->result_word = result;
    nxl__jw_string(w, result);
    return 0;
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

/* ---- instances -------------------------------------------------------------- */

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
typedef int inst_fn(nxl_driver *drv, const nxl_instance *inst,
                    nxl_error *err);

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
    if ((rc = p_instance(call, &d.inst, err)) ||
        (rc = p_docs(call, &d, err)) ||
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
        (rc = p_bool(call, "destroy_disks", false, true, &destroy_disks,
                     err)) ||
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
        rc = bad_params(call, err, "'reboot_type' must be \"SOFT\" or \"HARD\"");
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

static int m_get_console_output(nxl_svc_call *call, nxl_jw *w,
                                nxl_error *err)
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
static int m_get_volume_connector(nxl_svc_call *call, nxl_jw *w,
                                  nxl_error *err)
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

/* ---- aggregates ------------------------------------------------------------- */

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
        rc = rc == NXL_E_INVAL ? bad_params(call, err, "%s",
                                            nxl_error_message(&e))
                               : nxl_error_set(err, rc, "%s",
                                               nxl_error_message(&e));
    nxl_error_dispose(&e);
    return rc;
}

typedef int agg_fn(nxl_driver *drv, const nxl_aggregate *agg,
                   const char *host, const char *kwargs_json, nxl_error *err);

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
        (rc = nxl_aggregate_undo_operation(call->drv, op, &agg, host,
                                           set_error, err)))
        goto out;
    nxl__jw_null(w);
out:
    nxl_aggregate_dispose(&agg);
    return rc;
}

/* ---- the table ----------------------------------------------------------------- */

#define RO(n) {#n, m_##n, true, false}        /* info call */
#define RW(n) {#n, m_##n, false, false}       /* privileged, changes nothing */
#define MUT(n) {#n, m_##n, false, true}       /* changes state: an event */
#define TODO(n) {#n, NULL, false, false}      /* not mapped yet */

static const nxl_svc_method methods[] = {
    /* served by server.c: turns the connection into an event stream */
    {"subscribe", NULL, true, false},

    RO(capabilities),
    TODO(need_legacy_block_device_info),
    TODO(is_xenapi),
    TODO(is_supported_fs_format),
    TODO(register_event_listener),
    TODO(emit_event),
    TODO(init_host),
    TODO(cleanup_host),
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
    TODO(host_power_action),
    TODO(get_console_pool_info),
    TODO(get_all_bw_counters),
    TODO(get_all_volume_usage),
    TODO(get_per_instance_usage),
    TODO(poll_rebooting_instances),
    TODO(manage_image_cache),
    TODO(filter_defer_apply_on),
    TODO(filter_defer_apply_off),
    TODO(refresh_security_group_rules),
    MUT(add_to_aggregate),
    MUT(remove_from_aggregate),
    MUT(undo_aggregate_operation),
    MUT(spawn),
    MUT(destroy),
    TODO(cleanup),
    TODO(rebuild),
    RO(get_info),
    RO(instance_exists),
    TODO(instance_on_disk),
    TODO(delete_instance_files),
    MUT(reboot),
    MUT(power_off),
    MUT(power_on),
    MUT(pause),
    MUT(unpause),
    MUT(suspend),
    MUT(resume),
    TODO(resume_state_on_host_boot),
    MUT(soft_delete),
    MUT(restore),
    TODO(rescue),
    TODO(unrescue),
    TODO(set_bootable),
    MUT(trigger_crash_dump),
    TODO(estimate_instance_overhead),
    /* Guest output and console access are not "info": rw socket only. */
    RW(get_console_output),
    RW(get_vnc_console),
    TODO(get_spice_console),
    TODO(get_serial_console),
    TODO(get_rdp_console),
    TODO(get_mks_console),
    TODO(get_diagnostics),
    TODO(get_instance_diagnostics),
    TODO(get_instance_disk_info),
    TODO(block_stats),
    MUT(change_instance_metadata),
    TODO(set_admin_password),
    TODO(inject_file),
    TODO(quiesce),
    TODO(unquiesce),
    TODO(snapshot),
    TODO(post_interrupted_snapshot_cleanup),
    TODO(attach_interface),
    TODO(detach_interface),
    TODO(plug_vifs),
    TODO(unplug_vifs),
    TODO(inject_network_info),
    TODO(reset_network),
    TODO(dhcp_options_for_instance),
    TODO(macs_for_instance),
    TODO(network_binding_host_id),
    TODO(deallocate_networks_on_reschedule),
    TODO(ensure_filtering_rules_for_instance),
    TODO(unfilter_instance),
    TODO(refresh_instance_security_rules),
    TODO(default_root_device_name),
    TODO(get_device_name_for_instance),
    TODO(default_device_names_for_instance),
    TODO(attach_volume),
    TODO(detach_volume),
    TODO(swap_volume),
    TODO(volume_snapshot_create),
    TODO(volume_snapshot_delete),
    RO(get_volume_connector),
    TODO(migrate_disk_and_power_off),
    TODO(finish_migration),
    TODO(finish_revert_migration),
    TODO(confirm_migration),
    TODO(check_instance_shared_storage_local),
    TODO(check_instance_shared_storage_remote),
    TODO(check_instance_shared_storage_cleanup),
    TODO(check_can_live_migrate_destination),
    TODO(check_can_live_migrate_destination_cleanup),
    TODO(check_can_live_migrate_source),
    TODO(pre_live_migration),
    TODO(live_migration),
    TODO(live_migration_abort),
    TODO(live_migration_force_complete),
    TODO(post_live_migration),
    TODO(post_live_migration_at_source),
    TODO(post_live_migration_at_destination),
    TODO(rollback_live_migration_at_destination),
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

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

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "console/con.h"
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
        (rc = nxl__xl_host_require_port(drv, "get_spice_console", &port,
                                        err)) < 0 ||
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
    if ((rc = nxl__strdup(&c.host, host && host[0] ? host : "0.0.0.0",
                          err)) < 0)
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

int nxl_xl_get_serial_console(nxl_driver *drv, const nxl_instance *inst,
                              nxl_console *console_r, nxl_error *err)
{
    nxl_xs *xs = NULL;
    nxl_console c;
    char *tty = NULL;
    uint32_t domid;
    int rc;

    nxl_console_init(&c);
    if ((rc = nxl__xl_instance_domid(drv, inst, "get_serial_console", &domid,
                                     err)) < 0 ||
        (rc = nxl_xs_open(&xs, err)) < 0 ||
        (rc = nxl_con_serial_tty(xs, domid, &tty, err)) < 0 ||
        /* The pty is on this host: a proxy reaches it by the compute
         * host's name, as nova's proxies reach VNC. */
        (rc = nxl__strdup(&c.host, drv->host, err)) < 0)
        goto out;
    /* No TCP bridge yet: the pty is what a proxy on this host opens. */
    c.type = NXL_CONSOLE_SERIAL;
    c.port = -1;
    c.internal_access_path = NXL_STEAL(tty);
    *console_r = c;
    nxl_console_init(&c);
    rc = 0;
out:
    nxl_console_dispose(&c);
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

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

/* The libxl backend's aggregate members: Nova's aggregate calls mapped
 * onto the state machine of aggregates/agg.h, kept in dom0's xenstore.
 *
 * Each call opens its own xenstore connection: the calls are rare (an
 * operator changing aggregates), and a private connection keeps them
 * independent of init_host, which must not be needed to record that this
 * host joined an aggregate. The cpupool mapping (an aggregate's metadata
 * naming a Xen cpupool) is not done yet: no apply step is passed, so the
 * record is the whole effect.
 */
#include "config.h"

#include "aggregates/agg.h"
#include "xl_driver/xl_host.h"
#include "xenstore/xs.h"

int nxl_xl_add_to_aggregate(nxl_driver *drv, const nxl_aggregate *agg,
                            const char *host, const char *kwargs_json,
                            nxl_error *err)
{
    nxl_xs *xs = NULL;
    int rc;

    /* kwargs (xenapi's slave_info) carries nothing a libxl host uses. */
    if ((rc = nxl_xs_open(&xs, err)) < 0)
        return rc;
    rc = nxl_agg_add_host(xs, NXL_AGG_XS_ROOT, agg, host, NULL, NULL, err);
    nxl_xs_close(xs);
    return rc;
}

int nxl_xl_remove_from_aggregate(nxl_driver *drv, const nxl_aggregate *agg,
                                 const char *host, const char *kwargs_json,
                                 nxl_error *err)
{
    nxl_xs *xs = NULL;
    int rc;

    if ((rc = nxl_xs_open(&xs, err)) < 0)
        return rc;
    rc = nxl_agg_remove_host(xs, NXL_AGG_XS_ROOT, agg, host, NULL, NULL, err);
    nxl_xs_close(xs);
    return rc;
}

int nxl_xl_undo_aggregate_operation(nxl_driver *drv, const char *op,
                                    const nxl_aggregate *agg, const char *host,
                                    bool set_error, nxl_error *err)
{
    nxl_xs *xs = NULL;
    int rc;

    if ((rc = nxl_xs_open(&xs, err)) < 0)
        return rc;
    rc = nxl_agg_undo(xs, NXL_AGG_XS_ROOT, op, agg, host, set_error, NULL,
                      NULL, err);
    nxl_xs_close(xs);
    return rc;
}

/* The libxl backend's host, aggregate and console members (xl_host.c,
 * xl_aggregate.c, xl_console.c), for the ops table in xl_driver.c.
 *
 * They are NXL_HIDDEN rather than static because the table lives in
 * another file; each is named nxl_xl_<member> (scripts/check-driverimpls)
 * and takes the arguments its dispatcher in common/driver.c validated.
 */
#ifndef NOVAXL_XL_HOST_H
#define NOVAXL_XL_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/driver.h"
#include "xl_driver/xl_port.h"

/* ---- shared by these files --------------------------------------------- */

/* The driver's hypervisor port (NULL before init_host). */
NXL_HIDDEN nxl_port *nxl__xl_host_port(nxl_driver *drv);
/* The port, or NXL_E_HYPERVISOR naming method when there is none yet. */
NXL_HIDDEN int nxl__xl_host_require_port(nxl_driver *drv, const char *method,
                                         nxl_port **port_r, nxl_error *err);
/* The domid of inst's domain: found by name, then its UUID checked
 * against inst->uuid (the name is in xenstore, the UUID is the
 * hypervisor's). NXL_E_NOT_FOUND when there is none. */
NXL_HIDDEN int nxl__xl_instance_domid(nxl_driver *drv,
                                      const nxl_instance *inst,
                                      const char *method, uint32_t *domid_r,
                                      nxl_error *err);

/* ---- aggregates (xl_aggregate.c): aggregates/agg.h on dom0's xenstore -- */

NXL_HIDDEN int nxl_xl_add_to_aggregate(nxl_driver *drv,
                                       const nxl_aggregate *agg,
                                       const char *host,
                                       const char *kwargs_json, nxl_error *err);
NXL_HIDDEN int nxl_xl_remove_from_aggregate(nxl_driver *drv,
                                            const nxl_aggregate *agg,
                                            const char *host,
                                            const char *kwargs_json,
                                            nxl_error *err);
NXL_HIDDEN int nxl_xl_undo_aggregate_operation(nxl_driver *drv, const char *op,
                                               const nxl_aggregate *agg,
                                               const char *host,
                                               bool set_error, nxl_error *err);

/* ---- consoles (xl_console.c): console/con.h ------------------------------ */

NXL_HIDDEN int nxl_xl_get_console_output(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         nxl_buf *out_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_get_vnc_console(nxl_driver *drv,
                                      const nxl_instance *inst,
                                      nxl_console *console_r, nxl_error *err);
/* SPICE as libxl configured it (b_info.u.hvm.spice of the domain's
 * config): NXL_E_NOT_FOUND when the domain has no SPICE server. */
NXL_HIDDEN int nxl_xl_get_spice_console(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        nxl_console *console_r,
                                        nxl_error *err);
/* The serial line's pty in dom0 as internal_access_path, with the compute
 * host's name and no TCP port (port -1): the pty is not bridged to TCP
 * yet. */
NXL_HIDDEN int nxl_xl_get_serial_console(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         nxl_console *console_r,
                                         nxl_error *err);
NXL_HIDDEN int nxl_xl_get_console_pool_info(nxl_driver *drv,
                                            const char *console_type,
                                            nxl_console_pool *pool_r,
                                            nxl_error *err);

/* ---- host (xl_host.c) ---------------------------------------------------- */

/* Dom0-only xenstore directory of the host's persisted flags (disabled,
 * maintenance). */
#define NXL_XL_HOST_XS_ROOT "/local/domain/0/novaxl/host"

/* dom0 files the host members read; tests point them at fixtures. */
typedef struct nxl_xl_host_files {
    const char *proc_dir;        /* "/proc": cpuinfo, stat, uptime, loadavg */
    const char *iscsi_initiator; /* "/etc/iscsi/initiatorname.iscsi" */
} nxl_xl_host_files;
NXL_HIDDEN extern nxl_xl_host_files nxl__xl_host_files;

/* Carries out a host power action ("reboot" or "shutdown"); the default
 * runs /sbin/shutdown. Tests replace it so they do not power off. */
typedef int nxl_xl_host_power_fn(const char *action, nxl_error *err);
NXL_HIDDEN extern nxl_xl_host_power_fn *nxl__xl_host_power_exec;

/* nova's integer hypervisor_version: 4, 17, ".7" -> 4017007. */
NXL_HIDDEN uint64_t nxl__xl_host_version(int major, int minor,
                                         const char *extra);

/* For spawn (and anything else that brings new work): 0 when the host
 * accepts it, NXL_E_DENIED naming method when it is disabled or in
 * maintenance. */
NXL_HIDDEN int nxl__xl_host_accepts_work(nxl_driver *drv, const char *method,
                                         nxl_error *err);

NXL_HIDDEN int nxl_xl_get_available_nodes(nxl_driver *drv, bool refresh,
                                          nxl_strv *nodes_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_node_is_available(nxl_driver *drv, const char *nodename,
                                        bool *available_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_get_available_resource(nxl_driver *drv,
                                             const char *nodename,
                                             nxl_host_resources *res_r,
                                             nxl_error *err);
NXL_HIDDEN int nxl_xl_get_host_cpu_stats(nxl_driver *drv,
                                         nxl_host_cpu_stats *stats_r,
                                         nxl_error *err);
NXL_HIDDEN int nxl_xl_get_host_uptime(nxl_driver *drv, char **uptime_r,
                                      nxl_error *err);
NXL_HIDDEN int nxl_xl_get_host_ip_addr(nxl_driver *drv, char **ip_r,
                                       nxl_error *err);
NXL_HIDDEN int nxl_xl_get_volume_connector(nxl_driver *drv,
                                           const nxl_instance *inst,
                                           nxl_volume_connector *connector_r,
                                           nxl_error *err);
NXL_HIDDEN int nxl_xl_set_host_enabled(nxl_driver *drv, bool enabled,
                                       const char **result_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_host_maintenance_mode(nxl_driver *drv, const char *host,
                                            bool mode, const char **result_r,
                                            nxl_error *err);
/* libxl_domain_need_memory of a domain of inst's flavor (its type from
 * the image's vm_mode in system_metadata) minus its RAM, in whole MiB
 * rounded up; disk_gb and vcpus 0. */
NXL_HIDDEN int nxl_xl_estimate_instance_overhead(nxl_driver *drv,
                                                 const nxl_instance *inst,
                                                 nxl_overhead *overhead_r,
                                                 nxl_error *err);
NXL_HIDDEN int nxl_xl_host_power_action(nxl_driver *drv, const char *action,
                                        char **result_r, nxl_error *err);

#endif /* NOVAXL_XL_HOST_H */

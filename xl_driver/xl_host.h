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
NXL_HIDDEN int nxl__xl_instance_domid(nxl_driver *drv, const nxl_instance *inst,
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
/* Aggregate metadata keys that map an aggregate onto a cpupool of this
 * host (xl_aggregate.c has the rules), and where the driver remembers the
 * pools it created (dom0-only). */
#define NXL_XL_AGG_POOL_KEY "xen_cpupool"
#define NXL_XL_AGG_POOL_CPUS_KEY "xen_cpupool_cpus"
#define NXL_XL_POOL_XS_ROOT "/local/domain/0/novaxl/cpupools"

/* Puts cfg (built for req) in the cpupool of the aggregate req's
 * instance belongs to, from this host's aggregate records and cpupools
 * (nxl__xl_config_place has the rule). No xenstore access when the flavor
 * names no aggregate. */
NXL_HIDDEN int nxl__xl_aggregate_place(nxl_driver *drv,
                                       const nxl_spawn_req *req,
                                       libxl_domain_config *cfg,
                                       nxl_error *err);

NXL_HIDDEN int nxl_xl_undo_aggregate_operation(nxl_driver *drv, const char *op,
                                               const nxl_aggregate *agg,
                                               const char *host, bool set_error,
                                               nxl_error *err);
/* nxl_aggregate_get_record(): the record as JSON (xl_aggregate.c). */
NXL_HIDDEN int nxl_xl_aggregate_record(nxl_driver *drv, int64_t id,
                                       char **json_r, nxl_error *err);

/* ---- consoles (xl_console.c): console/con.h ------------------------------ */

NXL_HIDDEN int nxl_xl_get_console_output(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         nxl_buf *out_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_get_vnc_console(nxl_driver *drv, const nxl_instance *inst,
                                      nxl_console *console_r, nxl_error *err);
/* SPICE as libxl configured it (b_info.u.hvm.spice of the domain's
 * config): NXL_E_NOT_FOUND when the domain has no SPICE server. */
NXL_HIDDEN int nxl_xl_get_spice_console(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        nxl_console *console_r, nxl_error *err);
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
/* What get_host_cpu_stats computes its figures from (see docs/contract.md):
 * Xen's per-physical-CPU idle time summed over the online CPUs, dom0's
 * uptime as the span every CPU has existed, and dom0's /proc/stat for the
 * kernel:user ratio and iowait. */
typedef struct nxl_xl_cpu_inputs {
    uint64_t idle_ns;           /* sum of Xen's idle time of online pCPUs */
    uint32_t online_cpus;       /* pCPUs counted */
    uint64_t uptime_ns;         /* dom0's /proc/uptime */
    uint64_t dom0_kernel_ticks; /* system + irq + softirq */
    uint64_t dom0_user_ticks;   /* user + nice */
    uint64_t dom0_iowait_ns;
    uint32_t cpu_khz;
} nxl_xl_cpu_inputs;

/* idle = in->idle_ns; busy = uptime * online CPUs - idle (0 if negative),
 * split into kernel and user by dom0's ratio (all user when dom0 counted
 * nothing); iowait dom0's; frequency cpu_khz / 1000. */
NXL_HIDDEN void nxl__xl_host_cpu_split(const nxl_xl_cpu_inputs *in,
                                       nxl_host_cpu_stats *stats_r);

/* nova's NUMATopology primitive (nova_object.* envelopes; NUMACell 1.5
 * with cpuset, siblings, memory in MiB, 4 KiB mempages, usage 0) for the
 * online nodes. *json_r: free(). */
NXL_HIDDEN int nxl__xl_numa_topology_json(const nxl_port_numa_node *nodes,
                                          size_t n_nodes,
                                          const nxl_port_pcpu *cpus,
                                          size_t n_cpus, char **json_r,
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
                                            bool mode,
                                            nxl_maintenance *result_r,
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

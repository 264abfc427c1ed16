/* novaxl: Nova's ComputeDriver contract as a C library on libxl.
 * The public API; include this header only.
 *
 * One function per method of nova.virt.driver.ComputeDriver and per
 * module-level helper of nova.virt.driver. The comment right above each
 * prototype, "contract: <method>" (or "contract-module: <helper>"), names
 * the Nova method it implements; scripts/check-driverimpls reads it and
 * docs/contract.md records what each backend does with it.
 *
 * Shape of the translation:
 *   - Nova's `context` is dropped: the pool manager authorises before it
 *     calls us.
 *   - Instances are const nxl_instance *, image metadata const
 *     nxl_image_meta *, network_info const nxl_network_info *,
 *     block_device_info const nxl_block_device_info * (nxl-types.h).
 *   - Free-form dicts (migrate_data, disk_info, create_info, delete_info,
 *     dest_check_data, kwargs, ...) are JSON documents in const char *
 *     *_json arguments; NULL stands for Nova's None.
 *   - Results are typed structs (nxl-results.h), or malloc'd JSON strings
 *     where Nova returns an opaque dict.
 *
 * Conventions of every call below:
 *   - 0 on success or a negative NXL_E_* code (nxl-error.h); details in
 *     the optional, caller-owned err.
 *   - NXL_E_INVAL: a required argument is NULL, an instance UUID is not
 *     canonical, or a name is not valid; the message names the method and
 *     the argument.
 *   - NXL_E_NOT_IMPLEMENTED: the backend does not implement the method
 *     yet; the message is "<method>: not implemented yet by the
 *     '<backend>' driver".
 *   - NXL_E_UNSUPPORTED: the hypervisor cannot do this at all; the message
 *     gives the reason. Both map to Nova's NotImplementedError.
 *   - NXL_E_NOMEM may come from any call that allocates.
 *   - Outputs end in _r, are written only on success, and must be empty
 *     (fresh from _init) on entry. Each comment says how to free them.
 *   - Arguments marked "may be NULL" are optional, as in Nova.
 */
#ifndef NOVAXL_NXL_H
#define NOVAXL_NXL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "novaxl/nxl-error.h"
#include "novaxl/nxl-results.h"
#include "novaxl/nxl-types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * The driver object (load_compute_driver)
 * ====================================================================== */

typedef struct nxl_driver nxl_driver;

/* Where and as whom the driver runs. Every pointer is borrowed for the
 * duration of nxl_driver_open(), which copies what it keeps. A NULL field
 * takes the default shown. */
typedef struct nxl_driver_config {
    const char *host;            /* Nova's CONF.host; default gethostname() */
    const char *instances_dir;   /* default /var/lib/novaxl/instances */
    const char *image_cache_dir; /* default /var/lib/novaxl/images */
    const char *console_log_dir; /* default /var/log/xen/console */
    /* Serial consoles bridged to TCP (get_serial_console): the address
     * the bridges listen on (numeric IPv4/IPv6; default 127.0.0.1, nova's
     * [serial_console] proxyclient_address default) and "min:max", the
     * ports they take (default 10000:20000, nova's port_range). */
    const char *serial_listen;
    const char *serial_port_range;
    /* Console logs: a guest log above console_log_cap bytes is rotated
     * (0: 1 MiB), checked every console_log_interval s (0: 60). */
    unsigned long long console_log_cap;
    unsigned console_log_interval;
} nxl_driver_config;

#define NXL_DRIVER_CONFIG_INIT                                                 \
    {                                                                          \
        NULL, NULL, NULL, NULL, NULL, NULL, 0, 0                               \
    }

/* Opens the driver called backend ("libxl"); cfg may be NULL for the
 * defaults. Touches no hypervisor: the libxl context is created by
 * nxl_host_init(). NXL_E_INVAL for an unknown backend or an invalid host
 * name, NXL_E_IO when gethostname() fails. Close *drv_r with
 * nxl_driver_close(). */
/* contract-module: load_compute_driver */
int nxl_driver_open(const char *backend, const nxl_driver_config *cfg,
                    nxl_driver **drv_r, nxl_error *err);

/* Frees the driver and everything it owns; NULL is ignored. Call
 * nxl_host_cleanup() first to end hypervisor sessions gracefully. */
void nxl_driver_close(nxl_driver *drv);

/* The backend's name ("libxl"); owned by the library. */
const char *nxl_driver_name(const nxl_driver *drv);

/* ======================================================================
 * Driver properties
 * ====================================================================== */

/* nova's `capabilities` dict. *caps_r points at the backend's constant
 * table: do not free it. */
/* contract: capabilities */
int nxl_driver_capabilities(nxl_driver *drv, const nxl_capabilities **caps_r,
                            nxl_error *err);

/* Whether methods taking block_device_info want nova's legacy format.
 * libxl: false (novaxl has only the new format). */
/* contract: need_legacy_block_device_info */
int nxl_driver_need_legacy_block_device_info(nxl_driver *drv, bool *legacy_r,
                                             nxl_error *err);

/* Whether this is nova's XenAPI driver. libxl: false: novaxl drives
 * libxl in dom0, not XAPI, so XenAPI-only code paths must stay off. */
/* contract: is_xenapi */
int nxl_driver_is_xenapi(nxl_driver *drv, bool *is_xenapi_r, nxl_error *err);

/* Whether fs_type ("ext4", ...) is a guest_format this driver can put on
 * an ephemeral disk. libxl: ext2, ext3, ext4, xfs, vfat (the mkfs tools
 * the disk code runs in dom0); swap BDMs never reach this check. */
/* contract: is_supported_fs_format */
int nxl_driver_is_supported_fs_format(nxl_driver *drv, const char *fs_type,
                                      bool *supported_r, nxl_error *err);

/* ======================================================================
 * Events
 * ====================================================================== */

/* Called with each lifecycle event; ev is valid for the call only. Runs
 * on whichever thread emits the event (the driver's event thread), so it
 * must not block for long and must not close the driver. */
typedef void nxl_event_fn(void *opaque, const nxl_event *ev);

/* Registers cb (with opaque) as the one listener, replacing any earlier
 * one; cb NULL unregisters, as nova's manager does at shutdown. */
/* contract: register_event_listener */
int nxl_driver_register_event_listener(nxl_driver *drv, nxl_event_fn *cb,
                                       void *opaque, nxl_error *err);

/* Which kinds of event the listener gets, as a mask; lifecycle events
 * only (NXL_EVENT_KIND_LIFECYCLE) until this is called, which keeps a
 * listener that predates aggregate events from ever seeing one.
 * NXL_E_INVAL for an unknown bit. */
#define NXL_EVENT_KIND_LIFECYCLE 0x1u
#define NXL_EVENT_KIND_AGGREGATE 0x2u
int nxl_driver_set_event_kinds(nxl_driver *drv, unsigned kinds, nxl_error *err);

/* Hands ev to the registered listener, synchronously; with none
 * registered the event is dropped, as nova's base class does. NXL_E_INVAL
 * for a non-canonical ev->uuid or an unknown transition. */
/* contract: emit_event */
int nxl_driver_emit_event(nxl_driver *drv, const nxl_event *ev, nxl_error *err);

/* ======================================================================
 * Host
 * ====================================================================== */

/* Connects to the hypervisor (one libxl_ctx per driver) and catches up
 * with domains already running on host. NXL_E_HYPERVISOR when this is
 * not a Xen dom0. */
/* contract: init_host */
int nxl_host_init(nxl_driver *drv, const char *host, nxl_error *err);

/* Ends the hypervisor session opened by nxl_host_init(). */
/* contract: cleanup_host */
int nxl_host_cleanup(nxl_driver *drv, const char *host, nxl_error *err);

/* Names of the instances the driver runs (its domains, not Domain-0 or
 * foreign ones). nxl_strv_dispose(names_r). */
/* contract: list_instances */
int nxl_host_list_instances(nxl_driver *drv, nxl_strv *names_r, nxl_error *err);

/* UUIDs of the same instances. nxl_strv_dispose(uuids_r). */
/* contract: list_instance_uuids */
int nxl_host_list_instance_uuids(nxl_driver *drv, nxl_strv *uuids_r,
                                 nxl_error *err);

/* How many instances the driver runs. */
/* contract: get_num_instances */
int nxl_host_get_num_instances(nxl_driver *drv, size_t *n_r, nxl_error *err);

/* Node names this service manages: [hypervisor_hostname] on Xen.
 * nxl_strv_dispose(nodes_r). */
/* contract: get_available_nodes */
int nxl_host_get_available_nodes(nxl_driver *drv, bool refresh,
                                 nxl_strv *nodes_r, nxl_error *err);

/* Whether nodename is one of get_available_nodes. */
/* contract: node_is_available */
int nxl_host_node_is_available(nxl_driver *drv, const char *nodename,
                               bool *available_r, nxl_error *err);

/* Host resources from libxl_get_physinfo, libxl_get_free_memory and the
 * instances' disks. nodename may be NULL (one node per host).
 * NXL_E_HYPERVISOR when libxl cannot be reached.
 * nxl_host_resources_dispose(res_r). */
/* contract: get_available_resource */
int nxl_host_get_available_resource(nxl_driver *drv, const char *nodename,
                                    nxl_host_resources *res_r, nxl_error *err);

/* Cumulative host CPU times and frequency. Plain struct. */
/* contract: get_host_cpu_stats */
int nxl_host_get_cpu_stats(nxl_driver *drv, nxl_host_cpu_stats *stats_r,
                           nxl_error *err);

/* dom0's management IP address. free(*ip_r). */
/* contract: get_host_ip_addr */
int nxl_host_get_ip_addr(nxl_driver *drv, char **ip_r, nxl_error *err);

/* The text uptime(1) prints for dom0. free(*uptime_r). */
/* contract: get_host_uptime */
int nxl_host_get_uptime(nxl_driver *drv, char **uptime_r, nxl_error *err);

/* Not a contract method (novaxl's own, for operators): what init_host
 * found wrong with how guest consoles are logged, as one sentence naming
 * the fix. libxl: xenconsoled not running, running without logging guest
 * consoles, or logging them somewhere other than console_log_dir; each
 * leaves get_console_output empty, which nova cannot tell from a quiet
 * guest. *warning_r is NULL when all is well, and before init_host
 * (nothing checked yet). free(*warning_r). */
int nxl_host_get_console_warning(nxl_driver *drv, char **warning_r,
                                 nxl_error *err);

/* Lets host accept new instances or not. *result_r is "enabled" or
 * "disabled" (static storage: do not free). */
/* contract: set_host_enabled */
int nxl_host_set_enabled(nxl_driver *drv, bool enabled, const char **result_r,
                         nxl_error *err);

/* Enters (mode true) or leaves host maintenance: a host in maintenance
 * takes no new work. result_r->state is the contract's return value; on
 * entering, result_r also lists the instances that could not be evacuated
 * and why (libxl: all of them, as this driver has no migration target
 * yet; they stay as they are). Either the call succeeds or the flag is as
 * before. Init result_r first; nxl_maintenance_dispose(result_r). */
/* contract: host_maintenance_mode */
int nxl_host_maintenance_mode(nxl_driver *drv, const char *host, bool mode,
                              nxl_maintenance *result_r, nxl_error *err);

/* Reboots or shuts down the host (dom0 and Xen with it). action must be
 * "startup", "shutdown" or "reboot", else NXL_E_INVAL; a running dom0
 * cannot start itself, so the libxl backend answers "startup" with
 * NXL_E_UNSUPPORTED. libxl: refused (NXL_E_DENIED) while guest domains
 * run. free(*result_r). */
/* contract: host_power_action */
int nxl_host_power_action(nxl_driver *drv, const char *action, char **result_r,
                          nxl_error *err);

/* Console proxy pool of console_type ("vnc", ...).
 * nxl_console_pool_dispose(pool_r). */
/* contract: get_console_pool_info */
int nxl_host_get_console_pool_info(nxl_driver *drv, const char *console_type,
                                   nxl_console_pool *pool_r, nxl_error *err);

/* Network counters of every VIF of the given instances (n may be 0).
 * nxl_bw_counter_list_dispose(bw_r). */
/* contract: get_all_bw_counters */
int nxl_host_get_all_bw_counters(nxl_driver *drv, const nxl_instance *instances,
                                 size_t n, nxl_bw_counter_list *bw_r,
                                 nxl_error *err);

/* I/O counters of the volumes of the given instances (blkback/qdisk
 * statistics). nxl_volume_usage_list_dispose(usage_r). */
/* contract: get_all_volume_usage */
int nxl_host_get_all_volume_usage(nxl_driver *drv,
                                  const nxl_instance_bdms *host_bdms, size_t n,
                                  nxl_volume_usage_list *usage_r,
                                  nxl_error *err);

/* Memory and vcpus of every instance. nxl_instance_usage_list_dispose. */
/* contract: get_per_instance_usage */
int nxl_host_get_per_instance_usage(nxl_driver *drv,
                                    nxl_instance_usage_list *usage_r,
                                    nxl_error *err);

/* Reboots those of instances stuck in rebooting for over timeout s. */
/* contract: poll_rebooting_instances */
int nxl_host_poll_rebooting_instances(nxl_driver *drv, unsigned int timeout,
                                      const nxl_instance *instances, size_t n,
                                      nxl_error *err);

/* Ages out cached images no instance in all_instances uses. */
/* contract: manage_image_cache */
int nxl_host_manage_image_cache(nxl_driver *drv,
                                const nxl_instance *all_instances, size_t n,
                                nxl_error *err);

/* nova-network firewall (dom0 iptables): defer rule application. */
/* contract: filter_defer_apply_on */
int nxl_host_filter_defer_apply_on(nxl_driver *drv, nxl_error *err);

/* nova-network firewall: apply the deferred rules now. */
/* contract: filter_defer_apply_off */
int nxl_host_filter_defer_apply_off(nxl_driver *drv, nxl_error *err);

/* nova-network firewall: re-apply one security group's rules. */
/* contract: refresh_security_group_rules */
int nxl_host_refresh_security_group_rules(nxl_driver *drv,
                                          const char *security_group_id,
                                          nxl_error *err);

/* ======================================================================
 * Aggregates (Xen pools)
 * ====================================================================== */

/* Adds host to agg. kwargs_json may be NULL. */
/* contract: add_to_aggregate */
int nxl_aggregate_add_host(nxl_driver *drv, const nxl_aggregate *agg,
                           const char *host, const char *kwargs_json,
                           nxl_error *err);

/* Removes host from agg. kwargs_json may be NULL. */
/* contract: remove_from_aggregate */
int nxl_aggregate_remove_host(nxl_driver *drv, const nxl_aggregate *agg,
                              const char *host, const char *kwargs_json,
                              nxl_error *err);

/* Rolls back a failed op ("add_to_aggregate" or "remove_from_aggregate")
 * on agg for host; set_error marks the aggregate errored. NXL_E_INVAL for
 * any other op. */
/* contract: undo_aggregate_operation */
int nxl_aggregate_undo_operation(nxl_driver *drv, const char *op,
                                 const nxl_aggregate *agg, const char *host,
                                 bool set_error, nxl_error *err);

/* Not a contract method (novaxl's own, for operators): this host's
 * record of aggregate id, as the state machine keeps it (docs/contract.md,
 * add_to_aggregate): a JSON object with id, name, availability_zone,
 * state, since, the pending or failed op and op_host, hosts, metadata and
 * the recorded transitions (seq, time, from, to, op, host, reason), oldest
 * first. NXL_E_NOT_FOUND when the host has no record of it.
 * free(*json_r). */
int nxl_aggregate_get_record(nxl_driver *drv, int64_t id, char **json_r,
                             nxl_error *err);

/* Not a contract method (novaxl's own, for `novaxl dumpxml`): the spawn
 * request the driver keeps for inst (what spawn, rebuild or resize last
 * stored; admin_password and injected files are never kept), as a JSON
 * spawn request document. NXL_E_NOT_FOUND when the driver has no such
 * instance. The document holds what nova passed, volume credentials
 * included: hand it only to whoever may manage the host. free(*json_r). */
int nxl_instance_get_request(nxl_driver *drv, const nxl_instance *inst,
                             char **json_r, nxl_error *err);

/* ======================================================================
 * Instance lifecycle
 * ====================================================================== */

/* Creates and starts the domain described by req (instance, image_meta,
 * injected files, admin password, network_info, block_device_info). On
 * success the instance is RUNNING; on failure everything spawn created is
 * gone. NXL_E_EXISTS when the instance already has a domain,
 * NXL_E_HYPERVISOR, NXL_E_FAILED. */
/* contract: spawn */
int nxl_instance_spawn(nxl_driver *drv, const nxl_spawn_req *req,
                       nxl_error *err);

/* Destroys the domain (libxl_domain_destroy) and, with destroy_disks,
 * its local disks. Succeeds when the domain is already gone.
 * network_info, bdi, migrate_data_json may be NULL. */
/* contract: destroy */
int nxl_instance_destroy(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_network_info *network_info,
                         const nxl_block_device_info *bdi, bool destroy_disks,
                         const char *migrate_data_json, nxl_error *err);

/* Releases what is left of an instance whose domain is gone: VIFs (with
 * destroy_vifs), volumes, disks (with destroy_disks). Pointers other than
 * drv and inst may be NULL. */
/* contract: cleanup */
int nxl_instance_cleanup(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_network_info *network_info,
                         const nxl_block_device_info *bdi, bool destroy_disks,
                         const char *migrate_data_json, bool destroy_vifs,
                         nxl_error *err);

/* Called by the driver for each block-device step of a rebuild (nova's
 * detach_block_devices / attach_block_devices); attach tells which. */
typedef int nxl_block_devices_fn(void *opaque, bool attach,
                                 const nxl_instance *inst,
                                 const nxl_block_device_info *bdms,
                                 nxl_error *err);

/* Destroys and re-makes the instance from req (whose block_device_info
 * is also nova's bdms). recreate: the old host is gone, skip its cleanup.
 * preserve_ephemeral: keep the ephemeral disk. block_devices may be NULL
 * when there are no volumes to move. */
/* contract: rebuild */
int nxl_instance_rebuild(nxl_driver *drv, const nxl_spawn_req *req,
                         nxl_block_devices_fn *block_devices, void *opaque,
                         bool recreate, bool preserve_ephemeral,
                         nxl_error *err);

/* nova.compute.power_state of the domain and its counters.
 * NXL_E_NOT_FOUND when the instance has no domain. Plain struct. */
/* contract: get_info */
int nxl_instance_get_info(nxl_driver *drv, const nxl_instance *inst,
                          nxl_instance_info *info_r, nxl_error *err);

/* Whether the instance has a domain on this host. */
/* contract: instance_exists */
int nxl_instance_exists(nxl_driver *drv, const nxl_instance *inst,
                        bool *exists_r, nxl_error *err);

/* Whether the instance's files are reachable here (shared storage). */
/* contract: instance_on_disk */
int nxl_instance_on_disk(nxl_driver *drv, const nxl_instance *inst,
                         bool *on_disk_r, nxl_error *err);

/* Deletes the instance directory; *deleted_r says whether it is gone. */
/* contract: delete_instance_files */
int nxl_instance_delete_files(nxl_driver *drv, const nxl_instance *inst,
                              bool *deleted_r, nxl_error *err);

typedef enum nxl_reboot_type {
    NXL_REBOOT_SOFT = 0, /* ask the guest (libxl_domain_reboot) */
    NXL_REBOOT_HARD = 1, /* destroy and re-create the domain */
} nxl_reboot_type;

/* Told which attached volumes failed during a reboot (device names). */
typedef void nxl_bad_volumes_fn(void *opaque, const nxl_strv *bad_devices);

/* Reboots; afterwards the instance is RUNNING even when it was paused or
 * halted. NXL_E_REBOOT on failure. network_info, bdi, bad_volumes may be
 * NULL. */
/* contract: reboot */
int nxl_instance_reboot(nxl_driver *drv, const nxl_instance *inst,
                        const nxl_network_info *network_info, int reboot_type,
                        const nxl_block_device_info *bdi,
                        nxl_bad_volumes_fn *bad_volumes, void *opaque,
                        nxl_error *err);

/* Asks the guest to shut down, waiting timeout s (re-asking every
 * retry_interval s), then destroys the domain. timeout 0: destroy at once.
 * NXL_E_POWER_OFF on failure. */
/* contract: power_off */
int nxl_instance_power_off(nxl_driver *drv, const nxl_instance *inst,
                           unsigned int timeout, unsigned int retry_interval,
                           nxl_error *err);

/* Re-creates the domain from its stored config. network_info, bdi may be
 * NULL. */
/* contract: power_on */
int nxl_instance_power_on(nxl_driver *drv, const nxl_instance *inst,
                          const nxl_network_info *network_info,
                          const nxl_block_device_info *bdi, nxl_error *err);

/* libxl_domain_pause. NXL_E_INVALID_STATE when not running. */
/* contract: pause */
int nxl_instance_pause(nxl_driver *drv, const nxl_instance *inst,
                       nxl_error *err);

/* libxl_domain_unpause. NXL_E_INVALID_STATE when not paused. */
/* contract: unpause */
int nxl_instance_unpause(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err);

/* Saves the domain's memory to the instance directory (libxl
 * save) and destroys the domain. */
/* contract: suspend */
int nxl_instance_suspend(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err);

/* Restores a suspended instance from its save file. network_info, bdi may
 * be NULL. */
/* contract: resume */
int nxl_instance_resume(nxl_driver *drv, const nxl_instance *inst,
                        const nxl_network_info *network_info,
                        const nxl_block_device_info *bdi, nxl_error *err);

/* After a host reboot, brings the instance back to its recorded state. */
/* contract: resume_state_on_host_boot */
int nxl_instance_resume_state_on_host_boot(nxl_driver *drv,
                                           const nxl_instance *inst,
                                           const nxl_network_info *network_info,
                                           const nxl_block_device_info *bdi,
                                           nxl_error *err);

/* Powers off and keeps the instance for restore (soft delete). */
/* contract: soft_delete */
int nxl_instance_soft_delete(nxl_driver *drv, const nxl_instance *inst,
                             nxl_error *err);

/* Boots a soft-deleted instance again. */
/* contract: restore */
int nxl_instance_restore(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err);

/* Boots the instance from a rescue image with its disks attached.
 * rescue_password may be NULL. */
/* contract: rescue */
int nxl_instance_rescue(nxl_driver *drv, const nxl_instance *inst,
                        const nxl_network_info *network_info,
                        const nxl_image_meta *image_meta,
                        const char *rescue_password, nxl_error *err);

/* Boots the instance from its own disks again. */
/* contract: unrescue */
int nxl_instance_unrescue(nxl_driver *drv, const nxl_instance *inst,
                          const nxl_network_info *network_info, nxl_error *err);

/* Marks the instance (not) allowed to power on. */
/* contract: set_bootable */
int nxl_instance_set_bootable(nxl_driver *drv, const nxl_instance *inst,
                              bool is_bootable, nxl_error *err);

/* Sends an NMI to vcpu 0 (libxl_send_trigger), for a guest crash dump. */
/* contract: trigger_crash_dump */
int nxl_instance_trigger_crash_dump(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_error *err);

/* Virtualisation overhead of an instance of inst's flavor (shadow/p2m
 * memory, device model). Plain struct. */
/* contract: estimate_instance_overhead */
int nxl_instance_estimate_overhead(nxl_driver *drv, const nxl_instance *inst,
                                   nxl_overhead *overhead_r, nxl_error *err);

/* ======================================================================
 * Instance data, consoles, diagnostics
 * ====================================================================== */

/* A capped tail of the guest console log. nxl_buf_dispose(out_r). */
/* contract: get_console_output */
int nxl_instance_get_console_output(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_buf *out_r, nxl_error *err);

/* Where the domain's VNC server listens; NXL_E_CONSOLE_UNAVAILABLE when it
 * has none (as for SPICE below). nxl_console_dispose(console_r). */
/* contract: get_vnc_console */
int nxl_instance_get_vnc_console(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_console *console_r, nxl_error *err);

/* Where the HVM domain's SPICE server listens (qemu device model).
 * nxl_console_dispose(console_r). */
/* contract: get_spice_console */
int nxl_instance_get_spice_console(nxl_driver *drv, const nxl_instance *inst,
                                   nxl_console *console_r, nxl_error *err);

/* Where the domain's serial console is served over TCP.
 * nxl_console_dispose(console_r). */
/* contract: get_serial_console */
int nxl_instance_get_serial_console(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_console *console_r, nxl_error *err);

/* RDP console: Hyper-V only. libxl: NXL_E_UNSUPPORTED. */
/* contract: get_rdp_console */
int nxl_instance_get_rdp_console(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_console *console_r, nxl_error *err);

/* MKS console: VMware only. libxl: NXL_E_UNSUPPORTED. */
/* contract: get_mks_console */
int nxl_instance_get_mks_console(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_console *console_r, nxl_error *err);

/* Legacy diagnostics: nova's free-form dict as a JSON object.
 * free(*diag_json_r). */
/* contract: get_diagnostics */
int nxl_instance_get_diagnostics_json(nxl_driver *drv, const nxl_instance *inst,
                                      char **diag_json_r, nxl_error *err);

/* nova.virt.diagnostics.Diagnostics. nxl_diagnostics_dispose(diag_r). */
/* contract: get_instance_diagnostics */
int nxl_instance_get_diagnostics(nxl_driver *drv, const nxl_instance *inst,
                                 nxl_diagnostics *diag_r, nxl_error *err);

/* Sizes of the instance's local disks; volumes in bdi (may be NULL) are
 * left out. nxl_disk_info_list_dispose(disks_r). */
/* contract: get_instance_disk_info */
int nxl_instance_get_disk_info(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_block_device_info *bdi,
                               nxl_disk_info_list *disks_r, nxl_error *err);

/* I/O counters of one disk (disk_id: its device name). Plain struct. */
/* contract: block_stats */
int nxl_instance_block_stats(nxl_driver *drv, const nxl_instance *inst,
                             const char *disk_id, nxl_block_stats *stats_r,
                             nxl_error *err);

/* Publishes a metadata diff ({"key": ["+", "v"]} or {"key": ["-"]}) to
 * the guest through xenstore. */
/* contract: change_instance_metadata */
int nxl_instance_change_metadata(nxl_driver *drv, const nxl_instance *inst,
                                 const char *diff_json, nxl_error *err);

/* Root password through an in-guest agent. libxl: NXL_E_UNSUPPORTED. */
/* contract: set_admin_password */
int nxl_instance_set_admin_password(nxl_driver *drv, const nxl_instance *inst,
                                    const char *new_pass, nxl_error *err);

/* Writes a file in the guest through an in-guest agent (deprecated in
 * nova). libxl: NXL_E_UNSUPPORTED. */
/* contract: inject_file */
int nxl_instance_inject_file(nxl_driver *drv, const nxl_instance *inst,
                             const char *b64_path, const char *b64_contents,
                             nxl_error *err);

/* Freezes guest filesystems for a snapshot. libxl:
 * NXL_E_QUIESCE_UNSUPP (InstanceQuiesceNotSupported). image_meta may be
 * NULL. */
/* contract: quiesce */
int nxl_instance_quiesce(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_image_meta *image_meta, nxl_error *err);

/* Thaws what quiesce froze. libxl: NXL_E_QUIESCE_UNSUPP. */
/* contract: unquiesce */
int nxl_instance_unquiesce(nxl_driver *drv, const nxl_instance *inst,
                           const nxl_image_meta *image_meta, nxl_error *err);

/* Told of each snapshot step: nova's update_task_state(task_state,
 * expected_state); expected_state may be NULL. */
typedef int nxl_task_state_fn(void *opaque, const char *task_state,
                              const char *expected_state, nxl_error *err);

/* Uploads a snapshot of the root disk as image image_id. update_task_state
 * may be NULL. */
/* contract: snapshot */
int nxl_instance_snapshot(nxl_driver *drv, const nxl_instance *inst,
                          const char *image_id,
                          nxl_task_state_fn *update_task_state, void *opaque,
                          nxl_error *err);

/* Removes what an interrupted snapshot left behind. */
/* contract: post_interrupted_snapshot_cleanup */
int nxl_instance_post_interrupted_snapshot_cleanup(nxl_driver *drv,
                                                   const nxl_instance *inst,
                                                   nxl_error *err);

/* ======================================================================
 * Networking
 * ====================================================================== */

/* Hot-plugs vif (libxl_device_nic_add). NXL_E_FAILED when it fails. */
/* contract: attach_interface */
int nxl_instance_attach_interface(nxl_driver *drv, const nxl_instance *inst,
                                  const nxl_image_meta *image_meta,
                                  const nxl_vif *vif, nxl_error *err);

/* Hot-unplugs vif (libxl_device_nic_remove). */
/* contract: detach_interface */
int nxl_instance_detach_interface(nxl_driver *drv, const nxl_instance *inst,
                                  const nxl_vif *vif, nxl_error *err);

/* Plugs the host side of each VIF (bridge, OVS port). */
/* contract: plug_vifs */
int nxl_instance_plug_vifs(nxl_driver *drv, const nxl_instance *inst,
                           const nxl_network_info *network_info,
                           nxl_error *err);

/* Unplugs what plug_vifs plugged. */
/* contract: unplug_vifs */
int nxl_instance_unplug_vifs(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_network_info *network_info,
                             nxl_error *err);

/* Network config through an in-guest agent. libxl: NXL_E_UNSUPPORTED. */
/* contract: inject_network_info */
int nxl_instance_inject_network_info(nxl_driver *drv, const nxl_instance *inst,
                                     const nxl_network_info *network_info,
                                     nxl_error *err);

/* Resets guest networking through an in-guest agent. libxl:
 * NXL_E_UNSUPPORTED. */
/* contract: reset_network */
int nxl_instance_reset_network(nxl_driver *drv, const nxl_instance *inst,
                               nxl_error *err);

/* Extra DHCP options (Neutron's extra_dhcp_opts: opt_name -> opt_value)
 * the instance needs. libxl: none (Xen guests boot from their disks, not
 * from the network), so *opts_r stays empty, which is nova's None.
 * nxl_kvlist_dispose(opts_r). */
/* contract: dhcp_options_for_instance */
int nxl_instance_dhcp_options(nxl_driver *drv, const nxl_instance *inst,
                              nxl_kvlist *opts_r, nxl_error *err);

/* The only MAC addresses the instance may have. libxl: none (an empty
 * list is nova's None, "no constraint"): a Xen VIF takes any unicast MAC.
 * nxl_strv_dispose(macs_r). */
/* contract: macs_for_instance */
int nxl_instance_macs(nxl_driver *drv, const nxl_instance *inst,
                      nxl_strv *macs_r, nxl_error *err);

/* Host id to bind the instance's ports to (binding:host_id). libxl: this
 * compute host's name (config host, else gethostname() at open), which
 * is what the Neutron agent on this host reports. free(*host_id_r). */
/* contract: network_binding_host_id */
int nxl_instance_network_binding_host_id(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         char **host_id_r, nxl_error *err);

/* Whether nova should deallocate networks before rescheduling a failed
 * build. libxl: false (ports stay valid on another host). */
/* contract: deallocate_networks_on_reschedule */
int nxl_instance_deallocate_networks_on_reschedule(nxl_driver *drv,
                                                   const nxl_instance *inst,
                                                   bool *deallocate_r,
                                                   nxl_error *err);

/* nova-network firewall: set up filtering before a live migration. */
/* contract: ensure_filtering_rules_for_instance */
int nxl_instance_ensure_filtering_rules(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        const nxl_network_info *network_info,
                                        nxl_error *err);

/* nova-network firewall: remove the instance's filters. */
/* contract: unfilter_instance */
int nxl_instance_unfilter(nxl_driver *drv, const nxl_instance *inst,
                          const nxl_network_info *network_info, nxl_error *err);

/* nova-network firewall: re-apply the instance's security rules. */
/* contract: refresh_instance_security_rules */
int nxl_instance_refresh_security_rules(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        nxl_error *err);

/* ======================================================================
 * Block devices and volumes
 * ====================================================================== */

/* The root device name nova should record: "/dev/xvda" on Xen, for PV
 * and HVM alike (libxl names both xvda; HVM guests may see it as hda
 * before the PV drivers load). image_meta and root_bdm may be NULL.
 * free(*name_r). */
/* contract: default_root_device_name */
int nxl_instance_default_root_device_name(nxl_driver *drv,
                                          const nxl_instance *inst,
                                          const nxl_image_meta *image_meta,
                                          const nxl_bdm *root_bdm,
                                          char **name_r, nxl_error *err);

/* The device name for a new block device of the instance. Taken names
 * are the root device (bdms->root_device_name, else
 * inst->root_device_name) and every device in bdms (may be NULL); xvdX,
 * sdX, hdX and vdX with the same letters count as one slot, because an
 * HVM guest sees hdX/sdX/xvdX as the same disk. requested (may be NULL)
 * is honoured when its slot is free and rewritten to the xvd prefix
 * ("/dev/vdc" -> "/dev/xvdc"); otherwise the first free slot from
 * xvda to xvdzz is chosen. NXL_E_INVAL when requested is malformed or
 * taken; NXL_E_FAILED when all slots are taken. free(*name_r). */
/* contract: get_device_name_for_instance */
int nxl_instance_get_device_name(nxl_driver *drv, const nxl_instance *inst,
                                 const nxl_block_device_info *bdms,
                                 const char *requested, char **name_r,
                                 nxl_error *err);

/* Fills every missing device name in bdi (ephemerals, swap, volume
 * mappings, in that order, as nova's default_device_names_for_instance
 * does) with the next free slot after root_device_name and the names
 * already set. bdi is changed only on success. */
/* contract: default_device_names_for_instance */
int nxl_instance_default_device_names(nxl_driver *drv, const nxl_instance *inst,
                                      const char *root_device_name,
                                      nxl_block_device_info *bdi,
                                      nxl_error *err);

/* Attaches a Cinder volume at mountpoint (libxl_device_disk_add).
 * disk_bus, device_type, encryption_json may be NULL. */
/* contract: attach_volume */
int nxl_instance_attach_volume(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_connection_info *connection_info,
                               const char *mountpoint, const char *disk_bus,
                               const char *device_type,
                               const char *encryption_json, nxl_error *err);

/* Detaches the volume at mountpoint (libxl_device_disk_remove).
 * encryption_json may be NULL. */
/* contract: detach_volume */
int nxl_instance_detach_volume(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_connection_info *connection_info,
                               const char *mountpoint,
                               const char *encryption_json, nxl_error *err);

/* Moves a running guest's disk at mountpoint from one volume to another
 * (resize_to GiB, 0: keep the size). libxl: NXL_E_UNSUPPORTED. */
/* contract: swap_volume */
int nxl_instance_swap_volume(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_connection_info *old_connection_info,
                             const nxl_connection_info *new_connection_info,
                             const char *mountpoint, uint64_t resize_to,
                             nxl_error *err);

/* Cinder-assisted snapshot of an attached file-backed volume. libxl:
 * NXL_E_UNSUPPORTED. */
/* contract: volume_snapshot_create */
int nxl_instance_volume_snapshot_create(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        const char *volume_id,
                                        const char *create_info_json,
                                        nxl_error *err);

/* Deletes such a snapshot (block commit). libxl: NXL_E_UNSUPPORTED. */
/* contract: volume_snapshot_delete */
int nxl_instance_volume_snapshot_delete(
    nxl_driver *drv, const nxl_instance *inst, const char *volume_id,
    const char *snapshot_id, const char *delete_info_json, nxl_error *err);

/* What Cinder needs to export a volume to this host. inst may be NULL
 * (nova asks for the host's connector). nxl_volume_connector_dispose. */
/* contract: get_volume_connector */
int nxl_instance_get_volume_connector(nxl_driver *drv, const nxl_instance *inst,
                                      nxl_volume_connector *connector_r,
                                      nxl_error *err);

/* ======================================================================
 * Cold migration and resize
 * ====================================================================== */

/* Copies the instance's disks to dest, powering it off before the last
 * pass. bdi may be NULL. *disk_info_json_r: the disk list for
 * finish_migration; free() it. */
/* contract: migrate_disk_and_power_off */
int nxl_instance_migrate_disk_and_power_off(
    nxl_driver *drv, const nxl_instance *inst, const char *dest,
    const nxl_flavor *flavor, const nxl_network_info *network_info,
    const nxl_block_device_info *bdi, unsigned int timeout,
    unsigned int retry_interval, char **disk_info_json_r, nxl_error *err);

/* On the destination: builds the domain from the copied disks. */
/* contract: finish_migration */
int nxl_migration_finish(nxl_driver *drv, const nxl_migration *migration,
                         const nxl_instance *inst, const char *disk_info_json,
                         const nxl_network_info *network_info,
                         const nxl_image_meta *image_meta, bool resize_instance,
                         const nxl_block_device_info *bdi, bool power_on,
                         nxl_error *err);

/* On the source: brings the instance back after a reverted resize. */
/* contract: finish_revert_migration */
int nxl_migration_finish_revert(nxl_driver *drv, const nxl_instance *inst,
                                const nxl_network_info *network_info,
                                const nxl_block_device_info *bdi, bool power_on,
                                nxl_error *err);

/* On the source: deletes what the migration left (the old disks). */
/* contract: confirm_migration */
int nxl_migration_confirm(nxl_driver *drv, const nxl_migration *migration,
                          const nxl_instance *inst,
                          const nxl_network_info *network_info, nxl_error *err);

/* ======================================================================
 * Shared storage checks
 * ====================================================================== */

/* On the destination: leaves a marker in the instance directory.
 * *data_json_r is the marker's description, or NULL when there is nothing
 * to check (nova's None); free() it. */
/* contract: check_instance_shared_storage_local */
int nxl_shared_storage_check_local(nxl_driver *drv, const nxl_instance *inst,
                                   char **data_json_r, nxl_error *err);

/* On the source: whether the marker described by data_json is visible. */
/* contract: check_instance_shared_storage_remote */
int nxl_shared_storage_check_remote(nxl_driver *drv, const char *data_json,
                                    bool *shared_r, nxl_error *err);

/* On the destination: removes the marker. */
/* contract: check_instance_shared_storage_cleanup */
int nxl_shared_storage_check_cleanup(nxl_driver *drv, const char *data_json,
                                     nxl_error *err);

/* ======================================================================
 * Live migration (libxl's migration stream)
 * ====================================================================== */

/* On the destination: can inst come here? The infos are nova's compute
 * node records as JSON. *dest_check_data_json_r: free() it. */
/* contract: check_can_live_migrate_destination */
int nxl_live_migration_check_destination(
    nxl_driver *drv, const nxl_instance *inst,
    const char *src_compute_info_json, const char *dst_compute_info_json,
    bool block_migration, bool disk_over_commit, char **dest_check_data_json_r,
    nxl_error *err);

/* On the destination: undoes what check_destination set up. */
/* contract: check_can_live_migrate_destination_cleanup */
int nxl_live_migration_check_destination_cleanup(
    nxl_driver *drv, const char *dest_check_data_json, nxl_error *err);

/* On the source: can the migration succeed, given the destination's
 * answer? bdi may be NULL. *migrate_data_json_r: free() it. */
/* contract: check_can_live_migrate_source */
int nxl_live_migration_check_source(nxl_driver *drv, const nxl_instance *inst,
                                    const char *dest_check_data_json,
                                    const nxl_block_device_info *bdi,
                                    char **migrate_data_json_r, nxl_error *err);

/* On the destination: prepares disks, volumes and VIFs.
 * disk_info_json, migrate_data_json may be NULL. *migrate_data_json_r:
 * the updated migrate data; free() it. */
/* contract: pre_live_migration */
int nxl_live_migration_pre(nxl_driver *drv, const nxl_instance *inst,
                           const nxl_block_device_info *bdi,
                           const nxl_network_info *network_info,
                           const char *disk_info_json,
                           const char *migrate_data_json,
                           char **migrate_data_json_r, nxl_error *err);

/* Told when a live migration ends: nova's post_method (success) or
 * recover_method (failure). */
typedef void nxl_live_migration_fn(void *opaque, const nxl_instance *inst,
                                   const char *dest, bool block_migration,
                                   const char *migrate_data_json);

/* On the source: streams the domain to dest (libxl_domain_suspend with
 * LIBXL_SUSPEND_LIVE over a socket), then calls post or recover. Both
 * callbacks are required. migrate_data_json may be NULL. */
/* contract: live_migration */
int nxl_instance_live_migrate(nxl_driver *drv, const nxl_instance *inst,
                              const char *dest, nxl_live_migration_fn *post,
                              nxl_live_migration_fn *recover, void *opaque,
                              bool block_migration,
                              const char *migrate_data_json, nxl_error *err);

/* Aborts a running live migration; the domain keeps running here. */
/* contract: live_migration_abort */
int nxl_instance_live_migration_abort(nxl_driver *drv, const nxl_instance *inst,
                                      nxl_error *err);

/* Makes a migration that does not converge finish (pauses the domain so
 * the last pass can complete). */
/* contract: live_migration_force_complete */
int nxl_instance_live_migration_force_complete(nxl_driver *drv,
                                               const nxl_instance *inst,
                                               nxl_error *err);

/* On the source, after success. bdi, migrate_data_json may be NULL. */
/* contract: post_live_migration */
int nxl_live_migration_post(nxl_driver *drv, const nxl_instance *inst,
                            const nxl_block_device_info *bdi,
                            const char *migrate_data_json, nxl_error *err);

/* On the source: unplugs the VIFs. */
/* contract: post_live_migration_at_source */
int nxl_live_migration_post_at_source(nxl_driver *drv, const nxl_instance *inst,
                                      const nxl_network_info *network_info,
                                      nxl_error *err);

/* On the destination, after success: records the domain as ours. */
/* contract: post_live_migration_at_destination */
int nxl_live_migration_post_at_destination(nxl_driver *drv,
                                           const nxl_instance *inst,
                                           const nxl_network_info *network_info,
                                           bool block_migration,
                                           const nxl_block_device_info *bdi,
                                           nxl_error *err);

/* On the destination, after failure: removes what pre set up. */
/* contract: rollback_live_migration_at_destination */
int nxl_live_migration_rollback_at_destination(
    nxl_driver *drv, const nxl_instance *inst,
    const nxl_network_info *network_info, const nxl_block_device_info *bdi,
    bool destroy_disks, const char *migrate_data_json, nxl_error *err);

/* ======================================================================
 * Module-level helpers of nova.virt.driver (no driver needed)
 * ====================================================================== */

/* Converts nova's new-style BDMs of inst (n may be 0) into driver format:
 * root_device_name from inst; local blank BDMs become ephemerals (numbered
 * in order) or, with guest_format "swap", the swap (the last one wins,
 * as nova's get_swap pops it); BDMs with destination volume become
 * mappings. Image-to-local BDMs (the root disk) and no_device BDMs are
 * skipped. nxl_block_device_info_dispose(bdi_r). */
/* contract-module: get_block_device_info */
int nxl_block_device_info_from_bdms(const nxl_instance *inst,
                                    const nxl_bdm *bdms, size_t n,
                                    nxl_block_device_info *bdi_r,
                                    nxl_error *err);

/* bdi's root_device_name, NULL when bdi is NULL or has none. */
/* contract-module: block_device_info_get_root */
const char *nxl_block_device_info_get_root(const nxl_block_device_info *bdi);

/* bdi's swap, or a constant empty swap (device_name NULL, swap_size 0)
 * when bdi is NULL or has none, as nova returns. Never NULL; owned by bdi
 * or the library. */
/* contract-module: block_device_info_get_swap */
const nxl_swap_bdm *
nxl_block_device_info_get_swap(const nxl_block_device_info *bdi);

/* bdi's ephemerals: the count, *eph_r set to the array (NULL when none). */
/* contract-module: block_device_info_get_ephemerals */
size_t nxl_block_device_info_get_ephemerals(const nxl_block_device_info *bdi,
                                            const nxl_ephemeral_bdm **eph_r);

/* bdi's volume mappings: the count, *map_r set to the array. */
/* contract-module: block_device_info_get_mapping */
size_t nxl_block_device_info_get_mapping(const nxl_block_device_info *bdi,
                                         const nxl_volume_bdm **map_r);

/* nova's swap_is_usable: swap is non-NULL, has a device name and a
 * swap_size above 0. */
/* contract-module: swap_is_usable */
bool nxl_swap_is_usable(const nxl_swap_bdm *swap);

/* nova's driver_dict_from_config without the class import: parses
 * "name=value" entries (e.g. volume drivers "iscsi=blkback") into
 * *dict_r; a later entry for a name overrides an earlier one, as nova's
 * dict does. NXL_E_INVAL naming the entry when one has no '=' or an empty
 * name. Resolving a value is the caller's job. nxl_kvlist_dispose. */
/* contract-module: driver_dict_from_config */
int nxl_driver_dict_from_config(const char *const *entries, size_t n,
                                nxl_kvlist *dict_r, nxl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NOVAXL_NXL_H */

/* The dispatch layer between the public API (nxl.h) and a backend.
 *
 * A backend is one const nxl_driver_ops table, in the shape of libvirt's
 * virHypervisorDriver and git's struct ref_storage_be: one member per
 * method of Nova's ComputeDriver, named exactly as the method. A NULL
 * member means "not implemented yet": its dispatcher in common/driver.c
 * answers NXL_E_NOT_IMPLEMENTED naming the method and the backend. A
 * member that exists but can never work on its hypervisor still exists,
 * and returns NXL_E_UNSUPPORTED with the reason, so "not yet" and "never"
 * stay distinguishable to the caller and in docs/contract.md.
 *
 * Members take the public call's arguments, already validated by the
 * dispatcher (drv, required pointers, the instance UUID, host names), so
 * a backend never re-checks them. Backends fill the table with designated
 * initialisers, each implementation named nxl_<backend>_<member>;
 * scripts/check-driverimpls enforces that and the member list.
 */
#ifndef NOVAXL_COMMON_DRIVER_H
#define NOVAXL_COMMON_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/internal.h"
#include "novaxl/nxl.h"

typedef struct nxl_driver_ops {
    const char *name; /* "libxl"; what nxl_driver_open() is asked for */

    /* Not contract methods: the backend's state. open runs once in
     * nxl_driver_open() after the common part is set up and may set
     * drv->priv; it must not touch the hypervisor (init_host does). close
     * frees what open made; it is called only when open succeeded. Both
     * may be NULL for a backend without state. */
    int (*open)(nxl_driver *drv, nxl_error *err);
    void (*close)(nxl_driver *drv);
    /* Not a contract method either: nxl_aggregate_get_record(), the
     * operator's view of an aggregate's state machine. May be NULL. */
    int (*aggregate_record)(nxl_driver *drv, int64_t id, char **json_r,
                            nxl_error *err);
    /* Nor this: nxl_instance_get_request(), the stored spawn request.
     * May be NULL. */
    int (*instance_request)(nxl_driver *drv, const nxl_instance *inst,
                            char **json_r, nxl_error *err);
    /* Nor this: nxl_host_get_console_warning(). May be NULL. */
    int (*console_warning)(nxl_driver *drv, char **warning_r, nxl_error *err);

    /* nova's `capabilities` attribute: constant data, never NULL in a
     * real backend (the dispatcher reports NOT_IMPLEMENTED otherwise). */
    const nxl_capabilities *capabilities;

    int (*need_legacy_block_device_info)(nxl_driver *drv, bool *legacy_r,
                                         nxl_error *err);
    int (*is_xenapi)(nxl_driver *drv, bool *is_xenapi_r, nxl_error *err);
    int (*is_supported_fs_format)(nxl_driver *drv, const char *fs_type,
                                  bool *supported_r, nxl_error *err);
    int (*register_event_listener)(nxl_driver *drv, nxl_event_fn *cb,
                                   void *opaque, nxl_error *err);
    int (*emit_event)(nxl_driver *drv, const nxl_event *ev, nxl_error *err);
    int (*init_host)(nxl_driver *drv, const char *host, nxl_error *err);
    int (*cleanup_host)(nxl_driver *drv, const char *host, nxl_error *err);
    int (*list_instances)(nxl_driver *drv, nxl_strv *names_r, nxl_error *err);
    int (*list_instance_uuids)(nxl_driver *drv, nxl_strv *uuids_r,
                               nxl_error *err);
    int (*get_num_instances)(nxl_driver *drv, size_t *n_r, nxl_error *err);
    int (*get_available_nodes)(nxl_driver *drv, bool refresh, nxl_strv *nodes_r,
                               nxl_error *err);
    int (*node_is_available)(nxl_driver *drv, const char *nodename,
                             bool *available_r, nxl_error *err);
    int (*get_available_resource)(nxl_driver *drv, const char *nodename,
                                  nxl_host_resources *res_r, nxl_error *err);
    int (*get_host_cpu_stats)(nxl_driver *drv, nxl_host_cpu_stats *stats_r,
                              nxl_error *err);
    int (*get_host_ip_addr)(nxl_driver *drv, char **ip_r, nxl_error *err);
    int (*get_host_uptime)(nxl_driver *drv, char **uptime_r, nxl_error *err);
    int (*set_host_enabled)(nxl_driver *drv, bool enabled,
                            const char **result_r, nxl_error *err);
    int (*host_maintenance_mode)(nxl_driver *drv, const char *host, bool mode,
                                 nxl_maintenance *result_r, nxl_error *err);
    int (*host_power_action)(nxl_driver *drv, const char *action,
                             char **result_r, nxl_error *err);
    int (*get_console_pool_info)(nxl_driver *drv, const char *console_type,
                                 nxl_console_pool *pool_r, nxl_error *err);
    int (*get_all_bw_counters)(nxl_driver *drv, const nxl_instance *instances,
                               size_t n, nxl_bw_counter_list *bw_r,
                               nxl_error *err);
    int (*get_all_volume_usage)(nxl_driver *drv,
                                const nxl_instance_bdms *host_bdms, size_t n,
                                nxl_volume_usage_list *usage_r, nxl_error *err);
    int (*get_per_instance_usage)(nxl_driver *drv,
                                  nxl_instance_usage_list *usage_r,
                                  nxl_error *err);
    int (*poll_rebooting_instances)(nxl_driver *drv, unsigned int timeout,
                                    const nxl_instance *instances, size_t n,
                                    nxl_error *err);
    int (*manage_image_cache)(nxl_driver *drv,
                              const nxl_instance *all_instances, size_t n,
                              nxl_error *err);
    int (*filter_defer_apply_on)(nxl_driver *drv, nxl_error *err);
    int (*filter_defer_apply_off)(nxl_driver *drv, nxl_error *err);
    int (*refresh_security_group_rules)(nxl_driver *drv,
                                        const char *security_group_id,
                                        nxl_error *err);
    int (*add_to_aggregate)(nxl_driver *drv, const nxl_aggregate *agg,
                            const char *host, const char *kwargs_json,
                            nxl_error *err);
    int (*remove_from_aggregate)(nxl_driver *drv, const nxl_aggregate *agg,
                                 const char *host, const char *kwargs_json,
                                 nxl_error *err);
    int (*undo_aggregate_operation)(nxl_driver *drv, const char *op,
                                    const nxl_aggregate *agg, const char *host,
                                    bool set_error, nxl_error *err);
    int (*spawn)(nxl_driver *drv, const nxl_spawn_req *req, nxl_error *err);
    int (*destroy)(nxl_driver *drv, const nxl_instance *inst,
                   const nxl_network_info *network_info,
                   const nxl_block_device_info *bdi, bool destroy_disks,
                   const char *migrate_data_json, nxl_error *err);
    int (*cleanup)(nxl_driver *drv, const nxl_instance *inst,
                   const nxl_network_info *network_info,
                   const nxl_block_device_info *bdi, bool destroy_disks,
                   const char *migrate_data_json, bool destroy_vifs,
                   nxl_error *err);
    int (*rebuild)(nxl_driver *drv, const nxl_spawn_req *req,
                   nxl_block_devices_fn *block_devices, void *opaque,
                   bool recreate, bool preserve_ephemeral, nxl_error *err);
    int (*get_info)(nxl_driver *drv, const nxl_instance *inst,
                    nxl_instance_info *info_r, nxl_error *err);
    int (*instance_exists)(nxl_driver *drv, const nxl_instance *inst,
                           bool *exists_r, nxl_error *err);
    int (*instance_on_disk)(nxl_driver *drv, const nxl_instance *inst,
                            bool *on_disk_r, nxl_error *err);
    int (*delete_instance_files)(nxl_driver *drv, const nxl_instance *inst,
                                 bool *deleted_r, nxl_error *err);
    int (*reboot)(nxl_driver *drv, const nxl_instance *inst,
                  const nxl_network_info *network_info, int reboot_type,
                  const nxl_block_device_info *bdi,
                  nxl_bad_volumes_fn *bad_volumes, void *opaque,
                  nxl_error *err);
    int (*power_off)(nxl_driver *drv, const nxl_instance *inst,
                     unsigned int timeout, unsigned int retry_interval,
                     nxl_error *err);
    int (*power_on)(nxl_driver *drv, const nxl_instance *inst,
                    const nxl_network_info *network_info,
                    const nxl_block_device_info *bdi, nxl_error *err);
    int (*pause)(nxl_driver *drv, const nxl_instance *inst, nxl_error *err);
    int (*unpause)(nxl_driver *drv, const nxl_instance *inst, nxl_error *err);
    int (*suspend)(nxl_driver *drv, const nxl_instance *inst, nxl_error *err);
    int (*resume)(nxl_driver *drv, const nxl_instance *inst,
                  const nxl_network_info *network_info,
                  const nxl_block_device_info *bdi, nxl_error *err);
    int (*resume_state_on_host_boot)(nxl_driver *drv, const nxl_instance *inst,
                                     const nxl_network_info *network_info,
                                     const nxl_block_device_info *bdi,
                                     nxl_error *err);
    int (*soft_delete)(nxl_driver *drv, const nxl_instance *inst,
                       nxl_error *err);
    int (*restore)(nxl_driver *drv, const nxl_instance *inst, nxl_error *err);
    int (*rescue)(nxl_driver *drv, const nxl_instance *inst,
                  const nxl_network_info *network_info,
                  const nxl_image_meta *image_meta, const char *rescue_password,
                  nxl_error *err);
    int (*unrescue)(nxl_driver *drv, const nxl_instance *inst,
                    const nxl_network_info *network_info, nxl_error *err);
    int (*set_bootable)(nxl_driver *drv, const nxl_instance *inst,
                        bool is_bootable, nxl_error *err);
    int (*trigger_crash_dump)(nxl_driver *drv, const nxl_instance *inst,
                              nxl_error *err);
    int (*estimate_instance_overhead)(nxl_driver *drv, const nxl_instance *inst,
                                      nxl_overhead *overhead_r, nxl_error *err);
    int (*get_console_output)(nxl_driver *drv, const nxl_instance *inst,
                              nxl_buf *out_r, nxl_error *err);
    int (*get_vnc_console)(nxl_driver *drv, const nxl_instance *inst,
                           nxl_console *console_r, nxl_error *err);
    int (*get_spice_console)(nxl_driver *drv, const nxl_instance *inst,
                             nxl_console *console_r, nxl_error *err);
    int (*get_serial_console)(nxl_driver *drv, const nxl_instance *inst,
                              nxl_console *console_r, nxl_error *err);
    int (*get_rdp_console)(nxl_driver *drv, const nxl_instance *inst,
                           nxl_console *console_r, nxl_error *err);
    int (*get_mks_console)(nxl_driver *drv, const nxl_instance *inst,
                           nxl_console *console_r, nxl_error *err);
    int (*get_diagnostics)(nxl_driver *drv, const nxl_instance *inst,
                           char **diag_json_r, nxl_error *err);
    int (*get_instance_diagnostics)(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_diagnostics *diag_r, nxl_error *err);
    int (*get_instance_disk_info)(nxl_driver *drv, const nxl_instance *inst,
                                  const nxl_block_device_info *bdi,
                                  nxl_disk_info_list *disks_r, nxl_error *err);
    int (*block_stats)(nxl_driver *drv, const nxl_instance *inst,
                       const char *disk_id, nxl_block_stats *stats_r,
                       nxl_error *err);
    int (*change_instance_metadata)(nxl_driver *drv, const nxl_instance *inst,
                                    const char *diff_json, nxl_error *err);
    int (*set_admin_password)(nxl_driver *drv, const nxl_instance *inst,
                              const char *new_pass, nxl_error *err);
    int (*inject_file)(nxl_driver *drv, const nxl_instance *inst,
                       const char *b64_path, const char *b64_contents,
                       nxl_error *err);
    int (*quiesce)(nxl_driver *drv, const nxl_instance *inst,
                   const nxl_image_meta *image_meta, nxl_error *err);
    int (*unquiesce)(nxl_driver *drv, const nxl_instance *inst,
                     const nxl_image_meta *image_meta, nxl_error *err);
    int (*snapshot)(nxl_driver *drv, const nxl_instance *inst,
                    const char *image_id, nxl_task_state_fn *update_task_state,
                    void *opaque, nxl_error *err);
    int (*post_interrupted_snapshot_cleanup)(nxl_driver *drv,
                                             const nxl_instance *inst,
                                             nxl_error *err);
    int (*attach_interface)(nxl_driver *drv, const nxl_instance *inst,
                            const nxl_image_meta *image_meta,
                            const nxl_vif *vif, nxl_error *err);
    int (*detach_interface)(nxl_driver *drv, const nxl_instance *inst,
                            const nxl_vif *vif, nxl_error *err);
    int (*plug_vifs)(nxl_driver *drv, const nxl_instance *inst,
                     const nxl_network_info *network_info, nxl_error *err);
    int (*unplug_vifs)(nxl_driver *drv, const nxl_instance *inst,
                       const nxl_network_info *network_info, nxl_error *err);
    int (*inject_network_info)(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_network_info *network_info,
                               nxl_error *err);
    int (*reset_network)(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err);
    int (*dhcp_options_for_instance)(nxl_driver *drv, const nxl_instance *inst,
                                     nxl_kvlist *opts_r, nxl_error *err);
    int (*macs_for_instance)(nxl_driver *drv, const nxl_instance *inst,
                             nxl_strv *macs_r, nxl_error *err);
    int (*network_binding_host_id)(nxl_driver *drv, const nxl_instance *inst,
                                   char **host_id_r, nxl_error *err);
    int (*deallocate_networks_on_reschedule)(nxl_driver *drv,
                                             const nxl_instance *inst,
                                             bool *deallocate_r,
                                             nxl_error *err);
    int (*ensure_filtering_rules_for_instance)(
        nxl_driver *drv, const nxl_instance *inst,
        const nxl_network_info *network_info, nxl_error *err);
    int (*unfilter_instance)(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_network_info *network_info,
                             nxl_error *err);
    int (*refresh_instance_security_rules)(nxl_driver *drv,
                                           const nxl_instance *inst,
                                           nxl_error *err);
    int (*default_root_device_name)(nxl_driver *drv, const nxl_instance *inst,
                                    const nxl_image_meta *image_meta,
                                    const nxl_bdm *root_bdm, char **name_r,
                                    nxl_error *err);
    int (*get_device_name_for_instance)(nxl_driver *drv,
                                        const nxl_instance *inst,
                                        const nxl_block_device_info *bdms,
                                        const char *requested, char **name_r,
                                        nxl_error *err);
    int (*default_device_names_for_instance)(nxl_driver *drv,
                                             const nxl_instance *inst,
                                             const char *root_device_name,
                                             nxl_block_device_info *bdi,
                                             nxl_error *err);
    int (*attach_volume)(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_connection_info *connection_info,
                         const char *mountpoint, const char *disk_bus,
                         const char *device_type, const char *encryption_json,
                         nxl_error *err);
    int (*detach_volume)(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_connection_info *connection_info,
                         const char *mountpoint, const char *encryption_json,
                         nxl_error *err);
    int (*swap_volume)(nxl_driver *drv, const nxl_instance *inst,
                       const nxl_connection_info *old_connection_info,
                       const nxl_connection_info *new_connection_info,
                       const char *mountpoint, uint64_t resize_to,
                       nxl_error *err);
    int (*volume_snapshot_create)(nxl_driver *drv, const nxl_instance *inst,
                                  const char *volume_id,
                                  const char *create_info_json, nxl_error *err);
    int (*volume_snapshot_delete)(nxl_driver *drv, const nxl_instance *inst,
                                  const char *volume_id,
                                  const char *snapshot_id,
                                  const char *delete_info_json, nxl_error *err);
    int (*get_volume_connector)(nxl_driver *drv, const nxl_instance *inst,
                                nxl_volume_connector *connector_r,
                                nxl_error *err);
    int (*migrate_disk_and_power_off)(
        nxl_driver *drv, const nxl_instance *inst, const char *dest,
        const nxl_flavor *flavor, const nxl_network_info *network_info,
        const nxl_block_device_info *bdi, unsigned int timeout,
        unsigned int retry_interval, char **disk_info_json_r, nxl_error *err);
    int (*finish_migration)(nxl_driver *drv, const nxl_migration *migration,
                            const nxl_instance *inst,
                            const char *disk_info_json,
                            const nxl_network_info *network_info,
                            const nxl_image_meta *image_meta,
                            bool resize_instance,
                            const nxl_block_device_info *bdi, bool power_on,
                            nxl_error *err);
    int (*finish_revert_migration)(nxl_driver *drv, const nxl_instance *inst,
                                   const nxl_network_info *network_info,
                                   const nxl_block_device_info *bdi,
                                   bool power_on, nxl_error *err);
    int (*confirm_migration)(nxl_driver *drv, const nxl_migration *migration,
                             const nxl_instance *inst,
                             const nxl_network_info *network_info,
                             nxl_error *err);
    int (*check_instance_shared_storage_local)(nxl_driver *drv,
                                               const nxl_instance *inst,
                                               char **data_json_r,
                                               nxl_error *err);
    int (*check_instance_shared_storage_remote)(nxl_driver *drv,
                                                const char *data_json,
                                                bool *shared_r, nxl_error *err);
    int (*check_instance_shared_storage_cleanup)(nxl_driver *drv,
                                                 const char *data_json,
                                                 nxl_error *err);
    int (*check_can_live_migrate_destination)(
        nxl_driver *drv, const nxl_instance *inst,
        const char *src_compute_info_json, const char *dst_compute_info_json,
        bool block_migration, bool disk_over_commit,
        char **dest_check_data_json_r, nxl_error *err);
    int (*check_can_live_migrate_destination_cleanup)(
        nxl_driver *drv, const char *dest_check_data_json, nxl_error *err);
    int (*check_can_live_migrate_source)(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         const char *dest_check_data_json,
                                         const nxl_block_device_info *bdi,
                                         char **migrate_data_json_r,
                                         nxl_error *err);
    int (*pre_live_migration)(nxl_driver *drv, const nxl_instance *inst,
                              const nxl_block_device_info *bdi,
                              const nxl_network_info *network_info,
                              const char *disk_info_json,
                              const char *migrate_data_json,
                              char **migrate_data_json_r, nxl_error *err);
    int (*live_migration)(nxl_driver *drv, const nxl_instance *inst,
                          const char *dest, nxl_live_migration_fn *post,
                          nxl_live_migration_fn *recover, void *opaque,
                          bool block_migration, const char *migrate_data_json,
                          nxl_error *err);
    int (*live_migration_abort)(nxl_driver *drv, const nxl_instance *inst,
                                nxl_error *err);
    int (*live_migration_force_complete)(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         nxl_error *err);
    int (*post_live_migration)(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_block_device_info *bdi,
                               const char *migrate_data_json, nxl_error *err);
    int (*post_live_migration_at_source)(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         const nxl_network_info *network_info,
                                         nxl_error *err);
    int (*post_live_migration_at_destination)(
        nxl_driver *drv, const nxl_instance *inst,
        const nxl_network_info *network_info, bool block_migration,
        const nxl_block_device_info *bdi, nxl_error *err);
    int (*rollback_live_migration_at_destination)(
        nxl_driver *drv, const nxl_instance *inst,
        const nxl_network_info *network_info, const nxl_block_device_info *bdi,
        bool destroy_disks, const char *migrate_data_json, nxl_error *err);
} nxl_driver_ops;

/* Every contract member of nxl_driver_ops, capabilities included, for
 * code that walks the table (the test suite, tracing). Kept in the
 * member order; scripts/check-driverimpls checks it lists them all. */
#define NXL_DRIVER_METHODS(X)                                                  \
    X(capabilities)                                                            \
    X(need_legacy_block_device_info)                                           \
    X(is_xenapi)                                                               \
    X(is_supported_fs_format)                                                  \
    X(register_event_listener)                                                 \
    X(emit_event)                                                              \
    X(init_host)                                                               \
    X(cleanup_host)                                                            \
    X(list_instances)                                                          \
    X(list_instance_uuids)                                                     \
    X(get_num_instances)                                                       \
    X(get_available_nodes)                                                     \
    X(node_is_available)                                                       \
    X(get_available_resource)                                                  \
    X(get_host_cpu_stats)                                                      \
    X(get_host_ip_addr)                                                        \
    X(get_host_uptime)                                                         \
    X(set_host_enabled)                                                        \
    X(host_maintenance_mode)                                                   \
    X(host_power_action)                                                       \
    X(get_console_pool_info)                                                   \
    X(get_all_bw_counters)                                                     \
    X(get_all_volume_usage)                                                    \
    X(get_per_instance_usage)                                                  \
    X(poll_rebooting_instances)                                                \
    X(manage_image_cache)                                                      \
    X(filter_defer_apply_on)                                                   \
    X(filter_defer_apply_off)                                                  \
    X(refresh_security_group_rules)                                            \
    X(add_to_aggregate)                                                        \
    X(remove_from_aggregate)                                                   \
    X(undo_aggregate_operation)                                                \
    X(spawn)                                                                   \
    X(destroy)                                                                 \
    X(cleanup)                                                                 \
    X(rebuild)                                                                 \
    X(get_info)                                                                \
    X(instance_exists)                                                         \
    X(instance_on_disk)                                                        \
    X(delete_instance_files)                                                   \
    X(reboot)                                                                  \
    X(power_off)                                                               \
    X(power_on)                                                                \
    X(pause)                                                                   \
    X(unpause)                                                                 \
    X(suspend)                                                                 \
    X(resume)                                                                  \
    X(resume_state_on_host_boot)                                               \
    X(soft_delete)                                                             \
    X(restore)                                                                 \
    X(rescue)                                                                  \
    X(unrescue)                                                                \
    X(set_bootable)                                                            \
    X(trigger_crash_dump)                                                      \
    X(estimate_instance_overhead)                                              \
    X(get_console_output)                                                      \
    X(get_vnc_console)                                                         \
    X(get_spice_console)                                                       \
    X(get_serial_console)                                                      \
    X(get_rdp_console)                                                         \
    X(get_mks_console)                                                         \
    X(get_diagnostics)                                                         \
    X(get_instance_diagnostics)                                                \
    X(get_instance_disk_info)                                                  \
    X(block_stats)                                                             \
    X(change_instance_metadata)                                                \
    X(set_admin_password)                                                      \
    X(inject_file)                                                             \
    X(quiesce)                                                                 \
    X(unquiesce)                                                               \
    X(snapshot)                                                                \
    X(post_interrupted_snapshot_cleanup)                                       \
    X(attach_interface)                                                        \
    X(detach_interface)                                                        \
    X(plug_vifs)                                                               \
    X(unplug_vifs)                                                             \
    X(inject_network_info)                                                     \
    X(reset_network)                                                           \
    X(dhcp_options_for_instance)                                               \
    X(macs_for_instance)                                                       \
    X(network_binding_host_id)                                                 \
    X(deallocate_networks_on_reschedule)                                       \
    X(ensure_filtering_rules_for_instance)                                     \
    X(unfilter_instance)                                                       \
    X(refresh_instance_security_rules)                                         \
    X(default_root_device_name)                                                \
    X(get_device_name_for_instance)                                            \
    X(default_device_names_for_instance)                                       \
    X(attach_volume)                                                           \
    X(detach_volume)                                                           \
    X(swap_volume)                                                             \
    X(volume_snapshot_create)                                                  \
    X(volume_snapshot_delete)                                                  \
    X(get_volume_connector)                                                    \
    X(migrate_disk_and_power_off)                                              \
    X(finish_migration)                                                        \
    X(finish_revert_migration)                                                 \
    X(confirm_migration)                                                       \
    X(check_instance_shared_storage_local)                                     \
    X(check_instance_shared_storage_remote)                                    \
    X(check_instance_shared_storage_cleanup)                                   \
    X(check_can_live_migrate_destination)                                      \
    X(check_can_live_migrate_destination_cleanup)                              \
    X(check_can_live_migrate_source)                                           \
    X(pre_live_migration)                                                      \
    X(live_migration)                                                          \
    X(live_migration_abort)                                                    \
    X(live_migration_force_complete)                                           \
    X(post_live_migration)                                                     \
    X(post_live_migration_at_source)                                           \
    X(post_live_migration_at_destination)                                      \
    X(rollback_live_migration_at_destination)

/* The driver object behind the opaque nxl_driver. */
struct nxl_driver {
    const nxl_driver_ops *ops;
    void *priv; /* backend state, owned by ops->close */
    char *host; /* this compute host's name (config, else gethostname) */
    nxl_host_layout layout;
    /* Console settings (nxl_driver_config), validated at open. */
    struct {
        char *serial_listen;
        unsigned serial_port_min, serial_port_max;
        uint64_t log_cap;
        unsigned log_interval_s;
    } console;

    /* The one event listener (register_event_listener). Guarded because
     * events are emitted from the driver's event thread while the
     * compute manager may (un)register from another. */
    pthread_mutex_t listener_lock;
    nxl_event_fn *listener;
    void *listener_opaque;
    unsigned listener_kinds; /* NXL_EVENT_KIND_*; 0 means lifecycle only */

    /* Seam for the lifecycle work: a per-instance lock map goes here, and
     * each dispatcher that calls check_instance() takes inst->uuid's lock
     * around the backend call, so two operations on one instance never
     * interleave in a backend. */
};

/* The backends nxl_driver_open() knows. */
NXL_HIDDEN extern const nxl_driver_ops nxl_xl_driver_ops;

/* Opens a driver on an explicit table; nxl_driver_open() looks the table
 * up by name and calls this. Tests use it with tables of their own. */
NXL_HIDDEN int nxl__driver_open_ops(const nxl_driver_ops *ops,
                                    const nxl_driver_config *cfg,
                                    nxl_driver **drv_r, nxl_error *err);

/* The whole body of a member that its hypervisor can never support:
 *
 *     static int nxl_xl_swap_volume(...)
 *     {
 *         return NXL_UNSUPPORTED(err, "swap_volume", "libxl has no ...");
 *     }
 *
 * The message is "<method>: <reason>". Writing such members only this way
 * is what lets scripts/check-driverimpls tell "unsupported" from
 * "implemented" without running anything: a body that is exactly one
 * `return NXL_UNSUPPORTED(...)` (or NXL_UNSUPPORTED_AS) for its own
 * method is unsupported; any other body is implemented. A member that
 * refuses only some inputs (host_power_action "startup") calls
 * nxl_error_set(err, NXL_E_UNSUPPORTED, ...) itself and counts as
 * implemented. NXL_UNSUPPORTED_AS takes the code for the few methods whose
 * nova contract names a more specific exception (quiesce and unquiesce:
 * NXL_E_QUIESCE_UNSUPP, InstanceQuiesceNotSupported). */
#define NXL_UNSUPPORTED(err, method, reason)                                   \
    nxl__unsupported((err), NXL_E_UNSUPPORTED, (method), (reason))
#define NXL_UNSUPPORTED_AS(err, code, method, reason)                          \
    nxl__unsupported((err), (code), (method), (reason))

/* Records "<method>: <reason>" under code (NXL_E_UNSUPPORTED or
 * NXL_E_QUIESCE_UNSUPP; anything else is a programming error) and returns
 * code. */
NXL_HIDDEN int nxl__unsupported(nxl_error *err, int code, const char *method,
                                const char *reason);

/* nova's ComputeDriver base-class behaviour for register_event_listener
 * and emit_event, for backends to put in their tables (nova's drivers
 * inherit it; ours opt in). */
NXL_HIDDEN int nxl__driver_register_event_listener(nxl_driver *drv,
                                                   nxl_event_fn *cb,
                                                   void *opaque,
                                                   nxl_error *err);
NXL_HIDDEN int nxl__driver_emit_event(nxl_driver *drv, const nxl_event *ev,
                                      nxl_error *err);

#endif /* NOVAXL_COMMON_DRIVER_H */

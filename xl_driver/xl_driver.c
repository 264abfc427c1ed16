/* The libxl backend's ops table, nxl_xl_driver_ops, and the members that
 * need no hypervisor.
 *
 * Three kinds of member (docs/contract.md lists which is which):
 *   - implemented here: answers that follow from Xen's design or from
 *     the driver's config, such as device naming;
 *   - unsupported: Xen (or libxl 4.17) cannot do it at all; the member
 *     exists and its whole body is `return NXL_UNSUPPORTED(...)` (or
 *     NXL_UNSUPPORTED_AS, see common/driver.h) with the reason, so callers
 *     can tell "never" from "not yet" and the script can tell it from
 *     "implemented" by reading the code;
 *   - NULL: Xen can do it and a later change implements it.
 *
 * Every member is named nxl_xl_<member> and may live in any
 * file under xl_driver/; scripts/check-driverimpls enforces both. The ones
 * here are static: only the table leaves this file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/driver.h"
#include "common/internal.h"
#include "xl_driver/xl_agent.h"
#include "xl_driver/xl_console.h"
#include "xl_driver/xl_diag.h"
#include "xl_driver/xl_host.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_metadata.h"
#include "xl_driver/xl_port.h"

/* The backend's state behind drv->priv (nxl_xl_state) and the lifecycle
 * members live in xl_lifecycle.[ch]. */
static int nxl_xl_open(nxl_driver *drv, nxl_error *err)
{
    nxl_xl_state *st = NULL;
    int rc = nxl__xl_state_new(&st, err);

    if (rc)
        return rc;
    drv->priv = st;
    return 0;
}

static void nxl_xl_close(nxl_driver *drv)
{
    nxl__xl_state_free(drv->priv);
    drv->priv = NULL;
}

/* Each flag is false until the change that implements what it vouches
 * for (test_driver checks the pairs against this table). */
static const nxl_capabilities nxl_xl_capabilities = {
    .supports_recreate = false,             /* rebuild: not yet */
    .has_imagecache = false,                /* manage_image_cache: not yet */
    .supports_migrate_to_same_host = false, /* resize: not yet */
    .supports_attach_interface = false,     /* attach_interface: not yet */
    .supports_device_tagging = false,       /* spawn: not yet */
    .supports_tagged_attach_interface = false,
    .supports_tagged_attach_volume = false,
    .supports_multiattach = false, /* attach_volume: not yet */
    .supports_trusted_certs = false,
    .supports_image_type_raw = false, /* spawn: not yet */
    .supports_image_type_qcow2 = false,
    .supports_image_type_vhd = false,
    .supports_image_type_aki = false,
    .supports_image_type_ari = false,
    .supports_image_type_ami = false,
    .supports_image_type_iso = false,
};

/* ---- driver properties -------------------------------------------------- */

static int nxl_xl_need_legacy_block_device_info(nxl_driver *drv, bool *legacy_r,
                                                nxl_error *err)
{
    /* novaxl only ever parses the new block_device_info format. */
    *legacy_r = false;
    return 0;
}

static int nxl_xl_is_xenapi(nxl_driver *drv, bool *is_xenapi_r, nxl_error *err)
{
    /* We drive libxl in dom0; nova's XenAPI-only paths (pool joins over
     * XAPI, xenapi agent calls) must stay off. */
    *is_xenapi_r = false;
    return 0;
}

static int nxl_xl_is_supported_fs_format(nxl_driver *drv, const char *fs_type,
                                         bool *supported_r, nxl_error *err)
{
    /* The filesystems the disk code can make on an ephemeral disk with
     * dom0's mkfs tools (e2fsprogs, xfsprogs, dosfstools). Nova's values
     * are lower case. "swap" is not here: nova turns a swap guest_format
     * into a swap device, which never reaches this check; ntfs is not
     * here because Debian's dom0 has no mkntfs by default. */
    static const char *const formats[] = {"ext2", "ext3", "ext4", "xfs",
                                          "vfat"};
    size_t i;

    for (i = 0; i < NXL_ARRAY_SIZE(formats); i++) {
        if (strcmp(fs_type, formats[i]) == 0) {
            *supported_r = true;
            return 0;
        }
    }
    *supported_r = false;
    return 0;
}

/* ---- events: nova's base-class behaviour -------------------------------- */

static int nxl_xl_register_event_listener(nxl_driver *drv, nxl_event_fn *cb,
                                          void *opaque, nxl_error *err)
{
    return nxl__driver_register_event_listener(drv, cb, opaque, err);
}

static int nxl_xl_emit_event(nxl_driver *drv, const nxl_event *ev,
                             nxl_error *err)
{
    return nxl__driver_emit_event(drv, ev, err);
}

/* ---- networking answers that follow from Xen's design -------------------- */

static int nxl_xl_dhcp_options_for_instance(nxl_driver *drv,
                                            const nxl_instance *inst,
                                            nxl_kvlist *opts_r, nxl_error *err)
{
    /* Xen guests boot from their disks (or a kernel in dom0), never over
     * PXE, so Neutron's DHCP needs no extra options: nova's None. */
    nxl_kvlist_init(opts_r);
    return 0;
}

static int nxl_xl_macs_for_instance(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_strv *macs_r, nxl_error *err)
{
    /* A Xen VIF takes whatever unicast MAC its config names: no
     * constraint, nova's None. */
    nxl_strv_init(macs_r);
    return 0;
}

static int nxl_xl_network_binding_host_id(nxl_driver *drv,
                                          const nxl_instance *inst,
                                          char **host_id_r, nxl_error *err)
{
    /* Ports must bind to the host the Neutron agent on this dom0 reports,
     * which is this compute host's name, whatever inst->host says while a
     * migration is under way. */
    char *id = strdup(drv->host);

    if (!id)
        return nxl_error_set(err, NXL_E_NOMEM,
                             "network_binding_host_id: out of memory");
    *host_id_r = id;
    return 0;
}

static int nxl_xl_deallocate_networks_on_reschedule(nxl_driver *drv,
                                                    const nxl_instance *inst,
                                                    bool *deallocate_r,
                                                    nxl_error *err)
{
    /* Nothing Xen-specific is tied to a port: it stays usable on the host
     * the build is rescheduled to. */
    *deallocate_r = false;
    return 0;
}

/* ---- device names ---------------------------------------------------------
 */

/* Guest disk slots: xvda..xvdz are 0..25, xvdaa..xvdzz 26..701. Linux's
 * xen-blkfront and libxl both go further, but 702 disks is far beyond
 * what one domain config holds (lists are capped at NXL_MAX_LIST_ITEMS). */
#define XL_DISK_SLOTS (26 + 26 * 26)

/* The slot of a disk device name ("/dev/xvdb", "sdb", "hdb1", "vdb"), or
 * -1 when name is not one. xvd, sd, hd and vd with the same letters give
 * the same slot: libxl gives an HVM guest its disk N both as the emulated
 * hdX/sdX and as the PV xvdX, so they cannot name two different disks.
 * Trailing digits (a partition) are allowed only when allow_partition. */
static int disk_slot(const char *name, bool allow_partition)
{
    static const char *const prefixes[] = {"xvd", "sd", "hd", "vd"};
    const char *p = name;
    const char *letters = NULL;
    size_t i, nl = 0;

    if (strncmp(p, "/dev/", 5) == 0)
        p += 5;
    for (i = 0; i < NXL_ARRAY_SIZE(prefixes); i++) {
        size_t len = strlen(prefixes[i]);

        if (strncmp(p, prefixes[i], len) == 0) {
            letters = p + len;
            break;
        }
    }
    if (!letters)
        return -1;
    while (letters[nl] >= 'a' && letters[nl] <= 'z')
        nl++;
    if (nl < 1 || nl > 2)
        return -1;
    for (p = letters + nl; *p; p++)
        if (!allow_partition || *p < '0' || *p > '9')
            return -1;
    if (nl == 1)
        return letters[0] - 'a';
    return 26 + (letters[0] - 'a') * 26 + (letters[1] - 'a');
}

/* "/dev/xvd" plus the slot's letters. */
static int slot_name(int slot, char **name_r, nxl_error *err)
{
    char buf[16];

    if (slot < 26)
        snprintf(buf, sizeof(buf), "/dev/xvd%c", 'a' + slot);
    else
        snprintf(buf, sizeof(buf), "/dev/xvd%c%c", 'a' + (slot - 26) / 26,
                 'a' + (slot - 26) % 26);
    return nxl__strdup(name_r, buf, err);
}

static void mark(bool *taken, const char *name)
{
    int slot = name ? disk_slot(name, true) : -1;

    /* Names we cannot parse cannot collide with a name we hand out. */
    if (slot >= 0)
        taken[slot] = true;
}

/* Marks the root device and every named device of bdi (may be NULL). No
 * known root name still takes xvda: the root disk exists, and
 * default_root_device_name gives it that name. */
static void mark_taken(bool *taken, const char *root,
                       const nxl_block_device_info *bdi)
{
    size_t i;

    if (root)
        mark(taken, root);
    else
        taken[0] = true;
    if (!bdi)
        return;
    for (i = 0; i < bdi->n_ephemerals; i++)
        mark(taken, bdi->ephemerals[i].device_name);
    if (bdi->has_swap)
        mark(taken, bdi->swap.device_name);
    for (i = 0; i < bdi->n_mappings; i++)
        mark(taken, bdi->mappings[i].mount_device);
}

static int first_free(const bool *taken, const char *method, nxl_error *err)
{
    int slot;

    for (slot = 0; slot < XL_DISK_SLOTS; slot++)
        if (!taken[slot])
            return slot;
    return nxl_error_set(err, NXL_E_FAILED,
                         "%s: every device name from xvda to xvdzz is taken",
                         method);
}

static int nxl_xl_default_root_device_name(nxl_driver *drv,
                                           const nxl_instance *inst,
                                           const nxl_image_meta *image_meta,
                                           const nxl_bdm *root_bdm,
                                           char **name_r, nxl_error *err)
{
    /* libxl calls the first disk xvda for PV and HVM guests alike, and
     * for a CD-ROM root too; an HVM guest may see it as hda until its PV
     * drivers load, which is the same slot. */
    return nxl__strdup(name_r, "/dev/xvda", err);
}

static int
nxl_xl_get_device_name_for_instance(nxl_driver *drv, const nxl_instance *inst,
                                    const nxl_block_device_info *bdms,
                                    const char *requested, char **name_r,
                                    nxl_error *err)
{
    bool taken[XL_DISK_SLOTS] = {false};
    const char *root = bdms && bdms->root_device_name ? bdms->root_device_name
                                                      : inst->root_device_name;
    int slot;

    mark_taken(taken, root, bdms);
    if (requested) {
        slot = disk_slot(requested, false);
        if (slot < 0)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "get_device_name_for_instance: '%s' is not "
                                 "a disk device name (xvdX, sdX, hdX or vdX, "
                                 "X one or two letters)",
                                 requested);
        if (taken[slot])
            return nxl_error_set(err, NXL_E_INVAL,
                                 "get_device_name_for_instance: '%s' is "
                                 "already in use by instance %s",
                                 requested, inst->uuid);
    } else {
        slot = first_free(taken, "get_device_name_for_instance", err);
        if (slot < 0)
            return slot;
    }
    return slot_name(slot, name_r, err);
}

static int nxl_xl_default_device_names_for_instance(
    nxl_driver *drv, const nxl_instance *inst, const char *root_device_name,
    nxl_block_device_info *bdi, nxl_error *err)
{
    bool taken[XL_DISK_SLOTS] = {false};
    /* One slot per device of bdi: the names chosen, applied at the end so
     * that bdi changes only on success. */
    size_t total =
        bdi->n_ephemerals + (bdi->has_swap ? 1 : 0) + bdi->n_mappings;
    char **names = NULL;
    size_t i, k = 0;
    int slot, rc;

    if (disk_slot(root_device_name, true) < 0) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "default_device_names_for_instance: root device "
                           "name '%s' is not a disk device name",
                           root_device_name);
        goto out;
    }
    mark_taken(taken, root_device_name, bdi);
    if (total > 0 && !(names = calloc(total, sizeof(*names)))) {
        rc = nxl_error_set(err, NXL_E_NOMEM,
                           "default_device_names_for_instance: out of memory");
        goto out;
    }

    /* nova's order: ephemerals, then swap, then volumes. */
    for (k = 0; k < total; k++) {
        const char *cur;

        if (k < bdi->n_ephemerals)
            cur = bdi->ephemerals[k].device_name;
        else if (bdi->has_swap && k == bdi->n_ephemerals)
            cur = bdi->swap.device_name;
        else
            cur = bdi->mappings[k - bdi->n_ephemerals - (bdi->has_swap ? 1 : 0)]
                      .mount_device;
        if (cur && cur[0])
            continue;
        slot = first_free(taken, "default_device_names_for_instance", err);
        if (slot < 0) {
            rc = slot;
            goto out;
        }
        taken[slot] = true;
        if ((rc = slot_name(slot, &names[k], err)) < 0)
            goto out;
    }

    for (k = 0; k < total; k++) {
        char **dst;

        if (!names[k])
            continue;
        if (k < bdi->n_ephemerals)
            dst = &bdi->ephemerals[k].device_name;
        else if (bdi->has_swap && k == bdi->n_ephemerals)
            dst = &bdi->swap.device_name;
        else
            dst =
                &bdi->mappings[k - bdi->n_ephemerals - (bdi->has_swap ? 1 : 0)]
                     .mount_device;
        free(*dst); /* an empty string counted as missing */
        *dst = NXL_STEAL(names[k]);
    }
    rc = 0;
out:
    for (i = 0; names && i < total; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- what Xen cannot do
 * ------------------------------------------------------ */

static int nxl_xl_get_rdp_console(nxl_driver *drv, const nxl_instance *inst,
                                  nxl_console *console_r, nxl_error *err)
{
    return NXL_UNSUPPORTED(err, "get_rdp_console",
                           "Xen has no RDP console (RDP is "
                           "Hyper-V's); use VNC or SPICE");
}

static int nxl_xl_get_mks_console(nxl_driver *drv, const nxl_instance *inst,
                                  nxl_console *console_r, nxl_error *err)
{
    return NXL_UNSUPPORTED(err, "get_mks_console",
                           "MKS is VMware's console protocol; "
                           "Xen has none; use VNC or SPICE");
}

static int nxl_xl_quiesce(nxl_driver *drv, const nxl_instance *inst,
                          const nxl_image_meta *image_meta, nxl_error *err)
{
    return NXL_UNSUPPORTED_AS(err, NXL_E_QUIESCE_UNSUPP, "quiesce",
                              "Xen cannot freeze a guest's filesystems "
                              "from outside, and the guest agent protocol "
                              "(docs/guest-agent.md) has no freeze request: "
                              "snapshots are taken unquiesced, as nova does "
                              "for images without an agent");
}

static int nxl_xl_unquiesce(nxl_driver *drv, const nxl_instance *inst,
                            const nxl_image_meta *image_meta, nxl_error *err)
{
    return NXL_UNSUPPORTED_AS(err, NXL_E_QUIESCE_UNSUPP, "unquiesce",
                              "nothing was frozen: see quiesce");
}

static int nxl_xl_swap_volume(nxl_driver *drv, const nxl_instance *inst,
                              const nxl_connection_info *old_connection_info,
                              const nxl_connection_info *new_connection_info,
                              const char *mountpoint, uint64_t resize_to,
                              nxl_error *err)
{
    return NXL_UNSUPPORTED(err, "swap_volume",
                           "libxl has no live block copy (mirror) "
                           "to move a running guest's disk to another volume; "
                           "a detach and attach would drop writes in flight");
}

static int nxl_xl_volume_snapshot_create(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         const char *volume_id,
                                         const char *create_info_json,
                                         nxl_error *err)
{
    return NXL_UNSUPPORTED(err, "volume_snapshot_create",
                           "libxl cannot take a live "
                           "external snapshot of a guest disk, which "
                           "Cinder-assisted snapshots of file-backed volumes "
                           "need");
}

static int
nxl_xl_volume_snapshot_delete(nxl_driver *drv, const nxl_instance *inst,
                              const char *volume_id, const char *snapshot_id,
                              const char *delete_info_json, nxl_error *err)
{
    return NXL_UNSUPPORTED(err, "volume_snapshot_delete",
                           "libxl has no live block "
                           "commit or rebase to merge a snapshot of a running "
                           "guest's disk");
}

/* ---- the table -------------------------------------------------------------
 */

/* Members left out are NULL: Xen can do them, and later changes implement
 * them here (docs/contract.md: "not implemented yet"). */
const nxl_driver_ops nxl_xl_driver_ops = {
    .name = "libxl",
    .open = nxl_xl_open,
    .close = nxl_xl_close,
    .capabilities = &nxl_xl_capabilities,

    .need_legacy_block_device_info = nxl_xl_need_legacy_block_device_info,
    .is_xenapi = nxl_xl_is_xenapi,
    .is_supported_fs_format = nxl_xl_is_supported_fs_format,
    .register_event_listener = nxl_xl_register_event_listener,
    .emit_event = nxl_xl_emit_event,

    /* Lifecycle and inventory: xl_lifecycle.c. */
    .init_host = nxl_xl_init_host,
    .cleanup_host = nxl_xl_cleanup_host,
    .list_instances = nxl_xl_list_instances,
    .list_instance_uuids = nxl_xl_list_instance_uuids,
    .get_num_instances = nxl_xl_get_num_instances,
    .spawn = nxl_xl_spawn,
    .destroy = nxl_xl_destroy,
    .get_info = nxl_xl_get_info,
    .instance_exists = nxl_xl_instance_exists,
    .instance_on_disk = nxl_xl_instance_on_disk,
    .delete_instance_files = nxl_xl_delete_instance_files,
    .reboot = nxl_xl_reboot,
    .power_off = nxl_xl_power_off,
    .power_on = nxl_xl_power_on,
    .pause = nxl_xl_pause,
    .unpause = nxl_xl_unpause,
    .suspend = nxl_xl_suspend,
    .resume = nxl_xl_resume,
    .soft_delete = nxl_xl_soft_delete,
    .restore = nxl_xl_restore,
    .trigger_crash_dump = nxl_xl_trigger_crash_dump,
    .cleanup = nxl_xl_cleanup,
    .rebuild = nxl_xl_rebuild,
    .rescue = nxl_xl_rescue,
    .unrescue = nxl_xl_unrescue,
    .set_bootable = nxl_xl_set_bootable,
    .resume_state_on_host_boot = nxl_xl_resume_state_on_host_boot,
    .poll_rebooting_instances = nxl_xl_poll_rebooting_instances,
    /* Diagnostics and usage counters: xl_diag.c. */
    .get_diagnostics = nxl_xl_get_diagnostics,
    .get_instance_diagnostics = nxl_xl_get_instance_diagnostics,
    .get_instance_disk_info = nxl_xl_get_instance_disk_info,
    .block_stats = nxl_xl_block_stats,
    .get_all_bw_counters = nxl_xl_get_all_bw_counters,
    .get_all_volume_usage = nxl_xl_get_all_volume_usage,
    .get_per_instance_usage = nxl_xl_get_per_instance_usage,

    .dhcp_options_for_instance = nxl_xl_dhcp_options_for_instance,
    .macs_for_instance = nxl_xl_macs_for_instance,
    .network_binding_host_id = nxl_xl_network_binding_host_id,
    .deallocate_networks_on_reschedule =
        nxl_xl_deallocate_networks_on_reschedule,

    .default_root_device_name = nxl_xl_default_root_device_name,
    .get_device_name_for_instance = nxl_xl_get_device_name_for_instance,
    .default_device_names_for_instance =
        nxl_xl_default_device_names_for_instance,

    .get_available_nodes = nxl_xl_get_available_nodes,
    .node_is_available = nxl_xl_node_is_available,
    .get_available_resource = nxl_xl_get_available_resource,
    .get_host_cpu_stats = nxl_xl_get_host_cpu_stats,
    .get_host_ip_addr = nxl_xl_get_host_ip_addr,
    .get_host_uptime = nxl_xl_get_host_uptime,
    .set_host_enabled = nxl_xl_set_host_enabled,
    .host_maintenance_mode = nxl_xl_host_maintenance_mode,
    .host_power_action = nxl_xl_host_power_action,
    .get_volume_connector = nxl_xl_get_volume_connector,

    .add_to_aggregate = nxl_xl_add_to_aggregate,
    .remove_from_aggregate = nxl_xl_remove_from_aggregate,
    .undo_aggregate_operation = nxl_xl_undo_aggregate_operation,
    .aggregate_record = nxl_xl_aggregate_record,
    .instance_request = nxl_xl_instance_request,
    .console_warning = nxl_xl_console_warning,

    .get_console_output = nxl_xl_get_console_output,
    .get_vnc_console = nxl_xl_get_vnc_console,
    .get_rdp_console = nxl_xl_get_rdp_console,
    .get_mks_console = nxl_xl_get_mks_console,
    .quiesce = nxl_xl_quiesce,
    .unquiesce = nxl_xl_unquiesce,
    /* Through the guest agent protocol: xl_agent.c. */
    .set_admin_password = nxl_xl_set_admin_password,
    .inject_file = nxl_xl_inject_file,
    .inject_network_info = nxl_xl_inject_network_info,
    .reset_network = nxl_xl_reset_network,
    .estimate_instance_overhead = nxl_xl_estimate_instance_overhead,
    .change_instance_metadata = nxl_xl_change_instance_metadata,
    .get_spice_console = nxl_xl_get_spice_console,
    .get_serial_console = nxl_xl_get_serial_console,
    .get_console_pool_info = nxl_xl_get_console_pool_info,
    .swap_volume = nxl_xl_swap_volume,
    .volume_snapshot_create = nxl_xl_volume_snapshot_create,
    .volume_snapshot_delete = nxl_xl_volume_snapshot_delete,
};

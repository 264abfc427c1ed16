/* test_driver: the contract in C (common/driver.c, common/bdi.c and the
 * libxl ops table), with no hypervisor.
 *
 * One call wrapper per method (methods[] below) drives sweeps over the
 * whole contract: a method whose libxl member is NULL answers
 * NXL_E_NOT_IMPLEMENTED naming itself; one docs/contract.md calls
 * unsupported answers NXL_E_UNSUPPORTED (or the code nova names for it)
 * with a reason; a NULL driver, a NULL required argument, a bad instance
 * UUID or a bad host name is NXL_E_INVAL naming the method and the
 * argument. None of these writes an output. Then the members the libxl
 * driver implements today and nova.virt.driver's module helpers get
 * real assertions, and the error table is checked against the
 * documentation in nxl-error.h.
 *
 * The sweeps never call a member that is implemented: once the
 * lifecycle work fills spawn or host_power_action in, calling it with
 * made-up arguments could act on the host. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "common/driver.h"
#include "novaxl/nxl.h"
#include "tests/testutil.h"

#define UUID1 "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
#define HOST "host-a"

static const char *srcdir(void)
{
    const char *d = getenv("NXL_TEST_SRCDIR");
    return d && *d ? d : ".";
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);

    if (!d)
        abort();
    return d;
}

static bool starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- arguments and outputs shared by every call ------------------------ */

typedef struct fx {
    const char *host; /* every host, dest and nodename argument */
    nxl_instance inst;
    nxl_spawn_req req;
    nxl_image_meta im;
    nxl_network_info ni;
    nxl_block_device_info bdi; /* one ephemeral without a device name */
    nxl_aggregate agg;
    nxl_migration mig;
    nxl_flavor flavor;
    nxl_vif vif;
    nxl_connection_info ci;
    nxl_event ev;
    nxl_bdm bdm;
    nxl_instance_bdms ibdms;
} fx;

static void fx_init(fx *f)
{
    memset(f, 0, sizeof(*f));
    f->host = "host-b";
    nxl_instance_init(&f->inst);
    memcpy(f->inst.uuid, UUID1, sizeof(UUID1));
    f->inst.name = xstrdup("instance-1");
    f->inst.root_device_name = xstrdup("/dev/xvda");
    nxl_spawn_req_init(&f->req);
    memcpy(f->req.instance.uuid, UUID1, sizeof(UUID1));
    f->req.instance.name = xstrdup("instance-1");
    nxl_image_meta_init(&f->im);
    nxl_network_info_init(&f->ni);
    nxl_block_device_info_init(&f->bdi);
    f->bdi.root_device_name = xstrdup("/dev/xvda");
    f->bdi.ephemerals = calloc(1, sizeof(*f->bdi.ephemerals));
    if (!f->bdi.ephemerals)
        abort();
    nxl_ephemeral_bdm_init(&f->bdi.ephemerals[0]);
    f->bdi.n_ephemerals = 1;
    nxl_aggregate_init(&f->agg);
    f->agg.name = xstrdup("pool-1");
    nxl_migration_init(&f->mig);
    nxl_flavor_init(&f->flavor);
    nxl_vif_init(&f->vif);
    nxl_connection_info_init(&f->ci);
    memcpy(f->ev.uuid, UUID1, sizeof(UUID1));
    f->ev.transition = NXL_EVENT_STARTED;
    nxl_bdm_init(&f->bdm);
    f->ibdms.instance = &f->inst;
    f->ibdms.bdi = &f->bdi;
}

static void fx_dispose(fx *f)
{
    nxl_instance_dispose(&f->inst);
    nxl_spawn_req_dispose(&f->req);
    nxl_image_meta_dispose(&f->im);
    nxl_network_info_dispose(&f->ni);
    nxl_block_device_info_dispose(&f->bdi);
    nxl_aggregate_dispose(&f->agg);
    nxl_migration_dispose(&f->mig);
    nxl_flavor_dispose(&f->flavor);
    nxl_vif_dispose(&f->vif);
    nxl_connection_info_dispose(&f->ci);
    nxl_bdm_dispose(&f->bdm);
}

/* Every output type of the contract. outs_reset() fills the plain ones
 * with a byte pattern and leaves the owning ones fresh from _init, as
 * callers must pass them; a failed call must leave all of it alone. */
typedef struct outs {
    const nxl_capabilities *caps;
    bool b;
    size_t n;
    char *s;
    const char *cs;
    nxl_strv strv;
    nxl_host_resources res;
    nxl_host_cpu_stats cpu;
    nxl_console con;
    nxl_console_pool pool;
    nxl_bw_counter_list bw;
    nxl_volume_usage_list vu;
    nxl_instance_usage_list iu;
    nxl_instance_info info;
    nxl_overhead ov;
    nxl_buf buf;
    nxl_diagnostics diag;
    nxl_disk_info_list disks;
    nxl_block_stats bs;
    nxl_kvlist kv;
    nxl_volume_connector vc;
    nxl_maintenance maint;
} outs;

static void outs_reset(outs *o)
{
    memset(o, 0xa5, sizeof(*o));
    o->s = NULL;
    nxl_strv_init(&o->strv);
    nxl_host_resources_init(&o->res);
    nxl_console_init(&o->con);
    nxl_console_pool_init(&o->pool);
    nxl_bw_counter_list_init(&o->bw);
    nxl_volume_usage_list_init(&o->vu);
    nxl_instance_usage_list_init(&o->iu);
    nxl_buf_init(&o->buf);
    nxl_diagnostics_init(&o->diag);
    nxl_disk_info_list_init(&o->disks);
    nxl_kvlist_init(&o->kv);
    nxl_volume_connector_init(&o->vc);
    nxl_maintenance_init(&o->maint);
}

/* Frees whatever a call that wrongly succeeded left, so that a failing
 * assertion does not also leak. */
static void outs_dispose(outs *o)
{
    free(o->s);
    o->s = NULL;
    nxl_strv_dispose(&o->strv);
    nxl_host_resources_dispose(&o->res);
    nxl_console_dispose(&o->con);
    nxl_console_pool_dispose(&o->pool);
    nxl_bw_counter_list_dispose(&o->bw);
    nxl_volume_usage_list_dispose(&o->vu);
    nxl_instance_usage_list_dispose(&o->iu);
    nxl_buf_dispose(&o->buf);
    nxl_diagnostics_dispose(&o->diag);
    nxl_disk_info_list_dispose(&o->disks);
    nxl_kvlist_dispose(&o->kv);
    nxl_volume_connector_dispose(&o->vc);
    nxl_maintenance_dispose(&o->maint);
}

/* ---- callbacks handed to the calls --------------------------------------- */

static int events_seen;
static nxl_event last_event;

static void ev_cb(void *opaque, const nxl_event *ev)
{
    events_seen++;
    last_event = *ev;
    if (opaque)
        (*(int *)opaque)++;
}

static int bd_cb(void *opaque, bool attach, const nxl_instance *inst,
                 const nxl_block_device_info *bdms, nxl_error *err)
{
    return nxl_error_set(err, NXL_E_FAILED, "test: no block devices to move");
}

static void bv_cb(void *opaque, const nxl_strv *bad_devices)
{
    CU_FAIL("a sweep call reported bad volumes");
}

static void lm_cb(void *opaque, const nxl_instance *inst, const char *dest,
                  bool block_migration, const char *migrate_data_json)
{
    CU_FAIL("a sweep call finished a live migration");
}

static int ts_cb(void *opaque, const char *task_state,
                 const char *expected_state, nxl_error *err)
{
    return nxl_error_set(err, NXL_E_FAILED, "test: no snapshot expected");
}

/* ---- one wrapper per method ---------------------------------------------- */

/* null_k > 0 passes NULL for the method's null_k-th required argument,
 * in the order of method_case.required. */
#define CALL_ARGS nxl_driver *drv, fx *f, outs *o, int null_k, nxl_error *err
#define A(k, v) (null_k == (k) ? NULL : (v))

typedef int call_fn(CALL_ARGS);

typedef struct method_case {
    const char *name;
    call_fn *call;
    bool uuid;  /* validates an instance (or event) UUID */
    bool names; /* validates a host, dest, nodename or aggregate name */
    const char *required[5]; /* as the dispatcher names them */
} method_case;

static int c_capabilities(CALL_ARGS)
{
    return nxl_driver_capabilities(drv, A(1, &o->caps), err);
}

static int c_need_legacy_block_device_info(CALL_ARGS)
{
    return nxl_driver_need_legacy_block_device_info(drv, A(1, &o->b), err);
}

static int c_is_xenapi(CALL_ARGS)
{
    return nxl_driver_is_xenapi(drv, A(1, &o->b), err);
}

static int c_is_supported_fs_format(CALL_ARGS)
{
    return nxl_driver_is_supported_fs_format(drv, A(1, "ext4"), A(2, &o->b),
                                             err);
}

static int c_register_event_listener(CALL_ARGS)
{
    return nxl_driver_register_event_listener(drv, ev_cb, NULL, err);
}

static int c_emit_event(CALL_ARGS)
{
    return nxl_driver_emit_event(drv, A(1, &f->ev), err);
}

static int c_init_host(CALL_ARGS)
{
    return nxl_host_init(drv, A(1, f->host), err);
}

static int c_cleanup_host(CALL_ARGS)
{
    return nxl_host_cleanup(drv, A(1, f->host), err);
}

static int c_list_instances(CALL_ARGS)
{
    return nxl_host_list_instances(drv, A(1, &o->strv), err);
}

static int c_list_instance_uuids(CALL_ARGS)
{
    return nxl_host_list_instance_uuids(drv, A(1, &o->strv), err);
}

static int c_get_num_instances(CALL_ARGS)
{
    return nxl_host_get_num_instances(drv, A(1, &o->n), err);
}

static int c_get_available_nodes(CALL_ARGS)
{
    return nxl_host_get_available_nodes(drv, false, A(1, &o->strv), err);
}

static int c_node_is_available(CALL_ARGS)
{
    return nxl_host_node_is_available(drv, f->host, A(1, &o->b), err);
}

static int c_get_available_resource(CALL_ARGS)
{
    return nxl_host_get_available_resource(drv, f->host, A(1, &o->res), err);
}

static int c_get_host_cpu_stats(CALL_ARGS)
{
    return nxl_host_get_cpu_stats(drv, A(1, &o->cpu), err);
}

static int c_get_host_ip_addr(CALL_ARGS)
{
    return nxl_host_get_ip_addr(drv, A(1, &o->s), err);
}

static int c_get_host_uptime(CALL_ARGS)
{
    return nxl_host_get_uptime(drv, A(1, &o->s), err);
}

static int c_set_host_enabled(CALL_ARGS)
{
    return nxl_host_set_enabled(drv, false, A(1, &o->cs), err);
}

static int c_host_maintenance_mode(CALL_ARGS)
{
    return nxl_host_maintenance_mode(drv, A(2, f->host), false, A(1, &o->maint),
                                     err);
}

static int c_host_power_action(CALL_ARGS)
{
    return nxl_host_power_action(drv, A(1, "reboot"), A(2, &o->s), err);
}

static int c_get_console_pool_info(CALL_ARGS)
{
    return nxl_host_get_console_pool_info(drv, A(1, "vnc"), A(2, &o->pool),
                                          err);
}

static int c_get_all_bw_counters(CALL_ARGS)
{
    return nxl_host_get_all_bw_counters(drv, A(1, &f->inst), 1, A(2, &o->bw),
                                        err);
}

static int c_get_all_volume_usage(CALL_ARGS)
{
    return nxl_host_get_all_volume_usage(drv, A(1, &f->ibdms), 1, A(2, &o->vu),
                                         err);
}

static int c_get_per_instance_usage(CALL_ARGS)
{
    return nxl_host_get_per_instance_usage(drv, A(1, &o->iu), err);
}

static int c_poll_rebooting_instances(CALL_ARGS)
{
    return nxl_host_poll_rebooting_instances(drv, 0, A(1, &f->inst), 1, err);
}

static int c_manage_image_cache(CALL_ARGS)
{
    return nxl_host_manage_image_cache(drv, A(1, &f->inst), 1, err);
}

static int c_filter_defer_apply_on(CALL_ARGS)
{
    return nxl_host_filter_defer_apply_on(drv, err);
}

static int c_filter_defer_apply_off(CALL_ARGS)
{
    return nxl_host_filter_defer_apply_off(drv, err);
}

static int c_refresh_security_group_rules(CALL_ARGS)
{
    return nxl_host_refresh_security_group_rules(
        drv, A(1, "x-security_group_id"), err);
}

static int c_add_to_aggregate(CALL_ARGS)
{
    return nxl_aggregate_add_host(drv, A(1, &f->agg), A(2, f->host), "{}", err);
}

static int c_remove_from_aggregate(CALL_ARGS)
{
    return nxl_aggregate_remove_host(drv, A(1, &f->agg), A(2, f->host), "{}",
                                     err);
}

static int c_undo_aggregate_operation(CALL_ARGS)
{
    return nxl_aggregate_undo_operation(drv, A(1, "add_to_aggregate"),
                                        A(2, &f->agg), A(3, f->host), false,
                                        err);
}

static int c_spawn(CALL_ARGS)
{
    return nxl_instance_spawn(drv, A(1, &f->req), err);
}

static int c_destroy(CALL_ARGS)
{
    return nxl_instance_destroy(drv, A(1, &f->inst), &f->ni, &f->bdi, false,
                                "{}", err);
}

static int c_cleanup(CALL_ARGS)
{
    return nxl_instance_cleanup(drv, A(1, &f->inst), &f->ni, &f->bdi, false,
                                "{}", false, err);
}

static int c_rebuild(CALL_ARGS)
{
    return nxl_instance_rebuild(drv, A(1, &f->req), bd_cb, NULL, false, false,
                                err);
}

static int c_get_info(CALL_ARGS)
{
    return nxl_instance_get_info(drv, A(2, &f->inst), A(1, &o->info), err);
}

static int c_instance_exists(CALL_ARGS)
{
    return nxl_instance_exists(drv, A(2, &f->inst), A(1, &o->b), err);
}

static int c_instance_on_disk(CALL_ARGS)
{
    return nxl_instance_on_disk(drv, A(2, &f->inst), A(1, &o->b), err);
}

static int c_delete_instance_files(CALL_ARGS)
{
    return nxl_instance_delete_files(drv, A(2, &f->inst), A(1, &o->b), err);
}

static int c_reboot(CALL_ARGS)
{
    return nxl_instance_reboot(drv, A(1, &f->inst), &f->ni, 0, &f->bdi, bv_cb,
                               NULL, err);
}

static int c_power_off(CALL_ARGS)
{
    return nxl_instance_power_off(drv, A(1, &f->inst), 0, 0, err);
}

static int c_power_on(CALL_ARGS)
{
    return nxl_instance_power_on(drv, A(1, &f->inst), &f->ni, &f->bdi, err);
}

static int c_pause(CALL_ARGS)
{
    return nxl_instance_pause(drv, A(1, &f->inst), err);
}

static int c_unpause(CALL_ARGS)
{
    return nxl_instance_unpause(drv, A(1, &f->inst), err);
}

static int c_suspend(CALL_ARGS)
{
    return nxl_instance_suspend(drv, A(1, &f->inst), err);
}

static int c_resume(CALL_ARGS)
{
    return nxl_instance_resume(drv, A(1, &f->inst), &f->ni, &f->bdi, err);
}

static int c_resume_state_on_host_boot(CALL_ARGS)
{
    return nxl_instance_resume_state_on_host_boot(drv, A(1, &f->inst), &f->ni,
                                                  &f->bdi, err);
}

static int c_soft_delete(CALL_ARGS)
{
    return nxl_instance_soft_delete(drv, A(1, &f->inst), err);
}

static int c_restore(CALL_ARGS)
{
    return nxl_instance_restore(drv, A(1, &f->inst), err);
}

static int c_rescue(CALL_ARGS)
{
    return nxl_instance_rescue(drv, A(2, &f->inst), &f->ni, A(1, &f->im),
                               "x-rescue_password", err);
}

static int c_unrescue(CALL_ARGS)
{
    return nxl_instance_unrescue(drv, A(1, &f->inst), &f->ni, err);
}

static int c_set_bootable(CALL_ARGS)
{
    return nxl_instance_set_bootable(drv, A(1, &f->inst), false, err);
}

static int c_trigger_crash_dump(CALL_ARGS)
{
    return nxl_instance_trigger_crash_dump(drv, A(1, &f->inst), err);
}

static int c_estimate_instance_overhead(CALL_ARGS)
{
    return nxl_instance_estimate_overhead(drv, A(2, &f->inst), A(1, &o->ov),
                                          err);
}

static int c_get_console_output(CALL_ARGS)
{
    return nxl_instance_get_console_output(drv, A(2, &f->inst), A(1, &o->buf),
                                           err);
}

static int c_get_vnc_console(CALL_ARGS)
{
    return nxl_instance_get_vnc_console(drv, A(2, &f->inst), A(1, &o->con),
                                        err);
}

static int c_get_spice_console(CALL_ARGS)
{
    return nxl_instance_get_spice_console(drv, A(2, &f->inst), A(1, &o->con),
                                          err);
}

static int c_get_serial_console(CALL_ARGS)
{
    return nxl_instance_get_serial_console(drv, A(2, &f->inst), A(1, &o->con),
                                           err);
}

static int c_get_rdp_console(CALL_ARGS)
{
    return nxl_instance_get_rdp_console(drv, A(2, &f->inst), A(1, &o->con),
                                        err);
}

static int c_get_mks_console(CALL_ARGS)
{
    return nxl_instance_get_mks_console(drv, A(2, &f->inst), A(1, &o->con),
                                        err);
}

static int c_get_diagnostics(CALL_ARGS)
{
    return nxl_instance_get_diagnostics_json(drv, A(2, &f->inst), A(1, &o->s),
                                             err);
}

static int c_get_instance_diagnostics(CALL_ARGS)
{
    return nxl_instance_get_diagnostics(drv, A(2, &f->inst), A(1, &o->diag),
                                        err);
}

static int c_get_instance_disk_info(CALL_ARGS)
{
    return nxl_instance_get_disk_info(drv, A(2, &f->inst), &f->bdi,
                                      A(1, &o->disks), err);
}

static int c_block_stats(CALL_ARGS)
{
    return nxl_instance_block_stats(drv, A(3, &f->inst), A(1, "x-disk_id"),
                                    A(2, &o->bs), err);
}

static int c_change_instance_metadata(CALL_ARGS)
{
    return nxl_instance_change_metadata(drv, A(2, &f->inst), A(1, "{}"), err);
}

static int c_set_admin_password(CALL_ARGS)
{
    return nxl_instance_set_admin_password(drv, A(2, &f->inst),
                                           A(1, "x-new_pass"), err);
}

static int c_inject_file(CALL_ARGS)
{
    return nxl_instance_inject_file(drv, A(1, &f->inst), "x-b64_path",
                                    "x-b64_contents", err);
}

static int c_quiesce(CALL_ARGS)
{
    return nxl_instance_quiesce(drv, A(1, &f->inst), &f->im, err);
}

static int c_unquiesce(CALL_ARGS)
{
    return nxl_instance_unquiesce(drv, A(1, &f->inst), &f->im, err);
}

static int c_snapshot(CALL_ARGS)
{
    return nxl_instance_snapshot(drv, A(2, &f->inst), A(1, "x-image_id"), ts_cb,
                                 NULL, err);
}

static int c_post_interrupted_snapshot_cleanup(CALL_ARGS)
{
    return nxl_instance_post_interrupted_snapshot_cleanup(drv, A(1, &f->inst),
                                                          err);
}

static int c_attach_interface(CALL_ARGS)
{
    return nxl_instance_attach_interface(drv, A(3, &f->inst), A(1, &f->im),
                                         A(2, &f->vif), err);
}

static int c_detach_interface(CALL_ARGS)
{
    return nxl_instance_detach_interface(drv, A(2, &f->inst), A(1, &f->vif),
                                         err);
}

static int c_plug_vifs(CALL_ARGS)
{
    return nxl_instance_plug_vifs(drv, A(2, &f->inst), A(1, &f->ni), err);
}

static int c_unplug_vifs(CALL_ARGS)
{
    return nxl_instance_unplug_vifs(drv, A(2, &f->inst), A(1, &f->ni), err);
}

static int c_inject_network_info(CALL_ARGS)
{
    return nxl_instance_inject_network_info(drv, A(2, &f->inst), A(1, &f->ni),
                                            err);
}

static int c_reset_network(CALL_ARGS)
{
    return nxl_instance_reset_network(drv, A(1, &f->inst), err);
}

static int c_dhcp_options_for_instance(CALL_ARGS)
{
    return nxl_instance_dhcp_options(drv, A(2, &f->inst), A(1, &o->kv), err);
}

static int c_macs_for_instance(CALL_ARGS)
{
    return nxl_instance_macs(drv, A(2, &f->inst), A(1, &o->strv), err);
}

static int c_network_binding_host_id(CALL_ARGS)
{
    return nxl_instance_network_binding_host_id(drv, A(2, &f->inst),
                                                A(1, &o->s), err);
}

static int c_deallocate_networks_on_reschedule(CALL_ARGS)
{
    return nxl_instance_deallocate_networks_on_reschedule(drv, A(2, &f->inst),
                                                          A(1, &o->b), err);
}

static int c_ensure_filtering_rules_for_instance(CALL_ARGS)
{
    return nxl_instance_ensure_filtering_rules(drv, A(2, &f->inst),
                                               A(1, &f->ni), err);
}

static int c_unfilter_instance(CALL_ARGS)
{
    return nxl_instance_unfilter(drv, A(2, &f->inst), A(1, &f->ni), err);
}

static int c_refresh_instance_security_rules(CALL_ARGS)
{
    return nxl_instance_refresh_security_rules(drv, A(1, &f->inst), err);
}

static int c_default_root_device_name(CALL_ARGS)
{
    return nxl_instance_default_root_device_name(drv, A(2, &f->inst), &f->im,
                                                 &f->bdm, A(1, &o->s), err);
}

static int c_get_device_name_for_instance(CALL_ARGS)
{
    return nxl_instance_get_device_name(drv, A(2, &f->inst), &f->bdi,
                                        "/dev/xvdc", A(1, &o->s), err);
}

static int c_default_device_names_for_instance(CALL_ARGS)
{
    return nxl_instance_default_device_names(
        drv, A(3, &f->inst), A(1, "/dev/xvda"), A(2, &f->bdi), err);
}

static int c_attach_volume(CALL_ARGS)
{
    return nxl_instance_attach_volume(drv, A(3, &f->inst), A(1, &f->ci),
                                      A(2, "/dev/xvdb"), "xen", "disk", "{}",
                                      err);
}

static int c_detach_volume(CALL_ARGS)
{
    return nxl_instance_detach_volume(drv, A(3, &f->inst), A(1, &f->ci),
                                      A(2, "/dev/xvdb"), "{}", err);
}

static int c_swap_volume(CALL_ARGS)
{
    return nxl_instance_swap_volume(drv, A(4, &f->inst), A(1, &f->ci),
                                    A(2, &f->ci), A(3, "/dev/xvdb"), 0, err);
}

static int c_volume_snapshot_create(CALL_ARGS)
{
    return nxl_instance_volume_snapshot_create(
        drv, A(3, &f->inst), A(1, "x-volume_id"), A(2, "{}"), err);
}

static int c_volume_snapshot_delete(CALL_ARGS)
{
    return nxl_instance_volume_snapshot_delete(
        drv, A(4, &f->inst), A(1, "x-volume_id"), A(2, "x-snapshot_id"),
        A(3, "{}"), err);
}

static int c_get_volume_connector(CALL_ARGS)
{
    return nxl_instance_get_volume_connector(drv, &f->inst, A(1, &o->vc), err);
}

static int c_migrate_disk_and_power_off(CALL_ARGS)
{
    return nxl_instance_migrate_disk_and_power_off(
        drv, A(3, &f->inst), A(4, f->host), A(1, &f->flavor), &f->ni, &f->bdi,
        0, 0, A(2, &o->s), err);
}

static int c_finish_migration(CALL_ARGS)
{
    return nxl_migration_finish(drv, A(1, &f->mig), A(4, &f->inst), A(2, "{}"),
                                &f->ni, A(3, &f->im), false, &f->bdi, false,
                                err);
}

static int c_finish_revert_migration(CALL_ARGS)
{
    return nxl_migration_finish_revert(drv, A(1, &f->inst), &f->ni, &f->bdi,
                                       false, err);
}

static int c_confirm_migration(CALL_ARGS)
{
    return nxl_migration_confirm(drv, A(1, &f->mig), A(2, &f->inst), &f->ni,
                                 err);
}

static int c_check_instance_shared_storage_local(CALL_ARGS)
{
    return nxl_shared_storage_check_local(drv, A(2, &f->inst), A(1, &o->s),
                                          err);
}

static int c_check_instance_shared_storage_remote(CALL_ARGS)
{
    return nxl_shared_storage_check_remote(drv, A(1, "{}"), A(2, &o->b), err);
}

static int c_check_instance_shared_storage_cleanup(CALL_ARGS)
{
    return nxl_shared_storage_check_cleanup(drv, A(1, "{}"), err);
}

static int c_check_can_live_migrate_destination(CALL_ARGS)
{
    return nxl_live_migration_check_destination(drv, A(4, &f->inst), A(1, "{}"),
                                                A(2, "{}"), false, false,
                                                A(3, &o->s), err);
}

static int c_check_can_live_migrate_destination_cleanup(CALL_ARGS)
{
    return nxl_live_migration_check_destination_cleanup(drv, A(1, "{}"), err);
}

static int c_check_can_live_migrate_source(CALL_ARGS)
{
    return nxl_live_migration_check_source(drv, A(3, &f->inst), A(1, "{}"),
                                           &f->bdi, A(2, &o->s), err);
}

static int c_pre_live_migration(CALL_ARGS)
{
    return nxl_live_migration_pre(drv, A(2, &f->inst), &f->bdi, &f->ni, "{}",
                                  "{}", A(1, &o->s), err);
}

static int c_live_migration(CALL_ARGS)
{
    return nxl_instance_live_migrate(drv, A(3, &f->inst), A(4, f->host),
                                     A(1, lm_cb), A(2, lm_cb), NULL, false,
                                     "{}", err);
}

static int c_live_migration_abort(CALL_ARGS)
{
    return nxl_instance_live_migration_abort(drv, A(1, &f->inst), err);
}

static int c_live_migration_force_complete(CALL_ARGS)
{
    return nxl_instance_live_migration_force_complete(drv, A(1, &f->inst), err);
}

static int c_post_live_migration(CALL_ARGS)
{
    return nxl_live_migration_post(drv, A(1, &f->inst), &f->bdi, "{}", err);
}

static int c_post_live_migration_at_source(CALL_ARGS)
{
    return nxl_live_migration_post_at_source(drv, A(2, &f->inst), A(1, &f->ni),
                                             err);
}

static int c_post_live_migration_at_destination(CALL_ARGS)
{
    return nxl_live_migration_post_at_destination(drv, A(1, &f->inst), &f->ni,
                                                  false, &f->bdi, err);
}

static int c_rollback_live_migration_at_destination(CALL_ARGS)
{
    return nxl_live_migration_rollback_at_destination(
        drv, A(1, &f->inst), &f->ni, &f->bdi, false, "{}", err);
}

static const method_case methods[] = {
    {"capabilities", c_capabilities, false, false, {"caps_r"}},
    {"need_legacy_block_device_info",
     c_need_legacy_block_device_info,
     false,
     false,
     {"legacy_r"}},
    {"is_xenapi", c_is_xenapi, false, false, {"is_xenapi_r"}},
    {"is_supported_fs_format",
     c_is_supported_fs_format,
     false,
     false,
     {"fs_type", "supported_r"}},
    {"register_event_listener", c_register_event_listener, false, false, {}},
    {"emit_event", c_emit_event, true, false, {"ev"}},
    {"init_host", c_init_host, false, true, {"host"}},
    {"cleanup_host", c_cleanup_host, false, true, {"host"}},
    {"list_instances", c_list_instances, false, false, {"names_r"}},
    {"list_instance_uuids", c_list_instance_uuids, false, false, {"uuids_r"}},
    {"get_num_instances", c_get_num_instances, false, false, {"n_r"}},
    {"get_available_nodes", c_get_available_nodes, false, false, {"nodes_r"}},
    {"node_is_available", c_node_is_available, false, true, {"available_r"}},
    {"get_available_resource",
     c_get_available_resource,
     false,
     true,
     {"res_r"}},
    {"get_host_cpu_stats", c_get_host_cpu_stats, false, false, {"stats_r"}},
    {"get_host_ip_addr", c_get_host_ip_addr, false, false, {"ip_r"}},
    {"get_host_uptime", c_get_host_uptime, false, false, {"uptime_r"}},
    {"set_host_enabled", c_set_host_enabled, false, false, {"result_r"}},
    {"host_maintenance_mode",
     c_host_maintenance_mode,
     false,
     true,
     {"result_r", "host"}},
    {"host_power_action",
     c_host_power_action,
     false,
     false,
     {"action", "result_r"}},
    {"get_console_pool_info",
     c_get_console_pool_info,
     false,
     false,
     {"console_type", "pool_r"}},
    {"get_all_bw_counters",
     c_get_all_bw_counters,
     false,
     false,
     {"instances", "bw_r"}},
    {"get_all_volume_usage",
     c_get_all_volume_usage,
     false,
     false,
     {"host_bdms", "usage_r"}},
    {"get_per_instance_usage",
     c_get_per_instance_usage,
     false,
     false,
     {"usage_r"}},
    {"poll_rebooting_instances",
     c_poll_rebooting_instances,
     false,
     false,
     {"instances"}},
    {"manage_image_cache",
     c_manage_image_cache,
     false,
     false,
     {"all_instances"}},
    {"filter_defer_apply_on", c_filter_defer_apply_on, false, false, {}},
    {"filter_defer_apply_off", c_filter_defer_apply_off, false, false, {}},
    {"refresh_security_group_rules",
     c_refresh_security_group_rules,
     false,
     false,
     {"security_group_id"}},
    {"add_to_aggregate", c_add_to_aggregate, false, true, {"agg", "host"}},
    {"remove_from_aggregate",
     c_remove_from_aggregate,
     false,
     true,
     {"agg", "host"}},
    {"undo_aggregate_operation",
     c_undo_aggregate_operation,
     false,
     true,
     {"op", "agg", "host"}},
    {"spawn", c_spawn, true, false, {"req"}},
    {"destroy", c_destroy, true, false, {"instance"}},
    {"cleanup", c_cleanup, true, false, {"instance"}},
    {"rebuild", c_rebuild, true, false, {"req"}},
    {"get_info", c_get_info, true, false, {"info_r", "instance"}},
    {"instance_exists",
     c_instance_exists,
     true,
     false,
     {"exists_r", "instance"}},
    {"instance_on_disk",
     c_instance_on_disk,
     true,
     false,
     {"on_disk_r", "instance"}},
    {"delete_instance_files",
     c_delete_instance_files,
     true,
     false,
     {"deleted_r", "instance"}},
    {"reboot", c_reboot, true, false, {"instance"}},
    {"power_off", c_power_off, true, false, {"instance"}},
    {"power_on", c_power_on, true, false, {"instance"}},
    {"pause", c_pause, true, false, {"instance"}},
    {"unpause", c_unpause, true, false, {"instance"}},
    {"suspend", c_suspend, true, false, {"instance"}},
    {"resume", c_resume, true, false, {"instance"}},
    {"resume_state_on_host_boot",
     c_resume_state_on_host_boot,
     true,
     false,
     {"instance"}},
    {"soft_delete", c_soft_delete, true, false, {"instance"}},
    {"restore", c_restore, true, false, {"instance"}},
    {"rescue", c_rescue, true, false, {"image_meta", "instance"}},
    {"unrescue", c_unrescue, true, false, {"instance"}},
    {"set_bootable", c_set_bootable, true, false, {"instance"}},
    {"trigger_crash_dump", c_trigger_crash_dump, true, false, {"instance"}},
    {"estimate_instance_overhead",
     c_estimate_instance_overhead,
     true,
     false,
     {"overhead_r", "instance"}},
    {"get_console_output",
     c_get_console_output,
     true,
     false,
     {"out_r", "instance"}},
    {"get_vnc_console",
     c_get_vnc_console,
     true,
     false,
     {"console_r", "instance"}},
    {"get_spice_console",
     c_get_spice_console,
     true,
     false,
     {"console_r", "instance"}},
    {"get_serial_console",
     c_get_serial_console,
     true,
     false,
     {"console_r", "instance"}},
    {"get_rdp_console",
     c_get_rdp_console,
     true,
     false,
     {"console_r", "instance"}},
    {"get_mks_console",
     c_get_mks_console,
     true,
     false,
     {"console_r", "instance"}},
    {"get_diagnostics",
     c_get_diagnostics,
     true,
     false,
     {"diag_json_r", "instance"}},
    {"get_instance_diagnostics",
     c_get_instance_diagnostics,
     true,
     false,
     {"diag_r", "instance"}},
    {"get_instance_disk_info",
     c_get_instance_disk_info,
     true,
     false,
     {"disks_r", "instance"}},
    {"block_stats",
     c_block_stats,
     true,
     false,
     {"disk_id", "stats_r", "instance"}},
    {"change_instance_metadata",
     c_change_instance_metadata,
     true,
     false,
     {"diff_json", "instance"}},
    {"set_admin_password",
     c_set_admin_password,
     true,
     false,
     {"new_pass", "instance"}},
    {"inject_file", c_inject_file, true, false, {"instance"}},
    {"quiesce", c_quiesce, true, false, {"instance"}},
    {"unquiesce", c_unquiesce, true, false, {"instance"}},
    {"snapshot", c_snapshot, true, false, {"image_id", "instance"}},
    {"post_interrupted_snapshot_cleanup",
     c_post_interrupted_snapshot_cleanup,
     true,
     false,
     {"instance"}},
    {"attach_interface",
     c_attach_interface,
     true,
     false,
     {"image_meta", "vif", "instance"}},
    {"detach_interface", c_detach_interface, true, false, {"vif", "instance"}},
    {"plug_vifs", c_plug_vifs, true, false, {"network_info", "instance"}},
    {"unplug_vifs", c_unplug_vifs, true, false, {"network_info", "instance"}},
    {"inject_network_info",
     c_inject_network_info,
     true,
     false,
     {"network_info", "instance"}},
    {"reset_network", c_reset_network, true, false, {"instance"}},
    {"dhcp_options_for_instance",
     c_dhcp_options_for_instance,
     true,
     false,
     {"opts_r", "instance"}},
    {"macs_for_instance",
     c_macs_for_instance,
     true,
     false,
     {"macs_r", "instance"}},
    {"network_binding_host_id",
     c_network_binding_host_id,
     true,
     false,
     {"host_id_r", "instance"}},
    {"deallocate_networks_on_reschedule",
     c_deallocate_networks_on_reschedule,
     true,
     false,
     {"deallocate_r", "instance"}},
    {"ensure_filtering_rules_for_instance",
     c_ensure_filtering_rules_for_instance,
     true,
     false,
     {"network_info", "instance"}},
    {"unfilter_instance",
     c_unfilter_instance,
     true,
     false,
     {"network_info", "instance"}},
    {"refresh_instance_security_rules",
     c_refresh_instance_security_rules,
     true,
     false,
     {"instance"}},
    {"default_root_device_name",
     c_default_root_device_name,
     true,
     false,
     {"name_r", "instance"}},
    {"get_device_name_for_instance",
     c_get_device_name_for_instance,
     true,
     false,
     {"name_r", "instance"}},
    {"default_device_names_for_instance",
     c_default_device_names_for_instance,
     true,
     false,
     {"root_device_name", "bdi", "instance"}},
    {"attach_volume",
     c_attach_volume,
     true,
     false,
     {"connection_info", "mountpoint", "instance"}},
    {"detach_volume",
     c_detach_volume,
     true,
     false,
     {"connection_info", "mountpoint", "instance"}},
    {"swap_volume",
     c_swap_volume,
     true,
     false,
     {"old_connection_info", "new_connection_info", "mountpoint", "instance"}},
    {"volume_snapshot_create",
     c_volume_snapshot_create,
     true,
     false,
     {"volume_id", "create_info_json", "instance"}},
    {"volume_snapshot_delete",
     c_volume_snapshot_delete,
     true,
     false,
     {"volume_id", "snapshot_id", "delete_info_json", "instance"}},
    {"get_volume_connector",
     c_get_volume_connector,
     true,
     false,
     {"connector_r"}},
    {"migrate_disk_and_power_off",
     c_migrate_disk_and_power_off,
     true,
     true,
     {"flavor", "disk_info_json_r", "instance", "dest"}},
    {"finish_migration",
     c_finish_migration,
     true,
     false,
     {"migration", "disk_info_json", "image_meta", "instance"}},
    {"finish_revert_migration",
     c_finish_revert_migration,
     true,
     false,
     {"instance"}},
    {"confirm_migration",
     c_confirm_migration,
     true,
     false,
     {"migration", "instance"}},
    {"check_instance_shared_storage_local",
     c_check_instance_shared_storage_local,
     true,
     false,
     {"data_json_r", "instance"}},
    {"check_instance_shared_storage_remote",
     c_check_instance_shared_storage_remote,
     false,
     false,
     {"data_json", "shared_r"}},
    {"check_instance_shared_storage_cleanup",
     c_check_instance_shared_storage_cleanup,
     false,
     false,
     {"data_json"}},
    {"check_can_live_migrate_destination",
     c_check_can_live_migrate_destination,
     true,
     false,
     {"src_compute_info_json", "dst_compute_info_json",
      "dest_check_data_json_r", "instance"}},
    {"check_can_live_migrate_destination_cleanup",
     c_check_can_live_migrate_destination_cleanup,
     false,
     false,
     {"dest_check_data_json"}},
    {"check_can_live_migrate_source",
     c_check_can_live_migrate_source,
     true,
     false,
     {"dest_check_data_json", "migrate_data_json_r", "instance"}},
    {"pre_live_migration",
     c_pre_live_migration,
     true,
     false,
     {"migrate_data_json_r", "instance"}},
    {"live_migration",
     c_live_migration,
     true,
     true,
     {"post", "recover", "instance", "dest"}},
    {"live_migration_abort", c_live_migration_abort, true, false, {"instance"}},
    {"live_migration_force_complete",
     c_live_migration_force_complete,
     true,
     false,
     {"instance"}},
    {"post_live_migration", c_post_live_migration, true, false, {"instance"}},
    {"post_live_migration_at_source",
     c_post_live_migration_at_source,
     true,
     false,
     {"network_info", "instance"}},
    {"post_live_migration_at_destination",
     c_post_live_migration_at_destination,
     true,
     false,
     {"instance"}},
    {"rollback_live_migration_at_destination",
     c_rollback_live_migration_at_destination,
     true,
     false,
     {"instance"}},
};

static const size_t n_methods = sizeof(methods) / sizeof(methods[0]);

/* ---- the suite's driver and docs/contract.md ------------------------------
 */

static nxl_driver *drv;

#define MAX_ROWS 256
static struct row {
    char *method, *status, *notes;
} rows[MAX_ROWS];
static size_t n_rows;

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Reads the table rows "| method | status | notes |" (not the header or
 * the separator); scripts/check-driverimpls checks the table's shape. */
static int load_rows(void)
{
    char path[4096];
    char *line = NULL;
    size_t cap = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/docs/contract.md", srcdir());
    fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "test_driver: cannot open %s\n", path);
        return -1;
    }
    while (getline(&line, &cap, fp) > 0 && n_rows < MAX_ROWS) {
        char *cell[3];
        char *p = line + 1;
        int k;

        if (line[0] != '|')
            continue;
        for (k = 0; k < 3; k++) {
            char *bar = strchr(p, '|');

            if (!bar)
                break;
            *bar = '\0';
            cell[k] = trim(p);
            p = bar + 1;
        }
        if (k < 3 || strcmp(cell[0], "method") == 0 || cell[0][0] == '-' ||
            cell[0][0] == ':')
            continue;
        rows[n_rows].method = xstrdup(cell[0]);
        rows[n_rows].status = xstrdup(cell[1]);
        rows[n_rows].notes = xstrdup(cell[2]);
        n_rows++;
    }
    free(line);
    fclose(fp);
    return 0;
}

static const struct row *row_of(const char *method)
{
    for (size_t i = 0; i < n_rows; i++)
        if (strcmp(rows[i].method, method) == 0)
            return &rows[i];
    return NULL;
}

static int suite_init(void)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    cfg.host = HOST;
    cfg.instances_dir = "/nonexistent/novaxl-test/instances";
    cfg.image_cache_dir = "/nonexistent/novaxl-test/images";
    cfg.console_log_dir = "/nonexistent/novaxl-test/console";
    rc = nxl_driver_open("libxl", &cfg, &drv, &err);
    if (rc < 0)
        fprintf(stderr, "test_driver: %s\n", nxl_error_message(&err));
    nxl_error_dispose(&err);
    if (rc < 0)
        return 1;
    return load_rows() < 0 ? 1 : 0;
}

static int suite_cleanup(void)
{
    nxl_driver_close(drv);
    drv = NULL;
    for (size_t i = 0; i < n_rows; i++) {
        free(rows[i].method);
        free(rows[i].status);
        free(rows[i].notes);
    }
    n_rows = 0;
    return 0;
}

/* Whether the libxl table sets the member for method. */
static bool member_set(const char *method)
{
#define X(m)                                                                   \
    if (strcmp(method, #m) == 0)                                               \
        return nxl_xl_driver_ops.m != NULL;
    NXL_DRIVER_METHODS(X)
#undef X
    CU_FAIL("not a member of nxl_driver_ops");
    return false;
}

/* Runs one call and checks it failed with code, a message starting with
 * "<method>: " and containing want (may be NULL), and that it wrote no
 * output and left the fixture's mutable block_device_info alone. */
static void expect_refusal(const method_case *mc, nxl_driver *d, fx *f,
                           int null_k, int code, const char *want)
{
    nxl_error err = NXL_ERROR_INIT;
    outs o, before;
    char prefix[128];
    int rc;

    outs_reset(&o);
    memcpy(&before, &o, sizeof(o));
    rc = mc->call(d, f, &o, null_k, &err);
    snprintf(prefix, sizeof(prefix), "%s: ", mc->name);
    if (rc != code || err.code != code || !starts_with(err.message, prefix) ||
        (want && !strstr(err.message, want)))
        fprintf(stderr,
                "\n  %s (null_k %d): rc %d, message '%s'; want %d, "
                "'%s...%s'\n",
                mc->name, null_k, rc, nxl_error_message(&err), code, prefix,
                want ? want : "");
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT_TRUE(starts_with(err.message, prefix));
    if (want)
        CU_ASSERT_PTR_NOT_NULL(err.message ? strstr(err.message, want) : NULL);
    CU_ASSERT_EQUAL(memcmp(&o, &before, sizeof(o)), 0);
    CU_ASSERT_PTR_NULL(f->bdi.ephemerals[0].device_name);
    if (rc >= 0)
        outs_dispose(&o);
    nxl_error_dispose(&err);
}

/* ---- the sweeps ------------------------------------------------------------
 */

static void test_table_complete(void)
{
    static const char *const members[] = {
#define X(m) #m,
        NXL_DRIVER_METHODS(X)
#undef X
    };

    /* methods[] covers every member, in the table's order, so no method
     * escapes the sweeps below. */
    CU_ASSERT_EQUAL_FATAL(n_methods, sizeof(members) / sizeof(members[0]));
    for (size_t i = 0; i < n_methods; i++)
        CU_ASSERT_STRING_EQUAL(methods[i].name, members[i]);
}

static void test_not_implemented(void)
{
    size_t seen = 0;
    fx f;

    fx_init(&f);
    for (size_t i = 0; i < n_methods; i++) {
        const method_case *mc = &methods[i];
        char want[160];

        if (member_set(mc->name))
            continue;
        seen++;
        snprintf(want, sizeof(want),
                 "%s: not implemented yet by the 'libxl' driver", mc->name);
        expect_refusal(mc, drv, &f, 0, NXL_E_NOT_IMPLEMENTED, want);
    }
    /* The lifecycle work empties this set over time; until then it must
     * not be empty, or the sweep proves nothing. */
    CU_ASSERT_TRUE(seen > 0);
    CU_ASSERT_STRING_EQUAL(nxl_error_nova_name(NXL_E_NOT_IMPLEMENTED),
                           "NotImplementedError");
    fx_dispose(&f);
}

static void test_unsupported_reasons(void)
{
    size_t seen = 0;
    fx f;

    fx_init(&f);
    for (size_t i = 0; i < n_methods; i++) {
        const method_case *mc = &methods[i];
        const struct row *r = row_of(mc->name);
        nxl_error err = NXL_ERROR_INIT;
        outs o, before;
        size_t plen = strlen(mc->name) + 2;
        int rc;

        if (!r || strcmp(r->status, "unsupported") != 0)
            continue;
        seen++;
        CU_ASSERT_TRUE(member_set(mc->name));
        outs_reset(&o);
        memcpy(&before, &o, sizeof(o));
        rc = mc->call(drv, &f, &o, 0, &err);
        /* quiesce and unquiesce say InstanceQuiesceNotSupported, as
         * nova's contract for them asks; the rest NotImplementedError. */
        CU_ASSERT_TRUE(rc == NXL_E_UNSUPPORTED || rc == NXL_E_QUIESCE_UNSUPP);
        if (rc == NXL_E_QUIESCE_UNSUPP) {
            CU_ASSERT_TRUE(strstr(mc->name, "quiesce") != NULL);
        }
        CU_ASSERT_EQUAL(err.code, rc);
        CU_ASSERT_TRUE(starts_with(err.message, mc->name));
        CU_ASSERT_TRUE(err.message && strlen(err.message) > plen + 10 &&
                       strncmp(err.message + plen - 2, ": ", 2) == 0);
        CU_ASSERT_EQUAL(memcmp(&o, &before, sizeof(o)), 0);
        if (rc >= 0)
            outs_dispose(&o);
        nxl_error_dispose(&err);
    }
    CU_ASSERT_TRUE(seen > 0);
    fx_dispose(&f);
}

/* Names of the tests registered in main(), for test_doc_rows. */
static const char *const *registered_tests;

static bool cites_known_tests(const char *notes)
{
    static const char tag[] = "tests/test_driver.c:";
    const char *p = notes;
    bool any = false;

    while ((p = strstr(p, tag))) {
        p += sizeof(tag) - 1;
        for (;;) {
            char name[64];
            size_t n = 0;
            bool known = false;

            while (*p == ' ' || *p == ',' || *p == '`')
                p++;
            while (n < sizeof(name) - 1 &&
                   ((*p >= 'a' && *p <= 'z') || *p == '_' ||
                    (*p >= '0' && *p <= '9')))
                name[n++] = *p++;
            name[n] = '\0';
            if (strncmp(name, "test_", 5) != 0)
                break;
            for (size_t i = 0; registered_tests[i]; i++)
                if (strcmp(registered_tests[i], name) == 0)
                    known = true;
            if (!known)
                fprintf(stderr, "\n  docs/contract.md cites unknown %s\n",
                        name);
            CU_ASSERT_TRUE(known);
            any = true;
        }
    }
    return any;
}

static void test_doc_rows(void)
{
    static const char *const helpers[] = {
        "load_compute_driver",
        "get_block_device_info",
        "block_device_info_get_root",
        "block_device_info_get_swap",
        "block_device_info_get_ephemerals",
        "block_device_info_get_mapping",
        "swap_is_usable",
        "driver_dict_from_config",
    };

    CU_ASSERT_EQUAL(n_rows, n_methods + sizeof(helpers) / sizeof(helpers[0]));
    for (size_t i = 0; i < n_methods; i++) {
        const struct row *r = row_of(methods[i].name);

        CU_ASSERT_PTR_NOT_NULL(r);
        if (!r)
            continue;
        if (strcmp(r->status, "not implemented yet") == 0) {
            CU_ASSERT_FALSE(member_set(methods[i].name));
        } else {
            CU_ASSERT_TRUE(member_set(methods[i].name));
        }
        if (strcmp(r->status, "not implemented yet") != 0 &&
            strstr(r->notes, "tests/test_driver.c:")) {
            CU_ASSERT_TRUE(cites_known_tests(r->notes));
        }
    }
    for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
        const struct row *r = row_of(helpers[i]);

        CU_ASSERT_PTR_NOT_NULL(r);
        if (r) {
            CU_ASSERT_STRING_EQUAL(r->status, "implemented");
            CU_ASSERT_TRUE(cites_known_tests(r->notes));
        }
    }
}

static void test_null_args(void)
{
    fx f;

    fx_init(&f);
    for (size_t i = 0; i < n_methods; i++) {
        const method_case *mc = &methods[i];

        expect_refusal(mc, NULL, &f, 0, NXL_E_INVAL, "drv is NULL");
        for (int k = 0; k < 5 && mc->required[k]; k++) {
            char want[96];

            snprintf(want, sizeof(want), "%s is NULL", mc->required[k]);
            expect_refusal(mc, drv, &f, k + 1, NXL_E_INVAL, want);
        }
    }
    fx_dispose(&f);
}

static void set_uuids(fx *f, const char *uuid)
{
    /* Copies at most the buffer; the over-long case is cut to 36
     * characters plus one, which is still not canonical. */
    snprintf(f->inst.uuid, sizeof(f->inst.uuid), "%s", uuid);
    snprintf(f->req.instance.uuid, sizeof(f->req.instance.uuid), "%s", uuid);
    snprintf(f->ev.uuid, sizeof(f->ev.uuid), "%s", uuid);
}

static void test_bad_uuids(void)
{
    static const char *const bad[] = {
        "",
        "not-a-uuid",
        "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6",  /* 35 characters */
        "2f9c4d1e_8a7b-4c6d-9e0f-1a2b3c4d5e6f", /* '_' for '-' */
        "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6g", /* not hex */
        "../../../../etc/passwd-0000000000000",
    };
    size_t seen = 0;
    fx f;

    fx_init(&f);
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
        set_uuids(&f, bad[b]);
        for (size_t i = 0; i < n_methods; i++) {
            if (!methods[i].uuid)
                continue;
            seen++;
            expect_refusal(&methods[i], drv, &f, 0, NXL_E_INVAL, "uuid");
        }
    }
    CU_ASSERT_TRUE(seen > 50);
    fx_dispose(&f);
}

static void test_bad_names(void)
{
    static const char *const bad[] = {"", "a/b", "..", "host\nname"};
    size_t seen = 0;
    fx f;

    fx_init(&f);
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
        f.host = bad[b];
        free(f.agg.name);
        f.agg.name = xstrdup(bad[b]);
        for (size_t i = 0; i < n_methods; i++) {
            if (!methods[i].names)
                continue;
            seen++;
            expect_refusal(&methods[i], drv, &f, 0, NXL_E_INVAL, NULL);
        }
    }
    CU_ASSERT_TRUE(seen > 0);
    fx_dispose(&f);
}

/* ---- load_compute_driver
 * ------------------------------------------------------ */

static void test_open_close(void)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *d = (nxl_driver *)&cfg; /* must survive failures */
    nxl_driver *const sentinel = d;
    nxl_error err = NXL_ERROR_INIT;

    CU_ASSERT_EQUAL(nxl_driver_open("xenapi", NULL, &d, &err), NXL_E_INVAL);
    CU_ASSERT_TRUE(starts_with(err.message, "load_compute_driver: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'xenapi'"));
    CU_ASSERT_PTR_EQUAL(d, sentinel);
    nxl_error_dispose(&err);

    CU_ASSERT_EQUAL(nxl_driver_open(NULL, NULL, &d, &err), NXL_E_INVAL);
    CU_ASSERT_STRING_EQUAL(err.message, "load_compute_driver: backend is NULL");
    nxl_error_dispose(&err);

    CU_ASSERT_EQUAL(nxl_driver_open("libxl", NULL, NULL, &err), NXL_E_INVAL);
    CU_ASSERT_STRING_EQUAL(err.message, "load_compute_driver: drv_r is NULL");
    nxl_error_dispose(&err);

    cfg.host = "bad/host";
    CU_ASSERT_EQUAL(nxl_driver_open("libxl", &cfg, &d, &err), NXL_E_INVAL);
    CU_ASSERT_TRUE(
        starts_with(err.message, "load_compute_driver: config.host"));
    CU_ASSERT_PTR_EQUAL(d, sentinel);
    nxl_error_dispose(&err);

    /* NULL err is allowed everywhere. */
    CU_ASSERT_EQUAL(nxl_driver_open("nope", NULL, &d, NULL), NXL_E_INVAL);

    /* The defaults: gethostname() and the Debian layout; no hypervisor. */
    d = NULL;
    CU_ASSERT_EQUAL_FATAL(nxl_driver_open("libxl", NULL, &d, &err), 0);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    CU_ASSERT_PTR_NULL(err.message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(nxl_driver_name(d), "libxl");
    nxl_driver_close(d);

    CU_ASSERT_PTR_NULL(nxl_driver_name(NULL));
    nxl_driver_close(NULL);
    CU_ASSERT_STRING_EQUAL(nxl_driver_name(drv), "libxl");
}

/* ---- driver properties ------------------------------------------------------
 */

static void test_properties(void)
{
    const nxl_capabilities *caps = NULL;
    nxl_error err = NXL_ERROR_INIT;
    bool b = true;

    CU_ASSERT_EQUAL(nxl_driver_capabilities(drv, &caps, &err), 0);
    CU_ASSERT_PTR_EQUAL(caps, nxl_xl_driver_ops.capabilities);
    CU_ASSERT_EQUAL(nxl_driver_need_legacy_block_device_info(drv, &b, &err), 0);
    CU_ASSERT_FALSE(b);
    b = true;
    CU_ASSERT_EQUAL(nxl_driver_is_xenapi(drv, &b, &err), 0);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
}

/* A capability flag vouches for a method: it may be true only when the
 * libxl driver implements that method. */
static void test_capability_pairs(void)
{
    const nxl_capabilities *c = nxl_xl_driver_ops.capabilities;
    const struct {
        bool flag;
        const char *method;
    } pairs[] = {
        {c->supports_recreate, "rebuild"},
        {c->has_imagecache, "manage_image_cache"},
        {c->supports_migrate_to_same_host, "migrate_disk_and_power_off"},
        {c->supports_attach_interface, "attach_interface"},
        {c->supports_device_tagging, "spawn"},
        {c->supports_tagged_attach_interface, "attach_interface"},
        {c->supports_tagged_attach_volume, "attach_volume"},
        {c->supports_multiattach, "attach_volume"},
        {c->supports_trusted_certs, "spawn"},
        {c->supports_image_type_raw, "spawn"},
        {c->supports_image_type_qcow2, "spawn"},
        {c->supports_image_type_vhd, "spawn"},
        {c->supports_image_type_aki, "spawn"},
        {c->supports_image_type_ari, "spawn"},
        {c->supports_image_type_ami, "spawn"},
        {c->supports_image_type_iso, "spawn"},
    };

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        if (pairs[i].flag)
            CU_ASSERT_TRUE(member_set(pairs[i].method));
}

static void test_fs_formats(void)
{
    static const struct {
        const char *fs;
        bool ok;
    } cases[] = {
        {"ext2", true}, {"ext3", true},   {"ext4", true},   {"xfs", true},
        {"vfat", true}, {"ntfs", false},  {"swap", false},  {"EXT4", false},
        {"", false},    {"btrfs", false}, {"ext4 ", false},
    };
    nxl_error err = NXL_ERROR_INIT;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = !cases[i].ok;

        CU_ASSERT_EQUAL(
            nxl_driver_is_supported_fs_format(drv, cases[i].fs, &got, &err), 0);
        CU_ASSERT_EQUAL(got, cases[i].ok);
    }
    CU_ASSERT_EQUAL(err.code, NXL_OK);
}

/* ---- events
 * -------------------------------------------------------------------- */

static void test_events(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_event ev = {UUID1, NXL_EVENT_PAUSED, 1234567};
    int mine = 0;

    events_seen = 0;
    /* No listener yet: dropped, as nova drops it. */
    CU_ASSERT_EQUAL(nxl_driver_emit_event(drv, &ev, &err), 0);
    CU_ASSERT_EQUAL(events_seen, 0);

    CU_ASSERT_EQUAL(nxl_driver_register_event_listener(drv, ev_cb, &mine, &err),
                    0);
    CU_ASSERT_EQUAL(nxl_driver_emit_event(drv, &ev, &err), 0);
    CU_ASSERT_EQUAL(events_seen, 1);
    CU_ASSERT_EQUAL(mine, 1);
    CU_ASSERT_STRING_EQUAL(last_event.uuid, UUID1);
    CU_ASSERT_EQUAL(last_event.transition, NXL_EVENT_PAUSED);
    CU_ASSERT_EQUAL(last_event.timestamp_us, 1234567);

    /* A second registration replaces the first. */
    CU_ASSERT_EQUAL(nxl_driver_register_event_listener(drv, ev_cb, NULL, &err),
                    0);
    ev.transition = NXL_EVENT_CRASHED;
    CU_ASSERT_EQUAL(nxl_driver_emit_event(drv, &ev, &err), 0);
    CU_ASSERT_EQUAL(events_seen, 2);
    CU_ASSERT_EQUAL(mine, 1);
    CU_ASSERT_EQUAL(last_event.transition, NXL_EVENT_CRASHED);

    /* An unknown transition is refused before any listener sees it. */
    ev.transition = 42;
    CU_ASSERT_EQUAL(nxl_driver_emit_event(drv, &ev, &err), NXL_E_INVAL);
    CU_ASSERT_TRUE(starts_with(err.message, "emit_event: unknown transition"));
    CU_ASSERT_EQUAL(events_seen, 2);
    nxl_error_dispose(&err);
    /* So is an aggregate one: a caller's nxl_event has nothing behind its
     * base, even from a listener that asked for aggregate events. */
    CU_ASSERT_EQUAL(
        nxl_driver_set_event_kinds(
            drv, NXL_EVENT_KIND_AGGREGATE | NXL_EVENT_KIND_LIFECYCLE, &err),
        0);
    ev.transition = NXL_EVENT_AGGREGATE;
    CU_ASSERT_EQUAL(nxl_driver_emit_event(drv, &ev, &err), NXL_E_INVAL);
    CU_ASSERT_EQUAL(events_seen, 2);
    CU_ASSERT_PTR_EQUAL((const void *)nxl_event_aggregate(&ev),
                        (const void *)&ev);
    ev.transition = NXL_EVENT_STARTED;
    CU_ASSERT_PTR_NULL(nxl_event_aggregate(&ev));
    CU_ASSERT_STRING_EQUAL(nxl_event_transition_name(NXL_EVENT_AGGREGATE),
                           "aggregate");
    nxl_error_dispose(&err);

    /* NULL unregisters. */
    CU_ASSERT_EQUAL(nxl_driver_register_event_listener(drv, NULL, &mine, &err),
                    0);
    ev.transition = NXL_EVENT_STARTED;
    CU_ASSERT_EQUAL(nxl_driver_emit_event(drv, &ev, &err), 0);
    CU_ASSERT_EQUAL(events_seen, 2);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
}

/* ---- networking answers
 * -------------------------------------------------------- */

static void test_network_answers(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_kvlist opts;
    nxl_strv macs;
    char *id = NULL;
    bool dealloc = true;
    fx f;

    fx_init(&f);
    /* Mid-migration, inst->host still names the source: ports bind to
     * the host we run on regardless. */
    f.inst.host = xstrdup("elsewhere");
    nxl_kvlist_init(&opts);
    nxl_strv_init(&macs);
    CU_ASSERT_EQUAL(nxl_instance_dhcp_options(drv, &f.inst, &opts, &err), 0);
    CU_ASSERT_EQUAL(opts.n, 0);
    CU_ASSERT_EQUAL(nxl_instance_macs(drv, &f.inst, &macs, &err), 0);
    CU_ASSERT_EQUAL(macs.n, 0);
    CU_ASSERT_EQUAL(
        nxl_instance_network_binding_host_id(drv, &f.inst, &id, &err), 0);
    CU_ASSERT_STRING_EQUAL(id, HOST);
    CU_ASSERT_EQUAL(nxl_instance_deallocate_networks_on_reschedule(
                        drv, &f.inst, &dealloc, &err),
                    0);
    CU_ASSERT_FALSE(dealloc);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    free(id);
    nxl_kvlist_dispose(&opts);
    nxl_strv_dispose(&macs);
    fx_dispose(&f);
}

/* ---- device names
 * -------------------------------------------------------------- */

static void add_mapping(nxl_block_device_info *bdi, const char *dev)
{
    nxl_volume_bdm *m =
        realloc(bdi->mappings, (bdi->n_mappings + 1) * sizeof(*m));

    if (!m)
        abort();
    bdi->mappings = m;
    m = &bdi->mappings[bdi->n_mappings++];
    nxl_volume_bdm_init(m);
    m->mount_device = dev ? xstrdup(dev) : NULL;
}

static void expect_name(nxl_driver *d, const nxl_instance *inst,
                        const nxl_block_device_info *bdi, const char *requested,
                        int code, const char *want)
{
    nxl_error err = NXL_ERROR_INIT;
    char *name = NULL;
    int rc;

    rc = nxl_instance_get_device_name(d, inst, bdi, requested, &name, &err);
    if (rc != code)
        fprintf(stderr,
                "\n  get_device_name_for_instance(%s): rc %d (%s), "
                "want %d\n",
                requested ? requested : "NULL", rc, nxl_error_message(&err),
                code);
    CU_ASSERT_EQUAL(rc, code);
    if (code == 0) {
        CU_ASSERT_PTR_NOT_NULL(name);
        if (name)
            CU_ASSERT_STRING_EQUAL(name, want);
    } else {
        CU_ASSERT_PTR_NULL(name);
        CU_ASSERT_TRUE(
            starts_with(err.message, "get_device_name_for_instance: "));
        CU_ASSERT_PTR_NOT_NULL(err.message ? strstr(err.message, want) : NULL);
    }
    free(name);
    nxl_error_dispose(&err);
}

static void test_device_names(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_block_device_info bdi;
    char *name = NULL;
    fx f;

    fx_init(&f);
    CU_ASSERT_EQUAL(nxl_instance_default_root_device_name(drv, &f.inst, NULL,
                                                          NULL, &name, &err),
                    0);
    CU_ASSERT_STRING_EQUAL(name, "/dev/xvda");
    free(name);

    nxl_block_device_info_init(&bdi);
    /* Only the instance's root: the next disk is xvdb. */
    expect_name(drv, &f.inst, NULL, NULL, 0, "/dev/xvdb");
    /* hda is xvda's slot, sdb is xvdb's: both count as taken. */
    bdi.root_device_name = xstrdup("/dev/hda");
    add_mapping(&bdi, "/dev/sdb");
    add_mapping(&bdi, "xvdd1");
    expect_name(drv, &f.inst, &bdi, NULL, 0, "/dev/xvdc");
    expect_name(drv, &f.inst, &bdi, "/dev/vde", 0, "/dev/xvde");
    expect_name(drv, &f.inst, &bdi, "xvdab", 0, "/dev/xvdab");
    expect_name(drv, &f.inst, &bdi, "/dev/xvdb", NXL_E_INVAL, "already in use");
    expect_name(drv, &f.inst, &bdi, "/dev/xvdd", NXL_E_INVAL, "already in use");
    expect_name(drv, &f.inst, &bdi, "/dev/foo", NXL_E_INVAL,
                "not a disk device name");
    expect_name(drv, &f.inst, &bdi, "/dev/xvdb1", NXL_E_INVAL,
                "not a disk device name");
    expect_name(drv, &f.inst, &bdi, "/dev/xvdabc", NXL_E_INVAL,
                "not a disk device name");
    nxl_block_device_info_dispose(&bdi);

    /* With no root name known anywhere, xvda still belongs to the root. */
    nxl_block_device_info_init(&bdi);
    free(f.inst.root_device_name);
    f.inst.root_device_name = NULL;
    expect_name(drv, &f.inst, &bdi, NULL, 0, "/dev/xvdb");
    expect_name(drv, &f.inst, &bdi, "/dev/xvda", NXL_E_INVAL, "already in use");

    /* Every slot taken: NXL_E_FAILED. */
    bdi.root_device_name = xstrdup("/dev/xvda");
    for (int s = 1; s < 26 + 26 * 26; s++) {
        char dev[16];

        if (s < 26)
            snprintf(dev, sizeof(dev), "xvd%c", 'a' + s);
        else
            snprintf(dev, sizeof(dev), "xvd%c%c", 'a' + (s - 26) / 26,
                     'a' + (s - 26) % 26);
        add_mapping(&bdi, dev);
    }
    expect_name(drv, &f.inst, &bdi, NULL, NXL_E_FAILED, "xvda to xvdzz");
    nxl_block_device_info_dispose(&bdi);
    nxl_error_dispose(&err);
    fx_dispose(&f);
}

static void test_default_device_names(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_block_device_info bdi;
    fx f;

    fx_init(&f);
    nxl_block_device_info_init(&bdi);
    bdi.ephemerals = calloc(2, sizeof(*bdi.ephemerals));
    if (!bdi.ephemerals)
        abort();
    nxl_ephemeral_bdm_init(&bdi.ephemerals[0]);
    nxl_ephemeral_bdm_init(&bdi.ephemerals[1]);
    bdi.n_ephemerals = 2;
    bdi.ephemerals[1].device_name = xstrdup("/dev/xvdc"); /* kept */
    bdi.has_swap = true;
    nxl_swap_bdm_init(&bdi.swap);
    bdi.swap.device_name = xstrdup(""); /* empty counts as missing */
    add_mapping(&bdi, NULL);

    /* A bad root name: refused, nothing filled in. */
    CU_ASSERT_EQUAL(
        nxl_instance_default_device_names(drv, &f.inst, "/dev/zz", &bdi, &err),
        NXL_E_INVAL);
    CU_ASSERT_TRUE(
        starts_with(err.message, "default_device_names_for_instance: "));
    CU_ASSERT_PTR_NULL(bdi.ephemerals[0].device_name);
    CU_ASSERT_STRING_EQUAL(bdi.swap.device_name, "");
    CU_ASSERT_PTR_NULL(bdi.mappings[0].mount_device);
    nxl_error_dispose(&err);

    /* nova's order: ephemerals, swap, volumes, skipping taken slots. */
    CU_ASSERT_EQUAL(nxl_instance_default_device_names(drv, &f.inst, "/dev/xvda",
                                                      &bdi, &err),
                    0);
    CU_ASSERT_STRING_EQUAL(bdi.ephemerals[0].device_name, "/dev/xvdb");
    CU_ASSERT_STRING_EQUAL(bdi.ephemerals[1].device_name, "/dev/xvdc");
    CU_ASSERT_STRING_EQUAL(bdi.swap.device_name, "/dev/xvdd");
    CU_ASSERT_STRING_EQUAL(bdi.mappings[0].mount_device, "/dev/xvde");
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_block_device_info_dispose(&bdi);
    fx_dispose(&f);
}

/* ---- nova.virt.driver's module helpers
 * ---------------------------------------- */

static void test_bdi_helpers(void)
{
    nxl_block_device_info bdi;
    const nxl_ephemeral_bdm *eph = (const nxl_ephemeral_bdm *)&bdi;
    const nxl_volume_bdm *map = (const nxl_volume_bdm *)&bdi;
    const nxl_swap_bdm *swap;
    nxl_swap_bdm s;

    /* None in nova: empty answers, never a crash. */
    CU_ASSERT_PTR_NULL(nxl_block_device_info_get_root(NULL));
    swap = nxl_block_device_info_get_swap(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(swap);
    CU_ASSERT_PTR_NULL(swap->device_name);
    CU_ASSERT_EQUAL(swap->swap_size, 0);
    CU_ASSERT_FALSE(nxl_swap_is_usable(swap));
    CU_ASSERT_EQUAL(nxl_block_device_info_get_ephemerals(NULL, &eph), 0);
    CU_ASSERT_PTR_NULL(eph);
    CU_ASSERT_EQUAL(nxl_block_device_info_get_mapping(NULL, &map), 0);
    CU_ASSERT_PTR_NULL(map);

    nxl_block_device_info_init(&bdi);
    bdi.root_device_name = xstrdup("/dev/xvda");
    bdi.ephemerals = calloc(2, sizeof(*bdi.ephemerals));
    if (!bdi.ephemerals)
        abort();
    nxl_ephemeral_bdm_init(&bdi.ephemerals[0]);
    nxl_ephemeral_bdm_init(&bdi.ephemerals[1]);
    bdi.n_ephemerals = 2;
    add_mapping(&bdi, "/dev/xvdc");
    CU_ASSERT_STRING_EQUAL(nxl_block_device_info_get_root(&bdi), "/dev/xvda");
    CU_ASSERT_EQUAL(nxl_block_device_info_get_ephemerals(&bdi, &eph), 2);
    CU_ASSERT_PTR_EQUAL(eph, bdi.ephemerals);
    CU_ASSERT_EQUAL(nxl_block_device_info_get_ephemerals(&bdi, NULL), 2);
    CU_ASSERT_EQUAL(nxl_block_device_info_get_mapping(&bdi, &map), 1);
    CU_ASSERT_PTR_EQUAL(map, bdi.mappings);
    /* has_swap false: the constant empty swap, not bdi's zeroed one. */
    swap = nxl_block_device_info_get_swap(&bdi);
    CU_ASSERT_PTR_NOT_EQUAL(swap, &bdi.swap);
    CU_ASSERT_FALSE(nxl_swap_is_usable(swap));
    bdi.has_swap = true;
    bdi.swap.device_name = xstrdup("/dev/xvdb");
    bdi.swap.swap_size = 512;
    swap = nxl_block_device_info_get_swap(&bdi);
    CU_ASSERT_PTR_EQUAL(swap, &bdi.swap);
    CU_ASSERT_TRUE(nxl_swap_is_usable(swap));
    nxl_block_device_info_dispose(&bdi);

    /* swap_is_usable wants a device name and a size above 0. */
    CU_ASSERT_FALSE(nxl_swap_is_usable(NULL));
    nxl_swap_bdm_init(&s);
    s.swap_size = 1;
    CU_ASSERT_FALSE(nxl_swap_is_usable(&s));
    s.device_name = (char *)"";
    CU_ASSERT_FALSE(nxl_swap_is_usable(&s));
    s.device_name = (char *)"/dev/xvdb";
    CU_ASSERT_TRUE(nxl_swap_is_usable(&s));
    s.swap_size = 0;
    CU_ASSERT_FALSE(nxl_swap_is_usable(&s));
}

static void bdm_set(nxl_bdm *b, const char *src, const char *dst,
                    const char *fmt, const char *dev, uint64_t size)
{
    nxl_bdm_init(b);
    b->source_type = src ? xstrdup(src) : NULL;
    b->destination_type = dst ? xstrdup(dst) : NULL;
    b->guest_format = fmt ? xstrdup(fmt) : NULL;
    b->device_name = dev ? xstrdup(dev) : NULL;
    b->volume_size = size;
}

static void test_get_block_device_info(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_block_device_info bdi, empty;
    nxl_bdm bdms[7];
    fx f;

    fx_init(&f);
    bdm_set(&bdms[0], "image", "local", NULL, "/dev/xvda", 10);
    bdm_set(&bdms[1], "blank", "local", "ext4", "/dev/xvdb", 5);
    bdm_set(&bdms[2], "blank", "local", "swap", "/dev/xvdc", 256);
    bdm_set(&bdms[3], "volume", "volume", NULL, "/dev/xvdd", 1);
    bdms[3].boot_index = -1;
    bdms[3].delete_on_termination = true;
    bdms[3].connection_info.driver_volume_type = xstrdup("iscsi");
    if (nxl_kvlist_set(&bdms[3].connection_info.data, "target_lun", "1") < 0)
        abort();
    bdm_set(&bdms[4], "blank", "local", "swap", "/dev/xvde", 512);
    bdm_set(&bdms[5], "blank", "local", NULL, NULL, 2);
    bdm_set(&bdms[6], "blank", "local", "ext4", "/dev/xvdf", 3);
    bdms[6].no_device = true;

    nxl_block_device_info_init(&bdi);
    CU_ASSERT_EQUAL_FATAL(
        nxl_block_device_info_from_bdms(&f.inst, bdms, 7, &bdi, &err), 0);
    CU_ASSERT_STRING_EQUAL(bdi.root_device_name, "/dev/xvda");
    /* The image BDM is the root disk and no_device suppresses one. */
    CU_ASSERT_EQUAL_FATAL(bdi.n_ephemerals, 2);
    CU_ASSERT_STRING_EQUAL(bdi.ephemerals[0].device_name, "/dev/xvdb");
    CU_ASSERT_STRING_EQUAL(bdi.ephemerals[0].guest_format, "ext4");
    CU_ASSERT_EQUAL(bdi.ephemerals[0].size, 5);
    CU_ASSERT_EQUAL(bdi.ephemerals[0].num, 0);
    CU_ASSERT_PTR_NULL(bdi.ephemerals[1].device_name);
    CU_ASSERT_EQUAL(bdi.ephemerals[1].num, 1);
    /* The last swap BDM wins, as nova's get_swap pops it. */
    CU_ASSERT_TRUE(bdi.has_swap);
    CU_ASSERT_STRING_EQUAL(bdi.swap.device_name, "/dev/xvde");
    CU_ASSERT_EQUAL(bdi.swap.swap_size, 512);
    CU_ASSERT_TRUE(nxl_swap_is_usable(nxl_block_device_info_get_swap(&bdi)));
    CU_ASSERT_EQUAL_FATAL(bdi.n_mappings, 1);
    CU_ASSERT_STRING_EQUAL(bdi.mappings[0].mount_device, "/dev/xvdd");
    CU_ASSERT_TRUE(bdi.mappings[0].delete_on_termination);
    CU_ASSERT_EQUAL(bdi.mappings[0].boot_index, -1);
    CU_ASSERT_STRING_EQUAL(bdi.mappings[0].connection_info.driver_volume_type,
                           "iscsi");
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&bdi.mappings[0].connection_info.data, "target_lun"),
        "1");
    /* A deep copy: the BDMs can go first. */
    CU_ASSERT_PTR_NOT_EQUAL(bdi.mappings[0].connection_info.driver_volume_type,
                            bdms[3].connection_info.driver_volume_type);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_block_device_info_dispose(&bdi);

    /* No BDMs: only the root name. */
    nxl_block_device_info_init(&bdi);
    CU_ASSERT_EQUAL(
        nxl_block_device_info_from_bdms(&f.inst, NULL, 0, &bdi, &err), 0);
    CU_ASSERT_STRING_EQUAL(bdi.root_device_name, "/dev/xvda");
    CU_ASSERT_EQUAL(bdi.n_ephemerals + bdi.n_mappings, 0);
    CU_ASSERT_FALSE(bdi.has_swap);
    nxl_block_device_info_dispose(&bdi);

    /* Refusals leave the output as it was. */
    nxl_block_device_info_init(&bdi);
    nxl_block_device_info_init(&empty);
    CU_ASSERT_EQUAL(nxl_block_device_info_from_bdms(NULL, bdms, 7, &bdi, &err),
                    NXL_E_INVAL);
    CU_ASSERT_STRING_EQUAL(err.message,
                           "get_block_device_info: instance is NULL");
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(
        nxl_block_device_info_from_bdms(&f.inst, NULL, 2, &bdi, &err),
        NXL_E_INVAL);
    CU_ASSERT_STRING_EQUAL(err.message, "get_block_device_info: bdms is NULL");
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(
        nxl_block_device_info_from_bdms(&f.inst, bdms, 7, NULL, &err),
        NXL_E_INVAL);
    CU_ASSERT_STRING_EQUAL(err.message, "get_block_device_info: bdi_r is NULL");
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl_block_device_info_from_bdms(
                        &f.inst, bdms, NXL_MAX_LIST_ITEMS + 1, &bdi, &err),
                    NXL_E_INVAL);
    CU_ASSERT_TRUE(starts_with(err.message, "get_block_device_info: "));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(memcmp(&bdi, &empty, sizeof(bdi)), 0);

    for (int i = 0; i < 7; i++)
        nxl_bdm_dispose(&bdms[i]);
    fx_dispose(&f);
}

static void test_driver_dict_from_config(void)
{
    static const char *const good[] = {"iscsi=blkback", "rbd=qdisk",
                                       "iscsi=tapdisk", "nfs=a=b"};
    static const char *const bad[] = {"iscsi=blkback", "noequals"};
    static const char *const empty_name[] = {"=blkback"};
    static const char *const empty_value[] = {"iscsi="};
    nxl_error err = NXL_ERROR_INIT;
    nxl_kvlist kv;

    nxl_kvlist_init(&kv);
    CU_ASSERT_EQUAL_FATAL(nxl_driver_dict_from_config(good, 4, &kv, &err), 0);
    CU_ASSERT_EQUAL(kv.n, 3);
    /* A later entry overrides, and only the first '=' splits. */
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&kv, "iscsi"), "tapdisk");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&kv, "rbd"), "qdisk");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&kv, "nfs"), "a=b");
    nxl_kvlist_dispose(&kv);

    CU_ASSERT_EQUAL(nxl_driver_dict_from_config(NULL, 0, &kv, &err), 0);
    CU_ASSERT_EQUAL(kv.n, 0);

    CU_ASSERT_EQUAL(nxl_driver_dict_from_config(bad, 2, &kv, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "entry 1 ('noequals')"));
    CU_ASSERT_EQUAL(kv.n, 0);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl_driver_dict_from_config(empty_name, 1, &kv, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'=blkback'"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl_driver_dict_from_config(empty_value, 1, &kv, &err),
                    NXL_E_INVAL);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl_driver_dict_from_config(NULL, 1, &kv, &err),
                    NXL_E_INVAL);
    CU_ASSERT_STRING_EQUAL(err.message,
                           "driver_dict_from_config: entries is NULL");
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl_driver_dict_from_config(good, 1, NULL, &err),
                    NXL_E_INVAL);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(kv.n, 0);
    CU_ASSERT_PTR_NULL(kv.items);
}

/* ---- errors
 * ------------------------------------------------------------------ */

/* nxl-error.h documents each code as "NXL_E_X = -N, /" "* NovaName: ...":
 * the code table in common/error.c must say the same, for every code. */
static void test_error_mapping(void)
{
    char path[4096];
    char *line = NULL;
    size_t cap = 0;
    int documented = 0;
    bool seen[64] = {false};
    FILE *fp;

    snprintf(path, sizeof(path), "%s/include/novaxl/nxl-error.h", srcdir());
    fp = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    while (getline(&line, &cap, fp) > 0) {
        char name[64], nova[64];
        int val;

        if (sscanf(line, " %63[A-Z_] = %d, /* %63[A-Za-z]", name, &val, nova) !=
                3 ||
            strncmp(name, "NXL_E_", 6) != 0)
            continue;
        documented++;
        CU_ASSERT_TRUE(val < 0 && val > _NXL_E_MAX);
        if (val < 0 && val > _NXL_E_MAX) {
            CU_ASSERT_FALSE(seen[-val]);
            seen[-val] = true;
        }
        CU_ASSERT_EQUAL(nxl_error_code_from_name(name), val);
        CU_ASSERT_STRING_EQUAL(nxl_error_code_name(val), name);
        if (strcmp(nxl_error_nova_name(val), nova) != 0)
            fprintf(stderr, "\n  %s: error.c says %s, nxl-error.h says %s\n",
                    name, nxl_error_nova_name(val), nova);
        CU_ASSERT_STRING_EQUAL(nxl_error_nova_name(val), nova);
    }
    free(line);
    fclose(fp);
    /* Every code from -1 to _NXL_E_MAX + 1 is documented once. */
    CU_ASSERT_EQUAL(documented, -_NXL_E_MAX - 1);

    CU_ASSERT_STRING_EQUAL(nxl_error_code_name(0), "NXL_OK");
    CU_ASSERT_STRING_EQUAL(nxl_error_code_name(_NXL_E_MAX), "NXL_E_UNKNOWN");
    CU_ASSERT_STRING_EQUAL(nxl_error_code_name(1), "NXL_E_UNKNOWN");
    CU_ASSERT_EQUAL(nxl_error_code_from_name("NXL_E_BOGUS"), 0);
    CU_ASSERT_EQUAL(nxl_error_code_from_name(NULL), 0);
    /* The contract's own codes. */
    CU_ASSERT_STRING_EQUAL(nxl_error_nova_name(NXL_E_NOT_FOUND),
                           "InstanceNotFound");
    CU_ASSERT_STRING_EQUAL(nxl_error_nova_name(NXL_E_UNSUPPORTED),
                           "NotImplementedError");
    CU_ASSERT_STRING_EQUAL(nxl_error_nova_name(NXL_E_QUIESCE_UNSUPP),
                           "InstanceQuiesceNotSupported");
}

static void test_error_first_wins(void)
{
    nxl_error err = NXL_ERROR_INIT;

    CU_ASSERT_EQUAL(nxl_error_set(&err, NXL_E_NOT_FOUND, "first %d", 1),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(nxl_error_set(&err, NXL_E_FAILED, "second"), NXL_E_FAILED);
    CU_ASSERT_EQUAL(err.code, NXL_E_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(nxl_error_message(&err), "first 1");
    nxl_error_dispose(&err);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    CU_ASSERT_PTR_NULL(err.message);
    CU_ASSERT_EQUAL(nxl_error_set(NULL, NXL_E_IO, "nowhere"), NXL_E_IO);
}

/* ---- main -------------------------------------------------------------------
 */

static const nxl_test_def tests[] = {
    {"test_table_complete", test_table_complete},
    {"test_open_close", test_open_close},
    {"test_not_implemented", test_not_implemented},
    {"test_unsupported_reasons", test_unsupported_reasons},
    {"test_doc_rows", test_doc_rows},
    {"test_null_args", test_null_args},
    {"test_bad_uuids", test_bad_uuids},
    {"test_bad_names", test_bad_names},
    {"test_properties", test_properties},
    {"test_capability_pairs", test_capability_pairs},
    {"test_fs_formats", test_fs_formats},
    {"test_events", test_events},
    {"test_network_answers", test_network_answers},
    {"test_device_names", test_device_names},
    {"test_default_device_names", test_default_device_names},
    {"test_bdi_helpers", test_bdi_helpers},
    {"test_get_block_device_info", test_get_block_device_info},
    {"test_driver_dict_from_config", test_driver_dict_from_config},
    {"test_error_mapping", test_error_mapping},
    {"test_error_first_wins", test_error_first_wins},
};

int main(void)
{
    const char *names[sizeof(tests) / sizeof(tests[0]) + 1];

    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        names[i] = tests[i].name;
    names[sizeof(tests) / sizeof(tests[0])] = NULL;
    registered_tests = names;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (nxl_test_add_suite("driver", suite_init, suite_cleanup, tests,
                           sizeof(tests) / sizeof(tests[0]))) {
        CU_cleanup_registry();
        return 1;
    }
    return nxl_test_run(NULL);
}

/* The libxl backend's instance lifecycle and inventory (xl_lifecycle.c):
 * the state behind drv->priv, the members that xl_driver.c puts in its
 * table, and the hooks the tests use.
 *
 * Every mutating member runs under the instance's lock (xl_store.h) and
 * journals its intent and each step durably before taking it, so that a
 * crash at any point leaves a journal from which init_host (or the next
 * operation on that instance) finishes or rolls back the operation. The
 * rules, per operation, are at the top of xl_lifecycle.c.
 */
#ifndef NOVAXL_XL_LIFECYCLE_H
#define NOVAXL_XL_LIFECYCLE_H

#include <pthread.h>
#include <stdbool.h>

#include "common/driver.h"
#include "common/internal.h"
#include "xl_driver/xl_port.h"
#include "xl_driver/xl_store.h"

/* How long a SOFT reboot waits for the guest before it falls back to a
 * HARD one (nova's libvirt driver waits 120 s too). */
#define NXL_XL_SOFT_REBOOT_TIMEOUT_MS 120000
/* The device QEMU opens an HVM guest's emulated NIC's tap through. */
#define NXL_XL_TUN_PATH "/dev/net/tun"

/* How often the event thread looks at every instance for what libxl
 * reports no event for (pause and unpause behind the driver's back), and
 * re-arms domain watches. Events libxl does report (shutdown, death) are
 * handled as they come. */
#define NXL_XL_EVENT_POLL_MS 1000

/* A pause nobody here made, found by the event thread's look, is told
 * once it has lasted this many poll intervals (10 s by default): libxl's
 * own destroy pauses a domain for seconds before it dies (see
 * ev_pause_settled in xl_lifecycle.c). */
#define NXL_XL_PAUSE_SETTLE_POLLS 10

/* How many destroyed domains' xenstore directories are watched for
 * leftovers at once, and for how long after the destroy. */
#define NXL_XL_SWEEP_MAX 32
#define NXL_XL_SWEEP_MS 60000

/* What the event thread knows per instance (xl_lifecycle.c). */
typedef struct nxl_xl_ev_known nxl_xl_ev_known;

/* The backend's state behind drv->priv. */
typedef struct nxl_xl_state {
    /* Guards port, store and the hooks below while init_host and
     * cleanup_host change them; operations read them after init_host. */
    pthread_mutex_t lock;
    /* The hypervisor port (one libxl_ctx). NULL until init_host opens it:
     * opening the driver must work on a host without Xen, so that tests
     * and the cli's dry runs need no hypervisor. */
    nxl_port *port;
    bool port_borrowed; /* a test's port: not ours to free */
    /* Records, journal and locks; opened by init_host. */
    nxl_xl_store store;
    bool store_open;
    /* Serial bridges and console log upkeep (xl_console.h). */
    struct nxl_xl_console *con;
    unsigned soft_reboot_timeout_ms;
    /* Checked before creating an HVM guest with an emulated NIC (its tap
     * is opened through it); NULL: not checked (a test's port). */
    const char *tun_path;

    /* Simulated crash (tests): the crash_at-th crash point of any
     * operation (a point right before or after a durable step) stops
     * that operation dead, as if the process had been killed there; the
     * driver then refuses everything until it is closed. 0: off. */
    unsigned crash_at;
    unsigned crash_count;
    bool dead;

    /* Events. The driver (for emit_event) while the event thread may run. */
    nxl_driver *drv;
    /* Guards everything below; never held while calling the listener or
     * the port. */
    pthread_mutex_t ev_lock;
    unsigned ev_poll_ms; /* 0: no event thread (tests of call logs) */
    bool ev_running;     /* ev_thread exists and must be joined */
    bool ev_stop;
    pthread_t ev_thread;
    /* The last power state the listener was told of, per instance, so
     * that an operation and the thread never report one change twice. */
    nxl_xl_ev_known *known;
    size_t n_known;
    /* Events waiting to reach the listener, in order; one thread at a
     * time delivers them, outside every lock. */
    nxl_event *pending;
    size_t n_pending;
    bool delivering;
    /* Domains this driver destroyed, whose xenstore leftovers are swept
     * for NXL_XL_SWEEP_MS after `noted_ms` (see sweep_dead_domains in
     * xl_lifecycle.c). */
    struct {
        uint32_t domid;
        uint64_t noted_ms;
    } sweep[NXL_XL_SWEEP_MAX];
    size_t n_sweep;
} nxl_xl_state;

NXL_HIDDEN int nxl__xl_state_new(nxl_xl_state **st_r, nxl_error *err);
NXL_HIDDEN void nxl__xl_state_free(nxl_xl_state *st);

/* ---- members (put in nxl_xl_driver_ops by xl_driver.c) ------------------ */

NXL_HIDDEN int nxl_xl_init_host(nxl_driver *drv, const char *host,
                                nxl_error *err);
NXL_HIDDEN int nxl_xl_cleanup_host(nxl_driver *drv, const char *host,
                                   nxl_error *err);
NXL_HIDDEN int nxl_xl_list_instances(nxl_driver *drv, nxl_strv *names_r,
                                     nxl_error *err);
NXL_HIDDEN int nxl_xl_list_instance_uuids(nxl_driver *drv, nxl_strv *uuids_r,
                                          nxl_error *err);
NXL_HIDDEN int nxl_xl_get_num_instances(nxl_driver *drv, size_t *n_r,
                                        nxl_error *err);
NXL_HIDDEN int nxl_xl_spawn(nxl_driver *drv, const nxl_spawn_req *req,
                            nxl_error *err);
NXL_HIDDEN int nxl_xl_destroy(nxl_driver *drv, const nxl_instance *inst,
                              const nxl_network_info *network_info,
                              const nxl_block_device_info *bdi,
                              bool destroy_disks, const char *migrate_data_json,
                              nxl_error *err);
/* nxl_instance_get_request(): the record's request as JSON. */
NXL_HIDDEN int nxl_xl_instance_request(nxl_driver *drv,
                                       const nxl_instance *inst, char **json_r,
                                       nxl_error *err);
NXL_HIDDEN int nxl_xl_get_info(nxl_driver *drv, const nxl_instance *inst,
                               nxl_instance_info *info_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_instance_exists(nxl_driver *drv, const nxl_instance *inst,
                                      bool *exists_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_reboot(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_network_info *network_info,
                             int reboot_type, const nxl_block_device_info *bdi,
                             nxl_bad_volumes_fn *bad_volumes, void *opaque,
                             nxl_error *err);
NXL_HIDDEN int nxl_xl_power_off(nxl_driver *drv, const nxl_instance *inst,
                                unsigned int timeout,
                                unsigned int retry_interval, nxl_error *err);
NXL_HIDDEN int nxl_xl_power_on(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_network_info *network_info,
                               const nxl_block_device_info *bdi,
                               nxl_error *err);
NXL_HIDDEN int nxl_xl_pause(nxl_driver *drv, const nxl_instance *inst,
                            nxl_error *err);
NXL_HIDDEN int nxl_xl_unpause(nxl_driver *drv, const nxl_instance *inst,
                              nxl_error *err);
NXL_HIDDEN int nxl_xl_trigger_crash_dump(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         nxl_error *err);
NXL_HIDDEN int nxl_xl_instance_on_disk(nxl_driver *drv,
                                       const nxl_instance *inst,
                                       bool *on_disk_r, nxl_error *err);
NXL_HIDDEN int nxl_xl_suspend(nxl_driver *drv, const nxl_instance *inst,
                              nxl_error *err);
NXL_HIDDEN int nxl_xl_resume(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_network_info *network_info,
                             const nxl_block_device_info *bdi, nxl_error *err);
NXL_HIDDEN int nxl_xl_soft_delete(nxl_driver *drv, const nxl_instance *inst,
                                  nxl_error *err);
NXL_HIDDEN int nxl_xl_restore(nxl_driver *drv, const nxl_instance *inst,
                              nxl_error *err);
NXL_HIDDEN int nxl_xl_cleanup(nxl_driver *drv, const nxl_instance *inst,
                              const nxl_network_info *network_info,
                              const nxl_block_device_info *bdi,
                              bool destroy_disks, const char *migrate_data_json,
                              bool destroy_vifs, nxl_error *err);
NXL_HIDDEN int nxl_xl_rebuild(nxl_driver *drv, const nxl_spawn_req *req,
                              nxl_block_devices_fn *block_devices, void *opaque,
                              bool recreate, bool preserve_ephemeral,
                              nxl_error *err);
NXL_HIDDEN int nxl_xl_rescue(nxl_driver *drv, const nxl_instance *inst,
                             const nxl_network_info *network_info,
                             const nxl_image_meta *image_meta,
                             const char *rescue_password, nxl_error *err);
NXL_HIDDEN int nxl_xl_unrescue(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_network_info *network_info,
                               nxl_error *err);
NXL_HIDDEN int nxl_xl_set_bootable(nxl_driver *drv, const nxl_instance *inst,
                                   bool is_bootable, nxl_error *err);
NXL_HIDDEN int
nxl_xl_resume_state_on_host_boot(nxl_driver *drv, const nxl_instance *inst,
                                 const nxl_network_info *network_info,
                                 const nxl_block_device_info *bdi,
                                 nxl_error *err);
NXL_HIDDEN int nxl_xl_poll_rebooting_instances(nxl_driver *drv,
                                               unsigned int timeout,
                                               const nxl_instance *instances,
                                               size_t n, nxl_error *err);
NXL_HIDDEN int nxl_xl_delete_instance_files(nxl_driver *drv,
                                            const nxl_instance *inst,
                                            bool *deleted_r, nxl_error *err);

/* ---- hooks for tests ------------------------------------------------------
 */

/* Makes init_host use port instead of opening libxl. With borrowed the
 * caller keeps ownership (so one fake hypervisor can outlive a "crashed"
 * driver and serve the next one); otherwise the driver frees it. Call
 * before init_host. NXL_E_INVAL when drv is not the libxl backend or
 * already has a port. */
NXL_HIDDEN int nxl__xl_driver_use_port(nxl_driver *drv, nxl_port *port,
                                       bool borrowed, nxl_error *err);
/* Arms the simulated crash at the k-th crash point from now (0: off). */
NXL_HIDDEN void nxl__xl_driver_crash_after(nxl_driver *drv, unsigned k);
/* Whether the simulated crash has happened. */
NXL_HIDDEN bool nxl__xl_driver_crashed(nxl_driver *drv);
NXL_HIDDEN void nxl__xl_driver_set_soft_reboot_timeout(nxl_driver *drv,
                                                       unsigned ms);
/* The event thread's poll interval (NXL_XL_EVENT_POLL_MS by default); 0
 * runs no event thread (the driver's own operations still emit their
 * events). Call before init_host, which starts the thread. */
NXL_HIDDEN void nxl__xl_driver_set_event_poll(nxl_driver *drv, unsigned ms);
/* The tun device spawn checks for an HVM guest's emulated NICs
 * (NXL_XL_TUN_PATH by default, not checked with a test's port until a
 * test sets one; NULL: not checked). path must outlive the driver. */
NXL_HIDDEN void nxl__xl_driver_set_tun_path(nxl_driver *drv, const char *path);

/* The save image of a suspended instance, and the temporary name it is
 * written under until complete: <instances_dir>/<uuid>/<name>. */
#define NXL_XL_SAVE_FILE "novaxl.save"
#define NXL_XL_SAVE_TEMP "novaxl.save.tmp"
/* A rescued instance's boot disk, made from the rescue image:
 * <instances_dir>/<uuid>/<name>. */
#define NXL_XL_RESCUE_DISK "disk.rescue"

#endif /* NOVAXL_XL_LIFECYCLE_H */

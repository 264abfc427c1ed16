/* Lab test: the rest of the driver's lifecycle and inventory through the
 * public API (nxl.h) on real Xen, in the lab's dom0 (exit 0 pass, 1 fail,
 * 77 skip off dom0).
 *
 * A foreign domain (`xl create -p`, not the driver's) sits beside the
 * driver's instance the whole time: it is never listed, counted or
 * touched. Spawns examples/pv-direct-kernel.json, then:
 *   destroy of an instance the driver does not know: success;
 *   inventory: list_instances, list_instance_uuids, get_num_instances,
 *     instance_exists, instance_on_disk, get_instance_disk_info (the real
 *     disk file), block_stats of xvda, get_all_volume_usage (no volumes);
 *   trigger_crash_dump: an NMI reaches the running guest (its kernel logs
 *     it on its console); refused with NOT_RUNNING once it is halted;
 *   reboot SOFT, honoured: the lab guest's /sbin/reboot (what its
 *     kernel's orderly reboot runs) reboots it: its console shows
 *     NOVAXL-GUEST-REBOOT and the kernel's "reboot: Restarting system",
 *     and it is RUNNING in a new domain before the driver's bound (made
 *     SOFT_BOUND_S here, 120 s by default) has passed;
 *   reboot SOFT, ignored: with NXL-IGNORE-REBOOT written at the start of
 *     its disk (from dom0) the guest ignores the request (its console says
 *     so), and the driver falls back to HARD after the bound: a new
 *     domain, RUNNING, after the bound and within the bound plus a create;
 *   reboot SOFT of a paused instance: HARD at once (a paused guest cannot
 *     answer): RUNNING well before the SOFT bound;
 *   power_off(timeout, retry_interval) the guest ignores (NXL-IGNORE-POWEROFF
 *     on its disk; its console says so): the request is made again every
 *     retry_interval (a second request seen in control/shutdown or a
 *     second "ignored" on the console), and the domain destroyed once
 *     timeout has passed:
 *     SHUTDOWN after timeout and within timeout plus a destroy (t20 shows
 *     a guest powering off on the request);
 *   set_bootable(false): power_on and reboot of the halted instance are
 *     refused (INVALID_STATE) and start nothing; set_bootable(true);
 *   reboot HARD of the halted instance: RUNNING;
 *   poll_rebooting_instances: a running instance is left alone; after an
 *     out-of-band `xl destroy` (whose only event is `stopped`: libxl
 *     pauses a domain before destroying it, which is no `paused`), the
 *     halted instance is rebooted HARD: RUNNING; an unknown one skipped;
 *   destroy: nothing left; the foreign domain still there and paused.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "common/driver.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xl_driver/xl_lifecycle.h"

#define BOOT_BOUND_S 90
#define EVENT_BOUND_S 25
/* The SOFT reboot bound set for this test, and what a domain create adds
 * on top under TCG. */
#define SOFT_BOUND_S 30
/* The bound while a SOFT reboot of a paused instance must not wait. */
#define PAUSED_SOFT_BOUND_S 150
#define CREATE_BOUND_S 60
#define POWER_OFF_TIMEOUT_S 8
#define POWER_OFF_RETRY_S 3
/* What makes the lab guest's /sbin/reboot (/sbin/poweroff) ignore the
 * request, at the start of one of its disks (lab/build-image.sh). */
#define IGNORE_REBOOT "NXL-IGNORE-REBOOT"
#define IGNORE_POWEROFF "NXL-IGNORE-POWEROFF"

#define FOREIGN_NAME "nxl-t23-foreign"
#define FOREIGN_UUID "0f0f0f0f-2323-4a4a-8b8b-0c0c0c0c0c0c"
#define UNKNOWN_UUID "00000000-2323-4000-8000-000000000023"

/* Writes data (len bytes) at the start of the guest's disk file, which
 * QEMU's qdisk serves it from. */
static bool poke_disk(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok =
        fd >= 0 && pwrite(fd, data, len, 0) == (ssize_t)len && fsync(fd) == 0;

    if (fd >= 0)
        close(fd);
    return nxl_lab_check(ok, "%zu bytes written at the start of %s", len, path);
}

/* Counts the poweroff requests a domain is sent while power_off runs:
 * the guest's kernel clears control/shutdown when it takes a request, so
 * each time the key turns from empty to "poweroff" the driver asked again
 * (a request the guest takes within one poll is missed). */
typedef struct shutdown_watch {
    pthread_t thread;
    int domid;
    volatile bool stop;
    int requests;
} shutdown_watch;

static void *shutdown_watch_run(void *opaque)
{
    shutdown_watch *w = opaque;
    struct xs_handle *xs = xs_open(0);
    char path[64];
    bool was = false;

    snprintf(path, sizeof(path), "/local/domain/%d/control/shutdown", w->domid);
    while (xs && !w->stop) {
        unsigned len = 0;
        char *v = xs_read(xs, XBT_NULL, path, &len);
        bool now = v && strcmp(v, "poweroff") == 0;

        if (now && !was)
            w->requests++;
        was = now;
        free(v);
        usleep(20 * 1000);
    }
    if (xs)
        xs_close(xs);
    return NULL;
}

static void check_inventory(nxl_driver *drv, const nxl_spawn_req *req,
                            const char *instances)
{
    const nxl_instance *inst = &req->instance;
    nxl_instance foreign = *inst;
    nxl_error err = NXL_ERROR_INIT;
    nxl_strv v;
    size_t n = 0;
    bool b = false;
    char path[1024];

    nxl_strv_init(&v);
    if (nxl_lab_ok_call(nxl_host_list_instances(drv, &v, &err), &err,
                        "list_instances"))
        nxl_lab_check(v.n == 1 && strcmp(v.v[0], inst->name) == 0,
                      "list_instances: only %s (%zu names)", inst->name, v.n);
    nxl_strv_dispose(&v);
    nxl_strv_init(&v);
    if (nxl_lab_ok_call(nxl_host_list_instance_uuids(drv, &v, &err), &err,
                        "list_instance_uuids"))
        nxl_lab_check(v.n == 1 && strcmp(v.v[0], inst->uuid) == 0,
                      "list_instance_uuids: only %s (%zu)", inst->uuid, v.n);
    nxl_strv_dispose(&v);
    nxl_lab_check(nxl_host_get_num_instances(drv, &n, NULL) == 0 && n == 1,
                  "get_num_instances 1, the foreign domain not counted "
                  "(%zu)",
                  n);
    memcpy(foreign.uuid, FOREIGN_UUID, sizeof(foreign.uuid));
    nxl_lab_check(nxl_lab_info(drv, &foreign, NULL) == NXL_E_NOT_FOUND,
                  "get_info of the foreign domain's UUID: NOT_FOUND");
    nxl_lab_check(nxl_instance_exists(drv, inst, &b, NULL) == 0 && b,
                  "instance_exists");
    b = false;
    nxl_lab_check(nxl_instance_on_disk(drv, inst, &b, NULL) == 0 && b,
                  "instance_on_disk");
    {
        nxl_disk_info_list dl;
        struct stat sb;

        snprintf(path, sizeof(path), "%s/%s/disk", instances, inst->uuid);
        nxl_disk_info_list_init(&dl);
        if (nxl_lab_ok_call(
                nxl_instance_get_disk_info(drv, inst, NULL, &dl, &err), &err,
                "get_instance_disk_info"))
            nxl_lab_check(
                dl.n == 1 && dl.items[0].path &&
                    strcmp(dl.items[0].path, path) == 0 &&
                    stat(path, &sb) == 0 &&
                    dl.items[0].virt_disk_size == (uint64_t)sb.st_size,
                "disk info: %s, %llu bytes as on disk",
                dl.n ? dl.items[0].path : "(none)",
                dl.n ? (unsigned long long)dl.items[0].virt_disk_size : 0ULL);
        nxl_disk_info_list_dispose(&dl);
    }
    {
        nxl_block_stats bs;
        int rc;

        memset(&bs, 0, sizeof(bs));
        rc = nxl_instance_block_stats(drv, inst, "xvda", &bs, &err);
        /* The lab serves instance disks with qdisk: QEMU counts the
         * guest's reads (its statistics QMP monitor). */
        nxl_lab_check(rc == 0 && bs.rd_req > 0,
                      "block_stats xvda: rd_req %lld rd_bytes %lld%s%s",
                      (long long)bs.rd_req, (long long)bs.rd_bytes,
                      rc ? ": " : "", rc ? nxl_error_message(&err) : "");
        nxl_error_dispose(&err);
        nxl_lab_check(nxl_instance_block_stats(drv, inst, "xvdz", &bs, NULL) <
                          0,
                      "block_stats of a disk it has not: an error");
    }
    {
        nxl_instance_bdms hb = {inst, &req->block_device_info};
        nxl_volume_usage_list vu;

        nxl_volume_usage_list_init(&vu);
        if (nxl_lab_ok_call(
                nxl_host_get_all_volume_usage(drv, &hb, 1, &vu, &err), &err,
                "get_all_volume_usage"))
            nxl_lab_check(vu.n == 0, "no volumes, no usage (%zu)", vu.n);
        nxl_volume_usage_list_dispose(&vu);
    }
}

int main(void)
{
    char root[512], images[512], instances[512], path[1024], log[1024];
    char disk[1024];
    char line[512];
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req req;
    nxl_instance *inst, unknown;
    nxl_lab_env env;
    char *doc = NULL;
    int d1 = -1, d2 = -1, st, boots, ignored;
    shutdown_watch watch = {0};
    int reasked;
    bool watching;
    size_t mark;
    double t;
    bool b;

    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    nxl_lab_env_load(&env);
    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", env.examples);
    if (!nxl_lab_read_request(path, &req, &doc))
        return 1;
    inst = &req.instance;
    unknown = *inst;
    memcpy(unknown.uuid, UNKNOWN_UUID, sizeof(unknown.uuid));
    if (!nxl_lab_make_root("t23", &env, inst, root, images, instances) ||
        !nxl_lab_xl_create_foreign(root, &env, FOREIGN_NAME, FOREIGN_UUID) ||
        !nxl_lab_open_driver(images, instances, env.logdir, nxl_lab_listener,
                             &drv))
        return 1;
    nxl__xl_driver_set_soft_reboot_timeout(drv, SOFT_BOUND_S * 1000);
    nxl_lab_step_done("setup + foreign domain");

    nxl_lab_ok_call(
        nxl_instance_destroy(drv, &unknown, NULL, NULL, true, NULL, &err), &err,
        "destroy of an unknown instance: success");

    snprintf(log, sizeof(log), "%s/guest-%s.log", env.logdir, inst->name);
    boots = nxl_lab_count_in_file(log, env.marker);
    if (!nxl_lab_ok_call(nxl_instance_spawn(drv, &req, &err), &err, "spawn"))
        goto out;
    nxl_lab_check(nxl_lab_wait_marker(log, env.marker, boots, BOOT_BOUND_S),
                  "guest marker");
    nxl_lab_step_done("spawn + marker");
    check_inventory(drv, &req, instances);
    nxl_lab_step_done("inventory");

    /* NMI: the guest kernel says "NMI received for unknown reason". */
    boots = nxl_lab_count_in_file(log, "NMI");
    nxl_lab_ok_call(nxl_instance_trigger_crash_dump(drv, inst, &err), &err,
                    "trigger_crash_dump (running)");
    nxl_lab_check(nxl_lab_wait_marker(log, "NMI", boots, 15),
                  "the guest kernel logged the NMI");
    nxl_lab_last_line(log, "NMI", line, sizeof(line));
    printf("  guest: %s\n", line);
    nxl_lab_step_done("trigger_crash_dump");

    /* SOFT reboot, honoured by the guest: well before the bound. */
    st = nxl_lab_state_domid(drv, inst, &d1);
    boots = nxl_lab_count_in_file(log, env.marker);
    ignored = nxl_lab_count_in_file(log, "NOVAXL-GUEST-REBOOT ignored");
    {
        int asked = nxl_lab_count_in_file(log, "NOVAXL-GUEST-REBOOT");
        int restarts = nxl_lab_count_in_file(log, "reboot: Restarting system");

        t = nxl_lab_now();
        nxl_lab_ok_call(nxl_instance_reboot(drv, inst, NULL, NXL_REBOOT_SOFT,
                                            NULL, NULL, NULL, &err),
                        &err, "reboot SOFT");
        t = nxl_lab_now() - t;
        st = nxl_lab_state_domid(drv, inst, &d2);
        nxl_lab_check(st == NXL_POWER_RUNNING && d2 > 0 && d2 != d1,
                      "RUNNING in a new domain (%d -> %d)", d1, d2);
        nxl_lab_check(t < SOFT_BOUND_S,
                      "the guest rebooted itself: %.1f s, "
                      "before the %d s bound",
                      t, SOFT_BOUND_S);
        nxl_lab_check(
            nxl_lab_count_in_file(log, "NOVAXL-GUEST-REBOOT") > asked &&
                nxl_lab_count_in_file(log, "NOVAXL-GUEST-REBOOT ignored") ==
                    ignored,
            "the guest's /sbin/reboot ran (NOVAXL-GUEST-REBOOT)");
        nxl_lab_check(
            nxl_lab_wait_marker(log, "reboot: Restarting system", restarts, 10),
            "the guest kernel restarted in order "
            "(\"reboot: Restarting system\")");
    }
    nxl_lab_check(nxl_lab_wait_marker(log, env.marker, boots, BOOT_BOUND_S),
                  "guest marker after the reboot");
    nxl_lab_step_done("reboot SOFT (guest)");

    /* SOFT reboot the guest ignores: HARD after the bound. */
    d1 = d2;
    snprintf(disk, sizeof(disk), "%s/%s/disk", instances, inst->uuid);
    poke_disk(disk, IGNORE_REBOOT, strlen(IGNORE_REBOOT));
    t = nxl_lab_now();
    nxl_lab_ok_call(nxl_instance_reboot(drv, inst, NULL, NXL_REBOOT_SOFT, NULL,
                                        NULL, NULL, &err),
                    &err, "reboot SOFT (ignored)");
    t = nxl_lab_now() - t;
    st = nxl_lab_state_domid(drv, inst, &d2);
    nxl_lab_check(st == NXL_POWER_RUNNING && d2 > 0 && d2 != d1,
                  "RUNNING in a new domain (%d -> %d)", d1, d2);
    nxl_lab_check(nxl_lab_count_in_file(log, "NOVAXL-GUEST-REBOOT ignored") >
                      ignored,
                  "the guest ignored the request (NOVAXL-GUEST-REBOOT "
                  "ignored)");
    nxl_lab_check(t >= SOFT_BOUND_S && t < SOFT_BOUND_S + CREATE_BOUND_S,
                  "the guest did not reboot: HARD after the bound (%.1f s, "
                  "bound %d s)",
                  t, SOFT_BOUND_S);
    poke_disk(disk, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
              strlen(IGNORE_REBOOT));
    nxl_lab_step_done("reboot SOFT -> HARD fallback");

    /* From paused: no asking, HARD at once. A paused guest cannot answer,
     * so a driver that asked would wait out the whole bound: a long one
     * here tells the two apart by a wide margin, however slow the HARD
     * reboot itself is on a loaded machine (31 s was seen). */
    nxl__xl_driver_set_soft_reboot_timeout(drv, PAUSED_SOFT_BOUND_S * 1000);
    nxl_lab_ok_call(nxl_instance_pause(drv, inst, &err), &err, "pause");
    d1 = d2;
    t = nxl_lab_now();
    nxl_lab_ok_call(nxl_instance_reboot(drv, inst, NULL, NXL_REBOOT_SOFT, NULL,
                                        NULL, NULL, &err),
                    &err, "reboot SOFT of the paused instance");
    t = nxl_lab_now() - t;
    nxl__xl_driver_set_soft_reboot_timeout(drv, SOFT_BOUND_S * 1000);
    /* The new domain has just been unpaused: its marker is seconds away
     * (the one it replaced was paused before it printed one). */
    boots = nxl_lab_count_in_file(log, env.marker);
    st = nxl_lab_state_domid(drv, inst, &d2);
    nxl_lab_check(st == NXL_POWER_RUNNING && d2 != d1 &&
                      t < PAUSED_SOFT_BOUND_S,
                  "RUNNING in a new domain (%d -> %d) without waiting for "
                  "the guest (%.1f s, the bound %d s)",
                  d1, d2, t, PAUSED_SOFT_BOUND_S);
    nxl_lab_step_done("reboot from paused");

    /* power_off the guest ignores: asked every retry interval, destroyed
     * once the timeout has passed. Only once it is up: a kernel still
     * booting forces the power-off (its /sbin/poweroff is not there yet). */
    nxl_lab_check(nxl_lab_wait_marker(log, env.marker, boots, BOOT_BOUND_S),
                  "guest marker after the reboot from paused");
    poke_disk(disk, IGNORE_POWEROFF, strlen(IGNORE_POWEROFF));
    ignored = nxl_lab_count_in_file(log, "NOVAXL-GUEST-POWEROFF ignored");
    watch.domid = d2;
    watching =
        pthread_create(&watch.thread, NULL, shutdown_watch_run, &watch) == 0;
    t = nxl_lab_now();
    nxl_lab_ok_call(nxl_instance_power_off(drv, inst, POWER_OFF_TIMEOUT_S,
                                           POWER_OFF_RETRY_S, &err),
                    &err, "power_off(8, 3)");
    t = nxl_lab_now() - t;
    if (watching) {
        watch.stop = true;
        pthread_join(watch.thread, NULL);
    }
    st = nxl_lab_state_domid(drv, inst, &d2);
    nxl_lab_check(st == NXL_POWER_SHUTDOWN && d2 == -1 &&
                      nxl_lab_domains_with(inst->uuid) == 0,
                  "SHUTDOWN, no domain");
    nxl_lab_check(
        nxl_lab_wait_marker(log, "NOVAXL-GUEST-POWEROFF ignored", ignored, 5),
        "the guest ignored the request (NOVAXL-GUEST-POWEROFF "
        "ignored)");
    /* Asked at 0, 3 and 6 s. Either witness of a second request will do:
     * the poller misses one the guest takes within a poll, and a guest
     * answers each request it takes with one more "ignored" line, but may
     * take a request late enough that the next is already written. */
    reasked =
        nxl_lab_count_in_file(log, "NOVAXL-GUEST-POWEROFF ignored") - ignored;
    nxl_lab_check(watching && (watch.requests >= 2 || reasked >= 2),
                  "poweroff asked again every %d s: %d request(s) seen in "
                  "control/shutdown, %d ignored on the console",
                  POWER_OFF_RETRY_S, watch.requests, reasked);
    nxl_lab_check(t >= POWER_OFF_TIMEOUT_S &&
                      t < POWER_OFF_TIMEOUT_S + CREATE_BOUND_S,
                  "destroyed once the %d s timeout passed (%.1f s)",
                  POWER_OFF_TIMEOUT_S, t);
    poke_disk(disk, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
              strlen(IGNORE_POWEROFF));
    nxl_lab_check(nxl_instance_trigger_crash_dump(drv, inst, NULL) ==
                      NXL_E_NOT_RUNNING,
                  "trigger_crash_dump of a halted instance: NOT_RUNNING");
    b = true;
    nxl_lab_check(nxl_instance_exists(drv, inst, &b, NULL) == 0,
                  "instance_exists of the halted instance: %s",
                  b ? "true" : "false");
    nxl_lab_step_done("power_off timeout");

    /* set_bootable */
    nxl_lab_ok_call(nxl_instance_set_bootable(drv, inst, false, &err), &err,
                    "set_bootable(false)");
    nxl_lab_check(nxl_instance_power_on(drv, inst, NULL, NULL, NULL) ==
                      NXL_E_INVALID_STATE,
                  "power_on refused: INVALID_STATE");
    nxl_lab_check(nxl_instance_reboot(drv, inst, NULL, NXL_REBOOT_HARD, NULL,
                                      NULL, NULL, NULL) == NXL_E_INVALID_STATE,
                  "reboot of the halted instance refused: INVALID_STATE");
    nxl_lab_check(nxl_lab_info(drv, inst, NULL) == NXL_POWER_SHUTDOWN &&
                      nxl_lab_domains_with(inst->uuid) == 0,
                  "still SHUTDOWN, no domain");
    nxl_lab_ok_call(nxl_instance_set_bootable(drv, inst, true, &err), &err,
                    "set_bootable(true)");
    nxl_lab_ok_call(nxl_instance_reboot(drv, inst, NULL, NXL_REBOOT_HARD, NULL,
                                        NULL, NULL, &err),
                    &err, "reboot HARD of the halted instance");
    st = nxl_lab_state_domid(drv, inst, &d1);
    nxl_lab_check(st == NXL_POWER_RUNNING && d1 > 0, "RUNNING (domid %d)", d1);
    nxl_lab_step_done("set_bootable, reboot from halted");

    /* poll_rebooting_instances */
    {
        nxl_instance both[2] = {*inst, unknown};

        nxl_lab_ok_call(
            nxl_host_poll_rebooting_instances(drv, 60, both, 2, &err), &err,
            "poll_rebooting_instances (running)");
        st = nxl_lab_state_domid(drv, inst, &d2);
        nxl_lab_check(st == NXL_POWER_RUNNING && d2 == d1,
                      "a running instance is left alone (%d)", d2);
        mark = nxl_lab_events_seen();
        t = nxl_lab_now();
        nxl_lab_xl("destroy", inst->name);
        printf("  xl destroy took %.1f s\n", nxl_lab_now() - t);
        nxl_lab_check(nxl_lab_wait_state(drv, inst, NXL_POWER_SHUTDOWN,
                                         EVENT_BOUND_S, NULL),
                      "SHUTDOWN after xl destroy");
        nxl_lab_check(nxl_lab_wait_event(inst->uuid, NXL_EVENT_STOPPED, mark,
                                         EVENT_BOUND_S),
                      "stopped event");
        /* One poll interval more, so a late `paused` would show. */
        sleep(2);
        nxl_lab_event_names(inst->uuid, mark, line, sizeof(line));
        nxl_lab_check(strcmp(line, "stopped") == 0,
                      "exactly one event, stopped: '%s'", line);
        nxl_lab_ok_call(
            nxl_host_poll_rebooting_instances(drv, 60, both, 2, &err), &err,
            "poll_rebooting_instances (halted, unknown)");
        st = nxl_lab_state_domid(drv, inst, &d2);
        nxl_lab_check(st == NXL_POWER_RUNNING && d2 > 0 && d2 != d1,
                      "the halted instance rebooted: RUNNING (%d -> %d)", d1,
                      d2);
    }
    nxl_lab_step_done("poll_rebooting_instances");

out:
    nxl_lab_ok_call(
        nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err), &err,
        "destroy");
    nxl_lab_check_nothing_left(drv, inst, instances);
    nxl_lab_check(nxl_lab_xl_paused(FOREIGN_NAME, line, sizeof(line)),
                  "the foreign domain is still there, paused: %s", line);
    nxl_lab_xl("destroy", FOREIGN_NAME);
    nxl_lab_ok_call(nxl_driver_register_event_listener(drv, NULL, NULL, &err),
                    &err, "unregister the listener");
    nxl_lab_ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&req);
    free(doc);
    nxl_lab_step_done("destroy");
    return nxl_lab_finish();
}

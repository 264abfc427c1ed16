/* Lab test: more of the driver's lifecycle through the public API (nxl.h)
 * on real Xen, in the lab's dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * Spawns examples/pv-direct-kernel.json (image ids linked to the lab's
 * guest kernel and initramfs in a private image cache), then:
 *   emit_event   (suspended) delivered to the listener before it returns;
 *                an unknown transition refused, nothing delivered;
 *   suspend      SUSPENDED, a save image in the instance dir, no domain;
 *   resume       RUNNING, the guest alive (its vCPU time grows);
 *   xl pause     (out of band) PAUSED, and a `paused` event reaches the
 *                listener from the driver's event thread; xl unpause:
 *                `resumed`;
 *   soft_delete  no domain; restore: RUNNING;
 *   rebuild      (same image, preserve_ephemeral false) RUNNING in a new
 *                domain, the guest's marker on its console again;
 *   rescue       (the same kernel image as rescue image) the rescue
 *                domain runs, boots (marker) with both disks; unrescue:
 *                RUNNING in a new domain;
 *   xl destroy   (out of band) SHUTDOWN and a `stopped` event;
 *   destroy      nothing left: no domain, record, journal, lock or
 *                instance directory.
 * Every wait is bounded by time; one line per step with its duration.
 * PVH is t28-pvh-suspend's (this test alone takes most of the per-test
 * bound under TCG).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"

/* Bounds, in seconds: a PV guest prints its marker 20-25 s after create
 * under TCG; an event comes within the event thread's poll (1 s) plus a
 * scan, and an out-of-band pause once it has lasted
 * NXL_XL_PAUSE_SETTLE_POLLS polls (10 s). */
#define PV_BOOT_BOUND_S 90
#define EVENT_BOUND_S 25
#define ALIVE_BOUND_S 20

/* The PV instance's life after spawn; false when a later step would make
 * no sense (the caller then destroys it). */
static bool pv_steps(nxl_driver *drv, nxl_spawn_req *req, const char *instances,
                     const char *log, const char *marker)
{
    const nxl_instance *inst = &req->instance;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance_info i;
    char path[1024], line[512];
    int boots, d1, d2, ps;
    size_t mark;

    nxl_instance_info_init(&i);
    if (!nxl_lab_suspend_checked(drv, inst, instances))
        return false;
    nxl_lab_step_done("suspend");
    if (!nxl_lab_resume_checked(drv, inst, instances, log, marker,
                                ALIVE_BOUND_S))
        return false;
    nxl_lab_step_done("resume");

    /* out-of-band pause and unpause, seen by the event thread */
    mark = nxl_lab_events_seen();
    nxl_lab_xl("pause", inst->name);
    nxl_lab_check(nxl_lab_info(drv, inst, NULL) == NXL_POWER_PAUSED,
                  "get_info PAUSED");
    nxl_lab_check(
        nxl_lab_wait_event(inst->uuid, NXL_EVENT_PAUSED, mark, EVENT_BOUND_S),
        "paused event from the event thread");
    nxl_lab_step_done("xl pause -> paused event");
    mark = nxl_lab_events_seen();
    nxl_lab_xl("unpause", inst->name);
    nxl_lab_check(nxl_lab_info(drv, inst, NULL) == NXL_POWER_RUNNING,
                  "get_info RUNNING");
    nxl_lab_check(
        nxl_lab_wait_event(inst->uuid, NXL_EVENT_RESUMED, mark, EVENT_BOUND_S),
        "resumed event from the event thread");
    nxl_lab_step_done("xl unpause -> resumed event");

    /* soft_delete and restore */
    if (!nxl_lab_ok_call(nxl_instance_soft_delete(drv, inst, &err), &err,
                         "soft_delete"))
        return false;
    nxl_lab_check(nxl_lab_domains_with(inst->uuid) == 0,
                  "no domain with the UUID");
    ps = nxl_lab_info(drv, inst, &i);
    nxl_lab_check(ps == NXL_POWER_SHUTDOWN && i.domid == -1,
                  "get_info SHUTDOWN, no domain");
    nxl_lab_step_done("soft_delete");
    if (!nxl_lab_ok_call(nxl_instance_restore(drv, inst, &err), &err,
                         "restore"))
        return false;
    ps = nxl_lab_info(drv, inst, &i);
    nxl_lab_check(ps == NXL_POWER_RUNNING && i.domid > 0,
                  "get_info RUNNING (domid %d)", i.domid);
    nxl_lab_step_done("restore");

    /* rebuild from the same image */
    d1 = i.domid;
    boots = nxl_lab_count_in_file(log, marker);
    if (!nxl_lab_ok_call(
            nxl_instance_rebuild(drv, req, NULL, NULL, false, false, &err),
            &err, "rebuild (same image, preserve_ephemeral false)"))
        return false;
    d2 = nxl_lab_info(drv, inst, &i) == NXL_POWER_RUNNING ? i.domid : -1;
    nxl_lab_check(d2 > 0 && d2 != d1,
                  "get_info RUNNING in a new domain (%d -> %d)", d1, d2);
    nxl_lab_check(nxl_lab_wait_marker(log, marker, boots, PV_BOOT_BOUND_S),
                  "rebuilt guest booted (marker)");
    nxl_lab_step_done("rebuild + marker");

    /* rescue with the instance's own kernel image as rescue image */
    d1 = d2;
    boots = nxl_lab_count_in_file(log, marker);
    if (!nxl_lab_ok_call(
            nxl_instance_rescue(drv, inst, NULL, &req->image_meta, NULL, &err),
            &err, "rescue (image nxl-lab-kernel)"))
        return false;
    d2 = nxl_lab_info(drv, inst, &i) == NXL_POWER_RUNNING ? i.domid : -1;
    nxl_lab_check(d2 > 0 && d2 != d1, "rescue domain RUNNING (%d -> %d)", d1,
                  d2);
    snprintf(path, sizeof(path), "%s/%s/disk.rescue", instances, inst->uuid);
    nxl_lab_check(nxl_lab_is_file(path), "rescue disk %s", path);
    if (nxl_lab_check(nxl_lab_wait_marker(log, marker, boots, PV_BOOT_BOUND_S),
                      "rescue guest booted (marker)")) {
        /* The guest lists its disks once they are there (10 s at most). */
        nxl_lab_wait_last_line(log, "NOVAXL-GUEST-DEVS", "xvdb", 15, line,
                               sizeof(line));
        nxl_lab_check(strstr(line, "xvda") && strstr(line, "xvdb"),
                      "rescue guest sees the rescue disk and its own: %s",
                      line);
    }
    nxl_lab_step_done("rescue + marker");
    d1 = d2;
    if (!nxl_lab_ok_call(nxl_instance_unrescue(drv, inst, NULL, &err), &err,
                         "unrescue"))
        return false;
    d2 = nxl_lab_info(drv, inst, &i) == NXL_POWER_RUNNING ? i.domid : -1;
    nxl_lab_check(d2 > 0 && d2 != d1,
                  "get_info RUNNING in a new domain (%d -> %d)", d1, d2);
    nxl_lab_check(!nxl_lab_is_file(path), "rescue disk gone");
    nxl_lab_step_done("unrescue");

    /* out-of-band destroy: halted, and told */
    mark = nxl_lab_events_seen();
    nxl_lab_xl("destroy", inst->name);
    nxl_lab_check(
        nxl_lab_wait_state(drv, inst, NXL_POWER_SHUTDOWN, EVENT_BOUND_S, &i) &&
            i.domid == -1,
        "get_info SHUTDOWN, no domain");
    nxl_lab_check(
        nxl_lab_wait_event(inst->uuid, NXL_EVENT_STOPPED, mark, EVENT_BOUND_S),
        "stopped event from the event thread");
    /* libxl's destroy pauses the domain for seconds before it dies: that
     * is no `paused` (xl_lifecycle.c, ev_pause_settled). */
    nxl_lab_event_names(inst->uuid, mark, line, sizeof(line));
    nxl_lab_check(strcmp(line, "stopped") == 0,
                  "exactly one event, stopped: '%s'", line);
    nxl_lab_step_done("xl destroy -> stopped event");
    return true;
}

/* emit_event: the driver hands a pool manager's event to the listener
 * the lab registered, at once; a bad one is refused and never delivered. */
static void emit_checked(nxl_driver *drv, const char *uuid)
{
    nxl_error err = NXL_ERROR_INIT;
    struct timespec now;
    nxl_event ev;
    size_t mark = nxl_lab_events_seen();
    char names[256];
    int rc;

    memset(&ev, 0, sizeof(ev));
    snprintf(ev.uuid, sizeof(ev.uuid), "%s", uuid);
    ev.transition = NXL_EVENT_SUSPENDED;
    clock_gettime(CLOCK_REALTIME, &now);
    ev.timestamp_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    nxl_lab_ok_call(nxl_driver_emit_event(drv, &ev, &err), &err,
                    "emit_event(suspended)");
    /* Synchronous: seen the moment the call returns, no waiting. */
    nxl_lab_event_names(uuid, mark, names, sizeof(names));
    nxl_lab_check(strstr(names, "suspended") != NULL,
                  "emit_event: delivered to the listener before it returned "
                  "(%s)",
                  names[0] ? names : "none");
    mark = nxl_lab_events_seen();
    ev.transition = 12345;
    rc = nxl_driver_emit_event(drv, &ev, &err);
    nxl_lab_check(rc == NXL_E_INVAL,
                  "emit_event of an unknown transition: INVAL (%s)",
                  nxl_error_message(&err));
    nxl_error_dispose(&err);
    nxl_lab_event_names(uuid, mark, names, sizeof(names));
    nxl_lab_check(strstr(names, "unknown") == NULL,
                  "emit_event: nothing delivered for it (%s)",
                  names[0] ? names : "none");
}

int main(void)
{
    char root[512], images[512], instances[512], path[1024], log[1024];
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req pv;
    nxl_instance_info i;
    char *doc = NULL;
    const char *marker, *logdir;
    nxl_lab_env env;
    int boots, st;

    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    nxl_lab_env_load(&env);
    marker = env.marker;
    logdir = env.logdir;
    nxl_instance_info_init(&i);

    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", env.examples);
    if (!nxl_lab_read_request(path, &pv, &doc))
        return 1;
    if (!nxl_lab_make_root("t22", &env, &pv.instance, root, images,
                           instances) ||
        !nxl_lab_open_driver(images, instances, logdir, nxl_lab_listener, &drv))
        return 1;
    nxl_lab_step_done("setup");

    /* The PV guest. */
    snprintf(log, sizeof(log), "%s/guest-%s.log", logdir, pv.instance.name);
    boots = nxl_lab_count_in_file(log, marker);
    if (nxl_lab_ok_call(nxl_instance_spawn(drv, &pv, &err), &err, "spawn PV")) {
        nxl_lab_check(nxl_lab_wait_marker(log, marker, boots, PV_BOOT_BOUND_S),
                      "guest marker %s in %s", marker, log);
        st = nxl_lab_info(drv, &pv.instance, &i);
        nxl_lab_check(st == NXL_POWER_RUNNING, "get_info RUNNING (domid %d)",
                      i.domid);
        nxl_lab_step_done("spawn PV + marker");
        emit_checked(drv, pv.instance.uuid);
        pv_steps(drv, &pv, instances, log, marker);
    }
    nxl_lab_ok_call(
        nxl_instance_destroy(drv, &pv.instance, NULL, NULL, true, NULL, &err),
        &err, "destroy PV");
    nxl_lab_check_nothing_left(drv, &pv.instance, instances);
    nxl_lab_check(nxl_lab_dir_entries(instances) == 1,
                  "only the store's own dir left");
    nxl_lab_step_done("destroy PV");

    nxl_lab_ok_call(nxl_driver_register_event_listener(drv, NULL, NULL, &err),
                    &err, "unregister the listener");
    nxl_lab_ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&pv);
    free(doc);
    return nxl_lab_finish();
}

/* Lab test: the driver's lifecycle through the public API (nxl.h) on real
 * Xen, in the lab's dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * Spawns examples/pv-direct-kernel.json (its image ids are linked to the
 * lab's guest kernel and initramfs in a private image cache), waits for
 * the guest's marker on its console, then drives it: get_info RUNNING,
 * pause -> PAUSED, unpause -> RUNNING, power_off -> SHUTDOWN, power_on
 * (boots again: a second marker), HARD reboot (a new domain), destroy,
 * and checks that nothing is left: no domain with the UUID, no record,
 * no journal, no lock file, no instance directory.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"

#define BOOT_BOUND_S 120

int main(void)
{
    char root[512], path[1024], images[512], instances[512], log[1024];
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req req;
    nxl_instance *inst;
    char *doc = NULL;
    size_t n = 0;
    int d1 = -1, d2 = -1, boots, offs;
    double t;
    const char *marker, *logdir;
    nxl_lab_env env;

    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    nxl_lab_env_load(&env);
    marker = env.marker;
    logdir = env.logdir;
    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", env.examples);
    if (!nxl_lab_read_request(path, &req, &doc))
        return 1;
    inst = &req.instance;

    if (!nxl_lab_make_root("t20", &env, inst, root, images, instances))
        return 1;
    snprintf(log, sizeof(log), "%s/guest-%s.log", logdir, inst->name);
    boots = nxl_lab_count_in_file(log, marker);

    if (!nxl_lab_open_driver(images, instances, logdir, NULL, &drv))
        return 1;

    if (!nxl_lab_ok_call(nxl_instance_spawn(drv, &req, &err), &err, "spawn"))
        goto out;
    nxl_lab_check(nxl_lab_wait_marker(log, marker, boots, BOOT_BOUND_S),
                  "guest marker %s in %s", marker, log);
    boots = nxl_lab_count_in_file(log, marker);
    nxl_lab_check(nxl_lab_state_domid(drv, inst, &d1) == NXL_POWER_RUNNING,
                  "get_info RUNNING (%d)", d1);
    nxl_lab_check(nxl_host_get_num_instances(drv, &n, NULL) == 0 && n == 1,
                  "get_num_instances 1 (%zu)", n);

    nxl_lab_ok_call(nxl_instance_pause(drv, inst, &err), &err, "pause");
    nxl_lab_check(nxl_lab_state_domid(drv, inst, NULL) == NXL_POWER_PAUSED,
                  "get_info PAUSED");
    nxl_lab_check(nxl_instance_pause(drv, inst, NULL) == NXL_E_INVALID_STATE,
                  "pause of a paused instance: NXL_E_INVALID_STATE");
    nxl_lab_ok_call(nxl_instance_unpause(drv, inst, &err), &err, "unpause");
    nxl_lab_check(nxl_lab_state_domid(drv, inst, NULL) == NXL_POWER_RUNNING,
                  "get_info RUNNING");

    offs = nxl_lab_count_in_file(log, "NOVAXL-GUEST-POWEROFF");
    t = nxl_lab_now();
    nxl_lab_ok_call(nxl_instance_power_off(drv, inst, 30, 5, &err), &err,
                    "power_off(30, 5)");
    t = nxl_lab_now() - t;
    nxl_lab_check(nxl_lab_state_domid(drv, inst, &d2) == NXL_POWER_SHUTDOWN &&
                      d2 == -1,
                  "get_info SHUTDOWN, no domain");
    /* Clean: the guest's own /sbin/poweroff ran, well before the
     * timeout (t23 shows the destroy after it). */
    nxl_lab_check(
        nxl_lab_wait_marker(log, "NOVAXL-GUEST-POWEROFF", offs, 5) && t < 30,
        "the guest powered off on the request (NOVAXL-GUEST-POWEROFF, "
        "%.1f s)",
        t);
    nxl_lab_check(nxl_lab_domains_with(inst->uuid) == 0,
                  "no domain with the UUID");

    nxl_lab_ok_call(nxl_instance_power_on(drv, inst, NULL, NULL, &err), &err,
                    "power_on");
    nxl_lab_check(nxl_lab_wait_marker(log, marker, boots, BOOT_BOUND_S),
                  "guest booted again (marker)");
    boots = nxl_lab_count_in_file(log, marker);
    nxl_lab_check(nxl_lab_state_domid(drv, inst, &d1) == NXL_POWER_RUNNING,
                  "get_info RUNNING (%d)", d1);

    nxl_lab_ok_call(nxl_instance_reboot(drv, inst, NULL, NXL_REBOOT_HARD, NULL,
                                        NULL, NULL, &err),
                    &err, "reboot HARD");
    nxl_lab_check(nxl_lab_state_domid(drv, inst, &d2) == NXL_POWER_RUNNING &&
                      d2 != d1,
                  "get_info RUNNING in a new domain (%d -> %d)", d1, d2);
    nxl_lab_check(nxl_lab_wait_marker(log, marker, boots, BOOT_BOUND_S),
                  "guest booted again (marker)");

out:
    nxl_lab_ok_call(
        nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err), &err,
        "destroy");
    nxl_lab_check_nothing_left(drv, inst, instances);
    nxl_lab_check(nxl_lab_dir_entries(instances) == 1,
                  "only the store's own dir left");
    nxl_lab_ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&req);
    free(doc);
    return nxl_lab_finish();
}

/* Lab test: a PVH guest through the driver on real Xen, in the lab's dom0
 * (exit 0 pass, 1 fail, 77 skip off dom0): spawn of
 * examples/pvh-direct-kernel.json, its marker on the console, suspend
 * (SUSPENDED, a save image, no domain), resume (RUNNING, the same guest
 * goes on: no new boot, its vCPU time grows, the image gone), destroy
 * (nothing left).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"

/* A PVH guest prints its marker 20-50 s after create under TCG. */
#define PVH_BOOT_BOUND_S 120
#define ALIVE_BOUND_S 20

int main(void)
{
    char root[512], images[512], instances[512], path[1024], log[1024];
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req req;
    nxl_instance *inst;
    nxl_instance_info i;
    nxl_lab_env env;
    char *doc = NULL;
    int boots, st;

    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    nxl_lab_env_load(&env);
    nxl_instance_info_init(&i);
    snprintf(path, sizeof(path), "%s/pvh-direct-kernel.json", env.examples);
    if (!nxl_lab_read_request(path, &req, &doc))
        return 1;
    inst = &req.instance;
    if (!nxl_lab_make_root("t28", &env, inst, root, images, instances) ||
        !nxl_lab_open_driver(images, instances, env.logdir, NULL, &drv))
        return 1;
    snprintf(log, sizeof(log), "%s/guest-%s.log", env.logdir, inst->name);
    boots = nxl_lab_count_in_file(log, env.marker);
    if (!nxl_lab_ok_call(nxl_instance_spawn(drv, &req, &err), &err,
                         "spawn PVH"))
        goto out;
    st = nxl_lab_info(drv, inst, &i);
    nxl_lab_check(st == NXL_POWER_RUNNING, "get_info RUNNING (domid %d)",
                  i.domid);
    if (!nxl_lab_check(
            nxl_lab_wait_marker(log, env.marker, boots, PVH_BOOT_BOUND_S),
            "guest marker %s in %s", env.marker, log))
        goto out;
    nxl_lab_step_done("spawn PVH + marker");

    if (!nxl_lab_suspend_checked(drv, inst, instances))
        goto out;
    nxl_lab_step_done("suspend PVH");
    if (!nxl_lab_resume_checked(drv, inst, instances, log, env.marker,
                                ALIVE_BOUND_S))
        goto out;
    nxl_lab_step_done("resume PVH");

out:
    nxl_lab_ok_call(
        nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err), &err,
        "destroy PVH");
    nxl_lab_check_nothing_left(drv, inst, instances);
    nxl_lab_ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&req);
    free(doc);
    nxl_lab_step_done("destroy PVH");
    return nxl_lab_finish();
}

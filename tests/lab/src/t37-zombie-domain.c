/* Lab test: a zombie domain beside an instance on real Xen, in the lab's
 * dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * A PVH instance (examples/pvh-direct-kernel.json) is spawned; a dom0
 * process (lab/bin/nxl-lab-hold) maps one page of its memory, as a device
 * model does; power_off then leaves its domain a zombie: listed by Xen,
 * dying, for as long as the page is held (checked twice, seconds apart).
 * The driver must look past it: the instance reads SHUTDOWN; power_on
 * makes a new domain beside the zombie under the same UUID, which boots
 * and is the one get_info, pause and unpause act on; destroy and a new
 * spawn of the same UUID work beside it. Once the page is let go the
 * zombie goes, and nothing is left.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xl_driver/xl_port.h"

#define PVH_BOOT_BOUND_S 120
/* A frame of the PVH guest's RAM (1 MiB up: below is firmware's). */
#define HELD_GFN "0x100"
#define HOLD_READY_S 30
#define ZOMBIE_GONE_S 30

/* Whether domid is listed by Xen, and dying (through a port of our own,
 * out of the driver's sight). */
static bool listed(uint32_t domid, bool *dying_r)
{
    nxl_port *port = NULL;
    nxl_port_dominfo *v = NULL;
    size_t n = 0;
    bool found = false;

    *dying_r = false;
    if (nxl__port_libxl_new(&port, NULL) < 0)
        return false;
    if (port->ops->list(port, &v, &n, NULL) == 0)
        for (size_t i = 0; i < n; i++)
            if (v[i].domid == domid) {
                found = true;
                *dying_r = v[i].dying;
            }
    free(v);
    nxl__port_free(port);
    return found;
}

/* nxl-lab-hold on domid, its stdin ours: closing it lets the page go. */
static FILE *hold(const char *root, int domid)
{
    char cmd[1024], ready[600];
    FILE *p;
    double end = nxl_lab_now() + HOLD_READY_S;

    snprintf(ready, sizeof(ready), "%s/held", root);
    snprintf(cmd, sizeof(cmd), "nxl-lab-hold %d %s %s", domid, HELD_GFN, ready);
    p = popen(cmd, "w");
    if (!nxl_lab_check(p != NULL, "%s started", cmd))
        return NULL;
    while (!nxl_lab_is_file(ready) && nxl_lab_now() < end)
        usleep(200 * 1000);
    if (!nxl_lab_check(nxl_lab_is_file(ready), "a page of domain %d held",
                       domid)) {
        pclose(p);
        return NULL;
    }
    return p;
}

int main(void)
{
    nxl_lab_run run;
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance_info i;
    nxl_instance *inst;
    char log[1024];
    FILE *holder = NULL;
    bool dying = false;
    int rc, st, boots, zombie = -1, d2 = -1;

    if ((rc = nxl_lab_begin(&run, "t37", "pvh-direct-kernel")) != 0)
        return rc;
    inst = &run.req.instance;
    snprintf(log, sizeof(log), "%s/guest-%s.log", run.env.logdir, inst->name);
    nxl_instance_info_init(&i);
    if (!nxl_lab_run_open(&run, &cfg, NULL, 0))
        goto out;
    boots = nxl_lab_count_in_file(log, run.env.marker);
    if (!nxl_lab_ok_call(nxl_instance_spawn(run.drv, &run.req, &err), &err,
                         "spawn PVH"))
        goto out;
    /* The calls come before the checks, whose messages show the domids
     * they found. */
    st = nxl_lab_state_domid(run.drv, inst, &zombie);
    nxl_lab_check(st == NXL_POWER_RUNNING, "RUNNING in domain %d", zombie);
    nxl_lab_check(
        nxl_lab_wait_marker(log, run.env.marker, boots, PVH_BOOT_BOUND_S),
        "the guest boots");
    boots = nxl_lab_count_in_file(log, run.env.marker);
    nxl_lab_step_done("spawn");

    if (!(holder = hold(run.root, zombie)))
        goto out;
    nxl_lab_ok_call(nxl_instance_power_off(run.drv, inst, 0, 1, &err), &err,
                    "power_off while a dom0 process holds a page");
    nxl_lab_check(listed((uint32_t)zombie, &dying) && dying,
                  "domain %d still listed, dying: a zombie", zombie);
    sleep(3);
    nxl_lab_check(listed((uint32_t)zombie, &dying) && dying,
                  "domain %d still a zombie 3 s later", zombie);
    nxl_lab_check(nxl_lab_state_domid(run.drv, inst, NULL) ==
                      NXL_POWER_SHUTDOWN,
                  "get_info SHUTDOWN beside the zombie");
    nxl_lab_ok_call(nxl_instance_power_off(run.drv, inst, 0, 1, &err), &err,
                    "power_off again (nothing to stop)");
    nxl_lab_step_done("zombie");

    nxl_lab_ok_call(nxl_instance_power_on(run.drv, inst, NULL, NULL, &err),
                    &err, "power_on beside the zombie");
    st = nxl_lab_state_domid(run.drv, inst, &d2);
    nxl_lab_check(st == NXL_POWER_RUNNING && d2 > 0 && d2 != zombie,
                  "RUNNING in a new domain %d, not the zombie %d", d2, zombie);
    nxl_lab_check(
        nxl_lab_wait_marker(log, run.env.marker, boots, PVH_BOOT_BOUND_S),
        "the new domain boots");
    nxl_lab_ok_call(nxl_instance_pause(run.drv, inst, &err), &err, "pause");
    nxl_lab_check(nxl_lab_state_domid(run.drv, inst, NULL) == NXL_POWER_PAUSED,
                  "PAUSED");
    nxl_lab_ok_call(nxl_instance_unpause(run.drv, inst, &err), &err, "unpause");
    nxl_lab_check(nxl_lab_state_domid(run.drv, inst, NULL) == NXL_POWER_RUNNING,
                  "RUNNING");
    nxl_lab_check(listed((uint32_t)zombie, &dying) && dying,
                  "the zombie %d untouched", zombie);
    nxl_lab_step_done("power_on, pause, unpause beside it");

    nxl_lab_ok_call(
        nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, &err), &err,
        "destroy beside the zombie");
    nxl_lab_check(nxl_lab_info(run.drv, inst, NULL) == NXL_E_NOT_FOUND,
                  "get_info NOT_FOUND");
    if (nxl_lab_ok_call(nxl_instance_spawn(run.drv, &run.req, &err), &err,
                        "spawn of the same UUID beside the zombie")) {
        st = nxl_lab_state_domid(run.drv, inst, &d2);
        nxl_lab_check(st == NXL_POWER_RUNNING && d2 > 0 && d2 != zombie,
                      "RUNNING in domain %d", d2);
    }
    nxl_lab_ok_call(
        nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, &err), &err,
        "destroy");
    nxl_lab_step_done("destroy, spawn again, destroy");

out:
    if (holder) {
        double end = nxl_lab_now() + ZOMBIE_GONE_S;

        nxl_lab_check(pclose(holder) == 0, "the page let go");
        while (listed((uint32_t)zombie, &dying) && nxl_lab_now() < end)
            usleep(250 * 1000);
        nxl_lab_check(!listed((uint32_t)zombie, &dying),
                      "the zombie %d gone once the page is let go", zombie);
    }
    nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, NULL);
    nxl_lab_check_nothing_left(run.drv, inst, run.instances);
    nxl_lab_step_done("release");
    return nxl_lab_end(&run);
}

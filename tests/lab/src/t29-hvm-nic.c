/* Lab test: an HVM instance with a NIC, spawned through the driver on real
 * Xen, in the lab's dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * examples/pv-direct-kernel.json made HVM (vm_mode hvm, the lab kernel by
 * direct kernel boot) keeping its NIC: devname tap5d3a9e0c-7b on xenbr0,
 * whose "-emu" twin would be 18 bytes, past Linux's 15. The domain runs
 * with its device model; the PV vif and the emulated NIC's tap are both
 * on xenbr0 under the names the driver's rule gives
 * (nxl__xl_vif_ifname); get_all_bw_counters and get_instance_diagnostics
 * find the NIC by its MAC; destroy removes both interfaces. The guest need
 * not finish booting under TCG: the plumbing is the device model's and
 * dom0's. Needs dom0's tun module (lab/dom0/dom0-main.sh loads it): without
 * /dev/net/tun QEMU cannot open the tap, which is what made such spawns
 * fail in the lab with libxl's bare ERROR_FAIL.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xl_driver/xl_config.h"

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

#define LIBXL_LOG "t29-libxl.log"

/* The bridge sysfs says ifname is enslaved to ("" when none). */
static void master_of(const char *ifname, char *out, size_t size)
{
    char p[128], target[64];
    ssize_t n;
    const char *slash;

    out[0] = '\0';
    snprintf(p, sizeof(p), "/sys/class/net/%s/master", ifname);
    n = readlink(p, target, sizeof(target) - 1);
    if (n <= 0)
        return;
    target[n] = '\0';
    slash = strrchr(target, '/');
    snprintf(out, size, "%s", slash ? slash + 1 : target);
}

static bool if_exists(const char *ifname)
{
    char p[128];
    struct stat st;

    snprintf(p, sizeof(p), "/sys/class/net/%s", ifname);
    return stat(p, &st) == 0;
}

static void diagnose(const char *name)
{
    char cmd[512];

    printf("--- libxl (driver's log, tail):\n");
    fflush(stdout);
    snprintf(cmd, sizeof(cmd),
             "grep -v 'debug: .*libxl: debug' %s | tail -n 30; "
             "echo '--- qemu-dm:'; tail -n 25 /var/log/xen/qemu-dm-%s.log; "
             "echo '--- hotplug:'; tail -n 15 /var/log/xen/xen-hotplug.log; "
             "echo '--- xl dmesg:'; xl dmesg | tail -n 10; xl list; "
             "ls /sys/class/net /sys/class/net/xenbr0/brif",
             LIBXL_LOG, name);
    if (system(cmd) != 0)
        printf("(diagnostics incomplete)\n");
}

int main(void)
{
    static char name[] = "instance-000029a1";
    char root[512], images[512], instances[512], path[1024];
    char pv_if[32] = "", emu_if[40] = "", br[64];
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_lab_env env;
    nxl_spawn_req req;
    nxl_instance *inst;
    nxl_image_meta im, pv_im;
    const char *mac = NULL;
    char *doc = NULL, *doc_name = NULL;
    int domid = -1;
    double end;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!nxl_lab_is_dom0())
        return 77;
    /* libxl's own messages (the driver forwards them as debug lines) go to
     * a file, printed only when the spawn fails: ERROR_FAIL alone says
     * nothing. */
    setenv("NXL_DEBUG", "1", 1);
    if (!freopen(LIBXL_LOG, "w", stderr))
        return 1;
    nxl_lab_start();
    nxl_lab_env_load(&env);
    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", env.examples);
    if (!nxl_lab_read_request(path, &req, &doc))
        return nxl_lab_finish();
    inst = &req.instance;
    if (!check(req.network_info.n == 1 && req.network_info.vifs[0].devname &&
                   strlen(req.network_info.vifs[0].devname) + 4 > 15,
               "the example's NIC %s: its -emu twin would pass 15 bytes",
               req.network_info.n ? req.network_info.vifs[0].devname : "-"))
        goto out_req;
    mac = req.network_info.vifs[0].address;
    snprintf(inst->uuid, sizeof(inst->uuid), "%s",
             "29c0a5e1-0b7d-4c2e-9f41-5d6e7f8091a2");
    doc_name = inst->name; /* put back for nxl_spawn_req_dispose */
    inst->name = name;
    pv_im = req.image_meta;
    nxl_image_meta_init(&im);
    im.id = pv_im.id;
    nxl_kvlist_set(&im.properties, "vm_mode", "hvm");
    nxl_kvlist_set(&im.properties, "os_command_line",
                   "console=ttyS0 rdinit=/init quiet");
    req.image_meta = im;
    if (!nxl_lab_make_root("t29", &env, inst, root, images, instances) ||
        !nxl_lab_open_driver(images, instances, env.logdir, NULL, &drv))
        goto out;
    nxl_lab_step_done("setup");

    if (!ok_call(nxl_instance_spawn(drv, &req, &err), &err, "spawn HVM+NIC")) {
        diagnose(name);
        goto out;
    }
    nxl_lab_state_domid(drv, inst, &domid);
    check(domid > 0, "HVM domid %d running", domid);
    nxl_lab_step_done("spawn");
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd),
                 "pgrep -f 'qemu-system-i386.*-xen-domid %d ' >/dev/null",
                 domid);
        check(system(cmd) == 0, "device model (qemu-system-xen) for domid %d",
              domid);
    }
    if (!check(nxl__xl_vif_ifname(req.network_info.vifs[0].devname, true, domid,
                                  0, pv_if, sizeof(pv_if)) == 0,
               "the driver's name for the vif: %s", pv_if))
        goto destroy;
    snprintf(emu_if, sizeof(emu_if), "%s-emu", pv_if);
    /* Hotplug (vif-bridge) runs after the create returns: bounded wait. */
    end = nxl_lab_now() + 20;
    while (nxl_lab_now() < end && (!if_exists(pv_if) || !if_exists(emu_if)))
        usleep(250000);
    master_of(pv_if, br, sizeof(br));
    check(strcmp(br, "xenbr0") == 0, "PV vif %s on %s", pv_if,
          br[0] ? br : "(no bridge)");
    master_of(emu_if, br, sizeof(br));
    check(strcmp(br, "xenbr0") == 0, "emulated NIC's tap %s on %s", emu_if,
          br[0] ? br : "(no bridge)");
    nxl_lab_step_done("interfaces");

    {
        nxl_bw_counter_list bw;
        nxl_diagnostics d;

        nxl_bw_counter_list_init(&bw);
        if (ok_call(nxl_host_get_all_bw_counters(drv, inst, 1, &bw, &err), &err,
                    "get_all_bw_counters"))
            check(bw.n == 1 && bw.items[0].mac_address &&
                      strcmp(bw.items[0].mac_address, mac) == 0,
                  "one bandwidth counter, MAC %s (%zu)", mac, bw.n);
        nxl_bw_counter_list_dispose(&bw);
        nxl_diagnostics_init(&d);
        if (ok_call(nxl_instance_get_diagnostics(drv, inst, &d, &err), &err,
                    "get_instance_diagnostics"))
            check(d.n_nic_details == 1 && d.nic_details[0].mac_address &&
                      strcmp(d.nic_details[0].mac_address, mac) == 0,
                  "diagnostics: one NIC, MAC %s (%zu)", mac, d.n_nic_details);
        nxl_diagnostics_dispose(&d);
    }
    nxl_lab_step_done("diagnostics");

destroy:
    ok_call(nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err), &err,
            "destroy");
    if (pv_if[0]) {
        end = nxl_lab_now() + 10;
        while (nxl_lab_now() < end && (if_exists(pv_if) || if_exists(emu_if)))
            usleep(250000);
        check(!if_exists(pv_if) && !if_exists(emu_if),
              "destroy removed %s and %s", pv_if, emu_if);
    }
    nxl_lab_check_nothing_left(drv, inst, instances);
    nxl_lab_step_done("destroy");
out:
    nxl_driver_close(drv);
    im.id = NULL; /* pv_im's */
    nxl_image_meta_dispose(&im);
    req.image_meta = pv_im;
out_req:
    if (doc_name)
        inst->name = doc_name;
    nxl_spawn_req_dispose(&req);
    free(doc);
    return nxl_lab_finish();
}

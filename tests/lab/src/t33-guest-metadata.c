/* Lab test: instance metadata as the guest sees it, on real Xen in the
 * lab's dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * t30-host-metadata checks the permissions from dom0; this one asks the
 * guest. The lab guest's initramfs gets a second archive appended (the
 * kernel unpacks both, in order) holding nxl-xsprobe (lab/guest/, a
 * static xenstore client over the guest's /dev/xen/xenbus) and an init
 * that, before handing over to the lab guest's own /init, prints on its
 * console what it can read of vm-data/user-metadata/role, what happens
 * when it writes that key and when it creates a new one, and then, every
 * 3 s in the background, the key's value whenever it changes.
 *
 * Spawned through the driver with metadata role=lab: the guest reads
 * "lab", both writes are refused (EACCES) and dom0 still reads "lab" and
 * no new key; change_instance_metadata to role=db reaches the running
 * guest.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xenstore/xs.h"

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

#define BOOT_BOUND_S 90
#define INITRD_ID "nxl-lab-initrd-md"

/* After nxl_lab_guest_initrd's prelude: what the guest sees of its
 * metadata, then the lab guest's /init. */
static const char md_init[] =
    "P=/bin/nxl-xsprobe\n"
    "K=vm-data/user-metadata\n"
    "echo \"NOVAXL-MD-READ role=$($P read $K/role)\"\n"
    "echo \"NOVAXL-MD-WRITE $($P write $K/role guest-was-here)\"\n"
    "echo \"NOVAXL-MD-NEW $($P write $K/planted x)\"\n"
    "(last=; while :; do v=$($P read $K/role); "
    "[ \"$v\" != \"$last\" ] && echo \"NOVAXL-MD-NOW role=$v\"; last=$v; "
    "$B sleep 3; done) &\n"
    "exec /init\n";

static char *md_read(nxl_xs *xs, int domid, const char *key)
{
    char p[256];
    char *v = NULL;

    snprintf(p, sizeof(p), "/local/domain/%d/vm-data/user-metadata/%s", domid,
             key);
    if (nxl_xs_read_bounded(xs, XBT_NULL, p, 4096, &v, NULL, NULL) != 0)
        return NULL;
    return v;
}

int main(void)
{
    char log[1024], line[512];
    nxl_error err = NXL_ERROR_INIT;
    nxl_lab_run run;
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_instance *inst;
    char *v;
    int domid = -1, boots, rc;

    if ((rc = nxl_lab_begin(&run, "t33", "pv-direct-kernel")))
        return rc;
    if (!nxl_lab_guest_initrd(run.root, run.images, run.env.initrd, INITRD_ID,
                              "nxl-xsprobe", "nxl-md-init", md_init))
        return nxl_lab_finish();
    inst = &run.req.instance;
    free(inst->ramdisk_id);
    inst->ramdisk_id = strdup(INITRD_ID);
    nxl_kvlist_set(&run.req.image_meta.properties, "ramdisk_id", INITRD_ID);
    nxl_kvlist_set(&run.req.image_meta.properties, "os_command_line",
                   "console=hvc0 rdinit=/nxl-md-init quiet");
    nxl_kvlist_set(&inst->metadata, "role", "lab");
    snprintf(log, sizeof(log), "%s/guest-%s.log", run.env.logdir, inst->name);
    boots = nxl_lab_count_in_file(log, "NOVAXL-MD-NEW");
    if (!nxl_lab_run_open(&run, &cfg, NULL, 0) ||
        !ok_call(nxl_instance_spawn(run.drv, &run.req, &err), &err, "spawn"))
        goto out;
    nxl_lab_state_domid(run.drv, inst, &domid);
    check(domid > 0, "domid %d", domid);
    check(nxl_lab_wait_marker(log, "NOVAXL-MD-NEW", boots, BOOT_BOUND_S),
          "the guest's probe ran (%s)", log);
    nxl_lab_last_line(log, "NOVAXL-MD-READ", line, sizeof(line));
    check(strstr(line, "NOVAXL-MD-READ role=lab") != NULL,
          "the guest reads its metadata: %s", line);
    nxl_lab_last_line(log, "NOVAXL-MD-WRITE", line, sizeof(line));
    check(strstr(line, "NOVAXL-MD-WRITE ERROR EACCES") != NULL,
          "the guest cannot change a key: %s", line);
    nxl_lab_last_line(log, "NOVAXL-MD-NEW", line, sizeof(line));
    check(strstr(line, "NOVAXL-MD-NEW ERROR EACCES") != NULL,
          "the guest cannot add a key: %s", line);
    v = md_read(run.xs, domid, "role");
    check(v && strcmp(v, "lab") == 0, "dom0 still reads role=%s",
          v ? v : "(none)");
    free(v);
    v = md_read(run.xs, domid, "planted");
    check(v == NULL, "no key planted by the guest");
    free(v);
    nxl_lab_step_done("guest reads, cannot write");

    boots = nxl_lab_count_in_file(log, "NOVAXL-MD-NOW role=db");
    ok_call(nxl_instance_change_metadata(run.drv, inst,
                                         "{\"role\": [\"+\", \"db\"]}", &err),
            &err, "change_instance_metadata role=db");
    check(nxl_lab_wait_marker(log, "NOVAXL-MD-NOW role=db", boots, 30),
          "the running guest sees role=db");
    nxl_lab_step_done("change seen by the guest");
    ok_call(nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, &err),
            &err, "destroy");
    ok_call(nxl_host_cleanup(run.drv, "lab", &err), &err, "cleanup_host");
out:
    return nxl_lab_end(&run);
}

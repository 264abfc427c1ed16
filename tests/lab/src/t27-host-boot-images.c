/* Lab test: images, rebuild onto another image, and a host reboot, through
 * the public API (nxl.h) on real Xen, in the lab's dom0 (exit 0 pass, 1
 * fail, 77 skip off dom0).
 *
 *   missing image    spawn with an image id the cache does not hold fails
 *                    with a clear error before anything exists (no
 *                    domain, record, journal or instance directory);
 *   root disk image  spawn of a raw root disk image (image id -> file in
 *                    the image cache) plus an ephemeral disk: the image
 *                    is copied into the instance's disk, and the guest
 *                    (booted by direct kernel: the lab's PV guests have no
 *                    bootloader) sees both disks, xvda and xvdb;
 *   rebuild          onto a different image id with preserve_ephemeral:
 *                    the root disk now holds the new image, the marker
 *                    written into the ephemeral disk from dom0 is still
 *                    there, and the guest boots again;
 *   host reboot      instance A suspended (its save image), B running;
 *                    cleanup_host, B's domain destroyed with xl as a host
 *                    reboot would, a new driver and init_host: A is
 *                    SUSPENDED, B SHUTDOWN; resume_state_on_host_boot
 *                    brings A back from its image (the same guest goes
 *                    on: no new boot, its vCPU time grows) and boots B;
 *   files            destroy of B keeping its disks: instance_on_disk
 *                    false, delete_instance_files removes the directory;
 *                    cleanup of A (destroy_disks) leaves nothing.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"

#define BOOT_BOUND_S 90
#define ALIVE_BOUND_S 20

#define ROOT_A "nxl-t27-root-a"
#define ROOT_B "nxl-t27-root-b"
#define EPH_MARK "NXL-T27-EPHEMERAL-MARK"
#define UUID_B "2f9c4d1e-8a7b-4c6d-9e0f-27272727270b"

static void set_str(char **p, const char *v)
{
    free(*p);
    *p = v ? strdup(v) : NULL;
}

/* A raw image: tag at offset 0, 4 MiB long. */
static bool make_image(const char *images, const char *id)
{
    char path[1024];
    int fd;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s", images, id);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ok = fd >= 0 && write(fd, id, strlen(id)) == (ssize_t)strlen(id) &&
         ftruncate(fd, 4 << 20) == 0;
    if (fd >= 0)
        close(fd);
    return nxl_lab_check(ok, "raw image %s", path);
}

/* Whether file starts with (or, at offset 0, holds) tag. */
static bool starts_with(const char *file, const char *tag)
{
    char buf[64] = "";
    int fd = open(file, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

    if (fd >= 0)
        close(fd);
    return n >= (ssize_t)strlen(tag) && memcmp(buf, tag, strlen(tag)) == 0;
}

static bool write_at0(const char *file, const char *tag)
{
    int fd = open(file, O_WRONLY);
    bool ok = fd >= 0 &&
              pwrite(fd, tag, strlen(tag), 0) == (ssize_t)strlen(tag) &&
              fsync(fd) == 0;

    if (fd >= 0)
        close(fd);
    return ok;
}

static void use_root_image(nxl_spawn_req *req, const char *id)
{
    set_str(&req->instance.image_ref, id);
    set_str(&req->image_meta.id, id);
    set_str(&req->image_meta.disk_format, "raw");
    set_str(&req->image_meta.container_format, "bare");
}

int main(void)
{
    char root[512], images[512], instances[512], path[1024], log[1024];
    char line[512], disk[1024], eph[1024];
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req a, b;
    nxl_instance_info i;
    nxl_lab_env env;
    char *doc = NULL, *doc2 = NULL;
    int boots, st, d1;
    bool flag;

    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    nxl_lab_env_load(&env);
    nxl_instance_info_init(&i);
    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", env.examples);
    if (!nxl_lab_read_request(path, &a, &doc) ||
        !nxl_lab_read_request(path, &b, &doc2) ||
        !nxl_lab_make_root("t27", &env, &a.instance, root, images, instances) ||
        !make_image(images, ROOT_A) || !make_image(images, ROOT_B) ||
        !nxl_lab_open_driver(images, instances, env.logdir, NULL, &drv))
        return 1;
    /* B: another instance of the example, with its own NIC name. */
    memcpy(b.instance.uuid, UUID_B, sizeof(b.instance.uuid));
    set_str(&b.instance.name, "instance-0000027b");
    if (b.network_info.n == 1) {
        set_str(&b.network_info.vifs[0].devname, "tap27272727-0b");
        set_str(&b.network_info.vifs[0].address, "fa:16:3e:27:27:0b");
    }
    snprintf(disk, sizeof(disk), "%s/%s/disk", instances, a.instance.uuid);
    snprintf(eph, sizeof(eph), "%s/%s/disk.eph0", instances, a.instance.uuid);
    snprintf(log, sizeof(log), "%s/guest-%s.log", env.logdir, a.instance.name);
    nxl_lab_step_done("setup");

    /* A missing image: refused before anything exists. */
    use_root_image(&a, "nxl-t27-no-such-image");
    st = nxl_instance_spawn(drv, &a, &err);
    nxl_lab_check(st < 0 &&
                      strstr(nxl_error_message(&err), "nxl-t27-no-such-image"),
                  "spawn of a missing image fails naming it: %s",
                  nxl_error_message(&err));
    nxl_error_dispose(&err);
    nxl_lab_check_nothing_left(drv, &a.instance, instances);
    nxl_lab_step_done("missing image");

    /* A raw root disk image and an ephemeral disk. */
    use_root_image(&a, ROOT_A);
    a.instance.ephemeral_gb = 1;
    a.instance.flavor.ephemeral_gb = 1;
    boots = nxl_lab_count_in_file(log, env.marker);
    if (!nxl_lab_ok_call(nxl_instance_spawn(drv, &a, &err), &err,
                         "spawn of raw image " ROOT_A " + ephemeral"))
        goto out;
    nxl_lab_check(starts_with(disk, ROOT_A), "root disk holds %s", ROOT_A);
    nxl_lab_check(nxl_lab_is_file(eph), "ephemeral disk %s", eph);
    if (nxl_lab_check(nxl_lab_wait_marker(log, env.marker, boots, BOOT_BOUND_S),
                      "guest marker")) {
        nxl_lab_wait_last_line(log, "NOVAXL-GUEST-DEVS", "xvdb", 15, line,
                               sizeof(line));
        nxl_lab_check(strstr(line, "xvda") && strstr(line, "xvdb"),
                      "the guest sees its root and ephemeral disks: %s", line);
    }
    nxl_lab_step_done("spawn root disk image + marker");

    /* Rebuild onto another image, keeping the ephemeral disk. */
    nxl_lab_check(write_at0(eph, EPH_MARK), "marker written into %s", eph);
    use_root_image(&a, ROOT_B);
    nxl_lab_info(drv, &a.instance, &i);
    d1 = i.domid;
    boots = nxl_lab_count_in_file(log, env.marker);
    if (!nxl_lab_ok_call(
            nxl_instance_rebuild(drv, &a, NULL, NULL, false, true, &err), &err,
            "rebuild onto " ROOT_B ", preserve_ephemeral"))
        goto out;
    st = nxl_lab_info(drv, &a.instance, &i);
    nxl_lab_check(st == NXL_POWER_RUNNING && i.domid != d1,
                  "RUNNING in a new domain (%d -> %d)", d1, i.domid);
    nxl_lab_check(starts_with(disk, ROOT_B), "root disk now holds %s", ROOT_B);
    nxl_lab_check(starts_with(eph, EPH_MARK),
                  "the ephemeral disk kept the marker");
    nxl_lab_check(nxl_lab_wait_marker(log, env.marker, boots, BOOT_BOUND_S),
                  "rebuilt guest booted (marker)");
    nxl_lab_step_done("rebuild + marker");

    /* A suspended and B running, then the host "reboots". */
    if (!nxl_lab_ok_call(nxl_instance_suspend(drv, &a.instance, &err), &err,
                         "suspend A") ||
        !nxl_lab_ok_call(nxl_instance_spawn(drv, &b, &err), &err, "spawn B"))
        goto out;
    nxl_lab_ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    drv = NULL;
    nxl_lab_xl("destroy", b.instance.name);
    nxl_lab_check(nxl_lab_domains_with(b.instance.uuid) == 0,
                  "B's domain gone, as after a host reboot");
    nxl_lab_step_done("suspend A, spawn B, host down");
    if (!nxl_lab_open_driver(images, instances, env.logdir, NULL, &drv))
        goto out;
    nxl_lab_check(nxl_lab_info(drv, &a.instance, NULL) == NXL_POWER_SUSPENDED,
                  "after init_host: A SUSPENDED");
    nxl_lab_check(nxl_lab_info(drv, &b.instance, NULL) == NXL_POWER_SHUTDOWN,
                  "after init_host: B SHUTDOWN");
    boots = nxl_lab_count_in_file(log, env.marker);
    nxl_lab_ok_call(nxl_instance_resume_state_on_host_boot(drv, &a.instance,
                                                           NULL, NULL, &err),
                    &err, "resume_state_on_host_boot A");
    st = nxl_lab_info(drv, &a.instance, &i);
    nxl_lab_check(st == NXL_POWER_RUNNING, "A RUNNING (domid %d)", i.domid);
    snprintf(path, sizeof(path), "%s/%s/novaxl.save", instances,
             a.instance.uuid);
    nxl_lab_check(!nxl_lab_is_file(path), "A's save image gone");
    nxl_lab_check_alive(drv, &a.instance, &i, ALIVE_BOUND_S);
    nxl_lab_check(nxl_lab_count_in_file(log, env.marker) == boots,
                  "A did not boot again (the saved guest went on)");
    nxl_lab_ok_call(nxl_instance_resume_state_on_host_boot(drv, &b.instance,
                                                           NULL, NULL, &err),
                    &err, "resume_state_on_host_boot B");
    st = nxl_lab_info(drv, &b.instance, &i);
    nxl_lab_check(st == NXL_POWER_RUNNING && i.domid > 0,
                  "B RUNNING (domid %d)", i.domid);
    nxl_lab_ok_call(nxl_instance_resume_state_on_host_boot(drv, &b.instance,
                                                           NULL, NULL, &err),
                    &err, "resume_state_on_host_boot B again: left alone");
    d1 = i.domid;
    nxl_lab_check(nxl_lab_info(drv, &b.instance, &i) == NXL_POWER_RUNNING &&
                      i.domid == d1,
                  "B still in domain %d", d1);
    nxl_lab_step_done("host up: resume_state_on_host_boot");

    /* Files. */
    nxl_lab_ok_call(
        nxl_instance_destroy(drv, &b.instance, NULL, NULL, false, NULL, &err),
        &err, "destroy B keeping its disks");
    snprintf(path, sizeof(path), "%s/%s/disk", instances, b.instance.uuid);
    nxl_lab_check(nxl_lab_is_file(path), "B's disk kept");
    flag = true;
    nxl_lab_check(nxl_instance_on_disk(drv, &b.instance, &flag, NULL) == 0 &&
                      !flag,
                  "instance_on_disk B: false");
    flag = false;
    nxl_lab_check(
        nxl_instance_delete_files(drv, &b.instance, &flag, NULL) == 0 && flag,
        "delete_instance_files B: deleted");
    nxl_lab_check_nothing_left(drv, &b.instance, instances);
    nxl_lab_step_done("destroy B, delete_instance_files");

out:
    if (!drv && !nxl_lab_open_driver(images, instances, env.logdir, NULL, &drv))
        return 1;
    nxl_lab_ok_call(nxl_instance_cleanup(drv, &a.instance, NULL, NULL, true,
                                         NULL, true, &err),
                    &err, "cleanup A (destroy_disks)");
    nxl_lab_check_nothing_left(drv, &a.instance, instances);
    nxl_instance_destroy(drv, &b.instance, NULL, NULL, true, NULL, NULL);
    nxl_lab_check(nxl_lab_dir_entries(instances) == 1,
                  "only the store's own dir left");
    nxl_lab_ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&a);
    nxl_spawn_req_dispose(&b);
    free(doc);
    free(doc2);
    nxl_lab_step_done("cleanup A");
    return nxl_lab_finish();
}

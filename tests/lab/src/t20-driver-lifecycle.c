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

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "xl_driver/xl_port.h"

#define BOOT_BOUND_S 120

static int failures;

static bool check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool check(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (!ok)
        failures++;
    return ok;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);

    return v && *v ? v : dflt;
}

/* How many times needle occurs in the file (console logs are small). */
static int count_in_file(const char *path, const char *needle)
{
    static char buf[1 << 20];
    size_t n;
    int count = 0;
    FILE *f = fopen(path, "r");

    if (!f)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *p = buf; (p = strstr(p, needle)); p += strlen(needle))
        count++;
    return count;
}

static bool wait_marker(const char *log, const char *marker, int above)
{
    time_t end = time(NULL) + BOOT_BOUND_S;

    while (time(NULL) < end) {
        if (count_in_file(log, marker) > above)
            return true;
        sleep(1);
    }
    return false;
}

static int info(nxl_driver *drv, const nxl_instance *inst, int *domid_r)
{
    nxl_instance_info i;
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    nxl_instance_info_init(&i);
    rc = nxl_instance_get_info(drv, inst, &i, &err);
    if (rc && rc != NXL_E_NOT_FOUND)
        printf("  get_info: %s\n", nxl_error_message(&err));
    nxl_error_dispose(&err);
    if (domid_r)
        *domid_r = rc ? -1 : i.domid;
    return rc ? rc : i.state;
}

static bool ok_call(int rc, nxl_error *err, const char *what)
{
    bool ok = check(rc == 0, "%s%s%s", what, rc ? ": " : "",
                    rc ? nxl_error_message(err) : "");

    nxl_error_dispose(err);
    return ok;
}

static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Domains libxl lists with uuid, through the real port. */
static int domains_with(const char *uuid)
{
    nxl_port *port = NULL;
    nxl_port_dominfo *v = NULL;
    size_t n = 0;
    int k = 0;

    if (nxl__port_libxl_new(&port, NULL) < 0)
        return -1;
    if (port->ops->list(port, &v, &n, NULL) < 0)
        k = -1;
    for (size_t i = 0; k >= 0 && i < n; i++)
        if (strcmp(v[i].uuid, uuid) == 0)
            k++;
    free(v);
    nxl__port_free(port);
    return k;
}

int main(void)
{
    const char *examples = env_or("NXL_LAB_EXAMPLES_DIR", "/novaxl/examples");
    const char *kernel = env_or("NXL_LAB_GUEST_KERNEL",
                                "/var/lib/novaxl/images/guest-kernel");
    const char *initrd = env_or("NXL_LAB_GUEST_INITRD",
                                "/var/lib/novaxl/images/guest-initrd");
    const char *marker = env_or("NXL_LAB_GUEST_MARKER", "NOVAXL-GUEST-UP");
    const char *logdir =
        env_or("NXL_LAB_CONSOLE_LOG_DIR", "/var/log/xen/console");
    char root[] = "/var/tmp/nxl-t20-XXXXXX";
    char path[1024], images[512], instances[512], log[1024];
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req req;
    nxl_instance *inst;
    char *doc = NULL;
    size_t len, n = 0;
    int d1 = -1, d2 = -1, boots;
    char caps[64] = "";
    FILE *f;

    setvbuf(stdout, NULL, _IOLBF, 0);
    f = fopen("/proc/xen/capabilities", "r");
    if (!f || !fgets(caps, sizeof(caps), f) || !strstr(caps, "control_d")) {
        printf("not a Xen dom0: skipping\n");
        if (f)
            fclose(f);
        return 77;
    }
    fclose(f);

    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", examples);
    nxl_spawn_req_init(&req);
    if (!check(nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, &doc, &len,
                                     &err) == 0 &&
                   nxl__spawn_req_from_json(doc, len, &req, &err) == 0,
               "read %s%s%s", path, err.code ? ": " : "",
               err.code ? nxl_error_message(&err) : ""))
        return 1;
    nxl_error_dispose(&err);
    inst = &req.instance;

    /* A private image cache and instances dir, so the test leaves the
     * host's alone and can check for leftovers exactly. */
    if (!check(mkdtemp(root) != NULL, "temporary root %s", root))
        return 1;
    snprintf(images, sizeof(images), "%s/images", root);
    snprintf(instances, sizeof(instances), "%s/instances", root);
    mkdir(images, 0700);
    snprintf(path, sizeof(path), "%s/%s", images, inst->kernel_id);
    check(symlink(kernel, path) == 0, "image %s -> %s", path, kernel);
    snprintf(path, sizeof(path), "%s/%s", images, inst->ramdisk_id);
    check(symlink(initrd, path) == 0, "image %s -> %s", path, initrd);
    snprintf(log, sizeof(log), "%s/guest-%s.log", logdir, inst->name);
    boots = count_in_file(log, marker);

    cfg.instances_dir = instances;
    cfg.image_cache_dir = images;
    cfg.console_log_dir = logdir;
    if (!ok_call(nxl_driver_open("libxl", &cfg, &drv, &err), &err,
                 "nxl_driver_open") ||
        !ok_call(nxl_host_init(drv, "lab", &err), &err, "init_host"))
        return 1;

    if (!ok_call(nxl_instance_spawn(drv, &req, &err), &err, "spawn"))
        goto out;
    check(wait_marker(log, marker, boots), "guest marker %s in %s", marker,
          log);
    boots = count_in_file(log, marker);
    check(info(drv, inst, &d1) == NXL_POWER_RUNNING, "get_info RUNNING (%d)",
          d1);
    check(nxl_host_get_num_instances(drv, &n, NULL) == 0 && n == 1,
          "get_num_instances 1 (%zu)", n);

    ok_call(nxl_instance_pause(drv, inst, &err), &err, "pause");
    check(info(drv, inst, NULL) == NXL_POWER_PAUSED, "get_info PAUSED");
    check(nxl_instance_pause(drv, inst, NULL) == NXL_E_INVALID_STATE,
          "pause of a paused instance: NXL_E_INVALID_STATE");
    ok_call(nxl_instance_unpause(drv, inst, &err), &err, "unpause");
    check(info(drv, inst, NULL) == NXL_POWER_RUNNING, "get_info RUNNING");

    ok_call(nxl_instance_power_off(drv, inst, 30, 5, &err), &err,
            "power_off(30, 5)");
    check(info(drv, inst, &d2) == NXL_POWER_SHUTDOWN && d2 == -1,
          "get_info SHUTDOWN, no domain");
    check(domains_with(inst->uuid) == 0, "no domain with the UUID");

    ok_call(nxl_instance_power_on(drv, inst, NULL, NULL, &err), &err,
            "power_on");
    check(wait_marker(log, marker, boots), "guest booted again (marker)");
    boots = count_in_file(log, marker);
    check(info(drv, inst, &d1) == NXL_POWER_RUNNING, "get_info RUNNING (%d)",
          d1);

    ok_call(nxl_instance_reboot(drv, inst, NULL, NXL_REBOOT_HARD, NULL, NULL,
                                NULL, &err),
            &err, "reboot HARD");
    check(info(drv, inst, &d2) == NXL_POWER_RUNNING && d2 != d1,
          "get_info RUNNING in a new domain (%d -> %d)", d1, d2);
    check(wait_marker(log, marker, boots), "guest booted again (marker)");

out:
    ok_call(nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err),
            &err, "destroy");
    check(info(drv, inst, NULL) == NXL_E_NOT_FOUND, "get_info NOT_FOUND");
    check(domains_with(inst->uuid) == 0, "no domain with the UUID");
    snprintf(path, sizeof(path), "%s/.novaxl/journal", instances);
    check(dir_entries(path) == 0, "no journal");
    snprintf(path, sizeof(path), "%s/.novaxl/locks", instances);
    check(dir_entries(path) == 0, "no lock file");
    check(dir_entries(instances) == 1, "no instance directory");
    ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&req);
    free(doc);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}

/* Lab test: diagnostics and usage counters through the public API
 * (nxl.h) on real Xen, in the lab's dom0 (exit 0 pass, 1 fail, 77 skip
 * off dom0).
 *
 * Spawns examples/pv-direct-kernel.json (128 MiB, 1 vcpu, one NIC on
 * xenbr0, a blank root disk), waits for the guest's marker on its
 * console, then checks real numbers: get_instance_diagnostics (vcpu 0 has
 * used CPU time, memory maximum 128 MiB, the NIC with its MAC, its tap device
 * in sysfs), get_diagnostics (cpu0_time, memory, the vif's keys),
 * block_stats of xvda (blkback counts the guest's reads), disk info,
 * per-instance usage and bandwidth counters; then destroys it.
 */
#include "config.h"

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

static bool ok_call(int rc, nxl_error *err, const char *what)
{
    bool ok = check(rc == 0, "%s%s%s", what, rc ? ": " : "",
                    rc ? nxl_error_message(err) : "");

    nxl_error_dispose(err);
    return ok;
}

static long long json_int(const char *json, const char *key)
{
    nxl_json *root = NULL;
    long long v = -1;

    if (nxl__json_parse(json, strlen(json), 0, &root, NULL) == 0 &&
        !nxl__json_integer(nxl__json_get(root, key), &v))
        v = -1;
    nxl__json_free(root);
    return v;
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
    char root[] = "/var/tmp/nxl-t21-XXXXXX";
    char path[1024], images[512], instances[512], log[1024];
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req req;
    nxl_instance *inst;
    char *doc = NULL, *doc2 = NULL;
    size_t len;
    int domid = -1, boots;
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
    {
        nxl_instance_info ii;

        nxl_instance_info_init(&ii);
        check(nxl_instance_get_info(drv, inst, &ii, NULL) == 0 &&
                  ii.state == NXL_POWER_RUNNING && ii.domid > 0,
              "get_info RUNNING (domid %d)", ii.domid);
        domid = ii.domid;
    }
    sleep(1);

    {
        nxl_diagnostics d;
        char key[64], dir[128], ifname[32];
        struct stat sb;

        nxl_diagnostics_init(&d);
        if (ok_call(nxl_instance_get_diagnostics(drv, inst, &d, &err), &err,
                    "get_instance_diagnostics")) {
            check(d.state && strcmp(d.state, "running") == 0, "state %s",
                  d.state ? d.state : "(null)");
            check(d.n_cpu_details == 1 && d.cpu_details[0].time > 0,
                  "vcpu 0 time > 0 (%zu vcpus, %llu ns)", d.n_cpu_details,
                  d.n_cpu_details ? (unsigned long long)d.cpu_details[0].time
                                  : 0ULL);
            check(d.memory_details.maximum == 128, "memory maximum %llu MiB",
                  (unsigned long long)d.memory_details.maximum);
            check(d.memory_details.used > 0 && d.memory_details.used <= 129,
                  "memory used %llu MiB",
                  (unsigned long long)d.memory_details.used);
            check(d.uptime < 600, "uptime %llu s",
                  (unsigned long long)d.uptime);
            check(d.n_nic_details == 1 && d.nic_details[0].mac_address &&
                      strcmp(d.nic_details[0].mac_address,
                             "fa:16:3e:4a:7c:01") == 0,
                  "one NIC with the example's MAC");
            check(d.n_disk_details >= 1, "%zu disk(s)", d.n_disk_details);
        }
        nxl_diagnostics_dispose(&d);
        /* The driver names the backend interface after Nova's VIF devname
         * (tapXXXX), as nova-compute expects; libxl's vif<domid>.0 is only
         * its default. */
        if (req.network_info.n == 1 && req.network_info.vifs[0].devname)
            snprintf(ifname, sizeof(ifname), "%s",
                     req.network_info.vifs[0].devname);
        else
            snprintf(ifname, sizeof(ifname), "vif%d.0", domid);
        snprintf(dir, sizeof(dir), "/sys/class/net/%s", ifname);
        check(stat(dir, &sb) == 0, "%s exists", dir);

        if (ok_call(nxl_instance_get_diagnostics_json(drv, inst, &doc2, &err),
                    &err, "get_diagnostics")) {
            printf("  %s\n", doc2);
            check(json_int(doc2, "cpu0_time") > 0, "cpu0_time > 0");
            check(json_int(doc2, "memory") == 128 * 1024, "memory 131072 KiB");
            snprintf(key, sizeof(key), "%s_tx", ifname);
            check(json_int(doc2, key) >= 0, "%s present", key);
        }
        free(doc2);
        doc2 = NULL;
    }
    {
        nxl_block_stats bs;
        int rc;

        memset(&bs, 0, sizeof(bs));
        rc = nxl_instance_block_stats(drv, inst, "xvda", &bs, &err);
        /* The guest's initramfs waits for xvda, so blkback has served it
         * (the partition scan reads it); a qdisk backend would say so. */
        if (rc == NXL_E_UNSUPPORTED)
            printf("  block_stats: %s\n", nxl_error_message(&err));
        else
            check(rc == 0 && bs.rd_req > 0 && bs.rd_bytes > 0,
                  "block_stats xvda: rd_req %lld rd_bytes %lld%s%s",
                  (long long)bs.rd_req, (long long)bs.rd_bytes,
                  rc ? ": " : "", rc ? nxl_error_message(&err) : "");
        nxl_error_dispose(&err);
    }
    {
        nxl_instance_usage_list ul;
        nxl_bw_counter_list bw;
        nxl_disk_info_list dl;

        nxl_instance_usage_list_init(&ul);
        if (ok_call(nxl_host_get_per_instance_usage(drv, &ul, &err), &err,
                    "get_per_instance_usage"))
            check(ul.n == 1 && strcmp(ul.items[0].uuid, inst->uuid) == 0 &&
                      ul.items[0].vcpus == 1,
                  "per-instance usage: only our instance (%zu)", ul.n);
        nxl_instance_usage_list_dispose(&ul);
        nxl_bw_counter_list_init(&bw);
        if (ok_call(nxl_host_get_all_bw_counters(drv, inst, 1, &bw, &err),
                    &err, "get_all_bw_counters"))
            check(bw.n == 1, "one bandwidth counter (%zu)", bw.n);
        nxl_bw_counter_list_dispose(&bw);
        nxl_disk_info_list_init(&dl);
        if (ok_call(nxl_instance_get_disk_info(drv, inst, NULL, &dl, &err),
                    &err, "get_instance_disk_info"))
            check(dl.n == 1 && dl.items[0].virt_disk_size > 0,
                  "one local disk (%zu)", dl.n);
        nxl_disk_info_list_dispose(&dl);
    }

out:
    ok_call(nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err),
            &err, "destroy");
    {
        nxl_diagnostics d;

        nxl_diagnostics_init(&d);
        check(nxl_instance_get_diagnostics(drv, inst, &d, NULL) ==
                  NXL_E_NOT_FOUND,
              "diagnostics after destroy: NOT_FOUND");
    }
    ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&req);
    free(doc);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}

/* Lab test: the real hypervisor port (xl_driver/xl_port_libxl.c) on real
 * Xen. Runs in the lab's dom0 (exit 0 pass, 1 fail, 77 skip when this is
 * not a Xen dom0). Built by `make` (xl_driver/port.mk) against the
 * project's convenience library, so it needs only the system libraries.
 *
 * It builds a spawn request for the lab's guest (kernel + busybox
 * initramfs from lab/lab.env), translates it with nxl__xl_build_config,
 * and drives the port through a guest's life: create (paused), unpause,
 * the guest's marker on its console, info, pause/unpause, userdata,
 * destroy, the DEATH event, and the domain gone from the list. Every port
 * call is printed through the tracing wrapper as it happens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>

#include "common/internal.h"
#include "novaxl/nxl-types.h"
#include "tests/lab/src/labutil.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_port.h"

/* Bounds in seconds of wall time (TCG is slow; never loop counts). */
#define BOOT_BOUND_S 90
#define EVENT_BOUND_S 30

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

#define check nxl_lab_check

static void trace_to_stdout(void *user, const char *line)
{
    printf("  port> %s\n", line);
}

/* True when the file contains needle. */
static bool file_has(const char *path, const char *needle)
{
    return nxl_lab_count_in_file(path, needle) > 0;
}

static void dump_file(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");

    say("--- %s:", path);
    if (!f) {
        say("(cannot open: %s)", strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), f))
        printf("  | %s", line);
    fclose(f);
}

static void show_info(const char *when, const nxl_port_dominfo *di)
{
    say("  info %s: domid %u uuid %s running=%d blocked=%d paused=%d "
        "shutdown=%d dying=%d reason=%s mem=%" PRIu64 "/%" PRIu64
        " KiB vcpus=%u cpu=%" PRIu64 " ns",
        when, di->domid, di->uuid, di->running, di->blocked, di->paused,
        di->shutdown, di->dying,
        nxl__port_shutdown_reason_name(di->shutdown_reason), di->mem_kb,
        di->max_mem_kb, di->vcpus, di->cpu_time_ns);
}

static bool listed(nxl_port *port, uint32_t domid, bool *ok_r)
{
    nxl_port_dominfo *v = NULL;
    nxl_error err = NXL_ERROR_INIT;
    bool found = false;
    size_t n = 0;

    *ok_r = port->ops->list(port, &v, &n, &err) == 0;
    if (!*ok_r)
        say("  list failed: %s", nxl_error_message(&err));
    for (size_t i = 0; i < n; i++)
        if (v[i].domid == domid)
            found = true;
    free(v);
    nxl_error_dispose(&err);
    return found;
}

/* The lab guest as nova would ask for it: a PV instance booting the
 * kernel and initramfs from the image cache, with a per-run token on its
 * command line so a stale console log cannot pass for this boot. */
static int build_request(nxl_spawn_req *req, const char *name, const char *uuid,
                         const char *kernel_id, const char *ramdisk_id,
                         const char *token)
{
    nxl_instance *inst = &req->instance;
    char cmdline[256];

    snprintf(cmdline, sizeof(cmdline), "console=hvc0 rdinit=/init quiet %s",
             token);
    snprintf(inst->uuid, sizeof(inst->uuid), "%s", uuid);
    inst->name = strdup(name);
    inst->display_name = strdup("lab-port");
    inst->kernel_id = strdup(kernel_id);
    inst->ramdisk_id = strdup(ramdisk_id);
    inst->memory_mb = 128;
    inst->vcpus = 1;
    inst->flavor.memory_mb = 128;
    inst->flavor.vcpus = 1;
    req->image_meta.id = strdup(kernel_id);
    req->image_meta.disk_format = strdup("aki");
    req->image_meta.container_format = strdup("aki");
    if (!inst->name || !inst->display_name || !inst->kernel_id ||
        !inst->ramdisk_id || !req->image_meta.id ||
        !req->image_meta.disk_format || !req->image_meta.container_format)
        return NXL_E_NOMEM;
    if (nxl_kvlist_set(&req->image_meta.properties, "vm_mode", "xen") ||
        nxl_kvlist_set(&req->image_meta.properties, "os_command_line", cmdline))
        return NXL_E_NOMEM;
    return 0;
}

int main(void)
{
    nxl_lab_env env;
    const char *kernel, *initrd, *marker, *log_dir;
    char kdir[4096], idir[4096], kbase[256], ibase[256];
    char name[64], uuid[NXL_UUID_STRLEN + 1], token[64], log[4200];
    char inst_dir[] = "/tmp/nxl-port-inst-XXXXXX";
    nxl_spawn_req req;
    nxl_host_layout layout;
    libxl_domain_config cfg;
    nxl_error err = NXL_ERROR_INIT;
    nxl_port *real = NULL, *port = NULL;
    nxl_port_dominfo di;
    nxl_port_hostinfo hi;
    nxl_port_event ev;
    libxl_uuid u;
    uint32_t domid = 0, got;
    bool have_domain = false, have_cfg = false, have_dir = false, ok;
    char *json = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    double t0, deadline;
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    nxl_lab_env_load(&env);
    kernel = env.kernel;
    initrd = env.initrd;
    marker = env.marker;
    log_dir = env.logdir;
    nxl_spawn_req_init(&req);
    nxl_host_layout_init(&layout);

    if (access("/dev/xen/privcmd", F_OK) != 0 &&
        access("/proc/xen/privcmd", F_OK) != 0) {
        say("no /dev/xen/privcmd: not a Xen dom0, skipping");
        return 77;
    }
    if (!check(access(kernel, R_OK) == 0, "guest kernel %s readable", kernel) ||
        !check(access(initrd, R_OK) == 0, "guest initrd %s readable", initrd))
        goto out;

    /* The builder takes ids inside one image cache directory. */
    snprintf(kdir, sizeof(kdir), "%s", kernel);
    snprintf(idir, sizeof(idir), "%s", initrd);
    snprintf(kbase, sizeof(kbase), "%s", basename(kdir));
    snprintf(ibase, sizeof(ibase), "%s", basename(idir));
    snprintf(kdir, sizeof(kdir), "%s", kernel);
    snprintf(idir, sizeof(idir), "%s", initrd);
    if (!check(strcmp(dirname(kdir), dirname(idir)) == 0,
               "kernel and initrd share the image cache dir %s", kdir))
        goto out;

    libxl_uuid_generate(&u);
    snprintf(uuid, sizeof(uuid), LIBXL_UUID_FMT, LIBXL_UUID_BYTES(u));
    snprintf(name, sizeof(name), "nxl-port-%ld", (long)getpid());
    snprintf(token, sizeof(token), "nxl.token=port%ld-%08x", (long)getpid(),
             (unsigned)u.uuid[0] << 24 | (unsigned)u.uuid[1] << 16 |
                 (unsigned)u.uuid[2] << 8 | u.uuid[3]);
    snprintf(log, sizeof(log), "%s/guest-%s.log", log_dir, name);
    say("step 1: spawn request %s (%s), kernel id %s, ramdisk id %s, %s", name,
        uuid, kbase, ibase, token);

    if (!check(mkdtemp(inst_dir) != NULL, "instances dir %s", inst_dir))
        goto out;
    have_dir = true;
    layout.instances_dir = strdup(inst_dir);
    layout.image_cache_dir = strdup(kdir);
    layout.console_log_dir = strdup(log_dir);
    rc = build_request(&req, name, uuid, kbase, ibase, token);
    if (!check(rc == 0 && layout.instances_dir && layout.image_cache_dir &&
                   layout.console_log_dir,
               "request built"))
        goto out;

    say("step 2: translate with nxl__xl_build_config");
    rc = nxl__xl_build_config(&req, &layout, &cfg, &err);
    if (!check(rc == 0, "nxl__xl_build_config: %s",
               rc ? nxl_error_message(&err) : "ok"))
        goto out;
    have_cfg = true;
    check(cfg.c_info.type == LIBXL_DOMAIN_TYPE_PV, "type pv");
    check(cfg.b_info.kernel && strcmp(cfg.b_info.kernel, kernel) == 0,
          "kernel %s", cfg.b_info.kernel ? cfg.b_info.kernel : "(none)");
    check(cfg.b_info.ramdisk && strcmp(cfg.b_info.ramdisk, initrd) == 0,
          "ramdisk %s", cfg.b_info.ramdisk ? cfg.b_info.ramdisk : "(none)");
    check(cfg.b_info.cmdline && strstr(cfg.b_info.cmdline, token), "cmdline %s",
          cfg.b_info.cmdline ? cfg.b_info.cmdline : "(none)");
    /* The builder gives every instance a root disk served by qdisk, i.e.
     * QEMU, which the lab's dom0 does not have; this guest lives in its
     * initramfs. Disks are the translation test's business, the port's is
     * the domain's life: drop them. */
    say("  dropping %d disk(s) and %d nic(s): the guest runs from its "
        "initramfs, and the lab dom0 has no QEMU for qdisk",
        cfg.num_disks, cfg.num_nics);
    for (int i = 0; i < cfg.num_disks; i++)
        libxl_device_disk_dispose(&cfg.disks[i]);
    free(cfg.disks);
    cfg.disks = NULL;
    cfg.num_disks = 0;
    for (int i = 0; i < cfg.num_nics; i++)
        libxl_device_nic_dispose(&cfg.nics[i]);
    free(cfg.nics);
    cfg.nics = NULL;
    cfg.num_nics = 0;

    say("step 3: open the real port");
    rc = nxl__port_libxl_new(&real, &err);
    if (!check(rc == 0, "nxl__port_libxl_new: %s",
               rc ? nxl_error_message(&err) : "ok"))
        goto out;
    rc = nxl__port_trace_new(real, trace_to_stdout, NULL, &port);
    if (!check(rc == 0, "trace wrapper"))
        goto out;
    real = NULL; /* the wrapper owns it */

    rc = port->ops->host_info(port, &hi, &err);
    check(rc == 0, "host_info: %s", rc ? nxl_error_message(&err) : "ok");
    if (rc == 0) {
        say("  host: Xen %d.%d%s, %u cpus, %" PRIu64 " KiB total, %" PRIu64
            " KiB free, caps '%s'",
            hi.xen_major, hi.xen_minor, hi.xen_extra, hi.nr_cpus, hi.total_kb,
            hi.free_kb, hi.capabilities);
        check(hi.xen_major == 4 && hi.xen_minor == 17, "Xen 4.17");
        check(hi.cap_pv && hi.free_kb > 128 * 1024,
              "PV capable with room for the guest");
    }
    nxl_error_dispose(&err);

    /* A leftover log would let an old boot pass for this one. */
    unlink(log);
    say("step 4: create (the port leaves the domain paused)");
    t0 = nxl_lab_now();
    rc = port->ops->create(port, &cfg, &domid, &err);
    if (!check(rc == 0, "create: %s", rc ? nxl_error_message(&err) : "ok")) {
        if (err.domid > 0) {
            domid = (uint32_t)err.domid;
            have_domain = true; /* half-created: cleaned up at out */
        }
        goto out;
    }
    have_domain = true;
    say("  domid %u after %.1fs", domid, nxl_lab_now() - t0);
    rc = port->ops->domain_info(port, domid, &di, &err);
    if (!check(rc == 0, "domain_info: %s", rc ? nxl_error_message(&err) : "ok"))
        goto out;
    show_info("after create", &di);
    check(di.paused && !di.shutdown, "paused after create");
    check(strcmp(di.uuid, uuid) == 0, "uuid is the instance's");
    check(di.max_mem_kb >= 128 * 1024, "memory as asked");
    check(listed(port, domid, &ok) && ok, "listed");
    rc = port->ops->name_to_domid(port, name, &got, &err);
    check(rc == 0 && got == domid, "name_to_domid(%s) = %u", name,
          rc ? 0 : got);
    nxl_error_dispose(&err);
    rc = port->ops->watch_domain(port, domid, &err);
    check(rc == 0, "watch_domain: %s", rc ? nxl_error_message(&err) : "ok");
    nxl_error_dispose(&err);

    say("step 5: unpause and wait (at most %ds) for '%s' and our token in %s",
        BOOT_BOUND_S, marker, log);
    rc = port->ops->unpause(port, domid, &err);
    if (!check(rc == 0, "unpause: %s", rc ? nxl_error_message(&err) : "ok"))
        goto out;
    deadline = nxl_lab_now() + BOOT_BOUND_S;
    while (!(file_has(log, marker) && file_has(log, token)) &&
           nxl_lab_now() < deadline)
        sleep(1);
    if (!check(file_has(log, marker) && file_has(log, token),
               "guest console shows the marker and token after %.0fs",
               nxl_lab_now() - t0)) {
        dump_file(log);
        goto out;
    }
    rc = port->ops->domain_info(port, domid, &di, &err);
    if (!check(rc == 0, "domain_info: %s", rc ? nxl_error_message(&err) : "ok"))
        goto out;
    show_info("after boot", &di);
    /* A booted guest idling in sleep is "blocked", one on a CPU right now
     * "running", and one runnable but waiting for a CPU is neither (Xen's
     * flags are both clear; a loaded lab host shows it): all three are what
     * nova calls RUNNING. */
    check(!di.paused && !di.shutdown && !di.dying,
          "running (not paused, not shut down, not dying)");
    check(di.cpu_time_ns > 0, "has used cpu time");

    rc = port->ops->retrieve_config(port, domid, &json, &err);
    check(rc == 0 && json && strstr(json, name), "retrieve_config: %s",
          rc ? nxl_error_message(&err) : "names the domain");
    nxl_error_dispose(&err);

    say("step 6: pause, unpause");
    rc = port->ops->pause(port, domid, &err);
    check(rc == 0, "pause: %s", rc ? nxl_error_message(&err) : "ok");
    nxl_error_dispose(&err);
    if (port->ops->domain_info(port, domid, &di, NULL) == 0) {
        show_info("after pause", &di);
        check(di.paused, "paused");
    }
    rc = port->ops->unpause(port, domid, &err);
    check(rc == 0, "unpause: %s", rc ? nxl_error_message(&err) : "ok");
    nxl_error_dispose(&err);
    if (port->ops->domain_info(port, domid, &di, NULL) == 0) {
        show_info("after unpause", &di);
        check(!di.paused && !di.shutdown, "runs again");
    }

    say("step 7: userdata round trip");
    rc = port->ops->userdata_store(port, domid, NXL_PORT_USERDATA_ID,
                                   (const uint8_t *)uuid, strlen(uuid), &err);
    check(rc == 0, "userdata_store: %s", rc ? nxl_error_message(&err) : "ok");
    nxl_error_dispose(&err);
    rc = port->ops->userdata_retrieve(port, domid, NXL_PORT_USERDATA_ID, &data,
                                      &len, &err);
    check(rc == 0 && len == strlen(uuid) && data &&
              memcmp(data, uuid, len) == 0,
          "userdata_retrieve gives it back");
    nxl_error_dispose(&err);

    say("step 8: destroy, expect the DEATH event (at most %ds)", EVENT_BOUND_S);
    rc = port->ops->destroy(port, domid, &err);
    if (!check(rc == 0, "destroy: %s", rc ? nxl_error_message(&err) : "ok"))
        goto out;
    have_domain = false;
    deadline = nxl_lab_now() + EVENT_BOUND_S;
    ok = false;
    while (!ok && nxl_lab_now() < deadline) {
        nxl_error_dispose(&err);
        rc = port->ops->wait_event(port, 1000, &ev, &err);
        if (rc == NXL_E_TIMEOUT)
            continue;
        if (rc)
            break;
        say("  event: domid %u %s", ev.domid,
            ev.kind == NXL_PORT_EV_DEATH ? "death" : "shutdown");
        ok = ev.domid == domid && ev.kind == NXL_PORT_EV_DEATH;
    }
    check(ok, "DEATH event for domid %u%s%s", domid, rc ? ": " : "",
          rc ? nxl_error_message(&err) : "");
    nxl_error_dispose(&err);
    check(!listed(port, domid, &ok) && ok, "no longer listed");
    rc = port->ops->domain_info(port, domid, &di, &err);
    check(rc == NXL_E_NOT_FOUND, "domain_info: %s (%s)",
          nxl_error_code_name(rc), nxl_error_message(&err));
    nxl_error_dispose(&err);

out:
    if (have_domain && port) {
        say("cleanup: destroying domid %u", domid);
        port->ops->destroy(port, domid, NULL);
    } else if (have_domain && real) {
        real->ops->destroy(real, domid, NULL);
    }
    nxl__port_free(port);
    nxl__port_free(real);
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    if (have_dir)
        rmdir(inst_dir);
    free(json);
    free(data);
    nxl_error_dispose(&err);
    nxl_host_layout_dispose(&layout);
    nxl_spawn_req_dispose(&req);
    say("%d failure(s)", nxl_lab_failures);
    return nxl_lab_failures ? 1 : 0;
}

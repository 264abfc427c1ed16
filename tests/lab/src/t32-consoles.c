/* Lab test: consoles on real Xen, in the lab's dom0 (exit 0 pass, 1 fail,
 * 77 skip off dom0).
 *
 * 1. init_host finds the lab's xenconsoled logging guests into the
 *    console log dir (no warning), and the xenstore nodes the serial
 *    bridge reads are dom0's: console/tty and serial/0/tty owned by dom0,
 *    the guest at most reading them.
 * 2. An HVM instance spawned through the driver (the lab kernel, direct
 *    kernel boot, no NIC) has VNC: get_vnc_console's host:port is listening in
 *    dom0 and speaks RFB; get_serial_console bridges qemu's serial pty to
 *    a TCP port that accepts a client.
 * 3. A PV instance: get_serial_console's TCP port relays the guest's
 *    console: `xl sysrq <domain> h` makes the guest's kernel print its
 *    sysrq help, which arrives on the TCP client. After cleanup_host and
 *    a new driver's init_host the same port serves the console again,
 *    without anyone asking for it.
 * 4. Log rotation under the real xenconsoled (cap 64 KiB): the guest's
 *    log is filled past the cap, the driver's upkeep renames it to .1 and
 *    signals xenconsoled; get_console_output still ends with the filler's
 *    last line, and the next console output (sysrq again) lands in the
 *    new log, proving xenconsoled reopened it.
 * 5. destroy closes the bridge (the port refuses connections).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_console.h"

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

#define LOG_CAP (64 * 1024)
#define BOOT_BOUND_S 90

/* Reads fd until needle arrives (true), EOF, or bound_s; what was read
 * (its tail) is left in buf. */
static bool read_for(int fd, const char *needle, int bound_s, char *buf,
                     size_t size)
{
    size_t len = 0;
    double end = nxl_lab_now() + bound_s;

    buf[0] = '\0';
    while (nxl_lab_now() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 500) <= 0)
            continue;
        if (len > size / 2) { /* keep the tail */
            memmove(buf, buf + len - size / 4, size / 4);
            len = size / 4;
        }
        r = read(fd, buf + len, size - 1 - len);
        if (r <= 0)
            return false;
        len += (size_t)r;
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        if (strstr(buf, needle))
            return true;
    }
    return false;
}

/* Still connected after ms (the bridge opened the pty: no EOF). */
static bool stays_open(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c[256];

    if (poll(&p, 1, ms) == 0)
        return true;
    return read(fd, c, sizeof(c)) > 0;
}

static bool sysrq(int domid)
{
    char cmd[64];

    snprintf(cmd, sizeof(cmd), "xl sysrq %d h", domid);
    return system(cmd) == 0;
}

/* console/tty or serial/0/tty of domid: owned by dom0, the guest may read
 * it at most. */
static void check_tty_acl(nxl_xs *xs, int domid, const char *node)
{
    char p[128];
    nxl_xs_perms perms;
    bool guest_writes = false;
    int rc;

    snprintf(p, sizeof(p), "/local/domain/%d/%s", domid, node);
    nxl_xs_perms_init(&perms);
    rc = nxl_xs_get_perms(xs, XBT_NULL, p, &perms, NULL);
    for (size_t i = 0; rc == 0 && i < perms.n; i++)
        if (perms.entries[i].domid == (unsigned)domid &&
            (perms.entries[i].access & NXL_XS_ACCESS_WRITE))
            guest_writes = true;
    check(rc == 0 && perms.owner == 0 && !guest_writes &&
              !(perms.others & NXL_XS_ACCESS_WRITE),
          "%s: owner %u (want 0), the guest %s, others %s", p,
          rc == 0 ? perms.owner : 9999, guest_writes ? "WRITES" : "reads",
          perms.others & NXL_XS_ACCESS_WRITE ? "WRITE" : "do not write");
    nxl_xs_perms_dispose(&perms);
}

static nxl_driver *open_driver(const char *images, const char *instances,
                               const char *logdir)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *drv = NULL;

    cfg.host = "lab";
    cfg.instances_dir = instances;
    cfg.image_cache_dir = images;
    cfg.console_log_dir = logdir;
    cfg.console_log_cap = LOG_CAP;
    cfg.console_log_interval = 3600; /* the test says when */
    if (!nxl_lab_open_driver_cfg(&cfg, NULL, 0, &drv)) {
        nxl_driver_close(drv);
        return NULL;
    }
    return drv;
}

static void hvm(nxl_driver *drv, nxl_xs *xs, const nxl_spawn_req *pv)
{
    static char hvm_name[] = "instance-000032a1";
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req = *pv; /* shallow: only fields replaced below */
    nxl_instance *inst = &req.instance;
    nxl_image_meta im;
    nxl_console c;
    char buf[256];
    int domid = -1, fd;

    /* The same kernel, as an HVM guest: its own identity and image
     * properties, everything else borrowed from the PV request. */
    snprintf(inst->uuid, sizeof(inst->uuid), "%s",
             "32c0a5e1-0b7d-4c2e-9f41-5d6e7f8091a2");
    inst->name = hvm_name;
    nxl_image_meta_init(&im);
    im.id = pv->image_meta.id;
    nxl_kvlist_set(&im.properties, "vm_mode", "hvm");
    nxl_kvlist_set(&im.properties, "os_command_line",
                   "console=ttyS0 rdinit=/init quiet");
    req.image_meta = im;
    /* No NIC: what is proven here is the consoles (t31 and t22 prove
     * NICs on PV guests). */
    req.network_info.vifs = NULL;
    req.network_info.n = 0;
    if (!ok_call(nxl_instance_spawn(drv, &req, &err), &err, "spawn HVM")) {
        /* What libxl and the device model said. */
        if (system("tail -n 25 /var/log/xen/qemu-dm-instance-000032a1.log; "
                   "xl dmesg | tail -n 15; xl list") != 0)
            printf("(no diagnostics)\n");
        goto out;
    }
    nxl_lab_state_domid(drv, inst, &domid);
    check(domid > 0, "HVM domid %d", domid);

    nxl_console_init(&c);
    if (ok_call(nxl_instance_get_vnc_console(drv, inst, &c, &err), &err,
                "get_vnc_console")) {
        check(c.port >= 5900 && c.host, "VNC at %s:%d",
              c.host ? c.host : "(none)", c.port);
        fd = c.host ? nxl_lab_tcp_connect(c.host, c.port) : -1;
        check(fd >= 0, "VNC port %d listening in dom0", c.port);
        if (fd >= 0) {
            check(read_for(fd, "RFB ", 10, buf, sizeof(buf)),
                  "VNC server says '%.11s'", buf);
            close(fd);
        }
    }
    nxl_console_dispose(&c);
    check_tty_acl(xs, domid, "serial/0/tty");
    if (ok_call(nxl_instance_get_serial_console(drv, inst, &c, &err), &err,
                "get_serial_console (HVM)")) {
        check(c.port >= 10000 && c.port <= 20000 && c.internal_access_path &&
                  strncmp(c.internal_access_path, "/dev/pts/", 9) == 0,
              "HVM serial %s bridged to %s:%d",
              c.internal_access_path ? c.internal_access_path : "(none)",
              c.host ? c.host : "(none)", c.port);
        fd = c.host ? nxl_lab_tcp_connect(c.host, c.port) : -1;
        check(fd >= 0 && stays_open(fd, 1000),
              "HVM serial bridge accepts a client and keeps it");
        if (fd >= 0)
            close(fd);
    }
    nxl_console_dispose(&c);
    ok_call(nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err), &err,
            "destroy HVM");
out:
    im.id = NULL; /* pv's */
    nxl_image_meta_dispose(&im);
}

int main(void)
{
    char log[1024], rotated[1100], buf[8192], *w;
    nxl_error err = NXL_ERROR_INIT;
    nxl_lab_run run;
    nxl_instance *inst;
    nxl_console c;
    nxl_buf out;
    struct stat st;
    int domid = -1, port = -1, fd, boots, rc;
    double end;

    if ((rc = nxl_lab_begin(&run, "t32", "pv-direct-kernel")))
        return rc;
    inst = &run.req.instance;
    snprintf(log, sizeof(log), "%s/guest-%s.log", run.env.logdir, inst->name);
    snprintf(rotated, sizeof(rotated), "%s.1", log);
    if (!(run.drv = open_driver(run.images, run.instances, run.env.logdir)) ||
        !ok_call(nxl_xs_open(&run.xs, &err), &err, "xenstore open"))
        goto out;

    /* 1. */
    w = NULL;
    ok_call(nxl_host_get_console_warning(run.drv, &w, &err), &err,
            "get_console_warning");
    check(w == NULL, "xenconsoled logs guests into %s%s%s", run.env.logdir,
          w ? ": " : "", w ? w : "");
    free(w);
    nxl_lab_step_done("xenconsoled check");

    /* 2. */
    hvm(run.drv, run.xs, &run.req);
    nxl_lab_step_done("HVM: VNC and serial bridge");

    /* 3. */
    boots = nxl_lab_count_in_file(log, run.env.marker);
    if (!ok_call(nxl_instance_spawn(run.drv, &run.req, &err), &err, "spawn PV"))
        goto out;
    nxl_lab_state_domid(run.drv, inst, &domid);
    check(domid > 0, "PV domid %d", domid);
    check(nxl_lab_wait_marker(log, run.env.marker, boots, BOOT_BOUND_S),
          "guest marker in %s", log);
    check_tty_acl(run.xs, domid, "console/tty");
    nxl_console_init(&c);
    if (ok_call(nxl_instance_get_serial_console(run.drv, inst, &c, &err), &err,
                "get_serial_console (PV)")) {
        port = c.port;
        check(port >= 10000 && port <= 20000 && c.host &&
                  strcmp(c.host, "127.0.0.1") == 0,
              "PV console %s bridged to %s:%d",
              c.internal_access_path ? c.internal_access_path : "(none)",
              c.host ? c.host : "(none)", port);
    }
    nxl_console_dispose(&c);
    fd = port > 0 ? nxl_lab_tcp_connect("127.0.0.1", port) : -1;
    check(fd >= 0, "connected to the serial bridge");
    if (fd >= 0) {
        usleep(300000);
        check(sysrq(domid), "xl sysrq %d h", domid);
        check(read_for(fd, "HELP", 20, buf, sizeof(buf)),
              "the guest's sysrq help came through TCP");
        close(fd);
    }
    nxl_lab_step_done("PV serial over TCP");

    /* A restart of the daemon: the port comes back by itself. */
    ok_call(nxl_host_cleanup(run.drv, "lab", &err), &err, "cleanup_host");
    fd = port > 0 ? nxl_lab_tcp_connect("127.0.0.1", port) : -1;
    check(fd < 0, "port %d closed by cleanup_host", port);
    if (fd >= 0)
        close(fd);
    nxl_driver_close(run.drv);
    if (!(run.drv = open_driver(run.images, run.instances, run.env.logdir)))
        goto out;
    fd = port > 0 ? nxl_lab_tcp_connect("127.0.0.1", port) : -1;
    check(fd >= 0, "port %d listening again after init_host", port);
    if (fd >= 0) {
        usleep(300000);
        sysrq(domid);
        check(read_for(fd, "HELP", 20, buf, sizeof(buf)),
              "the console comes through the same port after a restart");
        close(fd);
    }
    nxl_lab_step_done("serial port persisted");

    /* 4. Fill past the cap, as a chatty guest would. */
    {
        FILE *f = fopen(log, "a");
        static char line[128];

        memset(line, '.', sizeof(line) - 1);
        line[sizeof(line) - 2] = '\n';
        for (size_t n = 0; f && n < 2 * LOG_CAP; n += sizeof(line) - 1)
            fputs(line, f);
        if (f) {
            fputs("NXL-LAB-FILL-END\n", f);
            fclose(f);
        }
        memset(&st, 0, sizeof(st));
        stat(log, &st);
        check(st.st_size > LOG_CAP, "%s filled to %lld bytes (cap %d)", log,
              (long long)st.st_size, LOG_CAP);
    }
    nxl__xl_console_logs_due(run.drv);
    end = nxl_lab_now() + 10;
    while (nxl_lab_now() < end && stat(rotated, &st) != 0)
        usleep(200000);
    memset(&st, 0, sizeof(st));
    stat(rotated, &st);
    check(st.st_size > LOG_CAP,
          "the event thread rotated it to %s (%lld bytes)", rotated,
          (long long)st.st_size);
    nxl_buf_init(&out);
    if (ok_call(nxl_instance_get_console_output(run.drv, inst, &out, &err),
                &err, "get_console_output after rotation"))
        check(out.len <= 100 * 1024 && out.data &&
                  strstr(out.data, "NXL-LAB-FILL-END"),
              "its tail (%zu bytes) still ends with the filler's last line",
              out.len);
    nxl_buf_dispose(&out);
    sysrq(domid);
    end = nxl_lab_now() + 20;
    while (nxl_lab_now() < end && nxl_lab_count_in_file(log, "HELP") < 1)
        usleep(500000);
    memset(&st, 0, sizeof(st));
    stat(log, &st);
    check(nxl_lab_count_in_file(log, "HELP") >= 1 && st.st_size > 0 &&
              st.st_size < LOG_CAP,
          "xenconsoled reopened: new output is in the new %s (%lld bytes)", log,
          (long long)st.st_size);
    nxl_lab_step_done("log rotation");

    /* 5. */
    ok_call(nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, &err),
            &err, "destroy PV");
    end = nxl_lab_now() + 5;
    fd = 0;
    while (nxl_lab_now() < end &&
           (fd = nxl_lab_tcp_connect("127.0.0.1", port)) >= 0) {
        close(fd);
        usleep(200000);
    }
    check(fd < 0, "port %d closed after destroy", port);
    end = nxl_lab_now() + 10;
    while (nxl_lab_now() < end && stat(log, &st) == 0)
        usleep(200000);
    check(stat(log, &st) != 0 && stat(rotated, &st) != 0,
          "the destroyed instance's logs are deleted");
    nxl_lab_step_done("destroy");
    ok_call(nxl_host_cleanup(run.drv, "lab", &err), &err, "cleanup_host");
out:
    return nxl_lab_end(&run);
}

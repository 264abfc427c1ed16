/* Lab test: the SPICE console of an HVM guest on real Xen, in the lab's
 * dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * examples/pv-direct-kernel.json made HVM (vm_mode hvm, the lab kernel by
 * direct kernel boot, no NIC: t29-hvm-nic proves those) with the flavor's
 * hw:spice=true, spawned through the driver:
 *
 * 0. While dom0 has no IPv4 address but loopback's (the lab's xenbr0 has
 *    none): spawn fails with NXL_E_FAILED naming AI_ADDRCONFIG, and
 *    nothing is left. spice-server resolves its listen address with
 *    getaddrinfo(AI_ADDRCONFIG), which then finds nothing for 127.0.0.1;
 *    qemu exits ("failed to initialize spice server") and libxl says only
 *    ERROR_FAIL, which is how this test first failed. Then 192.0.2.35/24
 *    goes on xenbr0 for the rest of the test (any non-loopback address
 *    does; a compute host always has one), and is removed at the end.
 * 1. get_spice_console: 127.0.0.1, a port the driver picked from its
 *    SPICE range (NXL_XL_SPICE_PORT_MIN..MAX), no TLS port. The same port
 *    is what libxl published (`xl list -l`: b_info.type.hvm.spice.port)
 *    and what qemu was started with (its `-spice port=N,...` argument).
 * 2. A SPICE server answers there: a client's link header ("REDQ",
 *    protocol 2.2) and SpiceLinkMess for the main channel get a reply
 *    header "REDQ" 2.x and a SpiceLinkReply whose error is
 *    SPICE_LINK_ERR_OK (no ticket: the driver disables ticketing, the
 *    console proxy being the gate).
 * 3. get_vnc_console of that guest: VNC stays on beside SPICE, on the
 *    same listen address (the config builder's "listen as VNC"), on
 *    another port, the one xenstore's console/vnc-port publishes, and it
 *    speaks RFB.
 * 4. destroy: the SPICE port is closed, nothing left.
 *
 * On a failed spawn or a silent port, qemu's log is printed.
 */
#include "config.h"

#include <dirent.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_config.h"

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

#define LAB_ADDR "192.0.2.35/24"

/* Whether dom0 has an IPv4 address on an interface other than lo. */
static bool has_ipv4(void)
{
    FILE *p = popen("ip -o -4 addr show 2>/dev/null", "r");
    char line[512];
    bool found = false;

    while (p && fgets(line, sizeof(line), p))
        if (!strstr(line, " lo "))
            found = true;
    if (p)
        pclose(p);
    return found;
}

/* Reads exactly size bytes within bound_s; how many arrived. */
static size_t read_n(int fd, unsigned char *buf, size_t size, int bound_s)
{
    size_t len = 0;
    double end = nxl_lab_now() + bound_s;

    while (len < size && nxl_lab_now() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 500) <= 0)
            continue;
        r = read(fd, buf + len, size - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    return len;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* SPICE's link handshake (spice-protocol's SpiceLinkHeader, all
 * little-endian: magic "REDQ", major 2, minor 2, size of what follows;
 * then the packed SpiceLinkMess: connection_id 0, channel_type 1 (main),
 * channel_id 0, no common or channel caps, caps_offset 18). The reply is
 * a SpiceLinkHeader and a SpiceLinkReply whose first field is the error
 * (0: SPICE_LINK_ERR_OK). */
static void spice_link(const char *host, int port)
{
    unsigned char req[16 + 18], rep[16 + 4];
    size_t n;
    int fd;

    memset(req, 0, sizeof(req));
    memcpy(req, "REDQ", 4);
    put32(req + 4, 2);
    put32(req + 8, 2);
    put32(req + 12, 18);
    req[16 + 4] = 1;          /* channel_type: main */
    put32(req + 16 + 14, 18); /* caps_offset */
    fd = nxl_lab_tcp_connect(host, port);
    check(fd >= 0, "SPICE port %s:%d listening in dom0", host, port);
    if (fd < 0)
        return;
    check(write(fd, req, sizeof(req)) == (ssize_t)sizeof(req),
          "SpiceLinkHeader and SpiceLinkMess sent");
    n = read_n(fd, rep, sizeof(rep), 20);
    check(n == sizeof(rep) && memcmp(rep, "REDQ", 4) == 0 &&
              get32(rep + 4) == 2,
          "SPICE server replies: %zu bytes, magic '%.4s', protocol %u.%u, "
          "size %u",
          n, n >= 4 ? (const char *)rep : "", n >= 8 ? get32(rep + 4) : 0,
          n >= 12 ? get32(rep + 8) : 0, n >= 16 ? get32(rep + 12) : 0);
    check(n == sizeof(rep) && get32(rep + 16) == 0,
          "SpiceLinkReply error %u (0: SPICE_LINK_ERR_OK, no ticket asked)",
          n == sizeof(rep) ? get32(rep + 16) : 9999);
    close(fd);
}

/* libxl's published config of domid (`xl list -l`): its SPICE port. */
static long long xl_spice_port(int domid)
{
    char cmd[64], *doc = NULL;
    size_t len = 0, cap = 0;
    nxl_json *root = NULL;
    long long port = -1;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "xl list -l %d 2>/dev/null", domid);
    if (!(p = popen(cmd, "r")))
        return -1;
    for (;;) {
        if (len + 4096 > cap) {
            char *d = realloc(doc, cap + 65536);
            if (!d)
                break;
            doc = d;
            cap += 65536;
        }
        size_t r = fread(doc + len, 1, cap - len - 1, p);
        if (r == 0)
            break;
        len += r;
    }
    pclose(p);
    if (doc && nxl__json_parse(doc, len, 0, &root, NULL) == 0)
        nxl__json_integer(
            nxl__json_get(
                nxl__json_get(
                    nxl__json_get(
                        nxl__json_get(
                            nxl__json_get(nxl__json_at(root, 0), "config"),
                            "b_info"),
                        "type.hvm"),
                    "spice"),
                "port"),
            &port);
    nxl__json_free(root);
    free(doc);
    return port;
}

/* The port in the -spice argument of domid's qemu (found by its
 * -xen-domid argument in /proc); -1 when none. */
static long long qemu_spice_port(int domid)
{
    char want[32], path[300], buf[16384];
    long long port = -1;
    struct dirent *de;
    DIR *d = opendir("/proc");

    snprintf(want, sizeof(want), "%d", domid);
    while (d && port < 0 && (de = readdir(d))) {
        FILE *f;
        size_t n;
        bool mine = false;
        const char *spice = NULL;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
            const char *next = i + strlen(buf + i) + 1 < n
                                   ? buf + i + strlen(buf + i) + 1
                                   : "";
            if (strcmp(buf + i, "-xen-domid") == 0 && strcmp(next, want) == 0)
                mine = true;
            if (strcmp(buf + i, "-spice") == 0)
                spice = next;
        }
        if (mine && spice) {
            const char *p = strstr(spice, "port=");
            printf("  qemu of domain %d: -spice %s\n", domid, spice);
            if (p && (p == spice || p[-1] == ','))
                port = strtoll(p + 5, NULL, 10);
        }
    }
    if (d)
        closedir(d);
    return port;
}

static void qemu_log(const char *name)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd),
             "tail -n 30 /var/log/xen/qemu-dm-%s.log; xl dmesg | tail -n 10; "
             "xl list",
             name);
    if (system(cmd) != 0)
        printf("(no diagnostics)\n");
}

int main(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_lab_run run;
    nxl_instance *inst;
    nxl_console spice, vnc;
    char node[128], *xs_port = NULL, buf[16];
    int domid = -1, rc, fd = -1;
    bool added_addr = false;
    size_t n_vifs;
    long long libxl_port, qemu_port;
    size_t n;
    double end;

    if ((rc = nxl_lab_begin(&run, "t35", "pv-direct-kernel")))
        return rc;
    inst = &run.req.instance;
    nxl_console_init(&spice);
    nxl_console_init(&vnc);
    if (!nxl_lab_open_driver(run.images, run.instances, run.env.logdir, NULL,
                             &run.drv) ||
        !ok_call(nxl_xs_open(&run.xs, &err), &err, "xenstore open"))
        goto out;

    nxl_kvlist_set(&run.req.image_meta.properties, "vm_mode", "hvm");
    nxl_kvlist_set(&run.req.image_meta.properties, "os_command_line",
                   "console=ttyS0 rdinit=/init quiet");
    nxl_kvlist_set(&inst->flavor.extra_specs, "hw:spice", "true");
    /* Without the example's NIC: t29 proves HVM NICs. */
    n_vifs = run.req.network_info.n;
    run.req.network_info.n = 0;

    /* 0. */
    if (!has_ipv4()) {
        rc = nxl_instance_spawn(run.drv, &run.req, &err);
        check(rc == NXL_E_FAILED &&
                  strstr(nxl_error_message(&err), "AI_ADDRCONFIG"),
              "spawn without an IPv4 address but loopback's: %d (%s)", rc,
              nxl_error_message(&err));
        nxl_error_dispose(&err);
        nxl_lab_check_nothing_left(run.drv, inst, run.instances);
        added_addr = check(system("ip addr add " LAB_ADDR " dev xenbr0") == 0,
                           "%s on xenbr0", LAB_ADDR);
    } else {
        printf("  dom0 has an IPv4 address already: step 0 not tried\n");
    }
    nxl_lab_step_done("SPICE needs a non-loopback address");

    rc = nxl_instance_spawn(run.drv, &run.req, &err);
    run.req.network_info.n = n_vifs;
    if (!ok_call(rc, &err, "spawn HVM with hw:spice=true")) {
        qemu_log(inst->name);
        goto out;
    }
    nxl_lab_state_domid(run.drv, inst, &domid);
    check(domid > 0, "HVM domid %d", domid);
    nxl_lab_step_done("spawn");

    /* 1. */
    if (!ok_call(nxl_instance_get_spice_console(run.drv, inst, &spice, &err),
                 &err, "get_spice_console")) {
        qemu_log(inst->name);
        goto destroy;
    }
    check(spice.type == NXL_CONSOLE_SPICE && spice.host &&
              strcmp(spice.host, "127.0.0.1") == 0 &&
              spice.port >= NXL_XL_SPICE_PORT_MIN &&
              spice.port <= NXL_XL_SPICE_PORT_MAX && spice.tls_port == -1,
          "SPICE at %s:%d (tls_port %d), in the driver's range %d:%d",
          spice.host ? spice.host : "(none)", spice.port, spice.tls_port,
          NXL_XL_SPICE_PORT_MIN, NXL_XL_SPICE_PORT_MAX);
    libxl_port = xl_spice_port(domid);
    check(libxl_port == spice.port,
          "libxl publishes SPICE port %lld (xl list -l)", libxl_port);
    qemu_port = qemu_spice_port(domid);
    check(qemu_port == spice.port, "qemu was started with SPICE port %lld",
          qemu_port);
    nxl_lab_step_done("get_spice_console");

    /* 2. */
    n = (size_t)nxl_lab_failures;
    if (spice.host)
        spice_link(spice.host, spice.port);
    if ((size_t)nxl_lab_failures != n)
        qemu_log(inst->name);
    nxl_lab_step_done("SPICE link handshake");

    /* 3. */
    if (ok_call(nxl_instance_get_vnc_console(run.drv, inst, &vnc, &err), &err,
                "get_vnc_console of the SPICE guest")) {
        check(vnc.host && spice.host && strcmp(vnc.host, spice.host) == 0 &&
                  vnc.port >= 5900 && vnc.port != spice.port,
              "VNC at %s:%d beside SPICE at %s:%d",
              vnc.host ? vnc.host : "(none)", vnc.port,
              spice.host ? spice.host : "(none)", spice.port);
        snprintf(node, sizeof(node), "/local/domain/%d/console/vnc-port",
                 domid);
        nxl_xs_read(run.xs, XBT_NULL, node, &xs_port, NULL, NULL);
        check(xs_port && atoi(xs_port) == vnc.port, "%s = %s", node,
              xs_port ? xs_port : "(none)");
        fd = vnc.host ? nxl_lab_tcp_connect(vnc.host, vnc.port) : -1;
        n = fd >= 0 ? read_n(fd, (unsigned char *)buf, 4, 10) : 0;
        check(n == 4 && memcmp(buf, "RFB ", 4) == 0,
              "VNC port %d speaks RFB ('%.*s')", vnc.port, (int)n, buf);
        if (fd >= 0)
            close(fd);
    }
    nxl_lab_step_done("get_vnc_console");

destroy:
    /* 4. */
    ok_call(nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, &err),
            &err, "destroy");
    if (spice.port > 0) {
        end = nxl_lab_now() + 10;
        while (nxl_lab_now() < end &&
               (fd = nxl_lab_tcp_connect("127.0.0.1", spice.port)) >= 0) {
            close(fd);
            usleep(200000);
        }
        check(fd < 0, "SPICE port %d closed after destroy", spice.port);
    }
    nxl_lab_check_nothing_left(run.drv, inst, run.instances);
    nxl_lab_step_done("destroy");
    ok_call(nxl_host_cleanup(run.drv, "lab", &err), &err, "cleanup_host");
out:
    if (added_addr)
        check(system("ip addr del " LAB_ADDR " dev xenbr0") == 0,
              "%s removed from xenbr0", LAB_ADDR);
    free(xs_port);
    nxl_console_dispose(&spice);
    nxl_console_dispose(&vnc);
    return nxl_lab_end(&run);
}

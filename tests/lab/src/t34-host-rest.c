/* Lab test: the host-side members no other lab test proves, on real Xen,
 * in the lab's dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * 1. get_host_uptime against /proc/uptime, /proc/loadavg and the clock;
 *    get_host_ip_addr: NOT_FOUND while dom0 has no address but loopback
 *    (the lab's xenbr0 has none), then, with 192.0.2.34/24 put on
 *    xenbr0, that address and one `ip -o addr` lists; get_volume_connector:
 *    that ip, the driver's host name and the IQN of
 *    /etc/iscsi/initiatorname.iscsi (written for the test when dom0 has
 *    none, and the initiator is NULL before that).
 * 2. host_power_action: startup is UNSUPPORTED with its reason; with the
 *    spawned PV guest running, reboot and shutdown are DENIED naming the
 *    running guests. The hook that would run shutdown(8) is replaced by a
 *    guard that fails and counts, so a driver bug cannot take the lab
 *    down: it must never be reached.
 * 3. get_spice_console of the PV guest: CONSOLE_UNAVAILABLE (no SPICE
 *    server). t35-spice proves the SPICE server of an HVM guest.
 * 4. host_maintenance_mode(true): on_maintenance, the guest reported as
 *    not evacuated with the reason (no migration target), the flag in
 *    dom0-only xenstore, a spawn of a second instance refused (DENIED)
 *    leaving nothing, the running guest not evacuated (same domain,
 *    RUNNING, still counted); (false): off_maintenance, nothing reported.
 * 5. set_host_enabled(false): disabled, the flag in xenstore; the driver
 *    restarted (cleanup_host, close, a new driver's init_host): the new
 *    driver still refuses the spawn (persisted), leaving nothing;
 *    set_host_enabled(true), and the second instance really spawns (which
 *    also proves maintenance was left), then is destroyed.
 * 6. inject_network_info, reset_network, inject_file against the lab
 *    guest, which runs no agent, with the agent timeout lowered to 3 s:
 *    each TIMEOUT with "no guest agent answered" after the timeout; a
 *    thread reading data/host meanwhile sees the request (dom0's, the
 *    guest read-only), and nothing is left under data/host or data/guest.
 * Then destroy, nothing left.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_agent.h"
#include "xl_driver/xl_host.h"

#define BOOT_BOUND_S 120
#define AGENT_TIMEOUT_MS 3000
/* What a call that waits the agent timeout may take on top under TCG. */
#define AGENT_SLACK_S 20
#define LAB_ADDR "192.0.2.34"
#define LAB_IQN "iqn.2004-10.org.novaxl:lab-t34"
#define ISCSI_DIR "/etc/iscsi"
#define ISCSI_FILE ISCSI_DIR "/initiatorname.iscsi"
#define SECOND_UUID "34343434-3434-4434-8434-343434343434"
#define SECOND_NAME "instance-00000034"

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

/* ---- power: the guard in place of shutdown(8) ---- */

static int power_exec_calls;

static int power_exec_guard(const char *action, nxl_error *err)
{
    power_exec_calls++;
    return nxl_error_set(err, NXL_E_FAILED,
                         "t34: the lab guard refused to run shutdown (%s)",
                         action);
}

/* ---- dom0 facts ---- */

static bool read_small(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return false;
    n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n > 0;
}

/* Guest domains `xl list` shows (every line but the header and
 * Domain-0). */
static int xl_guests(void)
{
    FILE *p = popen("xl list 2>/dev/null", "r");
    char line[256];
    int n = -1;

    if (!p)
        return -1;
    while (fgets(line, sizeof(line), p))
        if (n++ >= 0 && strncmp(line, "Domain-0 ", 9) == 0)
            n--;
    pclose(p);
    return n;
}

/* Whether `ip -o addr` lists addr on an interface other than lo. */
static bool ip_has_addr(const char *addr, char *ifname, size_t size)
{
    FILE *p = popen("ip -o addr show 2>/dev/null", "r");
    char line[512], a[128], dev[64];
    bool found = false;

    if (!p)
        return false;
    /* "2: xenbr0    inet 192.0.2.34/24 scope global xenbr0..." */
    while (fgets(line, sizeof(line), p))
        if (sscanf(line, "%*d: %63s %*s %127[^/ ]", dev, a) == 2 &&
            strcmp(dev, "lo") != 0 && strcmp(a, addr) == 0) {
            snprintf(ifname, size, "%s", dev);
            found = true;
        }
    pclose(p);
    return found;
}

/* Addresses `ip -o addr` lists that get_host_ip_addr may pick: any IPv4
 * or non-link-local IPv6 off lo. */
static int ip_candidates(void)
{
    FILE *p = popen("ip -o addr show 2>/dev/null", "r");
    char line[512], fam[16], a[128], dev[64];
    int n = 0;

    if (!p)
        return -1;
    while (fgets(line, sizeof(line), p))
        if (sscanf(line, "%*d: %63s %15s %127[^/ ]", dev, fam, a) == 3 &&
            strcmp(dev, "lo") != 0 &&
            (strcmp(fam, "inet") == 0 ||
             (strcmp(fam, "inet6") == 0 && strncmp(a, "fe80:", 5) != 0)))
            n++;
    pclose(p);
    return n;
}

static bool sh(const char *cmd)
{
    int rc = system(cmd);

    return check(rc == 0, "%s (status %d)", cmd, rc);
}

/* ---- 1. uptime, address, connector ---- */

/* Minutes of uptime(1)'s span: "3 min", "1:05", "2 days,  1:05",
 * "1 day, 4 min". -1 when it does not parse. */
static long span_minutes(const char *s)
{
    long days = 0, a = 0, b = 0;
    const char *p = s;
    int used = 0;

    if (sscanf(p, "%ld day%*[s], %n", &days, &used) >= 1 && used > 0)
        p += used;
    else if (sscanf(p, "%ld day, %n", &days, &used) >= 1 && used > 0)
        p += used;
    else
        days = 0;
    if (sscanf(p, "%ld:%ld", &a, &b) == 2)
        return days * 1440 + a * 60 + b;
    if (sscanf(p, "%ld min", &a) == 1)
        return days * 1440 + a;
    return -1;
}

static void uptime_vs_proc(nxl_driver *drv)
{
    char up0[128], up1[128], la0[128], la1[128], clock[16], want[3][16];
    double s0 = 0, s1 = 0, l[3][2];
    char *text = NULL, *upat, *ldat;
    nxl_error err = NXL_ERROR_INIT;
    int hh, mm, ss, rc;
    time_t now;
    struct tm tm;
    long mins, sod_now, sod_got, skew;

    read_small("/proc/uptime", up0, sizeof(up0));
    read_small("/proc/loadavg", la0, sizeof(la0));
    rc = nxl_host_get_uptime(drv, &text, &err);
    now = time(NULL);
    read_small("/proc/uptime", up1, sizeof(up1));
    read_small("/proc/loadavg", la1, sizeof(la1));
    if (!ok_call(rc, &err, "get_host_uptime"))
        return;
    printf("  get_host_uptime: '%s'\n", text);
    sscanf(up0, "%lf", &s0);
    sscanf(up1, "%lf", &s1);
    sscanf(la0, "%lf %lf %lf", &l[0][0], &l[1][0], &l[2][0]);
    sscanf(la1, "%lf %lf %lf", &l[0][1], &l[1][1], &l[2][1]);

    /* The clock: the local time of the call. */
    localtime_r(&now, &tm);
    sod_now = tm.tm_hour * 3600L + tm.tm_min * 60L + tm.tm_sec;
    if (check(sscanf(text, " %2d:%2d:%2d up ", &hh, &mm, &ss) == 3,
              "uptime starts with the clock HH:MM:SS")) {
        sod_got = hh * 3600L + mm * 60L + ss;
        skew = labs(sod_now - sod_got);
        if (skew > 43200)
            skew = 86400 - skew;
        snprintf(clock, sizeof(clock), "%02d:%02d:%02d", tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        check(skew <= 5, "uptime clock %02d:%02d:%02d within 5 s of %s", hh, mm,
              ss, clock);
    }
    /* The span: whole minutes of /proc/uptime, read just before or just
     * after. */
    upat = strstr(text, " up ");
    mins = upat ? span_minutes(upat + 4) : -1;
    check(mins == (long)(s0 / 60) || mins == (long)(s1 / 60),
          "uptime span %ld min == /proc/uptime %.0f..%.0f s in minutes", mins,
          s0, s1);
    check(strstr(text, " user") != NULL, "uptime names its users");
    /* The load: /proc/loadavg's three figures, before or after. */
    ldat = strstr(text, "load average: ");
    for (int i = 0; i < 3; i++)
        want[i][0] = '\0';
    if (check(ldat != NULL, "uptime has a load average")) {
        double g[3];

        if (check(sscanf(ldat + 14, "%lf, %lf, %lf", &g[0], &g[1], &g[2]) == 3,
                  "load average parses"))
            for (int i = 0; i < 3; i++) {
                snprintf(want[i], sizeof(want[i]), "%.2f", g[i]);
                check((g[i] > l[i][0] - 0.005 && g[i] < l[i][0] + 0.005) ||
                          (g[i] > l[i][1] - 0.005 && g[i] < l[i][1] + 0.005),
                      "load %s == /proc/loadavg field %d (%.2f or %.2f)",
                      want[i], i + 1, l[i][0], l[i][1]);
            }
    }
    free(text);
}

/* get_host_ip_addr and get_volume_connector. *added_r: LAB_ADDR was put
 * on xenbr0 (the caller takes it off). */
static void address_and_connector(nxl_driver *drv, const char *host,
                                  bool *added_r, bool *iscsi_dir_r,
                                  bool *iscsi_file_r)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_volume_connector vc;
    char *ip = NULL, ifname[64] = "", iqn_line[512] = "";
    const char *iqn;
    struct stat sb;
    int rc, cands = ip_candidates();
    bool listed;

    printf("  dom0 addresses get_host_ip_addr may pick: %d\n", cands);
    if (cands == 0) {
        rc = nxl_host_get_ip_addr(drv, &ip, &err);
        check(rc == NXL_E_NOT_FOUND &&
                  strstr(nxl_error_message(&err), "no interface is up"),
              "get_host_ip_addr without an address: NOT_FOUND (%d): %s", rc,
              nxl_error_message(&err));
        nxl_error_dispose(&err);
        free(ip);
        ip = NULL;
        /* A documentation address (RFC 5737) on the lab's bridge, as a
         * management address would be. */
        if (!sh("ip addr add " LAB_ADDR "/24 dev xenbr0"))
            return;
        *added_r = true;
    }
    if (!ok_call(nxl_host_get_ip_addr(drv, &ip, &err), &err,
                 "get_host_ip_addr"))
        return;
    listed = ip_has_addr(ip, ifname, sizeof(ifname));
    check(listed,
          "get_host_ip_addr %s is an address `ip -o addr` lists (on %s)", ip,
          listed ? ifname : "none");
    if (*added_r)
        check(strcmp(ip, LAB_ADDR) == 0, "get_host_ip_addr %s == %s", ip,
              LAB_ADDR);

    /* The connector: as dom0 is, then with an initiator name when dom0
     * has none. */
    for (int pass = 0; pass < 2; pass++) {
        bool have = stat(ISCSI_FILE, &sb) == 0;

        iqn = NULL;
        if (have && read_small(ISCSI_FILE, iqn_line, sizeof(iqn_line))) {
            char *p = strstr(iqn_line, "InitiatorName=");

            if (p) {
                iqn = p + 14;
                p[14 + strcspn(p + 14, "\r\n")] = '\0';
            }
        }
        nxl_volume_connector_init(&vc);
        if (ok_call(nxl_instance_get_volume_connector(drv, NULL, &vc, &err),
                    &err, "get_volume_connector")) {
            check(vc.ip && strcmp(vc.ip, ip) == 0,
                  "connector ip %s == get_host_ip_addr %s",
                  vc.ip ? vc.ip : "(none)", ip);
            check(vc.host && strcmp(vc.host, host) == 0,
                  "connector host %s == %s", vc.host ? vc.host : "(none)",
                  host);
            if (iqn)
                check(vc.initiator && strcmp(vc.initiator, iqn) == 0,
                      "connector initiator %s == %s's %s",
                      vc.initiator ? vc.initiator : "(none)", ISCSI_FILE, iqn);
            else
                check(!vc.initiator, "no %s: initiator NULL (got %s)",
                      ISCSI_FILE, vc.initiator ? vc.initiator : "NULL");
        }
        nxl_volume_connector_dispose(&vc);
        if (have || pass == 1)
            break;
        /* dom0's own file, where open-iscsi keeps it: the real path. */
        if (stat(ISCSI_DIR, &sb) != 0) {
            if (!check(mkdir(ISCSI_DIR, 0755) == 0, "mkdir %s", ISCSI_DIR))
                break;
            *iscsi_dir_r = true;
        }
        FILE *f = fopen(ISCSI_FILE, "w");

        if (!check(f != NULL, "write %s", ISCSI_FILE))
            break;
        fprintf(f, "## written by t34-host-rest\nInitiatorName=%s\n", LAB_IQN);
        fclose(f);
        *iscsi_file_r = true;
    }
    free(ip);
}

/* ---- 2. power, 3. SPICE ---- */

static void power_actions(nxl_driver *drv)
{
    static const char *const refused[] = {"reboot", "shutdown"};
    nxl_error err = NXL_ERROR_INIT;
    char *res = NULL, want[64];
    int guests = xl_guests(), rc;

    rc = nxl_host_power_action(drv, "startup", &res, &err);
    check(rc == NXL_E_UNSUPPORTED &&
              strstr(nxl_error_message(&err), "runs no driver"),
          "host_power_action startup: UNSUPPORTED (%d): %s", rc,
          nxl_error_message(&err));
    nxl_error_dispose(&err);
    free(res);
    res = NULL;

    if (!check(guests >= 1, "xl list shows %d guest domain(s)", guests))
        return;
    snprintf(want, sizeof(want), "%d guest domain%s still run", guests,
             guests == 1 ? "" : "s");
    for (size_t i = 0; i < 2; i++) {
        rc = nxl_host_power_action(drv, refused[i], &res, &err);
        check(rc == NXL_E_DENIED && strstr(nxl_error_message(&err), want),
              "host_power_action %s with guests running: DENIED (%d) "
              "saying '%s': %s",
              refused[i], rc, want, nxl_error_message(&err));
        nxl_error_dispose(&err);
        free(res);
        res = NULL;
    }
    check(power_exec_calls == 0,
          "shutdown(8) was never reached (guard called %d times)",
          power_exec_calls);
}

static void spice_on_pv(nxl_driver *drv, const nxl_instance *inst, int domid)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_console con;
    char want[64];
    int rc;

    nxl_console_init(&con);
    rc = nxl_instance_get_spice_console(drv, inst, &con, &err);
    snprintf(want, sizeof(want), "domain %d of instance", domid);
    check(rc == NXL_E_CONSOLE_UNAVAILABLE &&
              strstr(nxl_error_message(&err), want) &&
              strstr(nxl_error_message(&err), "no SPICE server"),
          "get_spice_console of the PV guest: CONSOLE_UNAVAILABLE (%d): %s", rc,
          nxl_error_message(&err));
    nxl_error_dispose(&err);
    nxl_console_dispose(&con);
}

/* ---- 4, 5. maintenance, enabled ---- */

/* Host inventory nothing else asks on real Xen: the node is the
 * hypervisor host name get_available_resource reports, the console pool
 * is served under the compute host's name, and the constant answers
 * (capabilities, legacy block_device_info) come through. */
static void nodes_and_constants(nxl_driver *drv, const char *host)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_host_resources res;
    const nxl_capabilities *caps = NULL;
    nxl_console_pool pool;
    nxl_strv nodes;
    bool b = false;

    nxl_host_resources_init(&res);
    nxl_strv_init(&nodes);
    nxl_console_pool_init(&pool);
    if (ok_call(nxl_host_get_available_resource(drv, NULL, &res, &err), &err,
                "get_available_resource") &&
        ok_call(nxl_host_get_available_nodes(drv, true, &nodes, &err), &err,
                "get_available_nodes")) {
        check(nodes.n == 1 && res.hypervisor_hostname &&
                  strcmp(nodes.v[0], res.hypervisor_hostname) == 0,
              "get_available_nodes: [%s], the hypervisor_hostname",
              nodes.n ? nodes.v[0] : "");
        check(nxl_host_node_is_available(drv, res.hypervisor_hostname, &b,
                                         NULL) == 0 &&
                  b,
              "node_is_available(%s): true", res.hypervisor_hostname);
        check(nxl_host_node_is_available(drv, "not-this-node", &b, NULL) == 0 &&
                  !b,
              "node_is_available(not-this-node): false");
    }
    if (ok_call(nxl_host_get_console_pool_info(drv, "vnc", &pool, &err), &err,
                "get_console_pool_info(vnc)"))
        check(pool.address && strcmp(pool.address, host) == 0,
              "console pool address %s == the compute host %s",
              pool.address ? pool.address : "(none)", host);
    check(nxl_host_get_console_pool_info(drv, "rdp", &pool, NULL) ==
              NXL_E_INVAL,
          "get_console_pool_info(rdp): INVAL");
    check(nxl_driver_capabilities(drv, &caps, NULL) == 0 && caps,
          "capabilities");
    b = true;
    check(nxl_driver_need_legacy_block_device_info(drv, &b, NULL) == 0 && !b,
          "need_legacy_block_device_info: false");
    nxl_console_pool_dispose(&pool);
    nxl_strv_dispose(&nodes);
    nxl_host_resources_dispose(&res);
}

/* Xen's free memory in MiB, as `xl info` says (not through the driver). */
static long xl_free_mb(void)
{
    FILE *p = popen("xl info 2>/dev/null", "r");
    char line[256];
    long mb = -1;

    while (p && fgets(line, sizeof(line), p))
        if (strncmp(line, "free_memory", 11) == 0)
            mb = strtol(strchr(line, ':') ? strchr(line, ':') + 1 : "", NULL,
                        10);
    if (p)
        pclose(p);
    return mb;
}

/* Until `xl list` shows Domain-0 alone (a domain destroyed by an earlier
 * test may still be giving its memory back), at most bound_s. */
static bool only_dom0(int bound_s)
{
    double end = nxl_lab_now() + bound_s;

    do {
        if (xl_guests() == 0)
            return true;
        usleep(500 * 1000);
    } while (nxl_lab_now() < end);
    return false;
}

static void check_flag(nxl_xs *xs, const char *flag, const char *want)
{
    char path[256];
    char *v = NULL;
    nxl_xs_perms perms;
    bool ok;

    snprintf(path, sizeof(path), "%s/%s", NXL_XL_HOST_XS_ROOT, flag);
    nxl_xs_read(xs, XBT_NULL, path, &v, NULL, NULL);
    check(v && strcmp(v, want) == 0, "xenstore %s = '%s' (got '%s')", path,
          want, v ? v : "(none)");
    free(v);
    nxl_xs_perms_init(&perms);
    ok = nxl_xs_get_perms(xs, XBT_NULL, NXL_XL_HOST_XS_ROOT, &perms, NULL) ==
             0 &&
         perms.owner == 0 && perms.others == NXL_XS_ACCESS_NONE && perms.n == 0;
    check(ok, "%s: ACL dom0 only", NXL_XL_HOST_XS_ROOT);
    nxl_xs_perms_dispose(&perms);
}

/* A spawn of the second instance refused with the host's reason, and
 * nothing of it left. */
static void spawn_refused(nxl_driver *drv, const nxl_spawn_req *req2,
                          const char *instances, const char *why)
{
    nxl_error err = NXL_ERROR_INIT;
    int rc = nxl_instance_spawn(drv, req2, &err);

    check(rc == NXL_E_DENIED && strstr(nxl_error_message(&err), why),
          "spawn of a second instance: DENIED (%d) saying '%s': %s", rc, why,
          nxl_error_message(&err));
    nxl_error_dispose(&err);
    nxl_lab_check_nothing_left(drv, &req2->instance, instances);
}

/* Instance a still runs where it ran: not evacuated. */
static void not_evacuated(nxl_driver *drv, const nxl_instance *inst, int domid)
{
    nxl_error err = NXL_ERROR_INIT;
    size_t n = 0;
    int d = -1;
    int st = nxl_lab_state_domid(drv, inst, &d);

    check(st == NXL_POWER_RUNNING && d == domid,
          "the guest is not evacuated: RUNNING (%d) in domain %d (was %d)", st,
          d, domid);
    if (ok_call(nxl_host_get_num_instances(drv, &n, &err), &err,
                "get_num_instances"))
        check(n == 1, "get_num_instances %zu == 1", n);
}

/* ---- 6. the agent methods ---- */

typedef struct watcher {
    pthread_t th;
    int domid;
    volatile int stop;
    int seen;    /* request nodes seen under data/host */
    bool acl_ok; /* and the first one's ACL was dom0's, guest read-only */
} watcher;

static void *watch_main(void *opaque)
{
    watcher *w = opaque;
    nxl_xs *xs = NULL;
    char dir[128], node[256];
    struct timespec nap = {0, 50 * 1000000L};

    if (nxl_xs_open(&xs, NULL) < 0)
        return NULL;
    snprintf(dir, sizeof(dir), "/local/domain/%d/data/host", w->domid);
    while (!w->stop) {
        nxl_strv names;

        nxl_strv_init(&names);
        if (nxl_xs_directory(xs, XBT_NULL, dir, &names, NULL) == 0 &&
            names.n > 0 && w->seen == 0) {
            nxl_xs_perms p;

            w->seen = (int)names.n;
            snprintf(node, sizeof(node), "%s/%s", dir, names.v[0]);
            nxl_xs_perms_init(&p);
            w->acl_ok = nxl_xs_get_perms(xs, XBT_NULL, node, &p, NULL) == 0 &&
                        p.owner == 0 && p.others == NXL_XS_ACCESS_NONE &&
                        p.n == 1 && p.entries[0].domid == (unsigned)w->domid &&
                        p.entries[0].access == NXL_XS_ACCESS_READ;
            nxl_xs_perms_dispose(&p);
        }
        nxl_strv_dispose(&names);
        nanosleep(&nap, NULL);
    }
    nxl_xs_close(xs);
    return NULL;
}

enum { AG_NETINFO, AG_RESET, AG_FILE };

static void agent_call(nxl_driver *drv, nxl_xs *xs, const nxl_spawn_req *req,
                       int domid, int which)
{
    static const char *const names[] = {"inject_network_info", "reset_network",
                                        "inject_file"};
    nxl_error err = NXL_ERROR_INIT;
    watcher w = {.domid = domid};
    double t0, took;
    char want[64];
    int rc;

    pthread_create(&w.th, NULL, watch_main, &w);
    t0 = nxl_lab_now();
    if (which == AG_NETINFO)
        rc = nxl_instance_inject_network_info(drv, &req->instance,
                                              &req->network_info, &err);
    else if (which == AG_RESET)
        rc = nxl_instance_reset_network(drv, &req->instance, &err);
    else /* "/etc/nxl-t34", "lab\n" */
        rc = nxl_instance_inject_file(drv, &req->instance, "L2V0Yy9ueGwtdDM0",
                                      "bGFiCg==", &err);
    took = nxl_lab_now() - t0;
    w.stop = 1;
    pthread_join(w.th, NULL);
    snprintf(want, sizeof(want), "%s: no guest agent answered within 3 s",
             names[which]);
    check(rc == NXL_E_TIMEOUT && strstr(nxl_error_message(&err), want),
          "%s without an agent: TIMEOUT (%d) saying '%s': %s", names[which], rc,
          want, nxl_error_message(&err));
    nxl_error_dispose(&err);
    check(took >= AGENT_TIMEOUT_MS / 1000.0 - 0.01 &&
              took < AGENT_TIMEOUT_MS / 1000.0 + AGENT_SLACK_S,
          "%s took %.1f s (the timeout is %.1f s)", names[which], took,
          AGENT_TIMEOUT_MS / 1000.0);
    check(w.seen == 1 && w.acl_ok,
          "%s: its request was in data/host meanwhile (%d node(s)), "
          "dom0's, the guest read-only (%s)",
          names[which], w.seen, w.acl_ok ? "yes" : "no");
    check(nxl_lab_xs_data_children(xs, domid, "host") == 0 &&
              nxl_lab_xs_data_children(xs, domid, "guest") == 0,
          "%s: nothing left under domain %d's data/host and data/guest",
          names[which], domid);
}

/* ---- main ---- */

int main(void)
{
    char log[1024];
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_lab_run run;
    nxl_spawn_req req2;
    char *doc2 = NULL, path[1024];
    const char *res = NULL;
    nxl_maintenance maint;
    nxl_overhead ov = {0};
    long free0 = -1, free1 = -1;
    bool addr_added = false, iscsi_dir = false, iscsi_file = false;
    bool spawned2 = false;
    int domid = -1, boots, rc;

    nxl_maintenance_init(&maint);
    if ((rc = nxl_lab_begin(&run, "t34", "pv-direct-kernel")))
        return rc;
    nxl__xl_host_power_exec = power_exec_guard;
    nxl__xl_agent_timeout_ms = AGENT_TIMEOUT_MS;
    snprintf(log, sizeof(log), "%s/guest-%s.log", run.env.logdir,
             run.req.instance.name);
    boots = nxl_lab_count_in_file(log, run.env.marker);

    /* The second instance: the same example under another UUID and name,
     * without the NIC (its tap name would clash with the first's). */
    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", run.env.examples);
    if (!nxl_lab_read_request(path, &req2, &doc2))
        goto early;
    snprintf(req2.instance.uuid, sizeof(req2.instance.uuid), "%s", SECOND_UUID);
    free(req2.instance.name);
    if (!check((req2.instance.name = strdup(SECOND_NAME)) != NULL,
               "second instance's name"))
        goto early;
    nxl_network_info_dispose(&req2.network_info);
    nxl_network_info_init(&req2.network_info);

    if (!nxl_lab_run_open(&run, &cfg, NULL, 0))
        goto early;

    uptime_vs_proc(run.drv);
    address_and_connector(run.drv, cfg.host, &addr_added, &iscsi_dir,
                          &iscsi_file);
    nxl_lab_step_done("uptime, address, connector");

    nodes_and_constants(run.drv, cfg.host);
    /* estimate_instance_overhead against what Xen really takes: the free
     * memory the spawn costs, beyond the guest's RAM, must be within the
     * estimate (nova reserves RAM + overhead for it). */
    check(only_dom0(30), "no guest domain before the spawn");
    if (ok_call(nxl_instance_estimate_overhead(run.drv, &run.req.instance, &ov,
                                               &err),
                &err, "estimate_instance_overhead"))
        check(ov.memory_mb > 0 && ov.memory_mb < 64,
              "estimate_instance_overhead: %" PRIu64 " MiB", ov.memory_mb);
    free0 = xl_free_mb();
    nxl_lab_step_done("nodes, pool, constants, overhead");

    if (!ok_call(nxl_instance_spawn(run.drv, &run.req, &err), &err, "spawn"))
        goto out;
    nxl_lab_state_domid(run.drv, &run.req.instance, &domid);
    check(domid > 0, "domid %d", domid);
    free1 = xl_free_mb();
    check(free0 > 0 && free1 > 0 &&
              free0 - free1 >= (long)run.req.instance.memory_mb &&
              free0 - free1 - (long)run.req.instance.memory_mb <=
                  (long)ov.memory_mb,
          "the spawn took %ld MiB of Xen's free memory: %" PRIu64
          " MiB RAM + %ld MiB, within the %" PRIu64 " MiB estimate",
          free0 - free1, run.req.instance.memory_mb,
          free0 - free1 - (long)run.req.instance.memory_mb, ov.memory_mb);
    power_actions(run.drv);
    spice_on_pv(run.drv, &run.req.instance, domid);
    nxl_lab_step_done("spawn, power actions, SPICE");

    if (ok_call(
            nxl_host_maintenance_mode(run.drv, cfg.host, true, &maint, &err),
            &err, "host_maintenance_mode(true)")) {
        check(maint.state && strcmp(maint.state, "on_maintenance") == 0,
              "host_maintenance_mode(true) = %s",
              maint.state ? maint.state : "(none)");
        check(maint.not_evacuated.n == 1 &&
                  strcmp(maint.not_evacuated.v[0], run.req.instance.uuid) == 0,
              "not evacuated: %zu instance(s), %s", maint.not_evacuated.n,
              maint.not_evacuated.n ? maint.not_evacuated.v[0] : "-");
        check(maint.reason && strstr(maint.reason, "no migration target"),
              "reason: %s", maint.reason ? maint.reason : "(none)");
    }
    check_flag(run.xs, "maintenance", "1");
    spawn_refused(run.drv, &req2, run.instances, "is in maintenance");
    not_evacuated(run.drv, &run.req.instance, domid);
    if (ok_call(
            nxl_host_maintenance_mode(run.drv, cfg.host, false, &maint, &err),
            &err, "host_maintenance_mode(false)"))
        check(maint.state && strcmp(maint.state, "off_maintenance") == 0 &&
                  maint.not_evacuated.n == 0 && !maint.reason,
              "host_maintenance_mode(false) = %s, nothing reported",
              maint.state ? maint.state : "(none)");
    check_flag(run.xs, "maintenance", "0");
    nxl_lab_step_done("maintenance");

    res = NULL;
    if (ok_call(nxl_host_set_enabled(run.drv, false, &res, &err), &err,
                "set_host_enabled(false)"))
        check(res && strcmp(res, "disabled") == 0,
              "set_host_enabled(false) = %s", res ? res : "(none)");
    check_flag(run.xs, "disabled", "1");
    /* A restart of the driver: the flag must outlive it. */
    ok_call(nxl_host_cleanup(run.drv, cfg.host, &err), &err, "cleanup_host");
    nxl_driver_close(run.drv);
    run.drv = NULL;
    if (!nxl_lab_open_driver_cfg(&cfg, NULL, 0, &run.drv))
        goto out;
    not_evacuated(run.drv, &run.req.instance, domid);
    spawn_refused(run.drv, &req2, run.instances,
                  "host 'lab' is disabled (set_host_enabled)");
    res = NULL;
    if (ok_call(nxl_host_set_enabled(run.drv, true, &res, &err), &err,
                "set_host_enabled(true)"))
        check(res && strcmp(res, "enabled") == 0, "set_host_enabled(true) = %s",
              res ? res : "(none)");
    check_flag(run.xs, "disabled", "0");
    spawned2 = ok_call(nxl_instance_spawn(run.drv, &req2, &err), &err,
                       "spawn of the second instance, host enabled again");
    if (spawned2) {
        int d2 = -1;

        nxl_lab_state_domid(run.drv, &req2.instance, &d2);
        check(d2 > 0 && d2 != domid, "second instance in domain %d", d2);
        spawned2 = !ok_call(nxl_instance_destroy(run.drv, &req2.instance, NULL,
                                                 NULL, true, NULL, &err),
                            &err, "destroy of the second instance");
        nxl_lab_check_nothing_left(run.drv, &req2.instance, run.instances);
    }
    nxl_lab_step_done("enabled, restart, second spawn");

    check(nxl_lab_wait_marker(log, run.env.marker, boots, BOOT_BOUND_S),
          "guest marker %s in %s", run.env.marker, log);
    agent_call(run.drv, run.xs, &run.req, domid, AG_NETINFO);
    agent_call(run.drv, run.xs, &run.req, domid, AG_RESET);
    agent_call(run.drv, run.xs, &run.req, domid, AG_FILE);
    nxl_lab_step_done("agent methods");

out:
    /* The flags are host-wide: never leave the lab's host refusing work
     * (a driver is needed to clear them). */
    if (!run.drv)
        nxl_lab_open_driver_cfg(&cfg, NULL, 0, &run.drv);
    nxl_host_maintenance_mode(run.drv, cfg.host, false, &maint, NULL);
    nxl_maintenance_dispose(&maint);
    nxl_host_set_enabled(run.drv, true, &res, NULL);
    if (spawned2)
        nxl_instance_destroy(run.drv, &req2.instance, NULL, NULL, true, NULL,
                             NULL);
    ok_call(nxl_instance_destroy(run.drv, &run.req.instance, NULL, NULL, true,
                                 NULL, &err),
            &err, "destroy");
    nxl_lab_check_nothing_left(run.drv, &run.req.instance, run.instances);
    ok_call(nxl_host_cleanup(run.drv, cfg.host, &err), &err, "cleanup_host");
early:
    if (addr_added)
        sh("ip addr del " LAB_ADDR "/24 dev xenbr0");
    if (iscsi_file)
        check(unlink(ISCSI_FILE) == 0, "removed %s", ISCSI_FILE);
    if (iscsi_dir)
        check(rmdir(ISCSI_DIR) == 0, "removed %s", ISCSI_DIR);
    nxl_spawn_req_dispose(&req2);
    free(doc2);
    return nxl_lab_end(&run);
}

/* Lab test: the four guest agent members against a real agent in a real
 * guest, on real Xen in the lab's dom0 (exit 0 pass, 1 fail, 77 skip off
 * dom0).
 *
 * The lab guest's initramfs gets a second archive appended (the kernel
 * unpacks both, in order) holding nxl-agent (lab/guest/nxl-agent.c, the
 * reference agent of docs/guest-agent.md, built static by lab/stage.sh)
 * and an init that starts it before handing over to the lab guest's own
 * /init. The PV example (its NIC on xenbr0) is spawned through the driver;
 * once the agent says "NXL-AGENT up domid=<the domain>":
 *
 * 1. set_admin_password succeeds; the guest's console shows that root's
 *    new /etc/shadow entry verified (and never the password).
 * 2. inject_file of a small file succeeds; the console shows its path,
 *    size and CRC-32 as the agent read it back, the CRC computed here.
 *    inject_file outside the agent's allowed paths (/var/...) and with a
 *    ".." component: NXL_E_FAILED carrying the agent's reason.
 * 3. Requests the driver would never build, sent through the protocol's
 *    own call (nxl__xl_agent_call): truncated JSON and a value of the
 *    wrong shape are refused by the agent (returncode 400) with its
 *    reason.
 * 4. With 192.0.2.1/24 on dom0's xenbr0 (removed at the end): the guest
 *    does not answer 192.0.2.36 before; inject_network_info with
 *    192.0.2.36/24 (gateway 192.0.2.1) on the NIC's MAC succeeds, the
 *    console shows the interface with that address, up, the gateway, and
 *    dom0 reaches the guest (ICMP echo from a raw socket here; the traffic
 *    stays on the lab's bridge).
 * 5. reset_network succeeds: the agent flushes the interface (down, no
 *    address) and re-applies the injected configuration, says so, and
 *    dom0 reaches the guest again.
 * After every call nothing is left under the domain's data/host or
 * data/guest. Destroy, nothing left.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "lab/guest/codec.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_agent.h"

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

#define BOOT_BOUND_S 120
/* A console line the agent prints before it answers reaches the log
 * through xenconsoled: a few seconds at most. */
#define CONSOLE_BOUND_S 15
#define PING_BOUND_S 20
#define INITRD_ID "nxl-lab-initrd-agent"
#define DOM0_ADDR "192.0.2.1"
#define GUEST_ADDR "192.0.2.36"
#define PASSWORD "t36-Lab pass\"word"
#define FILE_PATH "/root/nxl-t36"
#define FILE_TEXT "novaxl t36: injected by the driver\n"

/* After nxl_lab_guest_initrd's prelude: the guest agent, then the lab
 * guest's /init. */
static const char agent_init[] = "/bin/nxl-agent &\n"
                                 "exec /init\n";

static bool sh(const char *cmd)
{
    int rc = system(cmd);

    return check(rc == 0, "%s (status %d)", cmd, rc);
}

static void nothing_in_xs(nxl_xs *xs, int domid, const char *what)
{
    size_t h = nxl_lab_xs_data_children(xs, domid, "host"),
           g = nxl_lab_xs_data_children(xs, domid, "guest");

    check(h == 0 && g == 0,
          "%s: nothing left under domain %d's data/host (%zu) and "
          "data/guest (%zu)",
          what, domid, h, g);
}

/* A call refused by the agent: NXL_E_FAILED whose message has want. */
static void refused(int rc, nxl_error *err, const char *what, const char *want)
{
    check(rc == NXL_E_FAILED && strstr(nxl_error_message(err), want),
          "%s: FAILED (%d) with the agent's reason '%s': %s", what, rc, want,
          nxl_error_message(err));
    nxl_error_dispose(err);
}

/* ICMP echo to addr from a raw socket, one a second until a reply or
 * bound_s; the seconds the first reply took in *took_r. */
static bool ping(const char *addr, int bound_s, double *took_r)
{
    struct sockaddr_in dst = {.sin_family = AF_INET};
    uint16_t id = (uint16_t)getpid();
    double t0 = nxl_lab_now(), end = t0 + bound_s;
    bool got = false;
    int s, seq = 0;

    if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1 ||
        (s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) < 0)
        return check(false, "raw ICMP socket: %s", strerror(errno));
    while (!got && nxl_lab_now() < end) {
        unsigned char pkt[64], buf[1500];
        struct icmphdr *h = (struct icmphdr *)pkt;
        uint32_t sum = 0;
        double next = nxl_lab_now() + 1;

        memset(pkt, 0, sizeof(pkt));
        h->type = ICMP_ECHO;
        h->un.echo.id = htons(id);
        h->un.echo.sequence = htons((uint16_t)++seq);
        memcpy(pkt + sizeof(*h), "nxl-t36", 7);
        for (size_t i = 0; i < sizeof(pkt); i += 2)
            sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        h->checksum = htons((uint16_t)~sum);
        sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst));
        while (!got && nxl_lab_now() < next) {
            struct pollfd p = {.fd = s, .events = POLLIN};
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n;
            size_t ihl;

            if (poll(&p, 1, (int)((next - nxl_lab_now()) * 1000) + 1) <= 0)
                break;
            n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
            if (n < (ssize_t)sizeof(struct iphdr))
                continue;
            ihl = (size_t)(buf[0] & 0x0f) * 4;
            if ((size_t)n < ihl + sizeof(struct icmphdr) ||
                from.sin_addr.s_addr != dst.sin_addr.s_addr)
                continue;
            h = (struct icmphdr *)(buf + ihl);
            got = h->type == ICMP_ECHOREPLY && ntohs(h->un.echo.id) == id;
        }
    }
    close(s);
    *took_r = nxl_lab_now() - t0;
    return got;
}

/* The agent's own console lines (the evidence, kept in the lab's serial
 * log); a few dozen at most. */
static void show_agent_lines(const char *log)
{
    FILE *f = fopen(log, "r");
    char line[512];
    int n = 0;

    while (f && fgets(line, sizeof(line), f) && n < 60)
        if (strstr(line, "NXL-AGENT")) {
            printf("  guest: %s", line);
            if (!strchr(line, '\n'))
                printf("\n");
            n++;
        }
    if (f)
        fclose(f);
}

/* The NIC's configuration for the agent: GUEST_ADDR/24 via DOM0_ADDR. */
typedef struct lab_net {
    nxl_network_info ni;
    nxl_vif vif;
    nxl_subnet sn;
    nxl_ip ip;
    char *dns[1];
} lab_net;

static void lab_net_fill(lab_net *n, const char *mac)
{
    memset(n, 0, sizeof(*n));
    n->ip.address = (char *)GUEST_ADDR;
    n->ip.type = (char *)"fixed";
    n->ip.version = 4;
    n->dns[0] = (char *)"192.0.2.53";
    n->sn.cidr = (char *)"192.0.2.0/24";
    n->sn.gateway = (char *)DOM0_ADDR;
    n->sn.dns.v = n->dns;
    n->sn.dns.n = 1;
    n->sn.ips = &n->ip;
    n->sn.n_ips = 1;
    n->vif.address = (char *)mac;
    n->vif.network_label = (char *)"lab-net";
    n->vif.mtu = 1500;
    n->vif.subnets = &n->sn;
    n->vif.n_subnets = 1;
    n->ni.vifs = &n->vif;
    n->ni.n = 1;
}

int main(void)
{
    char log[1024], line[512], want[256], p64[128], c64[256], did[32];
    nxl_error err = NXL_ERROR_INIT;
    nxl_lab_run run;
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_instance *inst;
    lab_net net;
    bool addr_added = false;
    double took = 0;
    int domid = -1, n, boots, rc;

    if ((rc = nxl_lab_begin(&run, "t36", "pv-direct-kernel")))
        return rc;
    if (!nxl_lab_guest_initrd(run.root, run.images, run.env.initrd, INITRD_ID,
                              "nxl-agent", "nxl-agent-init", agent_init))
        return nxl_lab_end(&run);
    inst = &run.req.instance;
    free(inst->ramdisk_id);
    inst->ramdisk_id = strdup(INITRD_ID);
    nxl_kvlist_set(&run.req.image_meta.properties, "ramdisk_id", INITRD_ID);
    nxl_kvlist_set(&run.req.image_meta.properties, "os_command_line",
                   "console=hvc0 rdinit=/nxl-agent-init quiet");
    if (!check(run.req.network_info.n == 1, "the example has one NIC"))
        return nxl_lab_end(&run);
    lab_net_fill(&net, run.req.network_info.vifs[0].address);
    snprintf(log, sizeof(log), "%s/guest-%s.log", run.env.logdir, inst->name);
    n = nxl_lab_count_in_file(log, "NXL-AGENT up");
    boots = nxl_lab_count_in_file(log, run.env.marker);
    if (!nxl_lab_run_open(&run, &cfg, NULL, 0) ||
        !ok_call(nxl_instance_spawn(run.drv, &run.req, &err), &err, "spawn"))
        goto out;
    nxl_lab_state_domid(run.drv, inst, &domid);
    check(domid > 0, "domid %d", domid);
    snprintf(did, sizeof(did), "NXL-AGENT up domid=%d", domid);
    if (!check(nxl_lab_wait_marker(log, "NXL-AGENT up", n, BOOT_BOUND_S),
               "the agent is up (%s)", log))
        goto out;
    nxl_lab_last_line(log, "NXL-AGENT up", line, sizeof(line));
    check(strstr(line, did) != NULL, "the agent knows its domain: %s", line);
    /* The lab's /init loads xen-netfront after the agent started. */
    check(nxl_lab_wait_marker(log, run.env.marker, boots, BOOT_BOUND_S),
          "guest marker %s", run.env.marker);
    nxl_lab_step_done("spawn, agent up");

    /* 1. set_admin_password */
    n = nxl_lab_count_in_file(log, "NXL-AGENT password root verified");
    ok_call(nxl_instance_set_admin_password(run.drv, inst, PASSWORD, &err),
            &err, "set_admin_password");
    check(nxl_lab_wait_marker(log, "NXL-AGENT password root verified", n,
                              CONSOLE_BOUND_S),
          "the guest verified root's new /etc/shadow entry");
    nxl_lab_last_line(log, "NXL-AGENT password", line, sizeof(line));
    printf("  console: %s\n", line);
    check(nxl_lab_count_in_file(log, "t36-Lab pass") == 0,
          "the password is nowhere on the guest's console");
    nothing_in_xs(run.xs, domid, "set_admin_password");
    nxl_lab_step_done("set_admin_password");

    /* 2. inject_file */
    b64_encode(FILE_PATH, strlen(FILE_PATH), p64, sizeof(p64));
    b64_encode(FILE_TEXT, strlen(FILE_TEXT), c64, sizeof(c64));
    snprintf(want, sizeof(want), "NXL-AGENT file %s %zu crc32=%08x", FILE_PATH,
             strlen(FILE_TEXT),
             crc32_of((const unsigned char *)FILE_TEXT, strlen(FILE_TEXT)));
    n = nxl_lab_count_in_file(log, want);
    ok_call(nxl_instance_inject_file(run.drv, inst, p64, c64, &err), &err,
            "inject_file " FILE_PATH);
    check(nxl_lab_wait_marker(log, want, n, CONSOLE_BOUND_S),
          "the guest wrote and read back the file: '%s'", want);
    nothing_in_xs(run.xs, domid, "inject_file");
    b64_encode("/var/nxl-t36", strlen("/var/nxl-t36"), p64, sizeof(p64));
    rc = nxl_instance_inject_file(run.drv, inst, p64, c64, &err);
    refused(rc, &err, "inject_file /var/nxl-t36",
            "refused (returncode 403): 'refused /var/nxl-t36: outside /root, "
            "/etc and /tmp'");
    nothing_in_xs(run.xs, domid, "inject_file refused");
    b64_encode("/tmp/../etc/nxl-t36", strlen("/tmp/../etc/nxl-t36"), p64,
               sizeof(p64));
    rc = nxl_instance_inject_file(run.drv, inst, p64, c64, &err);
    refused(
        rc, &err, "inject_file /tmp/../etc/nxl-t36",
        "refused (returncode 403): 'refused /tmp/../etc/nxl-t36: path has a "
        ". or .. component'");
    nothing_in_xs(run.xs, domid, "inject_file refused (..)");
    nxl_lab_step_done("inject_file");

    /* 3. what the driver would never send */
    rc = nxl__xl_agent_call((uint32_t)domid, "t36-truncated",
                            "{\"name\": \"password\", \"value\": ", NULL, &err);
    refused(rc, &err, "truncated JSON",
            "refused (returncode 400): 'malformed request: unexpected end");
    nothing_in_xs(run.xs, domid, "truncated JSON");
    rc = nxl__xl_agent_call((uint32_t)domid, "t36-shape",
                            "{\"name\": \"inject_file\", \"value\": \"x\"}",
                            NULL, &err);
    refused(rc, &err, "inject_file with a string value",
            "refused (returncode 400): 'value must be an object");
    nothing_in_xs(run.xs, domid, "wrong shape");
    nxl_lab_step_done("malformed requests refused");

    /* 4. inject_network_info, and dom0 reaches the guest */
    addr_added = sh("ip addr add " DOM0_ADDR "/24 dev xenbr0");
    check(!ping(GUEST_ADDR, 3, &took),
          "before inject_network_info the guest does not answer " GUEST_ADDR);
    n = nxl_lab_count_in_file(log, "NXL-AGENT net ");
    ok_call(nxl_instance_inject_network_info(run.drv, inst, &net.ni, &err),
            &err, "inject_network_info " GUEST_ADDR "/24");
    snprintf(want, sizeof(want),
             "mac %s inet " GUEST_ADDR "/24 up mtu 1500 "
             "gateway " DOM0_ADDR,
             net.vif.address);
    check(nxl_lab_wait_marker(log, "NXL-AGENT net ", n, CONSOLE_BOUND_S) &&
              nxl_lab_wait_last_line(log, "NXL-AGENT net ", want,
                                     CONSOLE_BOUND_S, line, sizeof(line)),
          "the guest's interface: %s", line);
    nothing_in_xs(run.xs, domid, "inject_network_info");
    check(ping(GUEST_ADDR, PING_BOUND_S, &took),
          "dom0 (" DOM0_ADDR ") reaches the guest at " GUEST_ADDR " (%.1f s)",
          took);
    nxl_lab_step_done("inject_network_info, reached");

    /* 5. reset_network */
    n = nxl_lab_count_in_file(log, "NXL-AGENT resetnetwork re-applied");
    boots = nxl_lab_count_in_file(log, "NXL-AGENT net ");
    ok_call(nxl_instance_reset_network(run.drv, inst, &err), &err,
            "reset_network");
    check(nxl_lab_wait_marker(log, "NXL-AGENT resetnetwork re-applied", n,
                              CONSOLE_BOUND_S),
          "the guest re-applied the injected configuration");
    /* A new line, not the one inject_network_info printed. */
    check(nxl_lab_wait_marker(log, "NXL-AGENT net ", boots, CONSOLE_BOUND_S) &&
              nxl_lab_wait_last_line(log, "NXL-AGENT net ", want,
                                     CONSOLE_BOUND_S, line, sizeof(line)),
          "the guest's interface after the reset: %s", line);
    nothing_in_xs(run.xs, domid, "reset_network");
    check(ping(GUEST_ADDR, PING_BOUND_S, &took),
          "dom0 reaches the guest at " GUEST_ADDR " after the reset (%.1f s)",
          took);
    nxl_lab_step_done("reset_network, reached");
    show_agent_lines(log);

out:
    if (run.drv) {
        ok_call(
            nxl_instance_destroy(run.drv, inst, NULL, NULL, true, NULL, &err),
            &err, "destroy");
        nxl_lab_check_nothing_left(run.drv, inst, run.instances);
        ok_call(nxl_host_cleanup(run.drv, "lab", &err), &err, "cleanup_host");
    }
    if (addr_added)
        sh("ip addr del " DOM0_ADDR "/24 dev xenbr0");
    return nxl_lab_end(&run);
}

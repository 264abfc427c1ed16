/* Tests of the libxl driver's host members (xl_driver/xl_host.c) on the
 * fake hypervisor port, with /proc and the iSCSI initiator file read from
 * fixtures written here, and the persisted flags in a private real
 * xenstored (tests/xsd). The same numbers on real Xen are compared with
 * `xl info` by the lab (tests/lab). */
#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/driver.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_host.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"

static nxl_test_xsd xsd;
static char dir[256];
static char skip_why[512];

/* Also used from the suite's init, outside any test: no CU_ASSERT. */
static int write_fixture(const char *name, const char *text)
{
    char p[PATH_MAX];
    FILE *f;
    int ok;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "w");
    if (!f)
        return -1;
    ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* In tests: a fixture that could not be written fails the test. */
static void put_fixture(const char *name, const char *text)
{
    CU_ASSERT_EQUAL(write_fixture(name, text), 0);
}

static char initiator_path[512];

static int suite_init(void)
{
    int rc;

    if (nxl_test_mkdtemp(dir, sizeof(dir), "nxl-host") != 0)
        return 1;
    if (nxl_test_xsd_suite_start(&xsd, skip_why, sizeof(skip_why)))
        return 1;
    /* A two-CPU host's first block of /proc/cpuinfo is what is read. */
    rc = write_fixture(
        "cpuinfo", "processor\t: 0\n"
                   "vendor_id\t: GenuineIntel\n"
                   "model name\t: Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz\n"
                   "flags\t\t: fpu vme sse2 vmx aes\n"
                   "\n"
                   "processor\t: 1\n"
                   "vendor_id\t: SomethingElse\n"
                   "flags\t\t: other\n\n");
    if (rc ||
        write_fixture("stat", "cpu  100 20 30 400 50 6 4 0 0 0\n"
                              "cpu0 50 10 15 200 25 3 2 0 0 0\n") ||
        write_fixture("uptime", "93784.12 180000.00\n") ||
        write_fixture("loadavg", "0.50 0.25 0.10 1/123 4567\n"))
        return 1;
    snprintf(initiator_path, sizeof(initiator_path), "%s/initiatorname.iscsi",
             dir);
    nxl__xl_host_files.proc_dir = dir;
    nxl__xl_host_files.iscsi_initiator = initiator_path;
    return 0;
}

static int suite_cleanup(void)
{
    nxl_test_xsd_stop(&xsd);
    return nxl_test_rm_tree(dir) == 0 ? 0 : 1;
}

/* A driver named compute-1 on a fresh fake host of 16 GiB and 8 CPUs. */
static nxl_driver *open_driver(nxl_port **port_r)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *drv = NULL;
    nxl_port *port = NULL;
    char inst_dir[PATH_MAX];

    snprintf(inst_dir, sizeof(inst_dir), "%s/instances", dir);
    cfg.host = "compute-1";
    cfg.instances_dir = inst_dir;
    CU_ASSERT_FATAL(nxl_driver_open("libxl", &cfg, &drv, NULL) == 0);
    if (port_r) {
        CU_ASSERT_FATAL(nxl__port_fake_new(&port) == 0);
        nxl__port_fake_set_host(port, 16ULL * 1024 * 1024, 8);
        CU_ASSERT_FATAL(nxl__xl_driver_use_port(drv, port, false, NULL) == 0);
        *port_r = port;
    }
    return drv;
}

/* ---- tests ------------------------------------------------------------ */

static void test_version(void)
{
    CU_ASSERT_EQUAL(nxl__xl_host_version(4, 17, ".7"), 4017007);
    CU_ASSERT_EQUAL(nxl__xl_host_version(4, 17, ".0-fake"), 4017000);
    CU_ASSERT_EQUAL(nxl__xl_host_version(4, 19, ""), 4019000);
    CU_ASSERT_EQUAL(nxl__xl_host_version(4, 18, "-rc"), 4018000);
    CU_ASSERT_EQUAL(nxl__xl_host_version(4, 17, ".12"), 4017012);
}

static void test_nodes(void)
{
    nxl_driver *drv = open_driver(NULL);
    nxl_strv nodes;
    bool ok = false;

    nxl_strv_init(&nodes);
    CHECK_OK(nxl_host_get_available_nodes(drv, false, &nodes, &e_));
    CU_ASSERT_EQUAL(nodes.n, 1);
    CU_ASSERT_STRING_EQUAL(nodes.n ? nodes.v[0] : "", "compute-1");
    nxl_strv_dispose(&nodes);
    CHECK_OK(nxl_host_node_is_available(drv, "compute-1", &ok, &e_));
    CU_ASSERT_TRUE(ok);
    CHECK_OK(nxl_host_node_is_available(drv, "compute-2", &ok, &e_));
    CU_ASSERT_FALSE(ok);
    nxl_driver_close(drv);
}

static bool has_si(const nxl_host_resources *r, const char *arch,
                   const char *mode)
{
    for (size_t i = 0; i < r->n_supported_instances; i++)
        if (strcmp(r->supported_instances[i].arch, arch) == 0 &&
            strcmp(r->supported_instances[i].vm_mode, mode) == 0 &&
            strcmp(r->supported_instances[i].hv_type, "xen") == 0)
            return true;
    return false;
}

static void test_available_resource(void)
{
    nxl_port *port = NULL;
    nxl_driver *drv;
    nxl_host_resources r;
    uint32_t domid;

    drv = open_driver(NULL);
    nxl_host_resources_init(&r);
    CHECK_FAIL(nxl_host_get_available_resource(drv, NULL, &r, &e_),
               NXL_E_HYPERVISOR, "init_host");
    nxl_driver_close(drv);

    drv = open_driver(&port);
    CU_ASSERT_FATAL(nxl__port_fake_external_create(port, "guest-a", &domid) ==
                    0);
    CHECK_OK(nxl_host_get_available_resource(drv, NULL, &r, &e_));
    CU_ASSERT_EQUAL(r.vcpus, 8);
    CU_ASSERT_EQUAL(r.memory_mb, 16384);
    /* dom0's 1 GiB and the guest's 256 MiB. */
    CU_ASSERT_EQUAL(r.memory_mb_used, 1024 + 256);
    CU_ASSERT_EQUAL(r.vcpus_used, 1);
    CU_ASSERT_STRING_EQUAL(r.hypervisor_type ?: "", "xen");
    CU_ASSERT_EQUAL(r.hypervisor_version, 4017000);
    CU_ASSERT_STRING_EQUAL(r.hypervisor_hostname ?: "", "compute-1");
    CU_ASSERT_TRUE(r.local_gb > 0);
    CU_ASSERT_TRUE(r.local_gb_used <= r.local_gb);
    CU_ASSERT_TRUE(r.disk_available_least >= 0 &&
                   (uint64_t)r.disk_available_least <= r.local_gb);
    CU_ASSERT_TRUE(nxl_test_has(r.cpu_info, "\"vendor\":\"GenuineIntel\""));
    CU_ASSERT_TRUE(
        nxl_test_has(r.cpu_info, "\"model\":\"Intel(R) Xeon(R) Gold 6130"));
    CU_ASSERT_TRUE(nxl_test_has(r.cpu_info,
                                "\"topology\":{\"sockets\":1,\"cores\":8,"
                                "\"threads\":1}"));
    CU_ASSERT_TRUE(nxl_test_has(r.cpu_info,
                                "\"features\":[\"fpu\",\"vme\",\"sse2\","
                                "\"vmx\",\"aes\"]"));
    CU_ASSERT_FALSE(nxl_test_has(r.cpu_info, "SomethingElse"));
    if (!nxl_test_has(r.cpu_info, "GenuineIntel"))
        fprintf(stderr, "  cpu_info: %s\n", r.cpu_info ?: "(null)");
    CU_ASSERT_TRUE(has_si(&r, "x86_64", "xen"));
    CU_ASSERT_TRUE(has_si(&r, "x86_64", "hvm"));
    CU_ASSERT_TRUE(has_si(&r, "i686", "hvm"));
    CU_ASSERT_TRUE(has_si(&r, "x86_64", "pvh"));
    CU_ASSERT_FALSE(has_si(&r, "i686", "xen"));
    nxl_host_resources_dispose(&r);
    nxl_host_resources_dispose(&r);

    /* Another node, and a hypervisor that fails. */
    CHECK_FAIL(nxl_host_get_available_resource(drv, "compute-9", &r, &e_),
               NXL_E_INVAL, "compute-9");
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "host_info", 1, NXL_E_HYPERVISOR),
                    0);
    CHECK_FAIL(nxl_host_get_available_resource(drv, NULL, &r, &e_),
               NXL_E_HYPERVISOR, "host_info");
    CU_ASSERT_PTR_NULL(r.cpu_info);
    nxl_driver_close(drv);
}

/* Whole-host figures: idle is Xen's per-pCPU idle summed; busy = dom0's
 * uptime * online pCPUs - idle, split by dom0's kernel:user ratio. */
static void test_cpu_stats(void)
{
    nxl_port *port = NULL;
    nxl_driver *drv = open_driver(&port);
    nxl_host_cpu_stats st;
    uint64_t ns = 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK);
    /* uptime fixture 93784.12 s on 8 pCPUs */
    uint64_t total = 93784120000000ULL * 8, idle = 0, busy;

    for (uint32_t cpu = 0; cpu < 8; cpu++) {
        uint64_t v = (40000ULL + cpu * 1000) * 1000000000ULL;

        CU_ASSERT_EQUAL(nxl__port_fake_set_pcpu_idle(port, cpu, v), 0);
        idle += v;
    }
    CU_ASSERT_EQUAL(nxl__port_fake_set_pcpu_idle(port, 8, 1), NXL_E_INVAL);
    busy = total - idle;
    memset(&st, 0, sizeof(st));
    CHECK_OK(nxl_host_get_cpu_stats(drv, &st, &e_));
    CU_ASSERT_EQUAL(st.idle, idle);
    /* dom0's stat fixture: kernel 30+6+4 = 40 ticks, user 100+20 = 120 */
    CU_ASSERT_EQUAL(st.kernel, busy / 4);
    CU_ASSERT_EQUAL(st.user, busy - busy / 4);
    CU_ASSERT_EQUAL(st.kernel + st.user + st.idle, total);
    CU_ASSERT_EQUAL(st.iowait, 50 * ns);
    CU_ASSERT_EQUAL(st.frequency, 2000); /* the fake's 2 GHz */

    /* Idle grows on one pCPU: only idle and busy move. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_set_pcpu_idle(port, 3, 43001ULL * 1000000000ULL), 0);
    CHECK_OK(nxl_host_get_cpu_stats(drv, &st, &e_));
    CU_ASSERT_EQUAL(st.idle, idle + 1000000000ULL);
    CU_ASSERT_EQUAL(st.kernel + st.user, busy - 1000000000ULL);

    put_fixture("stat", "intr 1 2 3\n");
    CHECK_FAIL(nxl_host_get_cpu_stats(drv, &st, &e_), NXL_E_IO, "cpu line");
    put_fixture("stat", "cpu  100 20 30 400 50 6 4 0 0 0\n");
    put_fixture("uptime", "soon\n");
    CHECK_FAIL(nxl_host_get_cpu_stats(drv, &st, &e_), NXL_E_IO, "uptime");
    put_fixture("uptime", "93784.12 180000.00\n");
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "pcpu_list", 1, NXL_E_HYPERVISOR),
                    0);
    CHECK_FAIL(nxl_host_get_cpu_stats(drv, &st, &e_), NXL_E_HYPERVISOR,
               "pcpu_list");
    nxl_driver_close(drv);
}

static void test_cpu_split(void)
{
    nxl_xl_cpu_inputs in;
    nxl_host_cpu_stats st;

    memset(&in, 0, sizeof(in));
    in.uptime_ns = 10000000000ULL; /* 10 s */
    in.online_cpus = 2;
    in.idle_ns = 5000000000ULL;
    in.dom0_kernel_ticks = 1;
    in.dom0_user_ticks = 3;
    in.dom0_iowait_ns = 7;
    in.cpu_khz = 2893999;
    nxl__xl_host_cpu_split(&in, &st);
    CU_ASSERT_EQUAL(st.idle, 5000000000ULL);
    CU_ASSERT_EQUAL(st.kernel, 3750000000ULL);
    CU_ASSERT_EQUAL(st.user, 11250000000ULL);
    CU_ASSERT_EQUAL(st.iowait, 7);
    CU_ASSERT_EQUAL(st.frequency, 2893);
    /* dom0 counted nothing yet: all busy time is user. */
    in.dom0_kernel_ticks = in.dom0_user_ticks = 0;
    nxl__xl_host_cpu_split(&in, &st);
    CU_ASSERT_EQUAL(st.kernel, 0);
    CU_ASSERT_EQUAL(st.user, 15000000000ULL);
    /* Xen counted idle from before dom0 booted: never a negative busy. */
    in.idle_ns = 30000000000ULL;
    in.dom0_kernel_ticks = 5;
    nxl__xl_host_cpu_split(&in, &st);
    CU_ASSERT_EQUAL(st.kernel, 0);
    CU_ASSERT_EQUAL(st.user, 0);
    CU_ASSERT_EQUAL(st.idle, 30000000000ULL);
    /* A big, long-running host: busy * ticks does not wrap. */
    in.uptime_ns = 400ULL * 86400 * 1000000000ULL;
    in.online_cpus = 512;
    in.idle_ns = 0;
    in.dom0_kernel_ticks = 3000000000ULL;
    in.dom0_user_ticks = 1000000000ULL;
    nxl__xl_host_cpu_split(&in, &st);
    CU_ASSERT_EQUAL(st.kernel + st.user, in.uptime_ns * 512);
    CU_ASSERT_TRUE(st.kernel > st.user * 2 && st.kernel < st.user * 4);
}

static void test_numa_topology(void)
{
    nxl_port *port = NULL;
    nxl_driver *drv = open_driver(&port);
    nxl_host_resources r;
    nxl_json *root = NULL;
    const nxl_json *cells;
    const char *t;

    nxl__port_fake_set_numa(port, 2);
    nxl_host_resources_init(&r);
    CHECK_OK(nxl_host_get_available_resource(drv, NULL, &r, &e_));
    t = r.numa_topology ? r.numa_topology : "";
    CU_ASSERT_EQUAL_FATAL(nxl__json_parse(t, strlen(t), 0, &root, NULL), 0);
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(root, "nova_object.name")) ?: "",
        "NUMATopology");
    cells = nxl__json_get(nxl__json_get(root, "nova_object.data"), "cells");
    CU_ASSERT_EQUAL(nxl__json_len(cells), 2);
    nxl__json_free(root);
    /* 16 GiB and 8 CPUs over two nodes, one thread per core. */
    CU_ASSERT_TRUE(nxl_test_has(
        t, "\"id\":0,\"cpuset\":[0,1,2,3],\"pcpuset\":[],\"memory\":8192,"
           "\"cpu_usage\":0,\"memory_usage\":0,\"pinned_cpus\":[],"
           "\"siblings\":[[0],[1],[2],[3]],\"mempages\":[{"));
    CU_ASSERT_TRUE(nxl_test_has(t, "\"id\":1,\"cpuset\":[4,5,6,7],"));
    CU_ASSERT_TRUE(nxl_test_has(t, "\"size_kb\":4,\"total\":2097152,"
                                   "\"used\":0,\"reserved\":0"));
    CU_ASSERT_TRUE(nxl_test_has(t, "\"nova_object.name\":\"NUMACell\","
                                   "\"nova_object.namespace\":\"nova\","
                                   "\"nova_object.version\":\"1.5\""));
    nxl_host_resources_dispose(&r);
    CU_ASSERT_EQUAL(nxl__port_fake_fail(port, "numa_list", 1, NXL_E_HYPERVISOR),
                    0);
    nxl_host_resources_init(&r);
    CHECK_FAIL(nxl_host_get_available_resource(drv, NULL, &r, &e_),
               NXL_E_HYPERVISOR, "numa_list");
    nxl_host_resources_dispose(&r);
    nxl_driver_close(drv);
}

/* Hyperthreads are siblings; offline CPUs and memory-less nodes vanish. */
static void test_numa_json_shapes(void)
{
    const nxl_port_numa_node nodes[] = {
        {.node = 0, .online = true, .total_kb = 4194304, .free_kb = 1},
        {.node = 1, .online = false},
    };
    const nxl_port_pcpu cpus[] = {
        {.cpu = 0, .online = true, .core = 0, .socket = 0, .node = 0},
        {.cpu = 1, .online = true, .core = 1, .socket = 0, .node = 0},
        {.cpu = 2, .online = true, .core = 0, .socket = 0, .node = 0},
        {.cpu = 3, .online = false},
        {.cpu = 4, .online = true, .core = 1, .socket = 0, .node = 0},
    };
    char *t = NULL;

    CHECK_OK(nxl__xl_numa_topology_json(nodes, 2, cpus, 5, &t, &e_));
    CU_ASSERT_TRUE(nxl_test_has(t, "\"cpuset\":[0,1,2,4],"));
    CU_ASSERT_TRUE(nxl_test_has(t, "\"siblings\":[[0,2],[1,4]],"));
    CU_ASSERT_TRUE(nxl_test_has(t, "\"memory\":4096,"));
    CU_ASSERT_FALSE(nxl_test_has(t, "\"id\":1"));
    free(t);
    t = NULL;
    CHECK_OK(nxl__xl_numa_topology_json(nodes, 0, cpus, 0, &t, &e_));
    CU_ASSERT_TRUE(nxl_test_has(t, "\"cells\":[]"));
    free(t);
}

static void test_uptime(void)
{
    nxl_driver *drv = open_driver(NULL);
    char *up = NULL;

    CHECK_OK(nxl_host_get_uptime(drv, &up, &e_));
    /* 93784 s = 1 day, 2:03. */
    CU_ASSERT_TRUE(nxl_test_has(up, " up 1 day,  2:03,  "));
    CU_ASSERT_TRUE(nxl_test_has(up, "load average: 0.50, 0.25, 0.10"));
    CU_ASSERT_TRUE(up && up[0] == ' ' && up[3] == ':' && up[6] == ':');
    free(up);
    up = NULL;
    put_fixture("uptime", "125.5 1.0\n");
    CHECK_OK(nxl_host_get_uptime(drv, &up, &e_));
    CU_ASSERT_TRUE(nxl_test_has(up, " up 2 min,  "));
    free(up);
    up = NULL;
    put_fixture("uptime", "garbage\n");
    CHECK_FAIL(nxl_host_get_uptime(drv, &up, &e_), NXL_E_IO, "uptime");
    CU_ASSERT_PTR_NULL(up);
    put_fixture("uptime", "93784.12 180000.00\n");
    nxl_driver_close(drv);
}

static void test_ip_and_connector(void)
{
    nxl_driver *drv = open_driver(NULL);
    nxl_volume_connector vc;
    unsigned char addr[16];
    char *ip = NULL;
    int rc;

    rc = nxl_host_get_ip_addr(drv, &ip, NULL);
    /* A sandbox may have only loopback: then NOT_FOUND, never garbage. */
    CU_ASSERT_TRUE(rc == NXL_E_NOT_FOUND || rc == 0);
    if (rc == 0) {
        CU_ASSERT_TRUE(inet_pton(AF_INET, ip, addr) == 1 ||
                       inet_pton(AF_INET6, ip, addr) == 1);
        CU_ASSERT_STRING_NOT_EQUAL(ip, "127.0.0.1");
    }
    free(ip);
    if (rc != 0) {
        fprintf(stderr, "  (no non-loopback address here: connector "
                        "checks skipped)\n");
        nxl_driver_close(drv);
        return;
    }

    unlink(initiator_path);
    nxl_volume_connector_init(&vc);
    CHECK_OK(nxl_instance_get_volume_connector(drv, NULL, &vc, &e_));
    CU_ASSERT_PTR_NULL(vc.initiator);
    CU_ASSERT_STRING_EQUAL(vc.host ?: "", "compute-1");
    CU_ASSERT_PTR_NOT_NULL(vc.ip);
    nxl_volume_connector_dispose(&vc);

    put_fixture("initiatorname.iscsi",
                "## DO NOT EDIT\nInitiatorName=iqn.1993-08.org.debian:01:"
                "abcdef123456\n");
    CHECK_OK(nxl_instance_get_volume_connector(drv, NULL, &vc, &e_));
    CU_ASSERT_STRING_EQUAL(vc.initiator ?: "",
                           "iqn.1993-08.org.debian:01:abcdef123456");
    nxl_volume_connector_dispose(&vc);
    put_fixture("initiatorname.iscsi", "InitiatorName=iqn.x; rm -rf /\n");
    CHECK_FAIL(nxl_instance_get_volume_connector(drv, NULL, &vc, &e_),
               NXL_E_INVAL, "not an iSCSI name");
    CU_ASSERT_PTR_NULL(vc.ip);
    unlink(initiator_path);
    nxl_driver_close(drv);
}

static void test_enabled_and_maintenance(void)
{
    nxl_driver *drv = open_driver(NULL), *drv2;
    nxl_maintenance maint;
    nxl_port *port = NULL;
    nxl_test_xsd_guest g;
    const char *res = NULL;
    uint32_t type = 0;
    char *reply = NULL;
    size_t len = 0;

    nxl_maintenance_init(&maint);
    CHECK_OK(nxl__xl_host_accepts_work(drv, "spawn", &e_));
    CHECK_OK(nxl_host_set_enabled(drv, false, &res, &e_));
    CU_ASSERT_STRING_EQUAL(res ?: "", "disabled");
    CHECK_FAIL(nxl__xl_host_accepts_work(drv, "spawn", &e_), NXL_E_DENIED,
               "disabled");
    /* Persisted: a driver opened later (a restarted service) sees it. */
    nxl_driver_close(drv);
    drv2 = open_driver(NULL);
    CHECK_FAIL(nxl__xl_host_accepts_work(drv2, "spawn", &e_), NXL_E_DENIED,
               "disabled");
    CHECK_OK(nxl_host_set_enabled(drv2, true, &res, &e_));
    CU_ASSERT_STRING_EQUAL(res ?: "", "enabled");
    CHECK_OK(nxl__xl_host_accepts_work(drv2, "spawn", &e_));

    CHECK_FAIL(nxl_host_maintenance_mode(drv2, "compute-2", true, &maint, &e_),
               NXL_E_INVAL, "not this host");
    CHECK_OK(nxl__xl_host_accepts_work(drv2, "spawn", &e_));
    /* A driver that cannot list its instances (no init_host) cannot say
     * what stays: the call fails and the flag is as it was. */
    CHECK_FAIL(nxl_host_maintenance_mode(drv2, "compute-1", true, &maint, &e_),
               NXL_E_HYPERVISOR, "init_host has not run");
    CHECK_OK(nxl__xl_host_accepts_work(drv2, "spawn", &e_));
    CU_ASSERT_PTR_NULL(maint.state);
    nxl_driver_close(drv2);
    drv2 = open_driver(&port);
    CHECK_OK(nxl_host_init(drv2, "compute-1", &e_));
    CHECK_OK(nxl_host_maintenance_mode(drv2, "compute-1", true, &maint, &e_));
    CU_ASSERT_STRING_EQUAL(maint.state ?: "", "on_maintenance");
    CU_ASSERT_EQUAL(maint.not_evacuated.n, 0);
    CHECK_FAIL(nxl__xl_host_accepts_work(drv2, "spawn", &e_), NXL_E_DENIED,
               "maintenance");

    /* Guests can neither read nor flip the flags. */
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 4, &g) == 0);
    CU_ASSERT_EQUAL(nxl_test_xsd_guest_request(
                        &g, XS_READ, NXL_XL_HOST_XS_ROOT "/maintenance",
                        sizeof(NXL_XL_HOST_XS_ROOT "/maintenance"), &type,
                        &reply, &len),
                    0);
    CU_ASSERT_EQUAL(type, XS_ERROR);
    free(reply);
    reply = NULL;
    {
        static const char wr[] = NXL_XL_HOST_XS_ROOT "/maintenance\0"
                                                     "0";

        CU_ASSERT_EQUAL(nxl_test_xsd_guest_request(&g, XS_WRITE, wr,
                                                   sizeof(wr) - 1, &type,
                                                   &reply, &len),
                        0);
        CU_ASSERT_EQUAL(type, XS_ERROR);
        free(reply);
    }
    nxl_test_xsd_guest_close(&g);
    CHECK_FAIL(nxl__xl_host_accepts_work(drv2, "spawn", &e_), NXL_E_DENIED,
               "maintenance");
    CHECK_OK(nxl_host_maintenance_mode(drv2, "compute-1", false, &maint, &e_));
    CU_ASSERT_STRING_EQUAL(maint.state ?: "", "off_maintenance");
    CHECK_OK(nxl__xl_host_accepts_work(drv2, "spawn", &e_));
    nxl_maintenance_dispose(&maint);
    nxl_host_cleanup(drv2, "compute-1", NULL);
    nxl_driver_close(drv2);
}

static char power_done[32];

static int power_record(const char *action, nxl_error *err)
{
    snprintf(power_done, sizeof(power_done), "%s", action);
    return 0;
}

static void test_power_action(void)
{
    nxl_xl_host_power_fn *saved = nxl__xl_host_power_exec;
    nxl_port *port = NULL;
    nxl_driver *drv = open_driver(&port);
    char *res = NULL;
    uint32_t domid;

    nxl__xl_host_power_exec = power_record;
    power_done[0] = '\0';
    CHECK_FAIL(nxl_host_power_action(drv, "startup", &res, &e_),
               NXL_E_UNSUPPORTED, "BMC");
    CU_ASSERT_FATAL(nxl__port_fake_external_create(port, "busy", &domid) == 0);
    CHECK_FAIL(nxl_host_power_action(drv, "reboot", &res, &e_), NXL_E_DENIED,
               "1 guest domain still runs");
    CU_ASSERT_STRING_EQUAL(power_done, "");
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
    CHECK_OK(nxl_host_power_action(drv, "reboot", &res, &e_));
    CU_ASSERT_STRING_EQUAL(res ?: "", "reboot");
    CU_ASSERT_STRING_EQUAL(power_done, "reboot");
    free(res);
    res = NULL;
    CHECK_OK(nxl_host_power_action(drv, "shutdown", &res, &e_));
    CU_ASSERT_STRING_EQUAL(power_done, "shutdown");
    free(res);
    nxl__xl_host_power_exec = saved;
    nxl_driver_close(drv);
}

/* ---- main ------------------------------------------------------------ */

int main(void)
{
    static const nxl_test_def tests[] = {
        {"hypervisor_version", test_version},
        {"nodes", test_nodes},
        {"get_available_resource", test_available_resource},
        {"get_host_cpu_stats", test_cpu_stats},
        {"cpu stats arithmetic", test_cpu_split},
        {"numa_topology", test_numa_topology},
        {"numa_topology shapes", test_numa_json_shapes},
        {"get_host_uptime", test_uptime},
        {"ip address and volume connector", test_ip_and_connector},
        {"enabled and maintenance persisted", test_enabled_and_maintenance},
        {"host_power_action", test_power_action},
    };

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (nxl_test_add_suite("host", suite_init, suite_cleanup, tests,
                           NXL_ARRAY_SIZE(tests))) {
        CU_cleanup_registry();
        return 1;
    }
    return nxl_test_run(skip_why);
}

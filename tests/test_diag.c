/* Diagnostics and usage counters of the libxl driver, through the public
 * API, on the fake hypervisor port (no Xen needed), with the sysfs roots
 * pointed at a tree of real files in a temporary directory.
 *
 * What it proves: each of the seven methods reads the counters of the
 * instance's own devices (blkback vbd-<domid>-<devid>, vif<domid>.<devid>)
 * and turns them the right way round (a vif's rx is the guest's tx);
 * vcpu time and memory come from the port; unknown instances are
 * InstanceNotFound; domains that are not ours (Domain-0, one made by hand
 * with xl) are never reported, even when asked for by UUID; missing sysfs
 * files give zeros or a clear error, never a crash; an instance without a
 * domain reports its configured devices and no usage; a port failure is
 * passed on. A qdisk disk's counters come from a fake QEMU statistics
 * monitor (qmp-libxenstat-<domid>, a thread on a unix socket in the
 * temporary directory) that also misbehaves: QEMU errors, garbage,
 * oversized, truncated and badly typed replies, and silence, each a
 * clear, bounded error.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_diag.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"
#include "xl_driver/xl_qmp.h"

#define UUID_A "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
#define UUID_B "00000000-0000-4000-8000-00000000000b"
#define MAC_A "fa:16:3e:00:00:0a"
/* The root disk (xvda) is a local file on a qdisk backend, which has no
 * sysfs counters; the volume (xvdb, iSCSI attached by the host) is on
 * blkback, which does. */
#define XVDB_DEVID 51728

typedef struct fixture {
    char root[PATH_MAX / 2];
    char instances[PATH_MAX];
    char images[PATH_MAX];
    char backend[PATH_MAX];
    char net[PATH_MAX];
    nxl_port *port;
    nxl_driver *drv;
} fixture;

static nxl_test_xsd xsd;

/* ---- helpers ----------------------------------------------------------------
 */

static void mkdirs(const char *path)
{
    char buf[PATH_MAX * 2];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0700);
            *p = '/';
        }
    mkdir(buf, 0700);
}

static void write_at(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX * 2];
    FILE *f;

    mkdirs(dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* blkback's statistics of domid's xvdb. */
static void sysfs_vbd(fixture *fx, uint32_t domid, const char *rd_req,
                      const char *wr_req, const char *rd_sect,
                      const char *wr_sect, const char *oo_req)
{
    char dir[PATH_MAX * 2];

    snprintf(dir, sizeof(dir), "%s/vbd-%u-%d/statistics", fx->backend, domid,
             XVDB_DEVID);
    write_at(dir, "rd_req", rd_req);
    write_at(dir, "wr_req", wr_req);
    write_at(dir, "rd_sect", rd_sect);
    write_at(dir, "wr_sect", wr_sect);
    write_at(dir, "oo_req", oo_req);
    write_at(dir, "f_req", "0\n");
}

/* Netback's side of a vif: rx is what the guest sent. */
static void sysfs_vif(fixture *fx, const char *ifname, const char *rx_bytes,
                      const char *tx_bytes)
{
    char dir[PATH_MAX * 2];

    snprintf(dir, sizeof(dir), "%s/%s/statistics", fx->net, ifname);
    write_at(dir, "rx_bytes", rx_bytes);
    write_at(dir, "tx_bytes", tx_bytes);
    write_at(dir, "rx_packets", "10\n");
    write_at(dir, "tx_packets", "50\n");
    write_at(dir, "rx_errors", "1\n");
    write_at(dir, "tx_errors", "0\n");
    write_at(dir, "rx_dropped", "3\n");
    write_at(dir, "tx_dropped", "4\n");
}

static int open_driver(fixture *fx)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    cfg.host = "testhost";
    cfg.instances_dir = fx->instances;
    cfg.image_cache_dir = fx->images;
    rc = nxl_driver_open("libxl", &cfg, &fx->drv, &err);
    if (rc == 0)
        rc = nxl__xl_driver_use_port(fx->drv, fx->port, true, &err);
    if (rc == 0)
        nxl__xl_driver_set_event_poll(fx->drv, 0);
    if (rc == 0)
        rc = nxl_host_init(fx->drv, "testhost", &err);
    if (rc)
        fprintf(stderr, "open_driver: %s\n", nxl_error_message(&err));
    nxl_error_dispose(&err);
    return rc;
}

static void fx_setup(fixture *fx)
{
    memset(fx, 0, sizeof(*fx));
    CU_ASSERT_EQUAL_FATAL(
        nxl_test_mkdtemp(fx->root, sizeof(fx->root), "nxl-diag"), 0);
    snprintf(fx->instances, sizeof(fx->instances), "%s/instances", fx->root);
    snprintf(fx->images, sizeof(fx->images), "%s/images", fx->root);
    snprintf(fx->backend, sizeof(fx->backend), "%s/sys/bus/xen-backend/devices",
             fx->root);
    snprintf(fx->net, sizeof(fx->net), "%s/sys/class/net", fx->root);
    write_at(fx->images, "kernel-1", "not really a kernel\n");
    write_at(fx->images, "initrd-1", "not really an initrd\n");
    mkdirs(fx->backend);
    mkdirs(fx->net);
    CU_ASSERT_EQUAL_FATAL(nxl__xl_diag_set_sysfs(fx->backend, fx->net, NULL),
                          0);
    CU_ASSERT_EQUAL_FATAL(nxl__xl_qmp_set(fx->root, 5000, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(nxl__port_fake_new(&fx->port), 0);
    CU_ASSERT_EQUAL_FATAL(open_driver(fx), 0);
}

static void fx_teardown(fixture *fx)
{
    nxl_driver_close(fx->drv);
    nxl__port_free(fx->port);
    nxl__xl_diag_set_sysfs(NULL, NULL, NULL);
    nxl__xl_qmp_set(NULL, 0, NULL);
    nxl_test_rm_tree(fx->root);
    memset(fx, 0, sizeof(*fx));
}

/* Spawns uuid with one NIC (MAC_A, no devname: libxl names it), a
 * 1 MiB root disk (xvda), the volume xvdb and, with ephemeral_gb, an
 * ephemeral disk (xvdc, qdisk too); returns its domid. */
static uint32_t spawn_eph(fixture *fx, const char *uuid, const char *name,
                          int ephemeral_gb)
{
    char doc[2048];
    nxl_spawn_req req;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance_info info;
    nxl_instance inst;

    snprintf(doc, sizeof(doc),
             "{\"instance\": {\"uuid\": \"%s\", \"name\": \"%s\","
             " \"memory_mb\": 128, \"vcpus\": 2, \"root_gb\": 0,"
             " \"ephemeral_gb\": %d,"
             " \"kernel_id\": \"kernel-1\", \"ramdisk_id\": \"initrd-1\"},"
             " \"image_meta\": {\"id\": \"kernel-1\", \"disk_format\": \"aki\","
             " \"properties\": {\"vm_mode\": \"xen\"}},"
             " \"network_info\": [{\"id\": "
             "\"5d3a9e0c-7b21-4f6e-9a84-2c1d0e7f3b56\", \"address\": \"" MAC_A
             "\","
             " \"type\": \"bridge\", \"network\": {\"bridge\": \"xenbr0\"}}],"
             " \"block_device_info\": {\"block_device_mapping\": [{"
             " \"mount_device\": \"/dev/xvdb\", \"connection_info\": {"
             " \"driver_volume_type\": \"iscsi\", \"data\": {"
             " \"device_path\": \"/dev/disk/by-path/ip-192.0.2.20:3260-iscsi-"
             "iqn.2010-10.org.openstack:volume-1-lun-1\","
             " \"volume_id\": \"vol-1\"}}}]}}",
             uuid, name, ephemeral_gb);
    nxl_spawn_req_init(&req);
    if (nxl__spawn_req_from_json(doc, strlen(doc), &req, &err))
        fprintf(stderr, "request: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL_FATAL(err.code, NXL_OK);
    if (nxl_instance_spawn(fx->drv, &req, &err))
        fprintf(stderr, "spawn: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL_FATAL(err.code, NXL_OK);
    nxl_spawn_req_dispose(&req);
    nxl_instance_init(&inst);
    snprintf(inst.uuid, sizeof(inst.uuid), "%s", uuid);
    nxl_instance_info_init(&info);
    CU_ASSERT_EQUAL_FATAL(nxl_instance_get_info(fx->drv, &inst, &info, NULL),
                          0);
    nxl_instance_dispose(&inst);
    CU_ASSERT_FATAL(info.domid > 0);
    return (uint32_t)info.domid;
}

static uint32_t spawn(fixture *fx, const char *uuid, const char *name)
{
    return spawn_eph(fx, uuid, name, 0);
}

static void make_inst(nxl_instance *inst, const char *uuid)
{
    nxl_instance_init(inst);
    snprintf(inst->uuid, sizeof(inst->uuid), "%s", uuid);
}

static long long json_int(const nxl_json *root, const char *key)
{
    long long v = -1;

    if (!nxl__json_integer(nxl__json_get(root, key), &v))
        return -1;
    return v;
}

/* ---- a fake QEMU statistics monitor --------------------------------- */

/* The first two and the last three answer with FQ_STATS's shape. */
typedef enum fq_mode {
    FQ_NORMAL,
    FQ_EVENT,      /* an event before the reply */
    FQ_QEMU_ERROR, /* query-blockstats answered with an error */
    FQ_GARBAGE,    /* not JSON */
    FQ_OVERSIZED,  /* a message longer than the cap */
    FQ_TRUNCATED,  /* half a reply, then closed */
    FQ_SILENT,     /* accepts, never greets */
    FQ_NEGATIVE,   /* a negative counter */
    FQ_WRONG_TYPE, /* a counter as a string */
    FQ_WRONG_ID,   /* a reply to some other command */
} fq_mode;

typedef struct fake_qmp {
    int lfd;
    fq_mode mode;
    pthread_t th;
    bool got_caps, got_query; /* the client's commands, as seen */
} fake_qmp;

/* xvdab comes first: its node name must not be taken for xvda's. */
#define FQ_STATS                                                               \
    "[{\"device\": \"\", \"node-name\": \"xvdab-raw\", \"qdev\": "             \
    "\"/machine/unattached/device[9]\", \"stats\": {\"rd_bytes\": 1, "         \
    "\"wr_bytes\": 1, \"rd_operations\": 1, \"wr_operations\": 1}},"           \
    " {\"device\": \"\", \"node-name\": \"xvda-raw\", \"qdev\": "              \
    "\"/machine/unattached/device[8]\", \"stats\": {\"rd_bytes\": %s, "        \
    "\"wr_bytes\": 2048, \"rd_operations\": %s, \"wr_operations\": 3, "        \
    "\"flush_operations\": 1, \"failed_rd_operations\": 0}},"                  \
    " {\"device\": \"\", \"node-name\": \"xvdc-raw\", \"stats\": "             \
    "{\"rd_bytes\": 8192, \"wr_bytes\": 512, \"rd_operations\": 2, "           \
    "\"wr_operations\": 1}}]"

/* One line from the client, bounded in time; false on EOF or silence. */
static bool fq_read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;

    while (n + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char ch;

        if (poll(&p, 1, 5000) <= 0 || read(fd, &ch, 1) != 1)
            return false;
        if (ch == '\n')
            break;
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return true;
}

static void fq_send(int fd, const char *text)
{
    size_t len = strlen(text);

    while (len) {
        ssize_t w = send(fd, text, len, MSG_NOSIGNAL);

        if (w <= 0)
            return; /* the client gave up: fine */
        text += w;
        len -= (size_t)w;
    }
}

static void *fq_serve(void *arg)
{
    fake_qmp *f = arg;
    struct pollfd p = {.fd = f->lfd, .events = POLLIN};
    char line[1024], reply[4096];
    int fd;

    if (poll(&p, 1, 5000) <= 0 || (fd = accept(f->lfd, NULL, NULL)) < 0)
        return NULL;
    if (f->mode == FQ_SILENT) {
        /* Until the client gives up and closes. */
        fq_read_line(fd, line, sizeof(line));
        close(fd);
        return NULL;
    }
    fq_send(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, "
                "\"minor\": 2, \"micro\": 0}, \"package\": \"\"}, "
                "\"capabilities\": [\"oob\"]}}\r\n");
    if (fq_read_line(fd, line, sizeof(line)) &&
        strstr(line, "\"qmp_capabilities\"") && strstr(line, "\"nxl-1\"")) {
        f->got_caps = true;
        fq_send(fd, "{\"return\": {}, \"id\": \"nxl-1\"}\r\n");
    }
    if (f->got_caps && fq_read_line(fd, line, sizeof(line)) &&
        strstr(line, "\"query-blockstats\"") && strstr(line, "\"nxl-2\"")) {
        /* The counters and id of a well-formed reply, bent per mode. */
        const char *rd_bytes = "40960", *rd_ops = "7", *id = "nxl-2";
        char stats[2048];

        f->got_query = true;
        reply[0] = '\0';
        switch (f->mode) {
        case FQ_EVENT:
            fq_send(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": "
                        "2}, \"event\": \"BLOCK_IO_ERROR\", \"data\": {}}\r\n");
            break;
        case FQ_NEGATIVE:
            rd_ops = "-7";
            break;
        case FQ_WRONG_TYPE:
            rd_bytes = "\"40960\"";
            break;
        case FQ_WRONG_ID:
            id = "other";
            break;
        case FQ_QEMU_ERROR:
            snprintf(reply, sizeof(reply),
                     "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                     "\"no block layer\"}, \"id\": \"nxl-2\"}\r\n");
            break;
        case FQ_GARBAGE:
            snprintf(reply, sizeof(reply), "this is not JSON\r\n");
            break;
        case FQ_TRUNCATED:
            snprintf(reply, sizeof(reply),
                     "{\"return\": [{\"device\": \"\", \"node-na");
            break;
        case FQ_OVERSIZED: {
            size_t n = NXL_QMP_MAX_MESSAGE + 8192;
            char *big = malloc(n + 1);

            if (big) {
                memset(big, ' ', n);
                big[0] = '{';
                big[n] = '\0';
                fq_send(fd, big);
                free(big);
            }
            break;
        }
        default:
            break;
        }
        if (f->mode <= FQ_EVENT || f->mode >= FQ_NEGATIVE) {
            snprintf(stats, sizeof(stats), FQ_STATS, rd_bytes, rd_ops);
            snprintf(reply, sizeof(reply),
                     "{\"return\": %s, \"id\": \"%s\"}\r\n", stats, id);
        }
        fq_send(fd, reply);
    }
    close(fd);
    return NULL;
}

/* Listens on <root>/qmp-libxenstat-<domid> and serves one client. */
static void fq_start(fake_qmp *f, const fixture *fx, uint32_t domid,
                     fq_mode mode)
{
    struct sockaddr_un sa;

    memset(f, 0, sizeof(*f));
    f->mode = mode;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    CU_ASSERT_FATAL((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path),
                                     "%s/qmp-libxenstat-%u", fx->root,
                                     domid) < sizeof(sa.sun_path));
    unlink(sa.sun_path);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(f->lfd >= 0);
    CU_ASSERT_EQUAL_FATAL(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CU_ASSERT_EQUAL_FATAL(listen(f->lfd, 4), 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&f->th, NULL, fq_serve, f), 0);
}

/* Waits for the server (bounded by its own polls); the socket stays, as
 * QEMU's does while it runs. */
static void fq_stop(fake_qmp *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tests
 * --------------------------------------------------------------------- */

static void test_vdev_devid(void)
{
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("xvda"), 51712);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("/dev/xvdb"), 51728);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("xvdp"), (202 << 8) | (15 << 4));
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("xvdq"), (1 << 28) | (16 << 8));
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("xvdaa"), (1 << 28) | (26 << 8));
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("hda"), 768);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("hdb"), 832);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("hdc"), 5632);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("hdd"), 5696);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("sda"), 2048);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("sdb"), 2064);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("sdq"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("vda"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_devid("xvda1"), -1);
    CU_ASSERT_EQUAL(nxl__xl_diag_set_sysfs("relative", NULL, NULL),
                    NXL_E_INVAL);
}

static void test_instance_diagnostics(void)
{
    fixture fx;
    nxl_diagnostics d;
    nxl_instance inst;
    nxl_error err = NXL_ERROR_INIT;
    char ifname[32];
    uint32_t domid;

    fx_setup(&fx);
    domid = spawn(&fx, UUID_A, "instance-a");
    snprintf(ifname, sizeof(ifname), "vif%u.0", domid);
    sysfs_vbd(&fx, domid, "10\n", "4\n", "80\n", "16\n", "2\n");
    sysfs_vif(&fx, ifname, "1000\n", "5000\n");
    usleep(20000); /* some CPU time for the running guest */

    make_inst(&inst, UUID_A);
    nxl_diagnostics_init(&d);
    if (nxl_instance_get_diagnostics(fx.drv, &inst, &d, &err))
        fprintf(stderr, "diagnostics: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    CU_ASSERT_STRING_EQUAL(d.state, "running");
    CU_ASSERT_STRING_EQUAL(d.driver, "libxl");
    CU_ASSERT_STRING_EQUAL(d.hypervisor, "xen");
    CU_ASSERT(d.uptime < 60);
    CU_ASSERT_FALSE(d.config_drive);
    CU_ASSERT_EQUAL(d.memory_details.maximum, 128);
    CU_ASSERT_EQUAL(d.memory_details.used, 128);
    CU_ASSERT_EQUAL_FATAL(d.n_cpu_details, 2);
    CU_ASSERT_EQUAL(d.cpu_details[0].id, 0);
    CU_ASSERT_EQUAL(d.cpu_details[1].id, 1);
    CU_ASSERT(d.cpu_details[0].time > 0);
    CU_ASSERT(d.cpu_details[1].time > 0);
    CU_ASSERT_EQUAL(d.cpu_details[0].utilisation, -1);
    /* In config order: xvda (qdisk: zeros), then the volume xvdb. */
    CU_ASSERT_EQUAL_FATAL(d.n_disk_details, 2);
    CU_ASSERT_EQUAL(d.disk_details[0].read_requests, 0);
    CU_ASSERT_EQUAL(d.disk_details[0].read_bytes, 0);
    CU_ASSERT_EQUAL(d.disk_details[1].read_requests, 10);
    CU_ASSERT_EQUAL(d.disk_details[1].read_bytes, 80 * 512);
    CU_ASSERT_EQUAL(d.disk_details[1].write_requests, 4);
    CU_ASSERT_EQUAL(d.disk_details[1].write_bytes, 16 * 512);
    CU_ASSERT_EQUAL(d.disk_details[1].errors_count, 2);
    CU_ASSERT_EQUAL_FATAL(d.n_nic_details, 1);
    CU_ASSERT_STRING_EQUAL(d.nic_details[0].mac_address, MAC_A);
    /* The guest's view: the vif's tx is what the guest received. */
    CU_ASSERT_EQUAL(d.nic_details[0].rx_octets, 5000);
    CU_ASSERT_EQUAL(d.nic_details[0].tx_octets, 1000);
    CU_ASSERT_EQUAL(d.nic_details[0].rx_packets, 50);
    CU_ASSERT_EQUAL(d.nic_details[0].tx_packets, 10);
    CU_ASSERT_EQUAL(d.nic_details[0].rx_drop, 4);
    CU_ASSERT_EQUAL(d.nic_details[0].tx_drop, 3);
    CU_ASSERT_EQUAL(d.nic_details[0].tx_errors, 1);
    nxl_diagnostics_dispose(&d);

    /* Counters move with the files: nothing is cached or made up. */
    sysfs_vif(&fx, ifname, "1000\n", "7777\n");
    CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, NULL), 0);
    CU_ASSERT_EQUAL(d.n_nic_details == 1 ? d.nic_details[0].rx_octets : 0,
                    7777);
    nxl_diagnostics_dispose(&d);

    /* Missing sysfs (interface unplugged, backend without statistics):
     * zeros, not an error. A malformed counter reads as 0 too. */
    {
        char dir[PATH_MAX * 2];

        snprintf(dir, sizeof(dir), "%s/%s", fx.net, ifname);
        nxl_test_rm_tree(dir);
        snprintf(dir, sizeof(dir), "%s/vbd-%u-%d/statistics", fx.backend, domid,
                 XVDB_DEVID);
        write_at(dir, "rd_req", "garbage\n");
        unlink(strcat(dir, "/wr_req"));
    }
    CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(d.n_nic_details, 1);
    CU_ASSERT_EQUAL(d.nic_details[0].rx_octets, 0);
    CU_ASSERT_EQUAL(d.nic_details[0].tx_octets, 0);
    CU_ASSERT_EQUAL_FATAL(d.n_disk_details, 2);
    CU_ASSERT_EQUAL(d.disk_details[1].read_requests, 0);
    CU_ASSERT_EQUAL(d.disk_details[1].write_requests, 0);
    CU_ASSERT_EQUAL(d.disk_details[1].read_bytes, 80 * 512);
    nxl_diagnostics_dispose(&d);

    /* A port failure is passed on, not papered over. */
    nxl__port_fake_fail(fx.port, "vcpu_list", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, &err),
                    NXL_E_HYPERVISOR);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), UUID_A));
    CU_ASSERT_EQUAL(d.state, NULL); /* output untouched on failure */
    nxl_error_dispose(&err);
    nxl__port_fake_fail(fx.port, "start_time", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, NULL),
                    NXL_E_HYPERVISOR);
    nxl__port_fake_fail(fx.port, "retrieve_config", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, NULL),
                    NXL_E_HYPERVISOR);

    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

static void test_legacy_diagnostics(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    char *json = NULL, key[64];
    uint32_t domid;

    fx_setup(&fx);
    domid = spawn(&fx, UUID_A, "instance-a");
    sysfs_vbd(&fx, domid, "10\n", "4\n", "80\n", "16\n", "2\n");
    snprintf(key, sizeof(key), "vif%u.0", domid);
    sysfs_vif(&fx, key, "1000\n", "5000\n");
    usleep(10000);

    make_inst(&inst, UUID_A);
    if (nxl_instance_get_diagnostics_json(fx.drv, &inst, &json, &err))
        fprintf(stderr, "get_diagnostics: %s\n", nxl_error_message(&err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_EQUAL_FATAL(nxl__json_parse(json, strlen(json), 0, &root, NULL),
                          0);
    CU_ASSERT(json_int(root, "cpu0_time") > 0);
    CU_ASSERT(json_int(root, "cpu1_time") > 0);
    CU_ASSERT_EQUAL(json_int(root, "memory"), 128 * 1024);
    CU_ASSERT_EQUAL(json_int(root, "memory-actual"), 128 * 1024);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_read"), 80 * 512);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_read_req"), 10);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_write"), 16 * 512);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_write_req"), 4);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_errors"), 2);
    snprintf(key, sizeof(key), "vif%u.0_rx", domid);
    CU_ASSERT_EQUAL(json_int(root, key), 5000);
    snprintf(key, sizeof(key), "vif%u.0_tx", domid);
    CU_ASSERT_EQUAL(json_int(root, key), 1000);
    nxl__json_free(root);
    root = NULL;
    free(json);
    json = NULL;

    /* Without the vif's sysfs node its keys are left out, not zero. */
    {
        char dir[PATH_MAX * 2];

        snprintf(dir, sizeof(dir), "%s/vif%u.0", fx.net, domid);
        nxl_test_rm_tree(dir);
    }
    CU_ASSERT_EQUAL(
        nxl_instance_get_diagnostics_json(fx.drv, &inst, &json, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    snprintf(key, sizeof(key), "vif%u.0_rx", domid);
    CU_ASSERT_PTR_NULL(strstr(json, key));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"xvdb_read\""));
    /* xvda is on qdisk: no counters, so no keys. */
    CU_ASSERT_PTR_NULL(strstr(json, "\"xvda_read\""));
    free(json);
    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
}

static void test_block_stats(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_block_stats bs;
    nxl_error err = NXL_ERROR_INIT;
    char dir[PATH_MAX * 2];
    uint32_t domid;

    fx_setup(&fx);
    domid = spawn(&fx, UUID_A, "instance-a");
    sysfs_vbd(&fx, domid, "10\n", "4\n", "80\n", "16\n", "2\n");
    make_inst(&inst, UUID_A);

    memset(&bs, 0, sizeof(bs));
    CU_ASSERT_EQUAL(nxl_instance_block_stats(fx.drv, &inst, "xvdb", &bs, &err),
                    0);
    CU_ASSERT_EQUAL(bs.rd_req, 10);
    CU_ASSERT_EQUAL(bs.rd_bytes, 80 * 512);
    CU_ASSERT_EQUAL(bs.wr_req, 4);
    CU_ASSERT_EQUAL(bs.wr_bytes, 16 * 512);
    CU_ASSERT_EQUAL(bs.errs, 2);
    memset(&bs, 0, sizeof(bs));
    CU_ASSERT_EQUAL(
        nxl_instance_block_stats(fx.drv, &inst, "/dev/xvdb", &bs, NULL), 0);
    CU_ASSERT_EQUAL(bs.rd_req, 10);

    /* The local root disk is on qdisk, and no QEMU runs for it: a clear
     * error naming the socket, never InstanceNotFound. */
    CU_ASSERT_EQUAL(nxl_instance_block_stats(fx.drv, &inst, "xvda", &bs, &err),
                    NXL_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "qdisk"));
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "qmp-libxenstat-"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl_instance_block_stats(fx.drv, &inst, "xvdz", &bs, &err),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "xvdz"));
    nxl_error_dispose(&err);

    /* blkback has no statistics for it (not connected): a clear error. */
    snprintf(dir, sizeof(dir), "%s/vbd-%u-%d", fx.backend, domid, XVDB_DEVID);
    nxl_test_rm_tree(dir);
    CU_ASSERT_EQUAL(nxl_instance_block_stats(fx.drv, &inst, "xvdb", &bs, &err),
                    NXL_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "vbd-"));
    nxl_error_dispose(&err);

    /* Powered off: no domain, nothing to count. */
    CU_ASSERT_EQUAL(nxl_instance_power_off(fx.drv, &inst, 5, 1, NULL), 0);
    CU_ASSERT_EQUAL(nxl_instance_block_stats(fx.drv, &inst, "xvdb", &bs, &err),
                    NXL_E_NOT_RUNNING);
    nxl_error_dispose(&err);
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* block_stats of the qdisk root disk against fake QEMUs: QEMU's own
 * counters when it answers, a clear and bounded error otherwise. */
static void test_block_stats_qdisk(void)
{
    static const struct {
        fq_mode mode;
        int rc;
        const char *what;
    } bad[] = {
        {FQ_QEMU_ERROR, NXL_E_FAILED, "no block layer"},
        {FQ_GARBAGE, NXL_E_IO, "query-blockstats"},
        {FQ_OVERSIZED, NXL_E_IO, "longer than"},
        {FQ_TRUNCATED, NXL_E_IO, "closed the connection in the middle"},
        {FQ_NEGATIVE, NXL_E_IO, "return[1].stats.rd_operations: negative"},
        {FQ_WRONG_TYPE, NXL_E_IO, "return[1].stats.rd_bytes: a string"},
        {FQ_WRONG_ID, NXL_E_IO, "not its reply"},
    };
    fixture fx;
    fake_qmp f;
    nxl_instance inst;
    nxl_block_stats bs;
    nxl_error err = NXL_ERROR_INIT;
    uint32_t domid;
    double t;

    fx_setup(&fx);
    domid = spawn(&fx, UUID_A, "instance-a");
    make_inst(&inst, UUID_A);

    for (int mode = FQ_NORMAL; mode <= FQ_EVENT; mode++) {
        fq_start(&f, &fx, domid, (fq_mode)mode);
        memset(&bs, 0, sizeof(bs));
        if (nxl_instance_block_stats(fx.drv, &inst, "/dev/xvda", &bs, &err))
            fprintf(stderr, "block_stats: %s\n", nxl_error_message(&err));
        CU_ASSERT_EQUAL(err.code, NXL_OK);
        fq_stop(&f);
        CU_ASSERT_TRUE(f.got_caps && f.got_query);
        CU_ASSERT_EQUAL(bs.rd_req, 7);
        CU_ASSERT_EQUAL(bs.rd_bytes, 40960);
        CU_ASSERT_EQUAL(bs.wr_req, 3);
        CU_ASSERT_EQUAL(bs.wr_bytes, 2048);
        CU_ASSERT_EQUAL(bs.errs, -1); /* QEMU has no held-up count */
        nxl_error_dispose(&err);
    }

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fq_start(&f, &fx, domid, bad[i].mode);
        CU_ASSERT_EQUAL(
            nxl_instance_block_stats(fx.drv, &inst, "xvda", &bs, &err),
            bad[i].rc);
        if (!strstr(nxl_error_message(&err), bad[i].what))
            fprintf(stderr, "mode %d: %s\n", (int)bad[i].mode,
                    nxl_error_message(&err));
        CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), bad[i].what));
        CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "xvda"));
        nxl_error_dispose(&err);
        fq_stop(&f);
    }

    /* A QEMU that never answers: NXL_E_TIMEOUT, within the deadline. */
    CU_ASSERT_EQUAL(nxl__xl_qmp_set(fx.root, 300, NULL), 0);
    fq_start(&f, &fx, domid, FQ_SILENT);
    t = now_s();
    CU_ASSERT_EQUAL(nxl_instance_block_stats(fx.drv, &inst, "xvda", &bs, &err),
                    NXL_E_TIMEOUT);
    t = now_s() - t;
    CU_ASSERT(t >= 0.25 && t < 3.0);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "in time"));
    nxl_error_dispose(&err);
    fq_stop(&f);

    /* A socket nobody listens on any more (QEMU gone): refused. */
    CU_ASSERT_EQUAL(nxl_instance_block_stats(fx.drv, &inst, "xvda", &bs, &err),
                    NXL_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "connect"));
    nxl_error_dispose(&err);

    CU_ASSERT_EQUAL(nxl__xl_qmp_set("relative", 0, NULL), NXL_E_INVAL);
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

static void assert_disk(const nxl_disk_diagnostics *k, uint64_t rd_req,
                        uint64_t rd_bytes, uint64_t wr_req, uint64_t wr_bytes,
                        uint64_t errors)
{
    CU_ASSERT_EQUAL(k->read_requests, rd_req);
    CU_ASSERT_EQUAL(k->read_bytes, rd_bytes);
    CU_ASSERT_EQUAL(k->write_requests, wr_req);
    CU_ASSERT_EQUAL(k->write_bytes, wr_bytes);
    CU_ASSERT_EQUAL(k->errors_count, errors);
}

/* Both diagnostics calls when QEMU cannot be read (a fake in mode, or
 * with mode < 0 none): they succeed; the qdisk disks' counters are 0 in
 * the typed answer and their keys left out of the legacy dict; blkback's
 * are untouched. Bounded well within the test's 300 ms deadline x 2. */
static void assert_qdisk_unread(fixture *fx, const nxl_instance *inst,
                                uint32_t domid, int mode)
{
    nxl_diagnostics d;
    nxl_json *root = NULL;
    char *json = NULL;
    fake_qmp f;
    double t = now_s();
    int rc;

    nxl_diagnostics_init(&d);
    for (int legacy = 0; legacy < 2; legacy++) {
        if (mode >= 0)
            fq_start(&f, fx, domid, (fq_mode)mode);
        rc = legacy
                 ? nxl_instance_get_diagnostics_json(fx->drv, inst, &json, NULL)
                 : nxl_instance_get_diagnostics(fx->drv, inst, &d, NULL);
        CU_ASSERT_EQUAL(rc, 0);
        if (mode >= 0)
            fq_stop(&f);
    }
    CU_ASSERT(now_s() - t < 3.0);
    CU_ASSERT_STRING_EQUAL(d.state ? d.state : "", "running");
    CU_ASSERT_EQUAL(d.n_cpu_details, 2);
    CU_ASSERT_EQUAL_FATAL(d.n_disk_details, 3);
    assert_disk(&d.disk_details[0], 0, 0, 0, 0, 0);
    assert_disk(&d.disk_details[1], 0, 0, 0, 0, 0);
    assert_disk(&d.disk_details[2], 10, 80 * 512, 4, 16 * 512, 2);
    nxl_diagnostics_dispose(&d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_PTR_NULL(strstr(json, "\"xvda_"));
    CU_ASSERT_PTR_NULL(strstr(json, "\"xvdc_"));
    CU_ASSERT_EQUAL_FATAL(nxl__json_parse(json, strlen(json), 0, &root, NULL),
                          0);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_read_req"), 10);
    CU_ASSERT_EQUAL(json_int(root, "memory"), 128 * 1024);
    nxl__json_free(root);
    free(json);
}

/* Both diagnostics calls on a guest with two qdisk disks (xvda, xvdc) and
 * a blkback volume (xvdb): QEMU's counters from one exchange (the fake
 * serves one client; a second would get no greeting and time out), and
 * the rest of the answer intact when QEMU is gone or talks nonsense. */
static void test_diagnostics_qdisk(void)
{
    static const fq_mode bad[] = {FQ_GARBAGE, FQ_QEMU_ERROR, FQ_SILENT};
    fixture fx;
    fake_qmp f;
    nxl_diagnostics d;
    nxl_instance inst;
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    char *json = NULL, sock[PATH_MAX * 2];
    uint32_t domid;

    fx_setup(&fx);
    domid = spawn_eph(&fx, UUID_A, "instance-a", 1);
    sysfs_vbd(&fx, domid, "10\n", "4\n", "80\n", "16\n", "2\n");
    make_inst(&inst, UUID_A);
    CU_ASSERT_EQUAL(nxl__xl_qmp_set(fx.root, 300, NULL), 0);

    fq_start(&f, &fx, domid, FQ_NORMAL);
    nxl_diagnostics_init(&d);
    if (nxl_instance_get_diagnostics(fx.drv, &inst, &d, &err))
        fprintf(stderr, "diagnostics: %s\n", nxl_error_message(&err));
    fq_stop(&f);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    CU_ASSERT_TRUE(f.got_query);
    /* Config order: root, ephemeral, volume. QEMU counts no held-up
     * requests: errors_count 0 (unsigned). */
    CU_ASSERT_EQUAL_FATAL(d.n_disk_details, 3);
    assert_disk(&d.disk_details[0], 7, 40960, 3, 2048, 0);
    assert_disk(&d.disk_details[1], 2, 8192, 1, 512, 0);
    assert_disk(&d.disk_details[2], 10, 80 * 512, 4, 16 * 512, 2);
    nxl_diagnostics_dispose(&d);
    nxl_error_dispose(&err);

    fq_start(&f, &fx, domid, FQ_NORMAL);
    if (nxl_instance_get_diagnostics_json(fx.drv, &inst, &json, &err))
        fprintf(stderr, "get_diagnostics: %s\n", nxl_error_message(&err));
    fq_stop(&f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_EQUAL_FATAL(nxl__json_parse(json, strlen(json), 0, &root, NULL),
                          0);
    CU_ASSERT_EQUAL(json_int(root, "xvda_read"), 40960);
    CU_ASSERT_EQUAL(json_int(root, "xvda_read_req"), 7);
    CU_ASSERT_EQUAL(json_int(root, "xvda_write"), 2048);
    CU_ASSERT_EQUAL(json_int(root, "xvda_write_req"), 3);
    /* -1 here, as block_stats' errs (json_int says -1 for a missing key
     * too, hence the key's own check). */
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"xvda_errors\""));
    CU_ASSERT_EQUAL(json_int(root, "xvda_errors"), -1);
    CU_ASSERT_EQUAL(json_int(root, "xvdc_read_req"), 2);
    CU_ASSERT_EQUAL(json_int(root, "xvdc_write"), 512);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_read_req"), 10);
    CU_ASSERT_EQUAL(json_int(root, "xvdb_errors"), 2);
    nxl__json_free(root);
    free(json);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_qdisk_unread(&fx, &inst, domid, (int)bad[i]);
    /* No QEMU: a socket nobody listens on (refused), then none at all. */
    assert_qdisk_unread(&fx, &inst, domid, -1);
    snprintf(sock, sizeof(sock), "%s/qmp-libxenstat-%u", fx.root, domid);
    CU_ASSERT_EQUAL(unlink(sock), 0);
    assert_qdisk_unread(&fx, &inst, domid, -1);

    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
}

/* The reply parser on its own: untrusted shapes are refused by field. */
static void test_qmp_parser(void)
{
    static const struct {
        const char *doc;
        const char *what;
    } bad[] = {
        {"{\"return\": {}}", "return: an object"},
        {"{\"return\": [1]}", "return[0]: "},
        {"{\"return\": [{\"device\": 5, \"stats\": {}}]}", "return[0].device"},
        {"{\"return\": [{\"stats\": {\"rd_bytes\": 1.5}}]}",
         "return[0].stats.rd_bytes"},
        {"{\"return\": [{\"stats\": {\"rd_bytes\": 99999999999999999999}}]}",
         "return[0].stats.rd_bytes"},
        {"{\"return\": [{\"device\": \"a\"}]}", "return[0].stats"},
        {"[]", "not an object"},
        {"{\"what\": 1}", "neither"},
    };
    nxl_qmp_blockstats s;
    nxl_error err = NXL_ERROR_INIT;
    char *big;
    size_t n = 0;

    nxl__qmp_blockstats_init(&s);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(nxl__qmp_blockstats_from_json(
                            bad[i].doc, strlen(bad[i].doc), &s, &err),
                        NXL_E_INVAL);
        if (!strstr(nxl_error_message(&err), bad[i].what))
            fprintf(stderr, "%s: %s\n", bad[i].doc, nxl_error_message(&err));
        CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), bad[i].what));
        CU_ASSERT_EQUAL(s.n, 0);
        nxl_error_dispose(&err);
    }
    /* More entries than any host has disks. */
    big = malloc(64 * (NXL_MAX_LIST_ITEMS + 2));
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    n += (size_t)sprintf(big, "{\"return\": [");
    for (int i = 0; i <= NXL_MAX_LIST_ITEMS; i++)
        n += (size_t)sprintf(big + n, "%s{\"stats\": {}}", i ? "," : "");
    sprintf(big + n, "]}");
    CU_ASSERT_EQUAL(nxl__qmp_blockstats_from_json(big, strlen(big), &s, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "entries"));
    nxl_error_dispose(&err);
    free(big);
    /* "" and null names are absent. */
    {
        const char *ok = "{\"return\": [{\"device\": \"\", \"node-name\": null,"
                         " \"qdev\": \"q\", \"stats\": {\"rd_bytes\": 0,"
                         " \"wr_bytes\": 0, \"rd_operations\": 0,"
                         " \"wr_operations\": 9223372036854775807}}]}";

        CU_ASSERT_EQUAL(nxl__qmp_blockstats_from_json(ok, strlen(ok), &s, NULL),
                        0);
        CU_ASSERT_EQUAL_FATAL(s.n, 1);
        CU_ASSERT_PTR_NULL(s.items[0].device);
        CU_ASSERT_PTR_NULL(s.items[0].node_name);
        CU_ASSERT_STRING_EQUAL(s.items[0].qdev, "q");
        CU_ASSERT_EQUAL(s.items[0].wr_operations, 9223372036854775807ULL);
        nxl__qmp_blockstats_dispose(&s);
    }
}

/* Every per-instance method: an unknown instance, and a domain that is
 * not ours asked for by its own UUID, are InstanceNotFound. */
static void test_not_found_and_foreign(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_diagnostics d;
    nxl_disk_info_list dl;
    nxl_block_stats bs;
    nxl_port_dominfo info;
    nxl_error err = NXL_ERROR_INIT;
    char *json = NULL;
    uint32_t foreign;

    fx_setup(&fx);
    spawn(&fx, UUID_A, "instance-a");
    CU_ASSERT_EQUAL_FATAL(
        nxl__port_fake_external_create(fx.port, "by-hand", &foreign), 0);
    CU_ASSERT_EQUAL_FATAL(
        fx.port->ops->domain_info(fx.port, foreign, &info, NULL), 0);

    const char *uuids[] = {UUID_B, info.uuid};
    nxl__port_fake_calls_reset(fx.port);
    for (size_t i = 0; i < 2; i++) {
        make_inst(&inst, uuids[i]);
        nxl_diagnostics_init(&d);
        nxl_disk_info_list_init(&dl);
        CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, &err),
                        NXL_E_NOT_FOUND);
        CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), uuids[i]));
        nxl_error_dispose(&err);
        CU_ASSERT_EQUAL(
            nxl_instance_get_diagnostics_json(fx.drv, &inst, &json, NULL),
            NXL_E_NOT_FOUND);
        CU_ASSERT_PTR_NULL(json);
        CU_ASSERT_EQUAL(
            nxl_instance_get_disk_info(fx.drv, &inst, NULL, &dl, NULL),
            NXL_E_NOT_FOUND);
        CU_ASSERT_EQUAL(
            nxl_instance_block_stats(fx.drv, &inst, "xvda", &bs, NULL),
            NXL_E_NOT_FOUND);
        nxl_instance_dispose(&inst);
    }
    /* Without a record the driver does not even ask the hypervisor: the
     * foreign domain is never looked at. */
    {
        char *calls = nxl__port_fake_calls(fx.port);

        CU_ASSERT_PTR_NOT_NULL_FATAL(calls);
        CU_ASSERT_STRING_EQUAL(calls, "");
        free(calls);
    }
    fx_teardown(&fx);
}

static void test_host_wide(void)
{
    fixture fx;
    nxl_instance insts[3];
    nxl_bw_counter_list bw;
    nxl_instance_usage_list ul;
    nxl_port_dominfo info;
    nxl_error err = NXL_ERROR_INIT;
    char ifname[32];
    uint32_t domid, foreign;

    fx_setup(&fx);
    domid = spawn(&fx, UUID_A, "instance-a");
    snprintf(ifname, sizeof(ifname), "vif%u.0", domid);
    sysfs_vif(&fx, ifname, "1000\n", "5000\n");
    CU_ASSERT_EQUAL_FATAL(
        nxl__port_fake_external_create(fx.port, "by-hand", &foreign), 0);
    CU_ASSERT_EQUAL_FATAL(
        fx.port->ops->domain_info(fx.port, foreign, &info, NULL), 0);
    /* The foreign domain's vif has counters too: they must not show. */
    snprintf(ifname, sizeof(ifname), "vif%u.0", foreign);
    sysfs_vif(&fx, ifname, "1\n", "2\n");

    make_inst(&insts[0], UUID_A);
    make_inst(&insts[1], info.uuid);
    make_inst(&insts[2], UUID_B);
    nxl_bw_counter_list_init(&bw);
    if (nxl_host_get_all_bw_counters(fx.drv, insts, 3, &bw, &err))
        fprintf(stderr, "bw: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL_FATAL(bw.n, 1);
    CU_ASSERT_STRING_EQUAL(bw.items[0].uuid, UUID_A);
    CU_ASSERT_STRING_EQUAL(bw.items[0].mac_address, MAC_A);
    CU_ASSERT_EQUAL(bw.items[0].bw_in, 5000);
    CU_ASSERT_EQUAL(bw.items[0].bw_out, 1000);
    nxl_bw_counter_list_dispose(&bw);

    nxl_instance_usage_list_init(&ul);
    CU_ASSERT_EQUAL(nxl_host_get_per_instance_usage(fx.drv, &ul, &err), 0);
    CU_ASSERT_EQUAL_FATAL(ul.n, 1);
    CU_ASSERT_STRING_EQUAL(ul.items[0].uuid, UUID_A);
    CU_ASSERT_EQUAL(ul.items[0].memory_mb, 128);
    CU_ASSERT_EQUAL(ul.items[0].vcpus, 2);
    nxl_instance_usage_list_dispose(&ul);

    /* A second instance, then the first powered off: only running ones. */
    spawn(&fx, UUID_B, "instance-b");
    CU_ASSERT_EQUAL(nxl_instance_power_off(fx.drv, &insts[0], 5, 1, NULL), 0);
    CU_ASSERT_EQUAL(nxl_host_get_per_instance_usage(fx.drv, &ul, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(ul.n, 1);
    CU_ASSERT_STRING_EQUAL(ul.items[0].uuid, UUID_B);
    nxl_instance_usage_list_dispose(&ul);
    CU_ASSERT_EQUAL(nxl_host_get_all_bw_counters(fx.drv, insts, 1, &bw, NULL),
                    0);
    CU_ASSERT_EQUAL(bw.n, 0);
    nxl_bw_counter_list_dispose(&bw);

    /* One list call serves the whole host. */
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(nxl_host_get_per_instance_usage(fx.drv, &ul, NULL), 0);
    {
        char *calls = nxl__port_fake_calls(fx.port);

        CU_ASSERT_PTR_NOT_NULL_FATAL(calls);
        CU_ASSERT_STRING_EQUAL(calls, "list");
        free(calls);
    }
    nxl_instance_usage_list_dispose(&ul);
    nxl__port_fake_fail(fx.port, "list", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(nxl_host_get_per_instance_usage(fx.drv, &ul, NULL),
                    NXL_E_HYPERVISOR);
    for (size_t i = 0; i < 3; i++)
        nxl_instance_dispose(&insts[i]);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
}

/* An HVM guest's NICs: the PV vif and the emulated NIC's tap (name +
 * "-emu") both count, under the names nxl__xl_vif_ifname gives for the
 * request's devname: nova's 14-byte tap5d3a9e0c-7b, too long for its
 * "-emu" twin, is tap5d3a9e0c on the host. */
static void test_hvm_nic_names(void)
{
    fixture fx;
    char doc[2048], pv0[32], pv1[32], emu[48], tun[PATH_MAX];
    nxl_spawn_req req;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance inst;
    nxl_instance_info info;
    nxl_bw_counter_list bw;
    nxl_diagnostics d;

    fx_setup(&fx);
    nxl_instance_info_init(&info);
    snprintf(
        doc, sizeof(doc),
        "{\"instance\": {\"uuid\": \"" UUID_A "\", \"name\": \"hvm-a\","
        " \"memory_mb\": 128, \"vcpus\": 1, \"root_gb\": 0,"
        " \"kernel_id\": \"kernel-1\", \"ramdisk_id\": \"initrd-1\"},"
        " \"image_meta\": {\"id\": \"kernel-1\", \"disk_format\": \"aki\","
        " \"properties\": {\"vm_mode\": \"hvm\"}},"
        " \"network_info\": ["
        "{\"address\": \"" MAC_A "\", \"type\": \"bridge\","
        " \"devname\": \"tap5d3a9e0c-7b\", \"network\": {\"bridge\": "
        "\"xenbr0\"}},"
        "{\"address\": \"fa:16:3e:00:00:0b\", \"type\": \"bridge\","
        " \"devname\": \"tapa1b2c3d4\", \"network\": {\"bridge\": \"xenbr0\"}}"
        "]}");
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(
        nxl__spawn_req_from_json(doc, strlen(doc), &req, &err), 0);
    make_inst(&inst, UUID_A);
    /* Without the tun device the device model could not open the taps:
     * refused with a message, before anything exists. */
    snprintf(tun, sizeof(tun), "%s/no-tun", fx.root);
    nxl__xl_driver_set_tun_path(fx.drv, tun);
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, &err), NXL_E_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "network_info[0]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), tun));
    CU_ASSERT_EQUAL(nxl_instance_get_info(fx.drv, &inst, &info, NULL),
                    NXL_E_NOT_FOUND);
    nxl_error_dispose(&err);
    write_at(fx.root, "tun", "");
    snprintf(tun, sizeof(tun), "%s/tun", fx.root);
    if (nxl_instance_spawn(fx.drv, &req, &err))
        fprintf(stderr, "spawn: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL_FATAL(err.code, NXL_OK);
    CU_ASSERT_EQUAL_FATAL(nxl_instance_get_info(fx.drv, &inst, &info, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(nxl__xl_vif_ifname(req.network_info.vifs[0].devname,
                                             true, (uint32_t)info.domid, 0, pv0,
                                             sizeof(pv0)),
                          0);
    CU_ASSERT_EQUAL_FATAL(nxl__xl_vif_ifname(req.network_info.vifs[1].devname,
                                             true, (uint32_t)info.domid, 1, pv1,
                                             sizeof(pv1)),
                          0);
    CU_ASSERT_STRING_EQUAL(pv0, "tap5d3a9e0c");
    CU_ASSERT_STRING_EQUAL(pv1, "tapa1b2c3d4");
    sysfs_vif(&fx, pv0, "1000\n", "5000\n");
    snprintf(emu, sizeof(emu), "%s-emu", pv0);
    sysfs_vif(&fx, emu, "1\n", "2\n");
    sysfs_vif(&fx, pv1, "300\n", "400\n");
    snprintf(emu, sizeof(emu), "%s-emu", pv1);
    sysfs_vif(&fx, emu, "30\n", "40\n");
    /* The unusable devname itself never counts, should it exist. */
    sysfs_vif(&fx, "tap5d3a9e0c-7b", "900000\n", "900000\n");

    nxl_bw_counter_list_init(&bw);
    CU_ASSERT_EQUAL(nxl_host_get_all_bw_counters(fx.drv, &inst, 1, &bw, &err),
                    0);
    CU_ASSERT_EQUAL_FATAL(bw.n, 2);
    CU_ASSERT_STRING_EQUAL(bw.items[0].mac_address, MAC_A);
    CU_ASSERT_EQUAL(bw.items[0].bw_in, 5002);
    CU_ASSERT_EQUAL(bw.items[0].bw_out, 1001);
    CU_ASSERT_STRING_EQUAL(bw.items[1].mac_address, "fa:16:3e:00:00:0b");
    CU_ASSERT_EQUAL(bw.items[1].bw_in, 440);
    CU_ASSERT_EQUAL(bw.items[1].bw_out, 330);
    nxl_bw_counter_list_dispose(&bw);
    nxl_diagnostics_init(&d);
    CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, &err), 0);
    CU_ASSERT_EQUAL_FATAL(d.n_nic_details, 2);
    CU_ASSERT_EQUAL(d.nic_details[0].rx_octets, 5002);
    CU_ASSERT_EQUAL(d.nic_details[1].tx_octets, 330);
    nxl_diagnostics_dispose(&d);
    nxl_instance_dispose(&inst);
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
}

static void test_volume_usage(void)
{
    fixture fx;
    nxl_instance inst, other;
    nxl_block_device_info bdi;
    nxl_instance_bdms hb[2];
    nxl_volume_usage_list vl;
    nxl_error err = NXL_ERROR_INIT;
    uint32_t domid;

    fx_setup(&fx);
    domid = spawn(&fx, UUID_A, "instance-a");
    sysfs_vbd(&fx, domid, "10\n", "4\n", "80\n", "16\n", "2\n");
    make_inst(&inst, UUID_A);
    make_inst(&other, UUID_B);

    /* The caller says /dev/xvdb is volume vol-1 (and xvdc, not attached,
     * is vol-2). */
    memset(&bdi, 0, sizeof(bdi));
    bdi.mappings = calloc(2, sizeof(*bdi.mappings));
    CU_ASSERT_PTR_NOT_NULL_FATAL(bdi.mappings);
    bdi.n_mappings = 2;
    bdi.mappings[0].mount_device = strdup("/dev/xvdb");
    nxl_kvlist_set(&bdi.mappings[0].connection_info.data, "volume_id", "vol-1");
    bdi.mappings[1].mount_device = strdup("/dev/xvdc");
    nxl_kvlist_set(&bdi.mappings[1].connection_info.data, "volume_id", "vol-2");
    hb[0].instance = &inst;
    hb[0].bdi = &bdi;
    hb[1].instance = &other; /* unknown: skipped */
    hb[1].bdi = &bdi;

    nxl_volume_usage_list_init(&vl);
    if (nxl_host_get_all_volume_usage(fx.drv, hb, 2, &vl, &err))
        fprintf(stderr, "volume usage: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL_FATAL(vl.n, 1);
    CU_ASSERT_STRING_EQUAL(vl.items[0].volume, "vol-1");
    CU_ASSERT_STRING_EQUAL(vl.items[0].instance, UUID_A);
    CU_ASSERT_EQUAL(vl.items[0].rd_req, 10);
    CU_ASSERT_EQUAL(vl.items[0].rd_bytes, 80 * 512);
    CU_ASSERT_EQUAL(vl.items[0].wr_req, 4);
    CU_ASSERT_EQUAL(vl.items[0].wr_bytes, 16 * 512);
    nxl_volume_usage_list_dispose(&vl);

    /* A volume on qdisk (here the caller calls xvda one): QEMU's counters
     * when its monitor answers; left out, not an error, when it does
     * not. */
    free(bdi.mappings[1].mount_device);
    bdi.mappings[1].mount_device = strdup("/dev/xvda");
    {
        fake_qmp f;

        fq_start(&f, &fx, domid, FQ_NORMAL);
        CU_ASSERT_EQUAL(nxl_host_get_all_volume_usage(fx.drv, hb, 1, &vl, NULL),
                        0);
        fq_stop(&f);
        CU_ASSERT_EQUAL_FATAL(vl.n, 2);
        CU_ASSERT_STRING_EQUAL(vl.items[1].volume, "vol-2");
        CU_ASSERT_EQUAL(vl.items[1].rd_req, 7);
        CU_ASSERT_EQUAL(vl.items[1].rd_bytes, 40960);
        CU_ASSERT_EQUAL(vl.items[1].wr_req, 3);
        CU_ASSERT_EQUAL(vl.items[1].wr_bytes, 2048);
        nxl_volume_usage_list_dispose(&vl);
        fq_start(&f, &fx, domid, FQ_GARBAGE);
        CU_ASSERT_EQUAL(nxl_host_get_all_volume_usage(fx.drv, hb, 1, &vl, NULL),
                        0);
        fq_stop(&f);
        CU_ASSERT_EQUAL(vl.n, 1);
        nxl_volume_usage_list_dispose(&vl);
    }
    free(bdi.mappings[1].mount_device);
    bdi.mappings[1].mount_device = strdup("/dev/xvdc");

    /* Volumes are not local disks for get_instance_disk_info: only the
     * root disk file is. And if the caller calls xvda a volume, it is
     * left out too. */
    {
        nxl_disk_info_list dl;

        nxl_disk_info_list_init(&dl);
        CU_ASSERT_EQUAL(
            nxl_instance_get_disk_info(fx.drv, &inst, &bdi, &dl, NULL), 0);
        CU_ASSERT_EQUAL(dl.n, 1);
        nxl_disk_info_list_dispose(&dl);
        free(bdi.mappings[1].mount_device);
        bdi.mappings[1].mount_device = strdup("xvda");
        CU_ASSERT_EQUAL(
            nxl_instance_get_disk_info(fx.drv, &inst, &bdi, &dl, NULL), 0);
        CU_ASSERT_EQUAL(dl.n, 0);
        nxl_disk_info_list_dispose(&dl);
    }
    for (size_t i = 0; i < bdi.n_mappings; i++) {
        free(bdi.mappings[i].mount_device);
        nxl_kvlist_dispose(&bdi.mappings[i].connection_info.data);
    }
    free(bdi.mappings);
    nxl_instance_dispose(&inst);
    nxl_instance_dispose(&other);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
}

static void test_disk_info_and_powered_off(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_disk_info_list dl;
    nxl_diagnostics d;
    nxl_error err = NXL_ERROR_INIT;
    char path[PATH_MAX * 2];
    struct stat sb;

    fx_setup(&fx);
    spawn(&fx, UUID_A, "instance-a");
    make_inst(&inst, UUID_A);
    snprintf(path, sizeof(path), "%s/%s/disk", fx.instances, UUID_A);
    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);

    nxl_disk_info_list_init(&dl);
    if (nxl_instance_get_disk_info(fx.drv, &inst, NULL, &dl, &err))
        fprintf(stderr, "disk_info: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL_FATAL(dl.n, 1);
    CU_ASSERT_STRING_EQUAL(dl.items[0].path, path);
    CU_ASSERT_STRING_EQUAL(dl.items[0].type, "raw");
    CU_ASSERT_EQUAL(dl.items[0].virt_disk_size, (uint64_t)sb.st_size);
    CU_ASSERT_EQUAL(dl.items[0].disk_size, (uint64_t)sb.st_blocks * 512);
    CU_ASSERT_EQUAL(dl.items[0].over_committed_disk_size,
                    (uint64_t)sb.st_size - (uint64_t)sb.st_blocks * 512);
    CU_ASSERT_PTR_NULL(dl.items[0].backing_file);
    nxl_disk_info_list_dispose(&dl);

    /* Powered off: disks from the record, state and memory, no usage. */
    CU_ASSERT_EQUAL(nxl_instance_power_off(fx.drv, &inst, 5, 1, NULL), 0);
    CU_ASSERT_EQUAL(nxl_instance_get_disk_info(fx.drv, &inst, NULL, &dl, NULL),
                    0);
    CU_ASSERT_EQUAL(dl.n, 1);
    nxl_disk_info_list_dispose(&dl);
    nxl_diagnostics_init(&d);
    CU_ASSERT_EQUAL(nxl_instance_get_diagnostics(fx.drv, &inst, &d, NULL), 0);
    CU_ASSERT_STRING_EQUAL(d.state, "shutdown");
    CU_ASSERT_EQUAL(d.n_cpu_details, 0);
    CU_ASSERT_EQUAL(d.memory_details.maximum, 128);
    CU_ASSERT_EQUAL(d.memory_details.used, 0);
    CU_ASSERT_EQUAL(d.n_disk_details, 2);
    CU_ASSERT_EQUAL_FATAL(d.n_nic_details, 1);
    CU_ASSERT_STRING_EQUAL(d.nic_details[0].mac_address, MAC_A);
    CU_ASSERT_EQUAL(d.uptime, 0);
    nxl_diagnostics_dispose(&d);

    /* The disk file gone: nothing to size, nothing reported. */
    CU_ASSERT_EQUAL(unlink(path), 0);
    CU_ASSERT_EQUAL(nxl_instance_get_disk_info(fx.drv, &inst, NULL, &dl, NULL),
                    0);
    CU_ASSERT_EQUAL(dl.n, 0);
    nxl_disk_info_list_dispose(&dl);
    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
}

int main(void)
{
    CU_pSuite s;
    int rc;

    rc = nxl_test_xsd_start(&xsd);
    if (rc != 0) {
        fprintf(stderr, "xenstored: %s\n", xsd.why);
        nxl_test_xsd_stop(&xsd);
        return rc == NXL_TEST_SKIP ? NXL_TEST_SKIP : 1;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("diag_fake", NULL, NULL);
    if (!s || !CU_add_test(s, "vdev devid", test_vdev_devid) ||
        !CU_add_test(s, "instance diagnostics", test_instance_diagnostics) ||
        !CU_add_test(s, "legacy diagnostics", test_legacy_diagnostics) ||
        !CU_add_test(s, "block_stats", test_block_stats) ||
        !CU_add_test(s, "block_stats qdisk", test_block_stats_qdisk) ||
        !CU_add_test(s, "diagnostics qdisk", test_diagnostics_qdisk) ||
        !CU_add_test(s, "QMP reply parser", test_qmp_parser) ||
        !CU_add_test(s, "not found and foreign", test_not_found_and_foreign) ||
        !CU_add_test(s, "host-wide usage", test_host_wide) ||
        !CU_add_test(s, "HVM NIC names", test_hvm_nic_names) ||
        !CU_add_test(s, "volume usage", test_volume_usage) ||
        !CU_add_test(s, "disk info, powered off",
                     test_disk_info_and_powered_off)) {
        CU_cleanup_registry();
        return 1;
    }
    rc = nxl_test_run(NULL);
    nxl_test_xsd_stop(&xsd);
    return rc;
}

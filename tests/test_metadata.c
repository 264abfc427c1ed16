/* Tests of instance metadata in xenstore (xl_driver/xl_metadata.c), the
 * guest agent protocol (xl_driver/xl_agent.c), the SPICE, serial and
 * console-pool members (xl_driver/xl_console.c) and
 * estimate_instance_overhead (xl_driver/xl_host.c).
 *
 * The driver runs on the fake hypervisor port; xenstore is a private, real
 * xenstored (tests/xsd), and the tests act as the guest domain through the
 * harness, so permissions are xenstored's own verdicts: a guest reads its
 * metadata and is refused when it writes it; a guest agent (a thread
 * speaking the ring protocol as domain 1) answers requests, or answers
 * garbage, or does not answer at all.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/driver.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_agent.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_console.h"
#include "xl_driver/xl_host.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_metadata.h"
#include "xl_driver/xl_port.h"

#define UUID1 "00000000-0000-4000-8000-000000000001"
#define UUID2 "00000000-0000-4000-8000-000000000002"
#define MD "vm-data/user-metadata"

static nxl_test_xsd xsd;
static char skip_why[512];

/* ---- fixture ------------------------------------------------------------- */

typedef struct fixture {
    char root[PATH_MAX];
    char instances[PATH_MAX + 16];
    char images[PATH_MAX + 16];
    char logs[PATH_MAX + 16];
    nxl_port *port;
    nxl_driver *drv;
    nxl_xs *xs; /* dom0's view */
} fixture;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX * 2];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* What libxl makes for a new domain: /local/domain/<domid> owned by dom0
 * and readable by the guest, and data/ owned by the guest. */
static void make_home(nxl_xs *xs, unsigned domid)
{
    char p[64];
    nxl_xs_perms perms;

    snprintf(p, sizeof(p), "/local/domain/%u", domid);
    CU_ASSERT_EQUAL_FATAL(nxl_xs_mkdir(xs, XBT_NULL, p, NULL), 0);
    nxl_xs_perms_init(&perms);
    perms.owner = 0;
    perms.others = NXL_XS_ACCESS_NONE;
    CU_ASSERT_EQUAL_FATAL(
        nxl_xs_perms_add(&perms, domid, NXL_XS_ACCESS_READ, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(nxl_xs_set_perms(xs, XBT_NULL, p, &perms, NULL), 0);
    nxl_xs_perms_dispose(&perms);
    snprintf(p, sizeof(p), "/local/domain/%u/data", domid);
    CU_ASSERT_EQUAL_FATAL(nxl_xs_mkdir(xs, XBT_NULL, p, NULL), 0);
    nxl_xs_perms_init(&perms);
    perms.owner = domid;
    perms.others = NXL_XS_ACCESS_NONE;
    CU_ASSERT_EQUAL_FATAL(nxl_xs_set_perms(xs, XBT_NULL, p, &perms, NULL), 0);
    nxl_xs_perms_dispose(&perms);
}

/* The driver on fx's directories and fake hypervisor; range: the serial
 * port range (NULL: the default). */
static void fx_open(fixture *fx, const char *range)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;

    cfg.host = "compute-1";
    cfg.instances_dir = fx->instances;
    cfg.image_cache_dir = fx->images;
    cfg.console_log_dir = fx->logs;
    cfg.serial_port_range = range;
    CU_ASSERT_EQUAL_FATAL(nxl_driver_open("libxl", &cfg, &fx->drv, &err), 0);
    CU_ASSERT_EQUAL_FATAL(
        nxl__xl_driver_use_port(fx->drv, fx->port, true, &err), 0);
    nxl__xl_driver_set_event_poll(fx->drv, 0);
    CU_ASSERT_EQUAL_FATAL(nxl_host_init(fx->drv, "compute-1", &err), 0);
    nxl_error_dispose(&err);
}

static void fx_setup_range(fixture *fx, const char *range)
{
    nxl_error err = NXL_ERROR_INIT;

    memset(fx, 0, sizeof(*fx));
    CU_ASSERT_EQUAL_FATAL(
        nxl_test_mkdtemp(fx->root, sizeof(fx->root), "nxl-md"), 0);
    snprintf(fx->instances, sizeof(fx->instances), "%s/instances", fx->root);
    snprintf(fx->images, sizeof(fx->images), "%s/images", fx->root);
    snprintf(fx->logs, sizeof(fx->logs), "%s/console", fx->root);
    CU_ASSERT_EQUAL_FATAL(mkdir(fx->images, 0700), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(fx->logs, 0700), 0);
    write_file(fx->images, "kernel-1", "not really a kernel\n");
    write_file(fx->images, "initrd-1", "not really an initrd\n");
    CU_ASSERT_EQUAL_FATAL(nxl__port_fake_new(&fx->port), 0);
    fx_open(fx, range);
    CU_ASSERT_EQUAL_FATAL(nxl_xs_open(&fx->xs, &err), 0);
    nxl_error_dispose(&err);
    /* The fake numbers domains from 1. */
    for (unsigned d = 1; d <= 4; d++)
        make_home(fx->xs, d);
}

static void fx_setup(fixture *fx)
{
    fx_setup_range(fx, NULL);
}

static void fx_teardown(fixture *fx)
{
    for (unsigned d = 1; d <= 4; d++) {
        char p[64];

        snprintf(p, sizeof(p), "/local/domain/%u", d);
        nxl_xs_rm(fx->xs, XBT_NULL, p, NULL);
    }
    nxl_xs_close(fx->xs);
    nxl_driver_close(fx->drv);
    nxl__port_free(fx->port);
    nxl_test_rm_tree(fx->root);
}

/* Spawns the request doc (JSON). */
static int spawn_doc(fixture *fx, const char *doc, nxl_error *err)
{
    nxl_spawn_req req;
    int rc;

    nxl_spawn_req_init(&req);
    rc = nxl__spawn_req_from_json(doc, strlen(doc), &req, err);
    if (rc == 0)
        rc = nxl_instance_spawn(fx->drv, &req, err);
    nxl_spawn_req_dispose(&req);
    return rc;
}

/* Spawns uuid as "inst-<n>" with the given metadata (a JSON object). */
static int spawn(fixture *fx, const char *uuid, const char *name,
                 const char *metadata, nxl_error *err)
{
    char doc[4096];

    snprintf(doc, sizeof(doc),
             "{\"instance\": {\"uuid\": \"%s\", \"name\": \"%s\","
             " \"memory_mb\": 128, \"vcpus\": 1, \"root_gb\": 0,"
             " \"kernel_id\": \"kernel-1\", \"ramdisk_id\": \"initrd-1\","
             " \"metadata\": %s},"
             " \"image_meta\": {\"id\": \"kernel-1\", \"disk_format\": \"aki\","
             " \"properties\": {\"vm_mode\": \"xen\"}},"
             " \"network_info\": []}",
             uuid, name, metadata);
    return spawn_doc(fx, doc, err);
}

static void make_inst(nxl_instance *inst, const char *uuid, const char *name)
{
    nxl_instance_init(inst);
    snprintf(inst->uuid, sizeof(inst->uuid), "%s", uuid);
    inst->name = strdup(name);
}

/* dom0's read of /local/domain/<domid>/<rel>; NULL when absent. */
static char *xs_get(fixture *fx, unsigned domid, const char *rel)
{
    char p[256];
    char *v = NULL;

    snprintf(p, sizeof(p), "/local/domain/%u/%s", domid, rel);
    if (nxl_xs_read(fx->xs, XBT_NULL, p, &v, NULL, NULL) < 0)
        return NULL;
    return v;
}

static void check_node(fixture *fx, unsigned domid, const char *rel,
                       const char *want)
{
    char *v = xs_get(fx, domid, rel);

    if (want) {
        CU_ASSERT_PTR_NOT_NULL(v);
        CU_ASSERT_STRING_EQUAL(v ? v : "(none)", want);
    } else {
        CU_ASSERT_PTR_NULL(v);
    }
    free(v);
}

static size_t n_children(fixture *fx, const char *path)
{
    nxl_strv names;
    size_t n;

    nxl_strv_init(&names);
    if (nxl_xs_directory(fx->xs, XBT_NULL, path, &names, NULL) < 0)
        return (size_t)-1;
    n = names.n;
    nxl_strv_dispose(&names);
    return n;
}

/* What metadata.json says key is (NULL: absent or no file). */
static char *file_get(fixture *fx, const char *uuid, const char *key)
{
    nxl_xl_state *st = fx->drv->priv;
    nxl_kvlist kv;
    const char *v;
    char *copy = NULL;

    nxl_kvlist_init(&kv);
    if (nxl__xl_metadata_load(st, uuid, &kv, NULL) == 0 &&
        (v = nxl_kvlist_get(&kv, key)))
        copy = strdup(v);
    nxl_kvlist_dispose(&kv);
    return copy;
}

static int guest_req(nxl_test_xsd_guest *g, uint32_t type, const char *path,
                     const char *value, char **reply_r)
{
    char buf[4096];
    size_t len = strlen(path) + 1;
    uint32_t rtype = 0;
    char *reply = NULL;
    size_t rlen = 0;

    memcpy(buf, path, len);
    if (value) {
        memcpy(buf + len, value, strlen(value));
        len += strlen(value);
    }
    if (nxl_test_xsd_guest_request(g, type, buf, len, &rtype, &reply, &rlen))
        return -1;
    if (rtype == XS_ERROR) {
        free(reply);
        return -2;
    }
    if (reply_r)
        *reply_r = reply;
    else
        free(reply);
    return 0;
}

/* ---- metadata ---------------------------------------------------------------
 */

static void test_spawn_publishes_with_perms(void)
{
    fixture fx;
    nxl_test_xsd_guest g, other;
    nxl_xs_perms perms;
    char *v = NULL;

    fx_setup(&fx);
    /* "bad.key" is fine for nova but no xenstore key: left out. */
    CHECK_OK(spawn(&fx, UUID1, "inst-1",
                   "{\"role\": \"web\", \"bad.key\": \"x\"}", &e_));
    check_node(&fx, 1, MD "/role", "web");
    CU_ASSERT_EQUAL(n_children(&fx, "/local/domain/1/" MD), 1);

    nxl_xs_perms_init(&perms);
    CU_ASSERT_EQUAL(nxl_xs_get_perms(fx.xs, XBT_NULL,
                                     "/local/domain/1/" MD "/role", &perms,
                                     NULL),
                    0);
    CU_ASSERT_EQUAL(perms.owner, 0);
    CU_ASSERT_EQUAL(perms.others, NXL_XS_ACCESS_NONE);
    CU_ASSERT_EQUAL(perms.n, 1);
    if (perms.n == 1) {
        CU_ASSERT_EQUAL(perms.entries[0].domid, 1);
        CU_ASSERT_EQUAL(perms.entries[0].access, NXL_XS_ACCESS_READ);
    }
    nxl_xs_perms_dispose(&perms);

    /* xenstored's verdicts, asked as the guest. */
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 1, &g) == 0);
    CU_ASSERT_EQUAL(
        guest_req(&g, XS_READ, "/local/domain/1/" MD "/role", NULL, &v), 0);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "web");
    free(v);
    CU_ASSERT_EQUAL(
        guest_req(&g, XS_WRITE, "/local/domain/1/" MD "/role", "evil", NULL),
        -2);
    CU_ASSERT_EQUAL(
        guest_req(&g, XS_WRITE, "/local/domain/1/" MD "/new", "evil", NULL),
        -2);
    CU_ASSERT_EQUAL(guest_req(&g, XS_RM, "/local/domain/1/" MD, NULL, NULL),
                    -2);
    CU_ASSERT_EQUAL(
        guest_req(&g, XS_WRITE, "/local/domain/1/vm-data/x", "evil", NULL), -2);
    check_node(&fx, 1, MD "/role", "web");
    /* Another guest cannot even read it. */
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 3, &other) == 0);
    CU_ASSERT_EQUAL(
        guest_req(&other, XS_READ, "/local/domain/1/" MD "/role", NULL, NULL),
        -2);
    nxl_test_xsd_guest_close(&other);
    nxl_test_xsd_guest_close(&g);
    fx_teardown(&fx);
}

static void test_diff_applied(void)
{
    fixture fx;
    nxl_instance inst;
    char *v;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{\"role\": \"web\", \"tier\": \"1\"}",
                   &e_));
    make_inst(&inst, UUID1, "inst-1");
    CHECK_OK(nxl_instance_change_metadata(
        fx.drv, &inst,
        "{\"a\": [\"+\", \"1\"], \"role\": [\"-\"], \"nope\": [\"-\"],"
        " \"tier\": [\"+\", \"2\"]}",
        &e_));
    check_node(&fx, 1, MD "/a", "1");
    check_node(&fx, 1, MD "/tier", "2");
    check_node(&fx, 1, MD "/role", NULL);
    CU_ASSERT_EQUAL(n_children(&fx, "/local/domain/1/" MD), 2);
    /* The authoritative copy agrees. */
    v = file_get(&fx, UUID1, "a");
    CU_ASSERT_STRING_EQUAL(v ? v : "(none)", "1");
    free(v);
    v = file_get(&fx, UUID1, "role");
    CU_ASSERT_PTR_NULL(v);
    free(v);
    /* UTF-8 values go through unchanged. */
    CHECK_OK(nxl_instance_change_metadata(
        fx.drv, &inst, "{\"a\": [\"+\", \"gr\\u00fc\\u00df\"]}", &e_));
    check_node(&fx, 1, MD "/a", "gr\xc3\xbc\xc3\x9f");
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

static void test_bad_diff_writes_nothing(void)
{
    fixture fx;
    nxl_instance inst;
    char big[1100], doc[1400], key[80], *many;
    size_t off = 0;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{\"role\": \"web\"}", &e_));
    make_inst(&inst, UUID1, "inst-1");
#define BAD(diff, what)                                                        \
    CHECK_FAIL(nxl_instance_change_metadata(fx.drv, &inst, (diff), &e_),       \
               NXL_E_INVAL, (what))
    /* A good key next to a bad one: neither is written. */
    BAD("{\"ok\": [\"+\", \"1\"], \"a/b\": [\"+\", \"2\"]}", "a/b");
    BAD("{\"ok\": [\"+\", \"1\"], \"a.b\": [\"+\", \"2\"]}", "a.b");
    BAD("{\"ok\": [\"+\", \"1\"], \"..\": [\"-\"]}",
        "cannot be a xenstore key");
    BAD("{\"ok\": [\"+\", \"1\"], \"\": [\"-\"]}", "cannot be a xenstore key");
    memset(key, 'k', 65);
    key[65] = '\0';
    snprintf(doc, sizeof(doc), "{\"ok\": [\"+\", \"1\"], \"%s\": [\"-\"]}",
             key);
    BAD(doc, "cannot be a xenstore key");
    memset(big, 'v', 1021);
    big[1021] = '\0';
    snprintf(doc, sizeof(doc),
             "{\"ok\": [\"+\", \"1\"], \"b\": [\"+\", \"%s\"]}", big);
    BAD(doc, "at most 1020");
    BAD("{\"ok\": [\"+\", \"1\"], \"b\": [\"*\", \"2\"]}", "neither");
    BAD("{\"ok\": [\"+\", \"1\"], \"b\": [\"+\"]}", "neither");
    BAD("{\"ok\": [\"+\", \"1\"], \"b\": [\"+\", 3]}", "neither");
    BAD("{\"ok\": [\"+\", \"1\"], \"b\": \"+\"}", "neither");
    BAD("[\"ok\"]", "not an object");
    BAD("{\"ok\": [\"+\", \"1\"", "");
    /* 129 keys in all. */
    many = malloc(129 * 32 + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(many);
    off += (size_t)sprintf(many, "{");
    for (int i = 0; i < 128; i++)
        off += (size_t)sprintf(many + off, "%s\"k%d\": [\"+\", \"v\"]",
                               i ? ", " : "", i);
    sprintf(many + off, "}");
    BAD(many, "at most 128");
    free(many);
#undef BAD
    check_node(&fx, 1, MD "/role", "web");
    check_node(&fx, 1, MD "/ok", NULL);
    CU_ASSERT_EQUAL(n_children(&fx, "/local/domain/1/" MD), 1);
    {
        char *v = file_get(&fx, UUID1, "ok");

        CU_ASSERT_PTR_NULL(v);
        free(v);
    }
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

static void test_unknown_instance(void)
{
    fixture fx;
    nxl_instance inst;

    fx_setup(&fx);
    make_inst(&inst, UUID2, "inst-2");
    CHECK_FAIL(nxl_instance_change_metadata(fx.drv, &inst,
                                            "{\"a\": [\"+\", \"1\"]}", &e_),
               NXL_E_NOT_FOUND, "no instance");
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* Whatever else is in user-metadata (left by anyone) goes; a vm-data the
 * guest took over is taken back. */
static void test_foreign_nodes_replaced(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_xs_perms perms;
    nxl_test_xsd_guest g;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    make_inst(&inst, UUID1, "inst-1");
    CU_ASSERT_EQUAL(nxl_xs_write_str(fx.xs, XBT_NULL,
                                     "/local/domain/1/" MD "/junk", "x", NULL),
                    0);
    nxl_xs_perms_init(&perms);
    perms.owner = 1;
    CU_ASSERT_EQUAL(nxl_xs_set_perms(fx.xs, XBT_NULL, "/local/domain/1/vm-data",
                                     &perms, NULL),
                    0);
    nxl_xs_perms_dispose(&perms);
    CHECK_OK(nxl_instance_change_metadata(fx.drv, &inst,
                                          "{\"a\": [\"+\", \"1\"]}", &e_));
    check_node(&fx, 1, MD "/junk", NULL);
    check_node(&fx, 1, MD "/a", "1");
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 1, &g) == 0);
    CU_ASSERT_EQUAL(
        guest_req(&g, XS_WRITE, "/local/domain/1/vm-data/x", "e", NULL), -2);
    nxl_test_xsd_guest_close(&g);
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* A change while the instance is off lands in the file only; starting it
 * publishes the file to its new domain. */
static void test_republished_on_start(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_instance_info info;
    char *v;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{\"role\": \"web\"}", &e_));
    make_inst(&inst, UUID1, "inst-1");
    CHECK_OK(nxl_instance_power_off(fx.drv, &inst, 5, 1, &e_));
    CHECK_OK(nxl_instance_change_metadata(
        fx.drv, &inst, "{\"role\": [\"+\", \"db\"], \"x\": [\"+\", \"y\"]}",
        &e_));
    v = file_get(&fx, UUID1, "role");
    CU_ASSERT_STRING_EQUAL(v ? v : "(none)", "db");
    free(v);
    CHECK_OK(nxl_instance_power_on(fx.drv, &inst, NULL, NULL, &e_));
    nxl_instance_info_init(&info);
    CHECK_OK(nxl_instance_get_info(fx.drv, &inst, &info, &e_));
    /* The fake gave the new domain the next domid. */
    check_node(&fx, 2, MD "/role", "db");
    check_node(&fx, 2, MD "/x", "y");
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* The driver's copy goes with the instance's files: after destroy (files
 * kept) and delete_instance_files, a new spawn of the UUID publishes its
 * request's metadata and nothing of the old. */
static void test_respawn_ignores_leftover(void)
{
    fixture fx;
    nxl_instance inst;
    bool deleted = false;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{\"role\": \"web\"}", &e_));
    make_inst(&inst, UUID1, "inst-1");
    CHECK_OK(nxl_instance_change_metadata(fx.drv, &inst,
                                          "{\"x\": [\"+\", \"1\"]}", &e_));
    CHECK_OK(nxl_instance_destroy(fx.drv, &inst, NULL, NULL, false, NULL, &e_));
    {
        char *v = file_get(&fx, UUID1, "x");

        CU_ASSERT_STRING_EQUAL(v ? v : "(none)", "1");
        free(v);
    }
    CHECK_OK(nxl_instance_delete_files(fx.drv, &inst, &deleted, &e_));
    CU_ASSERT_TRUE(deleted);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{\"role\": \"new\"}", &e_));
    check_node(&fx, 2, MD "/role", "new");
    check_node(&fx, 2, MD "/x", NULL);
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

typedef struct racer {
    fixture *fx;
    char prefix;
    int failures;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    nxl_instance inst;
    char diff[64];

    make_inst(&inst, UUID1, "inst-1");
    for (int i = 0; i < 15; i++) {
        snprintf(diff, sizeof(diff), "{\"%c%d\": [\"+\", \"%d\"]}", r->prefix,
                 i, i);
        if (nxl_instance_change_metadata(r->fx->drv, &inst, diff, NULL) != 0)
            r->failures++;
    }
    nxl_instance_dispose(&inst);
    return NULL;
}

/* Two writers at once: each read-modify-write is serialised, so no change
 * is lost in the file or in xenstore. */
static void test_concurrent_changes(void)
{
    fixture fx;
    pthread_t a, b;
    racer ra, rb;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    ra = (racer){.fx = &fx, .prefix = 'a'};
    rb = (racer){.fx = &fx, .prefix = 'b'};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&a, NULL, race, &ra), 0);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&b, NULL, race, &rb), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CU_ASSERT_EQUAL(ra.failures + rb.failures, 0);
    CU_ASSERT_EQUAL(n_children(&fx, "/local/domain/1/" MD), 30);
    check_node(&fx, 1, MD "/a14", "14");
    check_node(&fx, 1, MD "/b0", "0");
    {
        nxl_kvlist kv;

        nxl_kvlist_init(&kv);
        CU_ASSERT_EQUAL(nxl__xl_metadata_load(fx.drv->priv, UUID1, &kv, NULL),
                        0);
        CU_ASSERT_EQUAL(kv.n, 30);
        nxl_kvlist_dispose(&kv);
    }
    fx_teardown(&fx);
}

/* ---- the guest agent ------------------------------------------------------
 */

typedef enum agent_mode {
    AGENT_OK,
    AGENT_REFUSE,
    AGENT_OVERSIZE,
    AGENT_GARBAGE,
    AGENT_BAD_CODE,
    AGENT_LATE_JUNK, /* writes invalid JSON, then a valid answer */
} agent_mode;

typedef struct agent {
    nxl_test_xsd_guest g;
    agent_mode mode;
    _Atomic int stop;
    int answered;
    int write_refused; /* it tried to overwrite the request and failed */
    char seen[4096];
} agent;

static void *agent_main(void *arg)
{
    agent *a = arg;
    const char *dir = "/local/domain/1/data/host";

    while (!a->stop && !a->answered) {
        char *names = NULL, *req = NULL;
        char path[256], resp[4096];

        if (guest_req(&a->g, XS_DIRECTORY, dir, NULL, &names) == 0 && names &&
            names[0]) {
            snprintf(path, sizeof(path), "%s/%s", dir, names);
            if (guest_req(&a->g, XS_READ, path, NULL, &req) == 0) {
                snprintf(a->seen, sizeof(a->seen), "%s", req);
                free(req);
                a->write_refused =
                    guest_req(&a->g, XS_WRITE, path, "forged", NULL) == -2;
                snprintf(path, sizeof(path), "/local/domain/1/data/guest/%s",
                         names);
                switch (a->mode) {
                case AGENT_OK:
                    snprintf(resp, sizeof(resp),
                             "{\"returncode\": \"0\", \"message\": \"done\"}");
                    break;
                case AGENT_REFUSE:
                    snprintf(resp, sizeof(resp),
                             "{\"returncode\": \"23\", \"message\": "
                             "\"no \\\"chpasswd\\\"\\n\"}");
                    break;
                case AGENT_OVERSIZE:
                    /* Over our 1024-byte cap, under xenstored's own
                     * 2048-byte limit on a guest's node. */
                    memset(resp, ' ', 1500);
                    snprintf(resp + 1500, sizeof(resp) - 1500,
                             "{\"returncode\": \"0\"}");
                    break;
                case AGENT_GARBAGE:
                    snprintf(resp, sizeof(resp), "\x01not json at all");
                    break;
                case AGENT_BAD_CODE:
                    snprintf(resp, sizeof(resp),
                             "{\"returncode\": [0], \"message\": \"ok\"}");
                    break;
                case AGENT_LATE_JUNK:
                    snprintf(resp, sizeof(resp), "{\"returncode\": ");
                    break;
                }
                guest_req(&a->g, XS_WRITE, path, resp, NULL);
                a->answered = 1;
            }
        }
        free(names);
        usleep(5000);
    }
    return NULL;
}

static size_t n_children_or_zero(fixture *fx, const char *path)
{
    size_t n = n_children(fx, path);

    return n == (size_t)-1 ? 0 : n;
}

typedef struct agent_fx {
    fixture fx;
    nxl_instance inst;
    agent a;
    pthread_t t;
    bool running;
} agent_fx;

static void afx_setup(agent_fx *f, bool with_agent, agent_mode mode)
{
    memset(f, 0, sizeof(*f));
    fx_setup(&f->fx);
    CHECK_OK(spawn(&f->fx, UUID1, "inst-1", "{}", &e_));
    make_inst(&f->inst, UUID1, "inst-1");
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 1, &f->a.g) == 0);
    f->a.mode = mode;
    if (with_agent) {
        CU_ASSERT_EQUAL_FATAL(pthread_create(&f->t, NULL, agent_main, &f->a),
                              0);
        f->running = true;
    }
    nxl__xl_agent_timeout_ms = 5000;
}

/* The agent's seen and write_refused are read only after its thread is
 * gone: the driver's answer reached us through xenstored, which orders
 * nothing between the two threads' memory. */
static void agent_join(agent_fx *f)
{
    f->a.stop = 1;
    if (f->running)
        pthread_join(f->t, NULL);
    f->running = false;
}

static void afx_teardown(agent_fx *f)
{
    agent_join(f);
    /* Nothing of the exchange is left behind. */
    CU_ASSERT_EQUAL(n_children_or_zero(&f->fx, "/local/domain/1/data/host"), 0);
    CU_ASSERT_EQUAL(n_children_or_zero(&f->fx, "/local/domain/1/data/guest"),
                    0);
    nxl_test_xsd_guest_close(&f->a.g);
    nxl_instance_dispose(&f->inst);
    fx_teardown(&f->fx);
    nxl__xl_agent_timeout_ms = NXL_XL_AGENT_TIMEOUT_MS;
}

static void test_agent_password(void)
{
    agent_fx f;

    afx_setup(&f, true, AGENT_OK);
    CHECK_OK(
        nxl_instance_set_admin_password(f.fx.drv, &f.inst, "hunter2", &e_));
    agent_join(&f);
    CU_ASSERT_TRUE(nxl_test_has(f.a.seen, "\"name\":\"password\""));
    CU_ASSERT_TRUE(nxl_test_has(f.a.seen, "\"value\":\"hunter2\""));
    /* The guest may read its request but not change it. */
    CU_ASSERT_TRUE(f.a.write_refused);
    CHECK_FAIL(nxl_instance_set_admin_password(f.fx.drv, &f.inst, "", &e_),
               NXL_E_INVAL, "1 to 255 bytes");
    afx_teardown(&f);
}

static void run_agent_call(agent_mode mode, int which, int want,
                           const char *what, const char *seen_want)
{
    agent_fx f;
    nxl_network_info ni;
    const char *nidoc =
        "[{\"id\": \"5d3a9e0c-7b21-4f6e-9a84-2c1d0e7f3b00\", \"address\": "
        "\"fa:16:3e:4a:7c:01\","
        " \"type\": \"bridge\", \"network\": {\"id\": "
        "\"c1a2b3d4-e5f6-4789-8abc-def012345600\", \"label\":"
        " \"net0\", \"bridge\": \"xenbr0\", \"mtu\": 1500, \"subnets\":"
        " [{\"cidr\": \"10.42.0.0/24\", \"gateway\": {\"address\":"
        " \"10.42.0.1\"}, \"dns\": [{\"address\": \"192.0.2.53\"}], \"ips\":"
        " [{\"address\": \"10.42.0.10\", \"type\": \"fixed\", \"version\":"
        " 4}]}]}}]";
    nxl_error e = NXL_ERROR_INIT;
    int rc = 0;

    /* Parsed before the agent starts: a fatal assert must not leave a
     * thread talking as the guest. */
    nxl_network_info_init(&ni);
    if (which == 2) {
        rc = nxl__network_info_from_json(nidoc, strlen(nidoc), &ni, &e);
        if (rc)
            fprintf(stderr, "  network_info: %s\n", nxl_error_message(&e));
        CU_ASSERT_EQUAL_FATAL(rc, 0);
    }
    afx_setup(&f, true, mode);
    switch (which) {
    case 0:
        rc = nxl_instance_set_admin_password(f.fx.drv, &f.inst, "pw", &e);
        break;
    case 1:
        rc = nxl_instance_inject_file(f.fx.drv, &f.inst, "L2V0Yy9tb3Rk",
                                      "aGVsbG8=", &e);
        break;
    case 2:
        rc = nxl_instance_inject_network_info(f.fx.drv, &f.inst, &ni, &e);
        break;
    case 3:
        rc = nxl_instance_reset_network(f.fx.drv, &f.inst, &e);
        break;
    }
    CU_ASSERT_EQUAL(rc, want);
    CU_ASSERT_TRUE(what[0] == '\0' ||
                   nxl_test_has(nxl_error_message(&e), what));
    if (rc != want || (what[0] && !nxl_test_has(nxl_error_message(&e), what)))
        fprintf(stderr, "  mode %d call %d: rc %d '%s', wanted %d '%s'\n", mode,
                which, rc, nxl_error_message(&e), want, what);
    agent_join(&f);
    if (seen_want) {
        CU_ASSERT_TRUE(nxl_test_has(f.a.seen, seen_want));
        if (!nxl_test_has(f.a.seen, seen_want))
            fprintf(stderr, "  agent saw '%s', wanted '%s'\n", f.a.seen,
                    seen_want);
    }
    nxl_error_dispose(&e);
    nxl_network_info_dispose(&ni);
    afx_teardown(&f);
}

static void test_agent_methods(void)
{
    run_agent_call(AGENT_OK, 1, 0, "",
                   "{\"name\":\"inject_file\",\"value\":{\"b64_path\":"
                   "\"L2V0Yy9tb3Rk\",\"b64_contents\":\"aGVsbG8=\"}}");
    run_agent_call(AGENT_OK, 2, 0, "", "\"mac\":\"fa:16:3e:4a:7c:01\"");
    run_agent_call(AGENT_OK, 2, 0, "", "\"address\":\"10.42.0.10\"");
    run_agent_call(AGENT_OK, 2, 0, "", "\"dns\":[\"192.0.2.53\"]");
    run_agent_call(AGENT_OK, 3, 0, "", "{\"name\":\"resetnetwork\"");
}

static void test_agent_refuses(void)
{
    /* The guest's message is quoted, control characters escaped. */
    run_agent_call(AGENT_REFUSE, 0, NXL_E_FAILED,
                   "refused (returncode 23): 'no \"chpasswd\"\\x0a'", NULL);
    run_agent_call(AGENT_REFUSE, 3, NXL_E_FAILED, "returncode 23", NULL);
}

static void test_agent_hostile(void)
{
    run_agent_call(AGENT_OVERSIZE, 0, NXL_E_FAILED, "invalid response", NULL);
    run_agent_call(AGENT_GARBAGE, 0, NXL_E_FAILED, "not a JSON object", NULL);
    run_agent_call(AGENT_BAD_CODE, 3, NXL_E_FAILED, "no valid returncode",
                   NULL);
    run_agent_call(AGENT_LATE_JUNK, 3, NXL_E_FAILED, "not a JSON object", NULL);
}

static void test_agent_timeout(void)
{
    agent_fx f;
    struct timespec t0, t1;
    long ms;

    afx_setup(&f, false, AGENT_OK);
    nxl__xl_agent_timeout_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_FAIL(nxl_instance_reset_network(f.fx.drv, &f.inst, &e_),
               NXL_E_TIMEOUT, "no guest agent answered within 0.300 s");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CU_ASSERT_TRUE(ms >= 300 && ms < 5000);
    nxl__xl_agent_timeout_ms = 1000;
    CHECK_FAIL(nxl_instance_set_admin_password(f.fx.drv, &f.inst, "pw", &e_),
               NXL_E_TIMEOUT, "within 1 s");
    afx_teardown(&f);
}

static void test_agent_bad_input(void)
{
    agent_fx f;
    char *big;

    afx_setup(&f, false, AGENT_OK);
    CHECK_FAIL(
        nxl_instance_inject_file(f.fx.drv, &f.inst, "not base64!", "aGk=", &e_),
        NXL_E_INVAL, "b64_path is not base64");
    CHECK_FAIL(nxl_instance_inject_file(f.fx.drv, &f.inst, "L2E=", "aGk", &e_),
               NXL_E_INVAL, "b64_contents is not base64");
    big = malloc(5001);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'A', 5000);
    big[5000] = '\0';
    CHECK_FAIL(nxl_instance_inject_file(f.fx.drv, &f.inst, "L2E=", big, &e_),
               NXL_E_INVAL, "one xenstore node");
    free(big);
    afx_teardown(&f);
}

/* The domain is gone from the hypervisor: not found, nothing written. */
static void test_agent_no_domain(void)
{
    fixture fx;
    nxl_instance inst;

    fx_setup(&fx);
    make_inst(&inst, UUID2, "inst-2");
    CHECK_FAIL(nxl_instance_reset_network(fx.drv, &inst, &e_), NXL_E_NOT_FOUND,
               "inst-2");
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* ---- consoles
 * ----------------------------------------------------------------- */

/* ---- serial consoles bridged to TCP ------------------------------------ */

/* A pty pair standing in for xenconsoled's: the master is the daemon's
 * end (what the guest writes comes out of it), the slave's path is what
 * the domain's console/tty says. */
typedef struct fake_pty {
    int master;
    char slave[64];
} fake_pty;

static void pty_open(fake_pty *p)
{
    p->master = nxl_test_pty(p->slave, sizeof(p->slave));
    CU_ASSERT_FATAL(p->master >= 0);
}

static void set_tty(fixture *fx, unsigned domid, const char *tty)
{
    char p[64];

    snprintf(p, sizeof(p), "/local/domain/%u/console/tty", domid);
    CU_ASSERT_EQUAL(nxl_xs_write_str(fx->xs, XBT_NULL, p, tty, NULL), 0);
}

/* Guest output reaches the TCP client, the client's keys reach the
 * guest, and the end is raw (no echo back into the guest). */
static void check_relay(int master, int port, const char *tag)
{
    char out[64], in[64];
    int c = nxl_test_tcp_connect(port);

    CU_ASSERT_FATAL(c >= 0);
    snprintf(out, sizeof(out), "guest says %s\r\n", tag);
    snprintf(in, sizeof(in), "typed %s\r", tag);
    /* The bridge opens the pty once the client is in: give it a moment
     * to, or the first bytes land before anyone reads them (which is
     * fine, they queue in the pty, but the test then proves less). */
    usleep(100000);
    CU_ASSERT(write(master, out, strlen(out)) == (ssize_t)strlen(out));
    CU_ASSERT(nxl_test_read_until(c, tag, 5));
    CU_ASSERT(send(c, in, strlen(in), 0) == (ssize_t)strlen(in));
    CU_ASSERT(nxl_test_read_until(master, in, 5));
    close(c);
}

static void test_serial_console(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_console c;
    fake_pty pty;
    char path[PATH_MAX * 2], *data = NULL;
    size_t len = 0;
    int port, c1, c2;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    make_inst(&inst, UUID1, "inst-1");
    nxl_console_init(&c);
    CHECK_FAIL(nxl_instance_get_serial_console(fx.drv, &inst, &c, &e_),
               NXL_E_NOT_FOUND, "");
    pty_open(&pty);
    set_tty(&fx, 1, pty.slave);
    CHECK_OK(nxl_instance_get_serial_console(fx.drv, &inst, &c, &e_));
    CU_ASSERT_EQUAL(c.type, NXL_CONSOLE_SERIAL);
    CU_ASSERT(c.port >= 10000 && c.port <= 20000);
    CU_ASSERT_STRING_EQUAL(c.host ? c.host : "", "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(c.internal_access_path ? c.internal_access_path : "",
                           pty.slave);
    port = c.port;
    nxl_console_dispose(&c);
    /* The port is persisted with the instance, dom0-only. */
    snprintf(path, sizeof(path), "%s/%s/%s", fx.instances, UUID1,
             NXL_XL_SERIAL_PORT_FILE);
    CU_ASSERT_EQUAL(nxl__read_file_capped(path, 16, &data, &len, NULL), 0);
    CU_ASSERT_EQUAL(data ? atoi(data) : -1, port);
    free(data);
    check_relay(pty.master, port, "one");

    /* One client at a time: a second connection is closed at once, the
     * first keeps working. */
    c1 = nxl_test_tcp_connect(port);
    CU_ASSERT_FATAL(c1 >= 0);
    usleep(100000);
    c2 = nxl_test_tcp_connect(port);
    CU_ASSERT(c2 < 0 || nxl_test_eof_within(c2, 5000));
    if (c2 >= 0)
        close(c2);
    CU_ASSERT(write(pty.master, "still one\r\n", 11) == 11);
    CU_ASSERT(nxl_test_read_until(c1, "still one", 5));
    close(c1);

    /* Asking again gives the same port. */
    CHECK_OK(nxl_instance_get_serial_console(fx.drv, &inst, &c, &e_));
    CU_ASSERT_EQUAL(c.port, port);
    nxl_console_dispose(&c);

    /* A guest-written path that is no pty is refused, and so is anything
     * that only looks like one. */
    static const char *const hostile[] = {
        "/etc/shadow", "/dev/pts/../../etc/shadow", "/dev/pts/7x", "/dev/pts/",
        "/dev/ptmx",   "/dev/pts/1234567890",       " /dev/pts/1",
    };
    for (size_t i = 0; i < NXL_ARRAY_SIZE(hostile); i++) {
        set_tty(&fx, 1, hostile[i]);
        CHECK_FAIL(nxl_instance_get_serial_console(fx.drv, &inst, &c, &e_),
                   NXL_E_INVAL, "is not a pty");
    }
    set_tty(&fx, 1, pty.slave);

    /* destroy: the next tick of the event thread closes the bridge. */
    CHECK_OK(nxl_instance_destroy(fx.drv, &inst, NULL, NULL, true, NULL, &e_));
    nxl__xl_console_tick(fx.drv);
    c1 = nxl_test_tcp_connect(port);
    CU_ASSERT(c1 < 0);
    if (c1 >= 0)
        close(c1);
    close(pty.master);
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* The port survives the daemon: a new driver's init_host listens on the
 * persisted port again, to the domain's current pty; power_off closes
 * it, power_on brings the same port back. */
static void test_serial_persisted(void)
{
    nxl_error err = NXL_ERROR_INIT;
    fixture fx;
    nxl_instance inst;
    nxl_console c;
    fake_pty pty;
    int port, fd;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    make_inst(&inst, UUID1, "inst-1");
    pty_open(&pty);
    set_tty(&fx, 1, pty.slave);
    nxl_console_init(&c);
    CHECK_OK(nxl_instance_get_serial_console(fx.drv, &inst, &c, &e_));
    port = c.port;
    nxl_console_dispose(&c);

    /* cleanup_host closes every bridge. */
    CU_ASSERT_EQUAL(nxl_host_cleanup(fx.drv, "compute-1", &err), 0);
    fd = nxl_test_tcp_connect(port);
    CU_ASSERT(fd < 0);
    if (fd >= 0)
        close(fd);
    nxl_driver_close(fx.drv);
    fx.drv = NULL;

    /* A restart: nobody asks for the console, the port is there. */
    fx_open(&fx, NULL);
    check_relay(pty.master, port, "after restart");

    CHECK_OK(nxl_instance_power_off(fx.drv, &inst, 0, 0, &e_));
    nxl__xl_console_tick(fx.drv);
    fd = nxl_test_tcp_connect(port);
    CU_ASSERT(fd < 0);
    if (fd >= 0)
        close(fd);
    CHECK_OK(nxl_instance_power_on(fx.drv, &inst, NULL, NULL, &e_));
    /* The new domain has a new pty. */
    close(pty.master);
    pty_open(&pty);
    {
        nxl_instance_info info;

        nxl_instance_info_init(&info);
        CHECK_OK(nxl_instance_get_info(fx.drv, &inst, &info, &e_));
        make_home(fx.xs, (unsigned)info.domid);
        set_tty(&fx, (unsigned)info.domid, pty.slave);
    }
    nxl__xl_console_tick(fx.drv);
    check_relay(pty.master, port, "after power_on");
    close(pty.master);
    nxl_error_dispose(&err);
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* A free TCP port of the loopback, for a one-port range. */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void test_serial_exhausted(void)
{
    fixture fx;
    nxl_instance i1, i2;
    nxl_console c;
    fake_pty p1, p2;
    char range[32];
    int port = free_port();

    CU_ASSERT_FATAL(port > 0);
    snprintf(range, sizeof(range), "%d:%d", port, port);
    fx_setup_range(&fx, range);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    CHECK_OK(spawn(&fx, UUID2, "inst-2", "{}", &e_));
    make_inst(&i1, UUID1, "inst-1");
    make_inst(&i2, UUID2, "inst-2");
    pty_open(&p1);
    pty_open(&p2);
    set_tty(&fx, 1, p1.slave);
    set_tty(&fx, 2, p2.slave);
    nxl_console_init(&c);
    CHECK_OK(nxl_instance_get_serial_console(fx.drv, &i1, &c, &e_));
    CU_ASSERT_EQUAL(c.port, port);
    nxl_console_dispose(&c);
    CHECK_FAIL(nxl_instance_get_serial_console(fx.drv, &i2, &c, &e_),
               NXL_E_FAILED, "no free TCP port");
    /* Once the first instance is gone, its port serves the second. */
    CHECK_OK(nxl_instance_destroy(fx.drv, &i1, NULL, NULL, true, NULL, &e_));
    nxl__xl_console_tick(fx.drv);
    CHECK_OK(nxl_instance_get_serial_console(fx.drv, &i2, &c, &e_));
    CU_ASSERT_EQUAL(c.port, port);
    nxl_console_dispose(&c);
    check_relay(p2.master, port, "second");
    close(p1.master);
    close(p2.master);
    nxl_instance_dispose(&i1);
    nxl_instance_dispose(&i2);
    fx_teardown(&fx);
}

static void test_serial_config(void)
{
    static const struct {
        const char *range, *listen, *field;
    } bad[] = {
        {"0:10", NULL, "serial_port_range"},
        {"20:10", NULL, "serial_port_range"},
        {"1:65536", NULL, "serial_port_range"},
        {"10000", NULL, "serial_port_range"},
        {"a:b", NULL, "serial_port_range"},
        {"10:20x", NULL, "serial_port_range"},
        {NULL, "localhost", "serial_listen"},
        {NULL, "10.0.0.300", "serial_listen"},
    };

    for (size_t i = 0; i < NXL_ARRAY_SIZE(bad); i++) {
        nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
        nxl_driver *drv = NULL;

        cfg.host = "compute-1";
        cfg.serial_port_range = bad[i].range;
        cfg.serial_listen = bad[i].listen;
        CHECK_FAIL(nxl_driver_open("libxl", &cfg, &drv, &e_), NXL_E_INVAL,
                   bad[i].field);
        CU_ASSERT_PTR_NULL(drv);
    }
}

/* Logs of an instance whose record went are deleted once its domain is
 * gone; nothing else in the log directory is touched. */
static void test_console_log_deletion(void)
{
    fixture fx;
    nxl_instance inst;
    char p[PATH_MAX * 2], target[PATH_MAX * 2];
    struct stat st;
    static const char *const keep[] = {
        "guest-inst-2.log",   "guest-other.log",   "guest-inst-1.log.2",
        "xenconsoled-hv.log", "guest-inst-10.log",
    };

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    CHECK_OK(spawn(&fx, UUID2, "inst-2", "{}", &e_));
    write_file(fx.logs, "guest-inst-1.log", "one\n");
    write_file(fx.logs, "guest-inst-1.log.1", "one, older\n");
    for (size_t i = 0; i < NXL_ARRAY_SIZE(keep); i++)
        write_file(fx.logs, keep[i], "keep\n");
    nxl__xl_console_tick(fx.drv);
    make_inst(&inst, UUID1, "inst-1");
    CHECK_OK(nxl_instance_destroy(fx.drv, &inst, NULL, NULL, true, NULL, &e_));
    nxl_instance_dispose(&inst);
    nxl__xl_console_logs_due(fx.drv);
    nxl__xl_console_tick(fx.drv);
    snprintf(p, sizeof(p), "%s/guest-inst-1.log", fx.logs);
    CU_ASSERT(lstat(p, &st) < 0 && errno == ENOENT);
    snprintf(p, sizeof(p), "%s/guest-inst-1.log.1", fx.logs);
    CU_ASSERT(lstat(p, &st) < 0 && errno == ENOENT);
    for (size_t i = 0; i < NXL_ARRAY_SIZE(keep); i++) {
        snprintf(p, sizeof(p), "%s/%s", fx.logs, keep[i]);
        CU_ASSERT(stat(p, &st) == 0);
    }

    /* A link planted under a gone instance's log name is not followed
     * or removed. */
    snprintf(target, sizeof(target), "%s/guest-other.log", fx.logs);
    snprintf(p, sizeof(p), "%s/guest-inst-2.log.1", fx.logs);
    CU_ASSERT_EQUAL(symlink(target, p), 0);
    make_inst(&inst, UUID2, "inst-2");
    CHECK_OK(nxl_instance_destroy(fx.drv, &inst, NULL, NULL, true, NULL, &e_));
    nxl_instance_dispose(&inst);
    nxl__xl_console_tick(fx.drv);
    CU_ASSERT(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
    CU_ASSERT(stat(target, &st) == 0);
    snprintf(p, sizeof(p), "%s/guest-inst-2.log", fx.logs);
    CU_ASSERT(lstat(p, &st) < 0 && errno == ENOENT);
    fx_teardown(&fx);
}

static void test_spice_console(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_console c;
    libxl_domain_config cfg;
    uint32_t domid = 0;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    make_inst(&inst, UUID1, "inst-1");
    nxl_console_init(&c);
    CHECK_FAIL(nxl_instance_get_spice_console(fx.drv, &inst, &c, &e_),
               NXL_E_CONSOLE_UNAVAILABLE, "no SPICE server configured");
    nxl_instance_dispose(&inst);

    /* An HVM domain with SPICE made behind the driver's back: whatever
     * libxl was given is what get_spice_console reports. */
    libxl_domain_config_init(&cfg);
    libxl_domain_create_info_init(&cfg.c_info);
    cfg.c_info.type = LIBXL_DOMAIN_TYPE_HVM;
    cfg.c_info.name = strdup("inst-2");
    CU_ASSERT_EQUAL(libxl_uuid_from_string(&cfg.c_info.uuid, UUID2), 0);
    libxl_domain_build_info_init_type(&cfg.b_info, LIBXL_DOMAIN_TYPE_HVM);
    libxl_defbool_set(&cfg.b_info.u.hvm.spice.enable, true);
    cfg.b_info.u.hvm.spice.port = 6001;
    cfg.b_info.u.hvm.spice.host = strdup("192.0.2.7");
    CU_ASSERT_EQUAL(fx.port->ops->create(fx.port, &cfg, &domid, NULL), 0);
    libxl_domain_config_dispose(&cfg);
    make_inst(&inst, UUID2, "inst-2");
    CHECK_OK(nxl_instance_get_spice_console(fx.drv, &inst, &c, &e_));
    CU_ASSERT_EQUAL(c.type, NXL_CONSOLE_SPICE);
    CU_ASSERT_EQUAL(c.port, 6001);
    CU_ASSERT_EQUAL(c.tls_port, -1);
    CU_ASSERT_STRING_EQUAL(c.host ? c.host : "", "192.0.2.7");
    nxl_console_dispose(&c);
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* A listening TCP socket on 127.0.0.1:port; -1 when it cannot bind. */
static int listen_on(unsigned port)
{
    struct sockaddr_in a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Spawns uuid as an HVM guest whose flavor asks for SPICE. */
static int spawn_spice(fixture *fx, const char *uuid, const char *name,
                       nxl_error *err)
{
    char doc[4096];

    snprintf(doc, sizeof(doc),
             "{\"instance\": {\"uuid\": \"%s\", \"name\": \"%s\","
             " \"memory_mb\": 128, \"vcpus\": 1, \"root_gb\": 0,"
             " \"kernel_id\": \"kernel-1\", \"ramdisk_id\": \"initrd-1\","
             " \"flavor\": {\"name\": \"m1.spice\", \"memory_mb\": 128,"
             " \"vcpus\": 1, \"root_gb\": 0,"
             " \"extra_specs\": {\"hw:spice\": \"true\"}}},"
             " \"image_meta\": {\"id\": \"kernel-1\", \"disk_format\": \"aki\","
             " \"properties\": {\"vm_mode\": \"hvm\"}},"
             " \"network_info\": []}",
             uuid, name);
    return spawn_doc(fx, doc, err);
}

/* spawn picks a SPICE port from the driver's range, skipping one that is
 * taken, and libxl's config of the domain carries it. */
static void test_spice_spawn(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_console c;
    unsigned taken = 0;
    int fd;

    fx_setup(&fx);
    /* The port spawn would take next, held by someone else. */
    CHECK_OK(nxl__xl_spice_claim("127.0.0.1", NXL_XL_SPICE_PORT_MIN,
                                 NXL_XL_SPICE_PORT_MAX, &taken, &e_));
    nxl__xl_spice_release(taken);
    fd = listen_on(taken);
    CU_ASSERT_FATAL(fd >= 0);
    CHECK_OK(spawn_spice(&fx, UUID1, "inst-1", &e_));
    make_inst(&inst, UUID1, "inst-1");
    nxl_console_init(&c);
    CHECK_OK(nxl_instance_get_spice_console(fx.drv, &inst, &c, &e_));
    CU_ASSERT_EQUAL(c.type, NXL_CONSOLE_SPICE);
    CU_ASSERT(c.port >= NXL_XL_SPICE_PORT_MIN &&
              c.port <= NXL_XL_SPICE_PORT_MAX);
    CU_ASSERT_NOT_EQUAL(c.port, (int)taken);
    CU_ASSERT_EQUAL(c.tls_port, -1);
    CU_ASSERT_STRING_EQUAL(c.host ? c.host : "", "127.0.0.1");
    nxl_console_dispose(&c);
    CHECK_OK(nxl_instance_destroy(fx.drv, &inst, NULL, NULL, true, NULL, &e_));
    nxl_instance_dispose(&inst);
    close(fd);
    fx_teardown(&fx);
}

static void test_spice_claim(void)
{
    unsigned a = 0, b = 0, c = 0, lo;
    int fd;

    /* A range of 3 free ports of our own, away from other test runs. */
    fd = listen_on(0);
    CU_ASSERT_FATAL(fd >= 0);
    {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);

        CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        lo = ntohs(sa.sin_port);
    }
    close(fd);
    if (lo > 65530)
        lo = 65530;
    /* Claims exclude each other until released. */
    CHECK_OK(nxl__xl_spice_claim("127.0.0.1", lo, lo + 2, &a, &e_));
    CHECK_OK(nxl__xl_spice_claim("127.0.0.1", lo, lo + 2, &b, &e_));
    CU_ASSERT(a >= lo && a <= lo + 2 && b >= lo && b <= lo + 2);
    CU_ASSERT_NOT_EQUAL(a, b);
    nxl__xl_spice_release(a);
    CHECK_OK(nxl__xl_spice_claim("127.0.0.1", a, a, &c, &e_));
    CU_ASSERT_EQUAL(c, a);
    nxl__xl_spice_release(c);
    nxl__xl_spice_release(b);
    nxl__xl_spice_release(0); /* ignored */
    /* A bound port is not free; nothing else in range: a clear error. */
    fd = listen_on(a);
    CU_ASSERT_FATAL(fd >= 0);
    CHECK_FAIL(nxl__xl_spice_claim("127.0.0.1", a, a, &c, &e_), NXL_E_FAILED,
               "no free port");
    close(fd);
    CHECK_FAIL(nxl__xl_spice_claim("localhost", lo, lo + 2, &c, &e_),
               NXL_E_INVAL, "not a numeric");
    CHECK_FAIL(nxl__xl_spice_claim(NULL, lo, lo + 2, &c, &e_), NXL_E_INVAL,
               "listen address");
    CHECK_FAIL(nxl__xl_spice_claim("127.0.0.1", 0, 10, &c, &e_), NXL_E_INVAL,
               "range");
    CHECK_FAIL(nxl__xl_spice_claim("127.0.0.1", 20, 10, &c, &e_), NXL_E_INVAL,
               "range");
    CHECK_FAIL(nxl__xl_spice_claim("127.0.0.1", 1, 65536, &c, &e_), NXL_E_INVAL,
               "range");
    /* qemu's SPICE server resolves its address with AI_ADDRCONFIG: on a
     * host whose only IPv4 address is loopback's, 127.0.0.1 cannot be
     * resolved and the driver says so (getifaddrs is the oracle). */
    {
        struct ifaddrs *ifs = NULL;
        bool v4 = false;

        CU_ASSERT_FATAL(getifaddrs(&ifs) == 0);
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                !(i->ifa_flags & IFF_LOOPBACK))
                v4 = true;
        freeifaddrs(ifs);
        if (v4)
            CHECK_OK(nxl__xl_spice_check_listen("127.0.0.1", &e_));
        else
            CHECK_FAIL(nxl__xl_spice_check_listen("127.0.0.1", &e_),
                       NXL_E_FAILED, "AI_ADDRCONFIG");
    }
    /* IPv6 listen addresses are probed as such. */
    if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) >= 0) {
        nxl_error e6 = NXL_ERROR_INIT;

        close(fd);
        if (nxl__xl_spice_claim("::1", lo, lo + 2, &c, &e6) == 0)
            nxl__xl_spice_release(c);
        else
            CU_ASSERT_EQUAL(e6.code, NXL_E_FAILED); /* no ::1 here */
        nxl_error_dispose(&e6);
    }
}

static void test_console_pool_info(void)
{
    fixture fx;
    nxl_console_pool p;

    fx_setup(&fx);
    nxl_console_pool_init(&p);
    CHECK_OK(nxl_host_get_console_pool_info(fx.drv, "vnc", &p, &e_));
    CU_ASSERT_STRING_EQUAL(p.address ? p.address : "", "compute-1");
    CU_ASSERT_PTR_NULL(p.username);
    CU_ASSERT_PTR_NULL(p.password);
    nxl_console_pool_dispose(&p);
    CHECK_FAIL(nxl_host_get_console_pool_info(fx.drv, "rdp", &p, &e_),
               NXL_E_INVAL, "'rdp'");
    fx_teardown(&fx);
}

/* ---- estimate_instance_overhead --------------------------------------------
 */

/* What a destroyed domain's QEMU writes after libxl is done (its qdisk
 * backend state) goes, after the destroy and again at the next look, and
 * only for domains the driver destroyed and Xen no longer lists. */
static void test_destroyed_domain_leftovers(void)
{
    static const char *const q1 = "/local/domain/0/backend/qdisk/1/51712/state",
                             *const q2 =
                                 "/local/domain/0/backend/qdisk/2/51712/state",
                             *const q9 =
                                 "/local/domain/0/backend/qdisk/9/51712/state";
    fixture fx;
    nxl_instance a, b;
    char *v = NULL;

    fx_setup(&fx);
    CHECK_OK(spawn(&fx, UUID1, "inst-1", "{}", &e_));
    CHECK_OK(spawn(&fx, UUID2, "inst-2", "{}", &e_));
    make_inst(&a, UUID1, "inst-1");
    make_inst(&b, UUID2, "inst-2");
    CU_ASSERT_EQUAL(nxl_xs_write_str(fx.xs, XBT_NULL, q1, "6", NULL), 0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(fx.xs, XBT_NULL, q2, "4", NULL), 0);
    /* Another toolstack's dead domain: not ours to clean. */
    CU_ASSERT_EQUAL(nxl_xs_write_str(fx.xs, XBT_NULL, q9, "6", NULL), 0);

    CHECK_OK(nxl_instance_destroy(fx.drv, &a, NULL, NULL, true, NULL, &e_));
    CU_ASSERT_EQUAL(nxl_xs_read(fx.xs, XBT_NULL, q1, &v, NULL, NULL),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(
        nxl_xs_read(fx.xs, XBT_NULL, "/local/domain/1", &v, NULL, NULL),
        NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(nxl_xs_read(fx.xs, XBT_NULL, q2, &v, NULL, NULL),
                    0); /* alive */
    free(v);
    v = NULL;

    /* QEMU writes once more after the sweep; the next look takes it. */
    CU_ASSERT_EQUAL(nxl_xs_write_str(fx.xs, XBT_NULL, q1, "6", NULL), 0);
    CHECK_OK(nxl_instance_destroy(fx.drv, &b, NULL, NULL, true, NULL, &e_));
    CU_ASSERT_EQUAL(nxl_xs_read(fx.xs, XBT_NULL, q1, &v, NULL, NULL),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(nxl_xs_read(fx.xs, XBT_NULL, q2, &v, NULL, NULL),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(nxl_xs_read(fx.xs, XBT_NULL, q9, &v, NULL, NULL), 0);
    free(v);
    nxl_xs_rm(fx.xs, XBT_NULL, "/local/domain/0/backend/qdisk/9", NULL);
    nxl_instance_dispose(&a);
    nxl_instance_dispose(&b);
    fx_teardown(&fx);
}

static void test_overhead(void)
{
    fixture fx;
    nxl_instance inst;
    nxl_overhead o;

    fx_setup(&fx);
    make_inst(&inst, UUID1, "inst-1");
    CHECK_FAIL(nxl_instance_estimate_overhead(fx.drv, &inst, &o, &e_),
               NXL_E_INVAL, "no flavor memory_mb");
    inst.flavor.memory_mb = 1024;
    inst.flavor.vcpus = 2;
    /* HVM: shadow 4 * (256 * 2 vcpus + 2 * 1024 MiB) KiB = 10 MiB, plus
     * 2 MiB: 12 MiB. */
    CU_ASSERT_EQUAL(
        nxl_kvlist_set(&inst.system_metadata, "image_vm_mode", "hvm"), 0);
    memset(&o, 0xff, sizeof(o));
    CHECK_OK(nxl_instance_estimate_overhead(fx.drv, &inst, &o, &e_));
    CU_ASSERT_EQUAL(o.memory_mb, 12);
    CU_ASSERT_EQUAL(o.disk_gb, 0);
    CU_ASSERT_EQUAL(o.vcpus, 0);
    /* PV: the same 10 MiB of shadow plus 1 MiB, rounded up to libxl's
     * 2 MiB: 12 MiB. */
    CU_ASSERT_EQUAL(
        nxl_kvlist_set(&inst.system_metadata, "image_vm_mode", "xen"), 0);
    CHECK_OK(nxl_instance_estimate_overhead(fx.drv, &inst, &o, &e_));
    CU_ASSERT_EQUAL(o.memory_mb, 12);
    /* 128 MiB, 1 vcpu, PV: 2 MiB of shadow plus 1 MiB, rounded up to
     * 4 MiB, which is what real libxl says in the lab (t30). */
    inst.flavor.memory_mb = 128;
    inst.flavor.vcpus = 1;
    CHECK_OK(nxl_instance_estimate_overhead(fx.drv, &inst, &o, &e_));
    CU_ASSERT_EQUAL(o.memory_mb, 4);
    /* The estimate follows the flavor: 8 vcpus and 4 GiB of HVM need
     * 4 * (2048 + 8192) KiB of shadow, 40 MiB, plus 2 MiB. */
    inst.flavor.memory_mb = 4096;
    inst.flavor.vcpus = 8;
    CU_ASSERT_EQUAL(
        nxl_kvlist_set(&inst.system_metadata, "image_vm_mode", "hvm"), 0);
    CHECK_OK(nxl_instance_estimate_overhead(fx.drv, &inst, &o, &e_));
    CU_ASSERT_EQUAL(o.memory_mb, 42);
    CU_ASSERT_EQUAL(
        nxl_kvlist_set(&inst.system_metadata, "image_vm_mode", "exe"), 0);
    CHECK_FAIL(nxl_instance_estimate_overhead(fx.drv, &inst, &o, &e_),
               NXL_E_INVAL, "'exe'");
    CU_ASSERT_EQUAL(
        nxl_kvlist_set(&inst.system_metadata, "image_vm_mode", "hvm"), 0);
    /* libxl's failure comes through. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_fail(fx.port, "need_memory", 1, NXL_E_HYPERVISOR), 0);
    CHECK_FAIL(nxl_instance_estimate_overhead(fx.drv, &inst, &o, &e_),
               NXL_E_HYPERVISOR, "need_memory");
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* ---- main -------------------------------------------------------------------
 */

static int suite_init(void)
{
    if (nxl_test_xsd_suite_start(&xsd, skip_why, sizeof(skip_why)))
        return 1;
    return 0;
}

static int suite_cleanup(void)
{
    nxl_test_xsd_stop(&xsd);
    return 0;
}

int main(void)
{
    CU_pSuite s;
    int rc;

    rc = nxl_test_xsd_start(&xsd);
    if (rc == NXL_TEST_SKIP) {
        printf("SKIP: %s\n", xsd.why);
        return NXL_TEST_SKIP;
    }
    nxl_test_xsd_stop(&xsd);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return CU_get_error();
    s = CU_add_suite("metadata, guest agent, consoles", suite_init,
                     suite_cleanup);
    if (!s ||
        !CU_add_test(s, "spawn publishes, guest reads, cannot write",
                     test_spawn_publishes_with_perms) ||
        !CU_add_test(s, "diff applied to xenstore and file",
                     test_diff_applied) ||
        !CU_add_test(s, "bad diff writes nothing",
                     test_bad_diff_writes_nothing) ||
        !CU_add_test(s, "unknown instance", test_unknown_instance) ||
        !CU_add_test(s, "destroyed domains' leftovers swept",
                     test_destroyed_domain_leftovers) ||
        !CU_add_test(s, "foreign nodes replaced",
                     test_foreign_nodes_replaced) ||
        !CU_add_test(s, "re-published on start", test_republished_on_start) ||
        !CU_add_test(s, "concurrent changes", test_concurrent_changes) ||
        !CU_add_test(s, "metadata goes with the files",
                     test_respawn_ignores_leftover) ||
        !CU_add_test(s, "agent: password", test_agent_password) ||
        !CU_add_test(s, "agent: every method", test_agent_methods) ||
        !CU_add_test(s, "agent: refusals", test_agent_refuses) ||
        !CU_add_test(s, "agent: hostile answers", test_agent_hostile) ||
        !CU_add_test(s, "agent: timeout", test_agent_timeout) ||
        !CU_add_test(s, "agent: bad input", test_agent_bad_input) ||
        !CU_add_test(s, "agent: no domain", test_agent_no_domain) ||
        !CU_add_test(s, "serial console", test_serial_console) ||
        !CU_add_test(s, "serial port persisted", test_serial_persisted) ||
        !CU_add_test(s, "serial ports exhausted", test_serial_exhausted) ||
        !CU_add_test(s, "serial config", test_serial_config) ||
        !CU_add_test(s, "console log deletion", test_console_log_deletion) ||
        !CU_add_test(s, "spice console", test_spice_console) ||
        !CU_add_test(s, "spice port at spawn", test_spice_spawn) ||
        !CU_add_test(s, "spice port claims", test_spice_claim) ||
        !CU_add_test(s, "console pool info", test_console_pool_info) ||
        !CU_add_test(s, "estimate_instance_overhead", test_overhead)) {
        CU_cleanup_registry();
        return CU_get_error();
    }
    return nxl_test_run(NULL);
}

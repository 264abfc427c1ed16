/* The lifecycle contract suite: the libxl driver, through the public API,
 * on the fake hypervisor port (no Xen needed).
 *
 * What it proves: spawn leaves nothing behind when any port call fails
 * (before or after doing its work) or when the process dies at any crash
 * point (the next driver's init_host cleans up); destroy, power_off,
 * power_on and HARD reboot end in a well-defined state after a crash at
 * any point; wrong states and unknown instances give the contract's
 * errors; domains that are not ours (Domain-0, xl's) are never listed or
 * touched; changes made behind the driver's back are seen; operations on
 * one instance are serialised and different instances run in parallel.
 *
 * "Nothing behind" is checked on everything the driver can leave: the
 * fake hypervisor's domains, and every file under instances_dir (records,
 * journal, lock files, temporaries, instance directories). The driver
 * writes no xenstore nodes of its own; the fake has none to leak.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/internal.h"
#include "common/json.h"
#include "aggregates/agg.h"
#include "novaxl/nxl.h"
#include "tests/xsd/xsd-harness.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"
#include "xl_driver/xl_store.h"

#define UUID_A "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
#define UUID_B "00000000-0000-4000-8000-0000000000bb"
#define RESCUE_DISK_NAME NXL_XL_RESCUE_DISK

typedef struct fixture {
    char root[PATH_MAX / 2];
    char instances[PATH_MAX];
    char images[PATH_MAX];
    nxl_port *port; /* the fake hypervisor: outlives each driver */
    nxl_driver *drv;
    /* The event thread's poll interval; 0 (the default here) runs none,
     * so that call logs and fault counts see only the operation's calls. */
    unsigned events_ms;
} fixture;

/* The private xenstored for the whole run (host flags, aggregates). */
static nxl_test_xsd xsd;

/* ---- helpers ----------------------------------------------------------------
 */

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
        nxl__xl_driver_set_event_poll(fx->drv, fx->events_ms);
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
    snprintf(fx->root, sizeof(fx->root), "%s/nxl-lc-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(fx->root));
    snprintf(fx->instances, sizeof(fx->instances), "%s/instances", fx->root);
    snprintf(fx->images, sizeof(fx->images), "%s/images", fx->root);
    CU_ASSERT_EQUAL_FATAL(mkdir(fx->images, 0700), 0);
    write_file(fx->images, "kernel-1", "not really a kernel\n");
    write_file(fx->images, "initrd-1", "not really an initrd\n");
    write_file(fx->images, "nxl-lab-kernel", "kernel\n");
    write_file(fx->images, "nxl-lab-initrd", "initrd\n");
    CU_ASSERT_EQUAL_FATAL(nxl__port_fake_new(&fx->port), 0);
    CU_ASSERT_EQUAL_FATAL(open_driver(fx), 0);
    nxl__port_fake_calls_reset(fx->port);
}

/* A new driver on the same disk state and hypervisor, as after a restart
 * of the compute service (or a crash of the process). */
static void fx_reopen(fixture *fx)
{
    nxl_driver_close(fx->drv);
    fx->drv = NULL;
    CU_ASSERT_EQUAL_FATAL(open_driver(fx), 0);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void fx_teardown(fixture *fx)
{
    nxl_driver_close(fx->drv);
    nxl__port_free(fx->port);
    nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    memset(fx, 0, sizeof(*fx));
}

static void make_req(nxl_spawn_req *req, const char *uuid, const char *name,
                     const char *kernel)
{
    char doc[2048];
    nxl_error err = NXL_ERROR_INIT;

    snprintf(doc, sizeof(doc),
             "{\"instance\": {\"uuid\": \"%s\", \"name\": \"%s\","
             " \"memory_mb\": 128, \"vcpus\": 1, \"root_gb\": 0,"
             " \"kernel_id\": \"%s\", \"ramdisk_id\": \"initrd-1\"},"
             " \"image_meta\": {\"id\": \"%s\", \"disk_format\": \"aki\","
             " \"properties\":"
             " {\"vm_mode\": \"xen\", \"os_command_line\": \"console=hvc0\"}},"
             " \"network_info\": [], \"admin_password\": \"s3cret\","
             " \"injected_files\": [[\"/etc/motd\", \"aGk=\"]]}",
             uuid, name, kernel, kernel);
    nxl_spawn_req_init(req);
    if (nxl__spawn_req_from_json(doc, strlen(doc), req, &err))
        fprintf(stderr, "make_req: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL_FATAL(err.code, NXL_OK);
    nxl_error_dispose(&err);
}

static void make_inst(nxl_instance *inst, const char *uuid)
{
    nxl_instance_init(inst);
    snprintf(inst->uuid, sizeof(inst->uuid), "%s", uuid);
}

static void uuid_n(char *buf, size_t size, unsigned n)
{
    snprintf(buf, size, "00000000-0000-4000-8000-%012u", n);
}

static int spawn(fixture *fx, const char *uuid, const char *name,
                 nxl_error *err)
{
    nxl_spawn_req req;
    int rc;

    make_req(&req, uuid, name, "kernel-1");
    rc = nxl_instance_spawn(fx->drv, &req, err);
    nxl_spawn_req_dispose(&req);
    return rc;
}

static void spawn_ok(fixture *fx, const char *uuid, const char *name)
{
    nxl_error err = NXL_ERROR_INIT;

    if (spawn(fx, uuid, name, &err))
        fprintf(stderr, "spawn_ok: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_error_dispose(&err);
}

/* The power state get_info reports, or the negative error code. */
static int state_of(fixture *fx, const char *uuid, int *domid_r)
{
    nxl_instance inst;
    nxl_instance_info info;
    int rc;

    make_inst(&inst, uuid);
    nxl_instance_info_init(&info);
    rc = nxl_instance_get_info(fx->drv, &inst, &info, NULL);
    nxl_instance_dispose(&inst);
    if (domid_r)
        *domid_r = rc ? -1 : info.domid;
    return rc ? rc : info.state;
}

/* Domains of the fake with uuid; all domains when uuid is NULL. */
static size_t domains_with(fixture *fx, const char *uuid)
{
    nxl_port_dominfo *v = NULL;
    size_t n = 0, k = 0;

    CU_ASSERT_EQUAL_FATAL(fx->port->ops->list(fx->port, &v, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (!uuid || strcmp(v[i].uuid, uuid) == 0)
            k++;
    free(v);
    return k;
}

static uint32_t domid_of(fixture *fx, const char *uuid)
{
    nxl_port_dominfo *v = NULL;
    size_t n = 0;
    uint32_t domid = 0;

    CU_ASSERT_EQUAL_FATAL(fx->port->ops->list(fx->port, &v, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].uuid, uuid) == 0)
            domid = v[i].domid;
    free(v);
    return domid;
}

/* Entries of dir (not . and ..); names appended to list (may be NULL). */
static size_t entries(const char *dir, char *list, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (list) {
            size_t used = strlen(list);

            snprintf(list + used, size - used, " %s", e->d_name);
        }
    }
    closedir(d);
    return n;
}

/* Nothing of any instance is left: only Domain-0 plus `foreign` other
 * domains, and under instances_dir only the empty private tree. */
static void assert_no_leaks(fixture *fx, size_t foreign, const char *what)
{
    char path[PATH_MAX * 2], list[1024] = "";
    size_t n_top, n_journal, n_locks, n_state;

    snprintf(path, sizeof(path), "%s/.novaxl/journal", fx->instances);
    n_journal = entries(path, list, sizeof(list));
    snprintf(path, sizeof(path), "%s/.novaxl/locks", fx->instances);
    n_locks = entries(path, list, sizeof(list));
    snprintf(path, sizeof(path), "%s/.novaxl", fx->instances);
    n_state = entries(path, NULL, 0);
    n_top = entries(fx->instances, list, sizeof(list));
    if (n_journal || n_locks || n_state != 2 || n_top != 1 ||
        domains_with(fx, NULL) != 1 + foreign)
        fprintf(stderr, "\nleak after %s: %zu domains, files:%s\n", what,
                domains_with(fx, NULL), list);
    CU_ASSERT_EQUAL(domains_with(fx, NULL), 1 + foreign);
    CU_ASSERT_EQUAL(n_journal, 0);
    CU_ASSERT_EQUAL(n_locks, 0);
    CU_ASSERT_EQUAL(n_state, 2);
    CU_ASSERT_EQUAL(n_top, 1); /* .novaxl */
}

static bool journal_empty(fixture *fx)
{
    char path[PATH_MAX * 2];

    snprintf(path, sizeof(path), "%s/.novaxl/journal", fx->instances);
    return entries(path, NULL, 0) == 0;
}

static int do_power_off(fixture *fx, const char *uuid, unsigned timeout,
                        nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = nxl_instance_power_off(fx->drv, &inst, timeout, 1, err);
    nxl_instance_dispose(&inst);
    return rc;
}

static int do_power_on(fixture *fx, const char *uuid, nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = nxl_instance_power_on(fx->drv, &inst, NULL, NULL, err);
    nxl_instance_dispose(&inst);
    return rc;
}

static int do_reboot(fixture *fx, const char *uuid, int type, nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = nxl_instance_reboot(fx->drv, &inst, NULL, type, NULL, NULL, NULL, err);
    nxl_instance_dispose(&inst);
    return rc;
}

static int do_destroy(fixture *fx, const char *uuid, bool disks, nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = nxl_instance_destroy(fx->drv, &inst, NULL, NULL, disks, NULL, err);
    nxl_instance_dispose(&inst);
    return rc;
}

static int do_pause(fixture *fx, const char *uuid, bool pause, nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = pause ? nxl_instance_pause(fx->drv, &inst, err)
               : nxl_instance_unpause(fx->drv, &inst, err);
    nxl_instance_dispose(&inst);
    return rc;
}

/* ---- the happy path --------------------------------------------------------
 */

static void test_spawn_and_inventory(void)
{
    fixture fx;
    nxl_strv names, uuids;
    nxl_record rec;
    nxl_xl_store store;
    nxl_instance inst;
    bool exists = false;
    size_t n = 99;
    char *calls;
    int domid;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    calls = nxl__port_fake_calls(fx.port);
    /* One list (is the UUID free?), create (paused), unpause. */
    CU_ASSERT_STRING_EQUAL(calls, "list create unpause");
    free(calls);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_RUNNING);
    CU_ASSERT(domid > 0);
    CU_ASSERT(journal_empty(&fx));

    nxl_strv_init(&names);
    nxl_strv_init(&uuids);
    CU_ASSERT_EQUAL(nxl_host_list_instances(fx.drv, &names, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(names.n, 1);
    CU_ASSERT_STRING_EQUAL(names.v[0], "instance-0000000a");
    CU_ASSERT_EQUAL(nxl_host_list_instance_uuids(fx.drv, &uuids, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(uuids.n, 1);
    CU_ASSERT_STRING_EQUAL(uuids.v[0], UUID_A);
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(nxl_host_get_num_instances(fx.drv, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, 1);
    calls = nxl__port_fake_calls(fx.port);
    /* Counting needs no call into libxl at all. */
    CU_ASSERT_STRING_EQUAL(calls, "");
    free(calls);
    make_inst(&inst, UUID_A);
    CU_ASSERT_EQUAL(nxl_instance_exists(fx.drv, &inst, &exists, NULL), 0);
    CU_ASSERT(exists);
    nxl_instance_dispose(&inst);

    /* The record keeps what power_on needs, not the first-boot secrets. */
    nxl__xl_store_init(&store);
    CU_ASSERT_EQUAL_FATAL(nxl__xl_store_open(&store, fx.instances, NULL), 0);
    nxl__record_init(&rec);
    CU_ASSERT_EQUAL_FATAL(nxl__xl_record_load(&store, UUID_A, &rec, NULL), 0);
    CU_ASSERT_EQUAL(rec.state, NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(rec.domid, domid);
    CU_ASSERT_STRING_EQUAL(rec.req.instance.name, "instance-0000000a");
    CU_ASSERT_PTR_NULL(rec.req.admin_password);
    CU_ASSERT_EQUAL(rec.req.n_injected_files, 0);
    nxl__record_dispose(&rec);
    nxl__xl_store_dispose(&store);

    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_E_NOT_FOUND);
    assert_no_leaks(&fx, 0, "destroy");
    nxl_strv_dispose(&names);
    nxl_strv_dispose(&uuids);
    fx_teardown(&fx);
}

static void test_spawn_example_file(void)
{
    const char *srcdir = getenv("NXL_TEST_SRCDIR");
    char path[PATH_MAX];
    nxl_spawn_req req;
    char *doc = NULL;
    size_t len;
    fixture fx;

    snprintf(path, sizeof(path), "%s/examples/pv-direct-kernel.json",
             srcdir ? srcdir : "..");
    CU_ASSERT_EQUAL_FATAL(
        nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, &doc, &len, NULL),
        0);
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(nxl__spawn_req_from_json(doc, len, &req, NULL), 0);
    fx_setup(&fx);
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, req.instance.uuid, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(&fx, req.instance.uuid, true, NULL), 0);
    assert_no_leaks(&fx, 0, "destroy of the example");
    fx_teardown(&fx);
    nxl_spawn_req_dispose(&req);
    free(doc);
}

/* ---- spawn: every failure leaves nothing ------------------------------------
 */

static void test_spawn_missing_image(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    char *calls;

    fx_setup(&fx);
    make_req(&req, UUID_A, "instance-0000000a", "no-such-kernel");
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, &err), NXL_E_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "no-such-kernel"));
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "not found"));
    calls = nxl__port_fake_calls(fx.port);
    CU_ASSERT_STRING_EQUAL(calls, ""); /* the hypervisor was never asked */
    free(calls);
    assert_no_leaks(&fx, 0, "missing image");
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
}

static void test_spawn_local_disks(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    char path[PATH_MAX * 2];
    struct stat sb;

    /* A direct-kernel guest: a blank root disk of root_gb, sparse. */
    fx_setup(&fx);
    make_req(&req, UUID_A, "instance-0000000a", "kernel-1");
    req.instance.root_gb = 2;
    req.instance.ephemeral_gb = 1;
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, NULL), 0);
    snprintf(path, sizeof(path), "%s/%s/disk", fx.instances, UUID_A);
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_size, 2LL << 30);
    CU_ASSERT(sb.st_blocks < 16); /* sparse */
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/%s/disk.eph0", fx.instances, UUID_A);
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_size, 1LL << 30);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "spawn with local disks");
    nxl_spawn_req_dispose(&req);

    /* A raw image is copied in, then grown to root_gb. */
    write_file(fx.images, "raw-1", "RAWDISK");
    make_req(&req, UUID_A, "instance-0000000a", "kernel-1");
    free(req.image_meta.disk_format);
    req.image_meta.disk_format = strdup("raw");
    req.instance.image_ref = strdup("raw-1");
    req.instance.root_gb = 1;
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, NULL), 0);
    snprintf(path, sizeof(path), "%s/%s/disk", fx.instances, UUID_A);
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_size, 1LL << 30);
    {
        char head[8] = "";
        FILE *f = fopen(path, "r");

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(fread(head, 1, 7, f), 7);
        fclose(f);
        CU_ASSERT_STRING_EQUAL(head, "RAWDISK");
    }
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);

    /* Refused before anything exists: a missing root image, a format we
     * cannot convert, a config drive. */
    free(req.instance.image_ref);
    req.instance.image_ref = strdup("no-such-image");
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, &err), NXL_E_FAILED);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "no-such-image"));
    nxl_error_dispose(&err);
    free(req.image_meta.disk_format);
    req.image_meta.disk_format = strdup("qcow2");
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, &err), NXL_E_UNSUPPORTED);
    nxl_error_dispose(&err);
    nxl_spawn_req_dispose(&req);
    make_req(&req, UUID_A, "instance-0000000a", "kernel-1");
    req.instance.config_drive = strdup("True");
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx.drv, &req, &err), NXL_E_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "config"));
    nxl_error_dispose(&err);
    {
        char *calls = nxl__port_fake_calls(fx.port);

        CU_ASSERT_STRING_EQUAL(calls, "");
        free(calls);
    }
    assert_no_leaks(&fx, 0, "refused local disks");
    nxl_spawn_req_dispose(&req);
    fx_teardown(&fx);
}

static void test_spawn_exists(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    uint32_t foreign;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    CU_ASSERT_EQUAL(spawn(&fx, UUID_A, "instance-0000000b", &err),
                    NXL_E_EXISTS);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);

    /* A domain made by hand with xl holds a name; libxl refuses the
     * clash, and the rollback must not touch the foreign domain. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_external_create(fx.port, "handmade", &foreign), 0);
    make_req(&req, "00000000-0000-4000-8000-000000000099", "handmade",
             "kernel-1");
    CU_ASSERT(nxl_instance_spawn(fx.drv, &req, &err) < 0);
    CU_ASSERT_EQUAL(domains_with(&fx, NULL), 3);
    CU_ASSERT_EQUAL(domid_of(&fx, "00000000-0000-4000-8000-000000000099"), 0);
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 1, "spawn over a foreign name");
    fx_teardown(&fx);
}

/* Splits the fake's call log into op names. */
static size_t split_calls(char *calls, char **ops, size_t max)
{
    size_t n = 0;
    char *p = calls;

    while (*p && n < max) {
        ops[n++] = p;
        p += strcspn(p, " ");
        if (*p)
            *p++ = '\0';
    }
    return n;
}

static void test_spawn_fault_at_every_call(void)
{
    fixture fx;
    char *calls, *ops[32];
    size_t n;
    unsigned tested = 0;

    /* The calls a clean spawn makes, then each one failing in turn. */
    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    calls = nxl__port_fake_calls(fx.port);
    fx_teardown(&fx);
    n = split_calls(calls, ops, 32);
    CU_ASSERT(n >= 3);

    for (size_t i = 0; i < n; i++) {
        for (int after = 0; after <= 1; after++) {
            unsigned nth = 0;
            nxl_error err = NXL_ERROR_INIT;
            char what[96];

            for (size_t k = 0; k <= i; k++)
                nth += strcmp(ops[k], ops[i]) == 0;
            fx_setup(&fx);
            if (after)
                nxl__port_fake_fail_after(fx.port, ops[i], nth,
                                          NXL_E_HYPERVISOR);
            else
                nxl__port_fake_fail(fx.port, ops[i], nth, NXL_E_HYPERVISOR);
            CU_ASSERT_EQUAL(spawn(&fx, UUID_A, "instance-0000000a", &err),
                            NXL_E_HYPERVISOR);
            CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), ops[i]));
            snprintf(what, sizeof(what), "%s #%u failing %s", ops[i], nth,
                     after ? "after its work" : "before");
            assert_no_leaks(&fx, 0, what);
            CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_E_NOT_FOUND);
            /* And the instance can be spawned again at once. */
            spawn_ok(&fx, UUID_A, "instance-0000000a");
            CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
            nxl_error_dispose(&err);
            fx_teardown(&fx);
            tested++;
        }
    }
    CU_ASSERT_EQUAL(tested, 2 * n);
    free(calls);
}

static void test_spawn_rollback_fails_then_recovers(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;

    /* create leaves a half-made domain, and the rollback's destroy fails
     * too: the journal stays, and init_host finishes the job. */
    fx_setup(&fx);
    nxl__port_fake_fail_after(fx.port, "create", 1, NXL_E_FAILED);
    nxl__port_fake_fail(fx.port, "destroy", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(spawn(&fx, UUID_A, "instance-0000000a", &err),
                    NXL_E_FAILED);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT(!journal_empty(&fx));
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_E_NOT_FOUND);
    fx_reopen(&fx);
    assert_no_leaks(&fx, 0, "init_host after a failed rollback");
    fx_teardown(&fx);

    /* Same, but the next operation on the instance recovers first. */
    fx_setup(&fx);
    nxl__port_fake_fail_after(fx.port, "create", 1, NXL_E_FAILED);
    nxl__port_fake_fail(fx.port, "destroy", 1, NXL_E_HYPERVISOR);
    CU_ASSERT(spawn(&fx, UUID_A, "instance-0000000a", NULL) < 0);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT(journal_empty(&fx));
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "lazy recovery");
    fx_teardown(&fx);
}

/* ---- crashes: kill at every step, then init_host ---------------------------
 */

typedef int crash_op_fn(fixture *fx);

static int op_spawn(fixture *fx)
{
    return spawn(fx, UUID_A, "instance-0000000a", NULL);
}

static int op_destroy(fixture *fx)
{
    return do_destroy(fx, UUID_A, true, NULL);
}

static int op_power_off(fixture *fx)
{
    return do_power_off(fx, UUID_A, 5, NULL);
}

static int op_power_on(fixture *fx)
{
    return do_power_on(fx, UUID_A, NULL);
}

static int op_reboot_hard(fixture *fx)
{
    return do_reboot(fx, UUID_A, NXL_REBOOT_HARD, NULL);
}

static int op_reboot_soft(fixture *fx)
{
    return do_reboot(fx, UUID_A, NXL_REBOOT_SOFT, NULL);
}

static int op_pause(fixture *fx)
{
    return do_pause(fx, UUID_A, true, NULL);
}

/* Runs op with a crash at point k = 1, 2, ... until it completes without
 * reaching k. prep sets the instance up (spawned, or powered off) first.
 * After each crash a new driver runs init_host, and check judges what it
 * finds. Returns how many crash points there were. */
/* What crash_loop does after spawning, before the crashing op. */
enum {
    PREP_NONE = 0,
    PREP_OFF = 1,
    PREP_SUSPEND = 2,
    PREP_SOFT_DELETE = 3,
    PREP_RESCUE = 4,
};

static int do_rescue(fixture *fx, const char *uuid, bool rescue,
                     nxl_error *err);

static int do_soft_delete(fixture *fx, const char *uuid, bool del,
                          nxl_error *err);

static int do_suspend(fixture *fx, const char *uuid, bool suspend,
                      nxl_error *err);

static unsigned crash_loop(crash_op_fn *op, bool spawned, int prep,
                           void (*check)(fixture *fx, unsigned k))
{
    unsigned k;

    for (k = 1; k < 100; k++) {
        fixture fx;
        int rc;

        fx_setup(&fx);
        if (spawned)
            spawn_ok(&fx, UUID_A, "instance-0000000a");
        if (prep == PREP_OFF)
            CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
        if (prep == PREP_SUSPEND)
            CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, true, NULL), 0);
        if (prep == PREP_SOFT_DELETE)
            CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, true, NULL), 0);
        if (prep == PREP_RESCUE)
            CU_ASSERT_EQUAL(do_rescue(&fx, UUID_A, true, NULL), 0);
        nxl__xl_driver_crash_after(fx.drv, k);
        rc = op(&fx);
        if (!nxl__xl_driver_crashed(fx.drv)) {
            CU_ASSERT_EQUAL(rc, 0);
            fx_teardown(&fx);
            break;
        }
        CU_ASSERT(rc < 0);
        /* Everything after the crash point is refused, as a dead process
         * would do nothing more. */
        CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_E_FAILED);
        fx_reopen(&fx);
        check(&fx, k);
        fx_teardown(&fx);
    }
    CU_ASSERT(k < 100);
    return k - 1;
}

static void check_spawn_crash(fixture *fx, unsigned k)
{
    char what[64];

    snprintf(what, sizeof(what), "spawn crashed at point %u", k);
    assert_no_leaks(fx, 0, what);
    spawn_ok(fx, UUID_A, "instance-0000000a");
    CU_ASSERT_EQUAL(state_of(fx, UUID_A, NULL), NXL_POWER_RUNNING);
}

static void check_destroy_crash(fixture *fx, unsigned k)
{
    char what[64];
    int state = state_of(fx, UUID_A, NULL);

    /* Killed before its journal was durable, the destroy never happened:
     * the instance is intact. Otherwise it is finished: nothing is left. */
    snprintf(what, sizeof(what), "destroy crashed at point %u", k);
    CU_ASSERT(journal_empty(fx));
    if (state == NXL_POWER_RUNNING) {
        CU_ASSERT_EQUAL(k, 1);
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 1);
        CU_ASSERT_EQUAL(do_destroy(fx, UUID_A, true, NULL), 0);
    } else {
        CU_ASSERT_EQUAL(state, NXL_E_NOT_FOUND);
    }
    assert_no_leaks(fx, 0, what);
}

/* After a crashed power_off, power_on, or reboot: a known instance in a
 * well-defined state (RUNNING, or SHUTDOWN with no domain), at most one
 * domain, no journal; and the usual operations work on it. */
static void check_power_crash(fixture *fx, unsigned k)
{
    int domid, state = state_of(fx, UUID_A, &domid);

    CU_ASSERT(journal_empty(fx));
    CU_ASSERT(state == NXL_POWER_RUNNING || state == NXL_POWER_SHUTDOWN);
    if (state == NXL_POWER_SHUTDOWN) {
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 0);
        CU_ASSERT_EQUAL(domid, -1);
    } else {
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 1);
    }
    if (state != NXL_POWER_RUNNING && state != NXL_POWER_SHUTDOWN)
        fprintf(stderr, "\ncrash at %u: state %d\n", k, state);
    CU_ASSERT_EQUAL(do_power_on(fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(state_of(fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(fx, UUID_A, true, NULL), 0);
    assert_no_leaks(fx, 0, "destroy after a crashed power operation");
}

static void check_pause_crash(fixture *fx, unsigned k)
{
    int state = state_of(fx, UUID_A, NULL);

    (void)k;
    CU_ASSERT(journal_empty(fx));
    CU_ASSERT(state == NXL_POWER_RUNNING || state == NXL_POWER_PAUSED);
    CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 1);
}

static void test_crash_spawn(void)
{
    /* begin (2), instance_dir (2), create (2), unpause (2), the record,
     * the journal's removal. */
    CU_ASSERT(crash_loop(op_spawn, false, false, check_spawn_crash) >= 10);
}

static void test_crash_destroy(void)
{
    CU_ASSERT(crash_loop(op_destroy, true, false, check_destroy_crash) >= 7);
}

static void test_crash_power_off(void)
{
    CU_ASSERT(crash_loop(op_power_off, true, false, check_power_crash) >= 6);
}

static void test_crash_power_on(void)
{
    CU_ASSERT(crash_loop(op_power_on, true, true, check_power_crash) >= 6);
}

static void test_crash_reboot(void)
{
    CU_ASSERT(crash_loop(op_reboot_hard, true, false, check_power_crash) >= 8);
    CU_ASSERT(crash_loop(op_reboot_soft, true, false, check_power_crash) >= 10);
    CU_ASSERT(crash_loop(op_reboot_hard, true, true, check_power_crash) >= 6);
}

static void test_crash_pause(void)
{
    CU_ASSERT(crash_loop(op_pause, true, false, check_pause_crash) >= 3);
}

/* ---- states and errors
 * -------------------------------------------------------- */

static void test_pause_unpause_states(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, &err), NXL_E_INVALID_STATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "not paused"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_PAUSED);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, &err), NXL_E_INVALID_STATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "not running"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);

    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), NXL_E_INVALID_STATE);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), NXL_E_INVALID_STATE);
    /* power_off of a stopped instance succeeds, as in nova. */
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 5, NULL), 0);
    CU_ASSERT(journal_empty(&fx));
    fx_teardown(&fx);
}

static void test_unknown_instance(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance inst;
    bool b = true;

    fx_setup(&fx);
    make_inst(&inst, UUID_A);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, &err),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), UUID_A));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl_instance_trigger_crash_dump(fx.drv, &inst, NULL),
                    NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(nxl_instance_exists(fx.drv, &inst, &b, NULL), 0);
    CU_ASSERT(!b);
    /* The contract: destroying an unknown instance succeeds. */
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, &err), 0);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    assert_no_leaks(&fx, 0, "operations on an unknown instance");
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

static void test_not_connected(void)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *drv = NULL;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance inst;
    nxl_instance_info info;

    cfg.host = "testhost";
    cfg.instances_dir = "/nonexistent/novaxl-test";
    CU_ASSERT_EQUAL_FATAL(nxl_driver_open("libxl", &cfg, &drv, NULL), 0);
    make_inst(&inst, UUID_A);
    CU_ASSERT_EQUAL(nxl_instance_get_info(drv, &inst, &info, &err),
                    NXL_E_HYPERVISOR);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "init_host"));
    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    nxl_driver_close(drv);
}

/* ---- not ours, and behind our back
 * ------------------------------------------- */

static void test_foreign_domains(void)
{
    fixture fx;
    nxl_strv names;
    nxl_port_dominfo *v = NULL;
    char foreign_uuid[NXL_UUID_STRLEN + 1] = "";
    uint32_t foreign;
    size_t n = 0;

    fx_setup(&fx);
    CU_ASSERT_EQUAL(
        nxl__port_fake_external_create(fx.port, "handmade", &foreign), 0);
    CU_ASSERT_EQUAL(fx.port->ops->list(fx.port, &v, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (v[i].domid == foreign)
            memcpy(foreign_uuid, v[i].uuid, sizeof(foreign_uuid));
    free(v);
    spawn_ok(&fx, UUID_A, "instance-0000000a");

    nxl_strv_init(&names);
    CU_ASSERT_EQUAL(nxl_host_list_instances(fx.drv, &names, NULL), 0);
    CU_ASSERT_EQUAL(names.n, 1); /* neither Domain-0 nor handmade */
    nxl_strv_dispose(&names);
    CU_ASSERT_EQUAL(nxl_host_get_num_instances(fx.drv, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(state_of(&fx, foreign_uuid, NULL), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(do_pause(&fx, foreign_uuid, true, NULL), NXL_E_NOT_FOUND);
    /* Destroying it through us "succeeds" (unknown) and touches nothing. */
    CU_ASSERT_EQUAL(do_destroy(&fx, foreign_uuid, true, NULL), 0);
    CU_ASSERT_EQUAL(domains_with(&fx, foreign_uuid), 1);
    CU_ASSERT_EQUAL(state_of(&fx, "00000000-0000-0000-0000-000000000000", NULL),
                    NXL_E_NOT_FOUND);

    /* A restart (init_host) adopts ours and leaves the foreign one be. */
    fx_reopen(&fx);
    CU_ASSERT_EQUAL(domains_with(&fx, foreign_uuid), 1);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 1, "foreign domains");
    fx_teardown(&fx);
}

static void test_out_of_band(void)
{
    fixture fx;
    int domid;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");

    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "pause", domid_of(&fx, UUID_A)), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_PAUSED);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), 0);

    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "crash", domid_of(&fx, UUID_A)), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_CRASHED);
    /* power_on of a crashed domain builds it again. */
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);

    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "poweroff", domid_of(&fx, UUID_A)), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);

    /* xl destroy behind our back: the instance is still known, SHUTDOWN,
     * without a domain, and comes back with power_on. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "destroy", domid_of(&fx, UUID_A)), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domid, -1);
    fx_reopen(&fx);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "out of band");
    fx_teardown(&fx);
}

/* A destroyed domain that stays dying (a zombie: a dom0 process holds one
 * of its pages) beside the instance's next domain under the same UUID:
 * the driver reports and drives the live one, never the zombie, and a
 * zombie alone neither blocks a start nor fails a stop. */
static void test_zombie_domain(void)
{
    fixture fx;
    nxl_port_dominfo *v = NULL;
    size_t n = 0, zombies = 0;
    uint32_t zombie;
    int domid;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    zombie = domid_of(&fx, UUID_A);
    CU_ASSERT_EQUAL(nxl__port_fake_external(fx.port, "hold", zombie), 0);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    /* Listed, dying: the instance is SHUTDOWN, as with no domain. */
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);

    /* power_on makes a domain beside it; everything goes to that one. */
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 2);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_RUNNING);
    CU_ASSERT(domid > 0 && (uint32_t)domid != zombie);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_PAUSED);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_RUNNING);
    CU_ASSERT((uint32_t)domid != zombie);
    /* A restart adopts the live domain, not the zombie. */
    fx_reopen(&fx);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_RUNNING);
    CU_ASSERT((uint32_t)domid != zombie);

    /* destroy, and a new spawn of the same UUID beside the zombie. */
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_E_NOT_FOUND);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_RUNNING);
    CU_ASSERT((uint32_t)domid != zombie);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);

    /* The zombie is the only domain left; it goes once released. */
    CU_ASSERT_EQUAL(fx.port->ops->list(fx.port, &v, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        zombies += v[i].dying && v[i].domid == zombie;
    free(v);
    CU_ASSERT_EQUAL(zombies, 1);
    CU_ASSERT_EQUAL(nxl__port_fake_external(fx.port, "release", zombie), 0);
    assert_no_leaks(&fx, 0, "a zombie domain");
    fx_teardown(&fx);
}

/* ---- power_off, power_on, reboot
 * ------------------------------------------------ */

static void test_power_off(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;
    char *calls;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 10, NULL), 0);
    calls = nxl__port_fake_calls(fx.port);
    /* Asked cleanly, saw it shut down, destroyed it. */
    CU_ASSERT_PTR_NOT_NULL(strstr(calls, "shutdown domain_info"));
    CU_ASSERT_PTR_NOT_NULL(strstr(calls, "destroy"));
    free(calls);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    /* power_on of a running instance changes nothing. */
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    calls = nxl__port_fake_calls(fx.port);
    CU_ASSERT_STRING_EQUAL(calls, "list");
    free(calls);

    /* A guest that ignores the request is destroyed after the timeout. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "hang", domid_of(&fx, UUID_A)), 0);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 1, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);

    /* timeout 0: destroyed at once, the guest is not asked. */
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    calls = nxl__port_fake_calls(fx.port);
    CU_ASSERT_PTR_NULL(strstr(calls, "shutdown"));
    free(calls);

    /* A destroy libxl refuses: InstancePowerOffFailure, still running. */
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    nxl__port_fake_fail(fx.port, "destroy", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, &err), NXL_E_POWER_OFF);
    CU_ASSERT_EQUAL(err.code, NXL_E_POWER_OFF);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "destroy"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT(journal_empty(&fx));
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "power_off");
    fx_teardown(&fx);
}

static void test_reboot(void)
{
    fixture fx;
    nxl_error err = NXL_ERROR_INIT;
    int d0, d1;
    char *calls;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    state_of(&fx, UUID_A, &d0);
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_SOFT, NULL), 0);
    calls = nxl__port_fake_calls(fx.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(calls, "reboot"));
    free(calls);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &d1), NXL_POWER_RUNNING);
    CU_ASSERT(d1 != d0);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);

    /* A guest that does not answer: HARD after the bound. */
    nxl__xl_driver_set_soft_reboot_timeout(fx.drv, 300);
    CU_ASSERT_EQUAL(nxl__port_fake_external(fx.port, "hang", (uint32_t)d1), 0);
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_SOFT, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &d0), NXL_POWER_RUNNING);
    CU_ASSERT(d0 != d1);

    /* From paused and from halted: RUNNING afterwards. */
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_SOFT, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);

    /* create fails: InstanceRebootFailure, and no half domain. */
    nxl__port_fake_fail_after(fx.port, "create", 1, NXL_E_FAILED);
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, &err),
                    NXL_E_REBOOT);
    CU_ASSERT_EQUAL(err.code, NXL_E_REBOOT);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "create"));
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    CU_ASSERT(journal_empty(&fx));
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "reboot");
    fx_teardown(&fx);
}

static void test_crash_dump_and_files(void)
{
    fixture fx;
    nxl_instance inst;
    bool b = false;
    char dir[PATH_MAX * 2];
    struct stat sb;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    make_inst(&inst, UUID_A);
    CU_ASSERT_EQUAL(nxl_instance_trigger_crash_dump(fx.drv, &inst, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_CRASHED);
    CU_ASSERT_EQUAL(nxl_instance_trigger_crash_dump(fx.drv, &inst, NULL),
                    NXL_E_NOT_RUNNING);
    CU_ASSERT_EQUAL(nxl_instance_on_disk(fx.drv, &inst, &b, NULL), 0);
    CU_ASSERT(b);
    CU_ASSERT_EQUAL(nxl_instance_delete_files(fx.drv, &inst, &b, NULL),
                    NXL_E_INVALID_STATE);

    /* destroy without disks keeps the directory for
     * delete_instance_files. */
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, false, NULL), 0);
    snprintf(dir, sizeof(dir), "%s/%s", fx.instances, UUID_A);
    CU_ASSERT_EQUAL(stat(dir, &sb), 0);
    CU_ASSERT_EQUAL(nxl_instance_on_disk(fx.drv, &inst, &b, NULL), 0);
    CU_ASSERT(!b);
    /* Its leftover files block a new spawn until they are deleted. */
    CU_ASSERT_EQUAL(spawn(&fx, UUID_A, "instance-0000000a", NULL),
                    NXL_E_EXISTS);
    b = false;
    CU_ASSERT_EQUAL(nxl_instance_delete_files(fx.drv, &inst, &b, NULL), 0);
    CU_ASSERT(b);
    CU_ASSERT_EQUAL(stat(dir, &sb), -1);
    assert_no_leaks(&fx, 0, "delete_instance_files");
    nxl_instance_dispose(&inst);
    fx_teardown(&fx);
}

/* ---- concurrency
 * --------------------------------------------------------------- */

typedef struct worker {
    fixture *fx;
    unsigned n;
    int rc;
    unsigned invalid;
} worker;

static void *spawn_worker(void *arg)
{
    worker *w = arg;
    char uuid[NXL_UUID_STRLEN + 1], name[32];

    uuid_n(uuid, sizeof(uuid), w->n);
    snprintf(name, sizeof(name), "instance-%08x", w->n);
    w->rc = spawn(w->fx, uuid, name, NULL);
    return NULL;
}

static void *same_spawn_worker(void *arg)
{
    worker *w = arg;

    w->rc = spawn(w->fx, UUID_A, "instance-0000000a", NULL);
    return NULL;
}

static void *pause_worker(void *arg)
{
    worker *w = arg;

    w->rc = 0;
    for (unsigned i = 0; i < 20; i++) {
        int rc = do_pause(w->fx, UUID_A, (i + w->n) % 2 == 0, NULL);

        if (rc == NXL_E_INVALID_STATE)
            w->invalid++;
        else if (rc)
            w->rc = rc;
    }
    return NULL;
}

static void test_concurrency(void)
{
    enum { N = 8 };
    fixture fx;
    pthread_t t[N];
    worker w[N];
    size_t n = 0;
    int ok = 0, exists = 0;

    /* Different instances in parallel. */
    fx_setup(&fx);
    for (unsigned i = 0; i < N; i++) {
        w[i] = (worker){&fx, i + 1, -1, 0};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, spawn_worker, &w[i]),
                              0);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(w[i].rc, 0);
    }
    CU_ASSERT_EQUAL(nxl_host_get_num_instances(fx.drv, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, N);
    CU_ASSERT_EQUAL(domains_with(&fx, NULL), N + 1);
    for (unsigned i = 0; i < N; i++) {
        char uuid[NXL_UUID_STRLEN + 1];

        uuid_n(uuid, sizeof(uuid), i + 1);
        CU_ASSERT_EQUAL(do_destroy(&fx, uuid, true, NULL), 0);
    }
    assert_no_leaks(&fx, 0, "parallel spawns");

    /* One instance, many threads: exactly one spawn wins. */
    for (unsigned i = 0; i < N; i++) {
        w[i] = (worker){&fx, i, -1, 0};
        CU_ASSERT_EQUAL_FATAL(
            pthread_create(&t[i], NULL, same_spawn_worker, &w[i]), 0);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].rc == 0;
        exists += w[i].rc == NXL_E_EXISTS;
    }
    CU_ASSERT_EQUAL(ok, 1);
    CU_ASSERT_EQUAL(exists, N - 1);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);

    /* Pauses and unpauses racing on one instance: each one sees the state
     * the previous one left (serialised), never a half-done one. */
    for (unsigned i = 0; i < N; i++) {
        w[i] = (worker){&fx, i, -1, 0};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, pause_worker, &w[i]),
                              0);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(w[i].rc, 0);
    }
    CU_ASSERT(journal_empty(&fx));
    {
        int s = state_of(&fx, UUID_A, NULL);

        CU_ASSERT(s == NXL_POWER_RUNNING || s == NXL_POWER_PAUSED);
    }
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "racing pauses");
    fx_teardown(&fx);
}

static void test_lock_across_holders(void)
{
    fixture fx;
    nxl_xl_store store;
    nxl_error err = NXL_ERROR_INIT;
    int fd = -1, fd2 = -1;

    /* The lock is a file lock: a second holder (another process, or
     * another thread with its own descriptor) cannot take it. */
    fx_setup(&fx);
    nxl__xl_store_init(&store);
    CU_ASSERT_EQUAL_FATAL(nxl__xl_store_open(&store, fx.instances, NULL), 0);
    CU_ASSERT_EQUAL(nxl__xl_lock(&store, UUID_A, false, &fd, NULL), 0);
    CU_ASSERT_EQUAL(nxl__xl_lock(&store, UUID_A, false, &fd2, &err),
                    NXL_E_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "in progress"));
    nxl_error_dispose(&err);
    /* A journal whose lock is held is not recovered by init_host. */
    {
        nxl_journal j;

        nxl__journal_init(&j);
        memcpy(j.uuid, UUID_A, sizeof(j.uuid));
        j.op = strdup("spawn");
        CU_ASSERT_EQUAL(nxl__xl_journal_save(&store, &j, NULL), 0);
        nxl__journal_dispose(&j);
    }
    fx_reopen(&fx);
    CU_ASSERT(!journal_empty(&fx));
    nxl__xl_unlock(&store, UUID_A, fd, false);
    fx_reopen(&fx);
    assert_no_leaks(&fx, 0, "journal recovered once its lock was free");
    nxl__xl_store_dispose(&store);
    fx_teardown(&fx);
}

/* ---- the documents ----------------------------------------------------------
 */

static void test_store_documents(void)
{
    nxl_journal j, j2;
    nxl_record r, r2;
    nxl_error err = NXL_ERROR_INIT;
    char *doc = NULL;

    nxl__journal_init(&j);
    nxl__journal_init(&j2);
    memcpy(j.uuid, UUID_A, sizeof(j.uuid));
    j.op = strdup("reboot");
    j.domid = 7;
    j.destroy_disks = true;
    nxl_strv_push(&j.steps, "soft");
    nxl_strv_push(&j.steps, "create");
    CU_ASSERT_EQUAL_FATAL(nxl__journal_to_json(&j, &doc, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(nxl__journal_from_json(doc, strlen(doc), &j2, NULL),
                          0);
    CU_ASSERT_STRING_EQUAL(j2.op, "reboot");
    CU_ASSERT_EQUAL(j2.domid, 7);
    CU_ASSERT(j2.destroy_disks);
    CU_ASSERT_EQUAL_FATAL(j2.steps.n, 2);
    CU_ASSERT_STRING_EQUAL(j2.steps.v[1], "create");
    free(doc);
    doc = NULL;
    /* A damaged journal is refused with the field named, never guessed. */
    {
        const char *bad = "{\"version\": 1, \"uuid\": \"" UUID_A "\", "
                          "\"op\": \"../x\", \"steps\": []}";

        nxl__journal_dispose(&j2);
        CU_ASSERT_EQUAL(nxl__journal_from_json(bad, strlen(bad), &j2, &err),
                        NXL_E_INVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "op"));
        nxl_error_dispose(&err);
    }
    nxl__journal_dispose(&j);
    nxl__journal_dispose(&j2);

    nxl__record_init(&r);
    nxl__record_init(&r2);
    memcpy(r.uuid, UUID_A, sizeof(r.uuid));
    r.state = NXL_POWER_SHUTDOWN;
    make_req(&r.req, UUID_A, "instance-0000000a", "kernel-1");
    CU_ASSERT_EQUAL_FATAL(nxl__record_to_json(&r, &doc, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(nxl__record_from_json(doc, strlen(doc), &r2, NULL),
                          0);
    CU_ASSERT_EQUAL(r2.state, NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(r2.domid, -1);
    CU_ASSERT(nxl__spawn_req_equal(&r.req, &r2.req));
    free(doc);
    nxl__record_dispose(&r);
    nxl__record_dispose(&r2);
    {
        const char *bad = "{\"version\": 2, \"uuid\": \"" UUID_A "\"}";

        CU_ASSERT_EQUAL(nxl__record_from_json(bad, strlen(bad), &r2, &err),
                        NXL_E_INVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "version"));
        nxl_error_dispose(&err);
    }
}

/* ---- suspend and resume
 * ---------------------------------------------------------- */

static int do_suspend(fixture *fx, const char *uuid, bool suspend,
                      nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = suspend ? nxl_instance_suspend(fx->drv, &inst, err)
                 : nxl_instance_resume(fx->drv, &inst, NULL, NULL, err);
    nxl_instance_dispose(&inst);
    return rc;
}

/* Whether uuid's instance directory holds name. */
static bool inst_file(fixture *fx, const char *uuid, const char *name)
{
    char path[PATH_MAX * 2];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/%s/%s", fx->instances, uuid, name);
    return lstat(path, &sb) == 0;
}

/* The call fails with code and a message containing text. */
#define CHECK_FAILS(call, want_code, text)                                     \
    do {                                                                       \
        nxl_error e_ = NXL_ERROR_INIT;                                         \
        int rc_ = (call);                                                      \
        CU_ASSERT_EQUAL(rc_, want_code);                                       \
        CU_ASSERT_EQUAL(e_.code, want_code);                                   \
        if (!strstr(nxl_error_message(&e_), text))                             \
            fprintf(stderr, "\nwanted '%s' in: %s\n", text,                    \
                    nxl_error_message(&e_));                                   \
        CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&e_), text));          \
        nxl_error_dispose(&e_);                                                \
    } while (0)

static void test_suspend_resume(void)
{
    fixture fx;
    int domid, old;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    old = (int)domid_of(&fx, UUID_A);
    CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_SUSPENDED);
    CU_ASSERT_EQUAL(domid, -1);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    CU_ASSERT_TRUE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_TEMP));
    CU_ASSERT(journal_empty(&fx));

    /* Wrong states: the contract's error, nothing changed. */
    CHECK_FAILS(do_suspend(&fx, UUID_A, true, &e_), NXL_E_INVALID_STATE,
                "not running");
    CHECK_FAILS(do_pause(&fx, UUID_A, true, &e_), NXL_E_INVALID_STATE,
                "not running");
    CHECK_FAILS(do_power_on(&fx, UUID_A, &e_), NXL_E_INVALID_STATE,
                "resume it");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SUSPENDED);

    /* A restart of the service keeps it suspended, image and all. */
    fx_reopen(&fx);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SUSPENDED);
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, false, NULL), 0);
    {
        char *calls = nxl__port_fake_calls(fx.port);

        CU_ASSERT_PTR_NOT_NULL(strstr(calls, "restore unpause"));
        free(calls);
    }
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_RUNNING);
    CU_ASSERT(domid > 0 && domid != old);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CHECK_FAILS(do_suspend(&fx, UUID_A, false, &e_), NXL_E_INVALID_STATE,
                "not suspended");

    /* Paused: refused (a paused guest cannot answer the request). */
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), 0);
    CHECK_FAILS(do_suspend(&fx, UUID_A, true, &e_), NXL_E_INVALID_STATE,
                "paused, not running");
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), 0);

    /* Destroying a suspended instance without its disks still removes
     * its image. */
    CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CU_ASSERT_TRUE(inst_file(&fx, UUID_A, "."));
    {
        nxl_instance inst;
        bool deleted = false;

        make_inst(&inst, UUID_A);
        CU_ASSERT_EQUAL(
            nxl_instance_delete_files(fx.drv, &inst, &deleted, NULL), 0);
        CU_ASSERT_TRUE(deleted);
        nxl_instance_dispose(&inst);
    }
    assert_no_leaks(&fx, 0, "suspend, resume, destroy");
    fx_teardown(&fx);
}

static void test_suspend_resume_faults(void)
{
    fixture fx;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");

    /* save refused: the guest keeps running, no image is left. */
    CU_ASSERT_EQUAL(nxl__port_fake_fail(fx.port, "save", 1, NXL_E_FAILED), 0);
    CU_ASSERT(do_suspend(&fx, UUID_A, true, NULL) < 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_TEMP));
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CU_ASSERT(journal_empty(&fx));

    /* save fails after the guest suspended itself: its memory is in no
     * complete image, so the instance ends halted, with nothing left. */
    CU_ASSERT_EQUAL(nxl__port_fake_fail_after(fx.port, "save", 1, NXL_E_FAILED),
                    0);
    CU_ASSERT(do_suspend(&fx, UUID_A, true, NULL) < 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_TEMP));
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CU_ASSERT(journal_empty(&fx));
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);

    /* restore fails, before or after creating the domain: still
     * suspended with its image, and a second resume works. */
    CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(nxl__port_fake_fail(fx.port, "restore", 1, NXL_E_FAILED),
                    0);
    CU_ASSERT(do_suspend(&fx, UUID_A, false, NULL) < 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SUSPENDED);
    CU_ASSERT_EQUAL(
        nxl__port_fake_fail_after(fx.port, "restore", 1, NXL_E_FAILED), 0);
    CU_ASSERT(do_suspend(&fx, UUID_A, false, NULL) < 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SUSPENDED);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    CU_ASSERT_TRUE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CU_ASSERT(journal_empty(&fx));
    /* unpause refused after the restore: the driver cannot tell whether
     * the guest ran (a real unpause can fail after taking effect), and a
     * guest that may have run must never go back to its old image (its
     * disks moved on), so the resume is finished, not undone: the domain
     * is unpaused again and the image goes. */
    CU_ASSERT_EQUAL(nxl__port_fake_fail(fx.port, "unpause", 1, NXL_E_FAILED),
                    0);
    CU_ASSERT(do_suspend(&fx, UUID_A, false, NULL) < 0);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CU_ASSERT(journal_empty(&fx));

    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "suspend/resume faults");
    fx_teardown(&fx);
}

static int op_suspend(fixture *fx)
{
    return do_suspend(fx, UUID_A, true, NULL);
}

static int op_resume(fixture *fx)
{
    return do_suspend(fx, UUID_A, false, NULL);
}

/* After a crashed suspend or resume: no journal, no half-written image,
 * and one of three well-defined states, each consistent on disk and in
 * the hypervisor: RUNNING (one domain, no image), SUSPENDED (no domain, a
 * complete image), SHUTDOWN (no domain, no image). Then the instance
 * runs again and is destroyed without leaks. */
static void check_suspend_crash(fixture *fx, unsigned k)
{
    int domid, state = state_of(fx, UUID_A, &domid);
    bool image = inst_file(fx, UUID_A, NXL_XL_SAVE_FILE);
    char what[64];

    CU_ASSERT(journal_empty(fx));
    CU_ASSERT_FALSE(inst_file(fx, UUID_A, NXL_XL_SAVE_TEMP));
    if (state == NXL_POWER_RUNNING) {
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 1);
        CU_ASSERT_FALSE(image);
    } else if (state == NXL_POWER_SUSPENDED) {
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 0);
        CU_ASSERT_TRUE(image);
        CU_ASSERT_EQUAL(do_suspend(fx, UUID_A, false, NULL), 0);
    } else {
        if (state != NXL_POWER_SHUTDOWN)
            fprintf(stderr, "\ncrash at %u: state %d\n", k, state);
        CU_ASSERT_EQUAL(state, NXL_POWER_SHUTDOWN);
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 0);
        CU_ASSERT_FALSE(image);
        CU_ASSERT_EQUAL(do_power_on(fx, UUID_A, NULL), 0);
    }
    CU_ASSERT_EQUAL(state_of(fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(fx, UUID_A, true, NULL), 0);
    snprintf(what, sizeof(what), "suspend/resume crashed at point %u", k);
    assert_no_leaks(fx, 0, what);
}

static void test_crash_suspend(void)
{
    /* begin, save, written, destroy (2 each), after the rename, after
     * the destroy, the journal's removal. */
    CU_ASSERT(crash_loop(op_suspend, true, PREP_NONE, check_suspend_crash) >=
              11);
}

static void test_crash_resume(void)
{
    /* begin, restore, unpause (2 each), after the unpause, removal. */
    CU_ASSERT(crash_loop(op_resume, true, PREP_SUSPEND, check_suspend_crash) >=
              8);
}

/* ---- hooks: host flags and aggregates
 * ------------------------------------------- */

static void test_host_refuses_work(void)
{
    const char *result = NULL;
    nxl_maintenance maint;
    fixture fx;

    fx_setup(&fx);
    CU_ASSERT_EQUAL(nxl_host_set_enabled(fx.drv, false, &result, NULL), 0);
    CHECK_FAILS(spawn(&fx, UUID_A, "instance-0000000a", &e_), NXL_E_DENIED,
                "spawn: host 'testhost' is disabled");
    {
        /* Refused before anything: the hypervisor was not even asked. */
        char *calls = nxl__port_fake_calls(fx.port);

        CU_ASSERT_PTR_NOT_NULL(calls);
        if (calls && calls[0])
            fprintf(stderr, "\ncalls: %s\n", calls);
        CU_ASSERT_STRING_EQUAL(calls ? calls : "x", "");
        free(calls);
    }
    assert_no_leaks(&fx, 0, "spawn on a disabled host");
    CU_ASSERT_EQUAL(nxl_host_set_enabled(fx.drv, true, &result, NULL), 0);
    /* Entering maintenance with nothing on the host: nothing to report. */
    nxl_maintenance_init(&maint);
    CU_ASSERT_EQUAL(
        nxl_host_maintenance_mode(fx.drv, "testhost", true, &maint, NULL), 0);
    CU_ASSERT_STRING_EQUAL(maint.state ?: "", "on_maintenance");
    CU_ASSERT_EQUAL(maint.not_evacuated.n, 0);
    CU_ASSERT_PTR_NULL(maint.reason);
    CHECK_FAILS(spawn(&fx, UUID_A, "instance-0000000a", &e_), NXL_E_DENIED,
                "spawn: host 'testhost' is in maintenance");
    assert_no_leaks(&fx, 0, "spawn on a host in maintenance");
    CU_ASSERT_EQUAL(
        nxl_host_maintenance_mode(fx.drv, "testhost", false, &maint, NULL), 0);
    CU_ASSERT_STRING_EQUAL(maint.state ?: "", "off_maintenance");
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    spawn_ok(&fx, UUID_B, "instance-0000000b");
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_B, 1, NULL), 0);
    /* Entering it with two instances, one running and one halted: both
     * stay (no migration target), both are reported, and both are left
     * as they were. */
    CU_ASSERT_EQUAL(
        nxl_host_maintenance_mode(fx.drv, "testhost", true, &maint, NULL), 0);
    CU_ASSERT_STRING_EQUAL(maint.state ?: "", "on_maintenance");
    CU_ASSERT_EQUAL(maint.not_evacuated.n, 2);
    CU_ASSERT(maint.not_evacuated.n == 2 &&
              ((strcmp(maint.not_evacuated.v[0], UUID_A) == 0 &&
                strcmp(maint.not_evacuated.v[1], UUID_B) == 0) ||
               (strcmp(maint.not_evacuated.v[0], UUID_B) == 0 &&
                strcmp(maint.not_evacuated.v[1], UUID_A) == 0)));
    CU_ASSERT(maint.reason && strstr(maint.reason, "no migration target") &&
              strstr(maint.reason, "2 instances stay on host 'testhost'"));
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_B, NULL), NXL_POWER_SHUTDOWN);
    /* Leaving it reports nothing, and spawns go through again. */
    CU_ASSERT_EQUAL(
        nxl_host_maintenance_mode(fx.drv, "testhost", false, &maint, NULL), 0);
    CU_ASSERT_STRING_EQUAL(maint.state ?: "", "off_maintenance");
    CU_ASSERT_EQUAL(maint.not_evacuated.n, 0);
    CU_ASSERT_PTR_NULL(maint.reason);
    nxl_maintenance_dispose(&maint);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_B, true, NULL), 0);
    fx_teardown(&fx);
}

static int apply_die(void *opaque, const char *op, const nxl_aggregate *agg,
                     const char *host, nxl_error *err)
{
    (void)opaque;
    (void)op;
    (void)agg;
    (void)host;
    (void)err;
    _exit(0); /* killed between the two transitions */
}

static int agg_state(int64_t id)
{
    nxl_agg_record r;
    nxl_xs *xs = NULL;
    int state = -1;

    nxl_agg_record_init(&r);
    if (nxl_xs_open(&xs, NULL) == 0 &&
        nxl_agg_get(xs, NXL_AGG_XS_ROOT, id, &r, NULL) == 0)
        state = r.state;
    nxl_agg_record_dispose(&r);
    nxl_xs_close(xs);
    return state;
}

static void test_init_host_recovers_aggregates(void)
{
    nxl_aggregate a;
    nxl_error err = NXL_ERROR_INIT;
    fixture fx;
    pid_t pid;
    int status = -1;

    nxl_aggregate_init(&a);
    a.id = 77;
    a.name = strdup("pool-77");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.name);
    fx_setup(&fx);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        nxl_xs *h = NULL;

        if (nxl_xs_open(&h, NULL) != 0)
            _exit(2);
        nxl_agg_add_host(h, NXL_AGG_XS_ROOT, &a, "testhost", apply_die, NULL,
                         NULL);
        _exit(3);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(agg_state(77), NXL_AGG_CHANGING);
    /* A restarted driver's init_host turns it into error... */
    fx_reopen(&fx);
    CU_ASSERT_EQUAL(agg_state(77), NXL_AGG_ERROR);
    /* ...which undo settles, and the aggregate works again. */
    if (nxl_aggregate_undo_operation(fx.drv, "add_to_aggregate", &a, "testhost",
                                     false, &err))
        fprintf(stderr, "undo: %s\n", nxl_error_message(&err));
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    CU_ASSERT_NOT_EQUAL(agg_state(77), NXL_AGG_ERROR);
    CU_ASSERT_NOT_EQUAL(agg_state(77), NXL_AGG_CHANGING);
    nxl_error_dispose(&err);
    fx_teardown(&fx);
    nxl_aggregate_dispose(&a);
}

/* ---- events
 * ------------------------------------------------------------------------ */

#define MAX_EVENTS 4096

typedef struct ev_log {
    pthread_mutex_t lock;
    size_t n;
    nxl_event v[MAX_EVENTS];
} ev_log;

static void on_event(void *opaque, const nxl_event *ev)
{
    ev_log *log = opaque;

    pthread_mutex_lock(&log->lock);
    if (log->n < MAX_EVENTS)
        log->v[log->n++] = *ev;
    pthread_mutex_unlock(&log->lock);
}

static ev_log *ev_log_new(fixture *fx)
{
    ev_log *log = calloc(1, sizeof(*log));

    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    pthread_mutex_init(&log->lock, NULL);
    CU_ASSERT_EQUAL(
        nxl_driver_register_event_listener(fx->drv, on_event, log, NULL), 0);
    return log;
}

static void ev_log_free(fixture *fx, ev_log *log)
{
    if (fx->drv)
        nxl_driver_register_event_listener(fx->drv, NULL, NULL, NULL);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

/* The transitions of uuid's events from index *from on, as names
 * ("started paused"); *from moves past them. */
static void ev_names(ev_log *log, const char *uuid, size_t *from, char *out,
                     size_t size)
{
    out[0] = '\0';
    pthread_mutex_lock(&log->lock);
    for (; *from < log->n; (*from)++) {
        size_t used = strlen(out);

        if (strcmp(log->v[*from].uuid, uuid) != 0)
            continue;
        CU_ASSERT(log->v[*from].timestamp_us > 0);
        snprintf(out + used, size - used, "%s%s", used ? " " : "",
                 nxl_event_transition_name(log->v[*from].transition));
    }
    pthread_mutex_unlock(&log->lock);
}

/* Waits up to 5 s until uuid's events from *from on are exactly want
 * (then *from moves past them). */
static void expect_events(ev_log *log, const char *uuid, size_t *from,
                          const char *want)
{
    char got[512] = "";

    for (int i = 0; i < 500; i++) {
        size_t at = *from;

        ev_names(log, uuid, &at, got, sizeof(got));
        if (strcmp(got, want) == 0) {
            *from = at;
            return;
        }
        if (strlen(got) > strlen(want))
            break;
        usleep(10000);
    }
    fprintf(stderr, "\nevents: wanted '%s', got '%s'\n", want, got);
    CU_FAIL("unexpected events");
}

/* No event for uuid from *from on, after waiting a few poll rounds. */
static void expect_quiet(ev_log *log, const char *uuid, size_t *from,
                         unsigned ms)
{
    char got[512];
    size_t at = *from;

    usleep(ms * 1000);
    ev_names(log, uuid, &at, got, sizeof(got));
    if (got[0])
        fprintf(stderr, "\nevents: wanted none, got '%s'\n", got);
    CU_ASSERT_STRING_EQUAL(got, "");
}

static void test_events_own_operations(void)
{
    fixture fx;
    ev_log *log;
    size_t at = 0;

    /* No event thread: every event here comes from the operation. */
    fx_setup(&fx);
    log = ev_log_new(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    expect_events(log, UUID_A, &at, "started");
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), 0);
    expect_events(log, UUID_A, &at, "paused");
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), 0);
    expect_events(log, UUID_A, &at, "resumed");
    CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, true, NULL), 0);
    expect_events(log, UUID_A, &at, "suspended");
    CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, false, NULL), 0);
    expect_events(log, UUID_A, &at, "resumed");
    /* A reboot goes from running to running: nothing to report. */
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, NULL), 0);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    expect_events(log, UUID_A, &at, "stopped");
    /* A refused operation reports nothing. */
    CU_ASSERT(do_pause(&fx, UUID_A, true, NULL) < 0);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    expect_events(log, UUID_A, &at, "started");
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    expect_events(log, UUID_A, &at, "stopped");
    ev_log_free(&fx, log);
    fx_teardown(&fx);
}

static void test_events_out_of_band(void)
{
    fixture fx;
    ev_log *log;
    size_t at = 0;
    int domid, before;

    fx_setup(&fx);
    fx.events_ms = 20;
    fx_reopen(&fx);
    log = ev_log_new(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    expect_events(log, UUID_A, &at, "started");
    /* Nothing happens: nothing is reported, however often it looks. */
    expect_quiet(log, UUID_A, &at, 100);

    /* libxl has no pause event: the thread's look finds it. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "pause", domid_of(&fx, UUID_A)), 0);
    expect_events(log, UUID_A, &at, "paused");
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "unpause", domid_of(&fx, UUID_A)), 0);
    expect_events(log, UUID_A, &at, "resumed");

    /* A crash (libxl's shutdown event): reported, the domain kept. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "crash", domid_of(&fx, UUID_A)), 0);
    expect_events(log, UUID_A, &at, "crashed");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_CRASHED);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    expect_events(log, UUID_A, &at, "started");

    /* The guest powers itself off: reported, and its shut-down domain
     * reaped, as xl's on_poweroff=destroy does. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "poweroff", domid_of(&fx, UUID_A)), 0);
    expect_events(log, UUID_A, &at, "stopped");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domid, -1);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    CU_ASSERT(journal_empty(&fx));
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    expect_events(log, UUID_A, &at, "started");

    /* The guest reboots itself: built again under a new domid, the
     * instance stays RUNNING, and that is no event. */
    before = (int)domid_of(&fx, UUID_A);
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "reboot", (uint32_t)before), 0);
    /* get_info takes no lock: wait for the rebuild to finish (the new
     * domain is created paused, then unpaused). */
    for (int i = 0;
         i < 500 && ((int)domid_of(&fx, UUID_A) == before ||
                     state_of(&fx, UUID_A, NULL) != NXL_POWER_RUNNING ||
                     !journal_empty(&fx));
         i++)
        usleep(10000);
    CU_ASSERT_NOT_EQUAL((int)domid_of(&fx, UUID_A), before);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(domid, (int)domid_of(&fx, UUID_A));
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    expect_quiet(log, UUID_A, &at, 100);
    /* ...and its new domain is watched: xl destroy of it is seen. */
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "destroy", domid_of(&fx, UUID_A)), 0);
    expect_events(log, UUID_A, &at, "stopped");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_SHUTDOWN);

    /* The driver's own operations are reported once, not again by the
     * thread. */
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), 0);
    expect_events(log, UUID_A, &at, "started paused resumed");
    expect_quiet(log, UUID_A, &at, 100);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    expect_events(log, UUID_A, &at, "stopped");
    assert_no_leaks(&fx, 0, "events out of band");
    ev_log_free(&fx, log);
    fx_teardown(&fx);
}

/* xl destroy behind the driver's back: libxl pauses the domain, takes its
 * time tearing the devices down, then destroys it. The thread's looks in
 * between see a paused domain that is not dying; the listener must hear
 * only `stopped`. A pause that lasts is still told. */
static void test_events_destroy_pauses_first(void)
{
    fixture fx;
    ev_log *log;
    size_t at = 0;

    fx_setup(&fx);
    fx.events_ms = 20;
    fx_reopen(&fx);
    log = ev_log_new(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    expect_events(log, UUID_A, &at, "started");
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "pause", domid_of(&fx, UUID_A)), 0);
    /* Several looks (every 20 ms), fewer than the settle's 10. */
    usleep(100 * 1000);
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "destroy", domid_of(&fx, UUID_A)), 0);
    expect_events(log, UUID_A, &at, "stopped");
    expect_quiet(log, UUID_A, &at, 300);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    expect_events(log, UUID_A, &at, "started");
    CU_ASSERT_EQUAL(
        nxl__port_fake_external(fx.port, "pause", domid_of(&fx, UUID_A)), 0);
    expect_events(log, UUID_A, &at, "paused");
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    expect_events(log, UUID_A, &at, "stopped");
    assert_no_leaks(&fx, 0, "destroy after an out-of-band pause");
    ev_log_free(&fx, log);
    fx_teardown(&fx);
}

/* Operations from several threads while the event thread runs and xl
 * pauses domains behind the driver's back: no crash, no race the
 * sanitizers see, and each instance's events make sense in order. */
#define EV_THREADS 3
#define EV_ROUNDS 15

typedef struct ev_worker {
    fixture *fx;
    char uuid[NXL_UUID_STRLEN + 1];
    int failures;
} ev_worker;

static void *ev_worker_main(void *p)
{
    ev_worker *w = p;
    char name[32];

    snprintf(name, sizeof(name), "instance-%s", w->uuid + 28);
    for (int i = 0; i < EV_ROUNDS; i++) {
        nxl_error err = NXL_ERROR_INIT;

        if (spawn(w->fx, w->uuid, name, &err) != 0) {
            fprintf(stderr, "\nspawn: %s\n", nxl_error_message(&err));
            nxl_error_dispose(&err);
            w->failures++;
            break;
        }
        /* Pause and unpause may lose to xl's pause: then refused, fine. */
        do_pause(w->fx, w->uuid, true, NULL);
        do_pause(w->fx, w->uuid, false, NULL);
        if (do_destroy(w->fx, w->uuid, true, &err) != 0) {
            fprintf(stderr, "\ndestroy: %s\n", nxl_error_message(&err));
            w->failures++;
        }
        nxl_error_dispose(&err);
    }
    return NULL;
}

static void test_events_threads(void)
{
    ev_worker w[EV_THREADS];
    pthread_t t[EV_THREADS];
    fixture fx;
    ev_log *log;

    fx_setup(&fx);
    fx.events_ms = 2;
    fx_reopen(&fx);
    log = ev_log_new(&fx);
    for (int i = 0; i < EV_THREADS; i++) {
        w[i].fx = &fx;
        w[i].failures = 0;
        uuid_n(w[i].uuid, sizeof(w[i].uuid), 100 + (unsigned)i);
        CU_ASSERT_EQUAL_FATAL(
            pthread_create(&t[i], NULL, ev_worker_main, &w[i]), 0);
    }
    for (int k = 0; k < 200; k++) {
        nxl_port_dominfo *v = NULL;
        size_t n = 0;

        /* xl pausing and unpausing whatever runs. */
        if (fx.port->ops->list(fx.port, &v, &n, NULL) == 0 && n > 1)
            nxl__port_fake_external(fx.port, k % 2 ? "unpause" : "pause",
                                    v[1 + (size_t)k % (n - 1)].domid);
        free(v);
        usleep(500);
    }
    for (int i = 0; i < EV_THREADS; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(w[i].failures, 0);
    }
    usleep(50000);
    for (int i = 0; i < EV_THREADS; i++) {
        int last = -1, started = 0, stopped = 0;

        pthread_mutex_lock(&log->lock);
        for (size_t k = 0; k < log->n; k++) {
            int tr = log->v[k].transition;

            if (strcmp(log->v[k].uuid, w[i].uuid) != 0)
                continue;
            /* One change is reported once: never the same twice in a
             * row, never a pause or resume of a stopped instance. */
            CU_ASSERT_NOT_EQUAL(tr, last);
            if (tr == NXL_EVENT_PAUSED || tr == NXL_EVENT_RESUMED)
                CU_ASSERT(last != NXL_EVENT_STOPPED && last != -1);
            started += tr == NXL_EVENT_STARTED;
            stopped += tr == NXL_EVENT_STOPPED;
            last = tr;
        }
        pthread_mutex_unlock(&log->lock);
        CU_ASSERT_EQUAL(started, EV_ROUNDS);
        CU_ASSERT_EQUAL(stopped, EV_ROUNDS);
        CU_ASSERT_EQUAL(last, NXL_EVENT_STOPPED);
    }
    assert_no_leaks(&fx, 0, "events under threads");
    ev_log_free(&fx, log);
    fx_teardown(&fx);
}

/* ---- soft_delete and restore
 * ------------------------------------------------------ */

static int do_soft_delete(fixture *fx, const char *uuid, bool del,
                          nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = del ? nxl_instance_soft_delete(fx->drv, &inst, err)
             : nxl_instance_restore(fx->drv, &inst, err);
    nxl_instance_dispose(&inst);
    return rc;
}

static void test_soft_delete_restore(void)
{
    fixture fx;
    ev_log *log;
    size_t at = 0;
    int domid;

    fx_setup(&fx);
    log = ev_log_new(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    CHECK_FAILS(do_soft_delete(&fx, UUID_A, false, &e_), NXL_E_INVALID_STATE,
                "not soft-deleted");
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domid, -1);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    /* Idempotent; still an instance; only restore brings it back. */
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, true, NULL), 0);
    CHECK_FAILS(do_power_on(&fx, UUID_A, &e_), NXL_E_INVALID_STATE,
                "soft-deleted; restore it");
    CHECK_FAILS(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, &e_),
                NXL_E_INVALID_STATE, "soft-deleted; restore it");
    fx_reopen(&fx); /* the mark survives a restart */
    nxl_driver_register_event_listener(fx.drv, on_event, log, NULL);
    CHECK_FAILS(do_power_on(&fx, UUID_A, &e_), NXL_E_INVALID_STATE,
                "soft-deleted");
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    expect_events(log, UUID_A, &at, "started stopped started");
    /* A suspended instance loses its image too: it holds nothing. */
    CU_ASSERT_EQUAL(do_suspend(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_FALSE(inst_file(&fx, UUID_A, NXL_XL_SAVE_FILE));
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    /* A failed boot leaves an ordinary halted instance. */
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(nxl__port_fake_fail(fx.port, "create", 1, NXL_E_FAILED), 0);
    CU_ASSERT(do_soft_delete(&fx, UUID_A, false, NULL) < 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT(journal_empty(&fx));
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "soft_delete and restore");
    ev_log_free(&fx, log);
    fx_teardown(&fx);
}

static int op_soft_delete(fixture *fx)
{
    return do_soft_delete(fx, UUID_A, true, NULL);
}

static int op_restore(fixture *fx)
{
    return do_soft_delete(fx, UUID_A, false, NULL);
}

/* After a crashed soft_delete or restore: no journal, and RUNNING with
 * its domain, or halted without one (soft-deleted or not); restore or
 * power_on, whichever fits, then brings it back. */
static void check_soft_delete_crash(fixture *fx, unsigned k)
{
    int state = state_of(fx, UUID_A, NULL);
    char what[64];

    CU_ASSERT(journal_empty(fx));
    if (state == NXL_POWER_RUNNING) {
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 1);
    } else {
        CU_ASSERT_EQUAL(state, NXL_POWER_SHUTDOWN);
        CU_ASSERT_EQUAL(domains_with(fx, UUID_A), 0);
        if (do_soft_delete(fx, UUID_A, false, NULL) != 0)
            CU_ASSERT_EQUAL(do_power_on(fx, UUID_A, NULL), 0);
    }
    CU_ASSERT_EQUAL(state_of(fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(fx, UUID_A, true, NULL), 0);
    snprintf(what, sizeof(what), "soft_delete/restore crashed at %u", k);
    assert_no_leaks(fx, 0, what);
}

static void test_crash_soft_delete(void)
{
    CU_ASSERT(crash_loop(op_soft_delete, true, PREP_NONE,
                         check_soft_delete_crash) >= 6);
    CU_ASSERT(crash_loop(op_restore, true, PREP_SOFT_DELETE,
                         check_soft_delete_crash) >= 6);
}

/* ---- rebuild, rescue, cleanup, set_bootable, host boot, stuck reboots
 * -------- */

/* The first bytes of uuid's <name>, NUL-terminated ("" when unreadable). */
static void inst_head(fixture *fx, const char *uuid, const char *name,
                      char *buf, size_t size)
{
    char path[PATH_MAX * 2];
    FILE *f;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s/%s", fx->instances, uuid, name);
    if ((f = fopen(path, "r"))) {
        n = fread(buf, 1, size - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

static void put_inst_file(fixture *fx, const char *uuid, const char *name,
                          const char *text)
{
    char dir[PATH_MAX * 2];

    snprintf(dir, sizeof(dir), "%s/%s", fx->instances, uuid);
    write_file(dir, name, text);
}

/* A request for uuid whose root disk is the raw image `image`. */
static void make_raw_req(fixture *fx, nxl_spawn_req *req, const char *uuid,
                         const char *image, const char *content)
{
    write_file(fx->images, image, content);
    make_req(req, uuid, "instance-0000000a", "kernel-1");
    free(req->image_meta.disk_format);
    req->image_meta.disk_format = strdup("raw");
    free(req->image_meta.id);
    req->image_meta.id = strdup(image);
    req->instance.image_ref = strdup(image);
    req->instance.root_gb = 1;
    req->instance.ephemeral_gb = 1;
}

typedef struct bd_log {
    char calls[64];
    int fail_detach;
} bd_log;

static int bd_cb(void *opaque, bool attach, const nxl_instance *inst,
                 const nxl_block_device_info *bdms, nxl_error *err)
{
    bd_log *log = opaque;
    size_t used = strlen(log->calls);

    (void)inst;
    (void)bdms;
    snprintf(log->calls + used, sizeof(log->calls) - used, "%s%s",
             used ? " " : "", attach ? "attach" : "detach");
    if (!attach && log->fail_detach)
        return nxl_error_set(err, NXL_E_FAILED, "volume layer refused");
    return 0;
}

static int do_rebuild(fixture *fx, const char *image, const char *content,
                      bool preserve, bd_log *log, nxl_error *err)
{
    nxl_spawn_req req;
    int rc;

    make_raw_req(fx, &req, UUID_A, image, content);
    rc = nxl_instance_rebuild(fx->drv, &req, log ? bd_cb : NULL, log, false,
                              preserve, err);
    nxl_spawn_req_dispose(&req);
    return rc;
}

static void spawn_raw(fixture *fx)
{
    nxl_spawn_req req;

    make_raw_req(fx, &req, UUID_A, "raw-1", "OLDDISK");
    CU_ASSERT_EQUAL(nxl_instance_spawn(fx->drv, &req, NULL), 0);
    nxl_spawn_req_dispose(&req);
}

static void test_rebuild(void)
{
    fixture fx;
    nxl_spawn_req req;
    bd_log log = {"", 0};
    char head[8];
    int domid, domid2;

    fx_setup(&fx);
    spawn_raw(&fx);
    put_inst_file(&fx, UUID_A, "disk.eph0", "EPHDATA");
    state_of(&fx, UUID_A, &domid);

    /* preserve_ephemeral: a new root disk, the ephemeral kept. */
    CU_ASSERT_EQUAL(do_rebuild(&fx, "raw-2", "NEWDISK", true, &log, NULL), 0);
    CU_ASSERT_STRING_EQUAL(log.calls, "detach attach");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, &domid2), NXL_POWER_RUNNING);
    CU_ASSERT_NOT_EQUAL(domid, domid2);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    inst_head(&fx, UUID_A, "disk", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "NEWDISK");
    inst_head(&fx, UUID_A, "disk.eph0", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "EPHDATA");
    CU_ASSERT(journal_empty(&fx));
    CU_ASSERT(!inst_file(&fx, UUID_A, "disk.rebuild"));
    CU_ASSERT(!inst_file(&fx, UUID_A, NXL_XL_RECORD_PENDING));

    /* The record boots the new image from now on. */
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, NULL), 0);
    inst_head(&fx, UUID_A, "disk", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "NEWDISK");

    /* Without it, the ephemeral disk is made afresh (blank); from a
     * halted instance too, which ends RUNNING. */
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    CU_ASSERT_EQUAL(do_rebuild(&fx, "raw-3", "RAW3333", false, NULL, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    inst_head(&fx, UUID_A, "disk.eph0", head, sizeof(head));
    CU_ASSERT_EQUAL(head[0], '\0');
    inst_head(&fx, UUID_A, "disk", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "RAW3333");

    /* Refusals leave the instance as it was: a missing image, a paused
     * instance, recreate, an unknown instance. */
    state_of(&fx, UUID_A, &domid);
    nxl__port_fake_calls_reset(fx.port);
    make_raw_req(&fx, &req, UUID_A, "raw-4", "X");
    free(req.instance.image_ref);
    req.instance.image_ref = strdup("no-such-image");
    CHECK_FAILS(
        nxl_instance_rebuild(fx.drv, &req, NULL, NULL, false, false, &e_),
        NXL_E_FAILED, "no-such-image");
    CHECK_FAILS(
        nxl_instance_rebuild(fx.drv, &req, NULL, NULL, true, false, &e_),
        NXL_E_UNSUPPORTED, "recreate");
    nxl_spawn_req_dispose(&req);
    state_of(&fx, UUID_A, &domid2);
    CU_ASSERT_EQUAL(domid, domid2);
    inst_head(&fx, UUID_A, "disk", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "RAW3333");
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, true, NULL), 0);
    CHECK_FAILS(do_rebuild(&fx, "raw-4", "X", false, NULL, &e_),
                NXL_E_INVALID_STATE, "paused");
    CU_ASSERT_EQUAL(do_pause(&fx, UUID_A, false, NULL), 0);
    make_raw_req(&fx, &req, "00000000-0000-4000-8000-000000000077", "raw-4",
                 "X");
    CHECK_FAILS(
        nxl_instance_rebuild(fx.drv, &req, NULL, NULL, false, false, &e_),
        NXL_E_NOT_FOUND, "");
    nxl_spawn_req_dispose(&req);

    /* The volume layer refusing the detach: the old domain is gone, so
     * the instance is left halted on its old image, nothing half-made. */
    log.calls[0] = '\0';
    log.fail_detach = 1;
    CHECK_FAILS(do_rebuild(&fx, "raw-5", "RAW5555", false, &log, &e_),
                NXL_E_FAILED, "volume layer refused");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    inst_head(&fx, UUID_A, "disk", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "RAW3333");
    CU_ASSERT(!inst_file(&fx, UUID_A, "disk.rebuild"));
    CU_ASSERT(journal_empty(&fx));

    /* A failing create after the commit: halted on the new image. */
    nxl__port_fake_fail(fx.port, "create", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(do_rebuild(&fx, "raw-6", "RAW6666", false, NULL, NULL),
                    NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    inst_head(&fx, UUID_A, "disk", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "RAW6666");
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "rebuild");
    fx_teardown(&fx);
}

static int op_rebuild(fixture *fx)
{
    return do_rebuild(fx, "raw-2", "NEWDISK", true, NULL, NULL);
}

/* After a crashed rebuild: no journal, no temporaries, RUNNING or
 * SHUTDOWN, and the root disk matches the image the record names (the
 * old "kernel-1" instance has a blank one, the new one NEWDISK). */
static void check_rebuild_crash(fixture *fx, unsigned k)
{
    char head[8], path[PATH_MAX * 2], *doc = NULL, what[64];
    size_t len = 0;
    int state = state_of(fx, UUID_A, NULL);

    CU_ASSERT(journal_empty(fx));
    CU_ASSERT(state == NXL_POWER_RUNNING || state == NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(fx, UUID_A),
                    state == NXL_POWER_RUNNING ? 1 : 0);
    CU_ASSERT(!inst_file(fx, UUID_A, "disk.rebuild"));
    CU_ASSERT(!inst_file(fx, UUID_A, "disk.eph0.rebuild"));
    CU_ASSERT(!inst_file(fx, UUID_A, NXL_XL_RECORD_PENDING));
    snprintf(path, sizeof(path), "%s/%s/novaxl.json", fx->instances, UUID_A);
    CU_ASSERT_EQUAL_FATAL(
        nxl__read_file_capped(path, 1 << 20, &doc, &len, NULL), 0);
    inst_head(fx, UUID_A, "disk", head, sizeof(head));
    if (strstr(doc, "\"raw-2\"")) {
        CU_ASSERT_STRING_EQUAL(head, "NEWDISK");
    } else {
        CU_ASSERT_EQUAL(head[0], '\0');
    }
    free(doc);
    if (state != NXL_POWER_RUNNING)
        CU_ASSERT_EQUAL(do_power_on(fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(state_of(fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(do_destroy(fx, UUID_A, true, NULL), 0);
    snprintf(what, sizeof(what), "rebuild crashed at %u", k);
    assert_no_leaks(fx, 0, what);
}

static void test_crash_rebuild(void)
{
    /* begin, prepare, destroy, commit (each before and after), the point
     * after the commit, create, unpause, the record, the end. */
    CU_ASSERT(crash_loop(op_rebuild, true, PREP_NONE, check_rebuild_crash) >=
              12);
    CU_ASSERT(crash_loop(op_rebuild, true, PREP_OFF, check_rebuild_crash) >=
              10);
}

static void make_rescue_image(fixture *fx, nxl_image_meta *im)
{
    write_file(fx->images, "rescue-1", "RESCUE!");
    nxl_image_meta_init(im);
    im->id = strdup("rescue-1");
    im->disk_format = strdup("raw");
}

static int do_rescue(fixture *fx, const char *uuid, bool rescue, nxl_error *err)
{
    nxl_instance inst;
    nxl_image_meta im;
    int rc;

    make_inst(&inst, uuid);
    make_rescue_image(fx, &im);
    rc = rescue ? nxl_instance_rescue(fx->drv, &inst, NULL, &im, "pw", err)
                : nxl_instance_unrescue(fx->drv, &inst, NULL, err);
    nxl_image_meta_dispose(&im);
    nxl_instance_dispose(&inst);
    return rc;
}

/* The libxl config of uuid's domain, as the fake keeps it. */
static char *domain_config(fixture *fx, const char *uuid)
{
    char *json = NULL;

    CU_ASSERT_EQUAL(fx->port->ops->retrieve_config(fx->port, domid_of(fx, uuid),
                                                   &json, NULL),
                    0);
    return json ? json : strdup("");
}

static void test_rescue_unrescue(void)
{
    fixture fx;
    char head[8], *cfg;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    put_inst_file(&fx, UUID_A, "disk", "OWNDISK");
    CU_ASSERT_EQUAL(do_rescue(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    inst_head(&fx, UUID_A, RESCUE_DISK_NAME, head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "RESCUE!");
    inst_head(&fx, UUID_A, "disk", head, sizeof(head));
    CU_ASSERT_STRING_EQUAL(head, "OWNDISK"); /* untouched */
    /* It boots the rescue disk at xvda, its own root disk at xvdb. */
    cfg = domain_config(&fx, UUID_A);
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg, "/" RESCUE_DISK_NAME "\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg, "/disk\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg, "\"xvdb\""));
    free(cfg);

    /* Wrong states. */
    CHECK_FAILS(do_rescue(&fx, UUID_A, true, &e_), NXL_E_INVALID_STATE,
                "rescued already");
    CHECK_FAILS(
        do_rescue(&fx, "00000000-0000-4000-8000-000000000077", true, &e_),
        NXL_E_NOT_FOUND, "");
    CHECK_FAILS(
        do_rescue(&fx, "00000000-0000-4000-8000-000000000077", false, &e_),
        NXL_E_NOT_FOUND, "");

    /* Powered off and on, it is still the rescue domain. */
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    cfg = domain_config(&fx, UUID_A);
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg, RESCUE_DISK_NAME));
    free(cfg);

    /* unrescue: its own disks again, the rescue disk gone. */
    CU_ASSERT_EQUAL(do_rescue(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT(!inst_file(&fx, UUID_A, RESCUE_DISK_NAME));
    cfg = domain_config(&fx, UUID_A);
    CU_ASSERT_PTR_NULL(strstr(cfg, RESCUE_DISK_NAME));
    CU_ASSERT_PTR_NULL(strstr(cfg, "\"xvdb\""));
    free(cfg);
    CHECK_FAILS(do_rescue(&fx, UUID_A, false, &e_), NXL_E_INVALID_STATE,
                "not rescued");

    /* A missing rescue image is refused before anything changes. */
    {
        nxl_instance inst;
        nxl_image_meta im;
        int domid, domid2;

        state_of(&fx, UUID_A, &domid);
        make_inst(&inst, UUID_A);
        make_rescue_image(&fx, &im);
        free(im.id);
        im.id = strdup("no-such-rescue");
        CHECK_FAILS(nxl_instance_rescue(fx.drv, &inst, NULL, &im, NULL, &e_),
                    NXL_E_FAILED, "no-such-rescue");
        state_of(&fx, UUID_A, &domid2);
        CU_ASSERT_EQUAL(domid, domid2);
        CU_ASSERT(!inst_file(&fx, UUID_A, RESCUE_DISK_NAME));
        nxl_image_meta_dispose(&im);
        nxl_instance_dispose(&inst);
    }

    /* A failing create: rolled back, halted and not rescued. */
    nxl__port_fake_fail(fx.port, "create", 1, NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(do_rescue(&fx, UUID_A, true, NULL), NXL_E_HYPERVISOR);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT(!inst_file(&fx, UUID_A, RESCUE_DISK_NAME));
    CU_ASSERT_EQUAL(do_rescue(&fx, UUID_A, false, NULL), NXL_E_INVALID_STATE);

    /* A soft-deleted instance is not rescued; a destroy without disks
     * takes a rescue disk along. */
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, true, NULL), 0);
    CHECK_FAILS(do_rescue(&fx, UUID_A, true, &e_), NXL_E_INVALID_STATE,
                "soft-deleted");
    CU_ASSERT_EQUAL(do_soft_delete(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT_EQUAL(do_rescue(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT(!inst_file(&fx, UUID_A, RESCUE_DISK_NAME));
    CU_ASSERT(inst_file(&fx, UUID_A, "disk"));
    fx_teardown(&fx);
}

static int op_rescue(fixture *fx)
{
    return do_rescue(fx, UUID_A, true, NULL);
}

static int op_unrescue(fixture *fx)
{
    return do_rescue(fx, UUID_A, false, NULL);
}

/* After a crashed rescue or unrescue: no journal; RUNNING with one domain
 * or SHUTDOWN with none; a rescue disk exactly when the record says
 * rescued. unrescue (when rescued) or power_on then brings back the
 * instance's own domain. */
static void check_rescue_crash(fixture *fx, unsigned k)
{
    int state = state_of(fx, UUID_A, NULL);
    char path[PATH_MAX * 2], *doc = NULL, what[64], *cfg;
    size_t len = 0;
    bool rescued;

    CU_ASSERT(journal_empty(fx));
    CU_ASSERT(state == NXL_POWER_RUNNING || state == NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(fx, UUID_A),
                    state == NXL_POWER_RUNNING ? 1 : 0);
    snprintf(path, sizeof(path), "%s/%s/novaxl.json", fx->instances, UUID_A);
    CU_ASSERT_EQUAL_FATAL(
        nxl__read_file_capped(path, 1 << 20, &doc, &len, NULL), 0);
    rescued = strstr(doc, "\"rescue\"") != NULL;
    free(doc);
    CU_ASSERT_EQUAL(inst_file(fx, UUID_A, RESCUE_DISK_NAME), rescued);
    if (rescued)
        CU_ASSERT_EQUAL(do_rescue(fx, UUID_A, false, NULL), 0);
    if (state_of(fx, UUID_A, NULL) != NXL_POWER_RUNNING)
        CU_ASSERT_EQUAL(do_power_on(fx, UUID_A, NULL), 0);
    CU_ASSERT(!inst_file(fx, UUID_A, RESCUE_DISK_NAME));
    CU_ASSERT_EQUAL(state_of(fx, UUID_A, NULL), NXL_POWER_RUNNING);
    cfg = domain_config(fx, UUID_A);
    CU_ASSERT_PTR_NULL(strstr(cfg, RESCUE_DISK_NAME));
    free(cfg);
    CU_ASSERT_EQUAL(do_destroy(fx, UUID_A, true, NULL), 0);
    snprintf(what, sizeof(what), "rescue/unrescue crashed at %u", k);
    assert_no_leaks(fx, 0, what);
}

static void test_crash_rescue(void)
{
    CU_ASSERT(crash_loop(op_rescue, true, PREP_NONE, check_rescue_crash) >= 10);
    CU_ASSERT(crash_loop(op_unrescue, true, PREP_RESCUE, check_rescue_crash) >=
              10);
}

static int do_set_bootable(fixture *fx, const char *uuid, bool bootable,
                           nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = nxl_instance_set_bootable(fx->drv, &inst, bootable, err);
    nxl_instance_dispose(&inst);
    return rc;
}

static void test_set_bootable(void)
{
    fixture fx;

    fx_setup(&fx);
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    CU_ASSERT_EQUAL(do_set_bootable(&fx, UUID_A, false, NULL), 0);
    /* Running: a reboot is allowed, stopping always is. */
    CU_ASSERT_EQUAL(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, NULL), 0);
    CU_ASSERT_EQUAL(do_power_off(&fx, UUID_A, 0, NULL), 0);
    /* Survives a restart of the service. */
    fx_reopen(&fx);
    CHECK_FAILS(do_power_on(&fx, UUID_A, &e_), NXL_E_INVALID_STATE,
                "not bootable");
    CHECK_FAILS(do_reboot(&fx, UUID_A, NXL_REBOOT_HARD, &e_),
                NXL_E_INVALID_STATE, "not bootable");
    CHECK_FAILS(do_rescue(&fx, UUID_A, true, &e_), NXL_E_INVALID_STATE,
                "not bootable");
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 0);
    CU_ASSERT_EQUAL(do_set_bootable(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(do_power_on(&fx, UUID_A, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_POWER_RUNNING);
    CHECK_FAILS(do_set_bootable(&fx, "00000000-0000-4000-8000-000000000077",
                                false, &e_),
                NXL_E_NOT_FOUND, "");
    CU_ASSERT_EQUAL(do_destroy(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "set_bootable");
    fx_teardown(&fx);
}

static int do_cleanup(fixture *fx, const char *uuid, bool disks, nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc = nxl_instance_cleanup(fx->drv, &inst, NULL, NULL, disks, NULL, true,
                              err);
    nxl_instance_dispose(&inst);
    return rc;
}

static void test_cleanup(void)
{
    fixture fx;
    char dir[PATH_MAX * 2];

    fx_setup(&fx);
    /* A spawn whose rollback failed left a half-made domain and its
     * journal: cleanup finishes the job. */
    nxl__port_fake_fail_after(fx.port, "create", 1, NXL_E_FAILED);
    nxl__port_fake_fail(fx.port, "destroy", 1, NXL_E_HYPERVISOR);
    CU_ASSERT(spawn(&fx, UUID_A, "instance-0000000a", NULL) < 0);
    CU_ASSERT_EQUAL(domains_with(&fx, UUID_A), 1);
    CU_ASSERT_EQUAL(do_cleanup(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "cleanup after a failed spawn");

    /* A known instance: as destroy. */
    spawn_ok(&fx, UUID_A, "instance-0000000a");
    CU_ASSERT_EQUAL(do_cleanup(&fx, UUID_A, true, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, UUID_A, NULL), NXL_E_NOT_FOUND);
    assert_no_leaks(&fx, 0, "cleanup of an instance");

    /* Files of an instance that is not ours any more (a failed incoming
     * migration): kept without destroy_disks, removed with it. */
    snprintf(dir, sizeof(dir), "%s/%s", fx.instances, UUID_A);
    CU_ASSERT_EQUAL(mkdir(dir, 0700), 0);
    write_file(dir, "disk", "LEFTOVER");
    CU_ASSERT_EQUAL(do_cleanup(&fx, UUID_A, false, NULL), 0);
    CU_ASSERT(inst_file(&fx, UUID_A, "disk"));
    CU_ASSERT_EQUAL(do_cleanup(&fx, UUID_A, true, NULL), 0);
    assert_no_leaks(&fx, 0, "cleanup of leftover files");

    /* A domain that is not ours is never touched. */
    {
        uint32_t foreign;

        CU_ASSERT_EQUAL(
            nxl__port_fake_external_create(fx.port, "handmade", &foreign), 0);
        CU_ASSERT_EQUAL(do_cleanup(&fx, UUID_A, true, NULL), 0);
        CU_ASSERT_EQUAL(domains_with(&fx, NULL), 2);
        assert_no_leaks(&fx, 1, "cleanup next to a foreign domain");
    }
    fx_teardown(&fx);
}

static int do_host_boot(fixture *fx, const char *uuid, nxl_error *err)
{
    nxl_instance inst;
    int rc;

    make_inst(&inst, uuid);
    rc =
        nxl_instance_resume_state_on_host_boot(fx->drv, &inst, NULL, NULL, err);
    nxl_instance_dispose(&inst);
    return rc;
}

/* Holds an instance's lock for a while, as an operation or the event
 * thread's look at it would. */
typedef struct lock_holder {
    char path[PATH_MAX + 64];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool held;
} lock_holder;

static void *hold_lock(void *p)
{
    lock_holder *h = p;
    int fd = open(h->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd >= 0)
        flock(fd, LOCK_EX);
    pthread_mutex_lock(&h->mu);
    h->held = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    usleep(300 * 1000);
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void test_resume_state_on_host_boot(void)
{
    fixture fx;
    char a[NXL_UUID_STRLEN + 1], b[NXL_UUID_STRLEN + 1], c[NXL_UUID_STRLEN + 1],
        d[NXL_UUID_STRLEN + 1];
    char *calls;
    int domid, domid2;

    uuid_n(a, sizeof(a), 1);
    uuid_n(b, sizeof(b), 2);
    uuid_n(c, sizeof(c), 3);
    uuid_n(d, sizeof(d), 4);
    fx_setup(&fx);
    spawn_ok(&fx, a, "instance-00000001");
    spawn_ok(&fx, b, "instance-00000002");
    spawn_ok(&fx, c, "instance-00000003");
    spawn_ok(&fx, d, "instance-00000004");
    CU_ASSERT_EQUAL(do_suspend(&fx, b, true, NULL), 0);
    CU_ASSERT_EQUAL(do_soft_delete(&fx, c, true, NULL), 0);
    CU_ASSERT_EQUAL(do_set_bootable(&fx, d, false, NULL), 0);

    /* A running instance is left alone. */
    state_of(&fx, a, &domid);
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(do_host_boot(&fx, a, NULL), 0);
    state_of(&fx, a, &domid2);
    CU_ASSERT_EQUAL(domid, domid2);
    calls = nxl__port_fake_calls(fx.port);
    CU_ASSERT_PTR_NULL(strstr(calls, "create"));
    CU_ASSERT_PTR_NULL(strstr(calls, "destroy"));
    free(calls);

    /* The host reboots: every domain is gone; the service starts again. */
    nxl__port_fake_external(fx.port, "destroy", domid_of(&fx, a));
    nxl__port_fake_external(fx.port, "destroy", domid_of(&fx, d));
    fx_reopen(&fx);
    CU_ASSERT_EQUAL(state_of(&fx, a, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(state_of(&fx, b, NULL), NXL_POWER_SUSPENDED);

    /* Booted again, and resumed from its image. The first waits for a
     * lock held elsewhere (the event thread looks at every instance each
     * second): at service start, a refusal would leave it down. */
    {
        lock_holder h = {.mu = PTHREAD_MUTEX_INITIALIZER,
                         .cv = PTHREAD_COND_INITIALIZER};
        pthread_t t;

        snprintf(h.path, sizeof(h.path), "%s/.novaxl/locks/%s.lock",
                 fx.instances, a);
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, hold_lock, &h), 0);
        pthread_mutex_lock(&h.mu);
        while (!h.held)
            pthread_cond_wait(&h.cv, &h.mu);
        pthread_mutex_unlock(&h.mu);
        CU_ASSERT_EQUAL(do_host_boot(&fx, a, NULL), 0);
        pthread_join(t, NULL);
    }
    CU_ASSERT_EQUAL(state_of(&fx, a, NULL), NXL_POWER_RUNNING);
    nxl__port_fake_calls_reset(fx.port);
    CU_ASSERT_EQUAL(do_host_boot(&fx, b, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, b, NULL), NXL_POWER_RUNNING);
    calls = nxl__port_fake_calls(fx.port);
    CU_ASSERT_PTR_NOT_NULL(strstr(calls, "restore"));
    free(calls);
    CU_ASSERT(!inst_file(&fx, b, NXL_XL_SAVE_FILE));

    /* Soft-deleted, not bootable, unknown: errors, nothing started. */
    CHECK_FAILS(do_host_boot(&fx, c, &e_), NXL_E_INVALID_STATE, "soft-deleted");
    CHECK_FAILS(do_host_boot(&fx, d, &e_), NXL_E_INVALID_STATE, "not bootable");
    CHECK_FAILS(do_host_boot(&fx, "00000000-0000-4000-8000-000000000077", &e_),
                NXL_E_NOT_FOUND, "");
    CU_ASSERT_EQUAL(domains_with(&fx, c), 0);
    CU_ASSERT_EQUAL(domains_with(&fx, d), 0);
    fx_teardown(&fx);
}

static void test_poll_rebooting_instances(void)
{
    fixture fx;
    char a[NXL_UUID_STRLEN + 1], b[NXL_UUID_STRLEN + 1], c[NXL_UUID_STRLEN + 1];
    nxl_instance insts[3];
    int domid, domid2;

    uuid_n(a, sizeof(a), 1);
    uuid_n(b, sizeof(b), 2);
    uuid_n(c, sizeof(c), 3);
    fx_setup(&fx);
    spawn_ok(&fx, a, "instance-00000001");
    spawn_ok(&fx, b, "instance-00000002");
    make_inst(&insts[0], a);
    make_inst(&insts[1], b);
    make_inst(&insts[2], c); /* not ours: skipped */

    /* a's guest rebooted itself and nobody built it again (no event
     * thread here): stuck, rebuilt HARD. b's reboot finished: untouched. */
    nxl__port_fake_external(fx.port, "reboot", domid_of(&fx, a));
    CU_ASSERT_EQUAL(state_of(&fx, a, NULL), NXL_POWER_SHUTDOWN);
    state_of(&fx, b, &domid);
    CU_ASSERT_EQUAL(
        nxl_host_poll_rebooting_instances(fx.drv, 60, insts, 3, NULL), 0);
    CU_ASSERT_EQUAL(state_of(&fx, a, NULL), NXL_POWER_RUNNING);
    CU_ASSERT_EQUAL(domains_with(&fx, a), 1);
    state_of(&fx, b, &domid2);
    CU_ASSERT_EQUAL(domid, domid2);

    /* A halted one whose reboot cannot finish: the first error comes
     * back, and the others are still seen to. */
    CU_ASSERT_EQUAL(do_power_off(&fx, a, 0, NULL), 0);
    CU_ASSERT_EQUAL(do_power_off(&fx, b, 0, NULL), 0);
    nxl__port_fake_fail(fx.port, "create", 1, NXL_E_HYPERVISOR);
    CHECK_FAILS(nxl_host_poll_rebooting_instances(fx.drv, 60, insts, 3, &e_),
                NXL_E_REBOOT, a);
    CU_ASSERT_EQUAL(state_of(&fx, a, NULL), NXL_POWER_SHUTDOWN);
    CU_ASSERT_EQUAL(state_of(&fx, b, NULL), NXL_POWER_RUNNING);
    for (int i = 0; i < 3; i++)
        nxl_instance_dispose(&insts[i]);
    fx_teardown(&fx);
}

int main(void)
{
    CU_pSuite s;
    unsigned failures;
    int rc;

    rc = nxl_test_xsd_start(&xsd);
    if (rc != 0) {
        fprintf(stderr, "xenstored: %s\n", xsd.why);
        nxl_test_xsd_stop(&xsd);
        return rc == NXL_TEST_SKIP ? NXL_TEST_SKIP : 1;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("lifecycle_fake", NULL, NULL);
    if (!s || !CU_add_test(s, "store documents", test_store_documents) ||
        !CU_add_test(s, "spawn and inventory", test_spawn_and_inventory) ||
        !CU_add_test(s, "spawn the example file", test_spawn_example_file) ||
        !CU_add_test(s, "spawn: missing image", test_spawn_missing_image) ||
        !CU_add_test(s, "spawn: local disks", test_spawn_local_disks) ||
        !CU_add_test(s, "spawn: exists", test_spawn_exists) ||
        !CU_add_test(s, "spawn: fault at every port call",
                     test_spawn_fault_at_every_call) ||
        !CU_add_test(s, "spawn: failed rollback recovered",
                     test_spawn_rollback_fails_then_recovers) ||
        !CU_add_test(s, "crash: spawn", test_crash_spawn) ||
        !CU_add_test(s, "crash: destroy", test_crash_destroy) ||
        !CU_add_test(s, "crash: power_off", test_crash_power_off) ||
        !CU_add_test(s, "crash: power_on", test_crash_power_on) ||
        !CU_add_test(s, "crash: reboot", test_crash_reboot) ||
        !CU_add_test(s, "crash: pause", test_crash_pause) ||
        !CU_add_test(s, "pause/unpause states", test_pause_unpause_states) ||
        !CU_add_test(s, "unknown instance", test_unknown_instance) ||
        !CU_add_test(s, "not connected", test_not_connected) ||
        !CU_add_test(s, "foreign domains", test_foreign_domains) ||
        !CU_add_test(s, "out of band", test_out_of_band) ||
        !CU_add_test(s, "zombie domain", test_zombie_domain) ||
        !CU_add_test(s, "power_off", test_power_off) ||
        !CU_add_test(s, "reboot", test_reboot) ||
        !CU_add_test(s, "crash dump and files", test_crash_dump_and_files) ||
        !CU_add_test(s, "concurrency", test_concurrency) ||
        !CU_add_test(s, "lock across holders", test_lock_across_holders) ||
        !CU_add_test(s, "suspend and resume", test_suspend_resume) ||
        !CU_add_test(s, "suspend/resume: port faults",
                     test_suspend_resume_faults) ||
        !CU_add_test(s, "crash: suspend", test_crash_suspend) ||
        !CU_add_test(s, "crash: resume", test_crash_resume) ||
        !CU_add_test(s, "spawn: host disabled or in maintenance",
                     test_host_refuses_work) ||
        !CU_add_test(s, "init_host recovers aggregates",
                     test_init_host_recovers_aggregates) ||
        !CU_add_test(s, "events: own operations", test_events_own_operations) ||
        !CU_add_test(s, "events: out of band", test_events_out_of_band) ||
        !CU_add_test(s, "events: xl destroy pauses first",
                     test_events_destroy_pauses_first) ||
        !CU_add_test(s, "events: threads", test_events_threads) ||
        !CU_add_test(s, "soft_delete and restore", test_soft_delete_restore) ||
        !CU_add_test(s, "crash: soft_delete, restore",
                     test_crash_soft_delete) ||
        !CU_add_test(s, "rebuild", test_rebuild) ||
        !CU_add_test(s, "crash: rebuild", test_crash_rebuild) ||
        !CU_add_test(s, "rescue and unrescue", test_rescue_unrescue) ||
        !CU_add_test(s, "crash: rescue, unrescue", test_crash_rescue) ||
        !CU_add_test(s, "set_bootable", test_set_bootable) ||
        !CU_add_test(s, "cleanup", test_cleanup) ||
        !CU_add_test(s, "resume_state_on_host_boot",
                     test_resume_state_on_host_boot) ||
        !CU_add_test(s, "poll_rebooting_instances",
                     test_poll_rebooting_instances)) {
        CU_cleanup_registry();
        nxl_test_xsd_stop(&xsd);
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    nxl_test_xsd_stop(&xsd);
    return failures ? 1 : 0;
}

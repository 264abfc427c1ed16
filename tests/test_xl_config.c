/* test_xl_config: the spawn request -> libxl_domain_config builder, the
 * xentoollog adapter and the libxl rc map.
 *
 * Golden files, like libvirt's libxlxml2domconfigtest: each
 * tests/fixtures/xl_config/<case>.json is a spawn request; its config,
 * written by libxl's own JSON generator, must equal
 * tests/golden/xl_config/<case>.json after the golden side has been read
 * back by libxl_domain_config_from_json() and written again (so layout and
 * libxl defaults do not matter, and a golden libxl cannot parse fails).
 * NXL_TEST_REGENERATE=1 rewrites the goldens in the source tree: read the
 * diff. bad-<case>.json must be refused with the code on the first line of
 * bad-<case>.err and a message containing its second line, leaving the
 * output config byte for byte untouched. The cases of
 * tests/{fixtures,golden}/xl_config_pools are built the same way and then
 * placed (nxl__xl_config_place) against this host's pooled aggregates of
 * place() below; they live apart because `novaxl` translates offline,
 * without aggregates, and must still equal every xl_config golden.
 *
 * from_json needs a libxl ctx: tests/mocks/xl-shim.c gives libxl a dummy
 * libxc and tests/xsd a real userspace xenstored. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <libxl.h>
#include <libxl_utils.h>

#include "common/json.h"
#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"
#include "tests/mocks/xl-shim.h"
#include "tests/xsd/xsd-harness.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_log.h"
#include "xl_driver/xl_rc.h"

#define MIN_GOOD_CASES 15
#define MIN_BAD_CASES 8

static nxl_test_xsd xsd;
static nxl_xl_logger logger;
static libxl_ctx *ctx;
static const char *srcdir;
static const char *builddir;

static const nxl_host_layout test_layout = {
    .instances_dir = "/var/lib/novaxl/instances",
    .image_cache_dir = "/var/lib/novaxl/images",
    .console_log_dir = "/var/log/xen/console",
};

/* ---- helpers ------------------------------------------------------------ */

static char *read_text(const char *path, size_t *len_r)
{
    char *data = NULL;
    size_t len = 0;
    nxl_error err = NXL_ERROR_INIT;

    if (nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, &data, &len,
                              &err)) {
        fprintf(stderr, "%s: %s\n", path, nxl_error_message(&err));
        nxl_error_dispose(&err);
        return NULL;
    }
    if (len_r)
        *len_r = len;
    return data;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fputs(text, f);
    /* Same bytes as novaxl dry-run prints: one final newline. */
    if (!*text || text[strlen(text) - 1] != '\n')
        fputc('\n', f);
    return fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir ending in suffix, starting with prefix (or not, when
 * want_prefix is false). */
static size_t list_cases(const char *dir, const char *prefix, bool want_prefix,
                         const char *suffix, char ***names_r)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, plen = strlen(prefix), slen = strlen(suffix);

    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        *names_r = NULL;
        return 0;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= slen || strcmp(e->d_name + len - slen, suffix) != 0)
            continue;
        if ((strncmp(e->d_name, prefix, plen) == 0) != want_prefix)
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strndup(e->d_name, len - slen);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    *names_r = names;
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int load_req(const char *path, nxl_spawn_req *req)
{
    size_t len;
    char *doc = read_text(path, &len);
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    if (!doc)
        return -1;
    nxl_spawn_req_init(req);
    rc = nxl__spawn_req_from_json(doc, len, req, &err);
    if (rc)
        fprintf(stderr, "%s: does not parse: %s\n", path,
                nxl_error_message(&err));
    nxl_error_dispose(&err);
    free(doc);
    return rc;
}

/* libxl's reading of json, written again by libxl: NULL when libxl cannot
 * parse it (its own message then is in the logger). */
static char *libxl_normalise(const char *json)
{
    libxl_domain_config cfg;
    char *out = NULL;
    nxl_error err = NXL_ERROR_INIT;

    libxl_domain_config_init(&cfg);
    if (libxl_domain_config_from_json(ctx, &cfg, json) == 0)
        nxl__xl_config_to_json(&cfg, &out, &err);
    libxl_domain_config_dispose(&cfg);
    nxl_error_dispose(&err);
    return out;
}

static void report_diff(const char *name, const char *want, const char *got)
{
    int line = 1;
    const char *w = want, *g = got;

    while (*w && *w == *g) {
        if (*w == '\n')
            line++;
        w++, g++;
    }
    fprintf(stderr,
            "\n%s: differs from its golden at line %d:\n"
            "  golden: %.60s\n  actual: %.60s\n",
            name, line, w, g);
}

/* ---- the builder on hand-made requests ------------------------------------
 */

/* A minimal valid request: HVM, 512 MiB, 2 vcpus, one NIC. */
static void base_req(nxl_spawn_req *req)
{
    nxl_spawn_req_init(req);
    snprintf(req->instance.uuid, sizeof(req->instance.uuid), "%s",
             "0b3e9c6a-58e4-4a39-9d55-0c1f0e4a6b21");
    req->instance.name = strdup("instance-0000000a");
    req->instance.memory_mb = 512;
    req->instance.vcpus = 2;
    req->network_info.vifs = calloc(1, sizeof(nxl_vif));
    nxl_vif_init(&req->network_info.vifs[0]);
    req->network_info.n = 1;
    req->network_info.vifs[0].address = strdup("fa:16:3e:00:00:0a");
}

static int build(const nxl_spawn_req *req, libxl_domain_config *cfg,
                 nxl_error *err)
{
    return nxl__xl_build_config(req, &test_layout, cfg, err);
}

static void test_minimal_hvm(void)
{
    nxl_spawn_req req;
    libxl_domain_config cfg;
    nxl_error err = NXL_ERROR_INIT;
    char uuid[NXL_UUID_STRLEN + 1];

    base_req(&req);
    CU_ASSERT_EQUAL_FATAL(build(&req, &cfg, &err), 0);
    CU_ASSERT_EQUAL(cfg.c_info.type, LIBXL_DOMAIN_TYPE_HVM);
    CU_ASSERT_EQUAL(cfg.b_info.type, LIBXL_DOMAIN_TYPE_HVM);
    CU_ASSERT_STRING_EQUAL(cfg.c_info.name, "instance-0000000a");
    snprintf(uuid, sizeof(uuid), LIBXL_UUID_FMT,
             LIBXL__UUID_BYTES(libxl_uuid_bytearray(&cfg.c_info.uuid)));
    CU_ASSERT_STRING_EQUAL(uuid, "0b3e9c6a-58e4-4a39-9d55-0c1f0e4a6b21");
    CU_ASSERT_EQUAL(cfg.b_info.max_memkb, 512 * 1024);
    CU_ASSERT_EQUAL(cfg.b_info.target_memkb, 512 * 1024);
    CU_ASSERT_EQUAL(cfg.b_info.max_vcpus, 2);
    CU_ASSERT_EQUAL(libxl_bitmap_count_set(&cfg.b_info.avail_vcpus), 2);
    CU_ASSERT(libxl_bitmap_test(&cfg.b_info.avail_vcpus, 1));
    CU_ASSERT_FALSE(libxl_bitmap_test(&cfg.b_info.avail_vcpus, 2));
    CU_ASSERT_PTR_NULL(cfg.b_info.kernel);
    CU_ASSERT_PTR_NULL(cfg.b_info.bootloader);
    CU_ASSERT_EQUAL_FATAL(cfg.num_disks, 1);
    CU_ASSERT_STRING_EQUAL(cfg.disks[0].pdev_path,
                           "/var/lib/novaxl/instances/"
                           "0b3e9c6a-58e4-4a39-9d55-0c1f0e4a6b21/disk");
    CU_ASSERT_STRING_EQUAL(cfg.disks[0].vdev, "xvda");
    CU_ASSERT_EQUAL(cfg.disks[0].readwrite, 1);
    CU_ASSERT_EQUAL_FATAL(cfg.num_nics, 1);
    CU_ASSERT_EQUAL(cfg.nics[0].mac[0], 0xfa);
    CU_ASSERT_EQUAL(cfg.nics[0].mac[5], 0x0a);
    CU_ASSERT_STRING_EQUAL(cfg.nics[0].bridge, NXL_XL_DEFAULT_BRIDGE);
    CU_ASSERT(libxl_defbool_val(cfg.b_info.u.hvm.vnc.enable));
    CU_ASSERT_STRING_EQUAL(cfg.b_info.u.hvm.vnc.listen, "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(cfg.b_info.u.hvm.serial, "pty");
    CU_ASSERT_EQUAL(cfg.on_crash, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
    CU_ASSERT_EQUAL(cfg.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
    CU_ASSERT_EQUAL(cfg.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
    CU_ASSERT_EQUAL(cfg.on_watchdog, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    libxl_domain_config_dispose(&cfg);
    nxl_spawn_req_dispose(&req);
}

static int type_for(const char *vm_mode, const char *machine,
                    const char *kernel)
{
    nxl_spawn_req req;
    libxl_domain_config cfg;
    int type = -99;

    base_req(&req);
    if (vm_mode)
        nxl_kvlist_set(&req.image_meta.properties, "vm_mode", vm_mode);
    if (machine)
        nxl_kvlist_set(&req.image_meta.properties, "hw_machine_type", machine);
    if (kernel)
        nxl_kvlist_set(&req.image_meta.properties, "kernel_id", kernel);
    if (build(&req, &cfg, NULL) == 0) {
        type = cfg.c_info.type;
        CU_ASSERT_EQUAL(cfg.b_info.type, type);
        libxl_domain_config_dispose(&cfg);
    }
    nxl_spawn_req_dispose(&req);
    return type;
}

static void test_domain_type_rule(void)
{
    CU_ASSERT_EQUAL(type_for(NULL, NULL, NULL), LIBXL_DOMAIN_TYPE_HVM);
    CU_ASSERT_EQUAL(type_for(NULL, NULL, "k1"), LIBXL_DOMAIN_TYPE_PV);
    CU_ASSERT_EQUAL(type_for("hvm", NULL, "k1"), LIBXL_DOMAIN_TYPE_HVM);
    CU_ASSERT_EQUAL(type_for("xen", NULL, NULL), LIBXL_DOMAIN_TYPE_PV);
    CU_ASSERT_EQUAL(type_for("pv", NULL, NULL), LIBXL_DOMAIN_TYPE_PV);
    CU_ASSERT_EQUAL(type_for("pvh", NULL, NULL), LIBXL_DOMAIN_TYPE_PVH);
    CU_ASSERT_EQUAL(type_for(NULL, "pvh", NULL), LIBXL_DOMAIN_TYPE_PVH);
    CU_ASSERT_EQUAL(type_for(NULL, "pvh", "k1"), LIBXL_DOMAIN_TYPE_PVH);
    CU_ASSERT_EQUAL(type_for("hvm", "pvh", NULL), LIBXL_DOMAIN_TYPE_HVM);
    CU_ASSERT_EQUAL(type_for("lxc", NULL, NULL), -99);
}

/* Fills cfg with a pattern, runs a failing build, checks the pattern. */
static void expect_refusal(nxl_spawn_req *req, int code, const char *needle)
{
    libxl_domain_config cfg, pattern;
    nxl_error err = NXL_ERROR_INIT;

    memset(&pattern, 0xa5, sizeof(pattern));
    memcpy(&cfg, &pattern, sizeof(cfg));
    CU_ASSERT_EQUAL(build(req, &cfg, &err), code);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err.message);
    if (!strstr(err.message, needle)) {
        fprintf(stderr, "\nmessage '%s' lacks '%s'\n", err.message, needle);
        CU_FAIL("error message does not name the problem");
    }
    CU_ASSERT(memcmp(&cfg, &pattern, sizeof(cfg)) == 0);
    nxl_error_dispose(&err);
}

static void test_refusals_by_hand(void)
{
    nxl_spawn_req req;

    /* The JSON parser already refuses these documents, so the builder's
     * own checks are only reachable with hand-made requests. */
    base_req(&req);
    req.instance.memory_mb = 0;
    expect_refusal(&req, NXL_E_INVAL, "instance.memory_mb: absent");
    nxl_spawn_req_dispose(&req);

    base_req(&req);
    req.instance.vcpus = 0;
    expect_refusal(&req, NXL_E_INVAL, "instance.vcpus: absent");
    nxl_spawn_req_dispose(&req);

    base_req(&req);
    req.instance.vcpus = NXL_XL_MAX_VCPUS + 1;
    expect_refusal(&req, NXL_E_INVAL, "instance.vcpus: 129");
    nxl_spawn_req_dispose(&req);

    base_req(&req);
    free(req.instance.name);
    req.instance.name = NULL;
    expect_refusal(&req, NXL_E_INVAL, "instance.name");
    nxl_spawn_req_dispose(&req);

    base_req(&req);
    req.instance.kernel_id = strdup("..");
    expect_refusal(&req, NXL_E_INVAL, "kernel_id");
    nxl_spawn_req_dispose(&req);

    /* A failure after disks and NICs were added: all of it is disposed
     * (ASan/valgrind watch) and the output stays untouched. */
    base_req(&req);
    req.instance.ephemeral_gb = 10;
    req.instance.flavor.swap = 512;
    nxl_kvlist_set(&req.image_meta.properties, "hw_video_model", "matrox");
    expect_refusal(&req, NXL_E_INVAL, "hw_video_model: 'matrox'");
    nxl_spawn_req_dispose(&req);

    /* Layout paths that could escape or inject. */
    {
        nxl_host_layout bad = test_layout;
        libxl_domain_config cfg;
        nxl_error err = NXL_ERROR_INIT;

        base_req(&req);
        bad.instances_dir = "/srv/../etc";
        CU_ASSERT_EQUAL(nxl__xl_build_config(&req, &bad, &cfg, &err),
                        NXL_E_INVAL);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(nxl_error_message(&err), "instances_dir"));
        nxl_error_dispose(&err);
        CU_ASSERT_EQUAL(nxl__xl_build_config(&req, NULL, &cfg, NULL),
                        NXL_E_INVAL);
        nxl_spawn_req_dispose(&req);
    }
}

static uint64_t rate_interval(const char *avg, const char *burst,
                              uint64_t *bytes_r)
{
    nxl_spawn_req req;
    libxl_domain_config cfg;
    uint64_t usecs = 0;

    base_req(&req);
    nxl_kvlist_set(&req.instance.flavor.extra_specs,
                   "quota:vif_outbound_average", avg);
    if (burst)
        nxl_kvlist_set(&req.instance.flavor.extra_specs,
                       "quota:vif_outbound_burst", burst);
    if (build(&req, &cfg, NULL) == 0) {
        usecs = cfg.nics[0].rate_interval_usecs;
        *bytes_r = cfg.nics[0].rate_bytes_per_interval;
        libxl_domain_config_dispose(&cfg);
    }
    nxl_spawn_req_dispose(&req);
    return usecs;
}

static void test_vif_rate_mapping(void)
{
    uint64_t bytes = 0;

    /* 1000 KiB/s, no burst: 50 ms windows of 51200 bytes = 1024000 B/s. */
    CU_ASSERT_EQUAL(rate_interval("1000", NULL, &bytes), 50000);
    CU_ASSERT_EQUAL(bytes, 51200);
    /* 2048 KiB/s with a 512 KiB burst: 512 KiB every 250 ms. */
    CU_ASSERT_EQUAL(rate_interval("2048", "512", &bytes), 250000);
    CU_ASSERT_EQUAL(bytes, 512 * 1024);
}

static int cap_for(const char *quota, const char *period, uint32_t vcpus)
{
    nxl_spawn_req req;
    libxl_domain_config cfg;
    int cap = -99;

    base_req(&req);
    req.instance.vcpus = vcpus;
    nxl_kvlist_set(&req.instance.flavor.extra_specs, "quota:cpu_quota", quota);
    if (period)
        nxl_kvlist_set(&req.instance.flavor.extra_specs, "quota:cpu_period",
                       period);
    if (build(&req, &cfg, NULL) == 0) {
        cap = cfg.b_info.sched_params.cap;
        libxl_domain_config_dispose(&cfg);
    }
    nxl_spawn_req_dispose(&req);
    return cap;
}

static void test_cpu_cap_mapping(void)
{
    libxl_domain_sched_params def;

    libxl_domain_sched_params_init(&def);
    CU_ASSERT_EQUAL(cap_for("50000", "100000", 1), 50);
    CU_ASSERT_EQUAL(cap_for("150000", NULL, 2), 150);
    CU_ASSERT_EQUAL(cap_for("200000", "100000", 2), 200);
    CU_ASSERT_EQUAL(cap_for("200001", "100000", 2), 200); /* rounds down */
    CU_ASSERT_EQUAL(cap_for("300000", "100000", 2), -99); /* > 100 * vcpus */
    CU_ASSERT_EQUAL(cap_for("-1", "100000", 2), def.cap); /* no cap */
    CU_ASSERT_EQUAL(cap_for("999", NULL, 2), -99);
    CU_ASSERT_EQUAL(cap_for("1000", "1000000", 2), -99); /* 0% */
    libxl_domain_sched_params_dispose(&def);
}

static void test_vdev_index(void)
{
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("xvda"), 0);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("/dev/xvdb"), 1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("xvdz"), 25);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("xvdaa"), 26);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("xvdzz"), 26 + 26 * 26 - 1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("hdd"), 3);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("sdc"), 2);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("hde"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("vda"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("xvda1"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("xvdaaa"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("xvdA"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index("/dev/"), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index(""), -1);
    CU_ASSERT_EQUAL(nxl__xl_vdev_index(NULL), -1);
}

/* The host-side NIC name rule (nxl__xl_vif_ifname), which the
 * translation and the diagnostics share. */
static void test_vif_ifname(void)
{
    char b[32];

    /* Emulated (HVM): 11 bytes, so <name>-emu fits Linux's 15. */
    CU_ASSERT_EQUAL(
        nxl__xl_vif_ifname("tap5d3a9e0c-7b", true, 7, 0, b, sizeof(b)), 0);
    CU_ASSERT_STRING_EQUAL(b, "tap5d3a9e0c");
    CU_ASSERT_EQUAL(nxl__xl_vif_ifname("tap0a1b2c3", true, 7, 0, b, sizeof(b)),
                    0);
    CU_ASSERT_STRING_EQUAL(b, "tap0a1b2c3");
    /* PV vif only (PV, PVH, HVM netfront): the whole 15. */
    CU_ASSERT_EQUAL(
        nxl__xl_vif_ifname("tap5d3a9e0c-7b", false, 7, 0, b, sizeof(b)), 0);
    CU_ASSERT_STRING_EQUAL(b, "tap5d3a9e0c-7b");
    CU_ASSERT_EQUAL(
        nxl__xl_vif_ifname("a23456789012345678", false, 7, 0, b, sizeof(b)), 0);
    CU_ASSERT_STRING_EQUAL(b, "a23456789012345");
    /* No devname: libxl's name. */
    CU_ASSERT_EQUAL(nxl__xl_vif_ifname(NULL, true, 12, 3, b, sizeof(b)), 0);
    CU_ASSERT_STRING_EQUAL(b, "vif12.3");
    CU_ASSERT_EQUAL(nxl__xl_vif_ifname("", false, 12, 0, b, sizeof(b)), 0);
    CU_ASSERT_STRING_EQUAL(b, "vif12.0");
    /* Names a shell script or QEMU's option list must not see. */
    CU_ASSERT_EQUAL(nxl__xl_vif_ifname("tap;reboot", false, 1, 0, b, sizeof(b)),
                    NXL_E_INVAL);
    CU_ASSERT_EQUAL(nxl__xl_vif_ifname("tap,x", true, 1, 0, b, sizeof(b)),
                    NXL_E_INVAL);
    CU_ASSERT_EQUAL(nxl__xl_vif_ifname("..", true, 1, 0, b, sizeof(b)),
                    NXL_E_INVAL);
    CU_ASSERT_EQUAL(nxl__xl_vif_ifname("tap5d3a9e0c", true, 1, 0, b, 8),
                    NXL_E_INVAL);
}

/* ---- rc map and logger ------------------------------------------------- */

static void test_rc_map(void)
{
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(0), 0);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(7), 0);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_DOMAIN_NOTFOUND), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_INVAL), NXL_E_INVAL);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_NOMEM), NXL_E_NOMEM);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_TIMEDOUT), NXL_E_TIMEOUT);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_GUEST_TIMEDOUT), NXL_E_TIMEOUT);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_NOT_READY), NXL_E_INVALID_STATE);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_NOTFOUND), NXL_E_NOT_FOUND);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_FEATURE_REMOVED),
                    NXL_E_UNSUPPORTED);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_LOCK_FAIL), NXL_E_CONFLICT);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(ERROR_FAIL), NXL_E_FAILED);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(-9999), NXL_E_FAILED);
    CU_ASSERT_STRING_EQUAL(nxl__xl_rc_name(ERROR_DOMAIN_NOTFOUND),
                           "ERROR_DOMAIN_NOTFOUND");
    CU_ASSERT_STRING_EQUAL(nxl__xl_rc_name(-9999), "ERROR_UNKNOWN");
    CU_ASSERT_STRING_EQUAL(nxl__xl_rc_name(0), "OK");
}

/* Our table against libxl's own list of its errors: every ERROR_* this
 * libxl defines has our name for it and maps to a real NXL_E_* code. */
static void test_rc_table_complete(void)
{
    size_t n = 0;

    for (const libxl_enum_string_table *t = libxl_error_string_table; t->s;
         t++, n++) {
        char want[64];
        int code = nxl__xl_rc_to_nxl(t->v);
        size_t i;

        snprintf(want, sizeof(want), "ERROR_%s", t->s);
        for (i = 6; want[i]; i++)
            want[i] = (char)toupper((unsigned char)want[i]);
        if (strcmp(nxl__xl_rc_name(t->v), want) != 0) {
            fprintf(stderr, "\nlibxl error %d (%s): we call it %s\n", t->v,
                    want, nxl__xl_rc_name(t->v));
            CU_FAIL("rc name table disagrees with libxl");
        }
        CU_ASSERT(code < 0 && code > _NXL_E_MAX);
        CU_ASSERT_STRING_NOT_EQUAL(nxl_error_code_name(code), "NXL_E_UNKNOWN");
    }
    CU_ASSERT(n >= 32);
}

static void test_logger_keeps_libxl_error(void)
{
    libxl_domain_config cfg;
    nxl_error err = NXL_ERROR_INIT;
    char last[NXL_XL_LOG_MSG_MAX];
    int r;

    nxl__xl_logger_clear(&logger);
    CU_ASSERT_FALSE(nxl__xl_logger_last_error(&logger, last, sizeof(last)));
    /* Below ERROR: forwarded to debug, not kept. */
    xtl_log(nxl__xl_logger_xtl(&logger), XTL_DEBUG, -1, "test", "chatter %d",
            1);
    CU_ASSERT_FALSE(nxl__xl_logger_last_error(&logger, last, sizeof(last)));

    /* A real libxl failure through the real ctx: libxl's words arrive. */
    libxl_domain_config_init(&cfg);
    r = libxl_domain_config_from_json(ctx, &cfg, "{ not json");
    libxl_domain_config_dispose(&cfg);
    CU_ASSERT(r < 0);
    CU_ASSERT_TRUE_FATAL(
        nxl__xl_logger_last_error(&logger, last, sizeof(last)));
    CU_ASSERT(strlen(last) > 0);

    CU_ASSERT_EQUAL(nxl__xl_error_set(&err, r, 7, &logger, "parse %s", "cfg"),
                    nxl__xl_rc_to_nxl(r));
    CU_ASSERT_EQUAL(err.libxl_rc, r);
    CU_ASSERT_EQUAL(err.domid, 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err.message);
    CU_ASSERT_NSTRING_EQUAL(err.message, "parse cfg: ERROR_", 17);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, last));
    nxl_error_dispose(&err);

    /* errno is appended as xl prints it; truncation is safe. */
    nxl__xl_logger_clear(&logger);
    xtl_log(nxl__xl_logger_xtl(&logger), XTL_ERROR, ENOENT, "test", "open %s",
            "/nowhere");
    CU_ASSERT_TRUE(nxl__xl_logger_last_error(&logger, last, 8));
    CU_ASSERT_STRING_EQUAL(last, "open /n");
    CU_ASSERT_TRUE(nxl__xl_logger_last_error(&logger, last, sizeof(last)));
    CU_ASSERT_PTR_NOT_NULL(strstr(last, strerror(ENOENT)));

    /* Several errors: the first (the cause) and the last (the outcome). */
    xtl_log(nxl__xl_logger_xtl(&logger), XTL_ERROR, -1, "test", "middle");
    xtl_log(nxl__xl_logger_xtl(&logger), XTL_ERROR, -1, "test", "outcome");
    CU_ASSERT_TRUE(nxl__xl_logger_last_error(&logger, last, sizeof(last)));
    CU_ASSERT_NSTRING_EQUAL(last, "open /nowhere: ", 15);
    CU_ASSERT_PTR_NOT_NULL(strstr(last, "(then 2 more, the last: outcome)"));
    CU_ASSERT_PTR_NULL(strstr(last, "middle"));
    nxl__xl_logger_clear(&logger);
}

/* Another thread's clear, as before its own libxl call. */
static void *clear_other_thread(void *opaque)
{
    char last[NXL_XL_LOG_MSG_MAX];
    bool *saw = opaque;

    nxl__xl_logger_clear(&logger);
    *saw = nxl__xl_logger_last_error(&logger, last, sizeof(last));
    xtl_log(nxl__xl_logger_xtl(&logger), XTL_ERROR, -1, "test", "theirs");
    return NULL;
}

/* One ctx serves every thread: each thread keeps its own last error, so
 * one thread's clear or error never wipes or replaces another's. */
static void test_logger_per_thread(void)
{
    char last[NXL_XL_LOG_MSG_MAX];
    bool saw = true;
    pthread_t t;

    nxl__xl_logger_clear(&logger);
    xtl_log(nxl__xl_logger_xtl(&logger), XTL_ERROR, -1, "test", "mine");
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, clear_other_thread, &saw),
                          0);
    pthread_join(t, NULL);
    CU_ASSERT_FALSE(saw); /* this thread's error is not the other's */
    CU_ASSERT_TRUE_FATAL(
        nxl__xl_logger_last_error(&logger, last, sizeof(last)));
    CU_ASSERT_STRING_EQUAL(last, "mine");
    nxl__xl_logger_clear(&logger);
}

static void test_shim_refuses_hypercalls(void)
{
    libxl_physinfo info;
    unsigned long before = nxl_test_xc_refused_hypercalls();
    libxl_dominfo di;
    int r;

    /* physinfo comes from the shim's fake host. */
    libxl_physinfo_init(&info);
    CU_ASSERT_EQUAL(libxl_get_physinfo(ctx, &info), 0);
    CU_ASSERT_EQUAL(info.nr_cpus, NXL_TEST_XC_NR_CPUS);
    CU_ASSERT_EQUAL(info.total_pages, NXL_TEST_XC_TOTAL_PAGES);
    libxl_physinfo_dispose(&info);
    /* No domain 5 on the fake host. */
    libxl_dominfo_init(&di);
    r = libxl_domain_info(ctx, &di, 5);
    CU_ASSERT_EQUAL(nxl__xl_rc_to_nxl(r), NXL_E_NOT_FOUND);
    libxl_dominfo_dispose(&di);
    /* A hypercall the shim does not answer fails cleanly. */
    CU_ASSERT(libxl_domain_pause(ctx, 0, NULL) < 0);
    CU_ASSERT(nxl_test_xc_refused_hypercalls() > before);
}

/* ---- golden files ------------------------------------------------------ */

/* This host's pooled aggregates, as the golden cases see them. */
static const nxl_kvlist *golden_md(int i)
{
    static nxl_kvlist md[3];
    static bool done;

    if (!done) {
        for (int k = 0; k < 3; k++)
            nxl_kvlist_init(&md[k]);
        nxl_kvlist_set(&md[0], "tier", "gold,platinum");
        nxl_kvlist_set(&md[0], "xen_cpupool", "gold");
        nxl_kvlist_set(&md[1], "tier", "silver");
        nxl_kvlist_set(&md[1], "xen_cpupool", "silver");
        nxl_kvlist_set(&md[2], "tier", "bronze");
        nxl_kvlist_set(&md[2], "xen_cpupool", "bronze");
        done = true;
    }
    return &md[i];
}

static int place(const nxl_spawn_req *req, libxl_domain_config *cfg,
                 nxl_error *err)
{
    nxl_xl_pool_candidate c[3] = {
        {"gold-hosts", golden_md(0), "gold", 3, true},
        {"silver-hosts", golden_md(1), "silver", 4, true},
        {"bronze-hosts", golden_md(2), "bronze", 0, false},
    };

    return nxl__xl_config_place(req, c, 3, cfg, err);
}

static void test_placement(void)
{
    nxl_spawn_req req;
    libxl_domain_config cfg;
    nxl_error err = NXL_ERROR_INIT;

    base_req(&req);
    CU_ASSERT_EQUAL_FATAL(build(&req, &cfg, &err), 0);
    /* No scoped extra spec: Pool-0. */
    CU_ASSERT_EQUAL(place(&req, &cfg, &err), 0);
    CU_ASSERT_EQUAL(cfg.c_info.poolid, 0);
    CU_ASSERT_PTR_NULL(cfg.c_info.pool_name);
    /* One of the comma-separated values of the aggregate. */
    nxl_kvlist_set(&req.instance.flavor.extra_specs,
                   "aggregate_instance_extra_specs:tier", "platinum");
    CU_ASSERT_EQUAL(place(&req, &cfg, &err), 0);
    CU_ASSERT_EQUAL(cfg.c_info.poolid, 3);
    CU_ASSERT_STRING_EQUAL(cfg.c_info.pool_name ?: "", "gold");
    libxl_domain_config_dispose(&cfg);
    /* Every scoped spec must match: an extra key that no aggregate has. */
    CU_ASSERT_EQUAL_FATAL(build(&req, &cfg, &err), 0);
    nxl_kvlist_set(&req.instance.flavor.extra_specs,
                   "aggregate_instance_extra_specs:ssd", "true");
    CU_ASSERT_EQUAL(place(&req, &cfg, &err), 0);
    CU_ASSERT_EQUAL(cfg.c_info.poolid, 0);
    /* nova's operators are not interpreted: no match, Pool-0. */
    nxl_spawn_req_dispose(&req);
    base_req(&req);
    nxl_kvlist_set(&req.instance.flavor.extra_specs,
                   "aggregate_instance_extra_specs:tier", "<in> gold");
    CU_ASSERT_EQUAL(place(&req, &cfg, &err), 0);
    CU_ASSERT_EQUAL(cfg.c_info.poolid, 0);
    /* The matching aggregate's pool is not on this host. */
    nxl_kvlist_set(&req.instance.flavor.extra_specs,
                   "aggregate_instance_extra_specs:tier", "bronze");
    CU_ASSERT_EQUAL(place(&req, &cfg, &err), NXL_E_FAILED);
    CU_ASSERT_TRUE(strstr(nxl_error_message(&err), "bronze") != NULL);
    CU_ASSERT_EQUAL(cfg.c_info.poolid, 0);
    nxl_error_dispose(&err);
    libxl_domain_config_dispose(&cfg);
    nxl_spawn_req_dispose(&req);
}

static void run_golden(const char *sub, bool placed, size_t min_cases)
{
    char fixdir[4096], golddir[4096];
    char **names;
    size_t n;
    bool regen = getenv("NXL_TEST_REGENERATE") &&
                 strcmp(getenv("NXL_TEST_REGENERATE"), "1") == 0;

    snprintf(fixdir, sizeof(fixdir), "%s/tests/fixtures/%s", srcdir, sub);
    snprintf(golddir, sizeof(golddir), "%s/tests/golden/%s", srcdir, sub);
    n = list_cases(fixdir, "bad-", false, ".json", &names);
    CU_ASSERT(n >= min_cases);
    for (size_t i = 0; i < n; i++) {
        char path[8192], gpath[8192];
        nxl_spawn_req req;
        libxl_domain_config cfg;
        nxl_error err = NXL_ERROR_INIT;
        char *actual = NULL, *again = NULL, *golden = NULL, *want = NULL;

        snprintf(path, sizeof(path), "%s/%s.json", fixdir, names[i]);
        snprintf(gpath, sizeof(gpath), "%s/%s.json", golddir, names[i]);
        if (load_req(path, &req)) {
            CU_FAIL("fixture does not parse");
            continue;
        }
        if (build(&req, &cfg, &err)) {
            fprintf(stderr, "\n%s: %s\n", names[i], nxl_error_message(&err));
            CU_FAIL("a good case was refused");
            goto next;
        }
        if (placed && place(&req, &cfg, &err)) {
            fprintf(stderr, "\n%s: %s\n", names[i], nxl_error_message(&err));
            CU_FAIL("a good case could not be placed");
            libxl_domain_config_dispose(&cfg);
            goto next;
        }
        CU_ASSERT_EQUAL_FATAL(nxl__xl_config_to_json(&cfg, &actual, &err), 0);
        libxl_domain_config_dispose(&cfg);

        /* libxl must read what we wrote as the same configuration. */
        again = libxl_normalise(actual);
        if (!again || strcmp(again, actual) != 0) {
            fprintf(stderr, "\n%s: libxl does not read our config back%s\n",
                    names[i], again ? " unchanged" : "");
            CU_FAIL("config does not survive libxl's JSON round trip");
        }
        if (regen) {
            CU_ASSERT_EQUAL(write_text(gpath, actual), 0);
            goto next;
        }
        golden = read_text(gpath, NULL);
        if (!golden) {
            CU_FAIL("golden file missing (NXL_TEST_REGENERATE=1 writes it)");
            goto next;
        }
        want = libxl_normalise(golden);
        if (!want) {
            fprintf(stderr, "\n%s: libxl cannot parse the golden file\n",
                    gpath);
            CU_FAIL("golden file is not a libxl_domain_config");
        } else if (strcmp(want, actual) != 0) {
            char apath[8192];
            snprintf(apath, sizeof(apath), "%s/tests/xl_config-%s.actual",
                     builddir, names[i]);
            write_text(apath, actual);
            report_diff(names[i], want, actual);
            fprintf(stderr, "  (actual output in %s)\n", apath);
            CU_FAIL("config differs from its golden file");
        }
    next:
        free(actual);
        free(again);
        free(golden);
        free(want);
        nxl_error_dispose(&err);
        nxl_spawn_req_dispose(&req);
    }
    free_names(names, n);
}

static void test_golden(void)
{
    run_golden("xl_config", false, MIN_GOOD_CASES);
}

static void test_golden_pools(void)
{
    run_golden("xl_config_pools", true, 2);
}

static void test_bad_cases(void)
{
    char fixdir[4096];
    char **names;
    size_t n;

    snprintf(fixdir, sizeof(fixdir), "%s/tests/fixtures/xl_config", srcdir);
    n = list_cases(fixdir, "bad-", true, ".json", &names);
    CU_ASSERT(n >= MIN_BAD_CASES);
    for (size_t i = 0; i < n; i++) {
        char path[8192], epath[8192];
        char *expect = NULL, *needle;
        nxl_spawn_req req;
        libxl_domain_config cfg, pattern;
        nxl_error err = NXL_ERROR_INIT;
        int code, rc;

        snprintf(path, sizeof(path), "%s/%s.json", fixdir, names[i]);
        snprintf(epath, sizeof(epath), "%s/%s.err", fixdir, names[i]);
        expect = read_text(epath, NULL);
        needle = expect ? strchr(expect, '\n') : NULL;
        if (!needle) {
            fprintf(stderr, "\n%s: needs 'CODE\\nsubstring' in .err\n",
                    names[i]);
            CU_FAIL("bad case without expectation");
            free(expect);
            continue;
        }
        *needle++ = '\0';
        needle[strcspn(needle, "\n")] = '\0';
        code = nxl_error_code_from_name(expect);
        CU_ASSERT(code < 0);
        /* The document itself is valid: the builder must be what refuses. */
        if (load_req(path, &req)) {
            CU_FAIL("bad-case fixture does not parse");
            free(expect);
            continue;
        }
        memset(&pattern, 0x5a, sizeof(pattern));
        memcpy(&cfg, &pattern, sizeof(cfg));
        rc = build(&req, &cfg, &err);
        if (rc != code || !err.message || !strstr(err.message, needle)) {
            fprintf(stderr, "\n%s: got %s '%s', want %s '...%s...'\n", names[i],
                    nxl_error_code_name(rc), nxl_error_message(&err), expect,
                    needle);
            CU_FAIL("bad case not refused as expected");
            if (rc == 0)
                libxl_domain_config_dispose(&cfg);
        } else {
            CU_ASSERT(memcmp(&cfg, &pattern, sizeof(cfg)) == 0);
        }
        nxl_error_dispose(&err);
        nxl_spawn_req_dispose(&req);
        free(expect);
    }
    free_names(names, n);
}

/* Every example request: builds, and libxl reads the result back, or is
 * refused for a reason tests/fixtures/xl_config/cli-expect.txt states. */
static void test_examples(void)
{
    char exdir[4096], path[8192];
    char **names;
    size_t n;

    snprintf(exdir, sizeof(exdir), "%s/examples", srcdir);
    n = list_cases(exdir, "", true, ".json", &names);
    /* An empty examples/ would make this vacuous. */
    CU_ASSERT(n > 0);
    for (size_t i = 0; i < n; i++) {
        nxl_spawn_req req;
        libxl_domain_config cfg;
        nxl_error err = NXL_ERROR_INIT;
        char *json = NULL, *again = NULL;

        snprintf(path, sizeof(path), "%s/%s.json", exdir, names[i]);
        if (load_req(path, &req)) {
            CU_FAIL("example does not parse");
            continue;
        }
        if (build(&req, &cfg, &err) == 0) {
            CU_ASSERT_EQUAL(nxl__xl_config_to_json(&cfg, &json, &err), 0);
            again = json ? libxl_normalise(json) : NULL;
            CU_ASSERT_PTR_NOT_NULL(again);
            if (again)
                CU_ASSERT_STRING_EQUAL(again, json);
            libxl_domain_config_dispose(&cfg);
        } else {
            /* Refusals are checked, with their reasons, by test_cli.sh. */
            CU_ASSERT(err.code != NXL_E_NOMEM && err.message);
        }
        free(json);
        free(again);
        nxl_error_dispose(&err);
        nxl_spawn_req_dispose(&req);
    }
    free_names(names, n);
}

/* ---- main -----------------------------------------------------------------
 */

int main(void)
{
    CU_pSuite s;
    int r, failures;

    srcdir = getenv("NXL_TEST_SRCDIR");
    builddir = getenv("NXL_TEST_BUILDDIR");
    if (!srcdir || !builddir) {
        fprintf(stderr, "test_xl_config: NXL_TEST_SRCDIR/NXL_TEST_BUILDDIR "
                        "unset: run under 'make check'\n");
        return NXL_TEST_SKIP;
    }
    r = nxl_test_xsd_start(&xsd);
    if (r) {
        fprintf(stderr, "test_xl_config: no xenstored: %s\n", xsd.why);
        nxl_test_xsd_stop(&xsd);
        return r == NXL_TEST_SKIP ? NXL_TEST_SKIP : 1;
    }
    nxl__xl_logger_init(&logger);
    r = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, nxl__xl_logger_xtl(&logger));
    if (r) {
        fprintf(stderr, "test_xl_config: libxl_ctx_alloc: %d\n", r);
        nxl_test_xsd_stop(&xsd);
        return 1;
    }

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("xl_config", NULL, NULL);
    CU_add_test(s, "minimal HVM request", test_minimal_hvm);
    CU_add_test(s, "domain type rule", test_domain_type_rule);
    CU_add_test(s, "refusals by hand", test_refusals_by_hand);
    CU_add_test(s, "vif rate mapping", test_vif_rate_mapping);
    CU_add_test(s, "cpu cap mapping", test_cpu_cap_mapping);
    CU_add_test(s, "vdev grammar", test_vdev_index);
    CU_add_test(s, "vif host name rule", test_vif_ifname);
    CU_add_test(s, "golden files", test_golden);
    CU_add_test(s, "golden files placed in cpupools", test_golden_pools);
    CU_add_test(s, "cpupool placement", test_placement);
    CU_add_test(s, "bad cases", test_bad_cases);
    CU_add_test(s, "examples", test_examples);
    s = CU_add_suite("xl_rc_log", NULL, NULL);
    CU_add_test(s, "rc map", test_rc_map);
    CU_add_test(s, "rc table covers libxl", test_rc_table_complete);
    CU_add_test(s, "logger keeps libxl error", test_logger_keeps_libxl_error);
    CU_add_test(s, "logger: one last error per thread", test_logger_per_thread);
    CU_add_test(s, "shim refuses hypercalls", test_shim_refuses_hypercalls);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = (int)CU_get_number_of_failures();
    CU_cleanup_registry();

    libxl_ctx_free(ctx);
    nxl__xl_logger_dispose(&logger);
    nxl_test_xsd_stop(&xsd);
    return failures ? 1 : 0;
}

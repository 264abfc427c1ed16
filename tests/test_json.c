/* test_json: the data model (common/types.c), the validators, and the JSON
 * door (common/json.c): every example parses and round-trips, bad input is
 * refused with a message naming the field and leaves the output empty. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/json.h"
#include "tests/testutil.h"

#define UUID1 "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
/* A minimal valid request with x spliced into the instance object. */
#define INST(x)                                                                \
    "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"instance-1\", " x "}}"
#define INSTMV(x) INST("\"memory_mb\": 128, \"vcpus\": 1, " x)
/* Same, with top-level members after the instance. */
#define REQ(x)                                                                 \
    "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"instance-1\", "      \
    "\"memory_mb\": 128, \"vcpus\": 1}, " x "}"
#define VIF(x) REQ("\"network_info\": [{" x "}]")
#define MAC1 "\"address\": \"fa:16:3e:00:00:01\""
/* a literal document and its length */
#define SL(s) (s), strlen(s)

static bool spawn_req_empty(const nxl_spawn_req *r)
{
    nxl_spawn_req e;
    bool eq;

    nxl_spawn_req_init(&e);
    eq = nxl__spawn_req_equal(r, &e) && r->instance.name == NULL &&
         r->network_info.vifs == NULL && r->injected_files == NULL &&
         r->block_device_info.mappings == NULL &&
         r->instance.metadata.items == NULL;
    nxl_spawn_req_dispose(&e);
    return eq;
}

/* ---- validators ---------------------------------------------------------- */

static void expect_inval(int rc, nxl_error *err, const char *needle)
{
    CU_ASSERT_EQUAL(rc, NXL_E_INVAL);
    CU_ASSERT_EQUAL(err->code, NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err->message);
    if (!strstr(err->message, needle)) {
        fprintf(stderr, "\n  message '%s' lacks '%s'\n", err->message, needle);
        CU_FAIL("message does not name the field");
    }
    nxl_error_dispose(err);
}

static void test_uuid_validate(void)
{
    nxl_error err = NXL_ERROR_INIT;

    CU_ASSERT_EQUAL(nxl_uuid_validate(UUID1, "u", &err), 0);
    CU_ASSERT_EQUAL(
        nxl_uuid_validate("2F9C4D1E-8A7B-4C6D-9E0F-1A2B3C4D5E6F", "u", &err),
        0);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    expect_inval(nxl_uuid_validate(NULL, "x.uuid", &err), &err, "x.uuid");
    expect_inval(nxl_uuid_validate("", "x.uuid", &err), &err, "x.uuid");
    expect_inval(
        nxl_uuid_validate("2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6", "u", &err),
        &err, "canonical");
    expect_inval(
        nxl_uuid_validate("2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f0", "u", &err),
        &err, "canonical");
    expect_inval(
        nxl_uuid_validate("2f9c4d1e8a7b-4c6d-9e0f-1a2b3c4d5e6f0", "u", &err),
        &err, "canonical");
    expect_inval(
        nxl_uuid_validate("{2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6}", "u", &err),
        &err, "canonical");
    expect_inval(
        nxl_uuid_validate("2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6g", "u", &err),
        &err, "canonical");
    expect_inval(
        nxl_uuid_validate("2f9c4d1e-8a7b-4c6d-9e0f+1a2b3c4d5e6f", "u", &err),
        &err, "canonical");
}

static void test_name_validate(void)
{
    nxl_error err = NXL_ERROR_INIT;
    char longname[NXL_MAX_NAME_LEN + 2];

    CU_ASSERT_EQUAL(nxl_name_validate("instance-0000002a", "n", &err), 0);
    CU_ASSERT_EQUAL(nxl_name_validate("caf\xc3\xa9 \xe2\x9c\x93", "n", &err),
                    0);
    CU_ASSERT_EQUAL(nxl_name_validate("...", "n", &err), 0);
    memset(longname, 'a', NXL_MAX_NAME_LEN);
    longname[NXL_MAX_NAME_LEN] = '\0';
    CU_ASSERT_EQUAL(nxl_name_validate(longname, "n", &err), 0);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    longname[NXL_MAX_NAME_LEN] = 'a';
    longname[NXL_MAX_NAME_LEN + 1] = '\0';
    expect_inval(nxl_name_validate(longname, "agg.name", &err), &err,
                 "agg.name: name is too long");
    expect_inval(nxl_name_validate(NULL, "agg.name", &err), &err, "agg.name");
    expect_inval(nxl_name_validate("", "agg.name", &err), &err, "empty");
    expect_inval(nxl_name_validate(".", "agg.name", &err), &err, "'.'");
    expect_inval(nxl_name_validate("..", "agg.name", &err), &err, "'..'");
    expect_inval(nxl_name_validate("a/b", "agg.name", &err), &err, "'/'");
    expect_inval(nxl_name_validate("a\nb", "agg.name", &err), &err,
                 "control character");
    expect_inval(nxl_name_validate("a\x7f", "agg.name", &err), &err,
                 "control character");
    expect_inval(nxl_name_validate("a\xc2\x85z", "agg.name", &err), &err,
                 "control character");
    expect_inval(nxl_name_validate("a\xff", "agg.name", &err), &err, "UTF-8");
    expect_inval(nxl_name_validate("a\xc0\xaf", "agg.name", &err), &err,
                 "UTF-8");
    expect_inval(nxl_name_validate("a\xed\xa0\x80", "agg.name", &err), &err,
                 "UTF-8");
    expect_inval(nxl_name_validate("a\xf4\x90\x80\x80", "agg.name", &err), &err,
                 "UTF-8");
    expect_inval(nxl_name_validate("a\xe2\x9c", "agg.name", &err), &err,
                 "UTF-8");
}

static void test_mac_validate(void)
{
    nxl_error err = NXL_ERROR_INIT;

    CU_ASSERT_EQUAL(nxl_mac_validate("fa:16:3e:00:00:01", "m", &err), 0);
    CU_ASSERT_EQUAL(nxl_mac_validate("FA:16:3E:AB:CD:EF", "m", &err), 0);
    CU_ASSERT_EQUAL(nxl_mac_validate("00:16:3e:00:00:00", "m", &err), 0);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    expect_inval(nxl_mac_validate(NULL, "vif.address", &err), &err,
                 "vif.address");
    expect_inval(nxl_mac_validate("01:00:5e:00:00:01", "vif.address", &err),
                 &err, "multicast");
    expect_inval(nxl_mac_validate("ff:ff:ff:ff:ff:ff", "vif.address", &err),
                 &err, "multicast");
    expect_inval(nxl_mac_validate("00:00:00:00:00:00", "vif.address", &err),
                 &err, "all-zero");
    expect_inval(nxl_mac_validate("fa:16:3e:00:00", "vif.address", &err), &err,
                 "not a MAC");
    expect_inval(nxl_mac_validate("fa:16:3e:00:00:01:02", "vif.address", &err),
                 &err, "not a MAC");
    expect_inval(nxl_mac_validate("fa-16-3e-00-00-01", "vif.address", &err),
                 &err, "not a MAC");
    expect_inval(nxl_mac_validate("fa:16:3e:00:00:0g", "vif.address", &err),
                 &err, "not a MAC");
    expect_inval(nxl_mac_validate("fa:16:3e:0:00:001", "vif.address", &err),
                 &err, "not a MAC");
}

/* ---- containers and lifecycle ----------------------------------------------
 */

static void test_containers(void)
{
    nxl_kvlist kv;
    nxl_strv sv;
    nxl_buf b;

    nxl_kvlist_init(&kv);
    CU_ASSERT_EQUAL(nxl_kvlist_set(&kv, "a", "1"), 0);
    CU_ASSERT_EQUAL(nxl_kvlist_set(&kv, "b", "2"), 0);
    CU_ASSERT_EQUAL(nxl_kvlist_set(&kv, "c", "3"), 0);
    CU_ASSERT_EQUAL(nxl_kvlist_set(&kv, "a", "one"), 0);
    CU_ASSERT_EQUAL(kv.n, 3);
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&kv, "a"), "one");
    CU_ASSERT_PTR_NULL(nxl_kvlist_get(&kv, "z"));
    CU_ASSERT_TRUE(nxl_kvlist_unset(&kv, "b"));
    CU_ASSERT_FALSE(nxl_kvlist_unset(&kv, "b"));
    CU_ASSERT_EQUAL(kv.n, 2);
    CU_ASSERT_STRING_EQUAL(kv.items[0].key, "a");
    CU_ASSERT_STRING_EQUAL(kv.items[1].key, "c");
    CU_ASSERT_EQUAL(nxl_kvlist_set(&kv, NULL, "x"), NXL_E_INVAL);
    nxl_kvlist_dispose(&kv);
    nxl_kvlist_dispose(&kv);
    CU_ASSERT_EQUAL(kv.n, 0);
    CU_ASSERT_PTR_NULL(kv.items);

    nxl_strv_init(&sv);
    CU_ASSERT_EQUAL(nxl_strv_push(&sv, "x"), 0);
    CU_ASSERT_EQUAL(nxl_strv_push(&sv, "y"), 0);
    CU_ASSERT_EQUAL(sv.n, 2);
    CU_ASSERT_STRING_EQUAL(sv.v[1], "y");
    nxl_strv_dispose(&sv);
    nxl_strv_dispose(&sv);
    CU_ASSERT_EQUAL(sv.n, 0);

    nxl_buf_init(&b);
    CU_ASSERT_EQUAL(nxl_buf_append(&b, "abc", 3), 0);
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(nxl_buf_printf(&b, "-%d", i), 0);
    CU_ASSERT_EQUAL(strncmp(b.data, "abc-0-1-2", 9), 0);
    CU_ASSERT_EQUAL(strlen(b.data), b.len);
    CU_ASSERT_TRUE(b.cap > b.len);
    CU_ASSERT_STRING_EQUAL(b.data + b.len - 3, "-99");
    nxl_buf_dispose(&b);
    nxl_buf_dispose(&b);
    CU_ASSERT_PTR_NULL(b.data);
}

static void test_lifecycle(void)
{
    nxl_spawn_req req;
    nxl_instance_info info;
    nxl_aggregate agg;
    nxl_migration m;
    nxl_host_layout l;
    nxl_subnet s;

    /* dispose straight after init, twice: nothing to free, no crash */
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL(req.instance.power_state, -1);
    nxl_spawn_req_dispose(&req);
    nxl_spawn_req_dispose(&req);
    CU_ASSERT_TRUE(spawn_req_empty(&req));
    nxl_aggregate_init(&agg);
    nxl_aggregate_dispose(&agg);
    nxl_aggregate_dispose(&agg);
    nxl_migration_init(&m);
    nxl_migration_dispose(&m);
    nxl_migration_dispose(&m);
    nxl_subnet_init(&s);
    nxl_subnet_dispose(&s);
    nxl_subnet_dispose(&s);
    nxl_instance_info_init(&info);
    CU_ASSERT_EQUAL(info.domid, -1);
    CU_ASSERT_EQUAL(info.state, NXL_POWER_NOSTATE);

    nxl_host_layout_init(&l);
    CU_ASSERT_EQUAL(nxl_host_layout_default(&l), 0);
    CU_ASSERT_STRING_EQUAL(l.instances_dir, "/var/lib/novaxl/instances");
    CU_ASSERT_STRING_EQUAL(l.image_cache_dir, "/var/lib/novaxl/images");
    CU_ASSERT_STRING_EQUAL(l.console_log_dir, "/var/log/xen/console");
    nxl_host_layout_dispose(&l);
    nxl_host_layout_dispose(&l);
    CU_ASSERT_PTR_NULL(l.instances_dir);

    CU_ASSERT_STRING_EQUAL(nxl_power_state_name(NXL_POWER_RUNNING), "running");
    CU_ASSERT_STRING_EQUAL(nxl_power_state_name(NXL_POWER_SUSPENDED),
                           "suspended");
    CU_ASSERT_STRING_EQUAL(nxl_power_state_name(NXL_POWER_NOSTATE), "pending");
    CU_ASSERT_STRING_EQUAL(nxl_power_state_name(2), "unknown");
}

static void test_read_file_capped(void)
{
    char path[] = "/tmp/nxl-test-json-XXXXXX";
    nxl_error err = NXL_ERROR_INIT;
    char *data = NULL;
    size_t len = 0;
    int fd = mkstemp(path);

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "0123456789", 10), 10);
    close(fd);
    CU_ASSERT_EQUAL(nxl__read_file_capped(path, 10, &data, &len, &err), 0);
    CU_ASSERT_EQUAL(len, 10);
    CU_ASSERT_STRING_EQUAL(data, "0123456789");
    free(data);
    data = NULL;
    CU_ASSERT_EQUAL(nxl__read_file_capped(path, 9, &data, &len, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NULL(data);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "too large"));
    nxl_error_dispose(&err);
    unlink(path);
    CU_ASSERT_EQUAL(nxl__read_file_capped(path, 9, &data, &len, &err),
                    NXL_E_NOT_FOUND);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl__read_file_capped("/tmp", 9, &data, &len, &err),
                    NXL_E_INVAL);
    nxl_error_dispose(&err);
}

/* ---- examples
 * ----------------------------------------------------------------- */

static bool is_lower_uuid(const char *u)
{
    nxl_error err = NXL_ERROR_INIT;
    bool ok = nxl_uuid_validate(u, "u", &err) == 0;

    nxl_error_dispose(&err);
    for (; ok && *u; u++)
        if (*u >= 'A' && *u <= 'F')
            ok = false;
    return ok;
}

/* Parse -> serialise -> parse must give an equal struct, and serialising
 * again must give the same text (the canonical form is a fixpoint). */
static void round_trip(const char *name, const nxl_spawn_req *req)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req again;
    char *json1 = NULL;
    char *json2 = NULL;
    char *pretty = NULL;

    nxl_spawn_req_init(&again);
    CU_ASSERT_EQUAL_FATAL(nxl__spawn_req_to_json(req, &json1, &err), 0);
    CU_ASSERT_EQUAL(
        nxl__spawn_req_from_json(json1, strlen(json1), &again, &err), 0);
    if (err.code)
        fprintf(stderr, "\n  %s: reparse: %s\n", name, err.message);
    if (!nxl__spawn_req_equal(req, &again)) {
        fprintf(stderr, "\n  %s: round trip differs\n", name);
        CU_FAIL("round trip is not equal");
    }
    CU_ASSERT_EQUAL(nxl__spawn_req_to_json(&again, &json2, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json2);
    CU_ASSERT_STRING_EQUAL(json1, json2);
    /* The reformatter keeps a canonical document unchanged. */
    CU_ASSERT_EQUAL(nxl__json_reformat(json1, strlen(json1), &pretty, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pretty);
    CU_ASSERT_STRING_EQUAL(pretty, json1);
    free(pretty);
    free(json1);
    free(json2);
    nxl_spawn_req_dispose(&again);
    nxl_error_dispose(&err);
}

static void check_example(const char *name, const nxl_spawn_req *r)
{
    const nxl_instance *in = &r->instance;

    /* invariants the parser promises for every request */
    CU_ASSERT_TRUE(is_lower_uuid(in->uuid));
    CU_ASSERT_PTR_NOT_NULL(in->name);
    CU_ASSERT_TRUE(in->memory_mb >= 1);
    CU_ASSERT_TRUE(in->vcpus >= 1);
    for (size_t i = 0; i < r->network_info.n; i++) {
        const char *mac = r->network_info.vifs[i].address;
        CU_ASSERT_PTR_NOT_NULL_FATAL(mac);
        CU_ASSERT_EQUAL(strlen(mac), 17);
        CU_ASSERT_PTR_NULL(strpbrk(mac, "ABCDEF"));
    }

    if (strcmp(name, "pv-direct-kernel.json") == 0 ||
        strcmp(name, "pvh-direct-kernel.json") == 0) {
        /* what the Xen lab boots for real */
        CU_ASSERT_STRING_EQUAL(in->kernel_id, "nxl-lab-kernel");
        CU_ASSERT_STRING_EQUAL(in->ramdisk_id, "nxl-lab-initrd");
        CU_ASSERT_EQUAL(in->memory_mb, 128);
        CU_ASSERT_EQUAL(in->vcpus, 1);
        CU_ASSERT_EQUAL(r->block_device_info.n_mappings, 0);
        CU_ASSERT_EQUAL(r->block_device_info.n_ephemerals, 0);
        CU_ASSERT_FALSE(r->block_device_info.has_swap);
        CU_ASSERT_EQUAL(in->root_gb, 0);
        CU_ASSERT_TRUE(r->network_info.n <= 1);
        if (strncmp(name, "pv-", 3) == 0)
            CU_ASSERT_STRING_EQUAL(
                nxl_kvlist_get(&r->image_meta.properties, "vm_mode"), "xen");
        if (strncmp(name, "pvh-", 4) == 0)
            CU_ASSERT_STRING_EQUAL(
                nxl_kvlist_get(&r->image_meta.properties, "hw_machine_type"),
                "pvh");
    } else if (strcmp(name, "hvm-root-disk.json") == 0) {
        CU_ASSERT_STRING_EQUAL(in->uuid,
                               "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f");
        CU_ASSERT_STRING_EQUAL(in->name, "instance-0000002a");
        CU_ASSERT_EQUAL(in->memory_mb, 2048);
        CU_ASSERT_EQUAL(in->root_gb, 20);
        CU_ASSERT_STRING_EQUAL(r->image_meta.disk_format, "qcow2");
        CU_ASSERT_EQUAL(r->network_info.n, 1);
        CU_ASSERT_EQUAL(r->network_info.vifs[0].mtu, 1450);
        CU_ASSERT_STRING_EQUAL(r->network_info.vifs[0].subnets[0].gateway,
                               "10.0.0.1");
        CU_ASSERT_EQUAL(r->network_info.vifs[0].subnets[0].ips[0].version, 4);
        CU_ASSERT_PTR_NULL(in->config_drive); /* "" is absent */
    } else if (strcmp(name, "hvm-ephemeral-swap.json") == 0) {
        CU_ASSERT_EQUAL(r->block_device_info.n_ephemerals, 1);
        CU_ASSERT_EQUAL(r->block_device_info.ephemerals[0].size, 20);
        CU_ASSERT_TRUE(r->block_device_info.has_swap);
        CU_ASSERT_EQUAL(r->block_device_info.swap.swap_size, 2048);
        CU_ASSERT_EQUAL(in->flavor.swap, 2048);
    } else if (strcmp(name, "pv-iscsi-volume.json") == 0) {
        const nxl_volume_bdm *m = &r->block_device_info.mappings[0];
        CU_ASSERT_EQUAL_FATAL(r->block_device_info.n_mappings, 1);
        CU_ASSERT_STRING_EQUAL(m->connection_info.driver_volume_type, "iscsi");
        CU_ASSERT_STRING_EQUAL(
            nxl_kvlist_get(&m->connection_info.data, "target_lun"), "1");
        CU_ASSERT_STRING_EQUAL(
            nxl_kvlist_get(&m->connection_info.data, "target_discovered"),
            "false");
        CU_ASSERT_EQUAL(m->boot_index, -1);
    } else if (strcmp(name, "pv-rbd-volume.json") == 0) {
        const nxl_volume_bdm *m = &r->block_device_info.mappings[0];
        CU_ASSERT_EQUAL_FATAL(r->block_device_info.n_mappings, 1);
        CU_ASSERT_STRING_EQUAL(
            nxl_kvlist_get(&m->connection_info.data, "hosts"),
            "192.0.2.31,192.0.2.32,192.0.2.33");
        /* a nested object in connection_info.data is skipped */
        CU_ASSERT_PTR_NULL(
            nxl_kvlist_get(&m->connection_info.data, "qos_specs"));
        CU_ASSERT_TRUE(m->delete_on_termination);
    } else if (strcmp(name, "hvm-file-and-block-volumes.json") == 0) {
        CU_ASSERT_EQUAL_FATAL(r->block_device_info.n_mappings, 2);
        CU_ASSERT_EQUAL(r->block_device_info.mappings[0].boot_index, 0);
        CU_ASSERT_PTR_NULL(in->image_ref);
        CU_ASSERT_STRING_EQUAL(
            r->block_device_info.mappings[1].connection_info.driver_volume_type,
            "block");
    } else if (strcmp(name, "pv-two-nics-quotas.json") == 0) {
        CU_ASSERT_EQUAL(r->network_info.n, 2);
        CU_ASSERT_STRING_EQUAL(
            nxl_kvlist_get(&in->flavor.extra_specs, "quota:cpu_shares"), "512");
        CU_ASSERT_PTR_NOT_NULL(nxl_kvlist_get(&in->flavor.extra_specs,
                                              "quota:vif_outbound_average"));
        /* list-form metadata */
        CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&in->metadata, "tier"), "dmz");
        CU_ASSERT_EQUAL(r->network_info.vifs[1].subnets[0].dns.n, 2);
    } else if (strcmp(name, "hvm-vnc-spice.json") == 0) {
        CU_ASSERT_STRING_EQUAL(
            nxl_kvlist_get(&r->image_meta.properties, "hw_video_model"), "qxl");
        CU_ASSERT_STRING_EQUAL(
            nxl_kvlist_get(&r->image_meta.properties, "hw_video_ram"), "64");
        CU_ASSERT_PTR_NOT_NULL(r->admin_password);
    } else if (strcmp(name, "pv-config-drive.json") == 0) {
        CU_ASSERT_STRING_EQUAL(in->config_drive, "True");
        CU_ASSERT_EQUAL(r->n_injected_files, 2);
        CU_ASSERT_STRING_EQUAL(r->injected_files[0].path, "/etc/motd");
        CU_ASSERT_PTR_NOT_NULL(in->user_data);
    } else {
        fprintf(stderr, "\n  %s: no key-field checks for this example\n", name);
    }
}

static void test_examples(void)
{
    char dir[4096];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof(dir), "%s/examples", nxl_test_srcdir());
    d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while ((de = readdir(d))) {
        char rel[512];
        size_t nl = strlen(de->d_name);
        nxl_error err = NXL_ERROR_INIT;
        nxl_spawn_req req;
        char *doc;
        size_t len;

        if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        snprintf(rel, sizeof(rel), "examples/%s", de->d_name);
        doc = nxl_test_read_src(rel, &len);
        CU_ASSERT_PTR_NOT_NULL(doc);
        if (!doc)
            continue;
        n++;
        nxl_spawn_req_init(&req);
        CU_ASSERT_EQUAL(nxl__spawn_req_from_json(doc, len, &req, &err), 0);
        if (err.code) {
            fprintf(stderr, "\n  %s: %s\n", de->d_name, err.message);
        } else {
            check_example(de->d_name, &req);
            round_trip(de->d_name, &req);
        }
        nxl_spawn_req_dispose(&req);
        nxl_error_dispose(&err);
        free(doc);
    }
    closedir(d);
    CU_ASSERT(n >= 10);
}

/* ---- bad input
 * ------------------------------------------------------------------ */

typedef struct bad_case {
    const char *label;
    const char *doc;  /* inline document, or NULL */
    const char *file; /* under tests/fixtures/json/bad/, or NULL */
    size_t len;       /* 0: strlen(doc) */
    const char *needle;
} bad_case;

static const bad_case bad_cases[] = {
    {"malformed", "{\"instance\": }", NULL, 0, "malformed JSON"},
    {"truncated", NULL, "truncated.json", 0, "malformed JSON"},
    {"trailing garbage", INSTMV("\"x\": 1") " junk", NULL, 0, "malformed"},
    {"empty", "", NULL, 0, "empty document"},
    {"whitespace only", "   \n", NULL, 0, "malformed JSON"},
    {"not an object", "[1, 2, 3]", NULL, 0,
     "spawn request: expected an object, got an array"},
    {"bare string", "\"instance\"", NULL, 0, "expected an object"},
    {"no instance", "{\"image_meta\": {}}", NULL, 0,
     "instance: missing required key"},
    {"instance is a list", "{\"instance\": []}", NULL, 0,
     "instance: expected an object, got an array"},
    {"missing uuid",
     "{\"instance\": {\"name\": \"i\", \"memory_mb\": 1, \"vcpus\": 1}}", NULL,
     0, "instance.uuid: missing required key"},
    {"missing name",
     "{\"instance\": {\"uuid\": \"" UUID1 "\", \"memory_mb\": 1, "
     "\"vcpus\": 1}}",
     NULL, 0, "instance.name: missing required key"},
    {"missing memory", INST("\"vcpus\": 1"), NULL, 0,
     "instance.memory_mb: missing"},
    {"missing memory, flavor without it",
     INST("\"vcpus\": 1, \"flavor\": {\"name\": \"m1\"}"), NULL, 0,
     "instance.memory_mb: missing"},
    {"missing vcpus", INST("\"memory_mb\": 64"), NULL, 0,
     "instance.vcpus: missing"},
    {"string vcpus", INST("\"memory_mb\": 64, \"vcpus\": \"2\""), NULL, 0,
     "instance.vcpus: expected a non-negative integer, got a string"},
    {"negative memory", INST("\"memory_mb\": -5, \"vcpus\": 1"), NULL, 0,
     "instance.memory_mb: integer -5 out of range"},
    {"zero memory", INST("\"memory_mb\": 0, \"vcpus\": 1"), NULL, 0,
     "instance.memory_mb: integer 0 out of range"},
    {"float vcpus", INST("\"memory_mb\": 64, \"vcpus\": 1.5"), NULL, 0,
     "instance.vcpus: expected an integer, got 1.5"},
    {"exponent vcpus", INST("\"memory_mb\": 64, \"vcpus\": 1e2"), NULL, 0,
     "instance.vcpus: expected an integer"},
    {"huge integer",
     INST("\"memory_mb\": 99999999999999999999999, \"vcpus\": 1"), NULL, 0,
     "instance.memory_mb: integer 99999999999999999999999 out of range"},
    {"too many vcpus", INST("\"memory_mb\": 64, \"vcpus\": 513"), NULL, 0,
     "instance.vcpus: integer 513 out of range 1..512"},
    {"memory over 16 TiB", INST("\"memory_mb\": 16777217, \"vcpus\": 1"), NULL,
     0, "instance.memory_mb: integer 16777217 out of range"},
    {"flavor vcpus string", INSTMV("\"flavor\": {\"vcpus\": \"one\"}"), NULL, 0,
     "instance.flavor.vcpus: expected a non-negative integer"},
    {"flavor not object", INSTMV("\"flavor\": \"m1.tiny\""), NULL, 0,
     "instance.flavor: expected an object, got a string"},
    {"bad uuid",
     "{\"instance\": {\"uuid\": \"not-a-uuid\", \"name\": \"i\", "
     "\"memory_mb\": 1, \"vcpus\": 1}}",
     NULL, 0, "instance.uuid: 'not-a-uuid' is not a canonical UUID"},
    {"uuid is a number",
     "{\"instance\": {\"uuid\": 42, \"name\": \"i\", \"memory_mb\": 1, "
     "\"vcpus\": 1}}",
     NULL, 0, "instance.uuid: expected a string, got an integer"},
    {"name with slash",
     "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"../etc/passwd\", "
     "\"memory_mb\": 1, \"vcpus\": 1}}",
     NULL, 0, "instance.name: name '../etc/passwd' must not contain '/'"},
    {"name with control char",
     "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"a\\u0007b\", "
     "\"memory_mb\": 1, \"vcpus\": 1}}",
     NULL, 0, "instance.name: name 'a\\x07b' contains a control character"},
    {"name with DEL",
     "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"a\\u007f\", "
     "\"memory_mb\": 1, \"vcpus\": 1}}",
     NULL, 0, "instance.name: name 'a\\x7f' contains a control character"},
    {"name dotdot",
     "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"..\", "
     "\"memory_mb\": 1, \"vcpus\": 1}}",
     NULL, 0, "instance.name: name must not be '.' or '..'"},
    {"empty name",
     "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"\", "
     "\"memory_mb\": 1, \"vcpus\": 1}}",
     NULL, 0, "instance.name: must not be empty"},
    {"name too long", NULL, NULL, 0, "instance.name: string too long"},
    {"invalid UTF-8", NULL, "invalid-utf8.json", 0,
     "invalid UTF-8 at offset 75 (in the string after key 'name')"},
    {"overlong UTF-8", NULL, "overlong-utf8.json", 0,
     "invalid UTF-8 at offset 75 (in the string after key 'name')"},
    {"UTF-8 surrogate", NULL, "surrogate-utf8.json", 0,
     "(in the string after key 'display_name')"},
    {"escaped lone surrogate", INSTMV("\"display_name\": \"a\\ud800\""), NULL,
     0, "lone UTF-16 surrogate escape at offset"},
    {"escaped low surrogate first",
     INSTMV("\"display_name\": \"\\udc00\\ud800\""), NULL, 0,
     "lone UTF-16 surrogate"},
    {"oversized document", NULL, NULL, 0, "document too large"},
    {"too many VIFs", NULL, NULL, 0,
     "network_info: too many entries (257, limit 256)"},
    {"bad MAC", VIF("\"address\": \"fa:16:3e:00:00\""), NULL, 0,
     "network_info[0].address: 'fa:16:3e:00:00' is not a MAC address"},
    {"multicast MAC", NULL, "multicast-mac.json", 0,
     "network_info[1].address: 01:00:5e:00:00:fb is a multicast MAC"},
    {"duplicate MAC",
     REQ("\"network_info\": [{" MAC1 "}, {\"address\": "
         "\"FA:16:3E:00:00:01\"}]"),
     NULL, 0, "network_info[1].address: MAC fa:16:3e:00:00:01 is already"},
    {"VIF without address", VIF("\"type\": \"bridge\""), NULL, 0,
     "network_info[0].address: missing required key"},
    {"VIF id not a uuid", VIF(MAC1 ", \"id\": \"port-1\""), NULL, 0,
     "network_info[0].id: 'port-1' is not a canonical UUID"},
    {"network_info not a list", REQ("\"network_info\": {}"), NULL, 0,
     "network_info: expected an array, got an object"},
    {"bad gateway",
     VIF(MAC1 ", \"network\": {\"subnets\": [{\"gateway\": {\"address\": "
              "\"10.0.0.300\"}}]}"),
     NULL, 0,
     "network_info[0].network.subnets[0].gateway.address: '10.0.0.300' is "
     "not an IPv4"},
    {"bad dns",
     VIF(MAC1 ", \"network\": {\"subnets\": [{\"dns\": [\"1.1.1.1\", "
              "{\"address\": 7}]}]}"),
     NULL, 0,
     "network_info[0].network.subnets[0].dns[1].address: expected a string"},
    {"ip version mismatch",
     VIF(MAC1 ", \"network\": {\"subnets\": [{\"ips\": [{\"address\": "
              "\"fe80::1\", \"version\": 4}]}]}"),
     NULL, 0,
     "network_info[0].network.subnets[0].ips[0].version: 4 does not match"},
    {"bad cidr",
     VIF(MAC1 ", \"network\": {\"subnets\": [{\"cidr\": \"10.0.0.0/33\"}]}"),
     NULL, 0, "network_info[0].network.subnets[0].cidr"},
    {"devname with slash", VIF(MAC1 ", \"devname\": \"../tap0\""), NULL, 0,
     "network_info[0].devname: '../tap0' is not an interface name"},
    {"mtu too large", VIF(MAC1 ", \"network\": {\"mtu\": 70000}"), NULL, 0,
     "network_info[0].network.mtu: integer 70000 out of range"},
    {"nested object in metadata", NULL, "nested-metadata.json", 0,
     "instance.metadata: key 'deploy': nested objects"},
    {"array of objects in extra_specs",
     INSTMV("\"flavor\": {\"extra_specs\": {\"hw:numa\": [{\"a\": 1}]}}"), NULL,
     0, "instance.flavor.extra_specs: key 'hw:numa': nested"},
    {"nested in image properties",
     REQ("\"image_meta\": {\"properties\": {\"x\": {\"y\": 1}}}"), NULL, 0,
     "image_meta.properties: key 'x': nested"},
    {"list-form metadata without key",
     INSTMV("\"metadata\": [{\"value\": \"v\"}]"), NULL, 0,
     "instance.metadata[0].key: expected a string, got nothing"},
    {"list-form metadata without value",
     INSTMV("\"metadata\": [{\"key\": \"k\"}]"), NULL, 0,
     "instance.metadata[0].value: missing required key"},
    {"list-form metadata item not object", INSTMV("\"metadata\": [\"k=v\"]"),
     NULL, 0, "instance.metadata[0]: expected an object, got a string"},
    {"list-form metadata duplicate key",
     INSTMV("\"metadata\": [{\"key\": \"k\", \"value\": 1}, {\"key\": \"k\", "
            "\"value\": 2}]"),
     NULL, 0, "instance.metadata: duplicate key 'k'"},
    {"metadata is a string", INSTMV("\"metadata\": \"role=web\""), NULL, 0,
     "instance.metadata: expected an object or a list"},
    {"NUL inside", NULL, NULL, 0, "NUL byte at offset"},
    {"escaped NUL", INSTMV("\"display_name\": \"a\\u0000b\""), NULL, 0,
     "escaped NUL"},
    {"duplicate key",
     "{\"instance\": {\"uuid\": \"" UUID1 "\", \"name\": \"i\", "
     "\"memory_mb\": 1, \"vcpus\": 1, \"uuid\": \"" UUID1 "\"}}",
     NULL, 0, "instance: duplicate key 'uuid'"},
    {"too deep", NULL, NULL, 0, "nested deeper than 32"},
    {"kernel_id path", INSTMV("\"kernel_id\": \"../../boot/vmlinuz\""), NULL, 0,
     "instance.kernel_id: name '../../boot/vmlinuz' must not contain"},
    {"power_state 2", INSTMV("\"power_state\": 2"), NULL, 0,
     "instance.power_state: 2 is not a nova power state"},
    {"user_data not base64", INSTMV("\"user_data\": \"#cloud-config\""), NULL,
     0, "instance.user_data: not valid base64"},
    {"root_device_name", INSTMV("\"root_device_name\": \"/dev/../sda\""), NULL,
     0, "instance.root_device_name: '/dev/../sda' is not a device name"},
    {"bdm without connection_info",
     REQ("\"block_device_info\": {\"block_device_mapping\": "
         "[{\"mount_device\": \"/dev/xvdb\"}]}"),
     NULL, 0,
     "block_device_info.block_device_mapping[0].connection_info: missing"},
    {"bdm without volume type",
     REQ("\"block_device_info\": {\"block_device_mapping\": "
         "[{\"mount_device\": \"/dev/xvdb\", \"connection_info\": "
         "{\"data\": {}}}]}"),
     NULL, 0,
     "block_device_info.block_device_mapping[0].connection_info."
     "driver_volume_type: missing"},
    {"bdm delete flag string",
     REQ("\"block_device_info\": {\"block_device_mapping\": "
         "[{\"mount_device\": \"/dev/xvdb\", \"delete_on_termination\": "
         "\"yes\", \"connection_info\": {\"driver_volume_type\": "
         "\"iscsi\"}}]}"),
     NULL, 0,
     "block_device_info.block_device_mapping[0].delete_on_termination: "
     "expected a boolean"},
    {"negative swap",
     REQ("\"block_device_info\": {\"swap\": {\"swap_size\": -1}}"), NULL, 0,
     "block_device_info.swap.swap_size: integer -1 out of range"},
    {"ephemerals not list", REQ("\"block_device_info\": {\"ephemerals\": 3}"),
     NULL, 0, "block_device_info.ephemerals: expected an array"},
    {"injected file relative", REQ("\"injected_files\": [[\"etc/x\", \"\"]]"),
     NULL, 0, "injected_files[0]: path 'etc/x' must be absolute"},
    {"injected file traversal",
     REQ("\"injected_files\": [[\"/etc/../root/.ssh/x\", \"eA==\"]]"), NULL, 0,
     "injected_files[0]: path '/etc/../root/.ssh/x' must not contain"},
    {"injected file not pair", REQ("\"injected_files\": [\"/etc/motd\"]"), NULL,
     0, "injected_files[0]: expected a [path, base64] pair"},
    {"injected contents not base64",
     REQ("\"injected_files\": [[\"/etc/motd\", \"hello!\"]]"), NULL, 0,
     "injected_files[0].contents: not valid base64"},
};

static char *make_doc(const bad_case *bc, size_t *len_r)
{
    char *doc = NULL;
    size_t len = 0;

    if (bc->file) {
        char rel[512];
        snprintf(rel, sizeof(rel), "tests/fixtures/json/bad/%s", bc->file);
        doc = nxl_test_read_src(rel, &len);
    } else if (bc->doc) {
        len = bc->len ? bc->len : strlen(bc->doc);
        doc = malloc(len + 1);
        if (doc) {
            memcpy(doc, bc->doc, len);
            doc[len] = '\0';
        }
    } else if (strcmp(bc->label, "name too long") == 0) {
        nxl_buf b;
        nxl_buf_init(&b);
        nxl_buf_printf(&b, "{\"instance\": {\"uuid\": \"%s\", \"name\": \"",
                       UUID1);
        for (int i = 0; i < NXL_MAX_NAME_LEN + 1; i++)
            nxl_buf_append(&b, "n", 1);
        nxl_buf_printf(&b, "\", \"memory_mb\": 1, \"vcpus\": 1}}");
        doc = b.data;
        len = b.len;
    } else if (strcmp(bc->label, "oversized document") == 0) {
        /* valid JSON just over the cap: the size check alone refuses it */
        nxl_buf b;
        nxl_buf_init(&b);
        nxl_buf_printf(&b, "%s", INSTMV("\"user_data\": \""));
        b.len -= 2; /* drop the closing braces */
        while (b.len <= NXL_MAX_DOCUMENT_BYTES)
            nxl_buf_append(&b, "QUFB", 4);
        nxl_buf_append(&b, "\"}}", 3);
        doc = b.data;
        len = b.len;
    } else if (strcmp(bc->label, "too many VIFs") == 0) {
        nxl_buf b;
        nxl_buf_init(&b);
        nxl_buf_printf(&b, "%s", REQ("\"network_info\": ["));
        b.len -= 1;
        for (int i = 0; i < NXL_MAX_LIST_ITEMS + 1; i++)
            nxl_buf_printf(&b, "%s{\"address\": \"fa:16:3e:00:%02x:%02x\"}",
                           i ? ", " : "", i / 256, i % 256);
        nxl_buf_append(&b, "]}", 2);
        doc = b.data;
        len = b.len;
    } else if (strcmp(bc->label, "NUL inside") == 0) {
        static const char t[] = INSTMV("\"display_name\": \"ab\"");
        len = sizeof(t) - 1;
        doc = malloc(len + 1);
        if (doc) {
            memcpy(doc, t, len + 1);
            *strstr(doc, "ab") = '\0'; /* a raw NUL inside len */
        }
    } else if (strcmp(bc->label, "too deep") == 0) {
        nxl_buf b;
        nxl_buf_init(&b);
        nxl_buf_printf(&b, "%s", INSTMV("\"x\": "));
        b.len -= 2;
        for (int i = 0; i < 40; i++)
            nxl_buf_append(&b, "[", 1);
        for (int i = 0; i < 40; i++)
            nxl_buf_append(&b, "]", 1);
        nxl_buf_append(&b, "}}", 2);
        doc = b.data;
        len = b.len;
    }
    *len_r = len;
    return doc;
}

static void test_bad_input(void)
{
    CU_ASSERT(NXL_ARRAY_SIZE(bad_cases) >= 25);
    for (size_t i = 0; i < NXL_ARRAY_SIZE(bad_cases); i++) {
        const bad_case *bc = &bad_cases[i];
        nxl_error err = NXL_ERROR_INIT;
        nxl_spawn_req req;
        size_t len = 0;
        char *doc = make_doc(bc, &len);
        int rc;

        CU_ASSERT_PTR_NOT_NULL(doc);
        if (!doc) {
            fprintf(stderr, "\n  case '%s': no document\n", bc->label);
            continue;
        }
        nxl_spawn_req_init(&req);
        rc = nxl__spawn_req_from_json(doc, len, &req, &err);
        if (rc != NXL_E_INVAL || !err.message ||
            !strstr(err.message, bc->needle)) {
            fprintf(stderr, "\n  case '%s': rc=%d message '%s', want '%s'\n",
                    bc->label, rc, nxl_error_message(&err), bc->needle);
            CU_FAIL("bad input not refused as expected");
        }
        CU_ASSERT_EQUAL(err.code, NXL_E_INVAL);
        if (!spawn_req_empty(&req)) {
            fprintf(stderr, "\n  case '%s': output not empty\n", bc->label);
            CU_FAIL("output changed on failure");
        }
        nxl_spawn_req_dispose(&req);
        nxl_error_dispose(&err);
        free(doc);
    }
}

/* ---- accepted variants
 * ------------------------------------------------------------- */

static int parse(const char *doc, nxl_spawn_req *req, nxl_error *err)
{
    nxl_spawn_req_init(req);
    return nxl__spawn_req_from_json(doc, strlen(doc), req, err);
}

static void test_variants(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    const nxl_instance *in = &req.instance;

    /* defaults from the flavor; upper-case uuid and MAC stored lower-case;
     * "" and null are absent; comments are tolerated; unknown keys
     * ignored; scalars flattened */
    CU_ASSERT_EQUAL(
        parse("{\"instance\": {\"uuid\": "
              "\"2F9C4D1E-8A7B-4C6D-9E0F-1A2B3C4D5E6F\", \"name\": \"i-1\", "
              "/* a comment */ \"kernel_id\": \"\", \"display_name\": "
              "\"smile \\ud83d\\ude00\", \"ramdisk_id\": null, "
              "\"unknown\": {\"deep\": [1]}, \"config_drive\": true, "
              "\"flavor\": {\"memory_mb\": 512, \"vcpus\": 2, \"root_gb\": 5,"
              " \"ephemeral_gb\": 1, \"extra_specs\": {\"n\": 1.5, \"b\": "
              "false, \"z\": null, \"l\": [\"a\", 2, true], \"e\": []}}},"
              " \"network_info\": [{\"address\": \"FA:16:3E:AA:BB:CC\", "
              "\"details\": {\"bound_drivers\": {\"0\": \"ovs\"}, "
              "\"port_filter\": true}, \"network\": {\"subnets\": "
              "[{\"gateway\": \"fe80::1\", \"ips\": [{\"address\": "
              "\"2001:db8::5\"}]}]}}], \"block_device_info\": {\"swap\": "
              "null}, \"injected_files\": null}",
              &req, &err),
        0);
    if (err.code)
        fprintf(stderr, "\n  variants: %s\n", err.message);
    CU_ASSERT_STRING_EQUAL(in->uuid, UUID1);
    CU_ASSERT_EQUAL(in->memory_mb, 512);
    CU_ASSERT_EQUAL(in->vcpus, 2);
    CU_ASSERT_EQUAL(in->root_gb, 5);
    CU_ASSERT_STRING_EQUAL(in->display_name, "smile \xf0\x9f\x98\x80");
    CU_ASSERT_EQUAL(in->ephemeral_gb, 1);
    CU_ASSERT_PTR_NULL(in->kernel_id);
    CU_ASSERT_PTR_NULL(in->ramdisk_id);
    CU_ASSERT_STRING_EQUAL(in->config_drive, "True");
    CU_ASSERT_EQUAL(in->power_state, -1);
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&in->flavor.extra_specs, "n"), "1.5");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&in->flavor.extra_specs, "b"),
                           "false");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&in->flavor.extra_specs, "z"),
                           "null");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&in->flavor.extra_specs, "l"),
                           "a,2,true");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&in->flavor.extra_specs, "e"), "");
    CU_ASSERT_EQUAL_FATAL(req.network_info.n, 1);
    CU_ASSERT_STRING_EQUAL(req.network_info.vifs[0].address,
                           "fa:16:3e:aa:bb:cc");
    CU_ASSERT_EQUAL(req.network_info.vifs[0].details.n, 1);
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.network_info.vifs[0].details, "port_filter"),
        "true");
    CU_ASSERT_STRING_EQUAL(req.network_info.vifs[0].subnets[0].gateway,
                           "fe80::1");
    CU_ASSERT_EQUAL(req.network_info.vifs[0].subnets[0].ips[0].version, 6);
    CU_ASSERT_FALSE(req.block_device_info.has_swap);
    round_trip("variants", &req);
    nxl_spawn_req_dispose(&req);

    /* top-level values win over the flavor's */
    CU_ASSERT_EQUAL(parse(INST("\"memory_mb\": 256, \"vcpus\": 4, "
                               "\"flavor\": {\"memory_mb\": 512, "
                               "\"vcpus\": 2}"),
                          &req, &err),
                    0);
    CU_ASSERT_EQUAL(in->memory_mb, 256);
    CU_ASSERT_EQUAL(in->vcpus, 4);
    CU_ASSERT_EQUAL(in->flavor.memory_mb, 512);
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);

    /* not NUL-terminated: exactly len bytes are read */
    {
        static const char doc[] = INSTMV("\"host\": \"h\"") "GARBAGE";
        nxl_spawn_req_init(&req);
        CU_ASSERT_EQUAL(
            nxl__spawn_req_from_json(doc, sizeof(doc) - 8, &req, &err), 0);
        CU_ASSERT_STRING_EQUAL(req.instance.host, "h");
        nxl_spawn_req_dispose(&req);
    }
    nxl_error_dispose(&err);
}

/* ---- the other documents
 * ------------------------------------------------------------- */

static void test_other_documents(void)
{
    static const char agg_doc[] =
        "{\"id\": 7, \"name\": \"xen-pool-a\", \"availability_zone\": "
        "\"az1\", \"hosts\": [\"xen-compute-01\", \"xen-compute-02\"], "
        "\"metadata\": {\"availability_zone\": \"az1\", \"pool\": true}}";
    static const char mig_doc[] =
        "{\"id\": 12, \"instance_uuid\": \"" UUID1 "\", \"source_compute\": "
        "\"xen-compute-01\", \"dest_compute\": \"xen-compute-02\", "
        "\"status\": \"migrating\", \"migration_type\": \"live-migration\", "
        "\"old_instance_type_id\": 3, \"new_instance_type_id\": \"4\"}";
    nxl_error err = NXL_ERROR_INIT;
    nxl_aggregate agg;
    nxl_migration m;
    nxl_instance inst;
    nxl_image_meta im;
    nxl_network_info ni;
    nxl_block_device_info bdi;
    nxl_instance_info info;
    char *json = NULL;

    nxl_aggregate_init(&agg);
    CU_ASSERT_EQUAL(
        nxl__aggregate_from_json(agg_doc, strlen(agg_doc), &agg, &err), 0);
    CU_ASSERT_EQUAL(agg.id, 7);
    CU_ASSERT_STRING_EQUAL(agg.name, "xen-pool-a");
    CU_ASSERT_EQUAL(agg.hosts.n, 2);
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&agg.metadata, "pool"), "true");
    nxl_aggregate_dispose(&agg);
    CU_ASSERT_EQUAL(nxl__aggregate_from_json(
                        SL("{\"id\": 1, \"name\": \"a/b\"}"), &agg, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "aggregate.name"));
    CU_ASSERT_PTR_NULL(agg.name);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(
        nxl__aggregate_from_json(SL("{\"id\": 1, \"name\": \"a\", \"hosts\": "
                                    "[\"h\", \"h\"]}"),
                                 &agg, &err),
        NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(nxl_error_message(&err), "aggregate.hosts[1]"));
    CU_ASSERT_EQUAL(agg.hosts.n, 0);
    nxl_error_dispose(&err);

    nxl_migration_init(&m);
    CU_ASSERT_EQUAL(
        nxl__migration_from_json(mig_doc, strlen(mig_doc), &m, &err), 0);
    CU_ASSERT_EQUAL(m.id, 12);
    CU_ASSERT_STRING_EQUAL(m.instance_uuid, UUID1);
    CU_ASSERT_STRING_EQUAL(m.old_instance_type_id, "3");
    CU_ASSERT_STRING_EQUAL(m.new_instance_type_id, "4");
    CU_ASSERT_STRING_EQUAL(m.migration_type, "live-migration");
    nxl_migration_dispose(&m);
    CU_ASSERT_EQUAL(nxl__migration_from_json(SL("{\"id\": 1}"), &m, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(nxl_error_message(&err), "migration.instance_uuid: missing"));
    nxl_error_dispose(&err);

    nxl_instance_init(&inst);
    CU_ASSERT_EQUAL(
        nxl__instance_from_json(SL("{\"uuid\": \"" UUID1 "\", \"name\": \"i\", "
                                   "\"memory_mb\": 64, "
                                   "\"vcpus\": \"x\"}"),
                                &inst, &err),
        NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "instance.vcpus"));
    CU_ASSERT_PTR_NULL(inst.name);
    nxl_error_dispose(&err);

    nxl_image_meta_init(&im);
    CU_ASSERT_EQUAL(nxl__image_meta_from_json(
                        SL("{\"id\": \"img\", \"min_ram\": -1}"), &im, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(nxl_error_message(&err), "image_meta.min_ram"));
    CU_ASSERT_PTR_NULL(im.id);
    nxl_error_dispose(&err);

    nxl_network_info_init(&ni);
    CU_ASSERT_EQUAL(
        nxl__network_info_from_json(
            SL("[{\"address\": \"fa:16:3e:00:00:01\"}]"), &ni, &err),
        0);
    CU_ASSERT_EQUAL(ni.n, 1);
    nxl_network_info_dispose(&ni);
    CU_ASSERT_EQUAL(nxl__network_info_from_json(SL("{}"), &ni, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(nxl_error_message(&err), "network_info"));
    nxl_error_dispose(&err);

    nxl_block_device_info_init(&bdi);
    CU_ASSERT_EQUAL(nxl__block_device_info_from_json(
                        SL("{\"swap\": {\"swap_size\": 512}}"), &bdi, &err),
                    0);
    CU_ASSERT_TRUE(bdi.has_swap);
    CU_ASSERT_EQUAL(bdi.swap.swap_size, 512);
    nxl_block_device_info_dispose(&bdi);

    nxl_instance_info_init(&info);
    info.state = NXL_POWER_RUNNING;
    info.max_mem_kb = 131072;
    info.mem_kb = 131072;
    info.num_cpu = 1;
    info.cpu_time_ns = 123456789;
    info.domid = 5;
    memcpy(info.id, UUID1, sizeof(UUID1));
    CU_ASSERT_EQUAL(nxl__instance_info_to_json(&info, &json, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"state_name\": \"running\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"cpu_time_ns\": 123456789"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"id\": \"" UUID1 "\""));
    free(json);
    json = NULL;

    /* reformat: compact in, 2-space indent out, numbers kept verbatim */
    CU_ASSERT_EQUAL(
        nxl__json_reformat(SL("{\"a\":[1,2.50,{\"b\":null}]}"), &json, &err),
        0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_STRING_EQUAL(json, "{\n  \"a\": [\n    1,\n    2.50,\n    {\n"
                                 "      \"b\": null\n    }\n  ]\n}\n");
    free(json);
    json = NULL;
    CU_ASSERT_EQUAL(nxl__json_reformat(SL("{\"a\":"), &json, &err),
                    NXL_E_INVAL);
    CU_ASSERT_PTR_NULL(json);
    nxl_error_dispose(&err);
}

/* ---- golden file
 * --------------------------------------------------------------------- */

static void test_golden(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    char *doc;
    char *json = NULL;
    char *golden;
    size_t len;
    const char *regen = getenv("NXL_TEST_REGENERATE");

    doc = nxl_test_read_src("examples/pv-direct-kernel.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL(nxl__spawn_req_from_json(doc, len, &req, &err), 0);
    CU_ASSERT_EQUAL(nxl__spawn_req_to_json(&req, &json, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    if (regen && strcmp(regen, "1") == 0) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof(path),
                 "%s/tests/golden/json/pv-direct-kernel.canonical.json",
                 nxl_test_srcdir());
        f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL(f);
        if (f) {
            fputs(json, f);
            fclose(f);
        }
    }
    golden = nxl_test_read_src(
        "tests/golden/json/pv-direct-kernel.canonical.json", &len);
    CU_ASSERT_PTR_NOT_NULL(golden);
    if (golden && strcmp(golden, json) != 0) {
        fprintf(stderr, "\n  golden differs; NXL_TEST_REGENERATE=1 rewrites "
                        "it (read the diff)\n");
        CU_FAIL("canonical JSON differs from the golden file");
    }
    free(golden);
    free(json);
    free(doc);
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("json", NULL, NULL);
    if (!s || !CU_add_test(s, "uuid_validate", test_uuid_validate) ||
        !CU_add_test(s, "name_validate", test_name_validate) ||
        !CU_add_test(s, "mac_validate", test_mac_validate) ||
        !CU_add_test(s, "containers", test_containers) ||
        !CU_add_test(s, "lifecycle", test_lifecycle) ||
        !CU_add_test(s, "read_file_capped", test_read_file_capped) ||
        !CU_add_test(s, "examples", test_examples) ||
        !CU_add_test(s, "bad_input", test_bad_input) ||
        !CU_add_test(s, "variants", test_variants) ||
        !CU_add_test(s, "other_documents", test_other_documents) ||
        !CU_add_test(s, "golden", test_golden)) {
        CU_cleanup_registry();
        return 1;
    }
    return nxl_test_run(NULL);
}

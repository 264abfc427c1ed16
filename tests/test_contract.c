/* The lifecycle contract suite (tests/contract/suite.h) on the fake
 * hypervisor port: the same cases the lab's t19-contract-suite runs on
 * real Xen, here in make check, one CUnit test per case.
 *
 * The fake has no guests: it boots nothing, so "the guest boots" holds at
 * once; an operator behind the driver's back is the fake's external
 * actions; the event thread looks every 20 ms instead of every second.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "common/internal.h"
#include "novaxl/nxl.h"
#include "tests/contract/suite.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"

#define EVENT_POLL_MS 20
/* Cases the runner has CUnit entries for (CASE_FN below). */
#define MAX_CASES 8

typedef struct fake_target {
    char root[PATH_MAX / 2];
    char instances[PATH_MAX];
    char images[PATH_MAX];
    nxl_port *port; /* the hypervisor: outlives every driver */
} fake_target;

static nxl_test_xsd xsd;
static fake_target fake;
static nxl_contract_target target;
/* The PV example drives the cases; the PVH one is the other instance. */
static nxl_spawn_req req, other;
static char *req_doc, *other_doc;

static int fake_open(void *opaque, nxl_event_fn *listener, void *lopaque,
                     nxl_driver **drv_r, nxl_error *err)
{
    fake_target *f = opaque;
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    int rc;

    cfg.host = "testhost";
    cfg.instances_dir = f->instances;
    cfg.image_cache_dir = f->images;
    *drv_r = NULL;
    if ((rc = nxl_driver_open("libxl", &cfg, drv_r, err)) < 0 ||
        (rc = nxl__xl_driver_use_port(*drv_r, f->port, true, err)) < 0 ||
        (rc = nxl_driver_register_event_listener(*drv_r, listener, lopaque,
                                                 err)) < 0)
        return rc;
    nxl__xl_driver_set_event_poll(*drv_r, EVENT_POLL_MS);
    return nxl_host_init(*drv_r, "testhost", err);
}

static int fake_boots(void *opaque, const nxl_instance *inst)
{
    (void)opaque;
    (void)inst;
    return 0;
}

static bool fake_wait_boot(void *opaque, const nxl_instance *inst, int above)
{
    (void)opaque;
    (void)inst;
    (void)above;
    return true;
}

/* The fake's domains with uuid: how many, and the last one's domid. */
static int fake_find(fake_target *f, const char *uuid, uint32_t *domid_r)
{
    nxl_port_dominfo *v = NULL;
    size_t n = 0;
    int k = 0;

    if (f->port->ops->list(f->port, &v, &n, NULL) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].uuid, uuid) == 0) {
            k++;
            if (domid_r)
                *domid_r = v[i].domid;
        }
    free(v);
    return k;
}

static int fake_domains_with(void *opaque, const char *uuid)
{
    return fake_find(opaque, uuid, NULL);
}

static int fake_out_of_band(void *opaque, const char *action, int domid)
{
    fake_target *f = opaque;

    return domid < 0
               ? NXL_E_INVAL
               : nxl__port_fake_external(f->port, action, (uint32_t)domid);
}

static int fake_foreign_create(void *opaque, char uuid_r[NXL_CONTRACT_UUID_LEN])
{
    fake_target *f = opaque;
    nxl_port_dominfo *v = NULL;
    size_t n = 0;
    uint32_t domid;
    int rc;

    uuid_r[0] = '\0';
    if ((rc = nxl__port_fake_external_create(f->port, "handmade", &domid)) <
            0 ||
        (rc = f->port->ops->list(f->port, &v, &n, NULL)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (v[i].domid == domid)
            snprintf(uuid_r, NXL_CONTRACT_UUID_LEN, "%s", v[i].uuid);
    free(v);
    return uuid_r[0] ? 0 : NXL_E_NOT_FOUND;
}

static bool fake_foreign_intact(void *opaque, const char *uuid)
{
    return fake_find(opaque, uuid, NULL) == 1;
}

static void fake_foreign_destroy(void *opaque, const char *uuid)
{
    fake_target *f = opaque;
    uint32_t domid;

    if (fake_find(f, uuid, &domid) == 1)
        nxl__port_fake_external(f->port, "destroy", domid);
}

static int write_image(const char *dir, const char *name)
{
    char path[PATH_MAX * 2];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(fp = fopen(path, "w")))
        return -1;
    fputs("the fake boots nothing\n", fp);
    return fclose(fp);
}

static int read_req(const char *rel, nxl_spawn_req *r, char **doc_r)
{
    size_t len;

    nxl_spawn_req_init(r);
    if (!(*doc_r = nxl_test_read_src(rel, &len)))
        return -1;
    return nxl__spawn_req_from_json(*doc_r, len, r, NULL);
}

/* The suite's init: xenstored (spawn reads the host's flags there), the
 * fake hypervisor, a private root with the example's images, and the
 * example request itself. */
static int suite_init(void)
{
    if (nxl_test_xsd_start(&xsd) != 0) {
        fprintf(stderr, "xenstored: %s\n", xsd.why);
        return 1;
    }
    if (nxl_test_mkdtemp(fake.root, sizeof(fake.root), "nxl-contract") < 0)
        return 1;
    snprintf(fake.instances, sizeof(fake.instances), "%s/instances", fake.root);
    snprintf(fake.images, sizeof(fake.images), "%s/images", fake.root);
    if (mkdir(fake.images, 0700) < 0 ||
        write_image(fake.images, "nxl-lab-kernel") < 0 ||
        write_image(fake.images, "nxl-lab-initrd") < 0 ||
        nxl__port_fake_new(&fake.port) < 0)
        return 1;
    if (read_req("examples/pv-direct-kernel.json", &req, &req_doc) < 0 ||
        read_req("examples/pvh-direct-kernel.json", &other, &other_doc) < 0)
        return 1;
    target = (nxl_contract_target){
        .name = "fake port",
        .host = "testhost",
        .opaque = &fake,
        .req = &req,
        .other = &other,
        .instances_dir = fake.instances,
        /* 10 looks of 20 ms before a pause is told, then some slack for a
         * loaded machine (valgrind). */
        .event_bound_s = 10,
        .open = fake_open,
        .boots = fake_boots,
        .wait_boot = fake_wait_boot,
        .domains_with = fake_domains_with,
        .out_of_band = fake_out_of_band,
        .foreign_create = fake_foreign_create,
        .foreign_intact = fake_foreign_intact,
        .foreign_destroy = fake_foreign_destroy,
    };
    return 0;
}

static int suite_cleanup(void)
{
    nxl_spawn_req_dispose(&req);
    nxl_spawn_req_dispose(&other);
    free(req_doc);
    free(other_doc);
    nxl__port_free(fake.port);
    if (fake.root[0])
        nxl_test_rm_tree(fake.root);
    nxl_test_xsd_stop(&xsd);
    return 0;
}

static void run_case(size_t i)
{
    CU_ASSERT_EQUAL(nxl_contract_run_case(&target, i), 0);
}

#define CASE_FN(i)                                                             \
    static void case_##i(void)                                                 \
    {                                                                          \
        run_case(i);                                                           \
    }
CASE_FN(0)
CASE_FN(1)
CASE_FN(2)
CASE_FN(3)
CASE_FN(4)
CASE_FN(5)
CASE_FN(6)
CASE_FN(7)

static const CU_TestFunc case_fns[MAX_CASES] = {
    case_0, case_1, case_2, case_3, case_4, case_5, case_6, case_7,
};

int main(void)
{
    nxl_test_def tests[MAX_CASES];
    size_t n = nxl_contract_n_cases();

    if (n > MAX_CASES) {
        fprintf(stderr, "test_contract: %zu cases, room for %d\n", n,
                MAX_CASES);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        tests[i] = (nxl_test_def){nxl_contract_case_name(i), case_fns[i]};
    if (CU_initialize_registry() != CUE_SUCCESS ||
        nxl_test_add_suite("contract_fake_port", suite_init, suite_cleanup,
                           tests, n) < 0)
        return 1;
    return nxl_test_run(NULL);
}

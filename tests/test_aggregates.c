/* Tests of the aggregate state machine (aggregates/agg.c) and of the
 * libxl driver's aggregate methods, against the real xenstored run in
 * userspace by tests/xsd: every transition, error and undo, conflicting
 * concurrent operations, hostile keys, a process killed between two
 * transitions, and the dom0-only ACL enforced on a guest domain; then
 * the driver's cpupool mapping on the fake port (create, release, a busy
 * pool's error and its undo, placement) and its aggregate events. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "aggregates/agg.h"
#include "common/driver.h"
#include "novaxl/nxl.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_host.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"

#define ROOT "/local/domain/0/novaxl/aggregates"

static nxl_test_xsd xsd;
static nxl_xs *xs;
static char skip_why[512];

static int suite_init(void)
{
    nxl_error err = NXL_ERROR_INIT;
    if (nxl_test_xsd_suite_start(&xsd, skip_why, sizeof(skip_why)))
        return 1;
    if (nxl_xs_open(&xs, &err) != 0) {
        fprintf(stderr, "nxl_xs_open: %s\n", nxl_error_message(&err));
        nxl_error_dispose(&err);
        return 1;
    }
    return 0;
}

static int suite_cleanup(void)
{
    nxl_xs_close(xs);
    xs = NULL;
    nxl_test_xsd_stop(&xsd);
    return 0;
}

static void agg_make(nxl_aggregate *a, int64_t id, const char *name)
{
    nxl_aggregate_init(a);
    a->id = id;
    a->name = strdup(name);
}

static int state_of(int64_t id)
{
    nxl_agg_record r;
    int st;

    nxl_agg_record_init(&r);
    if (nxl_agg_get(xs, ROOT, id, &r, NULL) != 0)
        return NXL_AGG_NONE;
    st = r.state;
    nxl_agg_record_dispose(&r);
    return st;
}

static bool rec_has_host(const nxl_agg_record *r, const char *h)
{
    for (size_t i = 0; i < r->hosts.n; i++)
        if (strcmp(r->hosts.v[i], h) == 0)
            return true;
    return false;
}

static bool node_exists(const char *path)
{
    char *v = NULL;
    int rc = nxl_xs_read(xs, XBT_NULL, path, &v, NULL, NULL);

    free(v);
    return rc == 0;
}

/* ---- apply callbacks -------------------------------------------------- */

typedef struct apply_log {
    char ops[8][32];
    int n;
    int fail_code; /* 0: succeed */
} apply_log;

static int apply_record(void *opaque, const char *op, const nxl_aggregate *agg,
                        const char *host, nxl_error *err)
{
    apply_log *l = opaque;

    if (l->n < 8)
        snprintf(l->ops[l->n++], sizeof(l->ops[0]), "%s", op);
    if (l->fail_code)
        return nxl_error_set(err, l->fail_code, "cpupool move of %s refused",
                             host);
    return 0;
}

/* ---- transitions ----------------------------------------------------- */

static void test_add_remove_transitions(void)
{
    nxl_aggregate a;
    nxl_agg_record r;
    apply_log log = {.n = 0};
    static const int want[][2] = {
        {NXL_AGG_NONE, NXL_AGG_CREATED},
        {NXL_AGG_CREATED, NXL_AGG_CHANGING},
        {NXL_AGG_CHANGING, NXL_AGG_ACTIVE},
        {NXL_AGG_ACTIVE, NXL_AGG_CHANGING},
        {NXL_AGG_CHANGING, NXL_AGG_ACTIVE},
        {NXL_AGG_ACTIVE, NXL_AGG_CHANGING},
        {NXL_AGG_CHANGING, NXL_AGG_ACTIVE},
        {NXL_AGG_ACTIVE, NXL_AGG_CHANGING},
        {NXL_AGG_CHANGING, NXL_AGG_DISMISSED},
    };

    agg_make(&a, 1, "rack one");
    a.availability_zone = strdup("az1");
    nxl_kvlist_set(&a.metadata, "ssd", "true");
    nxl_kvlist_set(&a.metadata, "aggregate_instance_extra_specs:gpu", "a10");

    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", apply_record, &log, &e_));
    CU_ASSERT_EQUAL(state_of(1), NXL_AGG_ACTIVE);
    CU_ASSERT_EQUAL(log.n, 1);
    CU_ASSERT_STRING_EQUAL(log.ops[0], "add_to_aggregate");

    /* The same host twice is refused and changes nothing. */
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_INVAL, "already in aggregate 1");
    CHECK_OK(
        nxl_agg_add_host(xs, ROOT, &a, "node-b.example.org", NULL, NULL, &e_));

    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 1, &r, &e_));
    CU_ASSERT_STRING_EQUAL(r.name ? r.name : "", "rack one");
    CU_ASSERT_STRING_EQUAL(r.availability_zone ? r.availability_zone : "",
                           "az1");
    CU_ASSERT_EQUAL(r.hosts.n, 2);
    CU_ASSERT_TRUE(rec_has_host(&r, "node-a"));
    CU_ASSERT_TRUE(rec_has_host(&r, "node-b.example.org"));
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&r.metadata, "ssd") ?: "", "true");
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&r.metadata, "aggregate_instance_extra_specs:gpu") ?: "",
        "a10");
    CU_ASSERT_PTR_NULL(r.op);
    nxl_agg_record_dispose(&r);

    /* Removing a host that never joined is refused. */
    CHECK_FAIL(nxl_agg_remove_host(xs, ROOT, &a, "node-z", NULL, NULL, &e_),
               NXL_E_INVAL, "not in aggregate 1");
    /* Metadata follows the latest call: a key dropped by Nova goes. */
    nxl_kvlist_unset(&a.metadata, "ssd");
    CHECK_OK(nxl_agg_remove_host(xs, ROOT, &a, "node-b.example.org", NULL, NULL,
                                 &e_));
    CU_ASSERT_EQUAL(state_of(1), NXL_AGG_ACTIVE);
    CHECK_OK(
        nxl_agg_remove_host(xs, ROOT, &a, "node-a", apply_record, &log, &e_));
    CU_ASSERT_EQUAL(state_of(1), NXL_AGG_DISMISSED);
    CU_ASSERT_STRING_EQUAL(log.ops[1], "remove_from_aggregate");
    CHECK_FAIL(nxl_agg_remove_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_DENIED, "dismissed");

    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 1, &r, &e_));
    CU_ASSERT_EQUAL(r.hosts.n, 0);
    CU_ASSERT_PTR_NULL(nxl_kvlist_get(&r.metadata, "ssd"));
    CU_ASSERT_EQUAL(r.seq, NXL_ARRAY_SIZE(want));
    CU_ASSERT_EQUAL(r.n_history, NXL_ARRAY_SIZE(want));
    for (size_t i = 0; i < r.n_history && i < NXL_ARRAY_SIZE(want); i++) {
        CU_ASSERT_EQUAL(r.history[i].seq, i + 1);
        CU_ASSERT_EQUAL(r.history[i].from, want[i][0]);
        CU_ASSERT_EQUAL(r.history[i].to, want[i][1]);
        CU_ASSERT_PTR_NOT_NULL(r.history[i].reason);
        CU_ASSERT_TRUE(r.history[i].time > 0);
    }
    CU_ASSERT_TRUE(nxl_test_has(r.history[2].reason, "add_to_aggregate of host "
                                                     "'node-a' done"));
    nxl_agg_record_dispose(&r);

    /* dismissed is not final: a host may join again. */
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_));
    CU_ASSERT_EQUAL(state_of(1), NXL_AGG_ACTIVE);
    nxl_aggregate_dispose(&a);
}

static void test_remove_unknown_and_created(void)
{
    nxl_aggregate a;

    agg_make(&a, 2, "never seen");
    CHECK_FAIL(nxl_agg_remove_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_NOT_FOUND, "no record on this host");
    CU_ASSERT_EQUAL(state_of(2), NXL_AGG_NONE);
    CHECK_FAIL(nxl_agg_undo(xs, ROOT, "add_to_aggregate", &a, "node-a", true,
                            NULL, NULL, &e_),
               NXL_E_NOT_FOUND, "no record");
    CHECK_FAIL(
        nxl_agg_undo(xs, ROOT, "rm -rf", &a, "node-a", true, NULL, NULL, &e_),
        NXL_E_INVAL, "neither");
    nxl_aggregate_dispose(&a);
}

static void test_history_bounded(void)
{
    nxl_aggregate a;
    nxl_agg_record r;
    int i;

    agg_make(&a, 3, "busy");
    for (i = 0; i < 10; i++) {
        CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "h", NULL, NULL, &e_));
        CHECK_OK(nxl_agg_remove_host(xs, ROOT, &a, "h", NULL, NULL, &e_));
    }
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 3, &r, &e_));
    /* 1 creation + 4 per round; only the last NXL_AGG_HISTORY_MAX kept. */
    CU_ASSERT_EQUAL(r.seq, 41);
    CU_ASSERT_EQUAL(r.n_history, NXL_AGG_HISTORY_MAX);
    if (r.n_history == NXL_AGG_HISTORY_MAX) {
        CU_ASSERT_EQUAL(r.history[0].seq, 41 - NXL_AGG_HISTORY_MAX + 1);
        CU_ASSERT_EQUAL(r.history[NXL_AGG_HISTORY_MAX - 1].seq, 41);
    }
    CU_ASSERT_FALSE(node_exists(ROOT "/3/history/25"));
    CU_ASSERT_TRUE(node_exists(ROOT "/3/history/26/reason"));
    nxl_agg_record_dispose(&r);
    nxl_aggregate_dispose(&a);
}

/* ---- error and undo -------------------------------------------------- */

static void test_apply_failure_error_undo(void)
{
    nxl_aggregate a;
    nxl_agg_record r;
    apply_log log = {.n = 0, .fail_code = NXL_E_FAILED};

    agg_make(&a, 10, "pool with cpupool");
    CHECK_FAIL(
        nxl_agg_add_host(xs, ROOT, &a, "node-a", apply_record, &log, &e_),
        NXL_E_FAILED, "cpupool move of node-a refused");
    CU_ASSERT_EQUAL(state_of(10), NXL_AGG_ERROR);

    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 10, &r, &e_));
    CU_ASSERT_EQUAL(r.hosts.n, 0); /* membership was never applied */
    CU_ASSERT_STRING_EQUAL(r.op ?: "", "add_to_aggregate");
    CU_ASSERT_STRING_EQUAL(r.op_host ?: "", "node-a");
    CU_ASSERT_EQUAL(r.prev, NXL_AGG_CREATED);
    CU_ASSERT_TRUE(r.n_history > 0 &&
                   nxl_test_has(r.history[r.n_history - 1].reason,
                                "cpupool move of node-a refused"));
    nxl_agg_record_dispose(&r);

    /* error refuses new work and says how to get out. */
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-b", NULL, NULL, &e_),
               NXL_E_DENIED, "set_error=false");
    CHECK_FAIL(nxl_agg_remove_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_DENIED, "in error");

    /* nova's default undo (set_error=True): rolled back, still error; the
     * inverse runs on the external side. */
    log.fail_code = 0;
    log.n = 0;
    CHECK_OK(nxl_agg_undo(xs, ROOT, "add_to_aggregate", &a, "node-a", true,
                          apply_record, &log, &e_));
    CU_ASSERT_EQUAL(log.n, 1);
    CU_ASSERT_STRING_EQUAL(log.ops[0], "remove_from_aggregate");
    CU_ASSERT_EQUAL(state_of(10), NXL_AGG_ERROR);

    /* Unlike XAPI, error is left with undo(set_error=false). */
    CHECK_OK(nxl_agg_undo(xs, ROOT, "add_to_aggregate", &a, "node-a", false,
                          NULL, NULL, &e_));
    CU_ASSERT_EQUAL(state_of(10), NXL_AGG_CREATED);
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_));
    CU_ASSERT_EQUAL(state_of(10), NXL_AGG_ACTIVE);
    nxl_aggregate_dispose(&a);
}

static void test_undo_remove(void)
{
    nxl_aggregate a;
    nxl_agg_record r;

    agg_make(&a, 11, "two hosts");
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_));
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-b", NULL, NULL, &e_));
    CHECK_OK(nxl_agg_remove_host(xs, ROOT, &a, "node-b", NULL, NULL, &e_));
    /* The manager failed after our remove: undo puts node-b back. */
    CHECK_OK(nxl_agg_undo(xs, ROOT, "remove_from_aggregate", &a, "node-b",
                          false, NULL, NULL, &e_));
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 11, &r, &e_));
    CU_ASSERT_EQUAL(r.state, NXL_AGG_ACTIVE);
    CU_ASSERT_TRUE(rec_has_host(&r, "node-b"));
    CU_ASSERT_EQUAL(r.hosts.n, 2);
    nxl_agg_record_dispose(&r);
    /* Undo is idempotent. */
    CHECK_OK(nxl_agg_undo(xs, ROOT, "remove_from_aggregate", &a, "node-b",
                          false, NULL, NULL, &e_));
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 11, &r, &e_));
    CU_ASSERT_EQUAL(r.hosts.n, 2);
    nxl_agg_record_dispose(&r);
    nxl_aggregate_dispose(&a);
}

static void test_undo_apply_fails(void)
{
    nxl_aggregate a;
    apply_log log = {.n = 0, .fail_code = NXL_E_IO};

    agg_make(&a, 12, "stubborn");
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_));
    /* The inverse fails: error whatever set_error said, host kept. */
    CHECK_FAIL(nxl_agg_undo(xs, ROOT, "add_to_aggregate", &a, "node-a", false,
                            apply_record, &log, &e_),
               NXL_E_IO, "undo of add_to_aggregate for host 'node-a' failed");
    CU_ASSERT_EQUAL(state_of(12), NXL_AGG_ERROR);
    log.fail_code = 0;
    CHECK_OK(nxl_agg_undo(xs, ROOT, "add_to_aggregate", &a, "node-a", false,
                          apply_record, &log, &e_));
    CU_ASSERT_EQUAL(state_of(12), NXL_AGG_CREATED);
    nxl_aggregate_dispose(&a);
}

/* ---- concurrency ------------------------------------------------------ */

typedef struct nested {
    nxl_xs *other; /* a second connection, as another process has */
    const nxl_aggregate *agg;
    int inner_rc;
    char inner_msg[256];
    bool do_undo;
} nested;

/* Runs while the outer op holds `changing`. */
static int apply_nested(void *opaque, const char *op, const nxl_aggregate *agg,
                        const char *host, nxl_error *err)
{
    nested *n = opaque;
    nxl_error e = NXL_ERROR_INIT;

    if (n->do_undo)
        n->inner_rc = nxl_agg_undo(n->other, ROOT, op, n->agg, host, false,
                                   NULL, NULL, &e);
    else
        n->inner_rc = nxl_agg_add_host(n->other, ROOT, n->agg, "intruder", NULL,
                                       NULL, &e);
    snprintf(n->inner_msg, sizeof(n->inner_msg), "%s", nxl_error_message(&e));
    nxl_error_dispose(&e);
    return 0;
}

static void test_concurrent_op_refused(void)
{
    nxl_aggregate a;
    nxl_agg_record r;
    nested n = {0};

    agg_make(&a, 20, "contended");
    CU_ASSERT_FATAL(nxl_xs_open(&n.other, NULL) == 0);
    n.agg = &a;
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", apply_nested, &n, &e_));
    CU_ASSERT_EQUAL(n.inner_rc, NXL_E_DENIED);
    CU_ASSERT_TRUE(
        nxl_test_has(n.inner_msg, "changing (add_to_aggregate in progress)"));
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 20, &r, &e_));
    CU_ASSERT_EQUAL(r.hosts.n, 1);
    CU_ASSERT_FALSE(rec_has_host(&r, "intruder"));
    nxl_agg_record_dispose(&r);
    nxl_xs_close(n.other);
    nxl_aggregate_dispose(&a);
}

static void test_undo_wins_over_running_op(void)
{
    nxl_aggregate a;
    nested n = {0};

    agg_make(&a, 21, "taken over");
    CU_ASSERT_FATAL(nxl_xs_open(&n.other, NULL) == 0);
    n.agg = &a;
    n.do_undo = true;
    /* While add holds changing, another manager undoes it: the add must
     * not then write its membership over the undo. */
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-a", apply_nested, &n, &e_),
               NXL_E_CONFLICT, "an undo or a recovery took over");
    CU_ASSERT_EQUAL(n.inner_rc, 0);
    CU_ASSERT_EQUAL(state_of(21), NXL_AGG_CREATED);
    nxl_xs_close(n.other);
    nxl_aggregate_dispose(&a);
}

typedef struct worker {
    const char *host;
    int64_t id;
    int done;   /* successful add+remove rounds */
    int denied; /* refused because the other held changing */
    int other;  /* any other failure */
    int transitions;
} worker;

#define ROUNDS 15

static void *worker_main(void *p)
{
    worker *w = p;
    nxl_aggregate a;
    nxl_xs *h = NULL;

    agg_make(&a, w->id, "race");
    if (nxl_xs_open(&h, NULL) != 0) {
        w->other++;
        nxl_aggregate_dispose(&a);
        return NULL;
    }
    while (w->done < ROUNDS && w->other == 0) {
        int rc = nxl_agg_add_host(h, ROOT, &a, w->host, NULL, NULL, NULL);

        if (rc == NXL_E_DENIED || rc == NXL_E_CONFLICT) {
            w->denied++;
            continue;
        }
        if (rc) {
            w->other++;
            break;
        }
        w->transitions += 2;
        for (;;) {
            rc = nxl_agg_remove_host(h, ROOT, &a, w->host, NULL, NULL, NULL);
            if (rc == NXL_E_DENIED || rc == NXL_E_CONFLICT) {
                w->denied++;
                continue;
            }
            break;
        }
        if (rc) {
            w->other++;
            break;
        }
        w->transitions += 2;
        w->done++;
    }
    nxl_xs_close(h);
    nxl_aggregate_dispose(&a);
    return NULL;
}

static void test_concurrent_threads(void)
{
    worker w[2] = {{.host = "left", .id = 22}, {.host = "right", .id = 22}};
    pthread_t th[2];
    nxl_agg_record r;
    nxl_aggregate a;

    /* Create the record first so both workers race on transitions only. */
    agg_make(&a, 22, "race");
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "anchor", NULL, NULL, &e_));
    for (int i = 0; i < 2; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(w[0].other, 0);
    CU_ASSERT_EQUAL(w[1].other, 0);
    CU_ASSERT_EQUAL(w[0].done, ROUNDS);
    CU_ASSERT_EQUAL(w[1].done, ROUNDS);
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 22, &r, &e_));
    CU_ASSERT_EQUAL(r.state, NXL_AGG_ACTIVE);
    CU_ASSERT_EQUAL(r.hosts.n, 1); /* only the anchor is left */
    CU_ASSERT_TRUE(rec_has_host(&r, "anchor"));
    /* No transition was lost or doubled: 3 for the anchor's creation and
     * add, then exactly the workers' own. */
    CU_ASSERT_EQUAL(r.seq, 3 + (uint64_t)w[0].transitions +
                               (uint64_t)w[1].transitions);
    nxl_agg_record_dispose(&r);
    nxl_aggregate_dispose(&a);
}

/* ---- hostile input ---------------------------------------------------- */

static void test_bad_keys_write_nothing(void)
{
    static const char *const bad_keys[] = {
        "a/b", "..", ".", "", "tab\there", "nl\nx", "\xff\xfe", "esc\x1b[0m",
    };
    nxl_aggregate a;
    char longkey[NXL_MAX_NAME_LEN + 2];
    char longval[NXL_AGG_VALUE_MAX + 2];

    for (size_t i = 0; i < NXL_ARRAY_SIZE(bad_keys); i++) {
        agg_make(&a, 30, "hostile");
        nxl_kvlist_set(&a.metadata, "fine", "1");
        nxl_kvlist_set(&a.metadata, bad_keys[i], "x");
        CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
                   NXL_E_INVAL, "metadata key");
        nxl_aggregate_dispose(&a);
    }
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    agg_make(&a, 30, "hostile");
    nxl_kvlist_set(&a.metadata, longkey, "x");
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_INVAL, "metadata key");
    nxl_aggregate_dispose(&a);

    memset(longval, 'v', sizeof(longval) - 1);
    longval[sizeof(longval) - 1] = '\0';
    agg_make(&a, 30, "hostile");
    nxl_kvlist_set(&a.metadata, "k", longval);
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_INVAL, "value of metadata key");
    nxl_kvlist_set(&a.metadata, "k", "line\nbreak");
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_INVAL, "value of metadata key");
    nxl_aggregate_dispose(&a);

    agg_make(&a, 30, "../../etc");
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_),
               NXL_E_INVAL, "aggregate.name");
    nxl_aggregate_dispose(&a);
    agg_make(&a, 30, "ok");
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "evil/host", NULL, NULL, &e_),
               NXL_E_INVAL, "host");
    CHECK_FAIL(
        nxl_agg_add_host(xs, "/local/../domain", &a, "h", NULL, NULL, &e_),
        NXL_E_INVAL, "xenstore path");
    nxl_aggregate_dispose(&a);
    agg_make(&a, -5, "negative");
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "h", NULL, NULL, &e_),
               NXL_E_INVAL, "negative");
    nxl_aggregate_dispose(&a);

    /* Nothing at all was written for aggregate 30. */
    CU_ASSERT_FALSE(node_exists(ROOT "/30"));
}

static void test_key_encoding(void)
{
    char k1[NXL_XS_KEY_MAX + 1], k2[NXL_XS_KEY_MAX + 1];
    char long1[200], long2[200];
    nxl_aggregate a;
    nxl_agg_record r;

    nxl_agg_key_encode("node-a", k1);
    CU_ASSERT_STRING_EQUAL(k1, "node-a");
    nxl_agg_key_encode("a.b_c:d", k1);
    CU_ASSERT_STRING_EQUAL(k1, "a_2eb_5fc_3ad");
    CU_ASSERT_EQUAL(nxl_xs_key_validate(k1, NULL), 0);
    /* Long names are hashed to a valid key; different names differ. */
    memset(long1, 'x', sizeof(long1) - 1);
    long1[sizeof(long1) - 1] = '\0';
    memcpy(long2, long1, sizeof(long2));
    long2[150] = 'y';
    nxl_agg_key_encode(long1, k1);
    nxl_agg_key_encode(long2, k2);
    CU_ASSERT_EQUAL(strlen(k1), NXL_XS_KEY_MAX);
    CU_ASSERT_EQUAL(nxl_xs_key_validate(k1, NULL), 0);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k2);

    /* ...and such names round-trip through a record. */
    agg_make(&a, 31, "long names");
    nxl_kvlist_set(&a.metadata, long2, "v");
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, long1, NULL, NULL, &e_));
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 31, &r, &e_));
    CU_ASSERT_TRUE(rec_has_host(&r, long1));
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&r.metadata, long2) ?: "", "v");
    nxl_agg_record_dispose(&r);
    nxl_aggregate_dispose(&a);
}

/* ---- crash between transitions ------------------------------------------ */

static int apply_die(void *opaque, const char *op, const nxl_aggregate *agg,
                     const char *host, nxl_error *err)
{
    /* The process dies with `changing` committed and the final
     * transaction never started, as on a kill -9 or a power cut. */
    _exit(0);
}

static void test_crash_between_transitions(void)
{
    nxl_aggregate a;
    nxl_agg_record r;
    size_t n = 99;
    pid_t pid;
    int status = -1;

    agg_make(&a, 40, "crashy");
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_));
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        nxl_xs *h = NULL;

        /* Its own connection, as a separate driver process has. */
        if (nxl_xs_open(&h, NULL) != 0)
            _exit(2);
        nxl_agg_add_host(h, ROOT, &a, "node-b", apply_die, NULL, NULL);
        _exit(3); /* not reached unless apply never ran */
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Re-open, as a restarted driver would. */
    nxl_xs_close(xs);
    CU_ASSERT_FATAL(nxl_xs_open(&xs, NULL) == 0);
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 40, &r, &e_));
    CU_ASSERT_EQUAL(r.state, NXL_AGG_CHANGING);
    CU_ASSERT_STRING_EQUAL(r.op ?: "", "add_to_aggregate");
    CU_ASSERT_STRING_EQUAL(r.op_host ?: "", "node-b");
    CU_ASSERT_EQUAL(r.prev, NXL_AGG_ACTIVE);
    CU_ASSERT_EQUAL(r.hosts.n, 1); /* membership untouched */
    nxl_agg_record_dispose(&r);
    /* Well defined: new work is refused, naming the stuck op... */
    CHECK_FAIL(nxl_agg_add_host(xs, ROOT, &a, "node-c", NULL, NULL, &e_),
               NXL_E_DENIED, "add_to_aggregate in progress");
    /* ...recovery turns it into error... */
    CHECK_OK(nxl_agg_recover(xs, ROOT, &n, &e_));
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(state_of(40), NXL_AGG_ERROR);
    CHECK_OK(nxl_agg_recover(xs, ROOT, &n, &e_));
    CU_ASSERT_EQUAL(n, 0);
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 40, &r, &e_));
    CU_ASSERT_TRUE(
        r.n_history > 0 &&
        nxl_test_has(r.history[r.n_history - 1].reason, "interrupted"));
    nxl_agg_record_dispose(&r);
    /* ...and undo settles it back where it was. */
    CHECK_OK(nxl_agg_undo(xs, ROOT, "add_to_aggregate", &a, "node-b", false,
                          NULL, NULL, &e_));
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 40, &r, &e_));
    CU_ASSERT_EQUAL(r.state, NXL_AGG_ACTIVE);
    CU_ASSERT_EQUAL(r.hosts.n, 1);
    CU_ASSERT_TRUE(rec_has_host(&r, "node-a"));
    nxl_agg_record_dispose(&r);
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-b", NULL, NULL, &e_));
    nxl_aggregate_dispose(&a);
}

/* ---- permissions -------------------------------------------------------- */

static void test_guest_cannot_touch(void)
{
    static const char wr[] = ROOT "/50/state\0active";
    nxl_test_xsd_guest g;
    nxl_aggregate a;
    uint32_t type = 0;
    char *reply = NULL;
    size_t len = 0;

    agg_make(&a, 50, "private");
    CHECK_OK(nxl_agg_add_host(xs, ROOT, &a, "node-a", NULL, NULL, &e_));
    nxl_aggregate_dispose(&a);
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 7, &g) == 0);
    CU_ASSERT_EQUAL(nxl_test_xsd_guest_request(&g, XS_READ, ROOT "/50/state",
                                               sizeof(ROOT "/50/state"), &type,
                                               &reply, &len),
                    0);
    CU_ASSERT_EQUAL(type, XS_ERROR);
    CU_ASSERT_STRING_EQUAL(reply ?: "", "EACCES");
    free(reply);
    reply = NULL;
    CU_ASSERT_EQUAL(nxl_test_xsd_guest_request(&g, XS_WRITE, wr, sizeof(wr) - 1,
                                               &type, &reply, &len),
                    0);
    CU_ASSERT_EQUAL(type, XS_ERROR);
    CU_ASSERT_STRING_EQUAL(reply ?: "", "EACCES");
    free(reply);
    reply = NULL;
    CU_ASSERT_EQUAL(nxl_test_xsd_guest_request(&g, XS_DIRECTORY, ROOT,
                                               sizeof(ROOT), &type, &reply,
                                               &len),
                    0);
    CU_ASSERT_EQUAL(type, XS_ERROR);
    free(reply);
    nxl_test_xsd_guest_close(&g);
}

/* ---- through the driver ------------------------------------------------- */

static void test_driver_methods(void)
{
    nxl_driver *drv = NULL;
    nxl_aggregate a;
    nxl_agg_record r;

    CU_ASSERT_FATAL(nxl_driver_open("libxl", NULL, &drv, NULL) == 0);
    agg_make(&a, 60, "via driver");
    nxl_kvlist_set(&a.metadata, "availability_zone", "az9");
    CHECK_OK(nxl_aggregate_add_host(drv, &a, "node-a", NULL, &e_));
    CU_ASSERT_EQUAL(state_of(60), NXL_AGG_ACTIVE);
    CHECK_OK(nxl_aggregate_remove_host(drv, &a, "node-a", NULL, &e_));
    CU_ASSERT_EQUAL(state_of(60), NXL_AGG_DISMISSED);
    CHECK_OK(nxl_aggregate_undo_operation(drv, "remove_from_aggregate", &a,
                                          "node-a", true, &e_));
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 60, &r, &e_));
    CU_ASSERT_EQUAL(r.state, NXL_AGG_ERROR);
    CU_ASSERT_TRUE(rec_has_host(&r, "node-a"));
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&r.metadata, "availability_zone") ?: "", "az9");
    nxl_agg_record_dispose(&r);
    CHECK_FAIL(nxl_aggregate_add_host(drv, &a, "node-b", NULL, &e_),
               NXL_E_DENIED, "in error");
    CHECK_OK(nxl_aggregate_undo_operation(drv, "remove_from_aggregate", &a,
                                          "node-a", false, &e_));
    CU_ASSERT_EQUAL(state_of(60), NXL_AGG_ACTIVE);
    /* A hostile key is refused through the driver as well. */
    nxl_kvlist_set(&a.metadata, "../x", "1");
    CHECK_FAIL(nxl_aggregate_add_host(drv, &a, "node-b", NULL, &e_),
               NXL_E_INVAL, "metadata key");
    nxl_aggregate_dispose(&a);
    nxl_driver_close(drv);
}

/* ---- cpupools and events through the driver --------------------------- */

#define HOST "compute-1"

typedef struct ev_log {
    char lines[32][160];
    int n;
    int lifecycle; /* non-aggregate events seen */
} ev_log;

static void ev_collect(void *opaque, const nxl_event *ev)
{
    ev_log *l = opaque;
    const nxl_aggregate_event *ae = nxl_event_aggregate(ev);

    if (!ae) {
        l->lifecycle++;
        return;
    }
    if (l->n < 32)
        snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%lld %s %s->%s %s|%s",
                 (long long)ae->aggregate_id, ae->aggregate_name,
                 ae->from_state, ae->to_state, ae->op, ae->reason);
}

static bool ev_has(const ev_log *l, const char *what)
{
    for (int i = 0; i < l->n; i++)
        if (strstr(l->lines[i], what))
            return true;
    return false;
}

/* A driver for HOST on a fake 4-CPU host, its events going to log. */
static nxl_driver *pool_driver(nxl_port **port_r, ev_log *log)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *drv = NULL;
    nxl_port *port = NULL;

    cfg.host = HOST;
    CU_ASSERT_FATAL(nxl_driver_open("libxl", &cfg, &drv, NULL) == 0);
    CU_ASSERT_FATAL(nxl__port_fake_new(&port) == 0);
    CU_ASSERT_FATAL(nxl__xl_driver_use_port(drv, port, false, NULL) == 0);
    if (log) {
        memset(log, 0, sizeof(*log));
        CU_ASSERT_EQUAL(
            nxl_driver_register_event_listener(drv, ev_collect, log, NULL), 0);
        CU_ASSERT_EQUAL(
            nxl_driver_set_event_kinds(
                drv, NXL_EVENT_KIND_LIFECYCLE | NXL_EVENT_KIND_AGGREGATE, NULL),
            0);
    }
    *port_r = port;
    return drv;
}

/* The pool named name: its id and CPUs as a bit mask; -1 when absent. */
static int pool_get(nxl_port *port, const char *name, uint32_t *cpus_r,
                    uint32_t *ndom_r)
{
    nxl_port_cpupool *pools = NULL;
    size_t n = 0;
    int id = -1;

    CU_ASSERT_FATAL(port->ops->cpupool_list(port, &pools, &n, NULL) == 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(pools[i].name, name) != 0)
            continue;
        id = (int)pools[i].poolid;
        if (cpus_r)
            *cpus_r = pools[i].cpumap[0];
        if (ndom_r)
            *ndom_r = pools[i].n_domains;
    }
    free(pools);
    return id;
}

static void pool_agg(nxl_aggregate *a, int64_t id, const char *name,
                     const char *pool, const char *cpus)
{
    agg_make(a, id, name);
    nxl_kvlist_set(&a->metadata, "tier", name);
    if (pool)
        nxl_kvlist_set(&a->metadata, NXL_XL_AGG_POOL_KEY, pool);
    if (cpus)
        nxl_kvlist_set(&a->metadata, NXL_XL_AGG_POOL_CPUS_KEY, cpus);
}

static void test_pool_create_release_events(void)
{
    nxl_port *port = NULL;
    ev_log log;
    nxl_driver *drv = pool_driver(&port, &log);
    nxl_aggregate a;
    uint32_t cpus = 0;
    char path[256];

    pool_agg(&a, 80, "gold", "gold", "2-3");
    CHECK_OK(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_));
    CU_ASSERT_EQUAL(state_of(80), NXL_AGG_ACTIVE);
    CU_ASSERT_TRUE(pool_get(port, "gold", &cpus, NULL) > 0);
    CU_ASSERT_EQUAL(cpus, 0xc);
    CU_ASSERT_EQUAL(pool_get(port, "Pool-0", &cpus, NULL), 0);
    CU_ASSERT_EQUAL(cpus, 0x3);
    snprintf(path, sizeof(path), "%s/gold", NXL_XL_POOL_XS_ROOT);
    CU_ASSERT_TRUE(node_exists(path));
    /* Every transition, in order, with its reason. */
    CU_ASSERT_EQUAL(log.n, 3);
    CU_ASSERT_TRUE(strstr(log.lines[0], "80 gold none->created "
                                        "add_to_aggregate|") != NULL);
    CU_ASSERT_TRUE(strstr(log.lines[1], "created->changing") != NULL);
    CU_ASSERT_TRUE(strstr(log.lines[2], "changing->active") != NULL);
    CU_ASSERT_TRUE(ev_has(&log, "done (1 host)"));

    /* A second join of the same host: refused, nothing changes. */
    CHECK_FAIL(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_), NXL_E_INVAL,
               "already in");

    log.n = 0;
    CHECK_OK(nxl_aggregate_remove_host(drv, &a, HOST, NULL, &e_));
    CU_ASSERT_EQUAL(state_of(80), NXL_AGG_DISMISSED);
    CU_ASSERT_EQUAL(pool_get(port, "gold", NULL, NULL), -1);
    CU_ASSERT_EQUAL(pool_get(port, "Pool-0", &cpus, NULL), 0);
    CU_ASSERT_EQUAL(cpus, 0xf);
    CU_ASSERT_FALSE(node_exists(path));
    CU_ASSERT_EQUAL(log.n, 2);
    CU_ASSERT_TRUE(ev_has(&log, "active->changing remove_from_aggregate"));
    CU_ASSERT_TRUE(ev_has(&log, "changing->dismissed"));

    /* A listener that did not ask for aggregate events gets none. */
    CU_ASSERT_EQUAL(
        nxl_driver_set_event_kinds(drv, NXL_EVENT_KIND_LIFECYCLE, NULL), 0);
    log.n = 0;
    CHECK_OK(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_));
    CU_ASSERT_EQUAL(log.n, 0);
    CU_ASSERT_EQUAL(log.lifecycle, 0);
    CHECK_OK(nxl_aggregate_remove_host(drv, &a, HOST, NULL, &e_));
    CU_ASSERT_EQUAL(nxl_driver_set_event_kinds(drv, 0x80, NULL), NXL_E_INVAL);
    nxl_aggregate_dispose(&a);
    nxl_driver_close(drv);
}

/* A domain in the pool keeps it: error with the reason, undo settles. */
static void test_pool_busy_error_undo(void)
{
    nxl_port *port = NULL;
    ev_log log;
    nxl_driver *drv = pool_driver(&port, &log);
    nxl_aggregate a;
    libxl_domain_config cfg;
    nxl_agg_record r;
    uint32_t domid = 0, ndom = 0;
    int poolid;

    pool_agg(&a, 81, "busy", "busy", "3");
    CHECK_OK(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_));
    poolid = pool_get(port, "busy", NULL, NULL);
    CU_ASSERT_FATAL(poolid > 0);
    libxl_domain_config_init(&cfg);
    cfg.c_info.type = LIBXL_DOMAIN_TYPE_PV;
    libxl_domain_build_info_init_type(&cfg.b_info, LIBXL_DOMAIN_TYPE_PV);
    cfg.c_info.name = strdup("in-pool");
    cfg.b_info.kernel = strdup("/boot/k");
    cfg.c_info.poolid = (uint32_t)poolid;
    CU_ASSERT_FATAL(port->ops->create(port, &cfg, &domid, NULL) == 0);
    libxl_domain_config_dispose(&cfg);
    pool_get(port, "busy", NULL, &ndom);
    CU_ASSERT_EQUAL(ndom, 1);

    log.n = 0;
    CHECK_FAIL(nxl_aggregate_remove_host(drv, &a, HOST, NULL, &e_),
               NXL_E_DENIED, "still runs 1 domain");
    CU_ASSERT_EQUAL(state_of(81), NXL_AGG_ERROR);
    CU_ASSERT_TRUE(pool_get(port, "busy", NULL, NULL) == poolid);
    CU_ASSERT_TRUE(ev_has(&log, "changing->error remove_from_aggregate|"
                                "remove_from_aggregate of host 'compute-1' "
                                "failed: cpupool 'busy' still runs"));
    /* Error is left by undo: the host stays a member, the pool stays. */
    log.n = 0;
    CHECK_OK(nxl_aggregate_undo_operation(drv, "remove_from_aggregate", &a,
                                          HOST, false, &e_));
    CU_ASSERT_EQUAL(state_of(81), NXL_AGG_ACTIVE);
    CU_ASSERT_TRUE(ev_has(&log, "error->active"));
    nxl_agg_record_init(&r);
    CHECK_OK(nxl_agg_get(xs, ROOT, 81, &r, &e_));
    CU_ASSERT_TRUE(rec_has_host(&r, HOST));
    nxl_agg_record_dispose(&r);
    CU_ASSERT_TRUE(pool_get(port, "busy", NULL, NULL) == poolid);

    /* Once the domain is gone the host leaves and the pool with it. */
    CU_ASSERT_EQUAL(port->ops->destroy(port, domid, NULL), 0);
    CHECK_OK(nxl_aggregate_remove_host(drv, &a, HOST, NULL, &e_));
    CU_ASSERT_EQUAL(state_of(81), NXL_AGG_DISMISSED);
    CU_ASSERT_EQUAL(pool_get(port, "busy", NULL, NULL), -1);
    nxl_aggregate_dispose(&a);
    nxl_driver_close(drv);
}

/* An operator's pool is used, never destroyed; another host's join and
 * a failed create touch no pool of this host. */
static void test_pool_operator_and_failures(void)
{
    nxl_port *port = NULL;
    nxl_driver *drv = pool_driver(&port, NULL);
    nxl_aggregate a, b, c;
    uint8_t map[NXL_PORT_MAX_CPUS / 8] = {0};
    uint32_t poolid = 0, cpus = 0;
    char *calls;

    CU_ASSERT_EQUAL(port->ops->cpupool_cpu_remove(port, 0, 1, NULL), 0);
    nxl__port_cpumap_set(map, 1);
    CU_ASSERT_EQUAL(port->ops->cpupool_create(port, "ops", map, &poolid, NULL),
                    0);
    pool_agg(&a, 82, "ops", "ops", NULL);
    CHECK_OK(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_));
    CHECK_OK(nxl_aggregate_remove_host(drv, &a, HOST, NULL, &e_));
    CU_ASSERT_EQUAL(pool_get(port, "ops", &cpus, NULL), (int)poolid);
    CU_ASSERT_EQUAL(cpus, 0x2);
    /* ... whose CPUs must match when the metadata names them. */
    nxl_kvlist_set(&a.metadata, NXL_XL_AGG_POOL_CPUS_KEY, "2");
    CHECK_FAIL(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_), NXL_E_CONFLICT,
               "other CPUs");
    CU_ASSERT_EQUAL(state_of(82), NXL_AGG_ERROR);
    CHECK_OK(nxl_aggregate_undo_operation(drv, "add_to_aggregate", &a, HOST,
                                          false, &e_));
    CU_ASSERT_EQUAL(state_of(82), NXL_AGG_DISMISSED);

    /* Another host's join is that host's business. */
    pool_agg(&b, 83, "other", "other", "2");
    nxl__port_fake_calls_reset(port);
    CHECK_OK(nxl_aggregate_add_host(drv, &b, "compute-2", NULL, &e_));
    calls = nxl__port_fake_calls(port);
    CU_ASSERT_FALSE(nxl_test_has(calls, "cpupool"));
    free(calls);
    CU_ASSERT_EQUAL(pool_get(port, "other", NULL, NULL), -1);

    /* libxl refuses the pool: error, CPUs back in Pool-0, undo settles. */
    pool_agg(&c, 84, "flaky", "flaky", "2-3");
    CU_ASSERT_EQUAL(
        nxl__port_fake_fail(port, "cpupool_create", 1, NXL_E_HYPERVISOR), 0);
    CHECK_FAIL(nxl_aggregate_add_host(drv, &c, HOST, NULL, &e_),
               NXL_E_HYPERVISOR, "cpupool_create");
    CU_ASSERT_EQUAL(state_of(84), NXL_AGG_ERROR);
    CU_ASSERT_EQUAL(pool_get(port, "Pool-0", &cpus, NULL), 0);
    CU_ASSERT_EQUAL(cpus, 0xd); /* 0, 2, 3: CPU 1 is the operator's */
    CHECK_OK(nxl_aggregate_undo_operation(drv, "add_to_aggregate", &c, HOST,
                                          false, &e_));
    CU_ASSERT_EQUAL(state_of(84), NXL_AGG_CREATED);
    CHECK_OK(nxl_aggregate_add_host(drv, &c, HOST, NULL, &e_));
    CU_ASSERT_TRUE(pool_get(port, "flaky", &cpus, NULL) > 0);
    CU_ASSERT_EQUAL(cpus, 0xc);
    CHECK_OK(nxl_aggregate_remove_host(drv, &c, HOST, NULL, &e_));
    nxl_aggregate_dispose(&a);
    nxl_aggregate_dispose(&b);
    nxl_aggregate_dispose(&c);
    nxl_driver_close(drv);
}

/* Bad pool metadata is refused before any record exists. */
static void test_pool_bad_metadata(void)
{
    static const struct {
        const char *pool, *cpus, *what;
    } bad[] = {
        {"Pool-0", NULL, "not a cpupool name"},
        {"a/b", "1", "not a cpupool name"},
        {"", "1", "not a cpupool name"},
        {NULL, "1", "without xen_cpupool"},
        {"p", "1-", "not a CPU list"},
        {"p", "3-1", "not a CPU list"},
        {"p", "1,,2", "not a CPU list"},
        {"p", "9", "not on this host"},
        {"p", "0-3", "every CPU of Pool-0"},
        {"p", NULL, "say which CPUs"},
    };
    nxl_port *port = NULL;
    nxl_driver *drv = pool_driver(&port, NULL);

    for (size_t i = 0; i < NXL_ARRAY_SIZE(bad); i++) {
        nxl_aggregate a;

        pool_agg(&a, 90 + (int64_t)i, "bad", bad[i].pool, bad[i].cpus);
        CHECK_FAIL(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_),
                   NXL_E_INVAL, bad[i].what);
        CU_ASSERT_EQUAL(state_of(90 + (int64_t)i), NXL_AGG_NONE);
        nxl_aggregate_dispose(&a);
    }
    CU_ASSERT_EQUAL(pool_get(port, "p", NULL, NULL), -1);
    nxl_driver_close(drv);
}

static void place_req(nxl_spawn_req *req, const char *tier)
{
    nxl_spawn_req_init(req);
    snprintf(req->instance.uuid, sizeof(req->instance.uuid), "%s",
             "00000001-8a7b-4c6d-9e0f-1a2b3c4d5e6f");
    if (tier)
        nxl_kvlist_set(&req->instance.flavor.extra_specs,
                       NXL_XL_AGG_SPEC_PREFIX "tier", tier);
    nxl_kvlist_set(&req->instance.flavor.extra_specs, "quota:cpu_shares",
                   "512");
}

/* New instances of a pooled aggregate land in its pool. */
static void test_pool_placement(void)
{
    nxl_port *port = NULL;
    nxl_driver *drv = pool_driver(&port, NULL);
    nxl_aggregate a, b;
    nxl_spawn_req req;
    libxl_domain_config cfg;
    int gold;

    pool_agg(&a, 100, "gold", "gold", "3");
    nxl_kvlist_set(&a.metadata, "tier", "gold, platinum");
    CHECK_OK(nxl_aggregate_add_host(drv, &a, HOST, NULL, &e_));
    gold = pool_get(port, "gold", NULL, NULL);
    CU_ASSERT_FATAL(gold > 0);

    for (int i = 0; i < 4; i++) {
        static const char *const tiers[] = {"gold", "platinum", "silver", NULL};

        place_req(&req, tiers[i]);
        libxl_domain_config_init(&cfg);
        CHECK_OK(nxl__xl_aggregate_place(drv, &req, &cfg, &e_));
        CU_ASSERT_EQUAL(cfg.c_info.poolid, i < 2 ? (uint32_t)gold : 0);
        CU_ASSERT_STRING_EQUAL(cfg.c_info.pool_name ?: "-",
                               i < 2 ? "gold" : "-");
        libxl_domain_config_dispose(&cfg);
        nxl_spawn_req_dispose(&req);
    }

    /* Two matching aggregates on two pools: which one is ambiguous. */
    pool_agg(&b, 101, "gold2", "gold2", "2");
    nxl_kvlist_set(&b.metadata, "tier", "gold");
    CHECK_OK(nxl_aggregate_add_host(drv, &b, HOST, NULL, &e_));
    place_req(&req, "gold");
    libxl_domain_config_init(&cfg);
    CHECK_FAIL(nxl__xl_aggregate_place(drv, &req, &cfg, &e_), NXL_E_INVAL,
               "a domain runs in one pool");
    CU_ASSERT_EQUAL(cfg.c_info.poolid, 0);
    CHECK_OK(nxl_aggregate_remove_host(drv, &b, HOST, NULL, &e_));
    /* A member whose pool vanished behind our back: refused, not Pool-0. */
    CU_ASSERT_EQUAL(port->ops->cpupool_destroy(port, (uint32_t)gold, NULL), 0);
    CHECK_FAIL(nxl__xl_aggregate_place(drv, &req, &cfg, &e_), NXL_E_FAILED,
               "does not exist on this host");
    libxl_domain_config_dispose(&cfg);
    nxl_spawn_req_dispose(&req);
    nxl_aggregate_dispose(&a);
    nxl_aggregate_dispose(&b);
    nxl_driver_close(drv);
}

/* ---- main ------------------------------------------------------------ */

static int add_suite(const char *name, const nxl_test_def *tests, size_t n)
{
    return nxl_test_add_suite(name, suite_init, suite_cleanup, tests, n);
}

int main(void)
{
    static const nxl_test_def states[] = {
        {"add/remove walk every transition", test_add_remove_transitions},
        {"remove or undo without a record", test_remove_unknown_and_created},
        {"history is bounded", test_history_bounded},
    };
    static const nxl_test_def undo[] = {
        {"apply failure -> error -> undo", test_apply_failure_error_undo},
        {"undo a remove", test_undo_remove},
        {"undo whose inverse fails", test_undo_apply_fails},
    };
    static const nxl_test_def conc[] = {
        {"second op refused while changing", test_concurrent_op_refused},
        {"undo wins over a running op", test_undo_wins_over_running_op},
        {"two threads race on one aggregate", test_concurrent_threads},
    };
    static const nxl_test_def input[] = {
        {"hostile keys write nothing", test_bad_keys_write_nothing},
        {"key encoding", test_key_encoding},
    };
    static const nxl_test_def crash[] = {
        {"process killed between transitions", test_crash_between_transitions},
        {"guest cannot read or write records", test_guest_cannot_touch},
    };
    static const nxl_test_def drv[] = {
        {"driver methods", test_driver_methods},
    };
    static const nxl_test_def pools[] = {
        {"cpupool created and released, events",
         test_pool_create_release_events},
        {"busy cpupool: error, undo", test_pool_busy_error_undo},
        {"operator's pool, other host, failed create",
         test_pool_operator_and_failures},
        {"bad pool metadata writes nothing", test_pool_bad_metadata},
        {"placement in the pool", test_pool_placement},
    };

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (add_suite("agg states", states, NXL_ARRAY_SIZE(states)) ||
        add_suite("agg undo", undo, NXL_ARRAY_SIZE(undo)) ||
        add_suite("agg concurrency", conc, NXL_ARRAY_SIZE(conc)) ||
        add_suite("agg input", input, NXL_ARRAY_SIZE(input)) ||
        add_suite("agg crash and acl", crash, NXL_ARRAY_SIZE(crash)) ||
        add_suite("agg driver", drv, NXL_ARRAY_SIZE(drv)) ||
        add_suite("agg cpupools", pools, NXL_ARRAY_SIZE(pools))) {
        CU_cleanup_registry();
        return 1;
    }
    return nxl_test_run(skip_why);
}

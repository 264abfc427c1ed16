/* Tests of the xenstore layer against the real xenstored, run in userspace
 * by tests/xsd (one fresh daemon per suite). Permission enforcement is
 * checked by acting as guest domains over their rings, not only by reading
 * the ACL back. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"
#include "xenstore/xs.h"

static nxl_test_xsd xsd;
static nxl_xs *xs;
static char skip_why[512]; /* set when the daemon is unavailable */

/* ---- helpers --------------------------------------------------------- */

static int suite_init(void)
{
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    if (nxl_test_xsd_suite_start(&xsd, skip_why, sizeof(skip_why)))
        return 1;
    rc = nxl_xs_open(&xs, &err);
    if (rc) {
        fprintf(stderr, "nxl_xs_open: %s\n", nxl_error_message(&err));
        nxl_error_dispose(&err);
        return 1;
    }
    return 0;
}

static int suite_cleanup(void)
{
    char dir[sizeof(xsd.dir)];
    pid_t pid = xsd.pid;
    struct stat st;

    nxl_xs_close(xs);
    xs = NULL;
    memcpy(dir, xsd.dir, sizeof(dir));
    nxl_test_xsd_stop(&xsd);
    if (dir[0] && stat(dir, &st) == 0) {
        fprintf(stderr, "private dir %s survived stop\n", dir);
        return 1;
    }
    if (pid > 0 && kill(pid, 0) == 0) {
        fprintf(stderr, "xenstored %d survived stop\n", (int)pid);
        return 1;
    }
    return 0;
}

static int exists(const char *path)
{
    char *v = NULL;
    int rc = nxl_xs_read(xs, XBT_NULL, path, &v, NULL, NULL);

    free(v);
    return rc == 0;
}

static char *read_str(nxl_xs *h, const char *path)
{
    char *v = NULL;

    if (nxl_xs_read(h, XBT_NULL, path, &v, NULL, NULL) != 0)
        return NULL;
    return v;
}

static void strv_free(nxl_strv *sv)
{
    size_t i;

    for (i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

static int strv_has(const nxl_strv *sv, const char *s)
{
    size_t i;

    for (i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return 1;
    return 0;
}

/* ---- nodes ----------------------------------------------------------- */

static void test_write_read(void)
{
    static const char bin[] = {'a', '\0', 'b'};
    nxl_error err = NXL_ERROR_INIT;
    char *v = NULL;
    size_t len = 0;

    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/a", "hello", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_read(xs, XBT_NULL, "/nxl/a", &v, &len, &err), 0);
    CU_ASSERT_EQUAL(len, 5);
    CU_ASSERT_STRING_EQUAL(v, "hello");
    free(v);
    v = NULL;

    /* Values are bytes: an embedded NUL survives the round trip... */
    CU_ASSERT_EQUAL(nxl_xs_write(xs, XBT_NULL, "/nxl/bin", bin, 3, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_read(xs, XBT_NULL, "/nxl/bin", &v, &len, &err), 0);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT(v && memcmp(v, bin, 3) == 0 && v[3] == '\0');
    free(v);
    v = NULL;
    /* ...but a bounded read, meant for strings from guests, refuses it. */
    CHECK_FAIL_CODE(
        nxl_xs_read_bounded(xs, XBT_NULL, "/nxl/bin", 64, &v, &len, &e_),
        NXL_E_INVAL, "/nxl/bin");
    CU_ASSERT_PTR_NULL(v);

    CHECK_FAIL_CODE(
        nxl_xs_read_bounded(xs, XBT_NULL, "/nxl/a", 4, &v, &len, &e_),
        NXL_E_INVAL, "/nxl/a");
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(
        nxl_xs_read_bounded(xs, XBT_NULL, "/nxl/a", 5, &v, &len, &err), 0);
    CU_ASSERT_STRING_EQUAL(v, "hello");
    free(v);
    v = NULL;

    /* Overwrite, and an empty value. */
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/a", "", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_read(xs, XBT_NULL, "/nxl/a", &v, &len, &err), 0);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_STRING_EQUAL(v, "");
    free(v);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_error_dispose(&err);
}

static void test_read_missing(void)
{
    char *v = (char *)"untouched";
    size_t len = 42;

    CHECK_FAIL_CODE(nxl_xs_read(xs, XBT_NULL, "/nxl/missing", &v, &len, &e_),
                    NXL_E_NOT_FOUND, "/nxl/missing");
    CU_ASSERT_STRING_EQUAL(v, "untouched");
    CU_ASSERT_EQUAL(len, 42);
    CHECK_FAIL_CODE(
        nxl_xs_directory(xs, XBT_NULL, "/nxl/missing", &(nxl_strv){0}, &e_),
        NXL_E_NOT_FOUND, "/nxl/missing");
}

static void test_directory_rm(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_strv names = {NULL, 0};
    char *v = NULL;

    CU_ASSERT_EQUAL(nxl_xs_mkdir(xs, XBT_NULL, "/nxl/dir", &err), 0);
    /* mkdir of an existing node is fine and leaves it empty. */
    CU_ASSERT_EQUAL(nxl_xs_mkdir(xs, XBT_NULL, "/nxl/dir", &err), 0);
    v = read_str(xs, "/nxl/dir");
    CU_ASSERT_STRING_EQUAL(v, "");
    free(v);
    CU_ASSERT_EQUAL(nxl_xs_directory(xs, XBT_NULL, "/nxl/dir", &names, &err),
                    0);
    CU_ASSERT_EQUAL(names.n, 0);
    strv_free(&names);

    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/dir/c1", "1", &err),
                    0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/dir/c2", "2", &err),
                    0);
    CU_ASSERT_EQUAL(
        nxl_xs_write_str(xs, XBT_NULL, "/nxl/dir/c3/deep", "3", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_directory(xs, XBT_NULL, "/nxl/dir", &names, &err),
                    0);
    CU_ASSERT_EQUAL(names.n, 3);
    CU_ASSERT(strv_has(&names, "c1") && strv_has(&names, "c2") &&
              strv_has(&names, "c3"));
    /* The vector is also NULL-terminated. */
    CU_ASSERT_PTR_NULL(names.v[names.n]);

    /* A failed listing leaves the caller's vector alone. */
    CHECK_FAIL_CODE(nxl_xs_directory(xs, XBT_NULL, "/nxl/nope", &names, &e_),
                    NXL_E_NOT_FOUND, "/nxl/nope");
    CU_ASSERT_EQUAL(names.n, 3);
    strv_free(&names);

    /* rm removes the subtree; rm of something absent is not an error. */
    CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, "/nxl/dir/c3", &err), 0);
    CU_ASSERT_FALSE(exists("/nxl/dir/c3/deep"));
    CU_ASSERT_FALSE(exists("/nxl/dir/c3"));
    CU_ASSERT_TRUE(exists("/nxl/dir/c1"));
    CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, "/nxl/dir", &err), 0);
    CU_ASSERT_FALSE(exists("/nxl/dir/c1"));
    CU_ASSERT_FALSE(exists("/nxl/dir"));
    CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, "/nxl/dir", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, "/nxl/nope/deeper", &err), 0);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    CHECK_FAIL_CODE(nxl_xs_rm(xs, XBT_NULL, "/", &e_), NXL_E_INVAL, "root");
    CU_ASSERT_TRUE(exists("/nxl/a"));
    nxl_error_dispose(&err);
}

/* ---- permissions ----------------------------------------------------- */

static void test_perms_stored(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_xs_perms p, got;

    nxl_xs_perms_init(&p);
    nxl_xs_perms_init(&got);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/p", "shared", &err),
                    0);
    p.owner = 0;
    p.others = NXL_XS_ACCESS_NONE;
    CU_ASSERT_EQUAL(nxl_xs_perms_add(&p, 5, NXL_XS_ACCESS_READ, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_perms_add(&p, 9, NXL_XS_ACCESS_BOTH, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_set_perms(xs, XBT_NULL, "/nxl/p", &p, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_get_perms(xs, XBT_NULL, "/nxl/p", &got, &err), 0);
    CU_ASSERT_EQUAL(got.owner, 0);
    CU_ASSERT_EQUAL(got.others, NXL_XS_ACCESS_NONE);
    CU_ASSERT_EQUAL(got.n, 2);
    if (got.n == 2) {
        CU_ASSERT_EQUAL(got.entries[0].domid, 5);
        CU_ASSERT_EQUAL(got.entries[0].access, NXL_XS_ACCESS_READ);
        CU_ASSERT_EQUAL(got.entries[1].domid, 9);
        CU_ASSERT_EQUAL(got.entries[1].access, NXL_XS_ACCESS_BOTH);
    }

    /* Bad ACLs are refused before anything is sent: the stored one stays. */
    p.entries[0].domid = 0x7FF0; /* DOMID_FIRST_RESERVED */
    CHECK_FAIL_CODE(nxl_xs_set_perms(xs, XBT_NULL, "/nxl/p", &p, &e_),
                    NXL_E_INVAL, "domid");
    p.entries[0].domid = 5;
    p.entries[0].access = (nxl_xs_access)7;
    CHECK_FAIL_CODE(nxl_xs_set_perms(xs, XBT_NULL, "/nxl/p", &p, &e_),
                    NXL_E_INVAL, "access");
    CHECK_FAIL_CODE(nxl_xs_perms_add(&p, 3, (nxl_xs_access)4, &e_), NXL_E_INVAL,
                    "access");
    CU_ASSERT_EQUAL(nxl_xs_get_perms(xs, XBT_NULL, "/nxl/p", &got, &err), 0);
    CU_ASSERT_EQUAL(got.n, 2);
    if (got.n == 2)
        CU_ASSERT_EQUAL(got.entries[0].access, NXL_XS_ACCESS_READ);

    CHECK_FAIL_CODE(nxl_xs_get_perms(xs, XBT_NULL, "/nxl/nope", &got, &e_),
                    NXL_E_NOT_FOUND, "/nxl/nope");
    CU_ASSERT_EQUAL(got.n, 2); /* untouched on failure */
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_xs_perms_dispose(&p);
    nxl_xs_perms_dispose(&got);
    nxl_xs_perms_dispose(&got); /* dispose twice is fine */
    nxl_error_dispose(&err);
}

/* One request as a guest; returns the reply (type in *type_r). */
static char *guest_do(nxl_test_xsd_guest *g, uint32_t type, const void *payload,
                      size_t len, uint32_t *type_r)
{
    char *reply = NULL;
    size_t rlen = 0;

    *type_r = XS_INVALID;
    if (nxl_test_xsd_guest_request(g, type, payload, len, type_r, &reply,
                                   &rlen) != 0)
        return NULL;
    return reply;
}

static void test_perms_enforced(void)
{
    static const char wr[] = "/nxl/p\0from-guest"; /* path NUL value */
    nxl_error err = NXL_ERROR_INIT;
    nxl_test_xsd_guest g5, g6;
    nxl_xs_perms p;
    uint32_t type;
    char *r, *v;

    nxl_xs_perms_init(&p);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/p", "shared", &err),
                    0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/s", "secret", &err),
                    0);
    CU_ASSERT_EQUAL(nxl_xs_perms_add(&p, 5, NXL_XS_ACCESS_READ, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_set_perms(xs, XBT_NULL, "/nxl/p", &p, &err), 0);

    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 5, &g5) == 0);
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 6, &g6) == 0);

    /* Domain 5 may read /nxl/p... */
    r = guest_do(&g5, XS_READ, "/nxl/p", sizeof("/nxl/p"), &type);
    CU_ASSERT_EQUAL(type, XS_READ);
    CU_ASSERT_STRING_EQUAL(r ? r : "", "shared");
    free(r);
    /* ...but not write it, */
    r = guest_do(&g5, XS_WRITE, wr, sizeof(wr) - 1, &type);
    CU_ASSERT_EQUAL(type, XS_ERROR);
    CU_ASSERT_STRING_EQUAL(r ? r : "", "EACCES");
    free(r);
    /* nor read a node whose ACL does not name it; */
    r = guest_do(&g5, XS_READ, "/nxl/s", sizeof("/nxl/s"), &type);
    CU_ASSERT_EQUAL(type, XS_ERROR);
    CU_ASSERT_STRING_EQUAL(r ? r : "", "EACCES");
    free(r);
    /* and domain 6, not in the ACL, may not even read /nxl/p. */
    r = guest_do(&g6, XS_READ, "/nxl/p", sizeof("/nxl/p"), &type);
    CU_ASSERT_EQUAL(type, XS_ERROR);
    CU_ASSERT_STRING_EQUAL(r ? r : "", "EACCES");
    free(r);
    v = read_str(xs, "/nxl/p");
    CU_ASSERT_STRING_EQUAL(v ? v : "", "shared");
    free(v);

    /* Grant write: now the guest's write lands and dom0 sees it. */
    p.entries[0].access = NXL_XS_ACCESS_BOTH;
    CU_ASSERT_EQUAL(nxl_xs_set_perms(xs, XBT_NULL, "/nxl/p", &p, &err), 0);
    r = guest_do(&g5, XS_WRITE, wr, sizeof(wr) - 1, &type);
    CU_ASSERT_EQUAL(type, XS_WRITE);
    free(r);
    v = read_str(xs, "/nxl/p");
    CU_ASSERT_STRING_EQUAL(v ? v : "", "from-guest");
    free(v);

    nxl_test_xsd_guest_close(&g5);
    nxl_test_xsd_guest_close(&g6);
    nxl_xs_perms_dispose(&p);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_error_dispose(&err);
}

/* ---- transactions ---------------------------------------------------- */

static void test_txn_commit_abort(void)
{
    nxl_error err = NXL_ERROR_INIT;
    xs_transaction_t t = XBT_NULL;
    char *v;

    CU_ASSERT_EQUAL(nxl_xs_transaction_start(xs, &t, &err), 0);
    CU_ASSERT_NOT_EQUAL(t, XBT_NULL);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, t, "/nxl/t/a", "1", &err), 0);
    v = NULL;
    CU_ASSERT_EQUAL(nxl_xs_read(xs, t, "/nxl/t/a", &v, NULL, &err), 0);
    CU_ASSERT_STRING_EQUAL(v ? v : "", "1");
    free(v);
    /* Not visible outside before commit. */
    CU_ASSERT_FALSE(exists("/nxl/t/a"));
    CU_ASSERT_EQUAL(nxl_xs_transaction_commit(xs, t, &err), 0);
    v = read_str(xs, "/nxl/t/a");
    CU_ASSERT_STRING_EQUAL(v ? v : "", "1");
    free(v);

    CU_ASSERT_EQUAL(nxl_xs_transaction_start(xs, &t, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, t, "/nxl/t/b", "2", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_rm(xs, t, "/nxl/t/a", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_transaction_abort(xs, t, &err), 0);
    CU_ASSERT_FALSE(exists("/nxl/t/b"));
    CU_ASSERT_TRUE(exists("/nxl/t/a"));
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_error_dispose(&err);
}

static void test_txn_conflict(void)
{
    nxl_error err = NXL_ERROR_INIT;
    xs_transaction_t t1 = XBT_NULL, t2 = XBT_NULL;
    nxl_xs *xs2 = NULL;
    char *v = NULL;

    CU_ASSERT_FATAL(nxl_xs_open(&xs2, &err) == 0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/t/c", "0", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_transaction_start(xs, &t1, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_transaction_start(xs2, &t2, &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_read(xs, t1, "/nxl/t/c", &v, NULL, &err), 0);
    free(v);
    v = NULL;
    CU_ASSERT_EQUAL(nxl_xs_read(xs2, t2, "/nxl/t/c", &v, NULL, &err), 0);
    free(v);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, t1, "/nxl/t/c", "one", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs2, t2, "/nxl/t/c", "two", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_transaction_commit(xs, t1, &err), 0);
    CHECK_FAIL_CODE(nxl_xs_transaction_commit(xs2, t2, &e_), NXL_E_CONFLICT,
                    "another change");
    v = read_str(xs, "/nxl/t/c");
    CU_ASSERT_STRING_EQUAL(v ? v : "", "one");
    free(v);
    nxl_xs_close(xs2);
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    nxl_error_dispose(&err);
}

struct bump {
    nxl_xs *other;      /* a second connection that interferes */
    int interfere_upto; /* interfere on attempts 1..this */
    int attempts;
    int fail_with; /* when non-zero, the body fails with this code */
};

/* Reads a counter, lets the other connection change it behind the
 * transaction's back (as a concurrent toolstack would), then writes
 * counter + 1. */
static int bump_body(nxl_xs *h, xs_transaction_t t, void *opaque,
                     nxl_error *err)
{
    struct bump *b = opaque;
    char *v = NULL;
    char buf[32];
    long n;
    int rc;

    b->attempts++;
    rc = nxl_xs_read(h, t, "/nxl/t/counter", &v, NULL, err);
    if (rc)
        return rc;
    n = strtol(v, NULL, 10);
    free(v);
    if (b->attempts <= b->interfere_upto) {
        snprintf(buf, sizeof(buf), "%ld", n + 100);
        rc = nxl_xs_write_str(b->other, XBT_NULL, "/nxl/t/counter", buf, err);
        if (rc)
            return rc;
    }
    rc = nxl_xs_write_str(h, t, "/nxl/t/marker", "written", err);
    if (rc)
        return rc;
    if (b->fail_with)
        return nxl_error_set(err, b->fail_with, "body refused on purpose");
    snprintf(buf, sizeof(buf), "%ld", n + 1);
    return nxl_xs_write_str(h, t, "/nxl/t/counter", buf, err);
}

static void test_transact_retry(void)
{
    nxl_error err = NXL_ERROR_INIT;
    struct bump b = {NULL, 1, 0, 0};
    nxl_xs_txn_counts c0, c1;
    char *v;

    CU_ASSERT_FATAL(nxl_xs_open(&b.other, &err) == 0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/t/counter", "1", &err),
                    0);
    nxl_xs_transact_counts(&c0);
    CU_ASSERT_EQUAL(nxl_xs_transact(xs, bump_body, &b, &err), 0);
    /* Attempt 1 conflicted (counter became 101), attempt 2 committed. */
    CU_ASSERT_EQUAL(b.attempts, 2);
    /* The process-wide counters saw the same. */
    nxl_xs_transact_counts(&c1);
    CU_ASSERT_EQUAL(c1.calls - c0.calls, 1);
    CU_ASSERT_EQUAL(c1.attempts - c0.attempts, 2);
    CU_ASSERT_EQUAL(c1.conflicts - c0.conflicts, 1);
    v = read_str(xs, "/nxl/t/counter");
    CU_ASSERT_STRING_EQUAL(v ? v : "", "102");
    free(v);
    /* The retried conflict left no error behind. */
    CU_ASSERT_EQUAL(err.code, NXL_OK);
    CU_ASSERT_PTR_NULL(err.message);
    nxl_xs_close(b.other);
    nxl_error_dispose(&err);
}

static void test_transact_gives_up(void)
{
    nxl_error err = NXL_ERROR_INIT;
    struct bump b = {NULL, 1000, 0, 0};
    char *v, want[16];

    CU_ASSERT_FATAL(nxl_xs_open(&b.other, &err) == 0);
    CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, "/nxl/t/marker", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/t/counter", "0", &err),
                    0);
    CHECK_FAIL_CODE(nxl_xs_transact(xs, bump_body, &b, &e_), NXL_E_CONFLICT,
                    "attempts");
    CU_ASSERT_EQUAL(b.attempts, NXL_XS_TRANSACT_ATTEMPTS);
    /* Only the interfering writes landed, none of the transaction's. */
    CU_ASSERT_FALSE(exists("/nxl/t/marker"));
    /* Each attempt's interfering write added 100. */
    snprintf(want, sizeof(want), "%d", NXL_XS_TRANSACT_ATTEMPTS * 100);
    v = read_str(xs, "/nxl/t/counter");
    CU_ASSERT_STRING_EQUAL(v ? v : "", want);
    free(v);

    /* A failing body aborts at once and its error comes back. */
    b.interfere_upto = 0;
    b.attempts = 0;
    b.fail_with = NXL_E_INVAL;
    CHECK_FAIL_CODE(nxl_xs_transact(xs, bump_body, &b, &e_), NXL_E_INVAL,
                    "on purpose");
    CU_ASSERT_EQUAL(b.attempts, 1);
    CU_ASSERT_FALSE(exists("/nxl/t/marker"));
    nxl_xs_close(b.other);
    nxl_error_dispose(&err);
}

/* ---- watches --------------------------------------------------------- */

/* Waits (bounded) for the next event; returns 1 and checks it, or 0. */
static int expect_event(const char *path, const char *token)
{
    nxl_error err = NXL_ERROR_INIT;
    char *p = NULL, *t = NULL;
    int rc = nxl_xs_read_watch(xs, 2000, &p, &t, &err);

    CU_ASSERT_EQUAL(rc, 1);
    if (rc == 1) {
        CU_ASSERT_STRING_EQUAL(p, path);
        CU_ASSERT_STRING_EQUAL(t, token);
        if (strcmp(p, path) || strcmp(t, token))
            fprintf(stderr, "  event (%s, %s), wanted (%s, %s)\n", p, t, path,
                    token);
    } else {
        fprintf(stderr, "  no event for %s: rc %d %s\n", path, rc,
                nxl_error_message(&err));
    }
    free(p);
    free(t);
    nxl_error_dispose(&err);
    return rc == 1;
}

static void test_watch(void)
{
    nxl_error err = NXL_ERROR_INIT;
    char *p = NULL, *t = NULL;
    struct pollfd pfd;

    CU_ASSERT_EQUAL(nxl_xs_mkdir(xs, XBT_NULL, "/nxl/w", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_watch(xs, "/nxl/w", "tok-1", &err), 0);
    /* xenstored fires each watch once when it is set. */
    expect_event("/nxl/w", "tok-1");
    CU_ASSERT_EQUAL(nxl_xs_read_watch(xs, 0, &p, &t, &err), 0);
    CU_ASSERT_PTR_NULL(p);

    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/w/child", "x", &err),
                    0);
    pfd.fd = nxl_xs_watch_fd(xs);
    pfd.events = POLLIN;
    CU_ASSERT(pfd.fd >= 0);
    CU_ASSERT_EQUAL(poll(&pfd, 1, 2000), 1);
    expect_event("/nxl/w/child", "tok-1");

    CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, "/nxl/w/child", &err), 0);
    expect_event("/nxl/w/child", "tok-1");

    /* Outside the watched subtree: nothing. */
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/wx", "x", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_read_watch(xs, 200, &p, &t, &err), 0);

    CU_ASSERT_EQUAL(nxl_xs_unwatch(xs, "/nxl/w", "tok-1", &err), 0);
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/w/again", "x", &err),
                    0);
    CU_ASSERT_EQUAL(nxl_xs_read_watch(xs, 300, &p, &t, &err), 0);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(err.code, NXL_OK);

    /* Unwatching what is not watched is refused by xenstored. */
    CHECK_FAIL_CODE(nxl_xs_unwatch(xs, "/nxl/w", "tok-1", &e_), NXL_E_NOT_FOUND,
                    "/nxl/w");
    CHECK_FAIL_CODE(nxl_xs_watch(xs, "/nxl/w", "a b", &e_), NXL_E_INVAL,
                    "token");
    CHECK_FAIL_CODE(nxl_xs_watch(xs, "/nxl/w", "", &e_), NXL_E_INVAL, "token");
    CHECK_FAIL_CODE(nxl_xs_watch(xs, "/nxl/../w", "t", &e_), NXL_E_INVAL,
                    "0x2e");
    CU_ASSERT_EQUAL(nxl_xs_watch(xs, "@releaseDomain", "rel", &err), 0);
    expect_event("@releaseDomain", "rel");
    CU_ASSERT_EQUAL(nxl_xs_unwatch(xs, "@releaseDomain", "rel", &err), 0);
    nxl_error_dispose(&err);
}

/* ---- validation ------------------------------------------------------ */

static void test_key_validate(void)
{
    static const char *const good[] = {"a", "abc", "a-b_C9", "0", "_-_"};
    static const char *const bad[] = {"",    ".",     "..",    "a/b",
                                      "/a",  "a\x01", "a b",   "@x",
                                      "a.b", "a\n",   "x\x7f", "\xc3\xa9"};
    char long_key[NXL_XS_KEY_MAX + 2];
    size_t i;

    for (i = 0; i < NXL_ARRAY_SIZE(good); i++)
        CU_ASSERT_EQUAL(nxl_xs_key_validate(good[i], NULL), 0);
    for (i = 0; i < NXL_ARRAY_SIZE(bad); i++) {
        CU_ASSERT_EQUAL(nxl_xs_key_validate(bad[i], NULL), NXL_E_INVAL);
    }
    CHECK_FAIL_CODE(nxl_xs_key_validate(NULL, &e_), NXL_E_INVAL, "missing");
    CHECK_FAIL_CODE(nxl_xs_key_validate("", &e_), NXL_E_INVAL, "empty");
    CHECK_FAIL_CODE(nxl_xs_key_validate("a\x01", &e_), NXL_E_INVAL, "0x01");
    memset(long_key, 'k', NXL_XS_KEY_MAX);
    long_key[NXL_XS_KEY_MAX] = '\0';
    CU_ASSERT_EQUAL(nxl_xs_key_validate(long_key, NULL), 0);
    long_key[NXL_XS_KEY_MAX] = 'k';
    long_key[NXL_XS_KEY_MAX + 1] = '\0';
    CHECK_FAIL_CODE(nxl_xs_key_validate(long_key, &e_), NXL_E_INVAL, "longer");
}

static void test_path_validate_join(void)
{
    static const char *const good[] = {"/", "/a", "/a/b-c/d_e",
                                       "/local/domain/0/a@b"};
    static const char *const bad[] = {"",      "a/b",     "/a/",    "//a",
                                      "/a//b", "/a/..",   "/a/./b", "/a\nb",
                                      "/a b",  "/@x/\x01"};
    char long_path[NXL_XS_PATH_MAX + 2];
    char *p = NULL;
    size_t i;

    for (i = 0; i < NXL_ARRAY_SIZE(good); i++)
        CU_ASSERT_EQUAL(nxl_xs_path_validate(good[i], NULL), 0);
    for (i = 0; i < NXL_ARRAY_SIZE(bad); i++)
        CU_ASSERT_EQUAL(nxl_xs_path_validate(bad[i], NULL), NXL_E_INVAL);
    for (i = 0; i < NXL_XS_PATH_MAX; i++)
        long_path[i] = i % 2 ? 'p' : '/';
    long_path[NXL_XS_PATH_MAX] = '\0';
    CU_ASSERT_EQUAL(nxl_xs_path_validate(long_path, NULL), 0);
    long_path[NXL_XS_PATH_MAX] = '/';
    long_path[NXL_XS_PATH_MAX + 1] = '\0';
    CHECK_FAIL_CODE(nxl_xs_path_validate(long_path, &e_), NXL_E_INVAL,
                    "longer");

    CU_ASSERT_EQUAL(NXL_XS_PATH_JOIN(&p, NULL, "/nxl", "x", "y-1"), 0);
    CU_ASSERT_STRING_EQUAL(p ? p : "", "/nxl/x/y-1");
    free(p);
    p = NULL;
    CU_ASSERT_EQUAL(NXL_XS_PATH_JOIN(&p, NULL, "/", "a"), 0);
    CU_ASSERT_STRING_EQUAL(p ? p : "", "/a");
    free(p);
    p = NULL;
    CU_ASSERT_EQUAL(nxl_xs_path_join(&p, "/", NULL, 0, NULL), 0);
    CU_ASSERT_STRING_EQUAL(p ? p : "", "/");
    free(p);
    p = NULL;
    /* Keys that would climb, nest or smuggle are refused; *path_r stays. */
    CHECK_FAIL_CODE(NXL_XS_PATH_JOIN(&p, &e_, "/nxl", "ok", ".."), NXL_E_INVAL,
                    "0x2e");
    CHECK_FAIL_CODE(NXL_XS_PATH_JOIN(&p, &e_, "/nxl", "a/b"), NXL_E_INVAL,
                    "0x2f");
    CHECK_FAIL_CODE(NXL_XS_PATH_JOIN(&p, &e_, "/nxl", ""), NXL_E_INVAL,
                    "empty");
    CHECK_FAIL_CODE(NXL_XS_PATH_JOIN(&p, &e_, "nxl", "a"), NXL_E_INVAL,
                    "not absolute");
    CU_ASSERT_PTR_NULL(p);
    /* Many valid keys that add up past the protocol's limit. */
    {
        const char *keys[100];
        char key[NXL_XS_KEY_MAX + 1];

        memset(key, 'k', NXL_XS_KEY_MAX);
        key[NXL_XS_KEY_MAX] = '\0';
        for (i = 0; i < NXL_ARRAY_SIZE(keys); i++)
            keys[i] = key;
        CHECK_FAIL_CODE(
            nxl_xs_path_join(&p, "/nxl", keys, NXL_ARRAY_SIZE(keys), &e_),
            NXL_E_INVAL, "more than");
        CU_ASSERT_PTR_NULL(p);
    }
}

/* Bad paths and oversized values reach nothing: /nxl/v stays absent. */
static void test_bad_input_writes_nothing(void)
{
    static const char *const bad[] = {"/nxl/v/..", "/nxl/v/a/",   "nxl/v/a",
                                      "/nxl/v//a", "/nxl/v/\x01", "/nxl/v/a.b",
                                      ""};
    nxl_error err = NXL_ERROR_INIT;
    char *big;
    size_t i, fit;

    CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, "/nxl/v", &err), 0);
    for (i = 0; i < NXL_ARRAY_SIZE(bad); i++) {
        CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, bad[i], "x", NULL),
                        NXL_E_INVAL);
        CU_ASSERT_EQUAL(nxl_xs_mkdir(xs, XBT_NULL, bad[i], NULL), NXL_E_INVAL);
        CU_ASSERT_EQUAL(nxl_xs_rm(xs, XBT_NULL, bad[i], NULL), NXL_E_INVAL);
    }
    CHECK_FAIL_CODE(nxl_xs_write_str(xs, XBT_NULL, NULL, "x", &e_), NXL_E_INVAL,
                    "missing");
    CHECK_FAIL_CODE(nxl_xs_write_str(xs, XBT_NULL, "/nxl/v/n", NULL, &e_),
                    NXL_E_INVAL, "no value");
    CU_ASSERT_FALSE(exists("/nxl/v"));

    /* The value cap is the protocol's: path, NUL and value in 4096. */
    big = malloc(NXL_XS_PAYLOAD_MAX + 1);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'v', NXL_XS_PAYLOAD_MAX);
    big[NXL_XS_PAYLOAD_MAX] = '\0';
    CHECK_FAIL_CODE(nxl_xs_write_str(xs, XBT_NULL, "/nxl/v/big", big, &e_),
                    NXL_E_INVAL, "/nxl/v/big");
    fit = NXL_XS_PAYLOAD_MAX - sizeof("/nxl/v/big");
    CHECK_FAIL_CODE(nxl_xs_write(xs, XBT_NULL, "/nxl/v/big", big, fit + 1, &e_),
                    NXL_E_INVAL, "at most");
    CU_ASSERT_FALSE(exists("/nxl/v"));
    /* Exactly at the cap, xenstored takes it. */
    CU_ASSERT_EQUAL(nxl_xs_write(xs, XBT_NULL, "/nxl/v/big", big, fit, &err),
                    0);
    if (err.code)
        fprintf(stderr, "  %s\n", nxl_error_message(&err));
    CU_ASSERT_TRUE(exists("/nxl/v/big"));
    free(big);
    nxl_error_dispose(&err);
}

/* ---- connection failures --------------------------------------------- */

static void test_no_daemon(void)
{
    char *saved =
        getenv("XENSTORED_PATH") ? strdup(getenv("XENSTORED_PATH")) : NULL;
    char notsock[sizeof(xsd.dir) + 16];
    nxl_xs *h = NULL;
    FILE *f;

    setenv("XENSTORED_PATH", "/nonexistent/nxl/socket", 1);
    CHECK_FAIL_CODE(nxl_xs_open(&h, &e_), NXL_E_HYPERVISOR,
                    "/nonexistent/nxl/socket");
    CU_ASSERT_PTR_NULL(h);

    /* A path that exists but is not a listening socket. */
    snprintf(notsock, sizeof(notsock), "%s/plain", xsd.dir);
    f = fopen(notsock, "w");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f)
        fclose(f);
    setenv("XENSTORED_PATH", notsock, 1);
    CHECK_FAIL_CODE(nxl_xs_open(&h, &e_), NXL_E_HYPERVISOR, notsock);
    CU_ASSERT_PTR_NULL(h);
    unlink(notsock);

    if (saved)
        setenv("XENSTORED_PATH", saved, 1);
    free(saved);
    CHECK_FAIL_CODE(nxl_xs_open(NULL, &e_), NXL_E_INVAL, "bad call");
    CHECK_FAIL_CODE(
        nxl_xs_read(NULL, XBT_NULL, "/a", &(char *){NULL}, NULL, &e_),
        NXL_E_INVAL, "no connection");
}

/* Runs last in its suite: kills the daemon under an open handle. */
static void test_daemon_gone(void)
{
    char socket[sizeof(xsd.socket)];
    char *v = NULL, *p = NULL, *t = NULL;
    nxl_xs *w = NULL;

    memcpy(socket, xsd.socket, sizeof(socket));
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, "/nxl/x", "1", NULL), 0);
    /* A watch starts libxenstore's reader thread, which changes how a lost
     * connection is reported; both paths must say HYPERVISOR. */
    CU_ASSERT_EQUAL(nxl_xs_open(&w, NULL), 0);
    CU_ASSERT_EQUAL(nxl_xs_watch(w, "/nxl", "gone", NULL), 0);
    CU_ASSERT_EQUAL(nxl_xs_read_watch(w, 2000, &p, &t, NULL), 1);
    free(p);
    free(t);
    p = t = NULL;
    kill(xsd.pid, SIGKILL);
    while (waitpid(xsd.pid, NULL, 0) < 0 && errno == EINTR)
        ;
    xsd.pid = -1;
    CHECK_FAIL_CODE(nxl_xs_read(xs, XBT_NULL, "/nxl/x", &v, NULL, &e_),
                    NXL_E_HYPERVISOR, socket);
    CU_ASSERT_PTR_NULL(v);
    CHECK_FAIL_CODE(nxl_xs_write_str(xs, XBT_NULL, "/nxl/x", "2", &e_),
                    NXL_E_HYPERVISOR, "/nxl/x");

    /* Bounded, and an error rather than "no event yet". */
    CHECK_FAIL_CODE(nxl_xs_read_watch(w, 3000, &p, &t, &e_), NXL_E_HYPERVISOR,
                    socket);
    CU_ASSERT_PTR_NULL(p);
    CHECK_FAIL_CODE(nxl_xs_read(w, XBT_NULL, "/nxl/x", &v, NULL, &e_),
                    NXL_E_HYPERVISOR, socket);
    CHECK_FAIL_CODE(nxl_xs_directory(w, XBT_NULL, "/nxl", &(nxl_strv){0}, &e_),
                    NXL_E_HYPERVISOR, "/nxl");
    nxl_xs_close(w);
}

/* ---- main ------------------------------------------------------------ */

static int add_suite(const char *name, const nxl_test_def *tests, size_t n)
{
    return nxl_test_add_suite(name, suite_init, suite_cleanup, tests, n);
}

int main(void)
{
    static const nxl_test_def nodes[] = {
        {"write/read round trip", test_write_read},
        {"read of a missing node", test_read_missing},
        {"directory, mkdir and rm", test_directory_rm},
    };
    static const nxl_test_def perms[] = {
        {"perms stored exactly", test_perms_stored},
        {"perms enforced on guests", test_perms_enforced},
    };
    static const nxl_test_def txns[] = {
        {"commit and abort", test_txn_commit_abort},
        {"two handles conflict", test_txn_conflict},
        {"transact retries a conflict", test_transact_retry},
        {"transact gives up and aborts", test_transact_gives_up},
    };
    static const nxl_test_def watches[] = {
        {"watch, fire, unwatch", test_watch},
    };
    static const nxl_test_def validation[] = {
        {"keys", test_key_validate},
        {"paths and joins", test_path_validate_join},
        {"bad input writes nothing", test_bad_input_writes_nothing},
    };
    static const nxl_test_def conn[] = {
        {"no daemon at XENSTORED_PATH", test_no_daemon},
        {"daemon killed under a handle", test_daemon_gone},
    };

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (add_suite("xs nodes", nodes, NXL_ARRAY_SIZE(nodes)) ||
        add_suite("xs perms", perms, NXL_ARRAY_SIZE(perms)) ||
        add_suite("xs transactions", txns, NXL_ARRAY_SIZE(txns)) ||
        add_suite("xs watches", watches, NXL_ARRAY_SIZE(watches)) ||
        add_suite("xs validation", validation, NXL_ARRAY_SIZE(validation)) ||
        add_suite("xs connection", conn, NXL_ARRAY_SIZE(conn))) {
        CU_cleanup_registry();
        return 1;
    }
    return nxl_test_run(skip_why);
}

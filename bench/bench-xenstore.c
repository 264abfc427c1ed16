/* bench-xenstore: instance metadata in a real xenstored (Debian's C
 * daemon, private, in userspace: tests/xsd), as the libxl driver writes
 * it: change_instance_metadata through the public API (lock, synced
 * metadata.json, one transaction, rename), the publication transaction
 * alone (nxl__xl_metadata_publish, which every domain creation runs),
 * reads, and two writers publishing at once, to the same domain (their
 * transactions conflict and nxl_xs_transact retries) and to two domains.
 *
 * Figures: calls per second; for the transactions, the attempts and
 * conflicts nxl_xs_transact counted. Checks: every call succeeds (a
 * conflicting writer may give up only with NXL_E_CONFLICT, after
 * NXL_XS_TRANSACT_ATTEMPTS), the counters add up, and afterwards the
 * guest's view in xenstore is exactly the driver's copy, key for key.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_metadata.h"

#define N_KEYS 16
/* change_instance_metadata is an API user's request; the publication runs
 * once per domain created, so a host booting 1000 instances runs 1000
 * (bench/README.md). */
#define TARGET_CHANGE_PER_S 20.0
#define TARGET_PUBLISH_PER_S 200.0
#define TARGET_READ_PER_S 1000.0

typedef struct ctx {
    nxl_bench_host *h;
    nxl_xl_state *st;
    size_t round;
    char uuid[2][NXL_UUID_STRLEN + 1];
    uint32_t domid[2];
    nxl_xs *xs;
    char key0[160]; /* /local/domain/<domid[0]>/vm-data/user-metadata/k00 */
    char dir0[128];
} ctx;

static const char *const md_path = "vm-data/user-metadata";

/* {"k00": "value-00 ...", ...}: N_KEYS keys of 64-byte values. */
static void metadata_json(char *buf, size_t size)
{
    size_t off = 0;

    off += (size_t)snprintf(buf + off, size - off, "{");
    for (int i = 0; i < N_KEYS; i++)
        off += (size_t)snprintf(buf + off, size - off,
                                "%s\"k%02d\": \"value-%02d %-55s\"",
                                i ? ", " : "", i, i, "of the bench's metadata");
    snprintf(buf + off, size - off, "}");
}

static bool do_change(void *opaque)
{
    ctx *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance inst;
    char diff[128];
    int rc;

    nxl_instance_init(&inst);
    memcpy(inst.uuid, c->uuid[0], sizeof(inst.uuid));
    inst.name = strdup("bench-0");
    snprintf(diff, sizeof(diff), "{\"k00\": [\"+\", \"changed %zu\"]}",
             ++c->round);
    rc = inst.name ? nxl_instance_change_metadata(c->h->drv, &inst, diff, &err)
                   : NXL_E_NOMEM;
    BENCH_CHECK(rc == 0, "change_instance_metadata: %s",
                nxl_error_message(&err));
    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_publish(void *opaque)
{
    ctx *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    int rc =
        nxl__xl_metadata_publish(c->st, c->uuid[0], c->domid[0], NULL, &err);

    BENCH_CHECK(rc == 0, "publish: %s", nxl_error_message(&err));
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_read(void *opaque)
{
    ctx *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    char *v = NULL;
    int rc = nxl_xs_read(c->xs, XBT_NULL, c->key0, &v, NULL, &err);

    BENCH_CHECK(rc == 0 && strncmp(v, "changed ", 8) == 0, "read %s: %s",
                c->key0, rc ? nxl_error_message(&err) : v);
    free(v);
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_open_read(void *opaque)
{
    ctx *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_xs *xs = NULL;
    char *v = NULL;
    int rc = nxl_xs_open(&xs, &err);

    if (rc == 0)
        rc = nxl_xs_read(xs, XBT_NULL, c->key0, &v, NULL, &err);
    BENCH_CHECK(rc == 0, "open and read %s: %s", c->key0,
                nxl_error_message(&err));
    free(v);
    nxl_xs_close(xs);
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_directory(void *opaque)
{
    ctx *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_strv names;
    int rc;

    nxl_strv_init(&names);
    rc = nxl_xs_directory(c->xs, XBT_NULL, c->dir0, &names, &err);
    BENCH_CHECK(rc == 0 && names.n == N_KEYS, "directory %s: %zu keys: %s",
                c->dir0, names.n, nxl_error_message(&err));
    nxl_strv_dispose(&names);
    nxl_error_dispose(&err);
    return rc == 0;
}

/* The guest's view of instance i is exactly metadata.json, key for key. */
static void check_view(ctx *c, int i)
{
    nxl_error err = NXL_ERROR_INIT;
    char dir[128], *v = NULL;
    nxl_kvlist kv;
    nxl_strv names;
    int rc;

    nxl_kvlist_init(&kv);
    nxl_strv_init(&names);
    snprintf(dir, sizeof(dir), "/local/domain/%u/%s", c->domid[i], md_path);
    rc = nxl__xl_metadata_load(c->st, c->uuid[i], &kv, &err);
    if (rc == NXL_E_NOT_FOUND) { /* never changed: the spawn's metadata */
        rc = 0;
        BENCH_CHECK(i == 1, "instance %d has no metadata.json", i);
    }
    if (rc == 0)
        rc = nxl_xs_directory(c->xs, XBT_NULL, dir, &names, &err);
    BENCH_CHECK(rc == 0, "%s: %s", dir, nxl_error_message(&err));
    BENCH_CHECK(names.n == N_KEYS, "%s: %zu keys, not %d", dir, names.n,
                N_KEYS);
    for (size_t k = 0; rc == 0 && k < kv.n; k++) {
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", dir, kv.items[k].key);
        rc = nxl_xs_read(c->xs, XBT_NULL, path, &v, NULL, &err);
        BENCH_CHECK(rc == 0 && strcmp(v, kv.items[k].value) == 0,
                    "%s is '%s', metadata.json says '%s'", path,
                    rc ? nxl_error_message(&err) : v, kv.items[k].value);
        free(v);
        v = NULL;
    }
    nxl_strv_dispose(&names);
    nxl_kvlist_dispose(&kv);
    nxl_error_dispose(&err);
}

/* ---- two writers ----------------------------------------------------------
 */

typedef struct writer {
    ctx *c;
    int inst; /* which instance it publishes */
    size_t n;
    size_t ok, gave_up, other;
    pthread_t tid;
} writer;

static void *writer_main(void *p)
{
    writer *w = p;

    /* Both publish without the instance's lock, as another toolstack
     * writing the same nodes would: the transactions are all that keeps
     * the guest's view whole. */
    for (size_t i = 0; i < w->n; i++) {
        int rc = nxl__xl_metadata_publish(w->c->st, w->c->uuid[w->inst],
                                          w->c->domid[w->inst], NULL, NULL);

        if (rc == 0)
            w->ok++;
        else if (rc == NXL_E_CONFLICT)
            w->gave_up++;
        else
            w->other++;
    }
    return NULL;
}

static void two_writers(ctx *c, const char *what, int inst_b, size_t n)
{
    writer w[2] = {{c, 0, n, 0, 0, 0, 0}, {c, inst_b, n, 0, 0, 0, 0}};
    nxl_xs_txn_counts c0, c1;
    unsigned long calls, attempts, conflicts;
    size_t gave_up;
    uint64_t t0, ns;
    char line[96], fig[32], target[64];
    bool started[2] = {false, false};

    nxl_xs_transact_counts(&c0);
    t0 = nxl_bench_now_ns();
    for (int i = 0; i < 2; i++)
        started[i] = pthread_create(&w[i].tid, NULL, writer_main, &w[i]) == 0;
    for (int i = 0; i < 2; i++)
        if (started[i])
            pthread_join(w[i].tid, NULL);
    ns = nxl_bench_now_ns() - t0;
    nxl_xs_transact_counts(&c1);
    BENCH_CHECK(started[0] && started[1], "%s: no thread", what);
    calls = c1.calls - c0.calls;
    attempts = c1.attempts - c0.attempts;
    conflicts = c1.conflicts - c0.conflicts;
    gave_up = w[0].gave_up + w[1].gave_up;
    BENCH_CHECK(w[0].other + w[1].other == 0,
                "%s: %zu publications failed otherwise than by conflict", what,
                w[0].other + w[1].other);
    BENCH_CHECK(calls == 2 * n, "%s: %lu transactions for %zu publications",
                what, calls, 2 * n);
    /* Every conflict but a give-up's last one started another attempt. */
    BENCH_CHECK(attempts == calls + conflicts - gave_up,
                "%s: %lu attempts, %lu calls, %lu conflicts, %zu give-ups",
                what, attempts, calls, conflicts, gave_up);
    if (inst_b == 0)
        BENCH_CHECK(gave_up <= conflicts / NXL_XS_TRANSACT_ATTEMPTS,
                    "%s: %zu gave up after %lu conflicts", what, gave_up,
                    conflicts);
    else
        BENCH_CHECK(gave_up == 0, "%s: %zu gave up", what, gave_up);

    snprintf(line, sizeof(line), "%s", what);
    snprintf(target, sizeof(target), ">= %.0f /s together",
             TARGET_PUBLISH_PER_S);
    nxl_bench_row(
        line, (double)(w[0].ok + w[1].ok) * 1e9 / (double)ns, "/s", target,
        (double)(w[0].ok + w[1].ok) * 1e9 / (double)ns >= TARGET_PUBLISH_PER_S);
    snprintf(fig, sizeof(fig), "%lu / %lu", conflicts, calls);
    nxl_bench_row_text("  conflicts retried / transactions", fig, "", true);
    snprintf(fig, sizeof(fig), "%zu", gave_up);
    snprintf(target, sizeof(target), "0 (gave up after %d attempts)",
             NXL_XS_TRANSACT_ATTEMPTS);
    nxl_bench_row_text("  publications that gave up", fig, target,
                       gave_up == 0);
    check_view(c, 0);
    check_view(c, inst_b);
}

/* ---- main -----------------------------------------------------------------
 */

static void rate_row(const char *what, nxl_bench_fn *fn, ctx *c,
                     size_t min_calls, double target_per_s)
{
    nxl_xs_txn_counts c0, c1;
    nxl_bench_rate r;
    char target[64], fig[32];

    nxl_xs_transact_counts(&c0);
    r = nxl_bench_run(fn, c, 1000, min_calls);
    nxl_xs_transact_counts(&c1);
    snprintf(target, sizeof(target), ">= %.0f /s", target_per_s);
    nxl_bench_row(what, r.per_s, "/s", target, r.per_s >= target_per_s);
    if (c1.calls > c0.calls) {
        /* One writer: one attempt a transaction, never a conflict. */
        BENCH_CHECK(c1.calls - c0.calls == r.calls &&
                        c1.attempts - c0.attempts == r.calls &&
                        c1.conflicts == c0.conflicts,
                    "%s: %zu calls made %lu transactions, %lu attempts, %lu "
                    "conflicts",
                    what, r.calls, c1.calls - c0.calls,
                    c1.attempts - c0.attempts, c1.conflicts - c0.conflicts);
        snprintf(fig, sizeof(fig), "%lu / %zu", c1.conflicts - c0.conflicts,
                 r.calls);
        nxl_bench_row_text("  conflicts / calls", fig, "0",
                           c1.conflicts == c0.conflicts);
    }
}

int main(int argc, char **argv)
{
    nxl_bench_host h;
    ctx c;
    char md[N_KEYS * 96];
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    memset(&c, 0, sizeof(c));
    nxl_bench_init(argc, argv, "bench-xenstore");
    rc = nxl_bench_host_open(&h, true);
    if (rc) {
        nxl_bench_host_close(&h);
        return rc == NXL_TEST_SKIP ? NXL_TEST_SKIP : 1;
    }
    c.h = &h;
    c.st = h.drv->priv;
    metadata_json(md, sizeof(md));
    /* Two instances; the fake numbers their domains 1 and 2, whose homes
     * libxl would have made. */
    for (int i = 0; i < 2; i++) {
        c.domid[i] = (uint32_t)i + 1;
        nxl_bench_uuid(c.uuid[i], sizeof(c.uuid[i]), (size_t)i);
        if ((rc = nxl_bench_xs_home(c.domid[i], &err)) < 0 ||
            (rc = nxl_bench_spawn(&h, (size_t)i, md, &err)) < 0)
            break;
    }
    if (rc == 0)
        rc = nxl_xs_open(&c.xs, &err);
    BENCH_CHECK(rc == 0, "setting up: %s", nxl_error_message(&err));
    nxl_error_dispose(&err);
    if (rc)
        goto out;
    snprintf(c.dir0, sizeof(c.dir0), "/local/domain/%u/%s", c.domid[0],
             md_path);
    snprintf(c.key0, sizeof(c.key0), "%s/k00", c.dir0);
    check_view(&c, 1); /* spawn published the request's metadata */

    rate_row("change_instance_metadata (16 keys)", do_change, &c,
             nxl_bench_n(20, 3), TARGET_CHANGE_PER_S);
    check_view(&c, 0);
    rate_row("publish: 1 transaction of 16 keys", do_publish, &c,
             nxl_bench_n(100, 5), TARGET_PUBLISH_PER_S);
    rate_row("read one key (open handle)", do_read, &c, nxl_bench_n(1000, 20),
             TARGET_READ_PER_S);
    rate_row("read one key (open, read, close)", do_open_read, &c,
             nxl_bench_n(1000, 20), TARGET_READ_PER_S);
    rate_row("directory of 16 keys (open handle)", do_directory, &c,
             nxl_bench_n(1000, 20), TARGET_READ_PER_S);
    two_writers(&c, "2 writers, same domain: publish", 0, nxl_bench_n(500, 20));
    two_writers(&c, "2 writers, two domains: publish", 1, nxl_bench_n(500, 20));
out:
    nxl_xs_close(c.xs);
    nxl_bench_host_close(&h);
    return nxl_bench_finish();
}

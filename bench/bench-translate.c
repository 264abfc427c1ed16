/* bench-translate: a Nova spawn request, as JSON, to libxl's own JSON of
 * the domain, through the code spawn and `novaxl dry-run` use:
 * nxl__spawn_req_from_json (common/json.c) -> nxl__xl_build_config
 * (xl_driver/xl_config.c) -> nxl__xl_config_to_json (libxl's generator),
 * for every request in examples/.
 *
 * Figures: translations per second of each example; the time each of the
 * three steps takes; the heap one translation holds at its peak (request,
 * libxl_domain_config and JSON all alive); the heap left over after N more
 * rounds over all examples (must be 0: no growth). Checks: every example
 * translates, and always to the same JSON, naming its instance's UUID.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "common/json.h"
#include "tests/testutil.h"
#include "xl_driver/xl_config.h"

static const char *const examples[] = {
    "hvm-ephemeral-swap.json", "hvm-file-and-block-volumes.json",
    "hvm-root-disk.json",      "hvm-vnc-spice.json",
    "pv-config-drive.json",    "pv-direct-kernel.json",
    "pv-iscsi-volume.json",    "pv-rbd-volume.json",
    "pv-two-nics-quotas.json", "pvh-direct-kernel.json",
};
#define N_EXAMPLES NXL_ARRAY_SIZE(examples)

/* Nova boots at most a few instances a second per host, but init_host
 * and resume_state_on_host_boot rebuild the config of every instance at
 * once: 1000 of them in a second at most. */
#define TARGET_PER_S 1000.0
/* A host of 1000 instances keeps no config alive between calls, so this
 * is per call in flight: a few at a time. */
#define TARGET_LIVE_BYTES (256 * 1024)

/* The heap figure moves by a few hundred bytes between two points with
 * nothing alive (glibc's bins), whatever the number of translations; a
 * leak grows with it: 20 bytes a translation is 4 KiB over the smoke
 * run's 200 and 200 KiB over a full run's 10000. */
#define GROWTH_SLACK 4096

typedef struct example {
    const char *name;
    char *doc;
    size_t len;
    char *json; /* the first translation's, to compare the others with */
    char uuid[NXL_UUID_STRLEN + 1];
} example;

typedef struct totals {
    uint64_t ns[3]; /* parse, build, to_json */
    size_t n;
    long long peak_live; /* -1: no heap figures */
} totals;

static nxl_host_layout layout;

/* One translation of ex; its JSON in *json_r (malloc'd) or NULL. */
static int translate(const example *ex, totals *t, char **json_r,
                     nxl_error *err)
{
    long long heap0 = t ? nxl_bench_heap_in_use() : -1;
    uint64_t t0 = nxl_bench_now_ns(), t1 = t0, t2 = t0;
    libxl_domain_config cfg;
    bool have_cfg = false;
    nxl_spawn_req req;
    char *json = NULL;
    int rc;

    nxl_spawn_req_init(&req);
    if ((rc = nxl__spawn_req_from_json(ex->doc, ex->len, &req, err)))
        goto out;
    t1 = nxl_bench_now_ns();
    if ((rc = nxl__xl_build_config(&req, &layout, &cfg, err)))
        goto out;
    have_cfg = true;
    t2 = nxl_bench_now_ns();
    if ((rc = nxl__xl_config_to_json(&cfg, &json, err)))
        goto out;
    if (t) {
        uint64_t t3 = nxl_bench_now_ns();
        long long heap1 = nxl_bench_heap_in_use();

        t->ns[0] += t1 - t0;
        t->ns[1] += t2 - t1;
        t->ns[2] += t3 - t2;
        t->n++;
        if (heap0 < 0 || heap1 < 0)
            t->peak_live = -1;
        else if (heap1 - heap0 > t->peak_live)
            t->peak_live = heap1 - heap0;
    }
    *json_r = NXL_STEAL(json);
out:
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    nxl_spawn_req_dispose(&req);
    free(json);
    return rc;
}

/* Translates ex once more and checks the result is the first one's. */
static bool translate_checked(const example *ex, totals *t)
{
    nxl_error err = NXL_ERROR_INIT;
    char *json = NULL;
    int rc = translate(ex, t, &json, &err);

    BENCH_CHECK(rc == 0, "%s: %s", ex->name, nxl_error_message(&err));
    if (rc == 0)
        BENCH_CHECK(strcmp(json, ex->json) == 0,
                    "%s: another translation gave other JSON", ex->name);
    nxl_error_dispose(&err);
    free(json);
    return rc == 0;
}

static bool one(void *opaque)
{
    return translate_checked(opaque, NULL);
}

static bool load(example *ex, const char *name)
{
    char rel[256];
    nxl_spawn_req req;
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    ex->name = name;
    snprintf(rel, sizeof(rel), "examples/%s", name);
    ex->doc = nxl_test_read_src(rel, &ex->len);
    BENCH_CHECK(ex->doc != NULL, "cannot read %s", rel);
    if (!ex->doc)
        return false;
    nxl_spawn_req_init(&req);
    rc = nxl__spawn_req_from_json(ex->doc, ex->len, &req, &err);
    if (rc == 0)
        memcpy(ex->uuid, req.instance.uuid, sizeof(ex->uuid));
    nxl_spawn_req_dispose(&req);
    if (rc == 0)
        rc = translate(ex, NULL, &ex->json, &err);
    BENCH_CHECK(rc == 0, "%s: %s", name, nxl_error_message(&err));
    nxl_error_dispose(&err);
    if (rc)
        return false;
    BENCH_CHECK(strstr(ex->json, "\"c_info\"") && strstr(ex->json, ex->uuid),
                "%s: libxl's JSON lacks c_info or the UUID %s", name, ex->uuid);
    return true;
}

int main(int argc, char **argv)
{
    example ex[N_EXAMPLES];
    totals t = {{0, 0, 0}, 0, 0};
    size_t rounds = 0, n_rounds;
    long long heap0, heap1;
    char what[128], target[64];
    double sum_us = 0;
    bool ok = true;

    memset(ex, 0, sizeof(ex));
    nxl_bench_init(argc, argv, "bench-translate");
    n_rounds = nxl_bench_n(1000, 20);
    nxl_host_layout_init(&layout);
    if (nxl_host_layout_default(&layout) != 0) {
        fprintf(stderr, "host layout: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < N_EXAMPLES; i++)
        ok = load(&ex[i], examples[i]) && ok;
    if (!ok)
        goto out;

    /* Per example: the whole path, back to back. */
    snprintf(target, sizeof(target), ">= %.0f /s", TARGET_PER_S);
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        nxl_bench_rate r = nxl_bench_run(one, &ex[i], 300, 10);

        snprintf(what, sizeof(what), "%s", ex[i].name);
        nxl_bench_row(what, r.per_s, "/s", target, r.per_s >= TARGET_PER_S);
        sum_us += r.us_per_call;
    }
    nxl_bench_row("mean of the examples", 1e6 / (sum_us / N_EXAMPLES), "/s",
                  target, 1e6 / (sum_us / N_EXAMPLES) >= TARGET_PER_S);

    /* Growth: one round to warm up (yajl, libxl and stdio allocate some
     * things once), then N rounds that must leave the heap as it was. */
    for (size_t i = 0; i < N_EXAMPLES; i++)
        translate_checked(&ex[i], NULL);
    heap0 = nxl_bench_heap_in_use();
    for (rounds = 0; rounds < n_rounds; rounds++)
        for (size_t i = 0; i < N_EXAMPLES; i++)
            if (!translate_checked(&ex[i], &t))
                goto out;
    heap1 = nxl_bench_heap_in_use();

    nxl_bench_row("  step: parse (common/json.c)",
                  (double)t.ns[0] / 1e3 / (double)t.n, "us", "", true);
    nxl_bench_row("  step: build (xl_config.c)",
                  (double)t.ns[1] / 1e3 / (double)t.n, "us", "", true);
    nxl_bench_row("  step: libxl JSON (gen_json)",
                  (double)t.ns[2] / 1e3 / (double)t.n, "us", "", true);
    snprintf(target, sizeof(target), "<= %d KiB", TARGET_LIVE_BYTES / 1024);
    if (t.peak_live >= 0)
        nxl_bench_row("heap held by one translation, at peak",
                      (double)t.peak_live / 1024.0, "KiB", target,
                      t.peak_live <= TARGET_LIVE_BYTES);
    else
        nxl_bench_row_text("heap held by one translation, at peak", "n/a",
                           target, true);
    snprintf(what, sizeof(what), "heap growth over %zu translations", t.n);
    snprintf(target, sizeof(target), "none (<= %d bytes)", GROWTH_SLACK);
    if (heap0 >= 0 && heap1 >= 0) {
        nxl_bench_row(what, (double)(heap1 - heap0), "bytes", target,
                      heap1 - heap0 <= GROWTH_SLACK);
        BENCH_CHECK(heap1 - heap0 <= GROWTH_SLACK,
                    "the heap grew by %lld bytes over %zu translations",
                    heap1 - heap0, t.n);
    } else {
        /* valgrind and ASan check for leaks themselves, exactly. */
        nxl_bench_row_text(what, "n/a", target, true);
    }
out:
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        free(ex[i].doc);
        free(ex[i].json);
    }
    nxl_host_layout_dispose(&layout);
    return nxl_bench_finish();
}

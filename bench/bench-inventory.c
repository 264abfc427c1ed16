/* bench-inventory: what Nova's periodic tasks ask of a host, with 10, 100
 * and 1000 instances: list_instances, list_instance_uuids,
 * get_num_instances, get_info and get_per_instance_usage, through the
 * public API, on the libxl driver over the fake hypervisor port. The
 * instances are made by nxl_instance_spawn, so their records, locks and
 * fake domains are the real ones.
 *
 * Figures: microseconds per call and the port calls (calls into libxl)
 * each makes, from the fake's call log. Checks: each method answers for
 * all N instances, and its port calls do not grow with N: the host-wide
 * methods make one call at most (get_num_instances none at all), never one
 * per domain.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

/* Nova's resource tracker and power-state sync run every 60 s and 600 s
 * on one green thread shared with every other periodic task; a host-wide
 * call must not hold it long, even at 1000 instances (bench/README.md). */
#define TARGET_HOST_US 100000.0 /* list_instances, get_per_instance_usage */
#define TARGET_COUNT_US 10000.0 /* list_instance_uuids, get_num_instances */
#define TARGET_INFO_US 1000.0   /* get_info: x N in one power-state sync */

typedef struct inv {
    nxl_bench_host *h;
    size_t n;    /* instances on the host */
    size_t next; /* get_info's next instance */
    bool ok;     /* no call failed */
} inv;

static void report(inv *c, const char *method, int rc, nxl_error *err)
{
    BENCH_CHECK(rc == 0, "%s with %zu instances: %s", method, c->n,
                nxl_error_message(err));
    if (rc)
        c->ok = false;
}

static bool do_list_instances(void *opaque)
{
    inv *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_strv v;
    int rc;

    nxl_strv_init(&v);
    rc = nxl_host_list_instances(c->h->drv, &v, &err);
    report(c, "list_instances", rc, &err);
    if (rc == 0)
        BENCH_CHECK(v.n == c->n && strncmp(v.v[0], "bench-", 6) == 0,
                    "list_instances: %zu names (first '%s'), not %zu", v.n,
                    v.n ? v.v[0] : "", c->n);
    nxl_strv_dispose(&v);
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_list_uuids(void *opaque)
{
    inv *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_strv v;
    int rc;

    nxl_strv_init(&v);
    rc = nxl_host_list_instance_uuids(c->h->drv, &v, &err);
    report(c, "list_instance_uuids", rc, &err);
    if (rc == 0)
        BENCH_CHECK(v.n == c->n, "list_instance_uuids: %zu, not %zu", v.n,
                    c->n);
    nxl_strv_dispose(&v);
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_num_instances(void *opaque)
{
    inv *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    size_t n = 0;
    int rc = nxl_host_get_num_instances(c->h->drv, &n, &err);

    report(c, "get_num_instances", rc, &err);
    if (rc == 0)
        BENCH_CHECK(n == c->n, "get_num_instances: %zu, not %zu", n, c->n);
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_get_info(void *opaque)
{
    inv *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance inst;
    nxl_instance_info info;
    int rc;

    nxl_instance_init(&inst);
    nxl_bench_uuid(inst.uuid, sizeof(inst.uuid), c->next++ % c->n);
    rc = nxl_instance_get_info(c->h->drv, &inst, &info, &err);
    report(c, "get_info", rc, &err);
    if (rc == 0)
        BENCH_CHECK(info.state == NXL_POWER_RUNNING && info.domid > 0,
                    "get_info %s: state %d, domid %d", inst.uuid, info.state,
                    info.domid);
    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    return rc == 0;
}

static bool do_usage(void *opaque)
{
    inv *c = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance_usage_list l;
    int rc;

    nxl_instance_usage_list_init(&l);
    rc = nxl_host_get_per_instance_usage(c->h->drv, &l, &err);
    report(c, "get_per_instance_usage", rc, &err);
    if (rc == 0)
        BENCH_CHECK(l.n == c->n && l.items[0].memory_mb == 128,
                    "get_per_instance_usage: %zu entries, not %zu", l.n, c->n);
    nxl_instance_usage_list_dispose(&l);
    nxl_error_dispose(&err);
    return rc == 0;
}

typedef struct method {
    const char *name;
    nxl_bench_fn *fn;
    size_t max_port_calls; /* per call, whatever N */
    double target_us;
} method;

static const method methods[] = {
    {"list_instances", do_list_instances, 0, TARGET_HOST_US},
    {"list_instance_uuids", do_list_uuids, 0, TARGET_COUNT_US},
    {"get_num_instances", do_num_instances, 0, TARGET_COUNT_US},
    {"get_info", do_get_info, 1, TARGET_INFO_US},
    {"get_per_instance_usage", do_usage, 1, TARGET_HOST_US},
};

/* One call with the call log cleared first: the port calls it makes. */
static size_t port_calls_of(inv *c, const method *m)
{
    nxl__port_fake_calls_reset(c->h->port);
    m->fn(c);
    return nxl_bench_port_calls(c->h);
}

static void measure(inv *c)
{
    char what[96], fig[32], target[64];

    for (size_t i = 0; i < NXL_ARRAY_SIZE(methods); i++) {
        const method *m = &methods[i];
        size_t calls = port_calls_of(c, m);
        nxl_bench_rate r;

        BENCH_CHECK(calls <= m->max_port_calls,
                    "%s with %zu instances: %zu port calls, at most %zu",
                    m->name, c->n, calls, m->max_port_calls);
        r = nxl_bench_run(m->fn, c, 300, 3);
        nxl__port_fake_calls_reset(c->h->port);
        snprintf(what, sizeof(what), "N=%-4zu %s", c->n, m->name);
        snprintf(target, sizeof(target), "<= %.0f us", m->target_us);
        nxl_bench_row(what, r.us_per_call, "us", target,
                      r.us_per_call <= m->target_us);
        snprintf(what, sizeof(what), "N=%-4zu %s: port calls", c->n, m->name);
        snprintf(fig, sizeof(fig), "%zu", calls);
        snprintf(target, sizeof(target), "<= %zu, not N", m->max_port_calls);
        nxl_bench_row_text(what, fig, target, calls <= m->max_port_calls);
    }
    /* Nova's _sync_power_states: one get_info per instance. */
    {
        uint64_t t0 = nxl_bench_now_ns();
        double ms;

        c->next = 0;
        for (size_t i = 0; i < c->n && c->ok; i++)
            do_get_info(c);
        ms = (double)(nxl_bench_now_ns() - t0) / 1e6;
        nxl__port_fake_calls_reset(c->h->port);
        snprintf(what, sizeof(what), "N=%-4zu get_info of every instance",
                 c->n);
        snprintf(target, sizeof(target), "<= %.0f ms",
                 TARGET_INFO_US * (double)c->n / 1000.0);
        nxl_bench_row(what, ms, "ms", target,
                      ms <= TARGET_INFO_US * (double)c->n / 1000.0);
    }
}

int main(int argc, char **argv)
{
    static const size_t full[] = {10, 100, 1000}, smoke[] = {3, 12};
    const size_t *sizes;
    size_t n_sizes;
    nxl_bench_host h;
    inv c = {&h, 0, 0, true};
    char what[96];
    int rc;

    nxl_bench_init(argc, argv, "bench-inventory");
    sizes = nxl_bench_smoke() ? smoke : full;
    n_sizes = nxl_bench_smoke() ? NXL_ARRAY_SIZE(smoke) : NXL_ARRAY_SIZE(full);
    rc = nxl_bench_host_open(&h, true);
    if (rc) {
        nxl_bench_host_close(&h);
        return rc == NXL_TEST_SKIP ? NXL_TEST_SKIP : 1;
    }
    for (size_t s = 0; s < n_sizes && c.ok; s++) {
        uint64_t t0 = nxl_bench_now_ns();
        size_t first = c.n;

        /* Spawn up to this size; the earlier sizes' instances stay. */
        for (; c.n < sizes[s]; c.n++) {
            nxl_error err = NXL_ERROR_INIT;
            int r = nxl_bench_spawn(&h, c.n, NULL, &err);

            BENCH_CHECK(r == 0, "spawn %zu: %s", c.n, nxl_error_message(&err));
            nxl_error_dispose(&err);
            if (r) {
                c.ok = false;
                break;
            }
        }
        if (!c.ok)
            break;
        snprintf(what, sizeof(what), "N=%-4zu spawn (setting up)", c.n);
        nxl_bench_row(what,
                      (double)(nxl_bench_now_ns() - t0) / 1e3 /
                          (double)(c.n - first),
                      "us", "", true);
        nxl__port_fake_calls_reset(h.port);
        measure(&c);
    }
    nxl_bench_host_close(&h);
    return nxl_bench_finish();
}

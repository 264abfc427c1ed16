/* The libxl backend's aggregate members: Nova's aggregate calls mapped
 * onto the state machine of aggregates/agg.h, kept in dom0's xenstore,
 * with an aggregate optionally mapped onto a Xen cpupool on this host.
 *
 * Each call opens its own xenstore connection: the calls are rare (an
 * operator changing aggregates), and a private connection keeps them
 * independent of init_host, which must not be needed to record that this
 * host joined an aggregate.
 *
 * cpupools. Metadata key NXL_XL_AGG_POOL_KEY ("xen_cpupool") names a
 * cpupool; NXL_XL_AGG_POOL_CPUS_KEY ("xen_cpupool_cpus", "1" or "2-3,5")
 * says which physical CPUs it gets when this driver has to create it.
 * When THIS host joins (host == drv->host), the apply step makes sure the
 * pool exists: an existing pool of that name is used as it is (with its
 * CPUs checked against xen_cpupool_cpus when given); otherwise the CPUs
 * are taken from Pool-0 (or must be free) and the pool is created, and a
 * dom0-only marker (NXL_XL_POOL_XS_ROOT) remembers that we made it. When
 * it leaves, a pool we made is destroyed and its CPUs go back to Pool-0;
 * an operator's pool is left alone. A pool that still runs domains is
 * never destroyed: the op fails, the aggregate goes to `error` with the
 * reason, and undo (which re-runs the join) settles it. New instances of
 * the aggregate are put in the pool at creation (nxl__xl_aggregate_place,
 * rule in xl_config.h).
 *
 * Events. Every transition an op records (history entries newer than the
 * op's start) goes to the driver's listener as an nxl_aggregate_event.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregates/agg.h"
#include "common/json.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_host.h"
#include "xenstore/xs.h"

typedef struct pool_spec {
    const char *name; /* NULL: the aggregate maps onto no pool */
    bool have_cpus;
    uint8_t cpus[NXL_PORT_MAX_CPUS / 8];
} pool_spec;

static bool pool_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NXL_PORT_POOL_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* "1", "2-3,5": CPU numbers below NXL_PORT_MAX_CPUS, ranges ascending. */
static int parse_cpus(const char *s, uint8_t *map)
{
    const char *p = s;

    memset(map, 0, NXL_PORT_MAX_CPUS / 8);
    if (!*p)
        return -1;
    for (;;) {
        unsigned long a, b;
        char *end;

        if (*p < '0' || *p > '9')
            return -1;
        errno = 0;
        a = strtoul(p, &end, 10);
        b = a;
        if (errno || end == p)
            return -1;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9')
                return -1;
            b = strtoul(p, &end, 10);
            if (errno || end == p)
                return -1;
            p = end;
        }
        if (a > b || b >= NXL_PORT_MAX_CPUS)
            return -1;
        for (unsigned long c = a; c <= b; c++)
            nxl__port_cpumap_set(map, (uint32_t)c);
        if (!*p)
            return 0;
        if (*p != ',')
            return -1;
        p++;
    }
}

/* The pool agg maps onto, from its metadata; NXL_E_INVAL naming the key
 * when a value is malformed. */
static int pool_spec_of(const nxl_aggregate *agg, pool_spec *ps, nxl_error *err)
{
    const char *cpus = nxl_kvlist_get(&agg->metadata, NXL_XL_AGG_POOL_CPUS_KEY);
    char q[80];

    memset(ps, 0, sizeof(*ps));
    ps->name = nxl_kvlist_get(&agg->metadata, NXL_XL_AGG_POOL_KEY);
    if (!ps->name) {
        if (cpus)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "aggregate.metadata." NXL_XL_AGG_POOL_CPUS_KEY
                                 ": set without " NXL_XL_AGG_POOL_KEY);
        return 0;
    }
    if (!pool_name_ok(ps->name) || strcmp(ps->name, "Pool-0") == 0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "aggregate.metadata." NXL_XL_AGG_POOL_KEY
                             ": %s is not a cpupool name this driver "
                             "manages (1..%d of [A-Za-z0-9._-], not Pool-0)",
                             nxl__quote(q, sizeof(q), ps->name),
                             NXL_PORT_POOL_NAME_MAX);
    if (cpus) {
        if (parse_cpus(cpus, ps->cpus) < 0)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "aggregate.metadata." NXL_XL_AGG_POOL_CPUS_KEY
                                 ": %s is not a CPU list such as 1 or 2-3,5",
                                 nxl__quote(q, sizeof(q), cpus));
        ps->have_cpus = true;
    }
    return 0;
}

/* ---- the "we created it" markers ----------------------------------------- */

static int marker_path(const char *name, char *path, size_t size)
{
    char key[NXL_XS_KEY_MAX + 1];

    nxl_agg_key_encode(name, key);
    return snprintf(path, size, "%s/%s", NXL_XL_POOL_XS_ROOT, key) < (int)size
               ? 0
               : -1;
}

static int marker_read(nxl_xs *xs, const char *name, bool *ours_r,
                       nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    nxl_error e = NXL_ERROR_INIT;
    char *v = NULL;
    int rc;

    *ours_r = false;
    if (marker_path(name, path, sizeof(path)) < 0)
        return nxl_error_set(err, NXL_E_INVAL, "cpupool marker path too long");
    rc = nxl_xs_read_bounded(xs, XBT_NULL, path, NXL_PORT_POOL_NAME_MAX + 1, &v,
                             NULL, &e);
    if (rc == NXL_E_NOT_FOUND)
        rc = 0;
    else if (rc < 0)
        nxl_error_set(err, e.code, "%s", nxl_error_message(&e));
    else
        *ours_r = strcmp(v, name) == 0;
    nxl_error_dispose(&e);
    free(v);
    return rc;
}

static int marker_write(nxl_xs *xs, const char *name, bool ours, nxl_error *err)
{
    char path[NXL_XS_PATH_MAX + 1];
    nxl_xs_perms perms;
    int rc;

    if (marker_path(name, path, sizeof(path)) < 0)
        return nxl_error_set(err, NXL_E_INVAL, "cpupool marker path too long");
    if (!ours)
        return nxl_xs_rm(xs, XBT_NULL, path, err);
    nxl_xs_perms_init(&perms);
    perms.owner = 0;
    perms.others = NXL_XS_ACCESS_NONE;
    if ((rc = nxl_xs_mkdir(xs, XBT_NULL, NXL_XL_POOL_XS_ROOT, err)) == 0 &&
        (rc = nxl_xs_set_perms(xs, XBT_NULL, NXL_XL_POOL_XS_ROOT, &perms,
                               err)) == 0)
        rc = nxl_xs_write_str(xs, XBT_NULL, path, name, err);
    nxl_xs_perms_dispose(&perms);
    return rc;
}

/* ---- the apply step ------------------------------------------------------ */

typedef struct apply_ctx {
    nxl_driver *drv;
    nxl_xs *xs;
} apply_ctx;

static const nxl_port_cpupool *find_pool(const nxl_port_cpupool *pools,
                                         size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(pools[i].name, name) == 0)
            return &pools[i];
    return NULL;
}

static const nxl_port_cpupool *pool_of_cpu(const nxl_port_cpupool *pools,
                                           size_t n, uint32_t cpu)
{
    for (size_t i = 0; i < n; i++)
        if (nxl__port_cpumap_test(pools[i].cpumap, cpu))
            return &pools[i];
    return NULL;
}

/* Checks that ps can be created now: its CPUs exist and are free or in
 * Pool-0, and Pool-0 keeps at least one CPU (Domain-0 runs there). */
static int pool_check_new(const pool_spec *ps, const nxl_port_cpupool *pools,
                          size_t n, uint32_t nr_cpus, nxl_error *err)
{
    uint32_t taken0 = 0, in0 = 0;

    if (!ps->have_cpus)
        return nxl_error_set(err, NXL_E_INVAL,
                             "aggregate.metadata." NXL_XL_AGG_POOL_CPUS_KEY
                             ": cpupool '%s' does not exist on this host, "
                             "so say which CPUs it gets",
                             ps->name);
    for (uint32_t cpu = 0; cpu < NXL_PORT_MAX_CPUS; cpu++) {
        const nxl_port_cpupool *owner = pool_of_cpu(pools, n, cpu);

        if (owner && owner->poolid == 0)
            in0++;
        if (!nxl__port_cpumap_test(ps->cpus, cpu))
            continue;
        if (cpu >= nr_cpus)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "aggregate.metadata." NXL_XL_AGG_POOL_CPUS_KEY
                                 ": CPU %u is not on this host (%u CPUs)",
                                 cpu, nr_cpus);
        if (owner && owner->poolid != 0)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "aggregate.metadata." NXL_XL_AGG_POOL_CPUS_KEY
                                 ": CPU %u belongs to cpupool '%s'",
                                 cpu, owner->name);
        if (owner)
            taken0++;
    }
    if (in0 > 0 && taken0 >= in0)
        return nxl_error_set(err, NXL_E_INVAL,
                             "aggregate.metadata." NXL_XL_AGG_POOL_CPUS_KEY
                             ": would take every CPU of Pool-0, where "
                             "Domain-0 runs");
    return 0;
}

static int list_pools(nxl_port *port, nxl_port_cpupool **pools_r, size_t *n_r,
                      uint32_t *nr_cpus_r, nxl_error *err)
{
    nxl_port_hostinfo hi;
    int rc;

    if ((rc = port->ops->host_info(port, &hi, err)) < 0)
        return rc;
    *nr_cpus_r = hi.nr_cpus;
    return port->ops->cpupool_list(port, pools_r, n_r, err);
}

/* Join: the pool exists afterwards (made by us if it did not). */
static int pool_ensure(apply_ctx *c, nxl_port *port, const pool_spec *ps,
                       nxl_error *err)
{
    nxl_port_cpupool *pools = NULL;
    const nxl_port_cpupool *have;
    uint32_t nr_cpus = 0, poolid = 0, cpu;
    size_t n = 0;
    int rc;

    if ((rc = list_pools(port, &pools, &n, &nr_cpus, err)) < 0)
        goto out;
    if ((have = find_pool(pools, n, ps->name))) {
        if (ps->have_cpus &&
            memcmp(have->cpumap, ps->cpus, sizeof(ps->cpus)) != 0)
            rc = nxl_error_set(err, NXL_E_CONFLICT,
                               "cpupool '%s' exists with other CPUs "
                               "than " NXL_XL_AGG_POOL_CPUS_KEY " says",
                               ps->name);
        goto out; /* already there: an operator's, or ours from before */
    }
    if ((rc = pool_check_new(ps, pools, n, nr_cpus, err)) < 0)
        goto out;
    for (cpu = 0; cpu < nr_cpus; cpu++) {
        const nxl_port_cpupool *owner = pool_of_cpu(pools, n, cpu);

        if (nxl__port_cpumap_test(ps->cpus, cpu) && owner &&
            (rc = port->ops->cpupool_cpu_remove(port, 0, cpu, err)) < 0)
            goto give_back;
    }
    if ((rc = port->ops->cpupool_create(port, ps->name, ps->cpus, &poolid,
                                        err)) < 0)
        goto give_back;
    /* Without the marker the pool would outlive the aggregate: an
     * operator's pool is never destroyed. */
    if ((rc = marker_write(c->xs, ps->name, true, err)) < 0)
        goto out;
    nxl__debug("cpupool '%s' created as pool %u", ps->name, poolid);
    goto out;
give_back:
    /* Best effort: what we took from Pool-0 goes back. */
    while (cpu-- > 0)
        if (nxl__port_cpumap_test(ps->cpus, cpu) && pool_of_cpu(pools, n, cpu))
            port->ops->cpupool_cpu_add(port, 0, cpu, NULL);
out:
    free(pools);
    return rc;
}

/* Leave: a pool we made goes, its CPUs back to Pool-0. */
static int pool_release(apply_ctx *c, nxl_port *port, const pool_spec *ps,
                        nxl_error *err)
{
    nxl_port_cpupool *pools = NULL;
    const nxl_port_cpupool *have;
    uint8_t cpus[NXL_PORT_MAX_CPUS / 8];
    uint32_t nr_cpus = 0, poolid;
    size_t n = 0;
    bool ours = false;
    int rc;

    if ((rc = marker_read(c->xs, ps->name, &ours, err)) < 0 ||
        (rc = list_pools(port, &pools, &n, &nr_cpus, err)) < 0)
        goto out;
    have = find_pool(pools, n, ps->name);
    if (!have) {
        rc = ours ? marker_write(c->xs, ps->name, false, err) : 0;
        goto out;
    }
    if (have->n_domains > 0) {
        rc = nxl_error_set(err, NXL_E_DENIED,
                           "cpupool '%s' still runs %u domain%s: stop or "
                           "move them, then undo_aggregate_operation",
                           ps->name, have->n_domains,
                           have->n_domains == 1 ? "" : "s");
        goto out;
    }
    if (!ours)
        goto out; /* the operator's pool: theirs to remove */
    poolid = have->poolid;
    memcpy(cpus, have->cpumap, sizeof(cpus));
    if ((rc = port->ops->cpupool_destroy(port, poolid, err)) < 0)
        goto out;
    for (uint32_t cpu = 0; cpu < nr_cpus; cpu++)
        if (nxl__port_cpumap_test(cpus, cpu) &&
            (rc = port->ops->cpupool_cpu_add(port, 0, cpu, err)) < 0)
            goto out;
    rc = marker_write(c->xs, ps->name, false, err);
out:
    free(pools);
    return rc;
}

static int pool_apply(void *opaque, const char *op, const nxl_aggregate *agg,
                      const char *host, nxl_error *err)
{
    apply_ctx *c = opaque;
    nxl_port *port = NULL;
    pool_spec ps;
    int rc;

    /* Each host manages its own pools when nova tells it it joined. */
    if ((rc = pool_spec_of(agg, &ps, err)) < 0 || !ps.name ||
        strcmp(host, c->drv->host) != 0)
        return rc;
    if ((rc = nxl__xl_host_require_port(c->drv, op, &port, err)) < 0)
        return rc;
    return strcmp(op, "add_to_aggregate") == 0
               ? pool_ensure(c, port, &ps, err)
               : pool_release(c, port, &ps, err);
}

/* Refuses, before anything is written, a join whose pool cannot be made
 * (bad metadata, CPUs that are not there or not free). */
static int precheck_join(nxl_driver *drv, const nxl_aggregate *agg,
                         const char *host, nxl_error *err)
{
    nxl_port_cpupool *pools = NULL;
    nxl_port *port = NULL;
    uint32_t nr_cpus = 0;
    pool_spec ps;
    size_t n = 0;
    int rc;

    if ((rc = pool_spec_of(agg, &ps, err)) < 0 || !ps.name ||
        strcmp(host, drv->host) != 0)
        return rc;
    if ((rc = nxl__xl_host_require_port(drv, "add_to_aggregate", &port, err)) <
            0 ||
        (rc = list_pools(port, &pools, &n, &nr_cpus, err)) < 0)
        goto out;
    if (!find_pool(pools, n, ps.name))
        rc = pool_check_new(&ps, pools, n, nr_cpus, err);
out:
    free(pools);
    return rc;
}

/* ---- events -------------------------------------------------------------- */

static uint64_t seq_now(nxl_xs *xs, int64_t id)
{
    nxl_agg_record r;
    uint64_t seq = 0;

    nxl_agg_record_init(&r);
    if (nxl_agg_get(xs, NXL_AGG_XS_ROOT, id, &r, NULL) == 0)
        seq = r.seq;
    nxl_agg_record_dispose(&r);
    return seq;
}

/* Hands every transition after seq `since` to the listener, in order. */
static void emit_since(nxl_driver *drv, nxl_xs *xs, int64_t id, uint64_t since)
{
    nxl_agg_record r;

    nxl_agg_record_init(&r);
    if (nxl_agg_get(xs, NXL_AGG_XS_ROOT, id, &r, NULL) == 0) {
        for (size_t i = 0; i < r.n_history; i++) {
            const nxl_agg_transition *tr = &r.history[i];
            nxl_aggregate_event ae;

            if (tr->seq <= since)
                continue;
            memset(&ae, 0, sizeof(ae));
            ae.base.transition = NXL_EVENT_AGGREGATE;
            ae.base.timestamp_us = tr->time * 1000000;
            ae.aggregate_id = id;
            ae.aggregate_name = r.name ? r.name : "";
            ae.from_state = nxl_agg_state_name(tr->from);
            ae.to_state = nxl_agg_state_name(tr->to);
            ae.op = tr->op ? tr->op : "";
            ae.host = tr->host ? tr->host : "";
            ae.reason = tr->reason ? tr->reason : "";
            ae.seq = tr->seq;
            nxl__driver_emit_event(drv, &ae.base, NULL);
        }
    }
    nxl_agg_record_dispose(&r);
}

/* ---- the members --------------------------------------------------------- */

typedef enum agg_call { CALL_ADD, CALL_REMOVE, CALL_UNDO } agg_call;

static int run(nxl_driver *drv, agg_call call, const char *op,
               const nxl_aggregate *agg, const char *host, bool set_error,
               nxl_error *err)
{
    apply_ctx c = {.drv = drv};
    pool_spec ps;
    uint64_t since;
    int rc;

    /* Bad pool metadata is bad input whichever the call: refused before
     * the state machine records anything. */
    if ((rc = nxl_agg_validate(agg, host, err)) < 0 ||
        (rc = pool_spec_of(agg, &ps, err)) < 0 ||
        (call == CALL_ADD && (rc = precheck_join(drv, agg, host, err)) < 0) ||
        (rc = nxl_xs_open(&c.xs, err)) < 0)
        return rc;
    since = seq_now(c.xs, agg->id);
    switch (call) {
    case CALL_ADD:
        rc = nxl_agg_add_host(c.xs, NXL_AGG_XS_ROOT, agg, host, pool_apply, &c,
                              err);
        break;
    case CALL_REMOVE:
        rc = nxl_agg_remove_host(c.xs, NXL_AGG_XS_ROOT, agg, host, pool_apply,
                                 &c, err);
        break;
    case CALL_UNDO:
        rc = nxl_agg_undo(c.xs, NXL_AGG_XS_ROOT, op, agg, host, set_error,
                          pool_apply, &c, err);
        break;
    }
    /* Failed ops record transitions too (to error): report them all. */
    emit_since(drv, c.xs, agg->id, since);
    nxl_xs_close(c.xs);
    return rc;
}

int nxl_xl_add_to_aggregate(nxl_driver *drv, const nxl_aggregate *agg,
                            const char *host, const char *kwargs_json,
                            nxl_error *err)
{
    /* kwargs (xenapi's slave_info) carries nothing a libxl host uses. */
    return run(drv, CALL_ADD, NULL, agg, host, false, err);
}

int nxl_xl_remove_from_aggregate(nxl_driver *drv, const nxl_aggregate *agg,
                                 const char *host, const char *kwargs_json,
                                 nxl_error *err)
{
    return run(drv, CALL_REMOVE, NULL, agg, host, false, err);
}

int nxl_xl_undo_aggregate_operation(nxl_driver *drv, const char *op,
                                    const nxl_aggregate *agg, const char *host,
                                    bool set_error, nxl_error *err)
{
    return run(drv, CALL_UNDO, op, agg, host, set_error, err);
}

/* ---- placement
 * ---------------------------------------------------------------- */

static bool has_scoped_spec(const nxl_kvlist *specs)
{
    size_t plen = strlen(NXL_XL_AGG_SPEC_PREFIX);

    for (size_t i = 0; i < specs->n; i++)
        if (strncmp(specs->items[i].key, NXL_XL_AGG_SPEC_PREFIX, plen) == 0)
            return true;
    return false;
}

int nxl__xl_aggregate_place(nxl_driver *drv, const nxl_spawn_req *req,
                            libxl_domain_config *cfg, nxl_error *err)
{
    nxl_xl_pool_candidate *cands = NULL;
    nxl_agg_record *recs = NULL;
    nxl_port_cpupool *pools = NULL;
    nxl_port *port = NULL;
    nxl_strv ids;
    nxl_xs *xs = NULL;
    size_t n_recs = 0, n_cands = 0, n_pools = 0;
    uint32_t nr_cpus = 0;
    int rc;

    nxl_strv_init(&ids);
    /* Most flavors name no aggregate: no xenstore round trip for them. */
    if (!has_scoped_spec(&req->instance.flavor.extra_specs))
        return 0;
    if ((rc = nxl_xs_open(&xs, err)) < 0 ||
        (rc = nxl_agg_list(xs, NXL_AGG_XS_ROOT, &ids, err)) < 0)
        goto out;
    recs = calloc(ids.n ? ids.n : 1, sizeof(*recs));
    cands = calloc(ids.n ? ids.n : 1, sizeof(*cands));
    if (!recs || !cands) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "place: out of memory");
        goto out;
    }
    for (size_t i = 0; i < ids.n; i++) {
        nxl_agg_record *r = &recs[n_recs];
        const char *pool;
        char *end;
        long long id;
        bool member = false;

        errno = 0;
        id = strtoll(ids.v[i], &end, 10);
        if (errno || *end || end == ids.v[i])
            continue; /* not one of ours */
        nxl_agg_record_init(r);
        if (nxl_agg_get(xs, NXL_AGG_XS_ROOT, id, r, NULL) < 0)
            continue;
        n_recs++;
        for (size_t h = 0; h < r->hosts.n; h++)
            member |= strcmp(r->hosts.v[h], drv->host) == 0;
        pool = nxl_kvlist_get(&r->metadata, NXL_XL_AGG_POOL_KEY);
        /* Only a settled membership places: while it changes or is in
         * error, the pool may be half made. */
        if (!member || !pool || r->state != NXL_AGG_ACTIVE)
            continue;
        cands[n_cands].aggregate = r->name ? r->name : ids.v[i];
        cands[n_cands].metadata = &r->metadata;
        cands[n_cands].pool_name = pool;
        n_cands++;
    }
    if (n_cands > 0) {
        if ((rc = nxl__xl_host_require_port(drv, "spawn", &port, err)) < 0 ||
            (rc = list_pools(port, &pools, &n_pools, &nr_cpus, err)) < 0)
            goto out;
        for (size_t i = 0; i < n_cands; i++) {
            const nxl_port_cpupool *p =
                find_pool(pools, n_pools, cands[i].pool_name);

            cands[i].exists = p != NULL;
            cands[i].poolid = p ? p->poolid : 0;
        }
    }
    rc = nxl__xl_config_place(req, cands, n_cands, cfg, err);
out:
    for (size_t i = 0; i < n_recs; i++)
        nxl_agg_record_dispose(&recs[i]);
    free(recs);
    free(cands);
    free(pools);
    nxl_strv_dispose(&ids);
    nxl_xs_close(xs);
    return rc;
}

/* ---- the operator's view ------------------------------------------------ */

int nxl_xl_aggregate_record(nxl_driver *drv, int64_t id, char **json_r,
                            nxl_error *err)
{
    nxl_agg_record r;
    nxl_xs *xs = NULL;
    nxl_jw *w;
    int rc;

    (void)drv;
    nxl_agg_record_init(&r);
    if ((rc = nxl_xs_open(&xs, err)) < 0)
        return rc;
    rc = nxl_agg_get(xs, NXL_AGG_XS_ROOT, id, &r, err);
    nxl_xs_close(xs);
    if (rc < 0)
        goto out;
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    nxl__jw_kv_int(w, "id", r.id);
    nxl__jw_kv_string(w, "name", r.name);
    nxl__jw_kv_string(w, "availability_zone", r.availability_zone);
    nxl__jw_kv_string(w, "state", nxl_agg_state_name(r.state));
    nxl__jw_kv_int(w, "since", r.since);
    nxl__jw_kv_string(w, "op", r.op);
    nxl__jw_kv_string(w, "op_host", r.op_host);
    nxl__jw_key(w, "hosts");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < r.hosts.n; i++)
        nxl__jw_string(w, r.hosts.v[i]);
    nxl__jw_array_close(w);
    nxl__jw_key(w, "metadata");
    nxl__jw_object_open(w);
    for (size_t i = 0; i < r.metadata.n; i++)
        nxl__jw_kv_string(w, r.metadata.items[i].key,
                          r.metadata.items[i].value);
    nxl__jw_object_close(w);
    nxl__jw_key(w, "transitions");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < r.n_history; i++) {
        const nxl_agg_transition *t = &r.history[i];

        nxl__jw_object_open(w);
        nxl__jw_kv_uint(w, "seq", t->seq);
        nxl__jw_kv_int(w, "time", t->time);
        nxl__jw_kv_string(w, "from", nxl_agg_state_name(t->from));
        nxl__jw_kv_string(w, "to", nxl_agg_state_name(t->to));
        nxl__jw_kv_string(w, "op", t->op);
        nxl__jw_kv_string(w, "host", t->host);
        nxl__jw_kv_string(w, "reason", t->reason);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
    nxl__jw_object_close(w);
    rc = nxl__jw_finish(w, json_r, err);
    nxl__jw_free(w);
out:
    nxl_agg_record_dispose(&r);
    return rc;
}

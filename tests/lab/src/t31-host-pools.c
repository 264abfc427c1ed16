/* Lab test: whole-host CPU stats, the NUMA layout and an aggregate mapped
 * onto a Xen cpupool, on real Xen in the lab's dom0 (exit 0 pass, 1 fail,
 * 77 skip off dom0).
 *
 * 1. get_host_cpu_stats twice a second apart: idle (Xen's per-pCPU idle
 *    time, summed) grows, by no more than every pCPU idling the whole
 *    time; kernel + user + idle is about nr_cpus * uptime; frequency is
 *    `xl info`'s cpu_mhz.
 * 2. get_available_resource's numa_topology against `xl info -n`: one
 *    cell per node, its cpuset the CPUs `cpu_topology` puts on it, its
 *    memory the node's memsize.
 * 3. An aggregate with xen_cpupool=nxl-lab-pool and xen_cpupool_cpus=1:
 *    add_to_aggregate moves CPU 1 out of Pool-0 into the new pool (`xl
 *    cpupool-list -c`), the listener sees none->created->changing->active.
 *    An instance whose flavor names the aggregate
 *    (aggregate_instance_extra_specs:tier=lab) is spawned in the pool
 *    (`xl list -c`) and boots there. remove_from_aggregate while it runs
 *    fails (the pool has a domain): error, with the reason in the event;
 *    after destroy, undo settles it to active, and a second remove
 *    destroys the pool and gives CPU 1 back to Pool-0.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xenstore/xs.h"

#define POOL "nxl-lab-pool"
#define AGG_ID 9031
#define AGG_PATH "/local/domain/0/novaxl/aggregates/9031"
#define BOOT_BOUND_S 100

#define check nxl_lab_check
#define ok_call nxl_lab_ok_call

/* ---- `xl` output --------------------------------------------------------- */

/* The whole stdout of cmd (bounded), or "" when it cannot run. */
static void run_out(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    size_t n = 0;

    out[0] = '\0';
    if (!p)
        return;
    n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    pclose(p);
}

/* The value of "key : value" in `xl info` text. */
static bool info_field(const char *text, const char *key, char *val,
                       size_t size)
{
    size_t klen = strlen(key);

    for (const char *l = text; l && *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *colon = strchr(l, ':');

        if (strncmp(l, key, klen) == 0 && colon &&
            strspn(l + klen, " \t") == (size_t)(colon - l - klen)) {
            const char *v = colon + 1 + strspn(colon + 1, " \t");

            snprintf(val, size, "%.*s", (int)strcspn(v, "\n"), v);
            return true;
        }
    }
    return false;
}

/* The line of `xl cpupool-list -c` (or `xl list -c`) starting with name;
 * "" when none. */
static void line_of(const char *text, const char *name, char *line, size_t size)
{
    size_t nl = strlen(name);

    line[0] = '\0';
    for (const char *l = text; l && *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, name, nl) == 0 && (l[nl] == ' ' || l[nl] == '\t')) {
            snprintf(line, size, "%.*s", (int)strcspn(l, "\n"), l);
            return;
        }
}

/* The CPU list column of a `xl cpupool-list -c` line ("1", "0-1",
 * "all"...). */
static const char *cpus_of(const char *line)
{
    const char *p = line + strcspn(line, " \t");

    return p + strspn(p, " \t");
}

/* ---- events
 * ------------------------------------------------------------------- */

static char events[4096];

static void listener(void *opaque, const nxl_event *ev)
{
    const nxl_aggregate_event *ae = nxl_event_aggregate(ev);
    size_t len = strlen(events);

    (void)opaque;
    if (!ae || ae->aggregate_id != AGG_ID)
        return;
    printf("     event: %s -> %s (%s) %s\n", ae->from_state, ae->to_state,
           ae->op, ae->reason);
    snprintf(events + len, sizeof(events) - len, "%s->%s|%s\n", ae->from_state,
             ae->to_state, ae->reason);
}

/* ---- 1. CPU stats
 * ---------------------------------------------------------------- */

static void cpu_stats(nxl_driver *drv, const char *info)
{
    nxl_host_cpu_stats a, b;
    nxl_error err = NXL_ERROR_INIT;
    char mhz[32] = "", cpus[32] = "", up[64] = "";
    double t0, t1, uptime = 0;
    unsigned long ncpu;
    FILE *f;

    if (!check(info_field(info, "cpu_mhz", mhz, sizeof(mhz)) &&
                   info_field(info, "nr_cpus", cpus, sizeof(cpus)),
               "xl info: cpu_mhz %s, nr_cpus %s", mhz, cpus))
        return;
    ncpu = strtoul(cpus, NULL, 10);
    t0 = nxl_lab_now();
    if (!ok_call(nxl_host_get_cpu_stats(drv, &a, &err), &err,
                 "get_host_cpu_stats"))
        return;
    sleep(1);
    if (!ok_call(nxl_host_get_cpu_stats(drv, &b, &err), &err,
                 "get_host_cpu_stats again"))
        return;
    t1 = nxl_lab_now();
    check(b.idle > a.idle, "idle grew by %.3f s over %.3f s (%lu pCPUs)",
          (double)(b.idle - a.idle) / 1e9, t1 - t0, ncpu);
    /* Xen counts idle per pCPU: all of them idling is the ceiling. */
    check((double)(b.idle - a.idle) <= (t1 - t0) * 1e9 * (double)ncpu * 1.05,
          "idle growth within %lu pCPUs * elapsed", ncpu);
    check(b.frequency > 0 && b.frequency == strtoull(mhz, NULL, 10),
          "frequency %llu MHz == xl info cpu_mhz %s",
          (unsigned long long)b.frequency, mhz);
    f = fopen("/proc/uptime", "r");
    if (f && fgets(up, sizeof(up), f))
        uptime = strtod(up, NULL);
    if (f)
        fclose(f);
    /* The total is built from dom0's uptime; Xen idled a little before
     * dom0 started, which only shrinks busy. */
    check(uptime > 0 &&
              (double)(b.kernel + b.user + b.idle) / 1e9 >=
                  uptime * (double)ncpu * 0.95 &&
              b.kernel + b.user + b.idle > b.idle,
          "kernel %.1f + user %.1f + idle %.1f s ~ %lu * uptime %.1f s",
          (double)b.kernel / 1e9, (double)b.user / 1e9, (double)b.idle / 1e9,
          ncpu, uptime);
}

/* ---- 2. numa_topology
 * ------------------------------------------------------------- */

/* Parses `xl info -n`: cpu -> node, node -> memsize (MB). */
static int xl_numa(const char *text, int *cpu_node, int max_cpus,
                   unsigned long long *memsize, int max_nodes, int *ncpu_r)
{
    const char *topo = strstr(text, "cpu_topology"), *numa;
    int nnodes = 0, ncpu = 0;

    numa = strstr(text, "numa_info");
    if (!topo || !numa)
        return -1;
    for (const char *l = strchr(topo, '\n'); l && l < numa;
         l = strchr(l + 1, '\n')) {
        int cpu, core, socket, node;

        if (sscanf(l + 1, " %d: %d %d %d", &cpu, &core, &socket, &node) == 4 &&
            cpu >= 0 && cpu < max_cpus) {
            cpu_node[cpu] = node;
            ncpu = cpu + 1 > ncpu ? cpu + 1 : ncpu;
        }
    }
    for (const char *l = strchr(numa, '\n'); l; l = strchr(l + 1, '\n')) {
        int node;
        unsigned long long size, free_mb;

        if (sscanf(l + 1, " %d: %llu %llu", &node, &size, &free_mb) == 3 &&
            node >= 0 && node < max_nodes) {
            memsize[node] = size;
            nnodes = node + 1 > nnodes ? node + 1 : nnodes;
        }
    }
    *ncpu_r = ncpu;
    return nnodes;
}

static void numa(nxl_driver *drv)
{
    static char text[16384];
    int cpu_node[64], ncpu = 0, nnodes;
    unsigned long long memsize[8] = {0};
    nxl_host_resources r;
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const nxl_json *cells;

    memset(cpu_node, -1, sizeof(cpu_node));
    run_out("xl info -n 2>/dev/null", text, sizeof(text));
    nnodes = xl_numa(text, cpu_node, 64, memsize, 8, &ncpu);
    if (!check(nnodes > 0 && ncpu > 0, "xl info -n: %d node(s), %d CPU(s)",
               nnodes, ncpu))
        return;
    nxl_host_resources_init(&r);
    if (!ok_call(nxl_host_get_available_resource(drv, NULL, &r, &err), &err,
                 "get_available_resource"))
        return;
    printf("     numa_topology: %s\n", r.numa_topology ? r.numa_topology : "");
    if (!check(r.numa_topology &&
                   nxl__json_parse(r.numa_topology, strlen(r.numa_topology), 0,
                                   &root, NULL) == 0,
               "numa_topology is JSON"))
        goto out;
    cells = nxl__json_get(nxl__json_get(root, "nova_object.data"), "cells");
    check((int)nxl__json_len(cells) == nnodes, "%zu cell(s), %d node(s)",
          nxl__json_len(cells), nnodes);
    for (size_t i = 0; i < nxl__json_len(cells); i++) {
        const nxl_json *d =
            nxl__json_get(nxl__json_at(cells, i), "nova_object.data");
        const nxl_json *set = nxl__json_get(d, "cpuset");
        long long id = -1, mem = -1, c;
        char got[256] = "", want[256] = "";

        nxl__json_integer(nxl__json_get(d, "id"), &id);
        nxl__json_integer(nxl__json_get(d, "memory"), &mem);
        for (size_t k = 0; k < nxl__json_len(set); k++)
            if (nxl__json_integer(nxl__json_at(set, k), &c))
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%lld ",
                         c);
        for (int cpu = 0; cpu < ncpu; cpu++)
            if (cpu_node[cpu] == id)
                snprintf(want + strlen(want), sizeof(want) - strlen(want),
                         "%d ", cpu);
        check(id >= 0 && id < 8 && strcmp(got, want) == 0,
              "cell %lld cpuset [%s] == xl info -n [%s]", id, got, want);
        check(id >= 0 && id < 8 && (unsigned long long)mem == memsize[id],
              "cell %lld memory %lld MiB == memsize %llu", id, mem,
              id >= 0 && id < 8 ? memsize[id] : 0);
    }
out:
    nxl__json_free(root);
    nxl_host_resources_dispose(&r);
}

/* ---- 3. an aggregate on a cpupool
 * ----------------------------------------------- */

/* Leftovers of an earlier, failed run: the record and the pool. */
static void clean_pool(nxl_xs *xs)
{
    nxl_xs_rm(xs, XBT_NULL, AGG_PATH, NULL);
    nxl_xs_rm(xs, XBT_NULL, "/local/domain/0/novaxl/cpupools/" POOL, NULL);
    if (system("xl cpupool-list 2>/dev/null | grep -q '^" POOL " '") == 0) {
        printf("     removing a leftover %s\n", POOL);
        if (system("xl cpupool-destroy " POOL " >/dev/null 2>&1; "
                   "xl cpupool-cpu-add Pool-0 1 >/dev/null 2>&1") != 0)
            printf("     (cleanup reported an error)\n");
    }
}

static void pools(nxl_driver *drv, nxl_xs *xs, const nxl_lab_env *env,
                  nxl_spawn_req *req)
{
    static char text[8192];
    char line[512], log[1024];
    nxl_instance *inst = &req->instance;
    nxl_error err = NXL_ERROR_INIT;
    nxl_aggregate agg;
    bool spawned = false;
    int boots, rc;

    nxl_aggregate_init(&agg);
    agg.id = AGG_ID;
    agg.name = strdup("lab-pool");
    nxl_kvlist_set(&agg.metadata, "xen_cpupool", POOL);
    nxl_kvlist_set(&agg.metadata, "xen_cpupool_cpus", "1");
    nxl_kvlist_set(&agg.metadata, "tier", "lab");

    events[0] = '\0';
    if (!ok_call(nxl_aggregate_add_host(drv, &agg, "lab", NULL, &err), &err,
                 "add_to_aggregate (xen_cpupool " POOL ", CPU 1)"))
        goto out;
    check(strstr(events, "none->created|") &&
              strstr(events, "created->changing|") &&
              strstr(events, "changing->active|"),
          "events none->created->changing->active");
    run_out("xl cpupool-list -c 2>/dev/null", text, sizeof(text));
    line_of(text, POOL, line, sizeof(line));
    check(line[0] && strcmp(cpus_of(line), "1") == 0,
          "xl cpupool-list -c: '%s'", line);
    line_of(text, "Pool-0", line, sizeof(line));
    check(strcmp(cpus_of(line), "0") == 0, "Pool-0 keeps CPU 0 only: '%s'",
          line);

    /* An instance of the aggregate, by its flavor. */
    nxl_kvlist_set(&inst->flavor.extra_specs,
                   "aggregate_instance_extra_specs:tier", "lab");
    snprintf(log, sizeof(log), "%s/guest-%s.log", env->logdir, inst->name);
    boots = nxl_lab_count_in_file(log, env->marker);
    if (!ok_call(nxl_instance_spawn(drv, req, &err), &err,
                 "spawn an instance of the aggregate"))
        goto remove;
    spawned = true;
    run_out("xl list -c 2>/dev/null", text, sizeof(text));
    line_of(text, inst->name, line, sizeof(line));
    check(line[0] && strstr(line, POOL) != NULL, "xl list -c: '%s'", line);
    check(nxl_lab_wait_marker(log, env->marker, boots, BOOT_BOUND_S),
          "the guest boots in the pool (marker in %s)", log);

    /* Not while it runs there: error, with the reason. */
    events[0] = '\0';
    rc = nxl_aggregate_remove_host(drv, &agg, "lab", NULL, &err);
    check(rc == NXL_E_DENIED && strstr(nxl_error_message(&err), "still runs"),
          "remove_from_aggregate refused: %s", nxl_error_message(&err));
    nxl_error_dispose(&err);
    check(strstr(events, "changing->error|") &&
              strstr(events, "still runs 1 domain"),
          "event changing->error with the reason");
    run_out("xl cpupool-list 2>/dev/null", text, sizeof(text));
    line_of(text, POOL, line, sizeof(line));
    check(line[0] != '\0', "the pool stays: '%s'", line);

    ok_call(nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err), &err,
            "destroy");
    spawned = false;
    events[0] = '\0';
    ok_call(nxl_aggregate_undo_operation(drv, "remove_from_aggregate", &agg,
                                         "lab", false, &err),
            &err, "undo_aggregate_operation leaves error");
    check(strstr(events, "error->active|") != NULL, "event error->active");

remove:
    events[0] = '\0';
    ok_call(nxl_aggregate_remove_host(drv, &agg, "lab", NULL, &err), &err,
            "remove_from_aggregate");
    check(strstr(events, "changing->dismissed|") != NULL,
          "event changing->dismissed");
    run_out("xl cpupool-list -c 2>/dev/null", text, sizeof(text));
    line_of(text, POOL, line, sizeof(line));
    check(line[0] == '\0', "the pool is gone");
    line_of(text, "Pool-0", line, sizeof(line));
    /* xl prints a full map as "all". */
    check(strcmp(cpus_of(line), "0-1") == 0 ||
              strcmp(cpus_of(line), "0,1") == 0 ||
              strcmp(cpus_of(line), "all") == 0,
          "Pool-0 has CPUs 0 and 1 again: '%s'", line);
out:
    if (spawned)
        ok_call(nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err),
                &err, "destroy");
    nxl_aggregate_dispose(&agg);
}

int main(void)
{
    static char info[16384];
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_lab_run run;
    int rc;

    if ((rc = nxl_lab_begin(&run, "t31", "pv-direct-kernel")))
        return rc;
    if (!nxl_lab_run_open(&run, &cfg, listener,
                          NXL_EVENT_KIND_LIFECYCLE | NXL_EVENT_KIND_AGGREGATE))
        goto out;

    run_out("xl info 2>/dev/null", info, sizeof(info));
    cpu_stats(run.drv, info);
    nxl_lab_step_done("cpu stats");
    numa(run.drv);
    nxl_lab_step_done("numa_topology");
    clean_pool(run.xs);
    pools(run.drv, run.xs, &run.env, &run.req);
    clean_pool(run.xs);
    nxl_lab_step_done("cpupool");
    ok_call(nxl_host_cleanup(run.drv, "lab", &err), &err, "cleanup_host");
out:
    return nxl_lab_end(&run);
}

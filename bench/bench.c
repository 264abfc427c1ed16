/* Helpers shared by the benchmarks; see bench.h. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/json.h"
#include "tests/testutil.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_lifecycle.h"

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_ASAN 1
#endif
#endif
#ifndef BENCH_ASAN
#define BENCH_ASAN 0
#endif

static bool smoke;
static unsigned failed_checks;
static const char *bench_name = "bench";

/* One row of the table, without trailing blanks. */
static void print_line(const char *what, const char *figure, const char *target,
                       const char *verdict)
{
    char line[256];
    size_t len;

    snprintf(line, sizeof(line), "  %-46s %16s  %-30s %s", what, figure, target,
             verdict);
    len = strlen(line);
    while (len && line[len - 1] == ' ')
        line[--len] = '\0';
    puts(line);
    fflush(stdout);
}

bool nxl_bench_init(int argc, char **argv, const char *name)
{
    const char *v = getenv("NXL_BENCH_SMOKE");

    bench_name = name;
    smoke = v && *v && strcmp(v, "0") != 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--smoke") == 0)
            smoke = true;
    printf("%s%s\n", name, smoke ? " (smoke: tiny N, checks only)" : "");
    print_line("what", "figure", "target", "");
    return smoke;
}

bool nxl_bench_smoke(void)
{
    return smoke;
}

size_t nxl_bench_n(size_t full, size_t small)
{
    return smoke ? small : full;
}

bool nxl_bench_instrumented(void)
{
    const char *v = getenv("NXL_UNDER_VALGRIND");

    return BENCH_ASAN || (v && *v && strcmp(v, "0") != 0);
}

uint64_t nxl_bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long nxl_bench_maxrss_kb(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static long long heap_now(void)
{
    struct mallinfo2 mi = mallinfo2();

    return (long long)(mi.uordblks + mi.hblkhd);
}

/* Fills every tcache bin of this thread. glibc counts the chunks its
 * per-thread cache holds as in use, and the cache fills slowly (7 chunks
 * a size): a heap figure would creep up for thousands of calls though
 * nothing leaks. Once every bin is full, each bin is full again whenever
 * everything allocated since has been freed (a free refills what a malloc
 * took), so two such points compare exactly. */
static void fill_tcache(void)
{
    enum { MAX_REQ = 1032, STEP = 8, PER_SIZE = 8 };
    void *p[(MAX_REQ / STEP) * PER_SIZE];
    size_t n = 0;

    for (size_t sz = STEP; sz <= MAX_REQ; sz += STEP)
        for (int k = 0; k < PER_SIZE; k++)
            p[n++] = malloc(sz);
    while (n)
        free(p[--n]);
}

long long nxl_bench_heap_in_use(void)
{
    static int usable = -1;

    if (usable < 0) {
        fill_tcache();
        /* A block below the mmap threshold must show in uordblks; under
         * valgrind or ASan mallinfo2 reports glibc's idle arena. */
        long long before = heap_now();
        char *volatile p = malloc(64 * 1024);
        long long after = heap_now();

        usable = p && !nxl_bench_instrumented() && after - before >= 64 * 1024;
        free(p);
    }
    return usable ? heap_now() : -1;
}

long long nxl_bench_bytes_read(void)
{
    FILE *f = fopen("/proc/self/io", "re");
    char line[128];
    long long v = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "rchar: %lld", &v) == 1)
            break;
    fclose(f);
    return v;
}

void nxl_bench_check_(bool ok, const char *file, int line, const char *expr,
                      const char *fmt, ...)
{
    va_list ap;

    if (ok)
        return;
    failed_checks++;
    fprintf(stdout, "  CHECK FAILED %s:%d: %s: ", file, line, expr);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static const char *verdict(bool met)
{
    if (smoke)
        return "";
    return met ? "ok" : "MISS";
}

void nxl_bench_row(const char *what, double figure, const char *unit,
                   const char *target, bool met)
{
    char fig[64];

    if (figure >= 100 || figure == (double)(long long)figure)
        snprintf(fig, sizeof(fig), "%.0f %s", figure, unit);
    else if (figure >= 1)
        snprintf(fig, sizeof(fig), "%.1f %s", figure, unit);
    else
        snprintf(fig, sizeof(fig), "%.3f %s", figure, unit);
    nxl_bench_row_text(what, fig, target, met);
}

void nxl_bench_row_text(const char *what, const char *figure,
                        const char *target, bool met)
{
    print_line(what, figure, target, *target ? verdict(met) : "");
}

int nxl_bench_finish(void)
{
    printf("  peak RSS %ld KiB%s\n", nxl_bench_maxrss_kb(),
           nxl_bench_instrumented() ? " (instrumented run)" : "");
    if (failed_checks) {
        printf("%s: %u check(s) FAILED\n\n", bench_name, failed_checks);
        return 1;
    }
    printf("%s: every check holds\n\n", bench_name);
    return 0;
}

nxl_bench_rate nxl_bench_run(nxl_bench_fn *fn, void *opaque, unsigned min_ms,
                             size_t min_calls)
{
    nxl_bench_rate r = {0, 0, 0};
    uint64_t start = nxl_bench_now_ns(), end = start;
    uint64_t min_ns = smoke ? 0 : (uint64_t)min_ms * 1000000u;

    if (min_calls == 0)
        min_calls = 1;
    while (r.calls < min_calls || end - start < min_ns) {
        bool go = fn(opaque);

        r.calls++;
        end = nxl_bench_now_ns();
        if (!go)
            break;
    }
    if (end == start)
        end++;
    r.per_s = (double)r.calls * 1e9 / (double)(end - start);
    r.us_per_call = (double)(end - start) / 1e3 / (double)r.calls;
    return r;
}

/* ---- the driver on the fake hypervisor port ------------------------------ */

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX * 2];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, "we")))
        return -1;
    ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int nxl_bench_host_open(nxl_bench_host *h, bool with_xsd)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    memset(h, 0, sizeof(*h));
    h->xsd.pid = -1;
    if (with_xsd) {
        rc = nxl_test_xsd_start(&h->xsd);
        h->have_xsd = true;
        if (rc) {
            fprintf(stderr, "xenstored: %s\n", h->xsd.why);
            return rc == NXL_TEST_SKIP ? NXL_TEST_SKIP : -1;
        }
    }
    if (nxl_test_mkdtemp(h->root, sizeof(h->root), "nxl-bench") < 0) {
        fprintf(stderr, "mkdtemp %s: %s\n", h->root, strerror(errno));
        h->root[0] = '\0';
        return -1;
    }
    snprintf(h->instances, sizeof(h->instances), "%s/instances", h->root);
    snprintf(h->images, sizeof(h->images), "%s/images", h->root);
    snprintf(h->logs, sizeof(h->logs), "%s/console", h->root);
    if (mkdir(h->images, 0700) < 0 || mkdir(h->logs, 0700) < 0 ||
        write_text(h->images, "kernel-1", "not really a kernel\n") < 0 ||
        write_text(h->images, "initrd-1", "not really an initrd\n") < 0) {
        fprintf(stderr, "%s: cannot set up: %s\n", h->root, strerror(errno));
        return -1;
    }
    if (nxl__port_fake_new(&h->port) != 0) {
        fprintf(stderr, "fake port: out of memory\n");
        return -1;
    }
    /* Room for the 1000-instance runs: 1000 x 128 MiB and Domain-0. */
    nxl__port_fake_set_host(h->port, 256ull * 1024 * 1024, 64);
    cfg.host = "bench-host";
    cfg.instances_dir = h->instances;
    cfg.image_cache_dir = h->images;
    cfg.console_log_dir = h->logs;
    rc = nxl_driver_open("libxl", &cfg, &h->drv, &err);
    if (rc == 0)
        rc = nxl__xl_driver_use_port(h->drv, h->port, true, &err);
    if (rc == 0) {
        nxl__xl_driver_set_event_poll(h->drv, 0);
        rc = nxl_host_init(h->drv, "bench-host", &err);
    }
    if (rc)
        fprintf(stderr, "driver: %s\n", nxl_error_message(&err));
    nxl_error_dispose(&err);
    nxl__port_fake_calls_reset(h->port);
    return rc ? -1 : 0;
}

void nxl_bench_host_close(nxl_bench_host *h)
{
    nxl_driver_close(h->drv);
    h->drv = NULL;
    nxl__port_free(h->port);
    h->port = NULL;
    if (h->root[0])
        nxl_test_rm_tree(h->root);
    h->root[0] = '\0';
    if (h->have_xsd)
        nxl_test_xsd_stop(&h->xsd);
    h->have_xsd = false;
}

void nxl_bench_uuid(char *buf, size_t size, size_t i)
{
    snprintf(buf, size, "00000000-0000-4000-8000-%012zu", i);
}

int nxl_bench_spawn(nxl_bench_host *h, size_t i, const char *metadata,
                    nxl_error *err)
{
    char uuid[NXL_UUID_STRLEN + 1], doc[8192];
    nxl_spawn_req req;
    int n, rc;

    nxl_bench_uuid(uuid, sizeof(uuid), i);
    n = snprintf(doc, sizeof(doc),
                 "{\"instance\": {\"uuid\": \"%s\", \"name\": \"bench-%zu\","
                 " \"memory_mb\": 128, \"vcpus\": 1, \"root_gb\": 0,"
                 " \"kernel_id\": \"kernel-1\", \"ramdisk_id\": \"initrd-1\","
                 " \"metadata\": %s},"
                 " \"image_meta\": {\"id\": \"kernel-1\","
                 " \"disk_format\": \"aki\","
                 " \"properties\": {\"vm_mode\": \"xen\"}},"
                 " \"network_info\": []}",
                 uuid, i, metadata ? metadata : "{}");
    if (n < 0 || (size_t)n >= sizeof(doc))
        return nxl_error_set(err, NXL_E_INVAL, "bench spawn: metadata too big");
    nxl_spawn_req_init(&req);
    rc = nxl__spawn_req_from_json(doc, (size_t)n, &req, err);
    if (rc == 0)
        rc = nxl_instance_spawn(h->drv, &req, err);
    nxl_spawn_req_dispose(&req);
    return rc;
}

size_t nxl_bench_port_calls(nxl_bench_host *h)
{
    char *calls = nxl__port_fake_calls(h->port);
    size_t n = 0;
    bool word = false;

    for (const char *p = calls; p && *p; p++) {
        if (*p != ' ' && !word)
            n++;
        word = *p != ' ';
    }
    free(calls);
    return n;
}

int nxl_bench_xs_home(unsigned domid, nxl_error *err)
{
    char p[64];
    nxl_xs_perms perms;
    nxl_xs *xs = NULL;
    int rc;

    snprintf(p, sizeof(p), "/local/domain/%u", domid);
    nxl_xs_perms_init(&perms);
    perms.owner = 0;
    perms.others = NXL_XS_ACCESS_NONE;
    if ((rc = nxl_xs_open(&xs, err)) == 0 &&
        (rc = nxl_xs_mkdir(xs, XBT_NULL, p, err)) == 0 &&
        (rc = nxl_xs_perms_add(&perms, domid, NXL_XS_ACCESS_READ, err)) == 0)
        rc = nxl_xs_set_perms(xs, XBT_NULL, p, &perms, err);
    nxl_xs_perms_dispose(&perms);
    nxl_xs_close(xs);
    return rc;
}

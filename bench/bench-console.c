/* bench-console: get_console_output, through the public API on the libxl
 * driver, on console logs as xenconsoled leaves them: a 1 GiB log (sparse,
 * its last 256 KiB text), a short live log with a 1 GiB rotated one behind
 * it, and a short log alone.
 *
 * Figures: microseconds per call and bytes read per call (rchar of
 * /proc/self/io, so every read the call makes counts). Checks: the output
 * is the log's last 100 KiB (NXL_CON_OUTPUT_MAX) or the whole short log,
 * ending with what the guest wrote last, and a call reads at most the cap,
 * whatever the file's size.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "console/con.h"

#define GIB (1024LL * 1024 * 1024)
#define TEXT_BYTES (256 * 1024) /* written at the end of a big log */
#define SHORT_BYTES (10 * 1024)
/* nova's get_console_output is a user's request: it should answer at
 * once, whatever the guest has written. */
#define TARGET_US 5000.0

typedef struct scenario {
    const char *what;
    const char *name;  /* the instance's name */
    long long live;    /* bytes of the live log */
    long long rotated; /* bytes of <log>.1; 0: none */
    size_t want;       /* bytes of output */
    const char *last;  /* how the output must end */
} scenario;

typedef struct run {
    nxl_bench_host *h;
    const scenario *sc;
    bool ok;
} run;

/* A log of size bytes: a hole, then text lines up to the end, the last
 * one "<tag> the end\n". */
static int make_log(const char *path, long long size, const char *tag)
{
    char line[128], buf[TEXT_BYTES];
    long long text = size < TEXT_BYTES ? size : TEXT_BYTES;
    size_t off = 0, tail;
    int fd, n, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    for (unsigned i = 0; off < (size_t)text; i++) {
        n = snprintf(line, sizeof(line), "[%8u.000000] %s console line %u\n", i,
                     tag, i);
        memcpy(buf + off, line,
               (size_t)n < text - off ? (size_t)n : (size_t)(text - off));
        off += (size_t)n;
    }
    n = snprintf(line, sizeof(line), "%s the end\n", tag);
    tail = (size_t)n <= (size_t)text ? (size_t)n : (size_t)text;
    memcpy(buf + text - (long long)tail, line, tail);
    if (ftruncate(fd, (off_t)size) < 0 ||
        pwrite(fd, buf, (size_t)text, (off_t)(size - text)) != text)
        rc = -1;
    if (close(fd) < 0)
        rc = -1;
    return rc;
}

static bool one(void *opaque)
{
    run *r = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance inst;
    nxl_buf out;
    size_t len;
    int rc;

    nxl_instance_init(&inst);
    nxl_bench_uuid(inst.uuid, sizeof(inst.uuid), 0);
    inst.name = strdup(r->sc->name);
    nxl_buf_init(&out);
    rc = inst.name
             ? nxl_instance_get_console_output(r->h->drv, &inst, &out, &err)
             : NXL_E_NOMEM;
    BENCH_CHECK(rc == 0, "%s: %s", r->sc->what, nxl_error_message(&err));
    if (rc == 0) {
        len = strlen(r->sc->last);
        BENCH_CHECK(
            out.len == r->sc->want && out.len >= len &&
                memcmp((char *)out.data + out.len - len, r->sc->last, len) == 0,
            "%s: %zu bytes of output, wanted %zu ending '%s'", r->sc->what,
            out.len, r->sc->want, r->sc->last);
    }
    r->ok = rc == 0;
    nxl_buf_dispose(&out);
    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    return r->ok;
}

static void measure(nxl_bench_host *h, const scenario *sc)
{
    char path[PATH_MAX * 2], rot[PATH_MAX * 2 + 4], what[96], target[64];
    run r = {h, sc, true};
    long long read0, read1, self;
    double per_call;
    nxl_bench_rate rate;

    snprintf(path, sizeof(path), "%s/guest-%s.log", h->logs, sc->name);
    snprintf(rot, sizeof(rot), "%s.1", path);
    if (make_log(path, sc->live, "live") < 0 ||
        (sc->rotated && make_log(rot, sc->rotated, "rotated") < 0)) {
        BENCH_CHECK(false, "%s: cannot write %s: %s", sc->what, path,
                    strerror(errno));
        return;
    }
    one(&r); /* warm: the page cache holds the tail from now on */
    /* Reading /proc/self/io counts too: once between read0 and read1. */
    read0 = nxl_bench_bytes_read();
    read1 = nxl_bench_bytes_read();
    self = read0 >= 0 && read1 >= 0 ? read1 - read0 : 0;
    read0 = nxl_bench_bytes_read();
    rate = nxl_bench_run(one, &r, 500, 5);
    read1 = nxl_bench_bytes_read() - self;
    snprintf(target, sizeof(target), "<= %.0f us", TARGET_US);
    nxl_bench_row(sc->what, rate.us_per_call, "us", target,
                  rate.us_per_call <= TARGET_US);
    snprintf(what, sizeof(what), "  bytes read a call");
    snprintf(target, sizeof(target), "<= %d (100 KiB cap)", NXL_CON_OUTPUT_MAX);
    if (read0 >= 0 && read1 >= 0) {
        per_call = (double)(read1 - read0) / (double)rate.calls;
        nxl_bench_row(what, per_call, "B", target,
                      per_call <= NXL_CON_OUTPUT_MAX);
        /* valgrind reads a few bytes of its own now and then. */
        BENCH_CHECK(per_call <= NXL_CON_OUTPUT_MAX +
                                    (nxl_bench_instrumented() ? 1024 : 0),
                    "%s: %.0f bytes read a call, above the cap", sc->what,
                    per_call);
    } else {
        nxl_bench_row_text(what, "n/a", target, true);
    }
    unlink(path);
    unlink(rot);
}

int main(int argc, char **argv)
{
    static const scenario scenarios[] = {
        {"1 GiB log (sparse)", "bench-big", GIB, 0, NXL_CON_OUTPUT_MAX,
         "live the end\n"},
        {"10 KiB log, 1 GiB rotated behind it", "bench-rot", SHORT_BYTES, GIB,
         NXL_CON_OUTPUT_MAX, "live the end\n"},
        {"10 KiB log", "bench-short", SHORT_BYTES, 0, SHORT_BYTES,
         "live the end\n"},
    };
    nxl_bench_host h;
    int rc;

    nxl_bench_init(argc, argv, "bench-console");
    /* init_host needs xenstore (it recovers aggregates there). */
    rc = nxl_bench_host_open(&h, true);
    if (rc) {
        nxl_bench_host_close(&h);
        return rc == NXL_TEST_SKIP ? NXL_TEST_SKIP : 1;
    }
    for (size_t i = 0; i < NXL_ARRAY_SIZE(scenarios); i++)
        measure(&h, &scenarios[i]);
    nxl_bench_host_close(&h);
    return nxl_bench_finish();
}

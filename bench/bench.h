/* Helpers shared by the benchmarks in bench/ (see bench/README.md): the
 * clock, the process's memory and I/O figures, the result table, the smoke
 * mode and its checks, and the driver on the fake hypervisor port in a
 * private directory. Link with bench/libnxlbench.la (which needs
 * tests/libnxltestutil.la: nxl_test_read_src and the temporary directories
 * come from there).
 *
 * A benchmark prints figures with the target stated next to each; it
 * never fails on a timing. It fails (exit 1) only when a check on a
 * result does not hold (BENCH_CHECK), so `make check` can run it in smoke
 * mode (tiny N) to prove it still works and measures what it says.
 */
#ifndef NOVAXL_BENCH_BENCH_H
#define NOVAXL_BENCH_BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "novaxl/nxl.h"
#include "tests/xsd/xsd-harness.h"
#include "xl_driver/xl_port.h"

/* Smoke mode: "--smoke" among the arguments, or NXL_BENCH_SMOKE=1 in the
 * environment (make check sets it). Call once from main. */
bool nxl_bench_init(int argc, char **argv, const char *name);
/* Whether nxl_bench_init chose smoke mode. */
bool nxl_bench_smoke(void);
/* full in a full run, smoke in smoke mode. */
size_t nxl_bench_n(size_t full, size_t smoke);
/* Whether the process runs under valgrind or a sanitizer, where the heap
 * figures are not glibc's and the timings mean little. */
bool nxl_bench_instrumented(void);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t nxl_bench_now_ns(void);
/* Peak resident set of the process so far (getrusage ru_maxrss), KiB. */
long nxl_bench_maxrss_kb(void);
/* Bytes glibc's malloc has handed out and not had back (mallinfo2
 * uordblks + hblkhd), or -1 when that figure does not reflect this
 * process's allocations (under valgrind or ASan, whose allocators are not
 * glibc's): then no heap check can be made. */
long long nxl_bench_heap_in_use(void);
/* Bytes this process has read with read(2)/pread(2) and friends so far
 * (rchar of /proc/self/io), or -1 when the kernel does not say. */
long long nxl_bench_bytes_read(void);

/* Fails the benchmark: prints where and why, exits 1 at the end of the
 * run (nxl_bench_finish), so the table still shows what was measured. */
#define BENCH_CHECK(cond, ...)                                                 \
    nxl_bench_check_((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
void nxl_bench_check_(bool ok, const char *file, int line, const char *expr,
                      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* One row of the table: what was measured, the figure and its unit, the
 * target in words, and whether the figure meets it (shown as "ok" or
 * "MISS"; timings are never checked, and in smoke mode nor is met). */
void nxl_bench_row(const char *what, double figure, const char *unit,
                   const char *target, bool met);
/* A row whose figure is text (a call count, "n/a"). */
void nxl_bench_row_text(const char *what, const char *figure,
                        const char *target, bool met);
/* Prints the footer; returns the exit status: 1 when a check failed. */
int nxl_bench_finish(void);

/* Calls per second and microseconds per call of fn over at least min_ms
 * of wall time and min_calls calls (each at least once); in smoke mode
 * min_ms is ignored. fn returns false to stop the run early (an error it
 * has already reported with BENCH_CHECK). */
typedef bool nxl_bench_fn(void *opaque);
typedef struct nxl_bench_rate {
    size_t calls;
    double per_s;
    double us_per_call;
} nxl_bench_rate;
nxl_bench_rate nxl_bench_run(nxl_bench_fn *fn, void *opaque, unsigned min_ms,
                             size_t min_calls);

/* ---- the driver on the fake hypervisor port ------------------------------ */

/* A driver of the libxl backend on the fake port (xl_port.h), with its
 * instances, images and console logs in a private directory under
 * $TMPDIR and, when with_xsd, a private real xenstored (tests/xsd): spawn
 * reads the host's flags there. The event thread is off, so the fake's
 * call log holds only the calls the measured methods make. */
typedef struct nxl_bench_host {
    char root[PATH_MAX / 2];
    char instances[PATH_MAX];
    char images[PATH_MAX];
    char logs[PATH_MAX];
    nxl_port *port; /* borrowed by drv */
    nxl_driver *drv;
    nxl_test_xsd xsd;
    bool have_xsd;
} nxl_bench_host;

/* 0, or NXL_TEST_SKIP (xenstored not installed, or not run by make) or -1
 * after a line on stderr; nxl_bench_host_close is safe either way. */
int nxl_bench_host_open(nxl_bench_host *h, bool with_xsd);
void nxl_bench_host_close(nxl_bench_host *h);

/* The UUID of the bench's instance i ("00000000-0000-4000-8000-<i>"). */
void nxl_bench_uuid(char *buf, size_t size, size_t i);
/* Spawns instance i (UUID nxl_bench_uuid(i), name "bench-<i>": a PV
 * direct-kernel guest of 128 MiB and one vcpu with the metadata JSON
 * object metadata, NULL for none) through nxl_instance_spawn. */
int nxl_bench_spawn(nxl_bench_host *h, size_t i, const char *metadata,
                    nxl_error *err);
/* The port calls the fake has logged since the last reset. */
size_t nxl_bench_port_calls(nxl_bench_host *h);
/* Makes /local/domain/<domid> in xenstore as libxl does for a new domain
 * (owned by dom0, readable by the guest). 0 or a negative NXL_E_*. */
int nxl_bench_xs_home(unsigned domid, nxl_error *err);

#endif /* NOVAXL_BENCH_BENCH_H */

# bench: fragment included from the top-level Makefile.am
#
# Benchmarks (bench/README.md): small programs that print figures next to
# their targets. `make bench` builds and runs them in full; `make check`
# builds them too (so they cannot rot) and runs each in smoke mode (tiny N,
# NXL_BENCH_SMOKE=1), which checks results, never timings. A plain `make`
# does not build them.
if HAVE_CUNIT
BENCH_PROGS = bench/bench-translate bench/bench-inventory \
	bench/bench-console bench/bench-xenstore

check_LTLIBRARIES += bench/libnxlbench.la
bench_libnxlbench_la_SOURCES = bench/bench.c bench/bench.h
bench_libnxlbench_la_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)

BENCH_LDADD = bench/libnxlbench.la tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la libnovaxl-internal.la $(CUNIT_LIBS) -lpthread

check_PROGRAMS += $(BENCH_PROGS)
TESTS += $(BENCH_PROGS)

bench_bench_translate_SOURCES = bench/bench-translate.c
bench_bench_translate_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
bench_bench_translate_LDADD = $(BENCH_LDADD)
bench_bench_inventory_SOURCES = bench/bench-inventory.c
bench_bench_inventory_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
bench_bench_inventory_LDADD = $(BENCH_LDADD)
bench_bench_console_SOURCES = bench/bench-console.c
bench_bench_console_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
bench_bench_console_LDADD = $(BENCH_LDADD)
bench_bench_xenstore_SOURCES = bench/bench-xenstore.c
bench_bench_xenstore_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
bench_bench_xenstore_LDADD = $(BENCH_LDADD)

# Smoke mode for the benchmarks make check runs; the suites ignore it.
AM_TESTS_ENVIRONMENT += NXL_BENCH_SMOKE=1; export NXL_BENCH_SMOKE;

# Full runs, unless NXL_BENCH_SMOKE=1 is in make's environment.
bench: $(BENCH_PROGS) $(check_LTLIBRARIES)
	@smoke=$${NXL_BENCH_SMOKE:-0}; \
	for b in $(BENCH_PROGS); do \
		$(AM_TESTS_ENVIRONMENT) NXL_BENCH_SMOKE=$$smoke; \
		export NXL_BENCH_SMOKE; \
		./$$b || exit 1; \
	done
else
bench:
	@echo "bench: CUnit is missing (configure said so); no benchmarks" >&2
	@exit 1
endif

EXTRA_DIST += bench/README.md
.PHONY: bench

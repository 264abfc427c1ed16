# tests/xsd: a private, real xenstored for tests (see tests/xsd/README.md).
# Included from xenstore/local.mk. Other suites use it with
#   tests_test_foo_LDADD = tests/xsd/libnxlxsdtest.la libnovaxl-internal.la ...
# and nxl_test_xsd_start()/nxl_test_xsd_stop() from tests/xsd/xsd-harness.h.

# Preloaded into xenstored only. No sanitizer flags and no AM_LDFLAGS:
# xenstored is not an ASan binary, so an ASan-built shim could not load.
check_LTLIBRARIES += tests/xsd/libnxlxsdshim.la
tests_xsd_libnxlxsdshim_la_SOURCES = tests/xsd/xsd-shim.c
tests_xsd_libnxlxsdshim_la_CPPFLAGS = $(AM_CPPFLAGS) $(XENCTRL_CFLAGS)
tests_xsd_libnxlxsdshim_la_CFLAGS = $(WARN_CFLAGS)
tests_xsd_libnxlxsdshim_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
tests_xsd_libnxlxsdshim_la_LIBADD = -ldl

# The harness: a check-only convenience library (no -rpath: static).
check_LTLIBRARIES += tests/xsd/libnxlxsdtest.la
tests_xsd_libnxlxsdtest_la_SOURCES = \
	tests/xsd/xsd-harness.c \
	tests/xsd/xsd-harness.h

EXTRA_DIST += tests/xsd/README.md

# aggregates: fragment included from the top-level Makefile.am
# The aggregate (pool) membership state machine over the xenstore layer,
# and its tests against a private real xenstored (tests/xsd).
libnovaxl_internal_la_SOURCES += \
	aggregates/agg.c \
	aggregates/agg.h

if HAVE_CUNIT
check_PROGRAMS += tests/test_aggregates
TESTS += tests/test_aggregates
tests_test_aggregates_SOURCES = tests/test_aggregates.c
tests_test_aggregates_LDADD = tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
tests_test_aggregates_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

# tests: fragment included from the top-level Makefile.am

# Helpers shared by the CUnit suites (tests/testutil.h): a check-only
# convenience library. Suites link it with
#   tests_test_foo_LDADD = tests/libnxltestutil.la ...
if HAVE_CUNIT
check_LTLIBRARIES += tests/libnxltestutil.la
tests_libnxltestutil_la_SOURCES = \
	tests/testutil.c \
	tests/testutil.h
tests_libnxltestutil_la_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

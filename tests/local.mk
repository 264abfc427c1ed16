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

# The reference guest agent (lab/guest/nxl-agent.c, which the lab runs in a
# real guest) on the build host: its request parser, shape checks,
# inject_file path policy and atomic write.
if HAVE_CUNIT
check_PROGRAMS += tests/test_guest_agent
TESTS += tests/test_guest_agent
tests_test_guest_agent_SOURCES = tests/test_guest_agent.c
tests_test_guest_agent_LDADD = tests/libnxltestutil.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lcrypt -lpthread
tests_test_guest_agent_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

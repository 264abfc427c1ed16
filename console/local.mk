# console: fragment included from the top-level Makefile.am
# Console log tails, the log size policy and console connection details;
# tests with real files and a private real xenstored (tests/xsd).
libnovaxl_internal_la_SOURCES += \
	console/bridge.c \
	console/bridge.h \
	console/con.c \
	console/con.h

if HAVE_CUNIT
check_PROGRAMS += tests/test_console
TESTS += tests/test_console
tests_test_console_SOURCES = tests/test_console.c
tests_test_console_LDADD = tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
tests_test_console_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

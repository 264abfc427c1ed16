# xenstore: fragment included from the top-level Makefile.am
# The libxenstore layer, and its tests against a private real xenstored.
libnovaxl_internal_la_SOURCES += \
	xenstore/xs.c \
	xenstore/xs.h

# The xenstored shim and harness are shared with other suites.
include $(top_srcdir)/tests/xsd/local.mk

if HAVE_CUNIT
check_PROGRAMS += tests/test_xenstore
TESTS += tests/test_xenstore
tests_test_xenstore_SOURCES = tests/test_xenstore.c
tests_test_xenstore_LDADD = tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS)
tests_test_xenstore_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

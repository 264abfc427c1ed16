# xl_driver/host.mk: the libxl backend's host, aggregate and console
# members (the ops table in xl_driver.c points at them). Included from the
# top-level Makefile.am.
libnovaxl_internal_la_SOURCES += \
	xl_driver/xl_host.h \
	xl_driver/xl_aggregate.c
libnovaxl_internal_la_SOURCES += xl_driver/xl_console.c
libnovaxl_internal_la_SOURCES += xl_driver/xl_host.c

if HAVE_CUNIT
check_PROGRAMS += tests/test_host
TESTS += tests/test_host
tests_test_host_SOURCES = tests/test_host.c
tests_test_host_LDADD = tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
tests_test_host_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

# xl_driver: the libxl backend's config builder, xentoollog adapter and
# libxl rc map, with the golden-file suite for the config builder.
libnovaxl_internal_la_SOURCES += \
	xl_driver/xl_config.c \
	xl_driver/xl_config.h \
	xl_driver/xl_log.c \
	xl_driver/xl_log.h \
	xl_driver/xl_rc.c \
	xl_driver/xl_rc.h

if HAVE_CUNIT
check_PROGRAMS += tests/test_xl_config
TESTS += tests/test_xl_config
tests_test_xl_config_SOURCES = \
	tests/test_xl_config.c \
	tests/mocks/xl-shim.c \
	tests/mocks/xl-shim.h
tests_test_xl_config_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
# The shim's xc_*/xencall* definitions must interpose on the ones inside
# libxenctrl, so the executable exports them.
tests_test_xl_config_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
tests_test_xl_config_LDADD = tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -ldl -lpthread
endif

EXTRA_DIST += tests/fixtures/xl_config tests/golden/xl_config \
	tests/fixtures/xl_config_pools tests/golden/xl_config_pools

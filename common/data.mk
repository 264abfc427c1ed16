# common/data.mk: the data model (types.c), the JSON door (json.c, the only
# user of yajl) and the capped file reader (file.c), with their tests.
libnovaxl_internal_la_SOURCES += \
	common/types.c \
	common/json.c \
	common/json.h \
	common/xml.c \
	common/xml.h \
	common/file.c

if HAVE_CUNIT
check_PROGRAMS += tests/test_json
TESTS += tests/test_json
tests_test_json_SOURCES = tests/test_json.c
tests_test_json_LDADD = tests/libnxltestutil.la \
	libnovaxl-internal.la $(CUNIT_LIBS)
tests_test_json_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

EXTRA_DIST += tests/fixtures/json tests/golden/json

# The libvirt XML door (xml.c, the only user of libxml2): golden XML of
# every example, round trips, hostile documents.
if HAVE_CUNIT
check_PROGRAMS += tests/test_xml
TESTS += tests/test_xml
tests_test_xml_SOURCES = tests/test_xml.c
tests_test_xml_LDADD = tests/libnxltestutil.la \
	libnovaxl-internal.la $(CUNIT_LIBS)
tests_test_xml_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif
EXTRA_DIST += tests/golden/xml

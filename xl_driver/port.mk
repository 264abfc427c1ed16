# xl_driver/port.mk: the thin hypervisor port (xl_port.h), its real libxl
# backend, the in-memory fake with fault injection, the tracing wrapper,
# the unit tests (no Xen needed) and the lab test (real Xen, run in the
# lab's dom0). Included from the top-level Makefile.am.
libnovaxl_internal_la_SOURCES += \
	xl_driver/xl_port.h \
	xl_driver/xl_port.c \
	xl_driver/xl_port_libxl.c \
	xl_driver/xl_port_fake.c \
	xl_driver/xl_port_trace.c

if HAVE_CUNIT
check_PROGRAMS += tests/test_port
TESTS += tests/test_port
tests_test_port_SOURCES = tests/test_port.c
tests_test_port_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_test_port_LDADD = libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
endif

# The real port on real Xen: run by the lab (lab/run.sh) in dom0, where
# every executable in /novaxl/tests/lab/ is a test (0 pass, 77 skip). It
# links the convenience library, so dom0 needs only the system libraries.
noinst_PROGRAMS += tests/lab/t10-port-lifecycle
tests_lab_t10_port_lifecycle_SOURCES = tests/lab/src/t10-port-lifecycle.c
tests_lab_t10_port_lifecycle_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

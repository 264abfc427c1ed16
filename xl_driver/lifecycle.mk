# xl_driver/lifecycle.mk: the libxl backend's instance lifecycle and
# inventory (xl_lifecycle.c) on its durable store of records, journal and
# locks (xl_store.c); the contract suite on the fake hypervisor port
# (tests/test_lifecycle, no Xen needed) and the lab test on real Xen.
# Included from the top-level Makefile.am after xl_driver/driver.mk.
libnovaxl_internal_la_SOURCES += \
	xl_driver/xl_lifecycle.c \
	xl_driver/xl_lifecycle.h \
	xl_driver/xl_store.c \
	xl_driver/xl_store.h

if HAVE_CUNIT
check_PROGRAMS += tests/test_lifecycle
TESTS += tests/test_lifecycle
tests_test_lifecycle_SOURCES = tests/test_lifecycle.c
tests_test_lifecycle_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
# A private xenstored (tests/xsd): spawn reads the host's enabled and
# maintenance flags there, and init_host recovers aggregates there.
tests_test_lifecycle_LDADD = tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
endif

# The same lifecycle on real Xen, through the public API: run by the lab
# (lab/run.sh) in dom0, as every tests/lab/t* program (0 pass, 77 skip).
noinst_PROGRAMS += tests/lab/t20-driver-lifecycle
tests_lab_t20_driver_lifecycle_SOURCES = tests/lab/src/t20-driver-lifecycle.c
tests_lab_t20_driver_lifecycle_LDADD = libnovaxl-internal.la

# More of it on real Xen: suspend/resume, out-of-band pause and destroy
# seen by the event listener, soft_delete/restore, rebuild, rescue, PVH.
noinst_PROGRAMS += tests/lab/t22-driver-more
tests_lab_t22_driver_more_SOURCES = tests/lab/src/t22-driver-more.c
tests_lab_t22_driver_more_LDADD = libnovaxl-internal.la -lpthread

# common/driver.mk: fragment included from the top-level Makefile.am
# The dispatch layer (the ops table and one dispatcher per contract
# method), the result types, and nova.virt.driver's module-level helpers.
libnovaxl_internal_la_SOURCES += \
	common/driver.c \
	common/driver.h \
	common/results.c \
	common/bdi.c

# The contract's bookkeeping: every method has a prototype, an ops member,
# a dispatcher, a row in docs/contract.md, and a backend member named after
# it (libvirt's check-driverimpls.py, in bash and awk).
TESTS += tests/test_driverimpls.sh
EXTRA_DIST += scripts/check-driverimpls tests/test_driverimpls.sh

if HAVE_CUNIT
check_PROGRAMS += tests/test_driver
TESTS += tests/test_driver
tests_test_driver_SOURCES = tests/test_driver.c
tests_test_driver_LDADD = tests/libnxltestutil.la \
	libnovaxl-internal.la $(CUNIT_LIBS)
tests_test_driver_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

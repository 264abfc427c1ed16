# xl_driver/host.mk: the libxl backend's host, aggregate and console
# members (the ops table in xl_driver.c points at them). Included from the
# top-level Makefile.am.
libnovaxl_internal_la_SOURCES += \
	xl_driver/xl_host.h \
	xl_driver/xl_aggregate.c
libnovaxl_internal_la_SOURCES += xl_driver/xl_console.c xl_driver/xl_console.h
libnovaxl_internal_la_SOURCES += xl_driver/xl_host.c
libnovaxl_internal_la_SOURCES += \
	xl_driver/xl_metadata.h \
	xl_driver/xl_metadata.c \
	xl_driver/xl_agent.h \
	xl_driver/xl_agent.c

if HAVE_CUNIT
check_PROGRAMS += tests/test_host
TESTS += tests/test_host
tests_test_host_SOURCES = tests/test_host.c
tests_test_host_LDADD = tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
tests_test_host_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

if HAVE_CUNIT
check_PROGRAMS += tests/test_metadata
TESTS += tests/test_metadata
tests_test_metadata_SOURCES = tests/test_metadata.c
tests_test_metadata_LDADD = tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
tests_test_metadata_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
endif

# Lab test (tests/lab/src): built here so -Werror covers it; lab/stage.sh
# stages it.
noinst_PROGRAMS += tests/lab/t30-host-metadata
tests_lab_t30_host_metadata_SOURCES = tests/lab/src/t30-host-metadata.c
tests_lab_t30_host_metadata_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# Whole-host CPU stats, numa_topology and an aggregate on a cpupool.
noinst_PROGRAMS += tests/lab/t31-host-pools
tests_lab_t31_host_pools_SOURCES = tests/lab/src/t31-host-pools.c
tests_lab_t31_host_pools_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# Consoles: VNC of an HVM guest, serial consoles bridged to TCP, console
# log rotation under the real xenconsoled.
noinst_PROGRAMS += tests/lab/t32-consoles
tests_lab_t32_consoles_SOURCES = tests/lab/src/t32-consoles.c
tests_lab_t32_consoles_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# Instance metadata read (and not written) by the guest itself.
noinst_PROGRAMS += tests/lab/t33-guest-metadata
tests_lab_t33_guest_metadata_SOURCES = tests/lab/src/t33-guest-metadata.c
tests_lab_t33_guest_metadata_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# The remaining host members (power, enabled, maintenance, uptime,
# address, connector), SPICE of a PV guest and the agent methods.
noinst_PROGRAMS += tests/lab/t34-host-rest
tests_lab_t34_host_rest_SOURCES = tests/lab/src/t34-host-rest.c
tests_lab_t34_host_rest_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# The guest agent members against the reference agent (lab/guest/nxl-agent.c)
# running in the guest.
noinst_PROGRAMS += tests/lab/t36-guest-agent
tests_lab_t36_guest_agent_SOURCES = tests/lab/src/t36-guest-agent.c
tests_lab_t36_guest_agent_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# The SPICE console of an HVM guest: the driver's port, libxl's and qemu's
# view of it, the SPICE link handshake, VNC beside it.
noinst_PROGRAMS += tests/lab/t35-spice
tests_lab_t35_spice_SOURCES = tests/lab/src/t35-spice.c
tests_lab_t35_spice_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

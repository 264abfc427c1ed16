# xl_driver/diag.mk: the libxl backend's diagnostics and usage counters
# (xl_diag.c: get_diagnostics, get_instance_diagnostics,
# get_instance_disk_info, block_stats, get_all_bw_counters,
# get_all_volume_usage, get_per_instance_usage; xl_qmp.c: QEMU's
# block counters over its statistics QMP monitor), their suite on the fake
# port over a sysfs tree in a temporary directory (tests/test_diag, no Xen
# needed), and the lab test on real Xen. Included from the top-level
# Makefile.am after xl_driver/host.mk.
libnovaxl_internal_la_SOURCES += \
	xl_driver/xl_diag.c \
	xl_driver/xl_diag.h \
	xl_driver/xl_qmp.c \
	xl_driver/xl_qmp.h

if HAVE_CUNIT
check_PROGRAMS += tests/test_diag
TESTS += tests/test_diag
tests_test_diag_SOURCES = tests/test_diag.c
tests_test_diag_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
# A private xenstored (tests/xsd): spawn reads the host's flags there.
tests_test_diag_LDADD = tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
endif

# The same on real Xen, through the public API: run by the lab
# (lab/run.sh) in dom0 (0 pass, 1 fail, 77 skip).
noinst_PROGRAMS += tests/lab/t21-diagnostics
tests_lab_t21_diagnostics_SOURCES = tests/lab/src/t21-diagnostics.c
tests_lab_t21_diagnostics_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# An HVM instance with a NIC on real Xen: the PV vif and the emulated
# NIC's -emu tap named by nxl__xl_vif_ifname, found by the counters.
noinst_PROGRAMS += tests/lab/t29-hvm-nic
tests_lab_t29_hvm_nic_SOURCES = tests/lab/src/t29-hvm-nic.c
tests_lab_t29_hvm_nic_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

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

# The lab tests' shared helpers (checks, bounded waits, console logs, the
# private image cache, leftovers); lab/stage.sh compiles labutil.c into the
# tests it builds itself.
noinst_LTLIBRARIES += tests/lab/liblabutil.la
tests_lab_liblabutil_la_SOURCES = tests/lab/src/labutil.c \
	tests/lab/src/labutil.h

# The same lifecycle on real Xen, through the public API: run by the lab
# (lab/run.sh) in dom0, as every tests/lab/t* program (0 pass, 77 skip).
noinst_PROGRAMS += tests/lab/t20-driver-lifecycle
tests_lab_t20_driver_lifecycle_SOURCES = tests/lab/src/t20-driver-lifecycle.c
tests_lab_t20_driver_lifecycle_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# More of it on real Xen: suspend/resume, out-of-band pause and destroy
# seen by the event listener, soft_delete/restore, rebuild, rescue.
noinst_PROGRAMS += tests/lab/t22-driver-more
tests_lab_t22_driver_more_SOURCES = tests/lab/src/t22-driver-more.c
tests_lab_t22_driver_more_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# The rest of the lifecycle and inventory on real Xen: SOFT reboot and its
# HARD fallback, reboot from paused and halted, power_off's timeout, NMI,
# set_bootable, poll_rebooting_instances, a foreign domain never touched.
noinst_PROGRAMS += tests/lab/t23-driver-rest
tests_lab_t23_driver_rest_SOURCES = tests/lab/src/t23-driver-rest.c
tests_lab_t23_driver_rest_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread

# Kill at every step of spawn (t24), suspend (t25: the steps that touch the
# hypervisor) and rebuild (t26) on real Xen; init_host then leaves nothing
# behind. t25 and t26 are t24's source with another CRASH_OP.
noinst_PROGRAMS += tests/lab/t24-crash-safety
tests_lab_t24_crash_safety_SOURCES = tests/lab/src/t24-crash-safety.c
tests_lab_t24_crash_safety_LDADD = tests/lab/liblabutil.la \
	libnovaxl-internal.la -lpthread
noinst_PROGRAMS += tests/lab/t25-crash-suspend tests/lab/t26-crash-rebuild
tests_lab_t25_crash_suspend_SOURCES = tests/lab/src/t25-crash-suspend.c
tests_lab_t25_crash_suspend_LDADD = $(tests_lab_t24_crash_safety_LDADD)
tests_lab_t26_crash_rebuild_SOURCES = tests/lab/src/t26-crash-rebuild.c
tests_lab_t26_crash_rebuild_LDADD = $(tests_lab_t24_crash_safety_LDADD)

# Root disk images, rebuild onto another image with preserve_ephemeral, a
# missing image, and a simulated host reboot (resume_state_on_host_boot).
noinst_PROGRAMS += tests/lab/t27-host-boot-images
tests_lab_t27_host_boot_images_SOURCES = tests/lab/src/t27-host-boot-images.c
tests_lab_t27_host_boot_images_LDADD = $(tests_lab_t24_crash_safety_LDADD)

# A PVH guest: spawn, suspend, resume (t22 has no room left for it).
noinst_PROGRAMS += tests/lab/t28-pvh-suspend
tests_lab_t28_pvh_suspend_SOURCES = tests/lab/src/t28-pvh-suspend.c
tests_lab_t28_pvh_suspend_LDADD = $(tests_lab_t24_crash_safety_LDADD)

# A zombie domain (a dom0 process holds a page of it, lab/bin/nxl-lab-hold)
# beside an instance's next domain under the same UUID.
noinst_PROGRAMS += tests/lab/t37-zombie-domain
tests_lab_t37_zombie_domain_SOURCES = tests/lab/src/t37-zombie-domain.c
tests_lab_t37_zombie_domain_LDADD = $(tests_lab_t24_crash_safety_LDADD)

# service: novaxld, the dom0 daemon (JSON-RPC 2.0 over Unix sockets), its
# configuration example and systemd unit, and its test (a real novaxld on
# the fake hypervisor port, driven over its socket).
#
# The method table, the configuration file and the log are shared with the
# CLI (cli/novaxl.c runs the same method table in-process with --local, so
# its output is the same with and without a daemon): a convenience library.
noinst_LTLIBRARIES += service/libnxlsvc.la
service_libnxlsvc_la_SOURCES = \
	service/svc.h \
	service/config.c \
	service/log.c \
	service/methods.c

sbin_PROGRAMS += service/novaxld
service_novaxld_SOURCES = \
	service/novaxld.c \
	service/events.c \
	service/server.c
service_novaxld_CPPFLAGS = $(AM_CPPFLAGS) \
	-DNXL_SYSCONFDIR='"$(sysconfdir)"'
# The internal library: --fake-port (tests only) reaches the fake port.
service_novaxld_LDADD = service/libnxlsvc.la libnovaxl-internal.la -lpthread

# The example configuration (every key with its default) goes to
# $(sysconfdir)/novaxl; the unit to $(datadir)/novaxl/systemd, for the
# packager to put where the distribution wants it (no writes outside the
# prefix, DESTDIR respected).
novaxlconfdir = $(sysconfdir)/novaxl
dist_novaxlconf_DATA = etc/novaxl/novaxld.conf
novaxlunitdir = $(datadir)/novaxl/systemd
novaxlunit_DATA = etc/systemd/novaxld.service
CLEANFILES += etc/systemd/novaxld.service
EXTRA_DIST += etc/systemd/novaxld.service.in

etc/systemd/novaxld.service: $(top_srcdir)/etc/systemd/novaxld.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc/systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(top_srcdir)/etc/systemd/novaxld.service.in > $@.tmp && mv $@.tmp $@

if HAVE_CUNIT
check_PROGRAMS += tests/test_service
TESTS += tests/test_service
tests_test_service_SOURCES = tests/test_service.c
tests_test_service_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_test_service_LDADD = tests/libnxltestutil.la \
	tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
endif

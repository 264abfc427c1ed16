# cli: the novaxl command-line tool and its shell test.
bin_PROGRAMS += cli/novaxl
cli_novaxl_SOURCES = cli/novaxl.c
cli_novaxl_CPPFLAGS = $(AM_CPPFLAGS) \
	-DNXL_SYSCONFDIR='"$(sysconfdir)"'
# novaxld's method table runs in-process with --local (service/libnxlsvc.la);
# the internal library: dry-run reaches the config builder, which is not
# part of the public API.
cli_novaxl_LDADD = service/libnxlsvc.la libnovaxl-internal.la

TESTS += tests/test_cli.sh
EXTRA_DIST += tests/test_cli.sh cli/README.md

# The shell tests' JSON reader (tests/test_cli.sh parses --json with it).
check_PROGRAMS += tests/nxl-jsonget
tests_nxl_jsonget_SOURCES = tests/nxl-jsonget.c
tests_nxl_jsonget_LDADD = libnovaxl-internal.la

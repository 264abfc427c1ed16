# cli: the novaxl command-line tool and its shell test.
bin_PROGRAMS += cli/novaxl
cli_novaxl_SOURCES = cli/novaxl.c
# The internal library: dry-run reaches the config builder, which is not
# part of the public API.
cli_novaxl_LDADD = libnovaxl-internal.la

TESTS += tests/test_cli.sh
EXTRA_DIST += tests/test_cli.sh cli/README.md

# tests/contract: the lifecycle contract suite, one source for two targets
# (tests/contract/suite.h): the fake hypervisor port in make check
# (tests/test_contract) and real Xen in the lab (tests/lab/t19-contract-suite).
# Included from the top-level Makefile.am after tests/local.mk.
noinst_LTLIBRARIES += tests/contract/libnxlcontract.la
tests_contract_libnxlcontract_la_SOURCES = tests/contract/suite.c \
	tests/contract/suite.h

if HAVE_CUNIT
check_PROGRAMS += tests/test_contract
TESTS += tests/test_contract
tests_test_contract_SOURCES = tests/test_contract.c
tests_test_contract_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
# A private xenstored (tests/xsd): spawn reads the host's enabled and
# maintenance flags there.
tests_test_contract_LDADD = tests/contract/libnxlcontract.la \
	tests/libnxltestutil.la tests/xsd/libnxlxsdtest.la \
	libnovaxl-internal.la $(CUNIT_LIBS) -lpthread
endif

# The same cases on real Xen: run by the lab in dom0 (0 pass, 77 skip).
noinst_PROGRAMS += tests/lab/t19-contract-suite
tests_lab_t19_contract_suite_SOURCES = tests/lab/src/t19-contract-suite.c
tests_lab_t19_contract_suite_LDADD = tests/contract/libnxlcontract.la \
	tests/lab/liblabutil.la libnovaxl-internal.la -lpthread

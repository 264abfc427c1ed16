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

# The same cases on real Xen, run by the lab in dom0 (0 pass, 77 skip):
# for a PV and a PVH guest, each in three parts, so that every lab test
# stays well inside the lab's bound per test on a loaded machine (the
# whole suite took 270 s for the PV guest on a quiet one).
t19_contract_sources = tests/lab/src/contract-lab.c \
	tests/lab/src/contract-lab.h
t19_contract_ldadd = tests/contract/libnxlcontract.la \
	tests/lab/liblabutil.la libnovaxl-internal.la -lpthread
noinst_PROGRAMS += tests/lab/t19-contract-pv-1 tests/lab/t19-contract-pv-2 \
	tests/lab/t19-contract-pv-3 tests/lab/t19-contract-pvh-1 \
	tests/lab/t19-contract-pvh-2 tests/lab/t19-contract-pvh-3
tests_lab_t19_contract_pv_1_SOURCES = tests/lab/src/t19-contract-pv-1.c \
	$(t19_contract_sources)
tests_lab_t19_contract_pv_1_LDADD = $(t19_contract_ldadd)
tests_lab_t19_contract_pv_2_SOURCES = tests/lab/src/t19-contract-pv-2.c \
	$(t19_contract_sources)
tests_lab_t19_contract_pv_2_LDADD = $(t19_contract_ldadd)
tests_lab_t19_contract_pv_3_SOURCES = tests/lab/src/t19-contract-pv-3.c \
	$(t19_contract_sources)
tests_lab_t19_contract_pv_3_LDADD = $(t19_contract_ldadd)
tests_lab_t19_contract_pvh_1_SOURCES = tests/lab/src/t19-contract-pvh-1.c \
	$(t19_contract_sources)
tests_lab_t19_contract_pvh_1_LDADD = $(t19_contract_ldadd)
tests_lab_t19_contract_pvh_2_SOURCES = tests/lab/src/t19-contract-pvh-2.c \
	$(t19_contract_sources)
tests_lab_t19_contract_pvh_2_LDADD = $(t19_contract_ldadd)
tests_lab_t19_contract_pvh_3_SOURCES = tests/lab/src/t19-contract-pvh-3.c \
	$(t19_contract_sources)
tests_lab_t19_contract_pvh_3_LDADD = $(t19_contract_ldadd)

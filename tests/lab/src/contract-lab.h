/* The lifecycle contract suite on real Xen (contract-lab.c), for the lab
 * tests tests/lab/src/t19-contract-*.c. */
#ifndef NOVAXL_TESTS_LAB_CONTRACT_LAB_H
#define NOVAXL_TESTS_LAB_CONTRACT_LAB_H

/* Runs part (1..parts) of the suite's cases, in order, for
 * examples/EXAMPLE.json on this dom0, with examples/OTHER.json as the
 * other instance; the lab test's exit status (0 pass, 1 fail, 77 off
 * dom0). */
int nxl_lab_contract_main(const char *example, const char *other, unsigned part,
                          unsigned parts);

#endif /* NOVAXL_TESTS_LAB_CONTRACT_LAB_H */

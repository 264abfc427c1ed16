/* A libxc shim for running libxl with no hypervisor, linked into a test
 * executable (which exports it with -export-dynamic so it interposes on
 * libxenctrl's and libxencall's own symbols; libvirt's libxlmock.c does
 * the same).
 *
 * - xc_interface_open() opens the real libxc with XC_OPENFLAG_DUMMY: a real
 *   handle with no privcmd behind it, so libxl_ctx_alloc() succeeds.
 * - xencall0..5, xencall2L and the xencall buffer allocators fail with
 *   ENOSYS, so any hypercall libxl makes fails cleanly instead of
 *   dereferencing the dummy handle's NULL xencall.
 * - xc_version(), xc_physinfo() and xc_domain_getinfolist() answer with
 *   the fake host below, so host-facts code has something to read.
 *
 * xenstore is not faked here: tests pair this with tests/xsd (a real
 * xenstored in userspace) for libxl_ctx_alloc()'s xs_open(0). */
#ifndef NOVAXL_TESTS_MOCKS_XL_SHIM_H
#define NOVAXL_TESTS_MOCKS_XL_SHIM_H

/* The fake host. */
#define NXL_TEST_XC_MAJOR 4
#define NXL_TEST_XC_MINOR 17
#define NXL_TEST_XC_EXTRA ".7-shim"
#define NXL_TEST_XC_NR_CPUS 8
#define NXL_TEST_XC_THREADS_PER_CORE 2
#define NXL_TEST_XC_CORES_PER_SOCKET 4
#define NXL_TEST_XC_CPU_KHZ 2400000
#define NXL_TEST_XC_TOTAL_PAGES (4ULL * 1024 * 1024) /* 16 GiB of 4 KiB */
#define NXL_TEST_XC_FREE_PAGES (3ULL * 1024 * 1024)  /* 12 GiB */

/* How many hypercalls the shim refused (tests assert on it). */
unsigned long nxl_test_xc_refused_hypercalls(void);

#endif /* NOVAXL_TESTS_MOCKS_XL_SHIM_H */

/* Helpers shared by the CUnit suites in tests/: message checks, the
 * CHECK_FAIL/CHECK_OK assertions, temporary directories, suite tables and
 * the run-and-report tail of main(). Link with tests/libnxltestutil.la. */
#ifndef NOVAXL_TESTS_TESTUTIL_H
#define NOVAXL_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <CUnit/Basic.h>

#include "novaxl/nxl.h"

/* True when both are non-NULL and needle occurs in haystack. */
int nxl_test_has(const char *haystack, const char *needle);

/* Asserts that a call failed with want and that the message names what;
 * the call uses e_ as its error argument. With check_code, the error's
 * code must be want as well. */
#define NXL_CHECK_FAIL_(call, want, what, check_code)                          \
    do {                                                                       \
        nxl_error e_ = NXL_ERROR_INIT;                                         \
        int rc_ = (call);                                                      \
        CU_ASSERT_EQUAL(rc_, (want));                                          \
        if (check_code)                                                        \
            CU_ASSERT_EQUAL(e_.code, (want));                                  \
        CU_ASSERT_TRUE(nxl_test_has(nxl_error_message(&e_), (what)));          \
        if (rc_ != (want) || !nxl_test_has(nxl_error_message(&e_), (what)))    \
            fprintf(stderr, "  %s:%d: rc %d, message '%s', wanted '%s'\n",     \
                    __FILE__, __LINE__, rc_, nxl_error_message(&e_), (what));  \
        nxl_error_dispose(&e_);                                                \
    } while (0)

#define CHECK_FAIL(call, want, what) NXL_CHECK_FAIL_(call, want, what, 0)
#define CHECK_FAIL_CODE(call, want, what) NXL_CHECK_FAIL_(call, want, what, 1)

/* Asserts that a call (using e_ as its error argument) returned 0. */
#define CHECK_OK(call)                                                         \
    do {                                                                       \
        nxl_error e_ = NXL_ERROR_INIT;                                         \
        int rc_ = (call);                                                      \
        CU_ASSERT_EQUAL(rc_, 0);                                               \
        if (rc_ != 0)                                                          \
            fprintf(stderr, "  %s:%d: rc %d: %s\n", __FILE__, __LINE__, rc_,   \
                    nxl_error_message(&e_));                                   \
        nxl_error_dispose(&e_);                                                \
    } while (0)

/* Makes "$TMPDIR/<prefix>-XXXXXX" (TMPDIR defaults to /tmp) into dir, of
 * size len. 0, or -1 with errno set (dir is then unspecified). */
int nxl_test_mkdtemp(char *dir, size_t len, const char *prefix);
/* Removes path and everything below it, without following links. 0 or
 * -1. */
int nxl_test_rm_tree(const char *path);

/* $NXL_TEST_SRCDIR (set by make check), else ".". */
const char *nxl_test_srcdir(void);
/* <srcdir>/rel, whole (at most NXL_MAX_DOCUMENT_BYTES): malloc'd and
 * NUL-terminated, *len_r without the NUL; NULL, after a line on stderr,
 * when it cannot be read. */
char *nxl_test_read_src(const char *rel, size_t *len_r);

/* Consoles. A pty pair standing in for xenconsoled's: returns the master
 * (the daemon's end; -1 on failure) and puts the slave's /dev/pts/N path
 * in slave. */
int nxl_test_pty(char *slave, size_t size);
/* A TCP connection to 127.0.0.1:port; -1 when refused. */
int nxl_test_tcp_connect(int port);
/* Reads fd until want has arrived (true), EOF, or bound_s seconds. */
bool nxl_test_read_until(int fd, const char *want, int bound_s);
/* Whether the peer closes fd (EOF) within ms. */
bool nxl_test_eof_within(int fd, int ms);

/* One test of a suite table. */
typedef struct nxl_test_def {
    const char *name;
    CU_TestFunc fn;
} nxl_test_def;

/* Adds a suite with n tests to the registry. 0 or -1. */
int nxl_test_add_suite(const char *name, CU_InitializeFunc init,
                       CU_CleanupFunc cleanup, const nxl_test_def *tests,
                       size_t n);

/* Runs the registry verbosely and cleans it up. Returns the exit status:
 * NXL_TEST_SKIP (77) with "SKIP: why" when skip_why is set and no test
 * failed, else 1 when a test or a suite failed or CUnit reported an error,
 * else 0. skip_why may be NULL. */
int nxl_test_run(const char *skip_why);

#endif /* NOVAXL_TESTS_TESTUTIL_H */

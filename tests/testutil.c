/* Helpers shared by the CUnit suites; see testutil.h. */
#include "config.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"

int nxl_test_has(const char *haystack, const char *needle)
{
    return haystack && needle && strstr(haystack, needle) != NULL;
}

int nxl_test_mkdtemp(char *dir, size_t len, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, len, "%s/%s-XXXXXX", tmp ? tmp : "/tmp", prefix);
    return mkdtemp(dir) ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int nxl_test_rm_tree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int nxl_test_add_suite(const char *name, CU_InitializeFunc init,
                       CU_CleanupFunc cleanup, const nxl_test_def *tests,
                       size_t n)
{
    CU_pSuite s = CU_add_suite(name, init, cleanup);

    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!CU_add_test(s, tests[i].name, tests[i].fn))
            return -1;
    return 0;
}

int nxl_test_run(const char *skip_why)
{
    CU_ErrorCode rc;
    unsigned int failures, suites_failed;

    CU_basic_set_mode(CU_BRM_VERBOSE);
    rc = CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    suites_failed = CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    if (skip_why && skip_why[0] && failures == 0) {
        printf("SKIP: %s\n", skip_why);
        return NXL_TEST_SKIP;
    }
    return rc != CUE_SUCCESS || failures > 0 || suites_failed > 0 ? 1 : 0;
}

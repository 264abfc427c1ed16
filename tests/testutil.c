/* Helpers shared by the CUnit suites; see testutil.h. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"

const char *nxl_test_srcdir(void)
{
    const char *d = getenv("NXL_TEST_SRCDIR");
    return d && *d ? d : ".";
}

char *nxl_test_read_src(const char *rel, size_t *len_r)
{
    char path[4096];
    char *data = NULL;
    nxl_error err = NXL_ERROR_INIT;

    snprintf(path, sizeof(path), "%s/%s", nxl_test_srcdir(), rel);
    if (nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, &data, len_r,
                              &err) != 0) {
        fprintf(stderr, "cannot read %s: %s\n", path, nxl_error_message(&err));
        data = NULL;
    }
    nxl_error_dispose(&err);
    return data;
}

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

int nxl_test_pty(char *slave, size_t size)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    const char *name;

    if (m < 0)
        return -1;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m))) {
        close(m);
        return -1;
    }
    snprintf(slave, size, "%s", name);
    return m;
}

int nxl_test_tcp_connect(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

bool nxl_test_read_until(int fd, const char *want, int bound_s)
{
    char buf[8192];
    size_t len = 0;
    time_t end = time(NULL) + bound_s;

    while (time(NULL) < end && len < sizeof(buf) - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 200) <= 0)
            continue;
        r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0)
            return false;
        len += (size_t)r;
        buf[len] = '\0';
        if (strstr(buf, want))
            return true;
    }
    return false;
}

bool nxl_test_eof_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;

    return poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 0;
}

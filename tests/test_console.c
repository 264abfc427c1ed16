/* Tests of console/con.c and the libxl driver's console members with real
 * files (tails, caps, a huge sparse file, truncation and replacement at
 * the worst moment, rotation with a process that behaves like xenconsoled)
 * and a private real xenstored for the VNC and serial details. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/driver.h"
#include "console/bridge.h"
#include "console/con.h"
#include "novaxl/nxl.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_console.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"

NXL_HIDDEN extern void (*nxl__con_tail_hook)(int fd);

static char dir[256];
static nxl_test_xsd xsd;
static nxl_xs *xs;
static char skip_why[512];

static int files_init(void)
{
    return nxl_test_mkdtemp(dir, sizeof(dir), "nxl-con") == 0 ? 0 : 1;
}

static int files_cleanup(void)
{
    return nxl_test_rm_tree(dir) == 0 ? 0 : 1;
}

static void path_of(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "w");

    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Deterministic content: byte i is 'a' + i % 26, with a newline every 64. */
static char *pattern(size_t n)
{
    char *p = malloc(n + 1);

    for (size_t i = 0; i < n; i++)
        p[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    p[n] = '\0';
    return p;
}

/* ---- tails ------------------------------------------------------------ */

static void test_tail_small_and_missing(void)
{
    char p[PATH_MAX];
    nxl_buf b;

    path_of(p, "guest-small.log");
    write_file(p, "hello\nworld\n", 12);
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, NXL_CON_OUTPUT_MAX, &b, &e_));
    CU_ASSERT_EQUAL(b.len, 12);
    CU_ASSERT_STRING_EQUAL(b.data ?: "", "hello\nworld\n");
    nxl_buf_dispose(&b);

    /* Not written yet: empty, as nova's libvirt driver answers. */
    path_of(p, "guest-none.log");
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, NXL_CON_OUTPUT_MAX, &b, &e_));
    CU_ASSERT_EQUAL(b.len, 0);
    nxl_buf_dispose(&b);
}

static void test_tail_capped(void)
{
    char p[PATH_MAX];
    size_t n = 300 * 1024;
    char *data = pattern(n);
    nxl_buf b;

    path_of(p, "guest-big.log");
    write_file(p, data, n);
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, NXL_CON_OUTPUT_MAX, &b, &e_));
    CU_ASSERT_EQUAL(b.len, NXL_CON_OUTPUT_MAX);
    CU_ASSERT_TRUE(b.data && memcmp(b.data, data + n - NXL_CON_OUTPUT_MAX,
                                    NXL_CON_OUTPUT_MAX) == 0);
    nxl_buf_dispose(&b);
    free(data);
}

static void test_tail_huge_sparse(void)
{
    char p[PATH_MAX];
    const off_t size = (off_t)8 << 30; /* 8 GiB, sparse */
    static const char end[] = "the last line\n";
    struct timespec t0, t1;
    nxl_buf b;
    int fd;

    path_of(p, "guest-huge.log");
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    if (ftruncate(fd, size - (off_t)strlen(end)) != 0 ||
        pwrite(fd, end, strlen(end), size - (off_t)strlen(end)) !=
            (ssize_t)strlen(end)) {
        close(fd);
        CU_FAIL("cannot make a sparse file here");
        return;
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, 4096, &b, &e_));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CU_ASSERT_EQUAL(b.len, 4096);
    CU_ASSERT_TRUE(b.len >= strlen(end) &&
                   memcmp(b.data + b.len - strlen(end), end, strlen(end)) == 0);
    /* Bounded work: reading 8 GiB would take far longer than this. */
    CU_ASSERT_TRUE(t1.tv_sec - t0.tv_sec < 2);
    nxl_buf_dispose(&b);
    unlink(p);
}

static void test_tail_refuses_odd_files(void)
{
    char p[PATH_MAX], target[PATH_MAX];
    nxl_buf b;

    nxl_buf_init(&b);
    path_of(target, "guest-small.log");
    path_of(p, "guest-link.log");
    CU_ASSERT_EQUAL(symlink(target, p), 0);
    CHECK_FAIL(nxl_con_tail(p, 100, &b, &e_), NXL_E_INVAL, "symlink");
    path_of(p, "guest-fifo.log");
    CU_ASSERT_EQUAL(mkfifo(p, 0600), 0);
    /* Would block forever on open or read without O_NONBLOCK + S_ISREG. */
    CHECK_FAIL(nxl_con_tail(p, 100, &b, &e_), NXL_E_INVAL,
               "not a regular file");
    CU_ASSERT_EQUAL(b.len, 0);
    nxl_buf_dispose(&b);
}

static void test_tail_with_rotated(void)
{
    char p[PATH_MAX], p1[PATH_MAX];
    nxl_buf b;

    path_of(p, "guest-rot.log");
    path_of(p1, "guest-rot.log.1");
    write_file(p1, "old-1\nold-2\n", 12);
    write_file(p, "new-1\n", 6);
    /* The live log is short: the rotated one fills up to the cap. */
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, 100, &b, &e_));
    CU_ASSERT_STRING_EQUAL(b.data ?: "", "old-1\nold-2\nnew-1\n");
    nxl_buf_dispose(&b);
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, 10, &b, &e_));
    CU_ASSERT_STRING_EQUAL(b.data ?: "", "d-2\nnew-1\n");
    nxl_buf_dispose(&b);

    /* .1 is the file already read (rotated between the opens): no
     * duplication. */
    unlink(p1);
    CU_ASSERT_EQUAL(link(p, p1), 0);
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, 100, &b, &e_));
    CU_ASSERT_STRING_EQUAL(b.data ?: "", "new-1\n");
    nxl_buf_dispose(&b);

    /* Just rotated, xenconsoled not yet reopened the log: no live file,
     * everything is in .1 (the lab saw this window: 0 bytes). */
    unlink(p1);
    CU_ASSERT_EQUAL(rename(p, p1), 0);
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, 100, &b, &e_));
    CU_ASSERT_STRING_EQUAL(b.data ?: "", "new-1\n");
    nxl_buf_dispose(&b);
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(p, 3, &b, &e_));
    CU_ASSERT_STRING_EQUAL(b.data ?: "", "-1\n");
    nxl_buf_dispose(&b);
    unlink(p1);
}

static char hook_path[PATH_MAX];
static int hook_calls;

/* Copy-truncate rotation right between fstat and read. */
static void hook_truncate(int fd)
{
    if (hook_calls++ == 0) {
        int w = open(hook_path, O_WRONLY | O_TRUNC);

        if (w >= 0) {
            if (write(w, "after\n", 6) != 6)
                hook_calls += 100;
            close(w);
        }
    }
}

/* A new file renamed over the log right between fstat and read. */
static void hook_replace(int fd)
{
    char tmp[PATH_MAX + 8];

    if (hook_calls++ == 0) {
        snprintf(tmp, sizeof(tmp), "%s.new", hook_path);
        write_file(tmp, "replacement\n", 12);
        if (rename(tmp, hook_path) != 0)
            hook_calls += 100;
    }
}

static void test_tail_truncated_mid_read(void)
{
    char *data = pattern(5000);
    nxl_buf b;

    path_of(hook_path, "guest-trunc.log");
    write_file(hook_path, data, 5000);
    hook_calls = 0;
    nxl__con_tail_hook = hook_truncate;
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(hook_path, 1000, &b, &e_));
    nxl__con_tail_hook = NULL;
    /* Never a mix of the old tail and the new content: the new tail. */
    CU_ASSERT_EQUAL(hook_calls, 2);
    CU_ASSERT_STRING_EQUAL(b.data ?: "", "after\n");
    nxl_buf_dispose(&b);
    free(data);
}

static void test_tail_replaced_mid_read(void)
{
    char *data = pattern(5000);
    nxl_buf b;

    path_of(hook_path, "guest-repl.log");
    write_file(hook_path, data, 5000);
    hook_calls = 0;
    nxl__con_tail_hook = hook_replace;
    nxl_buf_init(&b);
    CHECK_OK(nxl_con_tail(hook_path, 1000, &b, &e_));
    nxl__con_tail_hook = NULL;
    /* The descriptor we opened keeps the old file: a consistent tail. */
    CU_ASSERT_EQUAL(hook_calls, 1);
    CU_ASSERT_EQUAL(b.len, 1000);
    CU_ASSERT_TRUE(b.data && memcmp(b.data, data + 4000, 1000) == 0);
    nxl_buf_dispose(&b);
    free(data);
}

/* ---- size policy -------------------------------------------------------- */

static int reopen_count(void *opaque, nxl_error *err)
{
    (*(int *)opaque)++;
    return 0;
}

static void test_rotate_policy(void)
{
    char sub[512], p[PATH_MAX];
    char *big = pattern(3000);
    size_t n = 99;
    int reopened = 0;
    struct stat st;

    snprintf(sub, sizeof(sub), "%s/rot", dir);
    CU_ASSERT_FATAL(mkdir(sub, 0700) == 0);
    snprintf(p, sizeof(p), "%s/guest-a.log", sub);
    write_file(p, big, 3000);
    snprintf(p, sizeof(p), "%s/guest-b.log", sub);
    write_file(p, "small\n", 6);
    snprintf(p, sizeof(p), "%s/other.log", sub);
    write_file(p, big, 3000);
    snprintf(p, sizeof(p), "%s/guest-c.log", sub);
    CU_ASSERT_EQUAL(symlink("other.log", p), 0);

    CHECK_OK(nxl_con_rotate(sub, 1024, reopen_count, &reopened, &n, &e_));
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(reopened, 1);
    snprintf(p, sizeof(p), "%s/guest-a.log.1", sub);
    CU_ASSERT_TRUE(stat(p, &st) == 0 && st.st_size == 3000);
    snprintf(p, sizeof(p), "%s/guest-a.log", sub);
    CU_ASSERT_TRUE(stat(p, &st) != 0 && errno == ENOENT);
    snprintf(p, sizeof(p), "%s/guest-b.log", sub);
    CU_ASSERT_TRUE(stat(p, &st) == 0 && st.st_size == 6);
    snprintf(p, sizeof(p), "%s/other.log", sub); /* not a guest log */
    CU_ASSERT_TRUE(stat(p, &st) == 0 && st.st_size == 3000);
    snprintf(p, sizeof(p), "%s/guest-c.log", sub); /* symlink kept */
    CU_ASSERT_TRUE(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));

    /* Nothing over the cap: no rename, no reopen. */
    CHECK_OK(nxl_con_rotate(sub, 1024, reopen_count, &reopened, &n, &e_));
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(reopened, 1);
    snprintf(p, sizeof(p), "%s/bad.pid", sub);
    write_file(p, "1; reboot\n", 10);
    CHECK_FAIL(nxl_con_reopen_xenconsoled(p, &e_), NXL_E_INVAL,
               "does not hold a process id");
    snprintf(p, sizeof(p), "%s/nope.pid", sub);
    CHECK_FAIL(nxl_con_reopen_xenconsoled(p, &e_), NXL_E_NOT_FOUND, "nope.pid");
    CU_ASSERT_EQUAL(nxl_test_rm_tree(sub), 0);
    free(big);
}

static volatile sig_atomic_t got_hup, got_term;

static void on_hup(int sig)
{
    got_hup = 1;
}

static void on_term(int sig)
{
    got_term = 1;
}

/* Behaves as xenconsoled does for one guest: appends lines to an O_APPEND
 * log and reopens it by name on SIGHUP. */
static void fake_xenconsoled(const char *log)
{
    struct sigaction sa;
    unsigned long i;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    for (i = 0; fd >= 0 && !got_term; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "line %lu\n", i);

        if (got_hup) {
            got_hup = 0;
            close(fd);
            fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd < 0)
                _exit(2);
        }
        if (write(fd, line, (size_t)n) != n)
            _exit(3);
        usleep(200);
    }
    _exit(0);
}

static void test_rotate_with_live_writer(void)
{
    char sub[512], log[1024], pidfile[PATH_MAX], p1[PATH_MAX];
    char pidbuf[32];
    struct stat st;
    size_t n = 0, cap = 4096, rotations = 0;
    char *all = NULL, *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    unsigned long expect = 0;
    int status, tries;
    pid_t pid;

    snprintf(sub, sizeof(sub), "%s/live", dir);
    CU_ASSERT_FATAL(mkdir(sub, 0700) == 0);
    snprintf(log, sizeof(log), "%s/guest-live.log", sub);
    snprintf(p1, sizeof(p1), "%s.1", log);
    snprintf(pidfile, sizeof(pidfile), "%s/xenconsoled.pid", sub);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0)
        fake_xenconsoled(log);
    snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)pid);
    write_file(pidfile, pidbuf, strlen(pidbuf));

    /* Rotate twice while the writer runs. */
    for (tries = 0; tries < 2000 && rotations < 2; tries++) {
        usleep(2000);
        if (stat(log, &st) != 0 || (size_t)st.st_size <= cap)
            continue;
        /* The previous .1 is dropped by design; keep it for checking. */
        if (rotations == 1) {
            nxl_error e = NXL_ERROR_INIT;
            CU_ASSERT_EQUAL(nxl__read_file_capped(p1, 1 << 20, &a, &alen, &e),
                            0);
            nxl_error_dispose(&e);
        }
        CHECK_OK(nxl_con_rotate(sub, cap, nxl_con_reopen_xenconsoled, pidfile,
                                &n, &e_));
        CU_ASSERT_EQUAL(n, 1);
        rotations++;
    }
    usleep(50000); /* let it write to the reopened log */
    kill(pid, SIGTERM);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(rotations, 2);

    /* first .1 (saved), second .1, live log: every line exactly once, in
     * order. Nothing was lost at either rotation. */
    {
        nxl_error e = NXL_ERROR_INIT;
        char *c = NULL;
        size_t clen = 0;

        CU_ASSERT_EQUAL(nxl__read_file_capped(p1, 1 << 20, &b, &blen, &e), 0);
        CU_ASSERT_EQUAL(nxl__read_file_capped(log, 1 << 20, &c, &clen, &e), 0);
        nxl_error_dispose(&e);
        all = malloc(alen + blen + clen + 1);
        if (all) {
            memcpy(all, a ? a : "", alen);
            memcpy(all + alen, b ? b : "", blen);
            memcpy(all + alen + blen, c ? c : "", clen);
            all[alen + blen + clen] = '\0';
        }
        free(c);
    }
    CU_ASSERT_TRUE(alen > cap && blen > cap);
    if (all) {
        char *line = all, *nl;
        bool ok = true;

        while ((nl = strchr(line, '\n'))) {
            unsigned long v;

            *nl = '\0';
            if (sscanf(line, "line %lu", &v) != 1 || v != expect) {
                ok = false;
                fprintf(stderr, "  line %s, expected %lu\n", line, expect);
                break;
            }
            expect++;
            line = nl + 1;
        }
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_TRUE(expect > 100);
    }
    free(all);
    free(a);
    free(b);
    CU_ASSERT_EQUAL(nxl_test_rm_tree(sub), 0);
}

/* ---- xenstore details ------------------------------------------------- */

static int xsd_init(void)
{
    if (nxl_test_xsd_suite_start(&xsd, skip_why, sizeof(skip_why)))
        return 1;
    if (nxl_xs_open(&xs, NULL) != 0)
        return 1;
    return files_init();
}

static int xsd_cleanup(void)
{
    nxl_xs_close(xs);
    xs = NULL;
    nxl_test_xsd_stop(&xsd);
    return files_cleanup();
}

static void put(const char *path, const char *val)
{
    CU_ASSERT_EQUAL(nxl_xs_write_str(xs, XBT_NULL, path, val, NULL), 0);
}

static void test_vnc_details(void)
{
    static const char *const bad_ports[] = {"0",  "65536", "-1",   "+5",
                                            "5a", "",      "99999"};
    nxl_console c;

    nxl_console_init(&c);
    CHECK_FAIL(nxl_con_vnc(xs, 5, &c, &e_), NXL_E_CONSOLE_UNAVAILABLE,
               "/local/domain/5/console/vnc-port is absent");
    put("/local/domain/5/console/vnc-port", "5901");
    put("/local/domain/5/console/vnc-listen", "127.0.0.1");
    CHECK_OK(nxl_con_vnc(xs, 5, &c, &e_));
    CU_ASSERT_EQUAL(c.type, NXL_CONSOLE_VNC);
    CU_ASSERT_EQUAL(c.port, 5901);
    CU_ASSERT_STRING_EQUAL(c.host ?: "", "127.0.0.1");
    CU_ASSERT_PTR_NULL(c.internal_access_path);
    nxl_console_dispose(&c);

    for (size_t i = 0; i < NXL_ARRAY_SIZE(bad_ports); i++) {
        put("/local/domain/5/console/vnc-port", bad_ports[i]);
        nxl_console_init(&c);
        CHECK_FAIL(nxl_con_vnc(xs, 5, &c, &e_), NXL_E_INVAL, "vnc-port");
        CU_ASSERT_PTR_NULL(c.host);
    }
    put("/local/domain/5/console/vnc-port", "5901");
    put("/local/domain/5/console/vnc-listen", "evil host\n");
    CHECK_FAIL(nxl_con_vnc(xs, 5, &c, &e_), NXL_E_INVAL,
               "not an address or host name");
    put("/local/domain/5/console/vnc-listen", "::1");
    CHECK_OK(nxl_con_vnc(xs, 5, &c, &e_));
    nxl_console_dispose(&c);
    CHECK_FAIL(nxl_con_vnc(xs, 0x7FF0U, &c, &e_), NXL_E_INVAL, "reserved");
}

static void test_vnc_guest_written(void)
{
    static const char wr[] = "/local/domain/8/console/vnc-listen\0"
                             "0.0.0.0;rm -rf /";
    nxl_test_xsd_guest g;
    nxl_xs_perms perms;
    nxl_console c;
    uint32_t type = 0;
    char *reply = NULL;
    size_t len = 0;

    /* The guest owns its console directory, as on Xen. */
    put("/local/domain/8/console/vnc-port", "5902");
    put("/local/domain/8/console/vnc-listen", "127.0.0.1");
    nxl_xs_perms_init(&perms);
    perms.owner = 8;
    perms.others = NXL_XS_ACCESS_NONE;
    CU_ASSERT_EQUAL(nxl_xs_set_perms(xs, XBT_NULL,
                                     "/local/domain/8/console/vnc-listen",
                                     &perms, NULL),
                    0);
    nxl_xs_perms_dispose(&perms);
    CU_ASSERT_FATAL(nxl_test_xsd_guest_open(&xsd, 8, &g) == 0);
    CU_ASSERT_EQUAL(nxl_test_xsd_guest_request(&g, XS_WRITE, wr, sizeof(wr) - 1,
                                               &type, &reply, &len),
                    0);
    CU_ASSERT_EQUAL(type, XS_WRITE);
    free(reply);
    /* Checked while the guest is alive: releasing it lets xenstored drop
     * what it owned. */
    nxl_console_init(&c);
    CHECK_FAIL(nxl_con_vnc(xs, 8, &c, &e_), NXL_E_INVAL,
               "not an address or host name");
    CU_ASSERT_PTR_NULL(c.host);
    nxl_test_xsd_guest_close(&g);
}

static void test_serial_tty(void)
{
    char *tty = NULL;

    CHECK_FAIL(nxl_con_serial_tty(xs, 9, &tty, &e_), NXL_E_NOT_FOUND,
               "console/tty");
    put("/local/domain/9/console/tty", "/dev/pts/3");
    CHECK_OK(nxl_con_serial_tty(xs, 9, &tty, &e_));
    CU_ASSERT_STRING_EQUAL(tty ?: "", "/dev/pts/3");
    free(tty);
    tty = NULL;
    put("/local/domain/9/serial/0/tty", "/dev/pts/7");
    CHECK_OK(nxl_con_serial_tty(xs, 9, &tty, &e_));
    CU_ASSERT_STRING_EQUAL(tty ?: "", "/dev/pts/7");
    free(tty);
    tty = NULL;
    put("/local/domain/9/serial/0/tty", "/etc/shadow");
    CHECK_FAIL(nxl_con_serial_tty(xs, 9, &tty, &e_), NXL_E_INVAL,
               "is not a pty");
    CU_ASSERT_PTR_NULL(tty);
}

/* ---- through the driver ------------------------------------------------- */

static void inst_make(nxl_instance *inst, const char *uuid, const char *name)
{
    nxl_instance_init(inst);
    snprintf(inst->uuid, sizeof(inst->uuid), "%s", uuid);
    inst->name = strdup(name);
}

static void test_driver_console_members(void)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_port_dominfo info;
    nxl_driver *drv = NULL;
    nxl_port *port = NULL;
    nxl_instance inst;
    nxl_console c;
    char p[PATH_MAX], dpath[64];
    uint32_t domid = 0;
    nxl_buf out;

    cfg.console_log_dir = dir;
    CU_ASSERT_FATAL(nxl_driver_open("libxl", &cfg, &drv, NULL) == 0);
    inst_make(&inst, "6d3a2b8e-7c41-4f0e-9a55-1b2c3d4e5f60", "instance-0001");
    path_of(p, "guest-instance-0001.log");
    write_file(p, "boot ok\n", 8);
    nxl_buf_init(&out);
    CHECK_OK(nxl_instance_get_console_output(drv, &inst, &out, &e_));
    CU_ASSERT_STRING_EQUAL(out.data ?: "(null)", "boot ok\n");
    nxl_buf_dispose(&out);

    /* No log yet: "" (not NULL). */
    free(inst.name);
    inst.name = strdup("instance-0002");
    nxl_buf_init(&out);
    CHECK_OK(nxl_instance_get_console_output(drv, &inst, &out, &e_));
    CU_ASSERT_STRING_EQUAL(out.data ?: "(null)", "");
    nxl_buf_dispose(&out);

    /* VNC needs the hypervisor. */
    nxl_console_init(&c);
    CHECK_FAIL(nxl_instance_get_vnc_console(drv, &inst, &c, &e_),
               NXL_E_HYPERVISOR, "init_host");
    CU_ASSERT_FATAL(nxl__port_fake_new(&port) == 0);
    CU_ASSERT_FATAL(nxl__xl_driver_use_port(drv, port, false, NULL) == 0);
    CHECK_FAIL(nxl_instance_get_vnc_console(drv, &inst, &c, &e_),
               NXL_E_NOT_FOUND, "instance-0002");
    CU_ASSERT_FATAL(
        nxl__port_fake_external_create(port, "instance-0002", &domid) == 0);
    /* Same name, another instance's UUID: refused. */
    CHECK_FAIL(nxl_instance_get_vnc_console(drv, &inst, &c, &e_),
               NXL_E_NOT_FOUND, "not instance");
    CU_ASSERT_FATAL(port->ops->domain_info(port, domid, &info, NULL) == 0);
    snprintf(inst.uuid, sizeof(inst.uuid), "%s", info.uuid);
    snprintf(dpath, sizeof(dpath), "/local/domain/%u/console/vnc-port", domid);
    put(dpath, "5907");
    snprintf(dpath, sizeof(dpath), "/local/domain/%u/console/vnc-listen",
             domid);
    put(dpath, "127.0.0.1");
    CHECK_OK(nxl_instance_get_vnc_console(drv, &inst, &c, &e_));
    CU_ASSERT_EQUAL(c.port, 5907);
    CU_ASSERT_STRING_EQUAL(c.host ?: "", "127.0.0.1");
    nxl_console_dispose(&c);

    /* Xen has no RDP or MKS: unsupported, with the reason. */
    CHECK_FAIL(nxl_instance_get_rdp_console(drv, &inst, &c, &e_),
               NXL_E_UNSUPPORTED, "RDP");
    CHECK_FAIL(nxl_instance_get_mks_console(drv, &inst, &c, &e_),
               NXL_E_UNSUPPORTED, "MKS");
    nxl_instance_dispose(&inst);
    nxl_driver_close(drv);
}

/* ---- serial bridges -------------------------------------------------- */

static int pty_pair(char *slave, size_t size)
{
    int m = nxl_test_pty(slave, size);

    CU_ASSERT_FATAL(m >= 0);
    return m;
}

static void test_bridge_relay(void)
{
    nxl_con_bridges *set = NULL;
    char tty[64], tty2[64], buf[64];
    unsigned port = 0, port2 = 0;
    int m, m2, c, c2;

    CHECK_FAIL(nxl_con_bridges_new("localhost", 1, 2, &set, &e_), NXL_E_INVAL,
               "serial_listen");
    CHECK_FAIL(nxl_con_bridges_new("127.0.0.1", 9, 2, &set, &e_), NXL_E_INVAL,
               "serial_port_range");
    CHECK_OK(nxl_con_bridges_new("127.0.0.1", 30000 + getpid() % 20000, 65535,
                                 &set, &e_));
    m = pty_pair(tty, sizeof(tty));
    CHECK_FAIL(nxl_con_bridge_start(set, "a", "/dev/pts/../tty", 0, &port, &e_),
               NXL_E_INVAL, "not /dev/pts/<n>");
    CHECK_OK(nxl_con_bridge_start(set, "a", tty, 0, &port, &e_));
    CU_ASSERT(port >= 30000);
    CU_ASSERT_EQUAL(nxl_con_bridge_port(set, "a", buf, sizeof(buf)), port);
    CU_ASSERT_STRING_EQUAL(buf, tty);

    c = nxl_test_tcp_connect((int)port);
    CU_ASSERT_FATAL(c >= 0);
    usleep(100000);
    CU_ASSERT(write(m, "hello\r\n", 7) == 7);
    CU_ASSERT(nxl_test_read_until(c, "hello", 5));
    CU_ASSERT(send(c, "ls\r", 3, 0) == 3);
    CU_ASSERT(nxl_test_read_until(m, "ls\r", 5));
    /* A second client is closed at once; the first one keeps going. */
    c2 = nxl_test_tcp_connect((int)port);
    CU_ASSERT(c2 < 0 || nxl_test_eof_within(c2, 5000));
    if (c2 >= 0)
        close(c2);
    CU_ASSERT(write(m, "again\r\n", 7) == 7);
    CU_ASSERT(nxl_test_read_until(c, "again", 5));
    /* The client leaves; the next one is served. */
    close(c);
    usleep(100000);
    c = nxl_test_tcp_connect((int)port);
    CU_ASSERT_FATAL(c >= 0);
    usleep(100000);
    CU_ASSERT(write(m, "third\r\n", 7) == 7);
    CU_ASSERT(nxl_test_read_until(c, "third", 5));

    /* The domain's pty goes away (it died): the client is dropped. */
    close(m);
    CU_ASSERT(nxl_test_eof_within(c, 5000));
    close(c);

    /* A new pty for the same key (a rebuilt domain) keeps the port; the
     * same port asked for another key is not given twice. */
    m = pty_pair(tty, sizeof(tty));
    CHECK_OK(nxl_con_bridge_start(set, "a", tty, 0, &port2, &e_));
    CU_ASSERT_EQUAL(port2, port);
    m2 = pty_pair(tty2, sizeof(tty2));
    CHECK_OK(nxl_con_bridge_start(set, "b", tty2, port, &port2, &e_));
    CU_ASSERT_NOT_EQUAL(port2, port);
    c = nxl_test_tcp_connect((int)port);
    CU_ASSERT_FATAL(c >= 0);
    usleep(100000);
    CU_ASSERT(write(m, "new pty\r\n", 9) == 9);
    CU_ASSERT(nxl_test_read_until(c, "new pty", 5));
    close(c);
    CU_ASSERT(nxl_con_bridge_stop(set, "a"));
    CU_ASSERT(!nxl_con_bridge_stop(set, "a"));
    CU_ASSERT(nxl_test_tcp_connect((int)port) < 0);
    CU_ASSERT_EQUAL(nxl_con_bridge_port(set, "a", NULL, 0), 0u);
    nxl_con_bridges_free(set);
    CU_ASSERT(nxl_test_tcp_connect((int)port2) < 0);
    close(m);
    close(m2);
}

/* A client that never reads: the bridge stops reading the pty once its
 * one buffer is full (the pty then fills and the writer blocks), and
 * everything arrives, in order, once the client reads. */
static void test_bridge_back_pressure(void)
{
    nxl_con_bridges *set = NULL;
    char tty[64];
    static char chunk[1024];
    size_t sent = 0, recvd = 0;
    unsigned port = 0;
    int m, c, fl;
    time_t end;

    CHECK_OK(nxl_con_bridges_new("127.0.0.1", 30000 + getpid() % 20000, 65535,
                                 &set, &e_));
    m = pty_pair(tty, sizeof(tty));
    CHECK_OK(nxl_con_bridge_start(set, "bp", tty, 0, &port, &e_));
    c = nxl_test_tcp_connect((int)port);
    CU_ASSERT_FATAL(c >= 0);
    usleep(100000);
    fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = (char)('a' + i % 26);
    /* Write until the path pty -> bridge -> socket is full. */
    end = time(NULL) + 10;
    while (time(NULL) < end) {
        ssize_t r = write(m, chunk, sizeof(chunk));

        if (r > 0) {
            sent += (size_t)r;
            continue;
        }
        if (errno != EAGAIN)
            break;
        usleep(50000);
        if (write(m, chunk, 1) < 0 && errno == EAGAIN)
            break;
        sent++;
    }
    CU_ASSERT(time(NULL) < end); /* it did fill up */
    /* What is in flight is bounded by the socket buffers (the bridge's
     * send buffer is capped), the pty's and the bridge's one buffer. */
    CU_ASSERT(sent > 0 && sent < 8 * 1024 * 1024);
    /* Drain: every byte arrives. */
    end = time(NULL) + 10;
    while (recvd < sent && time(NULL) < end) {
        char buf[8192];
        struct pollfd p = {.fd = c, .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 200) <= 0)
            continue;
        r = read(c, buf, sizeof(buf));
        if (r <= 0)
            break;
        recvd += (size_t)r;
    }
    CU_ASSERT_EQUAL(recvd, sent);
    if (recvd != sent)
        fprintf(stderr, "back pressure: sent %zu, received %zu\n", sent, recvd);
    close(c);
    close(m);
    nxl_con_bridges_free(set);
}

static void test_pty_paths(void)
{
    static const char *const good[] = {"/dev/pts/0", "/dev/pts/123456789"};
    static const char *const bad[] = {
        "",
        "/dev/pts/",
        "/dev/pts/1234567890",
        "/dev/pts/1/",
        "/dev/pts/-1",
        "/dev/pts/../1",
        "/dev/ptmx",
        "/dev/tty1",
        "dev/pts/1",
        "/dev/pts/1 ",
        "/dev/pts//1",
    };

    for (size_t i = 0; i < NXL_ARRAY_SIZE(good); i++)
        CU_ASSERT(nxl_con_pty_path_ok(good[i]));
    for (size_t i = 0; i < NXL_ARRAY_SIZE(bad); i++)
        CU_ASSERT(!nxl_con_pty_path_ok(bad[i]));
    CU_ASSERT(!nxl_con_pty_path_ok(NULL));
}

/* ---- xenconsoled's logging, found through a /proc tree ----------------- */

static void fake_proc(const char *proc, const char *pid, const char *comm,
                      const char *cmdline, size_t len)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/%s", proc, pid);
    mkdir(proc, 0700);
    CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/%s/comm", proc, pid);
    write_file(p, comm, strlen(comm));
    snprintf(p, sizeof(p), "%s/%s/cmdline", proc, pid);
    write_file(p, cmdline, len);
}

#define ARGV(s) s, sizeof(s)

static void test_xenconsoled_check(void)
{
    char proc[PATH_MAX], logs[PATH_MAX], cmd[1024], *w = NULL;
    int n;

    snprintf(proc, sizeof(proc), "%s/proc1", dir);
    snprintf(logs, sizeof(logs), "%s/xclogs", dir);
    mkdir(logs, 0700);
    /* Nothing named xenconsoled. */
    fake_proc(proc, "7", "bash\n", ARGV("bash\0--log=guest"));
    CHECK_OK(nxl_con_xenconsoled_check(proc, logs, &w, &e_));
    CU_ASSERT(w && strstr(w, "not running"));
    free(w);
    /* Running, logging nothing (Debian's default). */
    fake_proc(proc, "42", "xenconsoled\n",
              ARGV("/usr/sbin/xenconsoled\0--pid-file=/run/xenconsoled.pid"));
    CHECK_OK(nxl_con_xenconsoled_check(proc, logs, &w, &e_));
    CU_ASSERT(w && strstr(w, "XENCONSOLED_TRACE=guest") &&
              strstr(w, "--log=none"));
    free(w);

    /* Logging guests, to the default directory, not ours. */
    snprintf(proc, sizeof(proc), "%s/proc2", dir);
    fake_proc(proc, "42", "xenconsoled\n",
              ARGV("/usr/sbin/xenconsoled\0--log=guest"));
    CHECK_OK(nxl_con_xenconsoled_check(proc, logs, &w, &e_));
    CU_ASSERT(w && strstr(w, "not to console_log_dir"));
    free(w);

    /* Logging guests into ours ("--log-dir DIR" and "all"): fine. */
    snprintf(proc, sizeof(proc), "%s/proc3", dir);
    n = snprintf(cmd, sizeof(cmd), "xenconsoled%c--log%call%c--log-dir%c%s/", 0,
                 0, 0, 0, logs);
    fake_proc(proc, "42", "xenconsoled\n", cmd, (size_t)n + 1);
    CHECK_OK(nxl_con_xenconsoled_check(proc, logs, &w, &e_));
    CU_ASSERT_PTR_NULL(w);
    free(w);
    snprintf(proc, sizeof(proc), "%s/proc4", dir);
    n = snprintf(cmd, sizeof(cmd), "xenconsoled%c--log=guest%c--log-dir=%s", 0,
                 0, logs);
    fake_proc(proc, "42", "xenconsoled\n", cmd, (size_t)n + 1);
    CHECK_OK(nxl_con_xenconsoled_check(proc, logs, &w, &e_));
    CU_ASSERT_PTR_NULL(w);
    free(w);
    CHECK_FAIL(nxl_con_xenconsoled_check("/nonexistent/proc", logs, &w, &e_),
               NXL_E_IO, "/nonexistent/proc");
}

/* ---- the driver's log upkeep ------------------------------------------ */

static int reopens;

static int count_reopen(void *opaque, nxl_error *err)
{
    (void)opaque;
    (void)err;
    reopens++;
    return 0;
}

static void test_driver_log_rotation(void)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *drv = NULL;
    nxl_port *port = NULL;
    char logs[PATH_MAX], inst[PATH_MAX], p[PATH_MAX], proc[PATH_MAX];
    char *big = pattern(5000), *w;
    struct stat st;

    snprintf(logs, sizeof(logs), "%s/rot-logs", dir);
    snprintf(inst, sizeof(inst), "%s/rot-inst", dir);
    snprintf(proc, sizeof(proc), "%s/rot-proc", dir);
    mkdir(logs, 0700);
    fake_proc(proc, "1", "init\n", ARGV("/sbin/init"));
    cfg.console_log_dir = logs;
    cfg.instances_dir = inst;
    cfg.console_log_cap = 4096;
    cfg.console_log_interval = 3600;
    CU_ASSERT_FATAL(nxl_driver_open("libxl", &cfg, &drv, NULL) == 0);
    CU_ASSERT_FATAL(nxl__port_fake_new(&port) == 0);
    CU_ASSERT_FATAL(nxl__xl_driver_use_port(drv, port, false, NULL) == 0);
    nxl__xl_driver_set_event_poll(drv, 0);
    nxl__xl_console_set_reopen(drv, count_reopen, NULL);
    nxl__xl_console_set_proc(drv, proc);
    path_of(p, "rot-logs/guest-instance-0001.log");
    write_file(p, big, 5000);
    reopens = 0;
    /* Nothing checked before init_host: no warning yet. */
    w = (char *)"stale"; /* overwritten, never freed */
    CHECK_OK(nxl_host_get_console_warning(drv, &w, &e_));
    CU_ASSERT_PTR_NULL(w);
    CHECK_FAIL(nxl_host_get_console_warning(drv, NULL, &e_), NXL_E_INVAL,
               "warning_r");
    CHECK_FAIL(nxl_host_get_console_warning(NULL, &w, &e_), NXL_E_INVAL, "drv");
    /* init_host checks xenconsoled and runs the first upkeep at once. */
    CHECK_OK(nxl_host_init(drv, "h", &e_));
    CHECK_OK(nxl_host_get_console_warning(drv, &w, &e_));
    CU_ASSERT(w && strstr(w, "not running"));
    free(w);
    CU_ASSERT_EQUAL(reopens, 1);
    CU_ASSERT(stat(p, &st) < 0);
    path_of(p, "rot-logs/guest-instance-0001.log.1");
    CU_ASSERT(stat(p, &st) == 0 && st.st_size == 5000);
    /* Over the cap again, but not due: nothing happens until it is. */
    path_of(p, "rot-logs/guest-instance-0001.log");
    write_file(p, big, 5000);
    nxl__xl_console_tick(drv);
    CU_ASSERT_EQUAL(reopens, 1);
    CU_ASSERT(stat(p, &st) == 0);
    nxl__xl_console_logs_due(drv);
    nxl__xl_console_tick(drv);
    CU_ASSERT_EQUAL(reopens, 2);
    CU_ASSERT(stat(p, &st) < 0);
    nxl_driver_close(drv);
    free(big);
}

/* ---- main ------------------------------------------------------------ */

int main(void)
{
    static const nxl_test_def tails[] = {
        {"small and missing logs", test_tail_small_and_missing},
        {"tail is capped", test_tail_capped},
        {"8 GiB sparse log", test_tail_huge_sparse},
        {"symlinks and FIFOs refused", test_tail_refuses_odd_files},
        {"rotated log fills the tail", test_tail_with_rotated},
        {"truncated between fstat and read", test_tail_truncated_mid_read},
        {"replaced between fstat and read", test_tail_replaced_mid_read},
    };
    static const nxl_test_def policy[] = {
        {"rotate over the cap", test_rotate_policy},
        {"rotate under a live O_APPEND writer", test_rotate_with_live_writer},
    };
    static const nxl_test_def details[] = {
        {"vnc from xenstore", test_vnc_details},
        {"vnc value written by the guest", test_vnc_guest_written},
        {"serial pty", test_serial_tty},
        {"driver members", test_driver_console_members},
        {"driver rotates on schedule", test_driver_log_rotation},
    };
    static const nxl_test_def bridges[] = {
        {"pty paths", test_pty_paths},
        {"bridge relays, one client", test_bridge_relay},
        {"bridge back pressure", test_bridge_back_pressure},
        {"xenconsoled logging check", test_xenconsoled_check},
    };

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (nxl_test_add_suite("console tails", files_init, files_cleanup, tails,
                           NXL_ARRAY_SIZE(tails)) ||
        nxl_test_add_suite("console log policy", files_init, files_cleanup,
                           policy, NXL_ARRAY_SIZE(policy)) ||
        nxl_test_add_suite("console details", xsd_init, xsd_cleanup, details,
                           NXL_ARRAY_SIZE(details)) ||
        nxl_test_add_suite("serial bridges and log upkeep", files_init,
                           files_cleanup, bridges, NXL_ARRAY_SIZE(bridges))) {
        CU_cleanup_registry();
        return 1;
    }
    return nxl_test_run(skip_why);
}

/* A private xenstored per test run; see xsd-harness.h and README.md.
 *
 * Talks to the daemon with a few lines of raw protocol (xs_wire.h) rather
 * than through libxenstore or the code under test, so a broken xenstore
 * layer cannot make the harness believe a dead daemon is up, and
 * libxenstore's fallback to /dev/xen/xenbus can never reach a host's real
 * store from here. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "tests/xsd/xsd-harness.h"

#define DEFAULT_XENSTORED "/usr/lib/xen-4.17/bin/xenstored"
#define START_TIMEOUT_MS 10000
#define REPLY_TIMEOUT_MS 5000

static void set_why(nxl_test_xsd *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records why start failed (truncated to x->why). */
static void set_why(nxl_test_xsd *x, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(x->why, sizeof(x->why), fmt, ap);
    va_end(ap);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len) {
        ssize_t n = read(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One request over the unix socket, as dom0. 0 with *type_r set, or -1. */
static int sock_request(const char *socket_path, uint32_t type,
                        const void *payload, size_t len, uint32_t *type_r)
{
    struct sockaddr_un sa;
    struct xsd_sockmsg msg = {type, 1, 0, (uint32_t)len};
    char buf[XENSTORE_PAYLOAD_MAX];
    int fd;
    int ret = -1;

    if (strlen(socket_path) >= sizeof(sa.sun_path) || len > sizeof(buf))
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto out;
    if (write_full(fd, &msg, sizeof(msg)) < 0 ||
        write_full(fd, payload, len) < 0)
        goto out;
    if (read_full(fd, &msg, sizeof(msg)) < 0 || msg.len > sizeof(buf) ||
        read_full(fd, buf, msg.len) < 0)
        goto out;
    *type_r = msg.type;
    ret = 0;
out:
    close(fd);
    return ret;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void print_log(const nxl_test_xsd *x, const char *name)
{
    char path[PATH_MAX + 32];
    char line[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", x->dir, name);
    f = fopen(path, "r");
    if (!f)
        return;
    fprintf(stderr, "---- %s ----\n", path);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

static const char *find_xenstored(void)
{
    static char found[PATH_MAX];
    const char *env = getenv("NXL_TEST_XENSTORED");
    glob_t g;

    if (env && *env)
        return env;
    if (access(DEFAULT_XENSTORED, X_OK) == 0)
        return DEFAULT_XENSTORED;
    /* Another Xen release: the newest installed C daemon. */
    if (glob("/usr/lib/xen-*/bin/xenstored", 0, NULL, &g) == 0 &&
        g.gl_pathc > 0) {
        snprintf(found, sizeof(found), "%s", g.gl_pathv[g.gl_pathc - 1]);
        globfree(&g);
        return found;
    }
    return DEFAULT_XENSTORED;
}

static void child_exec(const nxl_test_xsd *x, const char *bin, const char *shim)
{
    char pidfile[PATH_MAX + 8], logfile[PATH_MAX + 16], tracefile[PATH_MAX + 8];
    const char *trace = getenv("NXL_TEST_XSD_TRACE");
    char *argv[8];
    int argc = 0;
    int fd;

    /* Die with the test, so a crashed run leaves no daemon behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    snprintf(pidfile, sizeof(pidfile), "%s/pid", x->dir);
    snprintf(logfile, sizeof(logfile), "%s/xenstored.log", x->dir);
    snprintf(tracefile, sizeof(tracefile), "%s/trace", x->dir);
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, 0);
        close(fd);
    }
    fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    /* Nothing of the test's (xenstore sockets, CUnit files) leaks in. */
    for (fd = 3; fd < 1024; fd++)
        close(fd);
    /* Only the daemon's environment gets the shim, and only the shim:
     * whatever the test runs under (ASan, valgrind) stays out. */
    setenv("LD_PRELOAD", shim, 1);
    setenv("XENSTORED_RUNDIR", x->dir, 1);
    setenv("XENSTORED_PATH", x->socket, 1);
    setenv("NXL_XSD_DIR", x->dir, 1);
    argv[argc++] = (char *)bin;
    argv[argc++] = "-N"; /* no fork: x->pid is the daemon */
    argv[argc++] = "-F";
    argv[argc++] = pidfile;
    if (trace && *trace && strcmp(trace, "0") != 0) {
        argv[argc++] = "-T";
        argv[argc++] = tracefile;
    }
    argv[argc] = NULL;
    execv(bin, argv);
    fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
    _exit(127);
}

int nxl_test_xsd_start(nxl_test_xsd *x)
{
    const char *bin = find_xenstored();
    const char *builddir = getenv("NXL_TEST_BUILDDIR");
    const char *shim_env = getenv("NXL_TEST_XSD_SHIM");
    const char *tmp = getenv("TMPDIR");
    const char *old = getenv("XENSTORED_PATH");
    char shim[PATH_MAX];
    long long deadline;
    int status;

    memset(x, 0, sizeof(*x));
    x->pid = -1;
    if (access(bin, X_OK) < 0) {
        set_why(x,
                "xenstored not found at %s (install xen-utils-4.17 or set "
                "NXL_TEST_XENSTORED)",
                bin);
        return NXL_TEST_SKIP;
    }
    if (shim_env && *shim_env) {
        snprintf(shim, sizeof(shim), "%s", shim_env);
    } else if (builddir && *builddir) {
        snprintf(shim, sizeof(shim), "%s/tests/xsd/.libs/libnxlxsdshim.so",
                 builddir);
    } else {
        set_why(x, "NXL_TEST_BUILDDIR is not set: run under 'make check' or "
                   "set NXL_TEST_XSD_SHIM to libnxlxsdshim.so");
        return NXL_TEST_SKIP;
    }
    if (access(shim, R_OK) < 0) {
        /* Under make check the shim is built first: missing is a bug. */
        set_why(x, "xenstored shim %s: %s", shim, strerror(errno));
        return -1;
    }
    if (snprintf(x->dir, sizeof(x->dir), "%s/nxl-xsd-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp") >= (int)sizeof(x->dir) ||
        !mkdtemp(x->dir)) {
        set_why(x, "mkdtemp under %s: %s", tmp && *tmp ? tmp : "/tmp",
                strerror(errno));
        x->dir[0] = '\0';
        return -1;
    }
    if (strlen(x->dir) + sizeof("/socket") >
        sizeof(((struct sockaddr_un *)0)->sun_path)) {
        set_why(x, "socket path %s/socket is too long; use a shorter TMPDIR",
                x->dir);
        goto fail;
    }
    memcpy(x->socket, x->dir, strlen(x->dir));
    memcpy(x->socket + strlen(x->dir), "/socket", sizeof("/socket"));
    x->pid = fork();
    if (x->pid < 0) {
        set_why(x, "fork: %s", strerror(errno));
        goto fail;
    }
    if (x->pid == 0)
        child_exec(x, bin, shim);

    deadline = now_ms() + START_TIMEOUT_MS;
    for (;;) {
        uint32_t type;

        if (waitpid(x->pid, &status, WNOHANG) == x->pid) {
            x->pid = -1;
            set_why(x,
                    "xenstored (%s) exited during start-up with status "
                    "0x%x; log follows",
                    bin, (unsigned int)status);
            goto fail;
        }
        if (sock_request(x->socket, XS_READ, "/", 2, &type) == 0 &&
            type == XS_READ)
            break;
        if (now_ms() > deadline) {
            set_why(x,
                    "xenstored (%s) did not answer a read on %s within %d "
                    "ms",
                    bin, x->socket, START_TIMEOUT_MS);
            goto fail;
        }
        sleep_ms(10);
    }

    x->had_path = old != NULL;
    if (old) {
        x->saved_path = strdup(old);
        if (!x->saved_path) {
            set_why(x, "out of memory");
            goto fail;
        }
    }
    if (setenv("XENSTORED_PATH", x->socket, 1) < 0) {
        set_why(x, "setenv: %s", strerror(errno));
        goto fail;
    }
    return 0;

fail:
    print_log(x, "xenstored.log");
    print_log(x, "trace");
    nxl_test_xsd_stop(x);
    return -1;
}

int nxl_test_xsd_suite_start(nxl_test_xsd *x, char *skip_why, size_t len)
{
    int rc = nxl_test_xsd_start(x);

    if (rc == 0)
        return 0;
    fprintf(stderr, "xenstored: %s\n", x->why);
    if (rc == NXL_TEST_SKIP)
        snprintf(skip_why, len, "%s", x->why);
    return 1;
}

void nxl_test_xsd_stop(nxl_test_xsd *x)
{
    if (x->pid > 0) {
        kill(x->pid, SIGKILL);
        while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        x->pid = -1;
    }
    if (x->dir[0]) {
        if (nftw(x->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
            fprintf(stderr, "xsd: removing %s: %s\n", x->dir, strerror(errno));
        else
            x->dir[0] = '\0';
    }
    if (x->saved_path || x->had_path) {
        if (x->saved_path)
            setenv("XENSTORED_PATH", x->saved_path, 1);
    } else {
        unsetenv("XENSTORED_PATH");
    }
    free(x->saved_path);
    x->saved_path = NULL;
    x->had_path = 0;
}

int nxl_test_xsd_dir_exists(const nxl_test_xsd *x)
{
    struct stat st;

    return x->dir[0] && stat(x->dir, &st) == 0;
}

/* ---- acting as a guest -------------------------------------------------- */

int nxl_test_xsd_guest_open(nxl_test_xsd *x, unsigned int domid,
                            nxl_test_xsd_guest *g)
{
    char payload[64], path[PATH_MAX + 32];
    uint32_t type = 0;
    int len, fd;

    memset(g, 0, sizeof(*g));
    g->evtchn_fd = -1;
    g->domid = domid;
    /* domid, ring mfn (unused: the shim maps by domid), remote port. */
    len = snprintf(payload, sizeof(payload), "%u%c%u%c%u", domid, '\0', 0u,
                   '\0', 1u);
    if (sock_request(x->socket, XS_INTRODUCE, payload, (size_t)len + 1, &type) <
            0 ||
        type != XS_INTRODUCE) {
        fprintf(stderr, "xsd: introducing domain %u failed (reply type %u)\n",
                domid, type);
        return -1;
    }
    snprintf(g->socket, sizeof(g->socket), "%s", x->socket);
    snprintf(path, sizeof(path), "%s/ring-%u", x->dir, domid);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "xsd: %s: %s\n", path, strerror(errno));
        nxl_test_xsd_guest_close(g);
        return -1;
    }
    g->ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (g->ring == MAP_FAILED) {
        g->ring = NULL;
        fprintf(stderr, "xsd: mmap %s: %s\n", path, strerror(errno));
        nxl_test_xsd_guest_close(g);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/evtchn", x->dir);
    g->evtchn_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (g->evtchn_fd < 0) {
        fprintf(stderr, "xsd: %s: %s\n", path, strerror(errno));
        nxl_test_xsd_guest_close(g);
        return -1;
    }
    return 0;
}

void nxl_test_xsd_guest_close(nxl_test_xsd_guest *g)
{
    if (g->socket[0]) {
        char payload[16];
        uint32_t type;
        int len = snprintf(payload, sizeof(payload), "%u", g->domid);

        if (sock_request(g->socket, XS_RELEASE, payload, (size_t)len + 1,
                         &type) < 0 ||
            type != XS_RELEASE)
            fprintf(stderr, "xsd: releasing domain %u failed\n", g->domid);
        g->socket[0] = '\0';
    }
    if (g->ring)
        munmap(g->ring, 4096);
    g->ring = NULL;
    if (g->evtchn_fd >= 0)
        close(g->evtchn_fd);
    g->evtchn_fd = -1;
}

static void kick(nxl_test_xsd_guest *g)
{
    uint32_t port = 1; /* anything but the VIRQ port wakes the main loop */

    /* A full FIFO already holds a wake-up, so a failed write is fine. */
    if (write(g->evtchn_fd, &port, sizeof(port)) < 0)
        return;
}

static int ring_put(nxl_test_xsd_guest *g, const void *data, size_t len,
                    long long deadline)
{
    struct xenstore_domain_interface *in = g->ring;
    const char *p = data;

    while (len) {
        XENSTORE_RING_IDX cons, prod;
        size_t space;

        cons = __atomic_load_n(&in->req_cons, __ATOMIC_ACQUIRE);
        prod = in->req_prod;
        space = XENSTORE_RING_SIZE - (prod - cons);
        if (space == 0) {
            if (now_ms() > deadline)
                return -1;
            kick(g);
            sleep_ms(1);
            continue;
        }
        while (space && len) {
            in->req[MASK_XENSTORE_IDX(prod)] = *p++;
            prod++;
            space--;
            len--;
        }
        __atomic_store_n(&in->req_prod, prod, __ATOMIC_RELEASE);
    }
    kick(g);
    return 0;
}

static int ring_get(nxl_test_xsd_guest *g, void *data, size_t len,
                    long long deadline)
{
    struct xenstore_domain_interface *in = g->ring;
    char *p = data;

    while (len) {
        XENSTORE_RING_IDX cons, prod;

        prod = __atomic_load_n(&in->rsp_prod, __ATOMIC_ACQUIRE);
        cons = in->rsp_cons;
        if (prod == cons) {
            if (now_ms() > deadline)
                return -1;
            sleep_ms(1);
            continue;
        }
        while (prod != cons && len) {
            *p++ = in->rsp[MASK_XENSTORE_IDX(cons)];
            cons++;
            len--;
        }
        __atomic_store_n(&in->rsp_cons, cons, __ATOMIC_RELEASE);
        kick(g); /* space freed: xenstored may have more to send */
    }
    return 0;
}

int nxl_test_xsd_guest_request(nxl_test_xsd_guest *g, uint32_t type,
                               const void *payload, size_t len,
                               uint32_t *type_r, char **reply_r, size_t *len_r)
{
    long long deadline = now_ms() + REPLY_TIMEOUT_MS;
    struct xsd_sockmsg msg;
    uint32_t id = ++g->req_id;
    char *body = NULL;

    if (!g->ring || len > XENSTORE_PAYLOAD_MAX)
        return -1;
    msg.type = type;
    msg.req_id = id;
    msg.tx_id = 0;
    msg.len = (uint32_t)len;
    if (ring_put(g, &msg, sizeof(msg), deadline) < 0 ||
        ring_put(g, payload, len, deadline) < 0) {
        fprintf(stderr, "xsd: guest %u: request ring stayed full\n", g->domid);
        return -1;
    }
    for (;;) {
        if (ring_get(g, &msg, sizeof(msg), deadline) < 0 ||
            msg.len > XENSTORE_PAYLOAD_MAX) {
            fprintf(stderr, "xsd: guest %u: no (valid) reply in %d ms\n",
                    g->domid, REPLY_TIMEOUT_MS);
            return -1;
        }
        body = malloc((size_t)msg.len + 1);
        if (!body || ring_get(g, body, msg.len, deadline) < 0) {
            free(body);
            return -1;
        }
        body[msg.len] = '\0';
        if (msg.type != XS_WATCH_EVENT && msg.req_id == id)
            break;
        free(body); /* a watch event or a stale reply */
        body = NULL;
    }
    *type_r = msg.type;
    *len_r = msg.len;
    *reply_r = body;
    return 0;
}

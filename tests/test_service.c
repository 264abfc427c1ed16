/* novaxld over its socket: a real daemon (service/novaxld, built by this
 * tree) started on a private socket in a temp dir, its driver on the fake
 * hypervisor port (--fake-port, the test double) and a private real
 * xenstored (tests/xsd), driven by a real client speaking JSON-RPC 2.0
 * lines over AF_UNIX.
 *
 * What it proves: the lifecycle through the socket (spawn, list, get_info,
 * pause, destroy) with the contract's error kinds; host calls; every
 * contract method and module helper is mapped, and each is called with
 * real parameters, its result or error kind checked (the driver's
 * NotImplementedError passes through); malformed, non-object, oversized and
 * unknown requests get JSON-RPC errors and the connection survives; requests
 * pipelined on one connection and concurrent clients (the new methods
 * too); a long operation (a 3 s power_off) holds up no other client; the
 * read-only socket refuses mutating calls; a peer of another uid (a child that
 * setuid()s to 65534) is refused on the read-write socket and logged;
 * subscribe streams the daemon's events with monotonic ids, resumes with
 * `since`, and reports a gap past the backlog; SIGHUP reloads the config
 * (idle_timeout then closes a silent connection); SIGTERM answers what
 * was read and the daemon exits 0 (under `make check-valgrind` the daemon
 * runs under valgrind too, and a leak fails this exit status).
 *
 * Needs root only for the other-uid test (skipped, and said so, when not
 * root); exits 77 when the private xenstored cannot run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/internal.h"
#include "common/json.h"
#include "common/xml.h"
#include "tests/testutil.h"
#include "tests/xsd/xsd-harness.h"

#define UUID_A "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
#define UUID_MAINT "00000000-0000-4000-8000-00000000004d"
#define BACKLOG 16
#define MAX_REQUEST 65536

static nxl_test_xsd xsd;
static char root[PATH_MAX / 4];
static char rw_path[PATH_MAX], ro_path[PATH_MAX], conf_path[PATH_MAX],
    log_path[PATH_MAX];
static pid_t daemon_pid = -1;
static bool under_valgrind;
/* --fake-proc for the next start_daemon (NULL: the real /proc). */
static const char *daemon_proc;

/* ---- the daemon -------------------------------------------------------------
 */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        perror(path);
        exit(99);
    }
    fputs(text, f);
    fclose(f);
}

static void write_config(unsigned idle_timeout)
{
    char text[1024 + PATH_MAX];

    /* socket_mode 0666: the file's mode lets any uid connect, so the
     * refusal the other-uid test sees is novaxld's SO_PEERCRED check,
     * not the filesystem's. */
    snprintf(text, sizeof(text),
             "# test_service\n"
             "socket_mode = 0666\n"
             "log_level = debug\n"
             "event_backlog = %d\n"
             "max_request_bytes = %d\n"
             "idle_timeout = %u\n"
             "workers = 4\n"
             "host = testhost\n"
             "console_log_dir = %s/console\n",
             BACKLOG, MAX_REQUEST, idle_timeout, root);
    write_file(conf_path, text);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n)
        buf[0] = '\0';
    fclose(f);
    return buf;
}

/* How many times needle is in the daemon's log. */
static unsigned log_count(const char *needle)
{
    char *log = slurp(log_path);
    unsigned n = 0;

    for (char *p = log; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(log);
    return n;
}

static bool log_has(const char *needle)
{
    char *log = slurp(log_path);
    bool found = log && strstr(log, needle) != NULL;

    free(log);
    return found;
}

/* Waits up to ms for needle in the daemon's log. */
static bool wait_log(const char *needle, int ms)
{
    for (int t = 0; t < ms; t += 50) {
        if (log_has(needle))
            return true;
        usleep(50 * 1000);
    }
    return false;
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static int start_daemon(void)
{
    char novaxld[PATH_MAX], inst[PATH_MAX], img[PATH_MAX];
    const char *builddir = getenv("NXL_TEST_BUILDDIR");
    int wait_ms = under_valgrind ? 60000 : 10000;

    snprintf(novaxld, sizeof(novaxld), "%s/service/novaxld",
             builddir ? builddir : ".");
    snprintf(inst, sizeof(inst), "%s/instances", root);
    snprintf(img, sizeof(img), "%s/images", root);
    daemon_pid = fork();
    if (daemon_pid < 0)
        return -1;
    if (daemon_pid == 0) {
        char *args[32];
        int n = 0, fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

        if (fd < 0)
            _exit(98);
        dup2(fd, 2);
        close(fd);
        if (under_valgrind) {
            args[n++] = "valgrind";
            args[n++] = "--quiet";
            args[n++] = "--error-exitcode=99";
            args[n++] = "--leak-check=full";
            args[n++] = "--errors-for-leak-kinds=definite,indirect";
        }
        args[n++] = novaxld;
        args[n++] = "--foreground";
        args[n++] = "--fake-port";
        args[n++] = "--config";
        args[n++] = conf_path;
        args[n++] = "--socket";
        args[n++] = rw_path;
        args[n++] = "--ro-socket";
        args[n++] = ro_path;
        args[n++] = "--instances-dir";
        args[n++] = inst;
        args[n++] = "--image-cache";
        args[n++] = img;
        if (daemon_proc) {
            args[n++] = "--fake-proc";
            args[n++] = (char *)daemon_proc;
        }
        args[n] = NULL;
        execvp(args[0], args);
        _exit(97);
    }
    for (int t = 0; t < wait_ms; t += 50) {
        int fd = connect_to(rw_path), status;

        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (waitpid(daemon_pid, &status, WNOHANG) == daemon_pid) {
            char *log = slurp(log_path);
            fprintf(stderr, "novaxld exited at start:\n%s\n", log);
            free(log);
            daemon_pid = -1;
            return -1;
        }
        usleep(50 * 1000);
    }
    return -1;
}

/* ---- a client
 * ------------------------------------------------------------------ */

typedef struct client {
    int fd;
    char buf[1 << 20];
    size_t len;
} client;

static client *client_open(const char *path)
{
    client *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->fd = connect_to(path);
    if (c->fd < 0) {
        free(c);
        return NULL;
    }
    return c;
}

static void client_close(client *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c);
}

static bool send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static bool client_send(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool client_send(client *c, const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    bool ok;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    ok = send_all(c->fd, line, (size_t)n) && send_all(c->fd, "\n", 1);
    free(line);
    return ok;
}

/* The next line (malloc'd, without newline); NULL on EOF or after ms. *eof
 * says which. */
static char *client_line(client *c, int ms, bool *eof)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (eof)
        *eof = false;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        struct pollfd p = {c->fd, POLLIN, 0};
        long left;
        ssize_t n;

        if (nl) {
            size_t llen = (size_t)(nl - c->buf);
            char *line = malloc(llen + 1);
            memcpy(line, c->buf, llen);
            line[llen] = '\0';
            memmove(c->buf, nl + 1, c->len - llen - 1);
            c->len -= llen + 1;
            return line;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        left = ms - ((t.tv_sec - t0.tv_sec) * 1000 +
                     (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return NULL;
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n <= 0) {
            if (eof)
                *eof = true;
            return NULL;
        }
        c->len += (size_t)n;
    }
}

static int reply_ms(void)
{
    return under_valgrind ? 60000 : 10000;
}

static nxl_json *parse(const char *line)
{
    nxl_json *doc = NULL;

    if (!line || nxl__json_parse(line, strlen(line), 0, &doc, NULL))
        return NULL;
    return doc;
}

/* One request, its reply parsed (NULL when none came). */
static nxl_json *call(client *c, const char *method, const char *params)
{
    static long next_id = 1;
    char *line;
    nxl_json *doc;
    long id = __atomic_fetch_add(&next_id, 1, __ATOMIC_SEQ_CST);

    if (!client_send(
            c, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"%s%s}", id,
            method, params ? ",\"params\":" : "", params ? params : ""))
        return NULL;
    line = client_line(c, reply_ms(), NULL);
    doc = parse(line);
    if (!doc)
        fprintf(stderr, "%s: no reply (got %s)\n", method,
                line ? line : "nothing");
    free(line);
    return doc;
}

static const nxl_json *result_of(const nxl_json *r)
{
    return nxl__json_get(r, "result");
}

static long long error_code(const nxl_json *r)
{
    long long code = 0;

    nxl__json_integer(nxl__json_get(nxl__json_get(r, "error"), "code"), &code);
    return code;
}

static const char *error_kind(const nxl_json *r)
{
    const char *k = nxl__json_string(nxl__json_get(
        nxl__json_get(nxl__json_get(r, "error"), "data"), "kind"));
    return k ? k : "";
}

static const char *error_message(const nxl_json *r)
{
    const char *m =
        nxl__json_string(nxl__json_get(nxl__json_get(r, "error"), "message"));
    return m ? m : "";
}

static bool is_ok(const nxl_json *r)
{
    if (r && nxl__json_get(r, "result") && !nxl__json_get(r, "error"))
        return true;
    fprintf(stderr, "  expected a result, got error %lld %s: %s\n",
            error_code(r), error_kind(r), error_message(r));
    return false;
}

static long long int_of(const nxl_json *v)
{
    long long n = -999;

    nxl__json_integer(v, &n);
    return n;
}

static bool strv_has(const nxl_json *arr, const char *s)
{
    for (size_t i = 0; i < nxl__json_len(arr); i++)
        if (nxl__json_string(nxl__json_at(arr, i)) &&
            strcmp(nxl__json_string(nxl__json_at(arr, i)), s) == 0)
            return true;
    return false;
}

static char *spawn_params(const char *uuid, const char *name)
{
    char *p = NULL;

    if (asprintf(&p,
                 "{\"instance\": {\"uuid\": \"%s\", \"name\": \"%s\","
                 " \"memory_mb\": 128, \"vcpus\": 1, \"root_gb\": 0,"
                 " \"kernel_id\": \"kernel-1\", \"ramdisk_id\": \"initrd-1\"},"
                 " \"image_meta\": {\"id\": \"kernel-1\", \"disk_format\":"
                 " \"aki\", \"properties\": {\"vm_mode\": \"xen\","
                 " \"os_command_line\": \"console=hvc0\"}}}",
                 uuid, name) < 0)
        return NULL;
    return p;
}

static void uuid_n(char *buf, size_t size, unsigned n)
{
    snprintf(buf, size, "7a3e0c55-1b2d-4e6f-8a9b-%012x", n);
}

/* ---- tests
 * ----------------------------------------------------------------------- */

static void test_lifecycle(void)
{
    client *c = client_open(rw_path);
    char *sp = spawn_params(UUID_A, "instance-0000002a");
    nxl_json *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "spawn", sp);
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "uuid")), UUID_A);
    nxl__json_free(r);
    /* the same instance again: the contract's InstanceExists */
    r = call(c, "spawn", sp);
    CU_ASSERT_EQUAL(error_code(r), -32000);
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InstanceExists");
    nxl__json_free(r);

    r = call(c, "list_instance_uuids", NULL);
    CU_ASSERT(is_ok(r) && strv_has(result_of(r), UUID_A));
    nxl__json_free(r);
    r = call(c, "list_instances", "{}");
    CU_ASSERT(is_ok(r) && strv_has(result_of(r), "instance-0000002a"));
    nxl__json_free(r);
    r = call(c, "get_num_instances", NULL);
    CU_ASSERT(is_ok(r) && int_of(result_of(r)) == 1);
    nxl__json_free(r);
    r = call(c, "instance_exists", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r) && nxl__json_type(result_of(r)) == NXL_JSON_BOOL);
    nxl__json_free(r);

    /* UUIDs are taken in any case, answered in canonical lower case */
    r = call(c, "get_info",
             "{\"uuid\": \"2F9C4D1E-8A7B-4C6D-9E0F-1A2B3C4D5E6F\"}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_EQUAL(int_of(nxl__json_get(result_of(r), "state")), 1);
    CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(result_of(r), "id")),
                           UUID_A);
    CU_ASSERT(int_of(nxl__json_get(result_of(r), "domid")) > 0);
    nxl__json_free(r);

    r = call(c, "pause", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r) && nxl__json_type(result_of(r)) == NXL_JSON_NULL);
    nxl__json_free(r);
    r = call(c, "get_info", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(int_of(nxl__json_get(result_of(r), "state")), 3);
    nxl__json_free(r);
    r = call(c, "pause", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(error_code(r), -32000);
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InstanceInvalidState");
    CU_ASSERT(strstr(error_message(r), "pause") != NULL);
    nxl__json_free(r);
    r = call(c, "unpause", "{\"uuid\": \"" UUID_A "\", \"name\": \"x\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "reboot",
             "{\"uuid\": \"" UUID_A "\", \"reboot_type\": \"HARD\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "power_off", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "get_info", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(int_of(nxl__json_get(result_of(r), "state")), 4);
    nxl__json_free(r);
    r = call(c, "power_on", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "trigger_crash_dump", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);

    r = call(c, "destroy", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "get_info", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(error_code(r), -32000);
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InstanceNotFound");
    CU_ASSERT(strstr(error_message(r), UUID_A) != NULL);
    nxl__json_free(r);
    r = call(c, "get_num_instances", NULL);
    CU_ASSERT(is_ok(r) && int_of(result_of(r)) == 0);
    nxl__json_free(r);
    /* the daemon logs lines about an instance with its UUID */
    CU_ASSERT(wait_log("instance " UUID_A ": destroy: done", 2000));
    free(sp);
    client_close(c);
}

static void test_host_calls(void)
{
    client *c = client_open(rw_path);
    char *sp;
    nxl_json *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "get_available_resource", NULL);
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "hypervisor_type")),
        "xen");
    CU_ASSERT(int_of(nxl__json_get(result_of(r), "vcpus")) > 0);
    nxl__json_free(r);
    r = call(c, "get_available_nodes", "{\"refresh\": true}");
    CU_ASSERT(is_ok(r) && nxl__json_len(result_of(r)) == 1);
    nxl__json_free(r);
    r = call(c, "get_host_cpu_stats", NULL);
    CU_ASSERT(is_ok(r) && nxl__json_get(result_of(r), "idle") != NULL);
    nxl__json_free(r);
    r = call(c, "get_host_uptime", NULL);
    CU_ASSERT(is_ok(r) && nxl__json_string(result_of(r)) != NULL);
    nxl__json_free(r);
    r = call(c, "capabilities", NULL);
    CU_ASSERT(is_ok(r) && nxl__json_type(result_of(r)) == NXL_JSON_OBJECT);
    nxl__json_free(r);
    r = call(c, "set_host_enabled", "{\"enabled\": false}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(nxl__json_string(result_of(r)), "disabled");
    nxl__json_free(r);
    r = call(c, "set_host_enabled", "{\"enabled\": true}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(nxl__json_string(result_of(r)), "enabled");
    nxl__json_free(r);
    r = call(c, "set_host_enabled", "{\"enabled\": \"yes\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InvalidInput");
    nxl__json_free(r);
    /* An instance on the host stays (no migration target) and is
     * reported as not evacuated, with the reason. */
    sp = spawn_params(UUID_MAINT, "instance-0000004d");
    r = call(c, "spawn", sp);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    free(sp);
    r = call(c, "host_maintenance_mode",
             "{\"host\": \"testhost\", \"mode\": true}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "state")) ?: "",
        "on_maintenance");
    CU_ASSERT(
        strv_has(nxl__json_get(result_of(r), "not_evacuated"), UUID_MAINT));
    CU_ASSERT(
        strstr(nxl__json_string(nxl__json_get(result_of(r), "reason")) ?: "",
               "no migration target") != NULL);
    nxl__json_free(r);
    r = call(c, "host_maintenance_mode",
             "{\"host\": \"testhost\", \"mode\": false}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "state")) ?: "",
        "off_maintenance");
    CU_ASSERT_EQUAL(nxl__json_len(nxl__json_get(result_of(r), "not_evacuated")),
                    0);
    CU_ASSERT_EQUAL(nxl__json_type(nxl__json_get(result_of(r), "reason")),
                    NXL_JSON_NULL);
    nxl__json_free(r);
    r = call(c, "destroy", "{\"uuid\": \"" UUID_MAINT "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    client_close(c);
}

/* Every contract method and module helper of include/novaxl/nxl.h is
 * mapped: never "method not found" (-32601), never "not implemented yet
 * by novaxld" (-32001). */
static void test_every_contract_method(void)
{
    const char *srcdir = getenv("NXL_TEST_SRCDIR");
    char path[PATH_MAX];
    client *c = client_open(rw_path);
    char *hdr, *p;
    unsigned n = 0, todo = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    snprintf(path, sizeof(path), "%s/include/novaxl/nxl.h",
             srcdir ? srcdir : "..");
    hdr = slurp(path);
    CU_ASSERT_FATAL(hdr && hdr[0]);
    for (p = hdr; (p = strstr(p, "/* contract"));) {
        char name[128];
        nxl_json *r;

        p += strlen("/* contract");
        if (strncmp(p, ": ", 2) == 0)
            p += 2;
        else if (strncmp(p, "-module: ", 9) == 0)
            p += 9;
        else
            continue;
        if (sscanf(p, "%127[a-z_]", name) != 1)
            continue;
        n++;
        /* A uuid and nothing else: enough to reach every handler's
         * parameter checks without changing anything for real. */
        r = call(c, name,
                 "{\"uuid\": \"00000000-0000-4000-8000-000000000000\"}");
        CU_ASSERT_PTR_NOT_NULL(r);
        if (!r)
            continue;
        if (error_code(r) == -32601)
            fprintf(stderr, "  %s: method not found\n", name);
        CU_ASSERT_NOT_EQUAL(error_code(r), -32601);
        if (error_code(r) == -32001) {
            todo++;
            CU_ASSERT(strstr(error_message(r), "not implemented yet") != NULL);
            CU_ASSERT_STRING_EQUAL(error_kind(r), "NotImplementedError");
        }
        nxl__json_free(r);
    }
    CU_ASSERT(n >= 120);
    /* every contract method is mapped: none left "not implemented yet
     * by novaxld" (the driver's own NotImplementedError comes as -32000) */
    CU_ASSERT_EQUAL(todo, 0);
    printf("\n    %u contract methods, %u mapped, %u not implemented yet\n", n,
           n - todo, todo);
    free(hdr);
    client_close(c);
}

static void expect_error(client *c, long long code)
{
    char *line = client_line(c, reply_ms(), NULL);
    nxl_json *r = parse(line);

    CU_ASSERT_PTR_NOT_NULL(r);
    if (error_code(r) != code)
        fprintf(stderr, "  want error %lld, got: %s\n", code,
                line ? line : "nothing");
    CU_ASSERT_EQUAL(error_code(r), code);
    free(line);
    nxl__json_free(r);
}

static void test_bad_input(void)
{
    client *c = client_open(rw_path);
    char *big;
    nxl_json *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT(client_send(c, "{this is not json"));
    expect_error(c, -32700);
    CU_ASSERT(client_send(
        c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get_host_uptime\"}]"));
    expect_error(c, -32600);
    CU_ASSERT(client_send(c, "{\"id\":1,\"method\":\"get_host_uptime\"}"));
    expect_error(c, -32600);
    CU_ASSERT(
        client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}"));
    expect_error(c, -32600);
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":42}"));
    expect_error(c, -32600);
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get_"
                             "info\",\"params\":[1]}"));
    expect_error(c, -32602);
    CU_ASSERT(client_send(
        c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"get_info\"}"));
    expect_error(c, -32700); /* duplicate key */
    CU_ASSERT(client_send(
        c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\\u0000y\"}"));
    expect_error(c, -32700);
    /* bytes that are not UTF-8, and a NUL inside the line */
    CU_ASSERT(send_all(c->fd, "{\"a\":\"\xff\xfe\"}\n", 11));
    expect_error(c, -32700);
    CU_ASSERT(send_all(c->fd, "{\"a\"\0:1}\n", 9));
    expect_error(c, -32700);
    /* deep nesting */
    big = malloc(MAX_REQUEST);
    memset(big, '[', 1000);
    big[1000] = '\0';
    CU_ASSERT(client_send(c, "%s", big));
    expect_error(c, -32700);
    /* over max_request_bytes: refused, the rest of the line skipped */
    memset(big, ' ', MAX_REQUEST - 1);
    big[MAX_REQUEST - 1] = '\0';
    CU_ASSERT(client_send(c,
                          "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get_host_"
                          "uptime\",\"pad\":\"%s%s\"}",
                          big, big));
    expect_error(c, -32600);
    free(big);

    r = call(c, "no_such_method", NULL);
    CU_ASSERT_EQUAL(error_code(r), -32601);
    nxl__json_free(r);
    r = call(c, "get_info", "{\"uuid\": \"not-a-uuid\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InvalidInput");
    CU_ASSERT(strstr(error_message(r), "uuid") != NULL);
    nxl__json_free(r);
    r = call(c, "get_info", NULL);
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    r = call(c, "spawn", "{\"instance\": {\"uuid\": \"" UUID_A "\"}}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    CU_ASSERT(strstr(error_message(r), "instance.name") != NULL);
    nxl__json_free(r);
    r = call(c, "reboot",
             "{\"uuid\": \"" UUID_A "\", \"reboot_type\": \"SIDEWAYS\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    r = call(c, "power_off", "{\"uuid\": \"" UUID_A "\", \"timeout\": -1}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    /* a notification (no id) gets no reply; blank lines are ignored */
    CU_ASSERT(
        client_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"get_host_uptime\"}"));
    CU_ASSERT(client_send(c, "   "));
    /* after all that, the connection still works */
    r = call(c, "get_host_uptime", NULL);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    client_close(c);

    /* a peer that sends half a request and goes: the daemon lives on */
    c = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT(send_all(c->fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"met", 29));
    client_close(c);
    c = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "get_num_instances", NULL);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    client_close(c);
}

/* Ten requests written at once on one connection; the replies come back
 * (in any order) matched by id, string ids included. */
static void test_pipelined(void)
{
    client *c = client_open(rw_path);
    bool seen[10] = {false};

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (int i = 0; i < 10; i++)
        CU_ASSERT(client_send(
            c,
            "{\"jsonrpc\":\"2.0\",\"id\":\"req-%d\","
            "\"method\":\"%s\"}",
            i, i % 2 ? "get_host_uptime" : "get_available_resource"));
    for (int i = 0; i < 10; i++) {
        char *line = client_line(c, reply_ms(), NULL);
        nxl_json *r = parse(line);
        const char *id = nxl__json_string(nxl__json_get(r, "id"));
        int k = -1;

        CU_ASSERT(is_ok(r));
        CU_ASSERT(id && sscanf(id, "req-%d", &k) == 1 && k >= 0 && k < 10);
        if (k >= 0 && k < 10) {
            CU_ASSERT(!seen[k]);
            seen[k] = true;
        }
        free(line);
        nxl__json_free(r);
    }
    for (int i = 0; i < 10; i++)
        CU_ASSERT(seen[i]);
    client_close(c);
}

typedef struct worker_arg {
    unsigned n;
    int failures;
} worker_arg;

static void *client_thread(void *arg)
{
    worker_arg *a = arg;
    client *c = client_open(rw_path);
    char uuid[64], name[64], params[128];
    char *sp;
    nxl_json *r;

    if (!c) {
        a->failures++;
        return NULL;
    }
    uuid_n(uuid, sizeof(uuid), a->n);
    snprintf(name, sizeof(name), "instance-%08x", a->n);
    snprintf(params, sizeof(params), "{\"uuid\": \"%s\"}", uuid);
    sp = spawn_params(uuid, name);
    r = call(c, "spawn", sp);
    a->failures += !r || !nxl__json_get(r, "result");
    nxl__json_free(r);
    for (int i = 0; i < 5; i++) {
        r = call(c, "get_info", params);
        a->failures += int_of(nxl__json_get(result_of(r), "state")) != 1;
        nxl__json_free(r);
    }
    r = call(c, "destroy", params);
    a->failures += !r || !nxl__json_get(r, "result");
    nxl__json_free(r);
    free(sp);
    client_close(c);
    return NULL;
}

static void test_concurrent_clients(void)
{
    enum { N = 6 };
    pthread_t t[N];
    worker_arg a[N];
    client *c;
    nxl_json *r;

    for (unsigned i = 0; i < N; i++) {
        a[i].n = 100 + i;
        a[i].failures = 0;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, client_thread, &a[i]),
                              0);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(a[i].failures, 0);
    }
    c = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "get_num_instances", NULL);
    CU_ASSERT(is_ok(r) && int_of(result_of(r)) == 0);
    nxl__json_free(r);
    client_close(c);
}

static void test_read_only_socket(void)
{
    client *c = client_open(ro_path);
    char *sp = spawn_params(UUID_A, "instance-ro");
    nxl_json *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "list_instance_uuids", NULL);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "get_available_resource", NULL);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "spawn", sp);
    CU_ASSERT_EQUAL(error_code(r), -32003);
    CU_ASSERT_STRING_EQUAL(error_kind(r), "Forbidden");
    nxl__json_free(r);
    r = call(c, "destroy", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(error_code(r), -32003);
    nxl__json_free(r);
    r = call(c, "get_console_output", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(error_code(r), -32003);
    nxl__json_free(r);
    /* the refused spawn did nothing */
    r = call(c, "get_num_instances", NULL);
    CU_ASSERT(is_ok(r) && int_of(result_of(r)) == 0);
    nxl__json_free(r);
    CU_ASSERT(wait_log("spawn refused on the read-only socket", 2000));
    free(sp);
    client_close(c);
}

/* A child that becomes uid/gid 65534 connects to both sockets: refused
 * (one error line, then EOF) on the read-write one; served on the
 * read-only one. Exit status: 0 when both held. */
static void test_other_uid_refused(void)
{
    pid_t pid;
    int status;

    if (geteuid() != 0) {
        printf("\n    skipped: needs root to setuid() a client to 65534\n");
        return;
    }
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        client *c;
        char *line;
        nxl_json *r;
        bool eof = false;

        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(10);
        c = client_open(rw_path);
        if (!c)
            _exit(11);
        line = client_line(c, reply_ms(), NULL);
        r = parse(line);
        if (error_code(r) != -32003 || strcmp(error_kind(r), "Forbidden"))
            _exit(12);
        nxl__json_free(r);
        free(line);
        if (client_line(c, reply_ms(), &eof) || !eof)
            _exit(13);
        client_close(c);
        c = client_open(ro_path);
        if (!c)
            _exit(14);
        r = call(c, "get_num_instances", NULL);
        if (!r || !nxl__json_get(r, "result"))
            _exit(15);
        nxl__json_free(r);
        r = call(c, "pause", "{\"uuid\": \"" UUID_A "\"}");
        if (error_code(r) != -32003)
            _exit(16);
        nxl__json_free(r);
        client_close(c);
        _exit(0);
    }
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status));
    if (WEXITSTATUS(status))
        fprintf(stderr, "  other-uid child failed at step %d\n",
                WEXITSTATUS(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
    CU_ASSERT(wait_log("refused a connection on the read-write socket from "
                       "pid",
                       2000));
    CU_ASSERT(wait_log("uid 65534", 2000));
}

/* Reads stream lines until one of type want (others, e.g. lifecycle
 * events from the driver, are checked for monotonic ids and skipped). */
static nxl_json *next_event(client *c, const char *want, long long *last_id)
{
    for (;;) {
        char *line = client_line(c, reply_ms(), NULL);
        nxl_json *ev = parse(line);
        const char *type = nxl__json_string(nxl__json_get(ev, "type"));
        long long id = int_of(nxl__json_get(ev, "id"));

        free(line);
        if (!ev || !type) {
            nxl__json_free(ev);
            return NULL;
        }
        CU_ASSERT(id > *last_id);
        *last_id = id;
        if (strcmp(type, want) == 0)
            return ev;
        nxl__json_free(ev);
    }
}

/* Every transition of an aggregate reaches subscribers as an "aggregate"
 * event, before the operation event of the call that caused it. */
static void test_aggregate_events(void)
{
    static const char *const steps[][2] = {
        {"none", "created"},       {"created", "changing"},
        {"changing", "active"},    {"active", "changing"},
        {"changing", "dismissed"},
    };
    client *sub = client_open(rw_path), *c = client_open(rw_path);
    const char *agg = "{\"aggregate\": {\"id\": 601, \"name\": \"evagg\"},"
                      " \"host\": \"testhost\"}";
    long long id;
    nxl_json *r, *ev;

    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(sub, "subscribe", NULL);
    CU_ASSERT(is_ok(r));
    id = int_of(nxl__json_get(result_of(r), "last_id"));
    nxl__json_free(r);
    r = call(c, "add_to_aggregate", agg);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "remove_from_aggregate", agg);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    for (size_t i = 0; i < NXL_ARRAY_SIZE(steps); i++) {
        long long aid = 0;

        ev = next_event(sub, "aggregate", &id);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
        nxl__json_integer(nxl__json_get(ev, "aggregate_id"), &aid);
        CU_ASSERT_EQUAL(aid, 601);
        CU_ASSERT_STRING_EQUAL(
            nxl__json_string(nxl__json_get(ev, "aggregate_name")) ?: "",
            "evagg");
        CU_ASSERT_STRING_EQUAL(
            nxl__json_string(nxl__json_get(ev, "from")) ?: "", steps[i][0]);
        CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(ev, "to")) ?: "",
                               steps[i][1]);
        CU_ASSERT_STRING_EQUAL(
            nxl__json_string(nxl__json_get(ev, "host")) ?: "", "testhost");
        CU_ASSERT(strlen(nxl__json_string(nxl__json_get(ev, "reason")) ?: "") >
                  0);
        nxl__json_free(ev);
    }
    client_close(sub);
    client_close(c);
}

static void test_events(void)
{
    client *sub = client_open(rw_path), *c = client_open(rw_path);
    char *sp = spawn_params(UUID_A, "instance-ev");
    const char *methods[] = {"spawn", "pause", "destroy"};
    long long first = 0, last = 0, id, resume_from;
    char params[64];
    nxl_json *r, *ev;

    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(sub, "subscribe", NULL);
    CU_ASSERT(is_ok(r));
    last = int_of(nxl__json_get(result_of(r), "last_id"));
    CU_ASSERT(last >= 0);
    CU_ASSERT(nxl__json_string(nxl__json_get(result_of(r), "epoch")) != NULL);
    nxl__json_free(r);
    first = last;

    r = call(c, "spawn", sp);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "pause", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "pause",
             "{\"uuid\": \"" UUID_A "\"}"); /* fails: an event too */
    CU_ASSERT_EQUAL(error_code(r), -32000);
    nxl__json_free(r);
    r = call(c, "destroy", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);

    id = last;
    for (size_t i = 0; i < 4; i++) {
        ev = next_event(sub, "operation", &id);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
        CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(ev, "method")),
                               methods[i < 2 ? i : i - 1]);
        CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(ev, "uuid")),
                               UUID_A);
        if (i == 2) {
            bool ok = true;
            nxl__json_bool(nxl__json_get(ev, "ok"), &ok);
            CU_ASSERT(!ok);
            CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(
                                       nxl__json_get(ev, "error"), "kind")),
                                   "InstanceInvalidState");
        }
        if (i == 0)
            resume_from = int_of(nxl__json_get(ev, "id"));
        nxl__json_free(ev);
    }
    last = id;
    client_close(sub);

    /* Reconnect with since = the spawn's id: everything after it again,
     * same ids, nothing before. */
    sub = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    snprintf(params, sizeof(params), "{\"since\": %lld}", resume_from);
    r = call(sub, "subscribe", params);
    CU_ASSERT(is_ok(r));
    CU_ASSERT_EQUAL(int_of(nxl__json_get(result_of(r), "last_id")), last);
    nxl__json_free(r);
    id = resume_from;
    ev = next_event(sub, "operation", &id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT(int_of(nxl__json_get(ev, "id")) > resume_from);
    CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(ev, "method")),
                           "pause");
    nxl__json_free(ev);
    client_close(sub);

    /* Past the backlog: more than BACKLOG events, then resume from the
     * first id: a gap event, then the backlog from its oldest entry. */
    for (int i = 0; i < BACKLOG + 4; i++) {
        r = call(c, "set_host_enabled",
                 i % 2 ? "{\"enabled\": true}" : "{\"enabled\": false}");
        CU_ASSERT(is_ok(r));
        nxl__json_free(r);
    }
    r = call(c, "set_host_enabled", "{\"enabled\": true}");
    nxl__json_free(r);
    sub = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    snprintf(params, sizeof(params), "{\"since\": %lld}", first);
    r = call(sub, "subscribe", params);
    CU_ASSERT(is_ok(r));
    last = int_of(nxl__json_get(result_of(r), "last_id"));
    CU_ASSERT(int_of(nxl__json_get(result_of(r), "oldest_id")) > first + 1);
    nxl__json_free(r);
    id = first;
    ev = next_event(sub, "gap", &id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_EQUAL(int_of(nxl__json_get(ev, "from")), first + 1);
    CU_ASSERT_EQUAL(int_of(nxl__json_get(ev, "to")), last - BACKLOG);
    nxl__json_free(ev);
    ev = next_event(sub, "operation", &id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_EQUAL(int_of(nxl__json_get(ev, "id")), last - BACKLOG + 1);
    CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(ev, "method")),
                           "set_host_enabled");
    nxl__json_free(ev);
    client_close(sub);

    /* An id from the future (another run of the daemon) is refused. */
    sub = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    snprintf(params, sizeof(params), "{\"since\": %lld}", last + 1000);
    r = call(sub, "subscribe", params);
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    /* and the read-only socket may subscribe */
    client_close(sub);
    sub = client_open(ro_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    r = call(sub, "subscribe", "{}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    client_close(sub);
    free(sp);
    client_close(c);
}

/* SIGHUP re-reads the file: idle_timeout 1 then closes a silent
 * connection; a bad file keeps the running configuration. */
static void test_sighup_reload(void)
{
    client *c;
    bool eof = false;
    char *line;

    write_config(1);
    CU_ASSERT_EQUAL(kill(daemon_pid, SIGHUP), 0);
    CU_ASSERT(wait_log("reloaded: log_level debug, idle_timeout 1 s", 5000));
    c = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    line = client_line(c, 5000, &eof);
    CU_ASSERT_PTR_NULL(line);
    CU_ASSERT(eof);
    free(line);
    client_close(c);
    CU_ASSERT(wait_log("idle for 1 s: closing", 2000));

    write_file(conf_path, "no_such_key = 1\n");
    CU_ASSERT_EQUAL(kill(daemon_pid, SIGHUP), 0);
    CU_ASSERT(
        wait_log("reload failed, keeping the running configuration", 5000));
    write_config(300);
    CU_ASSERT_EQUAL(kill(daemon_pid, SIGHUP), 0);
    CU_ASSERT(wait_log("idle_timeout 300 s", 5000));
}

/* SIGTERM: a request already read is answered, then the connection
 * closes, the socket goes, and the daemon exits 0 (valgrind-clean when
 * run under it). */
static void test_sigterm(void)
{
    client *c = client_open(rw_path);
    char *sp = spawn_params(UUID_A, "instance-term");
    char *line;
    nxl_json *r;
    bool eof = false;
    int status;

    unsigned queued = log_count("spawn queued");

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT(client_send(c,
                          "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"spawn\","
                          "\"params\":%s}",
                          sp));
    /* read and queued (not necessarily started) before the signal */
    for (int t = 0; t < reply_ms() && log_count("spawn queued") == queued;
         t += 20)
        usleep(20 * 1000);
    CU_ASSERT(log_count("spawn queued") > queued);
    CU_ASSERT_EQUAL(kill(daemon_pid, SIGTERM), 0);
    line = client_line(c, reply_ms(), NULL);
    r = parse(line);
    CU_ASSERT(is_ok(r));
    CU_ASSERT_EQUAL(int_of(nxl__json_get(r, "id")), 77);
    nxl__json_free(r);
    free(line);
    line = client_line(c, reply_ms(), &eof);
    CU_ASSERT_PTR_NULL(line);
    CU_ASSERT(eof);
    free(line);
    client_close(c);
    CU_ASSERT_EQUAL(waitpid(daemon_pid, &status, 0), daemon_pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        char *log = slurp(log_path);
        fprintf(stderr, "novaxld exit status %d; log:\n%s\n", status, log);
        free(log);
    }
    daemon_pid = -1;
    CU_ASSERT(access(rw_path, F_OK) != 0);
    CU_ASSERT(access(ro_path, F_OK) != 0);
    CU_ASSERT(log_has("stopped"));
    free(sp);
}

/* ---- the JSON helpers the service uses (common/json.c)
 * -------------------------- */

static void test_json_writer(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *doc = NULL;
    nxl_jw *w = nxl__jw_new();
    char *text = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "s", "a\"b\n");
    nxl__jw_kv_uint(w, "big", 18446744073709551615ULL);
    nxl__jw_kv_int(w, "neg", -5);
    nxl__jw_kv_bool(w, "t", true);
    nxl__jw_kv_string(w, "none", NULL);
    nxl__jw_key(w, "doc");
    nxl__jw_document(w, "{\"x\": [1, 2.5, null]}");
    nxl__jw_key(w, "raw");
    /* guest bytes: invalid UTF-8 becomes U+FFFD, a NUL stays */
    nxl__jw_string_len(w, "ok\xff\0z", 5);
    nxl__jw_object_close(w);
    CU_ASSERT_EQUAL(nxl__jw_finish(w, &text, &err), 0);
    CU_ASSERT_STRING_EQUAL(text,
                           "{\"s\":\"a\\\"b\\n\",\"big\":18446744073709551615,"
                           "\"neg\":-5,\"t\":true,\"none\":null,"
                           "\"doc\":{\"x\":[1,2.5,null]},"
                           "\"raw\":\"ok\xef\xbf\xbd\\u0000z\"}");
    free(text);
    text = NULL;
    nxl__jw_free(w);

    /* the first failure sticks: invalid UTF-8, a bad embedded document */
    w = nxl__jw_new();
    nxl__jw_array_open(w);
    nxl__jw_string(w, "\xc3\x28");
    nxl__jw_string(w, "fine");
    nxl__jw_array_close(w);
    CU_ASSERT_EQUAL(nxl__jw_finish(w, &text, &err), NXL_E_INVAL);
    CU_ASSERT_PTR_NULL(text);
    nxl_error_dispose(&err);
    nxl__jw_free(w);
    w = nxl__jw_new();
    nxl__jw_document(w, "{nope");
    CU_ASSERT_EQUAL(nxl__jw_finish(w, &text, &err), NXL_E_INVAL);
    CU_ASSERT(strstr(nxl_error_message(&err), "malformed") != NULL);
    nxl_error_dispose(&err);
    nxl__jw_free(w);
    /* NULL writer (out of memory at new): every call is a no-op */
    nxl__jw_string(NULL, "x");
    CU_ASSERT_EQUAL(nxl__jw_finish(NULL, &text, &err), NXL_E_NOMEM);
    nxl_error_dispose(&err);

    /* the reader: typed access, duplicate keys refused at any depth */
    CU_ASSERT_EQUAL(
        nxl__json_parse("{\"a\": {\"b\": [true, 7]}}", 23, 0, &doc, &err), 0);
    {
        const nxl_json *arr = nxl__json_get(nxl__json_get(doc, "a"), "b");
        long long n = 0;
        bool b = false;
        CU_ASSERT_EQUAL(nxl__json_type(arr), NXL_JSON_ARRAY);
        CU_ASSERT_EQUAL(nxl__json_len(arr), 2);
        CU_ASSERT(nxl__json_bool(nxl__json_at(arr, 0), &b) && b);
        CU_ASSERT(nxl__json_integer(nxl__json_at(arr, 1), &n) && n == 7);
        CU_ASSERT(!nxl__json_integer(nxl__json_at(arr, 0), &n));
        CU_ASSERT_PTR_NULL(nxl__json_at(arr, 2));
        CU_ASSERT_PTR_NULL(nxl__json_string(arr));
        CU_ASSERT_EQUAL(nxl__json_to_text(nxl__json_get(doc, "a"), &text, &err),
                        0);
        CU_ASSERT_STRING_EQUAL(text, "{\"b\":[true,7]}");
        free(text);
    }
    nxl__json_free(doc);
    doc = NULL;
    CU_ASSERT_EQUAL(
        nxl__json_parse("{\"a\": [{\"k\": 1, \"k\": 2}]}", 25, 0, &doc, &err),
        NXL_E_INVAL);
    CU_ASSERT(strstr(nxl_error_message(&err), "a[0]") != NULL);
    CU_ASSERT(strstr(nxl_error_message(&err), "duplicate key") != NULL);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl__json_parse("[1,2,3]", 7, 4, &doc, &err), NXL_E_INVAL);
    CU_ASSERT(strstr(nxl_error_message(&err), "too large") != NULL);
    nxl_error_dispose(&err);
    CU_ASSERT_PTR_NULL(doc);
}

/* ---- main
 * -------------------------------------------------------------------- */

/* ---- methods mapped for simple arguments
 * ---------------------------------------- */

static void test_more_methods(void)
{
    client *c = client_open(rw_path);
    char *sp = spawn_params(UUID_A, "instance-more");
    nxl_json *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "spawn", sp);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    /* suspend / resume */
    r = call(c, "suspend", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "get_info", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "state_name")),
        "suspended");
    nxl__json_free(r);
    r = call(c, "resume", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    /* soft_delete / restore: power_on refuses in between */
    r = call(c, "restore", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(error_code(r), -32000);
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InstanceInvalidState");
    nxl__json_free(r);
    r = call(c, "soft_delete", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "power_on", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InstanceInvalidState");
    nxl__json_free(r);
    r = call(c, "get_info", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(int_of(nxl__json_get(result_of(r), "domid")), -1);
    nxl__json_free(r);
    r = call(c, "restore", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "get_info", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "state_name")), "running");
    nxl__json_free(r);
    /* change_instance_metadata: params checked here, then the driver */
    r = call(c, "change_instance_metadata", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    CU_ASSERT(strstr(error_message(r), "'diff'") != NULL);
    nxl__json_free(r);
    r = call(c, "change_instance_metadata",
             "{\"uuid\": \"" UUID_A "\", \"diff\": [1]}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    r = call(c, "change_instance_metadata",
             "{\"uuid\": \"" UUID_A "\", \"name\": \"instance-more\","
             " \"diff\": {\"role\": [\"+\", \"db\"]}}");
    /* Past the params: the driver's answer (on the fake port the
     * domain has no xenstore home, so it may refuse), never a params
     * error or "not mapped". */
    CU_ASSERT(r && (nxl__json_get(r, "result") || error_code(r) == -32000));
    nxl__json_free(r);
    /* get_volume_connector: with or without an instance */
    r = call(c, "get_volume_connector", NULL);
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "host")), "testhost");
    CU_ASSERT_PTR_NOT_NULL(nxl__json_get(result_of(r), "ip"));
    nxl__json_free(r);
    r = call(c, "get_volume_connector", "{\"uuid\": \"bad\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    r = call(c, "get_host_ip_addr", NULL);
    CU_ASSERT(is_ok(r) && nxl__json_string(result_of(r)) != NULL);
    nxl__json_free(r);
    /* aggregates */
    r = call(c, "add_to_aggregate",
             "{\"aggregate\": {\"id\": 5, \"name\": \"pool5\"},"
             " \"host\": \"testhost\", \"kwargs\": {\"x\": \"y\"}}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "add_to_aggregate", "{\"host\": \"testhost\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    CU_ASSERT(strstr(error_message(r), "'aggregate'") != NULL);
    nxl__json_free(r);
    r = call(c, "add_to_aggregate",
             "{\"aggregate\": {\"id\": 5}, \"host\": \"testhost\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    CU_ASSERT(strstr(error_message(r), "name") != NULL);
    nxl__json_free(r);
    r = call(c, "add_to_aggregate",
             "{\"aggregate\": {\"id\": 5, \"name\": \"pool5\"},"
             " \"host\": \"testhost\", \"kwargs\": 3}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    r = call(c, "undo_aggregate_operation",
             "{\"op\": \"frobnicate\", \"aggregate\": {\"id\": 5, \"name\":"
             " \"pool5\"}, \"host\": \"testhost\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    r = call(c, "remove_from_aggregate",
             "{\"aggregate\": {\"id\": 5, \"name\": \"pool5\"},"
             " \"host\": \"testhost\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "undo_aggregate_operation",
             "{\"op\": \"remove_from_aggregate\", \"aggregate\": {\"id\": 5,"
             " \"name\": \"pool5\"}, \"host\": \"testhost\","
             " \"set_error\": false}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "destroy", "{\"uuid\": \"" UUID_A "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    free(sp);
    client_close(c);
}

/* ---- every method with real parameters -------------------------------------
 */

#define UUID_R "3c1f8e2a-6b4d-4f7e-9a1c-2d3e4f5a6b7c"
#define UUID_X "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b" /* never spawned */
#define I_R "\"uuid\": \"" UUID_R "\""
#define I_X "\"uuid\": \"" UUID_X "\""
/* with the name: the console and agent methods find the guest by it */
#define I_RN I_R ", \"name\": \"instance-all\""
#define I_XN I_X ", \"name\": \"instance-x\""
#define IM_RESCUE "{\"id\": \"rescue-1\", \"disk_format\": \"raw\"}"
#define CI_LOCAL                                                               \
    "{\"driver_volume_type\": \"local\", \"data\": {\"device_path\":"          \
    " \"/dev/null\"}}"
#define VIF_1 "{\"id\": \"" UUID_X "\", \"address\": \"fa:16:3e:00:00:01\"}"

/* What a call must answer: "ok", "params" (-32602), an NXL_E_* code name
 * (data.code of a -32000 driver error) or a nova kind (data.kind). */
typedef struct method_case {
    const char *method;
    const char *params;
    const char *expect;
} method_case;

static const char *error_code_name(const nxl_json *r)
{
    const char *k = nxl__json_string(nxl__json_get(
        nxl__json_get(nxl__json_get(r, "error"), "data"), "code"));
    return k ? k : "";
}

static bool answers(const method_case *mc, const nxl_json *r)
{
    if (!r)
        return false;
    if (strcmp(mc->expect, "ok") == 0)
        return nxl__json_get(r, "result") != NULL;
    if (strcmp(mc->expect, "params") == 0)
        return error_code(r) == -32602;
    if (error_code(r) != -32000)
        return false;
    if (strncmp(mc->expect, "NXL_E_", 6) == 0)
        return strcmp(error_code_name(r), mc->expect) == 0;
    return strcmp(error_kind(r), mc->expect) == 0;
}

/* On the fake port, with UUID_R running: each method once or more,
 * every answer checked. The driver's own answers pass through: methods
 * the libxl driver does not implement yet answer NXL_E_NOT_IMPLEMENTED,
 * those Xen cannot do NXL_E_UNSUPPORTED, both NotImplementedError. */
static const method_case method_cases[] = {
    /* driver properties, events, host lifecycle */
    {"capabilities", NULL, "ok"},
    {"need_legacy_block_device_info", NULL, "ok"},
    {"is_xenapi", NULL, "ok"},
    {"is_supported_fs_format", "{\"fs_type\": \"ext4\"}", "ok"},
    {"is_supported_fs_format", "{}", "params"},
    {"is_supported_fs_format", "{\"fs_type\": 4}", "params"},
    {"register_event_listener", NULL, "NXL_E_UNSUPPORTED"},
    /* a valid emit_event is in test_all_methods, checked on the stream */
    {"emit_event", "{" I_R ", \"transition\": \"melted\"}", "params"},
    {"emit_event", "{" I_R "}", "params"},
    {"init_host", NULL, "NXL_E_UNSUPPORTED"},
    {"cleanup_host", NULL, "NXL_E_UNSUPPORTED"},
    {"list_instances", NULL, "ok"},
    {"list_instance_uuids", NULL, "ok"},
    {"get_num_instances", NULL, "ok"},
    {"get_available_nodes", NULL, "ok"},
    {"node_is_available", "{\"nodename\": \"testhost\"}", "ok"},
    {"get_available_resource", NULL, "ok"},
    {"get_host_cpu_stats", NULL, "ok"},
    {"get_host_ip_addr", NULL, "ok"},
    {"get_host_uptime", NULL, "ok"},
    {"set_host_enabled", "{\"enabled\": true}", "ok"},
    {"host_maintenance_mode", "{\"host\": \"testhost\", \"mode\": false}",
     "ok"},
    /* never "reboot" or "shutdown" here: that would run /sbin/shutdown */
    {"host_power_action", "{\"action\": \"startup\"}", "NXL_E_UNSUPPORTED"},
    {"host_power_action", "{\"action\": \"hibernate\"}", "InvalidInput"},
    {"host_power_action", "{\"action\": 1}", "params"},
    {"get_console_pool_info", "{\"console_type\": \"vnc\"}", "ok"},
    {"get_all_bw_counters", "{\"instances\": [{" I_R "}]}", "ok"},
    {"get_all_bw_counters", "{\"instances\": {}}", "params"},
    {"get_all_bw_counters", "{\"instances\": [{\"uuid\": \"nope\"}]}",
     "params"},
    {"get_all_volume_usage",
     "{\"compute_host_bdms\": [{\"instance\": {" I_R "},"
     " \"block_device_info\": {}}]}",
     "ok"},
    {"get_all_volume_usage", "{\"compute_host_bdms\": [{}]}", "params"},
    {"get_per_instance_usage", NULL, "ok"},
    {"poll_rebooting_instances", "{\"timeout\": 60, \"instances\": []}", "ok"},
    {"poll_rebooting_instances", "{\"timeout\": -1}", "params"},
    {"manage_image_cache", "{\"all_instances\": [{" I_R "}]}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"filter_defer_apply_on", NULL, "NXL_E_NOT_IMPLEMENTED"},
    {"filter_defer_apply_off", NULL, "NXL_E_NOT_IMPLEMENTED"},
    {"refresh_security_group_rules", "{\"security_group_id\": \"sg-1\"}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"refresh_security_group_rules", "{}", "params"},
    /* aggregates */
    {"add_to_aggregate",
     "{\"aggregate\": {\"id\": 77, \"name\": \"pool77\"}, \"host\":"
     " \"testhost\"}",
     "ok"},
    {"remove_from_aggregate",
     "{\"aggregate\": {\"id\": 77, \"name\": \"pool77\"}, \"host\":"
     " \"testhost\"}",
     "ok"},
    {"undo_aggregate_operation",
     "{\"op\": \"add_to_aggregate\", \"aggregate\": {\"id\": 77, \"name\":"
     " \"pool77\"}, \"host\": \"testhost\", \"set_error\": false}",
     "ok"},
    /* instance lifecycle */
    {"spawn", "{}", "params"},
    {"destroy", "{" I_X "}", "ok"}, /* already gone is success */
    {"cleanup", "{" I_X ", \"destroy_disks\": false}", "ok"},
    {"cleanup", "{" I_X ", \"migrate_data\": []}", "params"},
    {"rebuild", "{\"recreate\": \"no\"}", "params"},
    {"get_info", "{" I_X "}", "InstanceNotFound"},
    {"instance_exists", "{" I_X "}", "ok"},
    {"instance_on_disk", "{" I_R "}", "ok"},
    {"delete_instance_files", "{" I_X "}", "ok"},
    {"reboot", "{" I_X "}", "InstanceNotFound"},
    {"reboot", "{" I_R ", \"reboot_type\": \"WARM\"}", "params"},
    {"power_off", "{" I_X "}", "InstanceNotFound"},
    {"power_on", "{" I_X "}", "InstanceNotFound"},
    {"pause", "{" I_X "}", "InstanceNotFound"},
    {"unpause", "{" I_X "}", "InstanceNotFound"},
    {"suspend", "{" I_X "}", "InstanceNotFound"},
    {"resume", "{" I_X "}", "InstanceNotFound"},
    {"resume_state_on_host_boot", "{" I_R "}", "ok"},
    {"resume_state_on_host_boot", "{" I_X "}", "InstanceNotFound"},
    {"soft_delete", "{" I_X "}", "InstanceNotFound"},
    {"restore", "{" I_X "}", "InstanceNotFound"},
    {"rescue", "{" I_X ", \"image_meta\": " IM_RESCUE "}", "InstanceNotFound"},
    {"rescue", "{" I_R "}", "params"},
    {"rescue", "{" I_R ", \"image_meta\": 3}", "params"},
    {"rescue",
     "{" I_R ", \"image_meta\": " IM_RESCUE ", \"rescue_password\": 5}",
     "params"},
    {"unrescue", "{" I_X "}", "InstanceNotFound"},
    {"set_bootable", "{" I_R ", \"is_bootable\": \"yes\"}", "params"},
    {"set_bootable", "{" I_R "}", "params"},
    {"set_bootable", "{" I_X ", \"is_bootable\": false}", "InstanceNotFound"},
    {"trigger_crash_dump", "{" I_X "}", "InstanceNotFound"},
    {"estimate_instance_overhead",
     "{\"instance\": {" I_R ", \"name\": \"instance-all\", \"memory_mb\":"
     " 128, \"vcpus\": 1}}",
     "ok"},
    {"estimate_instance_overhead", "{" I_R "}", "params"},
    /* consoles, diagnostics */
    {"get_console_output", "{" I_XN "}", "ok"},          /* no log yet: "" */
    {"get_console_output", "{" I_X "}", "InvalidInput"}, /* no name */
    {"get_vnc_console", "{" I_XN "}", "InstanceNotFound"},
    {"get_spice_console", "{" I_XN "}", "InstanceNotFound"},
    {"get_serial_console", "{" I_XN "}", "InstanceNotFound"},
    {"get_rdp_console", "{" I_R "}", "NXL_E_UNSUPPORTED"},
    {"get_mks_console", "{" I_R "}", "NXL_E_UNSUPPORTED"},
    {"get_diagnostics", "{" I_R "}", "ok"},
    {"get_diagnostics", "{" I_X "}", "InstanceNotFound"},
    {"get_instance_diagnostics", "{" I_R "}", "ok"},
    {"get_instance_diagnostics", "{" I_X "}", "InstanceNotFound"},
    {"get_instance_disk_info", "{" I_R "}", "ok"},
    {"get_instance_disk_info", "{" I_X "}", "InstanceNotFound"},
    {"get_instance_disk_info", "{" I_R ", \"block_device_info\": []}",
     "params"},
    {"block_stats", "{" I_X ", \"disk_id\": \"xvda\"}", "InstanceNotFound"},
    {"block_stats", "{" I_R "}", "params"},
    {"change_instance_metadata", "{" I_X ", \"diff\": {}}", "InstanceNotFound"},
    {"set_admin_password", "{" I_XN ", \"new_pass\": \"s3cret\"}",
     "InstanceNotFound"},
    {"set_admin_password", "{" I_R "}", "params"},
    {"inject_file",
     "{" I_XN ", \"b64_path\": \"L2V0Yy9tb3Rk\", \"b64_contents\":"
     " \"aGk=\"}",
     "InstanceNotFound"},
    {"inject_file", "{" I_R ", \"b64_path\": \"L2V0Yy9tb3Rk\"}", "params"},
    {"quiesce", "{" I_R "}", "InstanceQuiesceNotSupported"},
    {"unquiesce", "{" I_R ", \"image_meta\": " IM_RESCUE "}",
     "InstanceQuiesceNotSupported"},
    {"snapshot", "{" I_R ", \"image_id\": \"snap-1\"}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"snapshot", "{" I_R "}", "params"},
    {"post_interrupted_snapshot_cleanup", "{" I_R "}", "NXL_E_NOT_IMPLEMENTED"},
    /* networking */
    {"attach_interface",
     "{" I_R ", \"image_meta\": " IM_RESCUE ", \"vif\": " VIF_1 "}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"attach_interface", "{" I_R "}", "params"},
    {"attach_interface",
     "{" I_R ", \"image_meta\": " IM_RESCUE ", \"vif\": {\"address\": \"zz\"}}",
     "params"},
    {"detach_interface", "{" I_R ", \"vif\": " VIF_1 "}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"plug_vifs", "{" I_R ", \"network_info\": [" VIF_1 "]}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"unplug_vifs", "{" I_R ", \"network_info\": []}", "NXL_E_NOT_IMPLEMENTED"},
    {"inject_network_info", "{" I_XN ", \"network_info\": []}",
     "InstanceNotFound"},
    {"inject_network_info", "{" I_R "}", "params"},
    {"reset_network", "{" I_XN "}", "InstanceNotFound"},
    {"dhcp_options_for_instance", "{" I_R "}", "ok"},
    {"macs_for_instance", "{" I_R "}", "ok"},
    {"network_binding_host_id", "{" I_R "}", "ok"},
    {"deallocate_networks_on_reschedule", "{" I_R "}", "ok"},
    {"ensure_filtering_rules_for_instance", "{" I_R ", \"network_info\": []}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"unfilter_instance", "{" I_R ", \"network_info\": []}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"refresh_instance_security_rules", "{" I_R "}", "NXL_E_NOT_IMPLEMENTED"},
    /* block devices and volumes */
    {"default_root_device_name", "{" I_R "}", "ok"},
    {"default_root_device_name", "{" I_R ", \"root_bdm\": []}", "params"},
    {"get_device_name_for_instance",
     "{" I_R ", \"bdms\": {\"root_device_name\": \"/dev/xvda\"}}", "ok"},
    {"get_device_name_for_instance",
     "{" I_R ", \"bdms\": {\"root_device_name\": \"/dev/xvda\"},"
     " \"requested\": \"/dev/xvda\"}",
     "InvalidInput"},
    {"default_device_names_for_instance",
     "{" I_R ", \"root_device_name\": \"/dev/xvda\", \"block_device_info\":"
     " {\"ephemerals\": [{\"size\": 1}]}}",
     "ok"},
    {"default_device_names_for_instance", "{" I_R "}", "params"},
    {"attach_volume",
     "{" I_R ", \"connection_info\": " CI_LOCAL
     ", \"mountpoint\": \"/dev/xvdb\"}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"attach_volume", "{" I_R ", \"mountpoint\": \"/dev/xvdb\"}", "params"},
    {"attach_volume",
     "{" I_R ", \"connection_info\": {\"data\": {}}, \"mountpoint\":"
     " \"/dev/xvdb\"}",
     "params"},
    {"detach_volume",
     "{" I_R ", \"connection_info\": " CI_LOCAL
     ", \"mountpoint\": \"/dev/xvdb\"}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"swap_volume",
     "{" I_R ", \"old_connection_info\": " CI_LOCAL
     ", \"new_connection_info\": " CI_LOCAL
     ", \"mountpoint\": \"/dev/xvdb\", \"resize_to\": 0}",
     "NXL_E_UNSUPPORTED"},
    {"volume_snapshot_create",
     "{" I_R ", \"volume_id\": \"v1\", \"create_info\": {}}",
     "NXL_E_UNSUPPORTED"},
    {"volume_snapshot_create", "{" I_R ", \"volume_id\": \"v1\"}", "params"},
    {"volume_snapshot_delete",
     "{" I_R ", \"volume_id\": \"v1\", \"snapshot_id\": \"s1\","
     " \"delete_info\": {}}",
     "NXL_E_UNSUPPORTED"},
    {"get_volume_connector", "{" I_R "}", "ok"},
    /* cold migration */
    {"migrate_disk_and_power_off",
     "{" I_R ", \"dest\": \"otherhost\", \"flavor\": {\"memory_mb\": 128,"
     " \"vcpus\": 1}}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"migrate_disk_and_power_off",
     "{" I_R ", \"dest\": \"otherhost\", \"flavor\": {\"vcpus\": 0}}",
     "params"},
    {"finish_migration",
     "{" I_R ", \"migration\": {\"id\": 1, \"instance_uuid\": \"" UUID_R
     "\"}, \"disk_info\": \"[]\", \"image_meta\": " IM_RESCUE "}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"finish_migration", "{" I_R ", \"migration\": {\"id\": 1}}", "params"},
    {"finish_revert_migration", "{" I_R ", \"power_on\": false}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"confirm_migration",
     "{" I_R ", \"migration\": {\"id\": 1, \"instance_uuid\": \"" UUID_R "\"}}",
     "NXL_E_NOT_IMPLEMENTED"},
    /* shared storage, live migration */
    {"check_instance_shared_storage_local", "{" I_R "}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"check_instance_shared_storage_remote", "{\"data\": {\"f\": \"x\"}}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"check_instance_shared_storage_remote", "{\"data\": \"x\"}", "params"},
    {"check_instance_shared_storage_cleanup", "{\"data\": {}}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"check_can_live_migrate_destination",
     "{" I_R ", \"src_compute_info\": {}, \"dst_compute_info\": {}}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"check_can_live_migrate_destination", "{" I_R "}", "params"},
    {"check_can_live_migrate_destination_cleanup", "{\"dest_check_data\": {}}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"check_can_live_migrate_source", "{" I_R ", \"dest_check_data\": {}}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"pre_live_migration", "{" I_R ", \"migrate_data\": {}}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"live_migration", "{" I_R ", \"dest\": \"otherhost\"}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"live_migration", "{" I_R "}", "params"},
    {"live_migration_abort", "{" I_R "}", "NXL_E_NOT_IMPLEMENTED"},
    {"live_migration_force_complete", "{" I_R "}", "NXL_E_NOT_IMPLEMENTED"},
    {"post_live_migration", "{" I_R "}", "NXL_E_NOT_IMPLEMENTED"},
    {"post_live_migration_at_source", "{" I_R ", \"network_info\": []}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"post_live_migration_at_destination", "{" I_R "}",
     "NXL_E_NOT_IMPLEMENTED"},
    {"rollback_live_migration_at_destination", "{" I_R "}",
     "NXL_E_NOT_IMPLEMENTED"},
    /* module-level helpers */
    {"load_compute_driver", NULL, "ok"},
    {"get_block_device_info", "{" I_R ", \"bdms\": []}", "ok"},
    {"get_block_device_info", "{" I_R ", \"bdms\": [{\"boot_index\": \"a\"}]}",
     "params"},
    {"block_device_info_get_root", NULL, "ok"},
    {"block_device_info_get_swap", NULL, "ok"},
    {"block_device_info_get_ephemerals", NULL, "ok"},
    {"block_device_info_get_mapping", NULL, "ok"},
    {"swap_is_usable", NULL, "ok"},
    {"swap_is_usable", "{\"swap\": 1}", "params"},
    {"driver_dict_from_config", "{\"entries\": [\"iscsi=blkback\"]}", "ok"},
    {"driver_dict_from_config", "{\"entries\": [\"novalue\"]}", "InvalidInput"},
    {"driver_dict_from_config", "{\"entries\": [3]}", "params"},
};

/* One call; whether it answered as expected. */
static bool run_case(client *c, const method_case *mc)
{
    nxl_json *r = call(c, mc->method, mc->params);
    bool ok = answers(mc, r);

    if (!ok)
        fprintf(stderr, "\n  %s %s: want %s, got %lld %s %s: %s\n", mc->method,
                mc->params ? mc->params : "", mc->expect, error_code(r),
                error_code_name(r), error_kind(r), error_message(r));
    nxl__json_free(r);
    return ok;
}

/* Every contract marker of nxl.h (contract: and contract-module:) has a
 * case above, so a method added to the contract without one fails. */
static void check_cases_cover_contract(void)
{
    const char *srcdir = getenv("NXL_TEST_SRCDIR");
    const char *marks[] = {"/* contract: ", "/* contract-module: "};
    char path[PATH_MAX];
    char *hdr;
    unsigned n = 0;

    snprintf(path, sizeof(path), "%s/include/novaxl/nxl.h",
             srcdir ? srcdir : "..");
    hdr = slurp(path);
    CU_ASSERT_FATAL(hdr && hdr[0]);
    for (size_t m = 0; m < NXL_ARRAY_SIZE(marks); m++)
        for (char *p = hdr; (p = strstr(p, marks[m]));) {
            char name[128];
            bool found = false;

            p += strlen(marks[m]);
            if (sscanf(p, "%127[a-z_]", name) != 1)
                continue;
            n++;
            for (size_t i = 0; i < NXL_ARRAY_SIZE(method_cases); i++)
                found |= strcmp(method_cases[i].method, name) == 0;
            if (!found)
                fprintf(stderr, "\n  %s: no case in method_cases\n", name);
            CU_ASSERT(found);
        }
    CU_ASSERT(n >= 120);
    free(hdr);
}

static void test_all_methods(void)
{
    client *c = client_open(rw_path), *sub = client_open(rw_path);
    char *sp = spawn_params(UUID_R, "instance-all");
    char rdir[PATH_MAX];
    long long last = 0;
    nxl_json *r, *ev = NULL;
    const nxl_json *v;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    check_cases_cover_contract();
    snprintf(rdir, sizeof(rdir), "%s/images/rescue-1", root);
    write_file(rdir, "RESCUE!");
    r = call(sub, "subscribe", NULL);
    CU_ASSERT(is_ok(r));
    last = int_of(nxl__json_get(result_of(r), "last_id"));
    nxl__json_free(r);
    r = call(c, "spawn", sp);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    /* emit_event goes through the driver to its listener, the bus */
    r = call(c, "emit_event", "{" I_R ", \"transition\": \"paused\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    for (int i = 0; i < 8; i++) {
        const char *tr;

        ev = next_event(sub, "lifecycle", &last);
        if (!ev)
            break;
        tr = nxl__json_string(nxl__json_get(ev, "transition"));
        if (tr && strcmp(tr, "paused") == 0)
            break;
        nxl__json_free(ev);
        ev = NULL;
    }
    CU_ASSERT_PTR_NOT_NULL(ev);
    CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(ev, "uuid")), UUID_R);
    nxl__json_free(ev);
    client_close(sub);
    sub = NULL;

    for (size_t i = 0; i < NXL_ARRAY_SIZE(method_cases); i++)
        CU_ASSERT(run_case(c, &method_cases[i]));

    /* results, not just "answered" */
    r = call(c, "is_supported_fs_format", "{\"fs_type\": \"ntfs\"}");
    CU_ASSERT(is_ok(r) && nxl__json_type(result_of(r)) == NXL_JSON_BOOL);
    {
        bool b = true;
        nxl__json_bool(result_of(r), &b);
        CU_ASSERT_FALSE(b);
    }
    nxl__json_free(r);
    r = call(c, "register_event_listener", NULL);
    CU_ASSERT(strstr(error_message(r), "subscribe") != NULL);
    nxl__json_free(r);
    r = call(c, "load_compute_driver", NULL);
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "backend")), "libxl");
    nxl__json_free(r);
    r = call(c, "get_per_instance_usage", NULL);
    CU_ASSERT(is_ok(r));
    CU_ASSERT_EQUAL(
        int_of(nxl__json_get(nxl__json_get(result_of(r), UUID_R), "memory_mb")),
        128);
    nxl__json_free(r);
    r = call(c, "network_binding_host_id", "{" I_R "}");
    CU_ASSERT_STRING_EQUAL(nxl__json_string(result_of(r)), "testhost");
    nxl__json_free(r);
    r = call(c, "get_instance_diagnostics", "{" I_R "}");
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "state")), "running");
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "driver")), "libxl");
    CU_ASSERT_EQUAL(
        int_of(nxl__json_get(nxl__json_get(result_of(r), "memory_details"),
                             "maximum")),
        128);
    nxl__json_free(r);
    r = call(c, "default_root_device_name", "{" I_R "}");
    CU_ASSERT_STRING_EQUAL(nxl__json_string(result_of(r)), "/dev/xvda");
    nxl__json_free(r);
    r = call(c, "get_device_name_for_instance",
             "{" I_R ", \"bdms\": {\"root_device_name\": \"/dev/xvda\"},"
             " \"requested\": \"/dev/vdc\"}");
    CU_ASSERT_STRING_EQUAL(nxl__json_string(result_of(r)), "/dev/xvdc");
    nxl__json_free(r);
    r = call(c, "default_device_names_for_instance",
             "{" I_R ", \"root_device_name\": \"/dev/xvda\","
             " \"block_device_info\": {\"ephemerals\": [{\"size\": 1}]}}");
    v = nxl__json_at(nxl__json_get(result_of(r), "ephemerals"), 0);
    CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(v, "device_name")),
                           "/dev/xvdb");
    nxl__json_free(r);
    r = call(c, "get_block_device_info",
             "{" I_R ", \"bdms\": [{\"source_type\": \"blank\","
             " \"destination_type\": \"local\", \"guest_format\": \"swap\","
             " \"device_name\": \"/dev/xvdc\", \"volume_size\": 512},"
             " {\"source_type\": \"blank\", \"destination_type\": \"local\","
             " \"device_name\": \"/dev/xvdb\", \"volume_size\": 1}]}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_EQUAL(
        int_of(nxl__json_get(nxl__json_get(result_of(r), "swap"), "swap_size")),
        512);
    CU_ASSERT_EQUAL(nxl__json_len(nxl__json_get(result_of(r), "ephemerals")),
                    1);
    nxl__json_free(r);
    r = call(c, "block_device_info_get_root",
             "{\"block_device_info\": {\"root_device_name\": \"/dev/xvda\"}}");
    CU_ASSERT_STRING_EQUAL(nxl__json_string(result_of(r)), "/dev/xvda");
    nxl__json_free(r);
    r = call(c, "block_device_info_get_swap", NULL);
    CU_ASSERT_EQUAL(int_of(nxl__json_get(result_of(r), "swap_size")), 0);
    nxl__json_free(r);
    r = call(c, "swap_is_usable",
             "{\"swap\": {\"device_name\": \"/dev/xvdc\", \"swap_size\": 1}}");
    {
        bool b = false;
        CU_ASSERT(nxl__json_bool(result_of(r), &b) && b);
    }
    nxl__json_free(r);
    r = call(c, "driver_dict_from_config",
             "{\"entries\": [\"iscsi=blkback\", \"a=b\", \"a=c\"]}");
    CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(result_of(r), "a")),
                           "c");
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "iscsi")), "blkback");
    nxl__json_free(r);

    /* state changes through the socket */
    r = call(c, "set_bootable", "{" I_R ", \"is_bootable\": false}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "power_off", "{" I_R "}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "power_on", "{" I_R "}");
    CU_ASSERT_EQUAL(error_code(r), -32000); /* unbootable: refused */
    nxl__json_free(r);
    r = call(c, "set_bootable", "{" I_R ", \"is_bootable\": true}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "power_on", "{" I_R "}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "rescue",
             "{" I_R ", \"image_meta\": " IM_RESCUE
             ", \"rescue_password\": \"pw\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "rescue", "{" I_R ", \"image_meta\": " IM_RESCUE "}");
    CU_ASSERT_STRING_EQUAL(error_kind(r), "InstanceInvalidState");
    nxl__json_free(r);
    r = call(c, "unrescue", "{" I_R "}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    /* rebuild: the spawn request plus its two flags */
    {
        char *rb = NULL;
        CU_ASSERT(asprintf(&rb, "%.*s, \"preserve_ephemeral\": true}",
                           (int)strlen(sp) - 1, sp) > 0);
        r = call(c, "rebuild", rb);
        CU_ASSERT(is_ok(r));
        nxl__json_free(r);
        free(rb);
    }
    r = call(c, "get_info", "{" I_R "}");
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "state_name")), "running");
    nxl__json_free(r);
    r = call(c, "destroy", "{" I_R "}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    /* the mutating calls were published as operations */
    CU_ASSERT(wait_log("instance " UUID_R ": rescue: done", 2000));
    CU_ASSERT(wait_log("instance " UUID_R ": rebuild: done", 2000));
    free(sp);
    client_close(c);
}

/* New methods from several clients at once, each on its own instance,
 * while one more client keeps asking host questions: nothing waits for
 * another instance's operation. */
static void *new_methods_thread(void *arg)
{
    worker_arg *a = arg;
    client *c = client_open(rw_path);
    char uuid[64], name[64], params[256];
    char *sp;
    nxl_json *r;

    if (!c) {
        a->failures++;
        return NULL;
    }
    uuid_n(uuid, sizeof(uuid), a->n);
    snprintf(name, sizeof(name), "instance-%08x", a->n);
    sp = spawn_params(uuid, name);
    r = call(c, "spawn", sp);
    a->failures += !r || !nxl__json_get(r, "result");
    nxl__json_free(r);
    for (int i = 0; i < 3; i++) {
        for (int b = 0; b < 2; b++) {
            snprintf(params, sizeof(params),
                     "{\"uuid\": \"%s\", \"is_bootable\": %s}", uuid,
                     b ? "true" : "false");
            r = call(c, "set_bootable", params);
            a->failures += !r || !nxl__json_get(r, "result");
            nxl__json_free(r);
        }
        snprintf(params, sizeof(params), "{\"uuid\": \"%s\"}", uuid);
        r = call(c, "get_instance_diagnostics", params);
        a->failures += !r || !nxl__json_get(result_of(r), "state");
        nxl__json_free(r);
        snprintf(params, sizeof(params),
                 "{\"uuid\": \"%s\", \"image_meta\": " IM_RESCUE "}", uuid);
        r = call(c, "rescue", params);
        a->failures += !r || !nxl__json_get(r, "result");
        nxl__json_free(r);
        snprintf(params, sizeof(params), "{\"uuid\": \"%s\"}", uuid);
        r = call(c, "unrescue", params);
        a->failures += !r || !nxl__json_get(r, "result");
        nxl__json_free(r);
    }
    r = call(c, "destroy", params);
    a->failures += !r || !nxl__json_get(r, "result");
    nxl__json_free(r);
    free(sp);
    client_close(c);
    return NULL;
}

static void test_concurrent_new_methods(void)
{
    enum { N = 4 };
    pthread_t t[N];
    worker_arg a[N];
    client *c = client_open(rw_path);
    char rdir[PATH_MAX];
    nxl_json *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    snprintf(rdir, sizeof(rdir), "%s/images/rescue-1", root);
    write_file(rdir, "RESCUE!");
    for (unsigned i = 0; i < N; i++) {
        a[i].n = 200 + i;
        a[i].failures = 0;
        CU_ASSERT_EQUAL_FATAL(
            pthread_create(&t[i], NULL, new_methods_thread, &a[i]), 0);
    }
    for (int i = 0; i < 20; i++) {
        r = call(c, "get_per_instance_usage", NULL);
        CU_ASSERT(is_ok(r));
        nxl__json_free(r);
    }
    for (unsigned i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CU_ASSERT_EQUAL(a[i].failures, 0);
    }
    r = call(c, "get_num_instances", NULL);
    CU_ASSERT(is_ok(r) && int_of(result_of(r)) == 0);
    nxl__json_free(r);
    client_close(c);
}

/* A long operation does not hold up other clients: power_off of a
 * paused guest (on the fake port a paused guest never sees the shutdown
 * request) waits out its timeout on one worker, while calls on another
 * connection, host calls and another instance, answer at once. */
#define UUID_L "6b2e9d4c-1f3a-4e5b-8c7d-9e0f1a2b3c4d"
#define UUID_M "6b2e9d4c-1f3a-4e5b-8c7d-9e0f1a2b3c4e"

typedef struct long_call {
    long ms;
    bool ok;
} long_call;

static long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *long_power_off(void *arg)
{
    long_call *lc = arg;
    client *c = client_open(rw_path);
    long t0 = now_ms();
    nxl_json *r;

    if (!c)
        return NULL;
    r = call(c, "power_off",
             "{\"uuid\": \"" UUID_L "\", \"timeout\": 3,"
             " \"retry_interval\": 1}");
    lc->ms = now_ms() - t0;
    lc->ok = r && nxl__json_get(r, "result");
    nxl__json_free(r);
    client_close(c);
    return NULL;
}

static void test_long_operation_not_blocking(void)
{
    client *c = client_open(rw_path);
    char *sl = spawn_params(UUID_L, "instance-long");
    char *sm = spawn_params(UUID_M, "instance-other");
    long_call lc = {0, false};
    pthread_t t;
    nxl_json *r;
    long worst = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "spawn", sl);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "spawn", sm);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "pause", "{\"uuid\": \"" UUID_L "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, long_power_off, &lc), 0);
    usleep(300 * 1000);
    for (int i = 0; i < 5; i++) {
        const char *m[] = {"get_host_uptime", "get_instance_diagnostics",
                           "set_bootable", "get_per_instance_usage",
                           "list_instance_uuids"};
        const char *p[] = {NULL, "{\"uuid\": \"" UUID_M "\"}",
                           "{\"uuid\": \"" UUID_M "\", \"is_bootable\": true}",
                           NULL, NULL};
        long t0 = now_ms(), ms;

        r = call(c, m[i], p[i]);
        ms = now_ms() - t0;
        CU_ASSERT(is_ok(r));
        nxl__json_free(r);
        if (ms > worst)
            worst = ms;
    }
    pthread_join(t, NULL);
    printf("\n    power_off of a paused guest took %ld ms; other calls at "
           "most %ld ms meanwhile\n",
           lc.ms, worst);
    CU_ASSERT(lc.ok);
    /* it really was long, and the others did not wait for it */
    CU_ASSERT(lc.ms >= 2500);
    if (!under_valgrind)
        CU_ASSERT(worst < 1000);
    r = call(c, "destroy", "{\"uuid\": \"" UUID_L "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    r = call(c, "destroy", "{\"uuid\": \"" UUID_M "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    free(sl);
    free(sm);
    client_close(c);
}

/* ---- the novaxl CLI over novaxld --------------------------------------------
 */

#define UUID_C "5d0b7c1a-3e2f-4a9b-8c7d-6e5f4a3b2c1d"
#define NAME_C "instance-cli"

typedef struct cli_out {
    int status; /* exit status; -1 when it did not exit */
    char *out, *err;
} cli_out;

static void cli_out_free(cli_out *o)
{
    free(o->out);
    free(o->err);
    o->out = o->err = NULL;
}

/* Runs the real novaxl (under valgrind too with check-valgrind) with
 * args (NULL-terminated) and collects its exit status, stdout, stderr. */
static void run_cli(cli_out *o, const char *const *args)
{
    char novaxl[PATH_MAX], out_path[PATH_MAX], err_path[PATH_MAX];
    const char *builddir = getenv("NXL_TEST_BUILDDIR");
    pid_t pid;
    int status;

    o->status = -1;
    o->out = o->err = NULL;
    snprintf(novaxl, sizeof(novaxl), "%s/cli/novaxl",
             builddir ? builddir : ".");
    /* per process: a follower runs novaxl while the test does too */
    snprintf(out_path, sizeof(out_path), "%s/cli-%ld.out", root,
             (long)getpid());
    snprintf(err_path, sizeof(err_path), "%s/cli-%ld.err", root,
             (long)getpid());
    pid = fork();
    if (pid == 0) {
        char *argv[48];
        int n = 0, fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600),
            fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fo < 0 || fe < 0)
            _exit(98);
        dup2(fo, 1);
        dup2(fe, 2);
        close(fo);
        close(fe);
        if (under_valgrind) {
            argv[n++] = "valgrind";
            argv[n++] = "--quiet";
            argv[n++] = "--error-exitcode=99";
            argv[n++] = "--leak-check=full";
            argv[n++] = "--errors-for-leak-kinds=definite,indirect";
        }
        argv[n++] = novaxl;
        for (size_t i = 0; args[i] && n < 47; i++)
            argv[n++] = (char *)args[i];
        argv[n] = NULL;
        execvp(argv[0], argv);
        _exit(97);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        o->status = WEXITSTATUS(status);
    o->out = slurp(out_path);
    o->err = slurp(err_path);
}

/* novaxl --socket rw_path ARGS...: a macro so args can be a list. */
#define CLI(o, ...)                                                            \
    do {                                                                       \
        const char *const a_[] = {"--socket", rw_path, __VA_ARGS__, NULL};     \
        run_cli((o), a_);                                                      \
    } while (0)

static void expect_exit(const cli_out *o, int want, const char *what)
{
    if (o->status != want)
        fprintf(stderr,
                "  novaxl %s: exit %d, want %d\n  stdout: %s\n"
                "  stderr: %s\n",
                what, o->status, want, o->out ? o->out : "",
                o->err ? o->err : "");
    CU_ASSERT_EQUAL(o->status, want);
}

/* stdout as one JSON document (NULL when it is not exactly one). */
static nxl_json *out_doc(const cli_out *o)
{
    return parse(o->out);
}

/* The --json error object's member key. */
static const char *err_member(const nxl_json *doc, const char *key)
{
    const char *s =
        nxl__json_string(nxl__json_get(nxl__json_get(doc, "error"), key));
    return s ? s : "";
}

/* The state_name novaxl --json info reports for UUID_C. */
static char *cli_state(void)
{
    cli_out o;
    nxl_json *d;
    char *state = NULL;

    CLI(&o, "--json", "info", UUID_C);
    d = out_doc(&o);
    if (o.status == 0 && d && nxl__json_string(nxl__json_get(d, "state_name")))
        state = strdup(nxl__json_string(nxl__json_get(d, "state_name")));
    nxl__json_free(d);
    cli_out_free(&o);
    return state ? state : strdup("?");
}

#define EXPECT_STATE(want)                                                     \
    do {                                                                       \
        char *st_ = cli_state();                                               \
        if (strcmp(st_, (want)) != 0)                                          \
            fprintf(stderr, "  state %s, want %s\n", st_, (want));             \
        CU_ASSERT_STRING_EQUAL(st_, (want));                                   \
        free(st_);                                                             \
    } while (0)

/* One instance command (--json): exit 0 and {"ok": true, "uuid"}. */
static void cli_ok(const char *cmd, const char *extra)
{
    cli_out o;
    nxl_json *d;
    bool ok = false;

    if (extra)
        CLI(&o, "--json", cmd, UUID_C, extra);
    else
        CLI(&o, "--json", cmd, UUID_C);
    expect_exit(&o, 0, cmd);
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_bool(nxl__json_get(d, "ok"), &ok) && ok);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "uuid")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "uuid")), UUID_C) == 0);
    nxl__json_free(d);
    cli_out_free(&o);
}

static void test_cli_lifecycle(void)
{
    char req[PATH_MAX], logdir[PATH_MAX], logf[PATH_MAX + 64];
    char *sp = spawn_params(UUID_C, NAME_C);
    const nxl_json *info = NULL;
    cli_out o;
    nxl_json *d;

    CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
    snprintf(req, sizeof(req), "%s/cli-spawn.json", root);
    /* A comment and newlines: the CLI sends one compact line. */
    {
        char *text = NULL;
        CU_ASSERT_FATAL(asprintf(&text, "/* from test_service */\n%s\n", sp) >
                        0);
        write_file(req, text);
        free(text);
    }
    free(sp);

    /* spawn through the daemon: {"uuid"} */
    CLI(&o, "--json", "spawn", req);
    expect_exit(&o, 0, "spawn");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "uuid")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "uuid")), UUID_C) == 0);
    nxl__json_free(d);
    cli_out_free(&o);
    /* human spawn of the same again: InstanceExists, exit 5, one line */
    CLI(&o, "spawn", req);
    expect_exit(&o, 5, "spawn again");
    CU_ASSERT(strncmp(o.err, "novaxl: ", 8) == 0 &&
              strchr(o.err, '\n') == o.err + strlen(o.err) - 1);
    CU_ASSERT_STRING_EQUAL(o.out, "");
    cli_out_free(&o);

    /* list --json: an array of get_info objects, ours running */
    CLI(&o, "--json", "list");
    expect_exit(&o, 0, "list");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_type(d) == NXL_JSON_ARRAY);
    for (size_t i = 0; d && i < nxl__json_len(d); i++) {
        const char *id =
            nxl__json_string(nxl__json_get(nxl__json_at(d, i), "id"));
        if (id && strcmp(id, UUID_C) == 0)
            info = nxl__json_at(d, i);
    }
    CU_ASSERT_PTR_NOT_NULL(info);
    CU_ASSERT(info && nxl__json_string(nxl__json_get(info, "state_name")) &&
              strcmp(nxl__json_string(nxl__json_get(info, "state_name")),
                     "running") == 0);
    CU_ASSERT(info && int_of(nxl__json_get(info, "domid")) >= 0);
    nxl__json_free(d);
    cli_out_free(&o);
    /* the human table: a header and our row */
    CLI(&o, "list");
    expect_exit(&o, 0, "list (table)");
    CU_ASSERT(strncmp(o.out, "UUID", 4) == 0);
    CU_ASSERT(strstr(o.out, UUID_C) != NULL &&
              strstr(strstr(o.out, UUID_C), "running") != NULL);
    cli_out_free(&o);

    /* info --json and as a table */
    CLI(&o, "--json", "info", UUID_C);
    expect_exit(&o, 0, "info");
    d = out_doc(&o);
    CU_ASSERT(d && int_of(nxl__json_get(d, "state")) == 1 &&
              int_of(nxl__json_get(d, "max_mem_kb")) == 128 * 1024);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "info", UUID_C);
    expect_exit(&o, 0, "info (table)");
    CU_ASSERT(strstr(o.out, "state_name") && strstr(o.out, "running"));
    cli_out_free(&o);

    /* pause twice: the second is InstanceInvalidState, exit 5 */
    cli_ok("pause", NULL);
    EXPECT_STATE("paused");
    CLI(&o, "--json", "pause", UUID_C);
    expect_exit(&o, 5, "pause again");
    d = out_doc(&o);
    CU_ASSERT_STRING_EQUAL(err_member(d, "code"), "NXL_E_INVALID_STATE");
    CU_ASSERT_STRING_EQUAL(err_member(d, "exception"), "InstanceInvalidState");
    CU_ASSERT_STRING_EQUAL(err_member(d, "subject"), UUID_C);
    nxl__json_free(d);
    cli_out_free(&o);
    cli_ok("unpause", NULL);
    EXPECT_STATE("running");
    cli_ok("suspend", NULL);
    EXPECT_STATE("suspended");
    cli_ok("resume", NULL);
    EXPECT_STATE("running");
    cli_ok("shutdown", "--timeout=0");
    EXPECT_STATE("shutdown");
    cli_ok("start", NULL);
    EXPECT_STATE("running");
    cli_ok("power-off", "--timeout=0");
    cli_ok("power-on", NULL);
    cli_ok("reboot", "--hard");
    EXPECT_STATE("running");

    /* -N: the call it would make, nothing done */
    CLI(&o, "--json", "-N", "pause", UUID_C);
    expect_exit(&o, 0, "-N pause");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "method")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "method")), "pause") ==
                  0);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(nxl__json_get(d, "params"),
                                                  "uuid")) != NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    EXPECT_STATE("running");

    /* console: the log tail and no VNC for a PV guest */
    snprintf(logdir, sizeof(logdir), "%s/console", root);
    mkdir(logdir, 0700);
    snprintf(logf, sizeof(logf), "%s/guest-" NAME_C ".log", logdir);
    write_file(logf, "Linux version 6.1\nlogin: \n");
    CLI(&o, "--json", "console", UUID_C, "--name", NAME_C);
    expect_exit(&o, 0, "console");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "output")) &&
              strstr(nxl__json_string(nxl__json_get(d, "output")),
                     "Linux version 6.1") != NULL);
    CU_ASSERT(d && nxl__json_get(d, "vnc") != NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "console", UUID_C, "--name", NAME_C, "--log");
    expect_exit(&o, 0, "console --log");
    CU_ASSERT_STRING_EQUAL(o.out, "Linux version 6.1\nlogin: \n");
    cli_out_free(&o);
    CLI(&o, "console", UUID_C);
    expect_exit(&o, 1, "console without --name");
    cli_out_free(&o);

    /* metadata: reaches the driver (usage and params are fine); its
     * answer, success or the driver's error, with the matching exit */
    CLI(&o, "--json", "metadata", "set", UUID_C, "role=db", "--name", NAME_C);
    d = out_doc(&o);
    CU_ASSERT(d != NULL);
    CU_ASSERT(o.status != 1 && o.status != 2 && o.status != -1);
    if (o.status == 0) {
        CU_ASSERT(d && nxl__json_get(d, "ok") != NULL);
    } else {
        const char *code = err_member(d, "code");
        int want = strcmp(code, "NXL_E_NOT_FOUND") == 0         ? 3
                   : strcmp(code, "NXL_E_HYPERVISOR") == 0      ? 4
                   : strcmp(code, "NXL_E_NOT_IMPLEMENTED") == 0 ? 6
                   : strcmp(code, "NXL_E_UNSUPPORTED") == 0     ? 6
                                                                : 5;
        CU_ASSERT_EQUAL(o.status, want);
    }
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "metadata", "set", UUID_C, "novalue");
    expect_exit(&o, 1, "metadata set without =");
    cli_out_free(&o);

    /* destroy, then the instance is gone: exit 3, InstanceNotFound */
    cli_ok("destroy", NULL);
    CLI(&o, "--json", "info", UUID_C);
    expect_exit(&o, 3, "info after destroy");
    d = out_doc(&o);
    CU_ASSERT_STRING_EQUAL(err_member(d, "exception"), "InstanceNotFound");
    nxl__json_free(d);
    cli_out_free(&o);
}

/* novaxl events: the backlog as JSON lines (--since, --no-follow), and a
 * follower (--count) that sees a lifecycle driven by novaxl, in order. */
static void test_cli_events(void)
{
    const char *want[] = {"started", "paused", "resumed", "stopped"};
    const char *const follow[] = {"--socket", rw_path, "--json", "events",
                                  "--count",  "8",     NULL};
    char req[PATH_MAX], fpath[PATH_MAX];
    size_t next = 0, ops = 0, lines = 0;
    long long prev = 0;
    cli_out o;
    char *p, *nl, *text;
    unsigned subs;
    pid_t pid;
    int status = -1;

    /* The backlog (BACKLOG events) since 0: maybe a gap first, then
     * events with rising ids, each line one JSON object. */
    CLI(&o, "--json", "events", "--since", "0", "--no-follow");
    expect_exit(&o, 0, "events --no-follow");
    for (p = o.out; p && (nl = strchr(p, '\n')); p = nl + 1) {
        nxl_json *ev;

        *nl = '\0';
        ev = parse(p);
        CU_ASSERT_PTR_NOT_NULL(ev);
        lines++;
        CU_ASSERT(int_of(nxl__json_get(ev, "id")) > prev);
        prev = int_of(nxl__json_get(ev, "id"));
        nxl__json_free(ev);
    }
    CU_ASSERT(lines > 0);
    cli_out_free(&o);
    /* The human form: "ID TIME TYPE UUID ..." lines. */
    CLI(&o, "events", "--since", "0", "--no-follow");
    expect_exit(&o, 0, "events (lines)");
    CU_ASSERT(strstr(o.out, " operation ") != NULL);
    cli_out_free(&o);

    /* A follower, subscribed before the lifecycle: 4 operations, 4
     * lifecycle events. */
    snprintf(req, sizeof(req), "%s/cli-spawn.json", root);
    snprintf(fpath, sizeof(fpath), "%s/cli-follow.out", root);
    subs = log_count("subscribed after");
    pid = fork();
    if (pid == 0) {
        cli_out o2;
        FILE *f;

        run_cli(&o2, follow);
        f = fopen(fpath, "w");
        if (f) {
            fputs(o2.out ? o2.out : "", f);
            fclose(f);
        }
        _exit(o2.status);
    }
    CU_ASSERT_FATAL(pid > 0);
    /* Until the follower is subscribed (the daemon logs it). */
    for (int t = 0; t < (under_valgrind ? 30000 : 5000) &&
                    log_count("subscribed after") <= subs;
         t += 50)
        usleep(50 * 1000);
    CU_ASSERT(log_count("subscribed after") > subs);
    CLI(&o, "spawn", req);
    expect_exit(&o, 0, "spawn (events)");
    cli_out_free(&o);
    CLI(&o, "pause", UUID_C);
    expect_exit(&o, 0, "pause (events)");
    cli_out_free(&o);
    CLI(&o, "unpause", UUID_C);
    expect_exit(&o, 0, "unpause (events)");
    cli_out_free(&o);
    CLI(&o, "destroy", UUID_C);
    expect_exit(&o, 0, "destroy (events)");
    cli_out_free(&o);
    for (int t = 0; t < (under_valgrind ? 60000 : 10000); t += 50) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        usleep(50 * 1000);
    }
    if (status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fprintf(stderr, "  the events follower did not see 8 events\n");
    }
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    text = slurp(fpath);
    for (p = text; p && (nl = strchr(p, '\n')); p = nl + 1) {
        nxl_json *ev;
        const char *type, *uuid, *tr;

        *nl = '\0';
        ev = parse(p);
        CU_ASSERT_PTR_NOT_NULL(ev);
        type = nxl__json_string(nxl__json_get(ev, "type"));
        uuid = nxl__json_string(nxl__json_get(ev, "uuid"));
        tr = nxl__json_string(nxl__json_get(ev, "transition"));
        if (type && uuid && strcmp(uuid, UUID_C) == 0) {
            if (strcmp(type, "operation") == 0)
                ops++;
            if (strcmp(type, "lifecycle") == 0 && tr &&
                next < NXL_ARRAY_SIZE(want) && strcmp(tr, want[next]) == 0)
                next++;
        }
        nxl__json_free(ev);
    }
    if (next != NXL_ARRAY_SIZE(want) || ops != 4)
        fprintf(stderr, "  follower saw %zu of 4 transitions, %zu ops:\n%s\n",
                next, ops, text ? text : "");
    CU_ASSERT_EQUAL(next, NXL_ARRAY_SIZE(want));
    CU_ASSERT_EQUAL(ops, 4);
    free(text);
}

static void test_cli_host_and_aggregates(void)
{
    cli_out o;
    nxl_json *d;

    CLI(&o, "--json", "host", "resources");
    expect_exit(&o, 0, "host resources");
    d = out_doc(&o);
    CU_ASSERT(d && int_of(nxl__json_get(d, "vcpus")) > 0);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "hypervisor_type")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "hypervisor_type")),
                     "xen") == 0);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "host", "resources");
    expect_exit(&o, 0, "host resources (table)");
    CU_ASSERT(strstr(o.out, "hypervisor_type") && strstr(o.out, "xen"));
    cli_out_free(&o);
    CLI(&o, "--json", "host", "cpu-stats");
    expect_exit(&o, 0, "host cpu-stats");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_get(d, "idle") != NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "--json", "host", "uptime");
    expect_exit(&o, 0, "host uptime");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_type(d) == NXL_JSON_STRING);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "--json", "host", "connector");
    expect_exit(&o, 0, "host connector");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_get(d, "host") != NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "host", "disable");
    expect_exit(&o, 0, "host disable");
    CU_ASSERT_STRING_EQUAL(o.out, "disabled\n");
    cli_out_free(&o);
    CLI(&o, "--json", "host", "enable");
    expect_exit(&o, 0, "host enable");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(d) &&
              strcmp(nxl__json_string(d), "enabled") == 0);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "host", "maintenance", "on", "--host", "testhost");
    expect_exit(&o, 0, "maintenance on");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "state          on_maintenance\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "not_evacuated  ["));
    cli_out_free(&o);
    CLI(&o, "host", "maintenance", "off", "--host", "testhost");
    expect_exit(&o, 0, "maintenance off");
    cli_out_free(&o);
    CLI(&o, "--json", "host", "maintenance", "on", "--host", "otherhost");
    expect_exit(&o, 2, "maintenance on another host");
    d = out_doc(&o);
    CU_ASSERT_STRING_EQUAL(err_member(d, "code"), "NXL_E_INVAL");
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "host", "maintenance", "sideways");
    expect_exit(&o, 1, "maintenance sideways");
    cli_out_free(&o);
    CLI(&o, "host", "frobnicate");
    expect_exit(&o, 1, "host frobnicate");
    cli_out_free(&o);

    CLI(&o, "--json", "aggregate", "add", "testhost", "--id", "9", "--name",
        "pool9", "--zone", "az1");
    expect_exit(&o, 0, "aggregate add");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_get(d, "ok") != NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "aggregate", "remove", "testhost", "--id", "9", "--name", "pool9");
    expect_exit(&o, 0, "aggregate remove");
    cli_out_free(&o);
    CLI(&o, "aggregate", "undo", "remove", "testhost", "--id", "9", "--name",
        "pool9", "--no-set-error");
    expect_exit(&o, 0, "aggregate undo remove");
    cli_out_free(&o);
    CLI(&o, "aggregate", "add", "testhost", "--id", "x", "--name", "p");
    expect_exit(&o, 1, "aggregate --id x");
    cli_out_free(&o);
    CLI(&o, "aggregate", "add", "testhost", "--name", "p");
    expect_exit(&o, 1, "aggregate without --id");
    cli_out_free(&o);
}

/* Errors and transport: the same exit codes as in-process. */
/* The commands over the methods novaxld gained: rescue, unrescue,
 * set-bootable, crash-dump, diagnostics, disk-info, rebuild, host
 * power-action's guard and aggregate show. */
static void test_cli_more_commands(void)
{
    char req[PATH_MAX], img[PATH_MAX];
    char *sp = spawn_params(UUID_C, NAME_C);
    cli_out o;
    nxl_json *d;
    char *state;

    CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
    snprintf(req, sizeof(req), "%s/cli-more.json", root);
    write_file(req, sp);
    free(sp);
    snprintf(img, sizeof(img), "%s/images/rescue-1", root);
    write_file(img, "RESCUE!");
    CLI(&o, "--json", "spawn", req);
    expect_exit(&o, 0, "spawn");
    cli_out_free(&o);

    cli_ok("rescue", "rescue-1");
    CLI(&o, "--json", "rescue", UUID_C, "rescue-1");
    expect_exit(&o, 5, "rescue again"); /* InstanceInvalidState */
    d = out_doc(&o);
    CU_ASSERT_STRING_EQUAL(err_member(d, "exception"), "InstanceInvalidState");
    nxl__json_free(d);
    cli_out_free(&o);
    cli_ok("unrescue", NULL);
    state = cli_state();
    CU_ASSERT_STRING_EQUAL(state, "running");
    free(state);

    CLI(&o, "--json", "diagnostics", UUID_C);
    expect_exit(&o, 0, "diagnostics");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "state")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "state")), "running") ==
                  0);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "diagnostics", UUID_C);
    expect_exit(&o, 0, "diagnostics, human");
    CU_ASSERT(o.out && strstr(o.out, "hypervisor") && strstr(o.out, "xen"));
    cli_out_free(&o);
    CLI(&o, "--json", "disk-info", UUID_C);
    expect_exit(&o, 0, "disk-info");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_type(d) == NXL_JSON_ARRAY);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "disk-info", UUID_C);
    expect_exit(&o, 0, "disk-info, human");
    CU_ASSERT(o.out && strncmp(o.out, "TYPE", 4) == 0);
    cli_out_free(&o);
    cli_ok("crash-dump", NULL);

    /* set-bootable no: power-on is refused until yes */
    cli_ok("set-bootable", "no");
    CLI(&o, "--json", "power-off", UUID_C, "--timeout", "0");
    expect_exit(&o, 0, "power-off");
    cli_out_free(&o);
    CLI(&o, "--json", "power-on", UUID_C);
    CU_ASSERT_NOT_EQUAL(o.status, 0);
    cli_out_free(&o);
    cli_ok("set-bootable", "yes");
    cli_ok("power-on", NULL);

    /* rebuild: {"ok", "uuid"}, and the instance runs again */
    CLI(&o, "--json", "rebuild", req, "--preserve-ephemeral");
    expect_exit(&o, 0, "rebuild");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "uuid")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "uuid")), UUID_C) == 0);
    nxl__json_free(d);
    cli_out_free(&o);
    state = cli_state();
    CU_ASSERT_STRING_EQUAL(state, "running");
    free(state);
    CU_ASSERT(wait_log("instance " UUID_C ": rebuild: done", 2000));

    /* power-action without --yes never reaches the daemon */
    CLI(&o, "host", "power-action", "reboot");
    expect_exit(&o, 1, "power-action without --yes");
    cli_out_free(&o);
    CLI(&o, "--json", "host", "power-action", "startup", "--yes");
    expect_exit(&o, 6, "power-action startup"); /* NXL_E_UNSUPPORTED */
    cli_out_free(&o);

    /* aggregate show: the record with its transitions */
    CLI(&o, "--json", "aggregate", "add", "testhost", "--id", "31", "--name",
        "pool31");
    expect_exit(&o, 0, "aggregate add 31");
    cli_out_free(&o);
    CLI(&o, "--json", "aggregate", "show", "--id", "31");
    expect_exit(&o, 0, "aggregate show");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "state")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "state")), "active") ==
                  0);
    CU_ASSERT(d && strv_has(nxl__json_get(d, "hosts"), "testhost"));
    CU_ASSERT(d && nxl__json_len(nxl__json_get(d, "transitions")) >= 3);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(
                       nxl__json_at(nxl__json_get(d, "transitions"), 0),
                       "reason")) != NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "aggregate", "show", "--id", "31");
    expect_exit(&o, 0, "aggregate show, human");
    CU_ASSERT(o.out && strstr(o.out, "state       active") &&
              strstr(o.out, "-> changing"));
    cli_out_free(&o);
    CLI(&o, "--json", "aggregate", "show", "--id", "32");
    expect_exit(&o, 3, "aggregate show of no record");
    cli_out_free(&o);
    CLI(&o, "aggregate", "remove", "testhost", "--id", "31", "--name",
        "pool31");
    expect_exit(&o, 0, "aggregate remove 31");
    cli_out_free(&o);

    CLI(&o, "--json", "destroy", UUID_C);
    expect_exit(&o, 0, "destroy");
    cli_out_free(&o);
}

#define UUID_D "6e1c8d2b-4f3a-4b0c-9d8e-7f6a5b4c3d2e"
#define NAME_D "instance-xml"

/* The stored request (instance_request) as JSON text; NULL on error. */
static char *stored_request(client *c, const char *uuid)
{
    char params[128];
    char *text = NULL;
    nxl_json *r;

    snprintf(params, sizeof(params), "{\"uuid\": \"%s\"}", uuid);
    r = call(c, "instance_request", params);
    if (is_ok(r) && nxl__json_to_text(result_of(r), &text, NULL))
        text = NULL;
    nxl__json_free(r);
    return text;
}

/* novaxl dumpxml through novaxld, then spawn --xml of the dump after a
 * destroy: the driver stores the very same request again. */
static void test_cli_xml(void)
{
    client *c = client_open(rw_path);
    client *ro = client_open(ro_path);
    char *sp = spawn_params(UUID_D, NAME_D);
    char xmlf[PATH_MAX];
    char *first = NULL, *second = NULL, *xml = NULL;
    nxl_spawn_req want, got;
    nxl_json *r, *d;
    cli_out o;

    nxl_spawn_req_init(&want);
    nxl_spawn_req_init(&got);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ro);
    r = call(c, "spawn", sp);
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    first = stored_request(c, UUID_D);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT(strstr(first, "\"name\":\"" NAME_D "\"") != NULL);

    CLI(&o, "--json", "dumpxml", UUID_D);
    expect_exit(&o, 0, "dumpxml --json");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "uuid")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "uuid")), UUID_D) == 0);
    CU_ASSERT(d && nxl__json_string(nxl__json_get(d, "name")) &&
              strcmp(nxl__json_string(nxl__json_get(d, "name")), NAME_D) == 0);
    if (d && nxl__json_string(nxl__json_get(d, "xml")))
        xml = strdup(nxl__json_string(nxl__json_get(d, "xml")));
    nxl__json_free(d);
    cli_out_free(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
    /* the XML reads back as the stored request */
    CU_ASSERT_EQUAL(nxl__spawn_req_from_json(first, strlen(first), &want, NULL),
                    0);
    CU_ASSERT_EQUAL(nxl__spawn_req_from_xml(xml, strlen(xml), NULL, &got, NULL),
                    0);
    CU_ASSERT_TRUE(nxl__spawn_req_equal(&want, &got));
    /* without --json: the document itself */
    CLI(&o, "dumpxml", UUID_D);
    expect_exit(&o, 0, "dumpxml");
    CU_ASSERT(o.out && strcmp(o.out, xml) == 0);
    cli_out_free(&o);

    /* credentials inside: not on the read-only socket */
    r = call(ro, "instance_request", "{\"uuid\": \"" UUID_D "\"}");
    CU_ASSERT_EQUAL(error_code(r), -32003);
    nxl__json_free(r);
    CLI(&o, "--json", "dumpxml", UUID_X);
    expect_exit(&o, 3, "dumpxml of no instance");
    cli_out_free(&o);

    r = call(c, "destroy", "{\"uuid\": \"" UUID_D "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    snprintf(xmlf, sizeof(xmlf), "%s/dumped.xml", root);
    write_file(xmlf, xml);
    CLI(&o, "--json", "spawn", "--xml", xmlf);
    expect_exit(&o, 0, "spawn --xml");
    cli_out_free(&o);
    second = stored_request(c, UUID_D);
    CU_ASSERT(second && strcmp(first, second) == 0);
    r = call(c, "destroy", "{\"uuid\": \"" UUID_D "\"}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);

    nxl_spawn_req_dispose(&want);
    nxl_spawn_req_dispose(&got);
    free(first);
    free(second);
    free(xml);
    free(sp);
    client_close(ro);
    client_close(c);
}

static void test_cli_errors(void)
{
    const char *const ro[] = {"--socket", ro_path, "--json",
                              "pause",    UUID_C,  NULL};
    const char *const ro_list[] = {"--socket", ro_path, "--json", "list", NULL};
    const char *const gone[] = {"--socket", "/nonexistent/novaxld.sock",
                                "--json", "list", NULL};
    const char *const local_bad[] = {"--local", "info", "not-a-uuid", NULL};
    const char *const local_dry[] = {"--local", "--json",       "-N", "destroy",
                                     UUID_C,    "--keep-disks", NULL};
    const char *const both[] = {"--local", "--socket", rw_path, "list", NULL};
    cli_out o, l;
    nxl_json *d, *ld;

    /* a bad UUID is exit 2 before any call, the same line both ways */
    CLI(&o, "info", "not-a-uuid");
    run_cli(&l, local_bad);
    expect_exit(&o, 2, "info not-a-uuid");
    expect_exit(&l, 2, "--local info not-a-uuid");
    CU_ASSERT_STRING_EQUAL(o.err, l.err);
    cli_out_free(&o);
    cli_out_free(&l);
    /* -N prints the same call both ways */
    CLI(&o, "--json", "-N", "destroy", UUID_C, "--keep-disks");
    run_cli(&l, local_dry);
    expect_exit(&o, 0, "-N destroy");
    expect_exit(&l, 0, "--local -N destroy");
    d = out_doc(&o);
    ld = out_doc(&l);
    CU_ASSERT(d && ld);
    CU_ASSERT_STRING_EQUAL(o.out, l.out);
    {
        bool dd = true;
        CU_ASSERT(d &&
                  nxl__json_bool(nxl__json_get(nxl__json_get(d, "params"),
                                               "destroy_disks"),
                                 &dd) &&
                  !dd);
    }
    nxl__json_free(d);
    nxl__json_free(ld);
    cli_out_free(&o);
    cli_out_free(&l);
    /* an unknown instance: exit 3 */
    CLI(&o, "pause", "00000000-0000-4000-8000-000000000000");
    expect_exit(&o, 3, "pause unknown");
    CU_ASSERT(strncmp(o.err, "novaxl: 00000000-0000-4000-8000-000000000000: ",
                      46) == 0);
    cli_out_free(&o);
    /* the read-only socket: info yes, pause refused (exit 5, Forbidden) */
    run_cli(&o, ro_list);
    expect_exit(&o, 0, "list on the ro socket");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_type(d) == NXL_JSON_ARRAY);
    nxl__json_free(d);
    cli_out_free(&o);
    run_cli(&o, ro);
    expect_exit(&o, 5, "pause on the ro socket");
    d = out_doc(&o);
    CU_ASSERT_STRING_EQUAL(err_member(d, "code"), "NXL_E_DENIED");
    nxl__json_free(d);
    cli_out_free(&o);
    /* no daemon at --socket: exit 4, said so */
    run_cli(&o, gone);
    expect_exit(&o, 4, "--socket nowhere");
    d = out_doc(&o);
    CU_ASSERT_STRING_EQUAL(err_member(d, "code"), "NXL_E_HYPERVISOR");
    CU_ASSERT(strstr(err_member(d, "message"), "cannot reach novaxld") != NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    run_cli(&o, both);
    expect_exit(&o, 1, "--local with --socket");
    cli_out_free(&o);
    /* events without a daemon: exit 6 */
    {
        const char *const a[] = {"--local", "events", NULL};
        run_cli(&o, a);
        expect_exit(&o, 6, "--local events");
        cli_out_free(&o);
    }
    /* a bad spawn file: exit 2 before the daemon sees it */
    {
        char bad[PATH_MAX];
        snprintf(bad, sizeof(bad), "%s/cli-bad.json", root);
        write_file(bad, "{\"instance\": {\"uuid\": \"" UUID_C "\"}}");
        CLI(&o, "spawn", bad);
        expect_exit(&o, 2, "spawn bad file");
        CU_ASSERT(strncmp(o.err, "novaxl: ", 8) == 0);
        cli_out_free(&o);
    }
}

/* ---- host_status: xenconsoled's logging, as init_host found it
 * --------------- */

/* DIR/42 as /proc has it for a process called xenconsoled with argv
 * (len bytes, NUL-separated). */
static void proc_of_xenconsoled(const char *dir, const char *argv, size_t len)
{
    char p[PATH_MAX];
    FILE *f;

    mkdir(dir, 0700);
    snprintf(p, sizeof(p), "%s/42", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/42/comm", dir);
    write_file(p, "xenconsoled\n");
    snprintf(p, sizeof(p), "%s/42/cmdline", dir);
    f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(argv, 1, len, f);
    fclose(f);
}

/* Stops the daemon (cleanly: exit 0) and starts it on proc. */
static void restart_daemon(const char *proc)
{
    int status = -1;

    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        CU_ASSERT_EQUAL(waitpid(daemon_pid, &status, 0), daemon_pid);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        daemon_pid = -1;
    }
    daemon_proc = proc;
    CU_ASSERT_EQUAL_FATAL(start_daemon(), 0);
}

/* Runs after SIGTERM stopped the suite's daemon: its own daemons. */
static void test_host_status(void)
{
    char bad[PATH_MAX], good[PATH_MAX], logs[PATH_MAX], argv[PATH_MAX + 64];
    const char *w;
    client *c;
    nxl_json *r, *d;
    cli_out o;
    int n;

    snprintf(bad, sizeof(bad), "%s/proc-nolog", root);
    snprintf(good, sizeof(good), "%s/proc-good", root);
    snprintf(logs, sizeof(logs), "%s/console", root);
    mkdir(logs, 0700);
    /* Debian's default: xenconsoled logs no guest console. */
    proc_of_xenconsoled(bad, "/usr/sbin/xenconsoled\0--pid-file=/run/x.pid",
                        sizeof("/usr/sbin/xenconsoled\0--pid-file=/run/x.pid"));
    n = snprintf(argv, sizeof(argv),
                 "/usr/sbin/xenconsoled%c--log=guest%c"
                 "--log-dir=%s",
                 0, 0, logs);
    proc_of_xenconsoled(good, argv, (size_t)n + 1);

    restart_daemon(bad);
    /* The read-only socket has it: it is for whoever watches the host. */
    c = client_open(ro_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "host_status", NULL);
    CU_ASSERT(is_ok(r));
    w = nxl__json_string(nxl__json_get(result_of(r), "console_warning"));
    CU_ASSERT(w &&
              strstr(w, "xenconsoled (pid 42) does not log guest "
                        "consoles (--log=none)") &&
              strstr(w, "XENCONSOLED_TRACE=guest"));
    CU_ASSERT(nxl__json_string(nxl__json_get(result_of(r), "driver")) &&
              strcmp(nxl__json_string(nxl__json_get(result_of(r), "driver")),
                     "libxl") == 0);
    nxl__json_free(r);
    client_close(c);
    CU_ASSERT(log_has("consoles: xenconsoled (pid 42) does not log"));
    CLI(&o, "host", "status");
    expect_exit(&o, 0, "host status (warning)");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(o.out, "console_warning  xenconsoled (pid 42) does not log "
                      "guest consoles (--log=none)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "driver           libxl\n"));
    cli_out_free(&o);
    CLI(&o, "--json", "host", "status");
    expect_exit(&o, 0, "host status --json (warning)");
    d = out_doc(&o);
    w = nxl__json_string(nxl__json_get(d, "console_warning"));
    CU_ASSERT(w && strstr(w, "--log=none"));
    nxl__json_free(d);
    cli_out_free(&o);

    /* Logging guests into console_log_dir: no warning, null. */
    restart_daemon(good);
    c = client_open(rw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "host_status", "{}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT(nxl__json_type(nxl__json_get(result_of(r), "console_warning")) ==
              NXL_JSON_NULL);
    nxl__json_free(r);
    client_close(c);
    CLI(&o, "host", "status");
    expect_exit(&o, 0, "host status (no warning)");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.out, "console_warning  -\n"));
    cli_out_free(&o);
    CLI(&o, "--json", "host", "status");
    expect_exit(&o, 0, "host status --json (no warning)");
    d = out_doc(&o);
    CU_ASSERT(d && nxl__json_get(d, "console_warning") &&
              nxl__json_type(nxl__json_get(d, "console_warning")) ==
                  NXL_JSON_NULL);
    nxl__json_free(d);
    cli_out_free(&o);
    CLI(&o, "host", "status", "extra");
    expect_exit(&o, 1, "host status extra");
    cli_out_free(&o);
    /* --fake-proc without --fake-port: refused. */
    {
        char novaxld[PATH_MAX];
        const char *builddir = getenv("NXL_TEST_BUILDDIR");
        int status = -1;
        pid_t pid;

        snprintf(novaxld, sizeof(novaxld), "%s/service/novaxld",
                 builddir ? builddir : ".");
        pid = fork();
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 2);
            execl(novaxld, novaxld, "--fake-proc", good, (char *)NULL);
            _exit(97);
        }
        CU_ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid &&
                  WIFEXITED(status) && WEXITSTATUS(status) == 2);
    }
    kill(daemon_pid, SIGTERM);
    {
        int status = -1;

        CU_ASSERT_EQUAL(waitpid(daemon_pid, &status, 0), daemon_pid);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    daemon_pid = -1;
}

static void cleanup(void)
{
    if (daemon_pid > 0) {
        int status;
        kill(daemon_pid, SIGKILL);
        waitpid(daemon_pid, &status, 0);
        daemon_pid = -1;
    }
    if (root[0])
        nxl_test_rm_tree(root);
    nxl_test_xsd_stop(&xsd);
}

int main(void)
{
    char dir[PATH_MAX];
    CU_pSuite s;
    unsigned failures;
    const char *v = getenv("NXL_UNDER_VALGRIND");
    int rc;

    under_valgrind = v && strcmp(v, "1") == 0;
    rc = nxl_test_xsd_start(&xsd);
    if (rc != 0) {
        fprintf(stderr, "xenstored: %s\n", xsd.why);
        nxl_test_xsd_stop(&xsd);
        return rc == NXL_TEST_SKIP ? NXL_TEST_SKIP : 1;
    }
    if (nxl_test_mkdtemp(root, sizeof(root), "nxl-svc") != 0) {
        perror("mkdtemp");
        root[0] = '\0';
        cleanup();
        return 1;
    }
    /* the other-uid child must reach the sockets through root's dir */
    chmod(root, 0755);
    snprintf(rw_path, sizeof(rw_path), "%s/novaxld.sock", root);
    snprintf(ro_path, sizeof(ro_path), "%s/novaxld-ro.sock", root);
    snprintf(conf_path, sizeof(conf_path), "%s/novaxld.conf", root);
    snprintf(log_path, sizeof(log_path), "%s/novaxld.log", root);
    snprintf(dir, sizeof(dir), "%s/images", root);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/images/kernel-1", root);
    write_file(dir, "not really a kernel\n");
    snprintf(dir, sizeof(dir), "%s/images/initrd-1", root);
    write_file(dir, "not really an initrd\n");
    write_config(300);
    if (start_daemon()) {
        char *log = slurp(log_path);
        fprintf(stderr, "could not start novaxld; log:\n%s\n", log);
        free(log);
        cleanup();
        return 1;
    }

    if (CU_initialize_registry() != CUE_SUCCESS) {
        cleanup();
        return 1;
    }
    s = CU_add_suite("json helpers", NULL, NULL);
    if (!s || !CU_add_test(s, "writer and reader", test_json_writer)) {
        CU_cleanup_registry();
        cleanup();
        return 1;
    }
    s = CU_add_suite("novaxld", NULL, NULL);
    if (!s || !CU_add_test(s, "lifecycle over the socket", test_lifecycle) ||
        !CU_add_test(s, "host calls", test_host_calls) ||
        !CU_add_test(s, "every contract method answers",
                     test_every_contract_method) ||
        !CU_add_test(s, "bad input", test_bad_input) ||
        !CU_add_test(s, "pipelined requests", test_pipelined) ||
        !CU_add_test(s, "concurrent clients", test_concurrent_clients) ||
        !CU_add_test(s, "read-only socket", test_read_only_socket) ||
        !CU_add_test(s, "other uid refused", test_other_uid_refused) ||
        !CU_add_test(s, "events: subscribe, resume, gap", test_events) ||
        !CU_add_test(s, "events: aggregate transitions",
                     test_aggregate_events) ||
        !CU_add_test(s, "more methods", test_more_methods) ||
        !CU_add_test(s, "every method with real params", test_all_methods) ||
        !CU_add_test(s, "concurrent clients, new methods",
                     test_concurrent_new_methods) ||
        !CU_add_test(s, "a long operation blocks no other client",
                     test_long_operation_not_blocking) ||
        !CU_add_test(s, "novaxl: lifecycle through novaxld",
                     test_cli_lifecycle) ||
        !CU_add_test(s, "novaxl: events", test_cli_events) ||
        !CU_add_test(s, "novaxl: host and aggregates",
                     test_cli_host_and_aggregates) ||
        !CU_add_test(s, "novaxl: errors, -N, sockets", test_cli_errors) ||
        !CU_add_test(s, "novaxl: dumpxml and spawn --xml", test_cli_xml) ||
        !CU_add_test(s, "novaxl: rescue, diagnostics, rebuild, aggregate show",
                     test_cli_more_commands) ||
        !CU_add_test(s, "SIGHUP reload", test_sighup_reload) ||
        !CU_add_test(s, "SIGTERM", test_sigterm) ||
        !CU_add_test(s, "host_status: xenconsoled's logging",
                     test_host_status)) {
        CU_cleanup_registry();
        cleanup();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    if (failures) {
        char *log = slurp(log_path);
        fprintf(stderr, "---- novaxld log ----\n%s\n", log);
        free(log);
    }
    cleanup();
    return failures ? 1 : 0;
}

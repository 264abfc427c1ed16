/* novaxld over its socket: a real daemon (service/novaxld, built by this
 * tree) started on a private socket in a temp dir, its driver on the fake
 * hypervisor port (--fake-port, the test double) and a private real
 * xenstored (tests/xsd), driven by a real client speaking JSON-RPC 2.0
 * lines over AF_UNIX.
 *
 * What it proves: the lifecycle through the socket (spawn, list, get_info,
 * pause, destroy) with the contract's error kinds; host calls; every
 * contract method answers (mapped, or "not implemented yet", never
 * "method not found"); malformed, non-object, oversized and unknown
 * requests get JSON-RPC errors and the connection survives; requests
 * pipelined on one connection and concurrent clients; the read-only
 * socket refuses mutating calls; a peer of another uid (a child that
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
#include <ftw.h>
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
#include "tests/xsd/xsd-harness.h"

#define UUID_A "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
#define BACKLOG 16
#define MAX_REQUEST 65536

static nxl_test_xsd xsd;
static char root[PATH_MAX / 4];
static char rw_path[PATH_MAX], ro_path[PATH_MAX], conf_path[PATH_MAX],
    log_path[PATH_MAX];
static pid_t daemon_pid = -1;
static bool under_valgrind;

/* ---- the daemon ------------------------------------------------------------- */

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
    char text[1024];

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
             "host = testhost\n",
             BACKLOG, MAX_REQUEST, idle_timeout);
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

/* ---- a client ------------------------------------------------------------------ */

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

    if (!client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"%s%s}",
                     id, method, params ? ",\"params\":" : "",
                     params ? params : ""))
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

/* ---- tests ----------------------------------------------------------------------- */

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
    r = call(c, "get_info", "{\"uuid\": \"2F9C4D1E-8A7B-4C6D-9E0F-1A2B3C4D5E6F\"}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_EQUAL(int_of(nxl__json_get(result_of(r), "state")), 1);
    CU_ASSERT_STRING_EQUAL(
        nxl__json_string(nxl__json_get(result_of(r), "id")), UUID_A);
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
    r = call(c, "reboot", "{\"uuid\": \"" UUID_A "\", \"reboot_type\": \"HARD\"}");
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
    nxl_json *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    r = call(c, "get_available_resource", NULL);
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(nxl__json_string(nxl__json_get(result_of(r),
                                                          "hypervisor_type")),
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
    r = call(c, "host_maintenance_mode", "{\"host\": \"testhost\", \"mode\": true}");
    CU_ASSERT(is_ok(r));
    CU_ASSERT_STRING_EQUAL(nxl__json_string(result_of(r)), "on_maintenance");
    nxl__json_free(r);
    r = call(c, "host_maintenance_mode", "{\"host\": \"testhost\", \"mode\": false}");
    CU_ASSERT(is_ok(r));
    nxl__json_free(r);
    client_close(c);
}

/* Every contract method of include/novaxl/nxl.h answers: a mapping, or
 * "not implemented yet" (-32001), never "method not found". */
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
    for (p = hdr; (p = strstr(p, "/* contract: ")); ) {
        char name[128];
        nxl_json *r;

        p += strlen("/* contract: ");
        if (sscanf(p, "%127[a-z_]", name) != 1)
            continue;
        n++;
        /* A uuid and nothing else: enough to reach every handler's
         * parameter checks without changing anything for real. */
        r = call(c, name, "{\"uuid\": \"00000000-0000-4000-8000-000000000000\"}");
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
    CU_ASSERT(n >= 100);
    CU_ASSERT(todo > 0 && todo < n);
    printf("\n    %u contract methods, %u mapped, %u not implemented yet\n",
           n, n - todo, todo);
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
    CU_ASSERT(client_send(c, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get_host_uptime\"}]"));
    expect_error(c, -32600);
    CU_ASSERT(client_send(c, "{\"id\":1,\"method\":\"get_host_uptime\"}"));
    expect_error(c, -32600);
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}"));
    expect_error(c, -32600);
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":42}"));
    expect_error(c, -32600);
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get_info\",\"params\":[1]}"));
    expect_error(c, -32602);
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"get_info\"}"));
    expect_error(c, -32700); /* duplicate key */
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\\u0000y\"}"));
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
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get_host_uptime\",\"pad\":\"%s%s\"}",
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
    r = call(c, "reboot", "{\"uuid\": \"" UUID_A "\", \"reboot_type\": \"SIDEWAYS\"}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    r = call(c, "power_off", "{\"uuid\": \"" UUID_A "\", \"timeout\": -1}");
    CU_ASSERT_EQUAL(error_code(r), -32602);
    nxl__json_free(r);
    /* a notification (no id) gets no reply; blank lines are ignored */
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"method\":\"get_host_uptime\"}"));
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
        CU_ASSERT(client_send(c,
                              "{\"jsonrpc\":\"2.0\",\"id\":\"req-%d\","
                              "\"method\":\"%s\"}",
                              i, i % 2 ? "get_host_uptime"
                                       : "get_available_resource"));
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
    r = call(c, "pause", "{\"uuid\": \"" UUID_A "\"}"); /* fails: an event too */
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
            CU_ASSERT_STRING_EQUAL(
                nxl__json_string(nxl__json_get(nxl__json_get(ev, "error"),
                                               "kind")),
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
        r = call(c, "set_host_enabled", i % 2 ? "{\"enabled\": true}"
                                              : "{\"enabled\": false}");
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
    CU_ASSERT(wait_log("reload failed, keeping the running configuration", 5000));
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
    CU_ASSERT(client_send(c, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"spawn\","
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

/* ---- the JSON helpers the service uses (common/json.c) -------------------------- */

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
    CU_ASSERT_EQUAL(nxl__json_parse("{\"a\": {\"b\": [true, 7]}}", 23, 0,
                                    &doc, &err), 0);
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
        CU_ASSERT_EQUAL(nxl__json_to_text(nxl__json_get(doc, "a"), &text,
                                          &err), 0);
        CU_ASSERT_STRING_EQUAL(text, "{\"b\":[true,7]}");
        free(text);
    }
    nxl__json_free(doc);
    doc = NULL;
    CU_ASSERT_EQUAL(nxl__json_parse("{\"a\": [{\"k\": 1, \"k\": 2}]}", 25, 0,
                                    &doc, &err), NXL_E_INVAL);
    CU_ASSERT(strstr(nxl_error_message(&err), "a[0]") != NULL);
    CU_ASSERT(strstr(nxl_error_message(&err), "duplicate key") != NULL);
    nxl_error_dispose(&err);
    CU_ASSERT_EQUAL(nxl__json_parse("[1,2,3]", 7, 4, &doc, &err), NXL_E_INVAL);
    CU_ASSERT(strstr(nxl_error_message(&err), "too large") != NULL);
    nxl_error_dispose(&err);
    CU_ASSERT_PTR_NULL(doc);
}

/* ---- main -------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
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
        nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
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
    snprintf(root, sizeof(root), "%s/nxl-svc-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) {
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
        !CU_add_test(s, "SIGHUP reload", test_sighup_reload) ||
        !CU_add_test(s, "SIGTERM", test_sigterm)) {
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

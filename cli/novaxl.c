/* novaxl: the command-line tool. A command table in the style of xl's
 * cmd_table; the commands hold no logic of their own.
 *
 * Every command is one or more calls of novaxld's JSON-RPC methods
 * (docs/protocol.md). Where a daemon runs they go over its socket;
 * with --local (or when no daemon socket exists) the same method table
 * (service/methods.c) runs in-process on a libxl driver of our own. Both
 * ways give a parsed JSON result or an nxl_error, which one renderer per
 * command prints, so output and exit codes are the same either way.
 *
 * Exit codes (also in cli/README.md, man/novaxl.1 and --help):
 *   0 success        1 usage error       2 invalid input (NXL_E_INVAL)
 *   3 not found      4 hypervisor or novaxld unavailable
 *   5 failed (any other error)           6 not supported or not implemented
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>

#include "common/internal.h"
#include "common/json.h"
#include "common/xml.h"
#include "novaxl/nxl.h"
#include "service/svc.h"
#include "xl_driver/xl_config.h"

#ifndef NXL_SYSCONFDIR
#define NXL_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG NXL_SYSCONFDIR "/novaxl/novaxld.conf"

/* A reply line may hold a whole console tail; anything longer is refused. */
#define MAX_REPLY_BYTES NXL_MAX_DOCUMENT_BYTES

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_INVALID = 2,
    EXIT_NOT_FOUND = 3,
    EXIT_HYPERVISOR = 4,
    EXIT_FAILED = 5,
    EXIT_UNSUPPORTED = 6,
};

typedef struct cmd_spec cmd_spec;

typedef struct cli {
    bool json;    /* --json: one JSON document on stdout */
    bool dry_run; /* -N: modifying commands only show what they would do */
    bool local;   /* --local, or --instances-dir/--image-cache given */
    const char *socket;          /* --socket; NULL: the configured one */
    const char *instances_dir;   /* --instances-dir; NULL: the default */
    const char *image_cache_dir; /* --image-cache; NULL: the default */
    const cmd_spec *cmd;         /* the command running */
    /* the backend, opened by the first call */
    bool opened;
    int fd;          /* novaxld's socket, or -1 in-process */
    char *path;      /* the socket in use */
    nxl_driver *drv; /* in-process */
    long long next_id;
    char *rbuf;
    size_t rlen, rcap;
} cli;

struct cmd_spec {
    const char *name;
    int (*handler)(cli *c, int argc, char **argv);
    /* Changes host state: with -N such a command must only print. */
    bool modifies;
    const char *help;
    const char *usage;
    const char *method; /* the instance method of simple commands */
};

static int cmd_dry_run(cli *c, int argc, char **argv);
static int cmd_spawn(cli *c, int argc, char **argv);
static int cmd_dumpxml(cli *c, int argc, char **argv);
static int cmd_help(cli *c, int argc, char **argv);
static int cmd_list(cli *c, int argc, char **argv);
static int cmd_info(cli *c, int argc, char **argv);
static int cmd_destroy(cli *c, int argc, char **argv);
static int cmd_simple(cli *c, int argc, char **argv);
static int cmd_power_off(cli *c, int argc, char **argv);
static int cmd_reboot(cli *c, int argc, char **argv);
static int cmd_console(cli *c, int argc, char **argv);
static int cmd_metadata(cli *c, int argc, char **argv);
static int cmd_host(cli *c, int argc, char **argv);
static int cmd_aggregate(cli *c, int argc, char **argv);
static int cmd_events(cli *c, int argc, char **argv);
static int cmd_rescue(cli *c, int argc, char **argv);
static int cmd_rebuild(cli *c, int argc, char **argv);
static int cmd_set_bootable(cli *c, int argc, char **argv);
static int cmd_diagnostics(cli *c, int argc, char **argv);
static int cmd_disk_info(cli *c, int argc, char **argv);

static const cmd_spec cmd_table[] = {
    {"dry-run", cmd_dry_run, false,
     "Print the libxl domain configuration for a spawn request", "[--xml] FILE",
     NULL},
    {"spawn", cmd_spawn, true, "Create an instance from a spawn request",
     "[-N|--dry-run] [--xml] FILE", NULL},
    {"dumpxml", cmd_dumpxml, false,
     "Print an instance's spawn request as libvirt domain XML", "UUID", NULL},
    {"list", cmd_list, false, "List this host's instances", "", NULL},
    {"info", cmd_info, false, "Show an instance's power state", "UUID", NULL},
    {"destroy", cmd_destroy, true, "Destroy an instance and its disks",
     "UUID [--keep-disks]", NULL},
    {"pause", cmd_simple, true, "Pause a running instance", "UUID", "pause"},
    {"unpause", cmd_simple, true, "Unpause a paused instance", "UUID",
     "unpause"},
    {"suspend", cmd_simple, true,
     "Save a running instance's memory to disk and stop it", "UUID", "suspend"},
    {"resume", cmd_simple, true, "Restore a suspended instance", "UUID",
     "resume"},
    {"power-off", cmd_power_off, true,
     "Shut an instance down, destroying it after the timeout",
     "UUID [--timeout S] [--retry-interval S]", NULL},
    {"shutdown", cmd_power_off, true, "Same as power-off",
     "UUID [--timeout S] [--retry-interval S]", NULL},
    {"power-on", cmd_simple, true, "Boot a powered-off instance", "UUID",
     "power_on"},
    {"start", cmd_simple, true, "Same as power-on", "UUID", "power_on"},
    {"reboot", cmd_reboot, true, "Reboot an instance (SOFT unless --hard)",
     "UUID [--hard]", NULL},
    {"soft-delete", cmd_simple, true,
     "Power an instance off and keep it for restore", "UUID", "soft_delete"},
    {"restore", cmd_simple, true, "Boot a soft-deleted instance again", "UUID",
     "restore"},
    {"rescue", cmd_rescue, true,
     "Boot an instance from a rescue image, its disks attached",
     "UUID IMAGE_ID [--password PW] [--disk-format FMT]", NULL},
    {"unrescue", cmd_simple, true, "Boot a rescued instance from its disks",
     "UUID", "unrescue"},
    {"rebuild", cmd_rebuild, true, "Re-create an instance from a spawn request",
     "FILE [--preserve-ephemeral] [--recreate]", NULL},
    {"set-bootable", cmd_set_bootable, true,
     "Allow or refuse powering an instance on", "UUID yes|no", NULL},
    {"crash-dump", cmd_simple, true,
     "Send an NMI to an instance (trigger_crash_dump)", "UUID",
     "trigger_crash_dump"},
    {"diagnostics", cmd_diagnostics, false,
     "Show an instance's diagnostics (CPU, NICs, disks, memory)",
     "UUID [--legacy]", NULL},
    {"disk-info", cmd_disk_info, false, "Show an instance's local disks",
     "UUID", NULL},
    {"console", cmd_console, false,
     "Show an instance's console log tail and VNC details",
     "UUID --name NAME [--log|--vnc]", NULL},
    {"metadata", cmd_metadata, true, "Change the metadata published to a guest",
     "set UUID KEY=VALUE... | unset UUID KEY... [--name NAME]", NULL},
    {"host", cmd_host, false, "Host resources, statistics and state",
     "status | resources [--node NODE] | cpu-stats | uptime | ip | "
     "connector | capabilities | enable | disable | "
     "maintenance on|off [--host NAME] | "
     "power-action reboot|shutdown|startup --yes",
     NULL},
    {"aggregate", cmd_aggregate, true,
     "Join or leave an aggregate, or undo a failed change",
     "add|remove HOST --id N --name NAME [--zone AZ] | "
     "undo add|remove HOST --id N --name NAME [--zone AZ] [--no-set-error] | "
     "show --id N",
     NULL},
    {"events", cmd_events, false, "Follow novaxld's event stream",
     "[--since ID] [--count N] [--no-follow]", NULL},
    {"help", cmd_help, false, "Show this help", "[COMMAND]", NULL},
};

static const char exit_codes_help[] =
    "Exit codes: 0 success, 1 usage error, 2 invalid input, 3 not found,\n"
    "            4 hypervisor or novaxld unavailable, 5 failed,\n"
    "            6 not supported or not implemented.\n";

static const cmd_spec *find_cmd(const char *name)
{
    for (size_t i = 0; i < NXL_ARRAY_SIZE(cmd_table); i++)
        if (strcmp(cmd_table[i].name, name) == 0)
            return &cmd_table[i];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: novaxl [OPTIONS] COMMAND [ARGS]\n"
            "       novaxl --help | --version\n\n"
            "Options:\n"
            "  --json               one JSON document on stdout (errors too)\n"
            "  -N, --dry-run        modifying commands only print what they "
            "would do\n"
            "  --socket PATH        talk to novaxld at PATH (default: "
            "socket_path of\n"
            "                       %s, else /run/novaxl/novaxld.sock)\n"
            "  --local              run the driver in-process, not through "
            "novaxld\n"
            "  --instances-dir DIR  records and disks (implies --local; "
            "default\n"
            "                       /var/lib/novaxl/instances)\n"
            "  --image-cache DIR    images by id (implies --local; default\n"
            "                       /var/lib/novaxl/images)\n"
            "  -h, --help           show this help\n"
            "  -V, --version        show the version\n\n"
            "Commands:\n",
            DEFAULT_CONFIG);
    for (size_t i = 0; i < NXL_ARRAY_SIZE(cmd_table); i++)
        fprintf(f, "  %-12s %s\n", cmd_table[i].name, cmd_table[i].help);
    fprintf(f, "\n%s", exit_codes_help);
}

static int exit_code_for(const nxl_error *err)
{
    switch (err->code) {
    case NXL_OK:
        return EXIT_OK;
    case NXL_E_INVAL:
        return EXIT_INVALID;
    case NXL_E_NOT_FOUND:
        return EXIT_NOT_FOUND;
    case NXL_E_HYPERVISOR:
        return EXIT_HYPERVISOR;
    case NXL_E_UNSUPPORTED:
    case NXL_E_NOT_IMPLEMENTED:
    case NXL_E_CONSOLE_UNAVAILABLE:
        return EXIT_UNSUPPORTED;
    case NXL_E_IO:
        /* The file named on the command line does not exist. */
        return err->sys_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_FAILED;
    default:
        return EXIT_FAILED;
    }
}

/* Writes a finished document and a newline on stdout. */
static int put_doc(nxl_jw *w, nxl_error *err)
{
    char *doc = NULL;
    int rc = nxl__jw_finish(w, &doc, err);

    if (rc == 0 && (puts(doc) == EOF || fflush(stdout) != 0))
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "writing stdout");
    free(doc);
    return rc;
}

/* The one place the cli reports a failure: one line on stderr,
 * "novaxl: <subject>: <message>", and with --json the same as an object
 * on stdout. Returns the exit code. */
static int report(const cli *c, const char *subject, const nxl_error *err)
{
    const char *msg = nxl_error_message(err);

    fprintf(stderr, "novaxl: %s: %s\n", subject, msg);
    if (c->json) {
        nxl_jw *w = nxl__jw_new();

        nxl__jw_object_open(w);
        nxl__jw_key(w, "error");
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "code", nxl_error_code_name(err->code));
        nxl__jw_kv_string(w, "exception", nxl_error_nova_name(err->code));
        nxl__jw_kv_string(w, "subject", subject);
        /* The message may quote guest or file bytes: only valid UTF-8
         * goes out, else the document would fail as a whole. */
        nxl__jw_kv_string(w, "message",
                          nxl__utf8_valid(msg, strlen(msg))
                              ? msg
                              : "(not UTF-8: see stderr)");
        nxl__jw_object_close(w);
        nxl__jw_object_close(w);
        put_doc(w, NULL);
        nxl__jw_free(w);
    }
    return exit_code_for(err);
}

static int usage_error(const cmd_spec *cmd, const char *why)
{
    fprintf(stderr, "novaxl: %s: %s\nUsage: novaxl %s %s\n", cmd->name, why,
            cmd->name, cmd->usage);
    return EXIT_USAGE;
}

static int show_usage(const cmd_spec *cmd)
{
    printf("Usage: novaxl %s %s\n%s.\n", cmd->name, cmd->usage, cmd->help);
    return EXIT_OK;
}

/* ---- requests: JSON, or libvirt XML with --xml -----------------------------
 */

/* The layout libvirt XML's <kernel> paths are read against: --image-cache,
 * else novaxld's configured image_cache_dir, else the default. */
static int xml_layout(const cli *c, nxl_host_layout *l, nxl_error *err)
{
    nxl_svc_config cfg;
    const char *dir = c->image_cache_dir;
    int rc;

    if (nxl_host_layout_default(l))
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    if (nxl_svc_config_init(&cfg))
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    if (!dir && access(DEFAULT_CONFIG, R_OK) == 0) {
        nxl_error e = NXL_ERROR_INIT;
        if (nxl_svc_config_load(&cfg, DEFAULT_CONFIG, &e) == 0)
            dir = cfg.image_cache_dir;
        nxl_error_dispose(&e);
    }
    rc = 0;
    if (dir) {
        char *copy = strdup(dir);
        if (!copy) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        } else {
            free(l->image_cache_dir);
            l->image_cache_dir = copy;
        }
    }
    nxl_svc_config_dispose(&cfg);
    return rc;
}

/* A spawn request file; with xml, a libvirt <domain type='xen'>. On
 * success *doc_r holds the file (free()). */
static int read_request(const cli *c, const char *path, bool xml,
                        nxl_spawn_req *req, char **doc_r, size_t *len_r,
                        nxl_error *err)
{
    nxl_host_layout layout;
    int rc;

    nxl_host_layout_init(&layout);
    if ((rc = nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, doc_r, len_r,
                                    err)))
        return rc;
    if (!xml)
        return nxl__spawn_req_from_json(*doc_r, *len_r, req, err);
    if ((rc = xml_layout(c, &layout, err)) == 0)
        rc = nxl__spawn_req_from_xml(*doc_r, *len_r, &layout, req, err);
    nxl_host_layout_dispose(&layout);
    return rc;
}

/* ---- dry-run: the config builder, always in-process ------------------------
 */

/* Spawn request file -> libxl_domain_config JSON on stdout. */
static int print_config(const cli *c, const char *path, bool xml)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    nxl_host_layout layout;
    libxl_domain_config cfg;
    bool have_cfg = false;
    char *doc = NULL, *json = NULL;
    size_t len;
    int rc, ret;

    nxl_spawn_req_init(&req);
    nxl_host_layout_init(&layout);
    rc = read_request(c, path, xml, &req, &doc, &len, &err);
    if (rc)
        goto out;
    rc = nxl_host_layout_default(&layout);
    if (rc) {
        nxl_error_set(&err, rc, "host layout: out of memory");
        goto out;
    }
    rc = nxl__xl_build_config(&req, &layout, &cfg, &err);
    if (rc)
        goto out;
    have_cfg = true;
    rc = nxl__xl_config_to_json(&cfg, &json, &err);
    if (rc)
        goto out;
    /* yajl's pretty printer already ends the document with a newline. */
    len = strlen(json);
    if (printf("%s%s", json, len && json[len - 1] == '\n' ? "" : "\n") < 0 ||
        fflush(stdout) != 0)
        rc = nxl_error_set_errno(&err, NXL_E_IO, errno, "writing stdout");
out:
    ret = rc ? report(c, path, &err) : EXIT_OK;
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    free(json);
    free(doc);
    nxl_host_layout_dispose(&layout);
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- the backend: novaxld or in-process -----------------------------------
 */

/* The socket to try without --socket: socket_path of novaxld's
 * configuration file when it is readable, else the built-in default. */
static char *default_socket(void)
{
    nxl_svc_config cfg;
    char *path = NULL;

    if (nxl_svc_config_init(&cfg))
        return NULL;
    if (access(DEFAULT_CONFIG, R_OK) == 0) {
        nxl_error err = NXL_ERROR_INIT;
        if (nxl_svc_config_load(&cfg, DEFAULT_CONFIG, &err))
            nxl__debug("%s", nxl_error_message(&err));
        nxl_error_dispose(&err);
    }
    if (cfg.socket_path)
        path = strdup(cfg.socket_path);
    nxl_svc_config_dispose(&cfg);
    return path;
}

static int connect_socket(cli *c, const char *path, nxl_error *err)
{
    struct sockaddr_un sa;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return nxl_error_set(err, NXL_E_INVAL,
                             "socket path '%s' is longer than %zu bytes", path,
                             sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nxl_error_set_errno(err, NXL_E_HYPERVISOR, errno, "socket: %s",
                                   strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return nxl_error_set_errno(err, NXL_E_HYPERVISOR, e,
                                   "cannot reach novaxld at %s: %s", path,
                                   strerror(e));
    }
    c->fd = fd;
    return 0;
}

/* Opens the libxl driver and connects it (init_host, which also finishes
 * or rolls back whatever an interrupted earlier command left). */
static int open_driver(cli *c, nxl_error *err)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *drv = NULL;
    char host[256];
    int rc;

    /* nova's CONF.host defaults to the host name, as the driver's does. */
    if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    cfg.host = host;
    cfg.instances_dir = c->instances_dir;
    cfg.image_cache_dir = c->image_cache_dir;
    rc = nxl_driver_open("libxl", &cfg, &drv, err);
    if (rc == 0)
        rc = nxl_host_init(drv, host, err);
    if (rc) {
        nxl_driver_close(drv);
        return rc;
    }
    c->drv = drv;
    return 0;
}

/* novaxld when --socket names one or the default socket exists;
 * in-process otherwise (or with --local). */
static int open_backend(cli *c, nxl_error *err)
{
    struct stat st;
    int rc;

    if (c->opened)
        return 0;
    c->fd = -1;
    if (!c->local) {
        if (c->socket)
            c->path = strdup(c->socket);
        else
            c->path = default_socket();
        if (!c->path)
            return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        if (c->socket || (stat(c->path, &st) == 0 && S_ISSOCK(st.st_mode))) {
            rc = connect_socket(c, c->path, err);
            if (rc)
                return rc;
            c->opened = true;
            return 0;
        }
        nxl__debug("no novaxld socket at %s: running in-process", c->path);
    }
    rc = open_driver(c, err);
    if (rc)
        return rc;
    c->opened = true;
    return 0;
}

static void close_backend(cli *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    nxl_driver_close(c->drv);
    c->drv = NULL;
    free(c->path);
    c->path = NULL;
    free(c->rbuf);
    c->rbuf = NULL;
    c->rlen = c->rcap = 0;
    c->opened = false;
}

/* Shows a spinner and the elapsed time on a terminal while a long call
 * runs, and clears the line at the end; never with --json or when
 * stderr is not a terminal (logs, pipes, tests). */
static void progress(const cli *c, const char *what, time_t start, bool done)
{
    static const char spin[] = "|/-\\";
    static unsigned tick;

    if (c->json || !isatty(STDERR_FILENO))
        return;
    if (done)
        fputs("\r\033[K", stderr);
    else
        fprintf(stderr, "\r%c %s: %lds", spin[tick++ % 4], what,
                (long)(time(NULL) - start));
    fflush(stderr);
}

/* Reads one line from novaxld (without its newline; NUL-terminated in
 * c->rbuf, *len_r bytes). Shows progress four times a second when what
 * is set. */
static int read_line(cli *c, const char *what, size_t *len_r, nxl_error *err)
{
    time_t start = time(NULL);
    char *nl;

    for (;;) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        ssize_t n;
        int r;

        if (c->rlen && (nl = memchr(c->rbuf, '\n', c->rlen))) {
            *nl = '\0';
            *len_r = (size_t)(nl - c->rbuf);
            if (what)
                progress(c, what, start, true);
            return 0;
        }
        if (c->rlen >= MAX_REPLY_BYTES + 1)
            return nxl_error_set(err, NXL_E_IO,
                                 "novaxld at %s: a reply over %d bytes",
                                 c->path, MAX_REPLY_BYTES);
        if (c->rcap - c->rlen < 65536) {
            size_t cap = c->rcap ? c->rcap * 2 : 65536;
            char *b = realloc(c->rbuf, cap + 1);
            if (!b)
                return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
            c->rbuf = b;
            c->rcap = cap;
        }
        r = poll(&pfd, 1, what ? 250 : -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return nxl_error_set_errno(err, NXL_E_IO, errno, "poll: %s",
                                       strerror(errno));
        if (r == 0) {
            progress(c, what, start, false);
            continue;
        }
        n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (what)
                progress(c, what, start, true);
            return nxl_error_set_errno(
                err, NXL_E_IO, n < 0 ? errno : 0,
                "novaxld at %s closed the connection%s%s", c->path,
                n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
        }
        c->rlen += (size_t)n;
    }
}

/* Drops the line read_line() returned from the buffer. */
static void consume_line(cli *c, size_t len)
{
    memmove(c->rbuf, c->rbuf + len + 1, c->rlen - len - 1);
    c->rlen -= len + 1;
}

static int write_all(cli *c, const char *buf, size_t len, nxl_error *err)
{
    while (len) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return nxl_error_set_errno(err, NXL_E_IO, errno,
                                       "novaxld at %s: %s", c->path,
                                       strerror(errno));
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A JSON-RPC error object -> err, with the contract's code back from
 * data.code (docs/protocol.md). */
static int rpc_error(const nxl_json *e, nxl_error *err)
{
    const nxl_json *data = nxl__json_get(e, "data");
    const char *msg = nxl__json_string(nxl__json_get(e, "message"));
    const char *name = nxl__json_string(nxl__json_get(data, "code"));
    long long code = 0;
    int nc;

    nxl__json_integer(nxl__json_get(e, "code"), &code);
    switch (code) {
    case NXL_RPC_DRIVER_ERROR:
        nc = name ? nxl_error_code_from_name(name) : 0;
        if (nc == 0)
            nc = NXL_E_FAILED;
        break;
    case NXL_RPC_NOT_IMPLEMENTED:
    case NXL_RPC_METHOD_NOT_FOUND: /* a novaxld older than this novaxl */
        nc = NXL_E_NOT_IMPLEMENTED;
        break;
    case NXL_RPC_PARSE_ERROR:
    case NXL_RPC_INVALID_REQUEST:
    case NXL_RPC_INVALID_PARAMS:
        nc = NXL_E_INVAL;
        break;
    case NXL_RPC_FORBIDDEN:
        nc = NXL_E_DENIED;
        break;
    case NXL_RPC_BUSY:
        nc = NXL_E_HYPERVISOR;
        break;
    default:
        nc = NXL_E_FAILED;
        break;
    }
    return nxl_error_set(err, nc, "%s",
                         msg ? msg : "novaxld: an error without a message");
}

/* Sends one request and waits for its reply. On success *root_r owns the
 * reply and *result_r points into it. */
static int remote_call(cli *c, const char *method, const char *params,
                       const char *what, nxl_json **root_r,
                       const nxl_json **result_r, nxl_error *err)
{
    long long id = ++c->next_id;
    nxl_jw *w = nxl__jw_new();
    char *req = NULL;
    int rc;

    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "jsonrpc", "2.0");
    nxl__jw_kv_int(w, "id", id);
    nxl__jw_kv_string(w, "method", method);
    if (params) {
        nxl__jw_key(w, "params");
        nxl__jw_document(w, params);
    }
    nxl__jw_object_close(w);
    rc = nxl__jw_finish(w, &req, err);
    nxl__jw_free(w);
    if (rc)
        return rc;
    rc = write_all(c, req, strlen(req), err);
    if (rc == 0)
        rc = write_all(c, "\n", 1, err);
    free(req);
    if (rc)
        return rc;
    for (;;) {
        nxl_error perr = NXL_ERROR_INIT;
        nxl_json *root = NULL;
        const nxl_json *rid, *e;
        long long got;
        size_t len;

        if ((rc = read_line(c, what, &len, err)))
            return rc;
        if (len == 0) {
            consume_line(c, len);
            continue;
        }
        rc = nxl__json_parse(c->rbuf, len, MAX_REPLY_BYTES, &root, &perr);
        consume_line(c, len);
        if (rc) {
            rc = nxl_error_set(err, NXL_E_IO,
                               "novaxld at %s: an unreadable reply: %s",
                               c->path, nxl_error_message(&perr));
            nxl_error_dispose(&perr);
            return rc;
        }
        rid = nxl__json_get(root, "id");
        if (!nxl__json_integer(rid, &got) || got != id) {
            /* An error without our id: the daemon refused the connection
             * (a refused peer, too many connections). */
            if (nxl__json_type(rid) == NXL_JSON_NULL &&
                (e = nxl__json_get(root, "error"))) {
                rc = rpc_error(e, err);
                nxl__json_free(root);
                return rc;
            }
            nxl__json_free(root);
            continue;
        }
        if ((e = nxl__json_get(root, "error"))) {
            rc = rpc_error(e, err);
            nxl__json_free(root);
            return rc;
        }
        *result_r = nxl__json_get(root, "result");
        if (!*result_r) {
            nxl__json_free(root);
            return nxl_error_set(err, NXL_E_IO,
                                 "novaxld at %s: a reply without a result",
                                 c->path);
        }
        *root_r = root;
        return 0;
    }
}

/* The same method, in-process. */
static int local_call(cli *c, const char *method, const char *params,
                      nxl_json **root_r, const nxl_json **result_r,
                      nxl_error *err)
{
    const nxl_svc_method *m = nxl_svc_method_find(method);
    nxl_svc_call call;
    nxl_json *p = NULL, *root = NULL;
    nxl_jw *w = NULL;
    char *doc = NULL;
    int rc;

    if (!m || !m->fn) {
        rc = nxl_error_set(err, NXL_E_NOT_IMPLEMENTED,
                           "%s: not implemented yet by novaxl", method);
        goto out;
    }
    if (params && (rc = nxl__json_parse(params, strlen(params), 0, &p, err)))
        goto out;
    memset(&call, 0, sizeof(call));
    call.drv = c->drv;
    call.params = p;
    if (!(w = nxl__jw_new())) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = m->fn(&call, w, err)) || (rc = nxl__jw_finish(w, &doc, err)) ||
        (rc = nxl__json_parse(doc, strlen(doc), MAX_REPLY_BYTES, &root, err)))
        goto out;
    *result_r = root;
    *root_r = NXL_STEAL(root);
out:
    nxl__json_free(root);
    free(doc);
    nxl__jw_free(w);
    nxl__json_free(p);
    return rc;
}

/* Prints the call a dry run would make: {"method","params"}. */
static int print_dry_run(const cli *c, const char *method, const char *params,
                         nxl_error *err)
{
    nxl_jw *w;
    int rc;

    if (!c->json) {
        printf("novaxl: dry run: would call %s %s\n", method,
               params ? params : "{}");
        return fflush(stdout)
                   ? nxl_error_set_errno(err, NXL_E_IO, errno, "writing stdout")
                   : 0;
    }
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    nxl__jw_kv_bool(w, "dry_run", true);
    nxl__jw_kv_string(w, "method", method);
    nxl__jw_key(w, "params");
    nxl__jw_document(w, params);
    nxl__jw_object_close(w);
    rc = put_doc(w, err);
    nxl__jw_free(w);
    return rc;
}

#define DRY_RUN_DONE 1

/* One call of a novaxld method, over the socket or in-process. params
 * is a JSON object as text, or NULL. With -N a mutating method is only
 * printed and DRY_RUN_DONE returned. what: a label for the progress
 * display of a long call (NULL: none). */
static int rpc(cli *c, const char *method, const char *params, const char *what,
               nxl_json **root_r, const nxl_json **result_r, nxl_error *err)
{
    const nxl_svc_method *m = nxl_svc_method_find(method);
    int rc;

    *root_r = NULL;
    if (c->dry_run && m && m->mutating) {
        rc = print_dry_run(c, method, params, err);
        return rc ? rc : DRY_RUN_DONE;
    }
    if ((rc = open_backend(c, err)))
        return rc;
    if (c->fd >= 0)
        return remote_call(c, method, params, what, root_r, result_r, err);
    return local_call(c, method, params, root_r, result_r, err);
}

/* ---- params and output -----------------------------------------------------
 */

/* Validates a UUID operand; exit 2 on a typo, before touching the host. */
static int check_uuid(const char *uuid, nxl_error *err)
{
    return nxl_uuid_validate(uuid, "UUID", err);
}

/* {"uuid": uuid, "name": name?} plus the members of kv: key, value
 * pairs (each value a JSON value as text), ended by NULL; kv may be NULL. */
static char *params_instance(const char *uuid, const char *name,
                             const char *const *kv)
{
    nxl_jw *w = nxl__jw_new();
    char *doc = NULL;

    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "uuid", uuid);
    if (name)
        nxl__jw_kv_string(w, "name", name);
    for (; kv && kv[0]; kv += 2) {
        nxl__jw_key(w, kv[0]);
        nxl__jw_document(w, kv[1]);
    }
    nxl__jw_object_close(w);
    if (nxl__jw_finish(w, &doc, NULL))
        doc = NULL;
    nxl__jw_free(w);
    return doc;
}

/* Prints v as one JSON document. */
static int print_json(const nxl_json *v, nxl_error *err)
{
    char *doc = NULL;
    int rc = nxl__json_to_text(v, &doc, err);

    if (rc == 0 && (puts(doc) == EOF || fflush(stdout) != 0))
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "writing stdout");
    free(doc);
    return rc;
}

/* One scalar as text: strings as they are, null as "-", containers as
 * compact JSON. */
static void print_value(const nxl_json *v)
{
    char *doc = NULL;
    long long n;
    bool b;

    switch (nxl__json_type(v)) {
    case NXL_JSON_STRING:
        fputs(nxl__json_string(v), stdout);
        break;
    case NXL_JSON_INTEGER:
        nxl__json_integer(v, &n);
        printf("%lld", n);
        break;
    case NXL_JSON_BOOL:
        nxl__json_bool(v, &b);
        fputs(b ? "yes" : "no", stdout);
        break;
    case NXL_JSON_NULL:
        fputs("-", stdout);
        break;
    default:
        if (nxl__json_to_text(v, &doc, NULL) == 0)
            fputs(doc, stdout);
        free(doc);
        break;
    }
}

/* An object as a two-column table ("key   value" lines). */
static void print_table(const nxl_json *obj)
{
    size_t width = 0, n = nxl__json_len(obj);

    for (size_t i = 0; i < n; i++)
        if (strlen(nxl__json_key_at(obj, i)) > width)
            width = strlen(nxl__json_key_at(obj, i));
    for (size_t i = 0; i < n; i++) {
        printf("%-*s  ", (int)width, nxl__json_key_at(obj, i));
        print_value(nxl__json_at(obj, i));
        putchar('\n');
    }
}

/* The result of a call: the JSON document with --json, else a table for
 * an object or the value on one line. */
static int print_result(const cli *c, const nxl_json *v, nxl_error *err)
{
    if (c->json)
        return print_json(v, err);
    if (nxl__json_type(v) == NXL_JSON_OBJECT)
        print_table(v);
    else if (nxl__json_type(v) != NXL_JSON_NULL) {
        print_value(v);
        putchar('\n');
    }
    if (fflush(stdout) != 0)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "writing stdout");
    return 0;
}

/* What a command that returns nothing prints with --json:
 * {"ok": true, key: value}. */
static int print_ok(const cli *c, const char *key, const char *value,
                    nxl_error *err)
{
    nxl_jw *w;
    int rc;

    if (!c->json)
        return 0;
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    nxl__jw_kv_bool(w, "ok", true);
    if (key)
        nxl__jw_kv_string(w, key, value);
    nxl__jw_object_close(w);
    rc = put_doc(w, err);
    nxl__jw_free(w);
    return rc;
}

/* rpc(), then what the command prints on success: print_ok(ok_key,
 * ok_value) when ok_key is given, else print_result() of the answer.
 * After a dry run, nothing more: 0. */
static int rpc_print(cli *c, const char *method, const char *params,
                     const char *what, nxl_json **root_r, const char *ok_key,
                     const char *ok_value, nxl_error *err)
{
    const nxl_json *res;
    int rc = rpc(c, method, params, what, root_r, &res, err);

    if (rc == DRY_RUN_DONE)
        return 0;
    if (rc)
        return rc;
    return ok_key ? print_ok(c, ok_key, ok_value, err)
                  : print_result(c, res, err);
}

/* Options of a command: long names, each with has_arg; *vals[i] is set to
 * optarg (or "1" for a flag). --help prints the usage. Returns -1 to go
 * on, else the exit code. getopt's optind is left at the first operand;
 * with 0, not 1, glibc forgets main's "+", so options may follow the
 * operands. */
typedef struct opt_spec {
    const char *name;
    bool has_arg;
    const char **val;
} opt_spec;

static int parse_opts(const cmd_spec *self, int argc, char **argv,
                      const opt_spec *specs, size_t n)
{
    struct option opts[12];
    int opt;

    if (n > NXL_ARRAY_SIZE(opts) - 2)
        n = NXL_ARRAY_SIZE(opts) - 2;
    for (size_t i = 0; i < n; i++)
        opts[i] = (struct option){
            specs[i].name, specs[i].has_arg ? required_argument : no_argument,
            NULL, 'a' + (int)i};
    opts[n] = (struct option){"help", no_argument, NULL, 'h'};
    opts[n + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'h')
            return show_usage(self);
        if (opt >= 'a' && opt < 'a' + (int)n) {
            *specs[opt - 'a'].val = specs[opt - 'a'].has_arg ? optarg : "1";
            continue;
        }
        return usage_error(self, "unknown option or missing argument");
    }
    return -1;
}

/* A whole number of seconds, 0..86400. */
static bool parse_seconds(const char *s, unsigned *out)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > 86400)
        return false;
    *out = (unsigned)v;
    return true;
}

/* A whole number 0..max. */
static bool parse_count(const char *s, unsigned long long max,
                        unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* ---- instance commands ------------------------------------------------------
 */

/* Runs method on the one UUID operand with extra params (kv, as for
 * params_instance) and prints the answer (print_answer), or else
 * {"ok": true, "uuid"} with --json. */
static int instance_call_print(cli *c, int argc, char **argv,
                               const char *method, const char *const *kv,
                               bool long_op, bool print_answer)
{
    const cmd_spec *self = c->cmd;
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const char *uuid;
    char *params = NULL, what[128];
    int rc, ret;

    if (argc - optind != 1)
        return usage_error(self, argc - optind < 1 ? "missing UUID"
                                                   : "too many arguments");
    uuid = argv[optind];
    if ((rc = check_uuid(uuid, &err)))
        goto out;
    if (!(params = params_instance(uuid, NULL, kv))) {
        rc = nxl_error_set(&err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    snprintf(what, sizeof(what), "novaxl: %s %s", self->name, uuid);
    rc = rpc_print(c, method, params, long_op ? what : NULL, &root,
                   print_answer ? NULL : "uuid", uuid, &err);
out:
    ret = rc ? report(c, uuid, &err) : EXIT_OK;
    nxl__json_free(root);
    free(params);
    nxl_error_dispose(&err);
    return ret;
}

/* instance_call_print() of a method that answers null. */
static int instance_call(cli *c, int argc, char **argv, const char *method,
                         const char *const *kv, bool long_op)
{
    return instance_call_print(c, argc, argv, method, kv, long_op, false);
}

/* pause, unpause, suspend, resume, power-on/start, soft-delete, restore,
 * unrescue, crash-dump */
static int cmd_simple(cli *c, int argc, char **argv)
{
    int ret = parse_opts(c->cmd, argc, argv, NULL, 0);
    const char *m = c->cmd->method;

    if (ret >= 0)
        return ret;
    return instance_call(
        c, argc, argv, m, NULL,
        strcmp(m, "suspend") == 0 || strcmp(m, "resume") == 0 ||
            strcmp(m, "power_on") == 0 || strcmp(m, "restore") == 0 ||
            strcmp(m, "unrescue") == 0);
}

static int cmd_destroy(cli *c, int argc, char **argv)
{
    const char *keep = NULL;
    const opt_spec specs[] = {{"keep-disks", false, &keep}};
    int ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    const char *kv[] = {"destroy_disks", keep ? "false" : "true", NULL};

    return instance_call(c, argc, argv, "destroy", kv, true);
}

static int cmd_power_off(cli *c, int argc, char **argv)
{
    const char *timeout = NULL, *retry = NULL;
    const opt_spec specs[] = {{"timeout", true, &timeout},
                              {"retry-interval", true, &retry}};
    /* nova's defaults for an operator: CONF.shutdown_timeout 60 s, retry
     * every 10 s. */
    unsigned t = 60, r = 10;
    char ts[16], rs[16];
    const char *kv[] = {"timeout", ts, "retry_interval", rs, NULL};
    int ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (timeout && !parse_seconds(timeout, &t))
        return usage_error(c->cmd, "--timeout wants 0..86400 seconds");
    if (retry && !parse_seconds(retry, &r))
        return usage_error(c->cmd, "--retry-interval wants 0..86400 seconds");
    snprintf(ts, sizeof(ts), "%u", t);
    snprintf(rs, sizeof(rs), "%u", r);
    return instance_call(c, argc, argv, "power_off", kv, true);
}

static int cmd_reboot(cli *c, int argc, char **argv)
{
    const char *hard = NULL;
    const opt_spec specs[] = {{"hard", false, &hard}};
    int ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    const char *kv[] = {"reboot_type", hard ? "\"HARD\"" : "\"SOFT\"", NULL};

    return instance_call(c, argc, argv, "reboot", kv, true);
}

static int cmd_info(cli *c, int argc, char **argv)
{
    int ret = parse_opts(c->cmd, argc, argv, NULL, 0);

    if (ret >= 0)
        return ret;
    return instance_call_print(c, argc, argv, "get_info", NULL, false, true);
}

static int cmd_list(cli *c, int argc, char **argv)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const nxl_json *uuids;
    nxl_jw *w = NULL;
    int rc, ret = parse_opts(c->cmd, argc, argv, NULL, 0);

    if (ret >= 0)
        return ret;
    if (argc - optind != 0)
        return usage_error(c->cmd, "too many arguments");
    if ((rc = rpc(c, "list_instance_uuids", NULL, NULL, &root, &uuids, &err)))
        goto out;
    if (c->json) {
        w = nxl__jw_new();
        nxl__jw_array_open(w);
    } else {
        printf("%-36s %6s %s\n", "UUID", "DOMID", "STATE");
    }
    for (size_t i = 0; i < nxl__json_len(uuids); i++) {
        const char *uuid = nxl__json_string(nxl__json_at(uuids, i));
        nxl_error e = NXL_ERROR_INIT;
        nxl_json *r = NULL;
        const nxl_json *info;
        char *params;
        long long domid = -1;

        if (!uuid || !(params = params_instance(uuid, NULL, NULL)))
            continue;
        rc = rpc(c, "get_info", params, NULL, &r, &info, &e);
        free(params);
        if (rc == NXL_E_NOT_FOUND) {
            /* Destroyed since the listing: not an instance any more. */
            rc = 0;
        } else if (rc) {
            nxl_error_set(&err, rc, "%s", nxl_error_message(&e));
        } else if (w) {
            nxl__jw_value(w, info);
        } else {
            nxl__json_integer(nxl__json_get(info, "domid"), &domid);
            printf("%-36s %6lld ", uuid, domid);
            print_value(nxl__json_get(info, "state_name"));
            putchar('\n');
        }
        nxl__json_free(r);
        nxl_error_dispose(&e);
        if (rc)
            goto out;
    }
    if (w) {
        nxl__jw_array_close(w);
        rc = put_doc(w, &err);
    } else if (fflush(stdout) != 0) {
        rc = nxl_error_set_errno(&err, NXL_E_IO, errno, "writing stdout");
    }
out:
    ret = rc ? report(c, "list", &err) : EXIT_OK;
    nxl__jw_free(w);
    nxl__json_free(root);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- spawn
 * --------------------------------------------------------------------- */

static int spawn_file(cli *c, const char *path, bool xml)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    nxl_json *doc_root = NULL, *root = NULL;
    const nxl_json *res;
    char *doc = NULL, *params = NULL;
    size_t len;
    int rc, ret;

    nxl_spawn_req_init(&req);
    /* Read and checked here, so a bad file is the same exit 2 with or
     * without novaxld and nothing reaches the host. The request goes as
     * compact JSON: one line, comments dropped. */
    if ((rc = read_request(c, path, xml, &req, &doc, &len, &err)))
        goto out;
    /* From XML, the request as the JSON door would have read it. */
    if (xml ? (rc = nxl__spawn_req_to_json(&req, &params, &err))
            : ((rc = nxl__json_parse(doc, len, 0, &doc_root, &err)) ||
               (rc = nxl__json_to_text(doc_root, &params, &err))))
        goto out;
    rc = rpc(c, "spawn", params, "novaxl: spawn", &root, &res, &err);
    if (rc == DRY_RUN_DONE) {
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;
    if (c->json)
        rc = print_json(res, &err);
    else if (printf("%s\n", nxl__json_string(nxl__json_get(res, "uuid"))
                                ? nxl__json_string(nxl__json_get(res, "uuid"))
                                : req.instance.uuid) < 0 ||
             fflush(stdout) != 0)
        rc = nxl_error_set_errno(&err, NXL_E_IO, errno, "writing stdout");
out:
    ret = rc ? report(c, path, &err) : EXIT_OK;
    nxl__json_free(root);
    nxl__json_free(doc_root);
    nxl_spawn_req_dispose(&req);
    free(params);
    free(doc);
    nxl_error_dispose(&err);
    return ret;
}

static int cmd_dry_run(cli *c, int argc, char **argv)
{
    const char *xml = NULL;
    const opt_spec specs[] = {{"xml", false, &xml}};
    int ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind != 1)
        return usage_error(c->cmd, argc - optind < 1 ? "missing FILE"
                                                     : "too many arguments");
    return print_config(c, argv[optind], xml != NULL);
}

/* The stored request of an instance as libvirt XML; with --json,
 * {"uuid", "name", "xml"}. */
static int cmd_dumpxml(cli *c, int argc, char **argv)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    nxl_host_layout layout;
    nxl_json *root = NULL;
    const nxl_json *res;
    char *params = NULL, *json = NULL, *xml = NULL;
    const char *uuid;
    int rc, ret = parse_opts(c->cmd, argc, argv, NULL, 0);

    if (ret >= 0)
        return ret;
    if (argc - optind != 1)
        return usage_error(c->cmd, argc - optind < 1 ? "missing UUID"
                                                     : "too many arguments");
    uuid = argv[optind];
    nxl_spawn_req_init(&req);
    nxl_host_layout_init(&layout);
    if ((rc = check_uuid(uuid, &err)))
        goto out;
    if (!(params = params_instance(uuid, NULL, NULL))) {
        rc = nxl_error_set(&err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = rpc(c, "instance_request", params, NULL, &root, &res, &err)) ||
        (rc = nxl__json_to_text(res, &json, &err)) ||
        (rc = nxl__spawn_req_from_json(json, strlen(json), &req, &err)) ||
        (rc = xml_layout(c, &layout, &err)) ||
        (rc = nxl__spawn_req_to_xml(&req, &layout, &xml, &err)))
        goto out;
    if (c->json) {
        nxl_jw *w = nxl__jw_new();
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "uuid", req.instance.uuid);
        nxl__jw_kv_string(w, "name", req.instance.name);
        nxl__jw_kv_string(w, "xml", xml);
        nxl__jw_object_close(w);
        rc = put_doc(w, &err);
        nxl__jw_free(w);
    } else if (fputs(xml, stdout) == EOF || fflush(stdout) != 0) {
        rc = nxl_error_set_errno(&err, NXL_E_IO, errno, "writing stdout");
    }
out:
    ret = rc ? report(c, uuid, &err) : EXIT_OK;
    nxl__json_free(root);
    nxl_host_layout_dispose(&layout);
    nxl_spawn_req_dispose(&req);
    free(params);
    free(json);
    free(xml);
    nxl_error_dispose(&err);
    return ret;
}

static int cmd_spawn(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'N'},
        {"xml", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool dry_run = c->dry_run;
    bool xml = false;
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+Nh", opts, NULL)) != -1) {
        switch (opt) {
        case 'N':
            dry_run = true;
            break;
        case 'x':
            xml = true;
            break;
        case 'h':
            return show_usage(c->cmd);
        default:
            return usage_error(c->cmd, "unknown option");
        }
    }
    if (argc - optind != 1)
        return usage_error(c->cmd, argc - optind < 1 ? "missing FILE"
                                                     : "too many arguments");
    /* As xl -N create: the libxl configuration it would build. */
    if (dry_run)
        return print_config(c, argv[optind], xml);
    return spawn_file(c, argv[optind], xml);
}

/* ---- rescue, rebuild, set-bootable, diagnostics, disk-info --------------- */

/* rescue UUID IMAGE_ID: nova's rescue image is an image_meta; the image
 * itself must be in the image cache under IMAGE_ID. */
static int cmd_rescue(cli *c, int argc, char **argv)
{
    const char *pw = NULL, *fmt = NULL;
    const opt_spec specs[] = {{"password", true, &pw},
                              {"disk-format", true, &fmt}};
    nxl_jw *w;
    char *im = NULL, *pws = NULL;
    int ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind != 2)
        return usage_error(c->cmd, argc - optind < 2 ? "missing IMAGE_ID"
                                                     : "too many arguments");
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "id", argv[optind + 1]);
    nxl__jw_kv_string(w, "disk_format", fmt ? fmt : "raw");
    nxl__jw_object_close(w);
    if (nxl__jw_finish(w, &im, NULL))
        im = NULL;
    nxl__jw_free(w);
    if (pw) {
        w = nxl__jw_new();
        nxl__jw_string(w, pw);
        if (nxl__jw_finish(w, &pws, NULL))
            pws = NULL;
        nxl__jw_free(w);
    }
    if (!im || (pw && !pws)) {
        free(im);
        free(pws);
        return usage_error(c->cmd, "IMAGE_ID and the password must be "
                                   "UTF-8 text");
    }
    {
        const char *kv[] = {"image_meta", im, pws ? "rescue_password" : NULL,
                            pws, NULL};
        /* The image id is the last operand: the UUID is the one left. */
        ret = instance_call(c, argc - 1, argv, "rescue", kv, true);
    }
    free(im);
    free(pws);
    return ret;
}

/* rebuild FILE: the spawn request of the instance to re-create, plus
 * nova's recreate and preserve_ephemeral flags. */
static int cmd_rebuild(cli *c, int argc, char **argv)
{
    const char *preserve = NULL, *recreate = NULL;
    const opt_spec specs[] = {{"preserve-ephemeral", false, &preserve},
                              {"recreate", false, &recreate}};
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    nxl_json *doc_root = NULL, *root = NULL;
    const nxl_json *res;
    char *doc = NULL, *text = NULL, *params = NULL;
    const char *path = NULL;
    size_t len;
    int rc, ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind != 1)
        return usage_error(c->cmd, argc - optind < 1 ? "missing FILE"
                                                     : "too many arguments");
    path = argv[optind];
    nxl_spawn_req_init(&req);
    /* Checked here like spawn's, so a bad file changes nothing. */
    if ((rc = nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, &doc, &len,
                                    &err)) ||
        (rc = nxl__spawn_req_from_json(doc, len, &req, &err)) ||
        (rc = nxl__json_parse(doc, len, 0, &doc_root, &err)) ||
        (rc = nxl__json_to_text(doc_root, &text, &err)))
        goto out;
    /* text is a compact, non-empty object: add the two flags to it. */
    if (asprintf(&params, "%.*s,\"recreate\":%s,\"preserve_ephemeral\":%s}",
                 (int)strlen(text) - 1, text, recreate ? "true" : "false",
                 preserve ? "true" : "false") < 0) {
        params = NULL;
        rc = nxl_error_set(&err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    rc = rpc(c, "rebuild", params, "novaxl: rebuild", &root, &res, &err);
    if (rc == DRY_RUN_DONE) {
        rc = 0;
        goto out;
    }
    if (rc == 0)
        rc = print_ok(c, "uuid", req.instance.uuid, &err);
out:
    ret = rc ? report(c, path, &err) : EXIT_OK;
    nxl__json_free(root);
    nxl__json_free(doc_root);
    nxl_spawn_req_dispose(&req);
    free(params);
    free(text);
    free(doc);
    nxl_error_dispose(&err);
    return ret;
}

static int cmd_set_bootable(cli *c, int argc, char **argv)
{
    int ret = parse_opts(c->cmd, argc, argv, NULL, 0);
    const char *word;

    if (ret >= 0)
        return ret;
    if (argc - optind != 2)
        return usage_error(c->cmd, argc - optind < 2 ? "missing yes or no"
                                                     : "too many arguments");
    word = argv[optind + 1];
    if (strcmp(word, "yes") != 0 && strcmp(word, "no") != 0)
        return usage_error(c->cmd, "the second operand is yes or no");
    const char *kv[] = {"is_bootable",
                        strcmp(word, "yes") == 0 ? "true" : "false", NULL};

    return instance_call(c, argc - 1, argv, "set_bootable", kv, false);
}

static int cmd_diagnostics(cli *c, int argc, char **argv)
{
    const char *legacy = NULL;
    const opt_spec specs[] = {{"legacy", false, &legacy}};
    int ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    return instance_call_print(
        c, argc, argv, legacy ? "get_diagnostics" : "get_instance_diagnostics",
        NULL, false, true);
}

/* An integer member, or -1 when missing. */
static long long int_or(const nxl_json *v)
{
    long long n = -1;

    nxl__json_integer(v, &n);
    return n;
}

static int cmd_disk_info(cli *c, int argc, char **argv)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const nxl_json *res;
    const char *uuid;
    char *params = NULL;
    int rc, ret = parse_opts(c->cmd, argc, argv, NULL, 0);

    if (ret >= 0)
        return ret;
    if (argc - optind != 1)
        return usage_error(c->cmd, argc - optind < 1 ? "missing UUID"
                                                     : "too many arguments");
    uuid = argv[optind];
    if ((rc = check_uuid(uuid, &err)))
        goto out;
    if (!(params = params_instance(uuid, NULL, NULL))) {
        rc = nxl_error_set(&err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc =
             rpc(c, "get_instance_disk_info", params, NULL, &root, &res, &err)))
        goto out;
    if (c->json) {
        rc = print_json(res, &err);
        goto out;
    }
    printf("%-6s %12s %12s %s\n", "TYPE", "VIRT_SIZE", "DISK_SIZE", "PATH");
    for (size_t i = 0; i < nxl__json_len(res); i++) {
        const nxl_json *d = nxl__json_at(res, i);

        printf("%-6s ", nxl__json_string(nxl__json_get(d, "type"))
                            ? nxl__json_string(nxl__json_get(d, "type"))
                            : "-");
        printf("%12lld %12lld ", int_or(nxl__json_get(d, "virt_disk_size")),
               int_or(nxl__json_get(d, "disk_size")));
        print_value(nxl__json_get(d, "path"));
        putchar('\n');
    }
    if (fflush(stdout) != 0)
        rc = nxl_error_set_errno(&err, NXL_E_IO, errno, "writing stdout");
out:
    ret = rc ? report(c, uuid, &err) : EXIT_OK;
    nxl__json_free(root);
    free(params);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- console
 * --------------------------------------------------------------------- */

static int cmd_console(cli *c, int argc, char **argv)
{
    const char *name = NULL, *log_only = NULL, *vnc_only = NULL;
    const opt_spec specs[] = {{"name", true, &name},
                              {"log", false, &log_only},
                              {"vnc", false, &vnc_only}};
    nxl_error err = NXL_ERROR_INIT, verr = NXL_ERROR_INIT;
    nxl_json *lroot = NULL, *vroot = NULL;
    const nxl_json *log = NULL, *vnc = NULL;
    nxl_jw *w = NULL;
    const char *uuid;
    char *params = NULL;
    int rc, ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind != 1)
        return usage_error(c->cmd, argc - optind < 1 ? "missing UUID"
                                                     : "too many arguments");
    if (!name)
        return usage_error(c->cmd, "--name NAME (nova's instance name, the "
                                   "domain's name) is required");
    if (log_only && vnc_only)
        return usage_error(c->cmd, "--log and --vnc exclude each other");
    uuid = argv[optind];
    if ((rc = check_uuid(uuid, &err)) ||
        (rc = nxl_name_validate(name, "--name", &err)))
        goto out;
    if (!(params = params_instance(uuid, name, NULL))) {
        rc = nxl_error_set(&err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    if (!vnc_only &&
        (rc = rpc(c, "get_console_output", params, NULL, &lroot, &log, &err)))
        goto out;
    if (!log_only) {
        rc = rpc(c, "get_vnc_console", params, NULL, &vroot, &vnc, &verr);
        /* No VNC is an answer here (a PV guest has a serial console
         * only); anything else is the command's failure. */
        if (rc == NXL_E_CONSOLE_UNAVAILABLE || rc == NXL_E_UNSUPPORTED ||
            rc == NXL_E_NOT_IMPLEMENTED) {
            vnc = NULL;
        } else if (rc) {
            nxl_error_set(&err, rc, "%s", nxl_error_message(&verr));
            goto out;
        }
        rc = 0;
    }
    if (c->json) {
        w = nxl__jw_new();
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "uuid", uuid);
        nxl__jw_kv_string(w, "name", name);
        if (!vnc_only) {
            nxl__jw_key(w, "output");
            nxl__jw_value(w, log);
        }
        if (!log_only) {
            nxl__jw_key(w, "vnc");
            nxl__jw_value(w, vnc);
            if (!vnc) {
                nxl__jw_key(w, "vnc_unavailable");
                nxl__jw_string(w, nxl_error_message(&verr));
            }
        }
        nxl__jw_object_close(w);
        rc = put_doc(w, &err);
        goto out;
    }
    if (!log_only) {
        if (vnc) {
            printf("vnc: %s:",
                   nxl__json_string(nxl__json_get(vnc, "host"))
                       ? nxl__json_string(nxl__json_get(vnc, "host"))
                       : "-");
            print_value(nxl__json_get(vnc, "port"));
            putchar('\n');
        } else {
            printf("vnc: none (%s)\n", nxl_error_message(&verr));
        }
    }
    if (!vnc_only && nxl__json_string(log)) {
        const char *s = nxl__json_string(log);
        size_t n = strlen(s);

        if (!log_only)
            puts("---- console log ----");
        fputs(s, stdout);
        if (n && s[n - 1] != '\n')
            putchar('\n');
    }
    if (fflush(stdout) != 0)
        rc = nxl_error_set_errno(&err, NXL_E_IO, errno, "writing stdout");
out:
    ret = rc ? report(c, uuid, &err) : EXIT_OK;
    nxl__jw_free(w);
    nxl__json_free(lroot);
    nxl__json_free(vroot);
    free(params);
    nxl_error_dispose(&verr);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- metadata
 * ------------------------------------------------------------------- */

/* metadata set UUID KEY=VALUE... / metadata unset UUID KEY...: nova's
 * diff {"key": ["+", "value"]} / {"key": ["-"]}. */
static int cmd_metadata(cli *c, int argc, char **argv)
{
    const char *name = NULL;
    const opt_spec specs[] = {{"name", true, &name}};
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    nxl_jw *w = NULL;
    char *diff = NULL, *params = NULL;
    const char *kv[] = {"diff", NULL, NULL};
    const char *uuid;
    bool set;
    int rc, ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind < 1)
        return usage_error(c->cmd, "missing set or unset");
    if (strcmp(argv[optind], "set") != 0 && strcmp(argv[optind], "unset") != 0)
        return usage_error(c->cmd, "the first operand is set or unset");
    set = strcmp(argv[optind], "set") == 0;
    if (argc - optind < 2)
        return usage_error(c->cmd, "missing UUID");
    if (argc - optind < 3)
        return usage_error(c->cmd, set ? "missing KEY=VALUE" : "missing KEY");
    uuid = argv[optind + 1];
    if ((rc = check_uuid(uuid, &err)))
        goto out;
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    for (int i = optind + 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');

        if (set && (!eq || eq == argv[i])) {
            nxl__jw_free(w);
            w = NULL;
            return usage_error(c->cmd, "set wants KEY=VALUE operands");
        }
        if (!set && (!argv[i][0] || eq)) {
            nxl__jw_free(w);
            w = NULL;
            return usage_error(c->cmd, "unset wants KEY operands");
        }
        if (set) {
            *eq = '\0';
            nxl__jw_key(w, argv[i]);
            nxl__jw_array_open(w);
            nxl__jw_string(w, "+");
            nxl__jw_string(w, eq + 1);
            nxl__jw_array_close(w);
            *eq = '=';
        } else {
            nxl__jw_key(w, argv[i]);
            nxl__jw_array_open(w);
            nxl__jw_string(w, "-");
            nxl__jw_array_close(w);
        }
    }
    nxl__jw_object_close(w);
    /* A key or value that is not UTF-8 fails the document here. */
    if ((rc = nxl__jw_finish(w, &diff, &err))) {
        nxl_error_set(&err, NXL_E_INVAL,
                      "metadata: keys and values must be "
                      "UTF-8 text");
        rc = NXL_E_INVAL;
        goto out;
    }
    kv[1] = diff;
    if (!(params = params_instance(uuid, name, kv))) {
        rc = nxl_error_set(&err, NXL_E_NOMEM, "out of memory");
        goto out;
    }
    rc = rpc_print(c, "change_instance_metadata", params, NULL, &root, "uuid",
                   uuid, &err);
out:
    ret = rc ? report(c, uuid, &err) : EXIT_OK;
    nxl__jw_free(w);
    nxl__json_free(root);
    free(params);
    free(diff);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- host
 * ------------------------------------------------------------------------ */

static int cmd_host(cli *c, int argc, char **argv)
{
    const char *node = NULL, *host_opt = NULL, *yes = NULL;
    const opt_spec specs[] = {
        {"node", true, &node}, {"host", true, &host_opt}, {"yes", false, &yes}};
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    nxl_jw *w = NULL;
    char *params = NULL, host[256];
    const char *sub, *method = NULL;
    int rc, want_args = 0,
            ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind < 1)
        return usage_error(c->cmd, "missing a subcommand");
    sub = argv[optind];
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    if (strcmp(sub, "status") == 0) {
        method = "host_status";
    } else if (strcmp(sub, "resources") == 0) {
        method = "get_available_resource";
        if (node)
            nxl__jw_kv_string(w, "nodename", node);
    } else if (strcmp(sub, "cpu-stats") == 0) {
        method = "get_host_cpu_stats";
    } else if (strcmp(sub, "uptime") == 0) {
        method = "get_host_uptime";
    } else if (strcmp(sub, "ip") == 0) {
        method = "get_host_ip_addr";
    } else if (strcmp(sub, "connector") == 0) {
        method = "get_volume_connector";
    } else if (strcmp(sub, "capabilities") == 0) {
        method = "capabilities";
    } else if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) {
        method = "set_host_enabled";
        nxl__jw_kv_bool(w, "enabled", strcmp(sub, "enable") == 0);
    } else if (strcmp(sub, "maintenance") == 0) {
        want_args = 1;
        method = "host_maintenance_mode";
        if (argc - optind < 2 || (strcmp(argv[optind + 1], "on") != 0 &&
                                  strcmp(argv[optind + 1], "off") != 0)) {
            nxl__jw_free(w);
            return usage_error(c->cmd, "maintenance wants on or off");
        }
        /* nova's CONF.host: the host name unless novaxld's host key
         * says otherwise (then give --host). */
        if (!host_opt) {
            if (gethostname(host, sizeof(host)) < 0)
                snprintf(host, sizeof(host), "localhost");
            host[sizeof(host) - 1] = '\0';
            host_opt = host;
        }
        nxl__jw_kv_string(w, "host", host_opt);
        nxl__jw_kv_bool(w, "mode", strcmp(argv[optind + 1], "on") == 0);
    } else if (strcmp(sub, "power-action") == 0) {
        want_args = 1;
        method = "host_power_action";
        if (argc - optind < 2) {
            nxl__jw_free(w);
            return usage_error(c->cmd, "power-action wants an action");
        }
        /* It reboots or stops dom0 and every guest with it. */
        if (!yes && !c->dry_run) {
            nxl__jw_free(w);
            return usage_error(c->cmd, "power-action acts on the whole "
                                       "host: confirm with --yes");
        }
        nxl__jw_kv_string(w, "action", argv[optind + 1]);
    } else {
        nxl__jw_free(w);
        return usage_error(c->cmd, "unknown subcommand");
    }
    if (yes && strcmp(sub, "power-action") != 0) {
        nxl__jw_free(w);
        return usage_error(c->cmd, "--yes is for power-action only");
    }
    if (argc - optind != 1 + want_args) {
        nxl__jw_free(w);
        return usage_error(c->cmd, "too many arguments");
    }
    if ((node && strcmp(sub, "resources") != 0) ||
        (host_opt && host_opt != host && strcmp(sub, "maintenance") != 0)) {
        nxl__jw_free(w);
        return usage_error(c->cmd, node ? "--node is for resources only"
                                        : "--host is for maintenance only");
    }
    nxl__jw_object_close(w);
    if ((rc = nxl__jw_finish(w, &params, &err)))
        goto out;
    rc = rpc_print(c, method, params, NULL, &root, NULL, NULL, &err);
out:
    ret = rc ? report(c, "host", &err) : EXIT_OK;
    nxl__jw_free(w);
    nxl__json_free(root);
    free(params);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- aggregates
 * ---------------------------------------------------------------- */

/* aggregate show --id N: this host's record of the aggregate's state
 * machine (state, hosts, metadata, the transitions with their reasons). */
static int aggregate_show(cli *c, int argc, char **argv, const char *id,
                          bool other_opts)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const nxl_json *res, *v;
    unsigned long long agg_id;
    char params[64];
    int rc, ret;

    if (argc - optind != 1)
        return usage_error(c->cmd, "show takes no operand");
    if (other_opts)
        return usage_error(c->cmd, "show takes --id only");
    if (!id)
        return usage_error(c->cmd, "--id is required");
    if (!parse_count(id, INT64_MAX, &agg_id))
        return usage_error(c->cmd, "--id wants a whole number");
    snprintf(params, sizeof(params), "{\"id\": %llu}", agg_id);
    if ((rc = rpc(c, "aggregate_record", params, NULL, &root, &res, &err)))
        goto out;
    if (c->json) {
        rc = print_json(res, &err);
        goto out;
    }
    printf("aggregate %llu: ", agg_id);
    print_value(nxl__json_get(res, "name"));
    printf("\nstate       ");
    print_value(nxl__json_get(res, "state"));
    if (nxl__json_string(nxl__json_get(res, "op"))) {
        printf(" (");
        print_value(nxl__json_get(res, "op"));
        printf(" of ");
        print_value(nxl__json_get(res, "op_host"));
        putchar(')');
    }
    printf("\nzone        ");
    print_value(nxl__json_get(res, "availability_zone"));
    printf("\nhosts      ");
    v = nxl__json_get(res, "hosts");
    for (size_t i = 0; i < nxl__json_len(v); i++) {
        putchar(' ');
        print_value(nxl__json_at(v, i));
    }
    printf("\nmetadata   ");
    v = nxl__json_get(res, "metadata");
    for (size_t i = 0; i < nxl__json_len(v); i++) {
        printf(" %s=", nxl__json_key_at(v, i));
        print_value(nxl__json_at(v, i));
    }
    printf("\n%-5s %-20s %-9s    %-9s %s\n", "SEQ", "TIME", "FROM", "TO",
           "REASON");
    v = nxl__json_get(res, "transitions");
    for (size_t i = 0; i < nxl__json_len(v); i++) {
        const nxl_json *t = nxl__json_at(v, i);
        long long seq = 0, when = 0;
        char stamp[32] = "-";
        time_t tt;
        struct tm tm;

        nxl__json_integer(nxl__json_get(t, "seq"), &seq);
        nxl__json_integer(nxl__json_get(t, "time"), &when);
        tt = (time_t)when;
        if (gmtime_r(&tt, &tm))
            strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%-5lld %-20s %-9s -> %-9s ", seq, stamp,
               nxl__json_string(nxl__json_get(t, "from"))
                   ? nxl__json_string(nxl__json_get(t, "from"))
                   : "-",
               nxl__json_string(nxl__json_get(t, "to"))
                   ? nxl__json_string(nxl__json_get(t, "to"))
                   : "-");
        print_value(nxl__json_get(t, "reason"));
        putchar('\n');
    }
    if (fflush(stdout) != 0)
        rc = nxl_error_set_errno(&err, NXL_E_IO, errno, "writing stdout");
out:
    ret = rc ? report(c, "aggregate", &err) : EXIT_OK;
    nxl__json_free(root);
    nxl_error_dispose(&err);
    return ret;
}

static int cmd_aggregate(cli *c, int argc, char **argv)
{
    const char *id = NULL, *name = NULL, *zone = NULL, *no_set_error = NULL;
    const opt_spec specs[] = {{"id", true, &id},
                              {"name", true, &name},
                              {"zone", true, &zone},
                              {"no-set-error", false, &no_set_error}};
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    nxl_jw *w = NULL;
    char *params = NULL;
    const char *sub, *op = NULL, *method, *host;
    unsigned long long agg_id;
    bool undo;
    int rc, ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind < 1)
        return usage_error(c->cmd, "missing add, remove, undo or show");
    sub = argv[optind];
    if (strcmp(sub, "show") == 0)
        return aggregate_show(c, argc, argv, id, name || zone || no_set_error);
    undo = strcmp(sub, "undo") == 0;
    if (undo) {
        if (argc - optind < 2)
            return usage_error(c->cmd, "undo wants add or remove");
        op = argv[optind + 1];
        if (strcmp(op, "add") != 0 && strcmp(op, "remove") != 0)
            return usage_error(c->cmd, "undo wants add or remove");
        op = strcmp(op, "add") == 0 ? "add_to_aggregate"
                                    : "remove_from_aggregate";
        method = "undo_aggregate_operation";
    } else if (strcmp(sub, "add") == 0) {
        method = "add_to_aggregate";
    } else if (strcmp(sub, "remove") == 0) {
        method = "remove_from_aggregate";
    } else {
        return usage_error(c->cmd, "unknown subcommand");
    }
    if (argc - optind != (undo ? 3 : 2))
        return usage_error(c->cmd, argc - optind < (undo ? 3 : 2)
                                       ? "missing HOST"
                                       : "too many arguments");
    host = argv[argc - 1];
    if (!id || !name)
        return usage_error(c->cmd, "--id and --name are required");
    if (!parse_count(id, INT64_MAX, &agg_id))
        return usage_error(c->cmd, "--id wants a whole number");
    if (no_set_error && !undo)
        return usage_error(c->cmd, "--no-set-error is for undo only");
    w = nxl__jw_new();
    nxl__jw_object_open(w);
    if (op)
        nxl__jw_kv_string(w, "op", op);
    nxl__jw_key(w, "aggregate");
    nxl__jw_object_open(w);
    nxl__jw_kv_uint(w, "id", agg_id);
    nxl__jw_kv_string(w, "name", name);
    if (zone)
        nxl__jw_kv_string(w, "availability_zone", zone);
    nxl__jw_object_close(w);
    nxl__jw_kv_string(w, "host", host);
    if (undo)
        nxl__jw_kv_bool(w, "set_error", !no_set_error);
    nxl__jw_object_close(w);
    if ((rc = nxl__jw_finish(w, &params, &err))) {
        rc = nxl_error_set(&err, NXL_E_INVAL,
                           "aggregate: names must be UTF-8 text");
        goto out;
    }
    rc = rpc_print(c, method, params, NULL, &root, "host", host, &err);
out:
    ret = rc ? report(c, "aggregate", &err) : EXIT_OK;
    nxl__jw_free(w);
    nxl__json_free(root);
    free(params);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- events
 * --------------------------------------------------------------------- */

/* One event as a human line: ID TIME TYPE SUBJECT WHAT. */
static void print_event(const nxl_json *ev)
{
    const char *type = nxl__json_string(nxl__json_get(ev, "type"));
    const char *uuid = nxl__json_string(nxl__json_get(ev, "uuid"));
    long long id = 0, us = 0;
    char when[32] = "-";
    struct tm tm;
    time_t t;

    nxl__json_integer(nxl__json_get(ev, "id"), &id);
    if (nxl__json_integer(nxl__json_get(ev, "timestamp_us"), &us)) {
        t = (time_t)(us / 1000000);
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    printf("%lld %s %s %s", id, when, type ? type : "?", uuid ? uuid : "-");
    if (type && strcmp(type, "lifecycle") == 0) {
        putchar(' ');
        print_value(nxl__json_get(ev, "transition"));
    } else if (type && strcmp(type, "operation") == 0) {
        const nxl_json *e = nxl__json_get(ev, "error");
        bool ok = false;

        nxl__json_bool(nxl__json_get(ev, "ok"), &ok);
        putchar(' ');
        print_value(nxl__json_get(ev, "method"));
        if (ok && nxl__json_get(ev, "result")) {
            fputs(" ok: ", stdout);
            print_value(nxl__json_get(ev, "result"));
        } else if (ok) {
            fputs(" ok", stdout);
        } else {
            fputs(" failed: ", stdout);
            print_value(nxl__json_get(e, "kind"));
            fputs(": ", stdout);
            print_value(nxl__json_get(e, "message"));
        }
    } else if (type && strcmp(type, "aggregate") == 0) {
        putchar(' ');
        print_value(nxl__json_get(ev, "aggregate_name"));
        putchar(' ');
        print_value(nxl__json_get(ev, "from"));
        fputs(" -> ", stdout);
        print_value(nxl__json_get(ev, "to"));
        fputs(": ", stdout);
        print_value(nxl__json_get(ev, "reason"));
    } else if (type && strcmp(type, "gap") == 0) {
        fputs(" missed ", stdout);
        print_value(nxl__json_get(ev, "missed"));
        fputs(" events, ", stdout);
        print_value(nxl__json_get(ev, "from"));
        fputs("..", stdout);
        print_value(nxl__json_get(ev, "to"));
    }
    putchar('\n');
}

static int cmd_events(cli *c, int argc, char **argv)
{
    const char *since = NULL, *count = NULL, *no_follow = NULL;
    const opt_spec specs[] = {{"since", true, &since},
                              {"count", true, &count},
                              {"no-follow", false, &no_follow}};
    nxl_error err = NXL_ERROR_INIT;
    nxl_json *root = NULL;
    const nxl_json *res;
    unsigned long long since_id = 0, max = 0, seen = 0;
    long long last = 0;
    char params[64];
    int rc, ret = parse_opts(c->cmd, argc, argv, specs, NXL_ARRAY_SIZE(specs));

    if (ret >= 0)
        return ret;
    if (argc - optind != 0)
        return usage_error(c->cmd, "too many arguments");
    if (since && !parse_count(since, INT64_MAX, &since_id))
        return usage_error(c->cmd, "--since wants an event id");
    if (count && (!parse_count(count, INT64_MAX, &max) || max == 0))
        return usage_error(c->cmd, "--count wants a number above 0");
    if (no_follow && !since)
        return usage_error(c->cmd, "--no-follow needs --since");
    if (c->local) {
        rc = nxl_error_set(&err, NXL_E_UNSUPPORTED,
                           "events: the event stream is novaxld's; not "
                           "available with --local");
        goto out;
    }
    if ((rc = open_backend(c, &err)))
        goto out;
    if (c->fd < 0) {
        rc = nxl_error_set(&err, NXL_E_UNSUPPORTED,
                           "events: no novaxld at %s (the event stream is "
                           "the daemon's)",
                           c->path);
        goto out;
    }
    if (since)
        snprintf(params, sizeof(params), "{\"since\": %llu}", since_id);
    if ((rc = remote_call(c, "subscribe", since ? params : NULL, NULL, &root,
                          &res, &err)))
        goto out;
    nxl__json_integer(nxl__json_get(res, "last_id"), &last);
    nxl__json_free(root);
    root = NULL;
    /* --no-follow: what the backlog held when we subscribed. */
    if (no_follow && (long long)since_id >= last)
        goto out;
    for (;;) {
        const nxl_json *id_v;
        long long id = 0;
        size_t len;

        if ((rc = read_line(c, NULL, &len, &err)))
            goto out;
        if (len == 0 ||
            nxl__json_parse(c->rbuf, len, MAX_REPLY_BYTES, &root, NULL)) {
            consume_line(c, len);
            continue;
        }
        consume_line(c, len);
        id_v = nxl__json_get(root, "id");
        /* Events have a type; anything else is a stray reply. */
        if (!nxl__json_get(root, "type") || !nxl__json_integer(id_v, &id)) {
            nxl__json_free(root);
            root = NULL;
            continue;
        }
        if (c->json) {
            if ((rc = print_json(root, &err)))
                goto out;
        } else {
            print_event(root);
            if (fflush(stdout) != 0) {
                rc = nxl_error_set_errno(&err, NXL_E_IO, errno,
                                         "writing stdout");
                goto out;
            }
        }
        nxl__json_free(root);
        root = NULL;
        seen++;
        if ((max && seen >= max) || (no_follow && id >= last))
            break;
    }
out:
    ret = rc ? report(c, "events", &err) : EXIT_OK;
    nxl__json_free(root);
    nxl_error_dispose(&err);
    return ret;
}

/* ---- help and main
 * --------------------------------------------------------------- */

static int cmd_help(cli *c, int argc, char **argv)
{
    const cmd_spec *cmd;

    (void)c;
    if (argc < 2) {
        usage(stdout);
        return EXIT_OK;
    }
    cmd = find_cmd(argv[1]);
    if (!cmd) {
        fprintf(stderr, "novaxl: help: unknown command '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    return show_usage(cmd);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"dry-run", no_argument, NULL, 'N'},
        {"socket", required_argument, NULL, 'S'},
        {"local", no_argument, NULL, 'L'},
        {"instances-dir", required_argument, NULL, 'I'},
        {"image-cache", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    cli c;
    int opt, ret;

    memset(&c, 0, sizeof(c));
    c.fd = -1;
    /* '+': options end at the command name, as in xl. */
    while ((opt = getopt_long(argc, argv, "+hVN", opts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            c.json = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("novaxl %s\n", PACKAGE_VERSION);
            return EXIT_OK;
        case 'N':
            c.dry_run = true;
            break;
        case 'S':
            c.socket = optarg;
            break;
        case 'L':
            c.local = true;
            break;
        case 'I':
            c.instances_dir = optarg;
            c.local = true;
            break;
        case 'C':
            c.image_cache_dir = optarg;
            c.local = true;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (c.socket && c.local) {
        fprintf(stderr, "novaxl: --socket and --local (or --instances-dir, "
                        "--image-cache) exclude each other\n");
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    c.cmd = find_cmd(argv[optind]);
    if (!c.cmd) {
        fprintf(stderr, "novaxl: unknown command '%s' (see novaxl --help)\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    if (c.dry_run && !c.cmd->modifies)
        nxl__debug("-N has no effect on '%s', which changes nothing",
                   c.cmd->name);
    ret = c.cmd->handler(&c, argc - optind, argv + optind);
    close_backend(&c);
    return ret;
}

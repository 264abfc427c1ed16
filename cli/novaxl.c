/* novaxl: the command-line tool. A command table in the style of xl's
 * cmd_table; the commands hold no logic of their own, they call the
 * library and report its error once (library code logs nothing).
 *
 * Exit codes (also in cli/README.md and --help):
 *   0 success        1 usage error       2 invalid input (NXL_E_INVAL)
 *   3 not found      4 hypervisor unavailable
 *   5 failed (any other error)           6 not supported or not implemented
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxl.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "xl_driver/xl_config.h"

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_INVALID = 2,
    EXIT_NOT_FOUND = 3,
    EXIT_HYPERVISOR = 4,
    EXIT_FAILED = 5,
    EXIT_UNSUPPORTED = 6,
};

typedef struct cli {
    bool json;    /* --json: errors also as a JSON object on stdout */
    bool dry_run; /* -N: modifying commands only show what they would do */
    const char *instances_dir;   /* --instances-dir; NULL: the default */
    const char *image_cache_dir; /* --image-cache; NULL: the default */
} cli;

typedef struct cmd_spec {
    const char *name;
    int (*handler)(const cli *c, int argc, char **argv);
    /* Changes host state: with -N such a command must only print. */
    bool modifies;
    const char *help;
    const char *usage;
} cmd_spec;

static int cmd_dry_run(const cli *c, int argc, char **argv);
static int cmd_spawn(const cli *c, int argc, char **argv);
static int cmd_help(const cli *c, int argc, char **argv);
static int cmd_list(const cli *c, int argc, char **argv);
static int cmd_info(const cli *c, int argc, char **argv);
static int cmd_destroy(const cli *c, int argc, char **argv);
static int cmd_pause(const cli *c, int argc, char **argv);
static int cmd_unpause(const cli *c, int argc, char **argv);
static int cmd_power_off(const cli *c, int argc, char **argv);
static int cmd_power_on(const cli *c, int argc, char **argv);
static int cmd_reboot(const cli *c, int argc, char **argv);

static const cmd_spec cmd_table[] = {
    {"dry-run", cmd_dry_run, false,
     "Print the libxl domain configuration for a spawn request", "FILE"},
    {"spawn", cmd_spawn, true, "Create an instance from a spawn request",
     "[-N|--dry-run] FILE"},
    {"list", cmd_list, false, "List this host's instances", ""},
    {"info", cmd_info, false, "Show an instance's power state (JSON)",
     "UUID"},
    {"destroy", cmd_destroy, true, "Destroy an instance and its disks",
     "UUID [--keep-disks]"},
    {"pause", cmd_pause, true, "Pause a running instance", "UUID"},
    {"unpause", cmd_unpause, true, "Unpause a paused instance", "UUID"},
    {"power-off", cmd_power_off, true,
     "Shut an instance down, destroying it after the timeout",
     "UUID [--timeout S] [--retry-interval S]"},
    {"power-on", cmd_power_on, true, "Boot a powered-off instance", "UUID"},
    {"reboot", cmd_reboot, true, "Reboot an instance (SOFT unless --hard)",
     "UUID [--hard]"},
    {"help", cmd_help, false, "Show this help", "[COMMAND]"},
};

static const char exit_codes_help[] =
    "Exit codes: 0 success, 1 usage error, 2 invalid input, 3 not found,\n"
    "            4 hypervisor unavailable, 5 failed, 6 not supported.\n";

static const cmd_spec *find_cmd(const char *name)
{
    for (size_t i = 0; i < NXL_ARRAY_SIZE(cmd_table); i++)
        if (strcmp(cmd_table[i].name, name) == 0)
            return &cmd_table[i];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: novaxl [--json] [-N] COMMAND [ARGS]\n"
               "       novaxl --help | --version\n\n"
               "Options:\n"
               "  --json       also report errors as JSON on stdout\n"
               "  -N           dry run: modifying commands only print\n"
               "  --instances-dir DIR  records and disks (default "
               "/var/lib/novaxl/instances)\n"
               "  --image-cache DIR    images by id (default "
               "/var/lib/novaxl/images)\n"
               "  -h, --help   show this help\n"
               "  -V, --version  show the version\n\n"
               "Commands:\n");
    for (size_t i = 0; i < NXL_ARRAY_SIZE(cmd_table); i++)
        fprintf(f, "  %-10s %s\n", cmd_table[i].name, cmd_table[i].help);
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
        return EXIT_UNSUPPORTED;
    case NXL_E_IO:
        /* The file named on the command line does not exist. */
        return err->sys_errno == ENOENT ? EXIT_NOT_FOUND : EXIT_FAILED;
    default:
        return EXIT_FAILED;
    }
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* The one place the cli reports a failure: one line on stderr,
 * "novaxl: <subject>: <message>", and with --json the same as an object
 * on stdout. Returns the exit code. */
static int report(const cli *c, const char *subject, const nxl_error *err)
{
    const char *msg = nxl_error_message(err);

    fprintf(stderr, "novaxl: %s: %s\n", subject, msg);
    if (c->json) {
        fputs("{\"error\": {\"code\": ", stdout);
        json_string(stdout, nxl_error_code_name(err->code));
        fputs(", \"exception\": ", stdout);
        json_string(stdout, nxl_error_nova_name(err->code));
        fputs(", \"subject\": ", stdout);
        json_string(stdout, subject);
        fputs(", \"message\": ", stdout);
        json_string(stdout, msg);
        fputs("}}\n", stdout);
    }
    return exit_code_for(err);
}

static int usage_error(const cmd_spec *cmd, const char *why)
{
    fprintf(stderr, "novaxl: %s: %s\nUsage: novaxl %s %s\n", cmd->name, why,
            cmd->name, cmd->usage);
    return EXIT_USAGE;
}

/* Spawn request file -> libxl_domain_config JSON on stdout. */
static int print_config(const cli *c, const char *path)
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
    rc = nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, &doc, &len, &err);
    if (rc)
        goto out;
    rc = nxl__spawn_req_from_json(doc, len, &req, &err);
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

/* ---- commands on the driver ---------------------------------------------- */

/* Opens the libxl driver and connects it (init_host, which also finishes
 * or rolls back whatever an interrupted earlier command left). */
static int open_driver(const cli *c, nxl_driver **drv_r, nxl_error *err)
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
    *drv_r = drv;
    return 0;
}

static int spawn_file(const cli *c, const char *path)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req req;
    char *doc = NULL;
    size_t len;
    int rc, ret;

    nxl_spawn_req_init(&req);
    if ((rc = nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, &doc, &len,
                                    &err)) ||
        (rc = nxl__spawn_req_from_json(doc, len, &req, &err)) ||
        (rc = open_driver(c, &drv, &err)) ||
        (rc = nxl_instance_spawn(drv, &req, &err)))
        goto out;
    printf("%s\n", req.instance.uuid);
out:
    ret = rc ? report(c, path, &err) : EXIT_OK;
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&req);
    free(doc);
    nxl_error_dispose(&err);
    return ret;
}

typedef int instance_fn(nxl_driver *drv, const nxl_instance *inst, void *arg,
                        nxl_error *err);

/* Runs fn on the instance named by argv[optind], which must be the only
 * operand left. */
static int on_instance(const cli *c, const cmd_spec *self, int argc,
                       char **argv, instance_fn *fn, void *arg)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_instance inst;
    int rc, ret;

    if (argc - optind != 1)
        return usage_error(self, argc - optind < 1 ? "missing UUID"
                                                   : "too many arguments");
    nxl_instance_init(&inst);
    /* Checked before touching the host, so a typo is exit 2 anywhere. */
    if ((rc = nxl_uuid_validate(argv[optind], "UUID", &err)))
        goto out;
    snprintf(inst.uuid, sizeof(inst.uuid), "%s", argv[optind]);
    for (char *p = inst.uuid; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    if ((rc = open_driver(c, &drv, &err)) || (rc = fn(drv, &inst, arg, &err)))
        goto out;
out:
    ret = rc ? report(c, argv[optind], &err) : EXIT_OK;
    nxl_driver_close(drv);
    nxl_instance_dispose(&inst);
    nxl_error_dispose(&err);
    return ret;
}

/* Parses the options of a command: each of flags (long names, no
 * argument) sets its bool; --help prints the usage. Returns -1 to go on,
 * else the exit code. */
static int parse_flags(const cmd_spec *self, int argc, char **argv,
                       const char *const *flags, bool *set)
{
    struct option opts[4];
    size_t n = 0;
    int opt;

    for (; flags && flags[n] && n < 2; n++)
        opts[n] = (struct option){flags[n], no_argument, NULL, 'a' + (int)n};
    opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    /* 0, not 1: glibc then forgets main's "+" (stop at the first
     * operand), so options may follow the UUID. */
    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'h') {
            printf("Usage: novaxl %s %s\n%s.\n", self->name, self->usage,
                   self->help);
            return EXIT_OK;
        }
        if (opt >= 'a' && opt < 'a' + 2 && flags && flags[opt - 'a']) {
            set[opt - 'a'] = true;
            continue;
        }
        return usage_error(self, "unknown option");
    }
    return -1;
}

static int do_info(nxl_driver *drv, const nxl_instance *inst, void *arg,
                   nxl_error *err)
{
    nxl_instance_info info;
    char *json = NULL;
    int rc;

    (void)arg;
    nxl_instance_info_init(&info);
    if ((rc = nxl_instance_get_info(drv, inst, &info, err)) ||
        (rc = nxl__instance_info_to_json(&info, &json, err)))
        return rc;
    fputs(json, stdout);
    if (json[0] && json[strlen(json) - 1] != '\n')
        putchar('\n');
    free(json);
    return 0;
}

static int cmd_info(const cli *c, int argc, char **argv)
{
    const cmd_spec *self = find_cmd("info");
    int ret = parse_flags(self, argc, argv, NULL, NULL);

    return ret >= 0 ? ret : on_instance(c, self, argc, argv, do_info, NULL);
}

static int cmd_list(const cli *c, int argc, char **argv)
{
    const cmd_spec *self = find_cmd("list");
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_strv uuids;
    int rc, ret = parse_flags(self, argc, argv, NULL, NULL);

    if (ret >= 0)
        return ret;
    if (argc - optind != 0)
        return usage_error(self, "too many arguments");
    nxl_strv_init(&uuids);
    if ((rc = open_driver(c, &drv, &err)) ||
        (rc = nxl_host_list_instance_uuids(drv, &uuids, &err)))
        goto out;
    printf("%-36s %6s %s\n", "UUID", "DOMID", "STATE");
    for (size_t i = 0; i < uuids.n; i++) {
        nxl_instance_info info;
        nxl_instance inst;

        nxl_instance_init(&inst);
        nxl_instance_info_init(&info);
        snprintf(inst.uuid, sizeof(inst.uuid), "%s", uuids.v[i]);
        /* Destroyed since the listing: not an instance any more. */
        if (nxl_instance_get_info(drv, &inst, &info, NULL) == 0)
            printf("%-36s %6d %s\n", uuids.v[i], info.domid,
                   nxl_power_state_name(info.state));
        nxl_instance_dispose(&inst);
    }
out:
    ret = rc ? report(c, "list", &err) : EXIT_OK;
    nxl_strv_dispose(&uuids);
    nxl_driver_close(drv);
    nxl_error_dispose(&err);
    return ret;
}

static int do_destroy(nxl_driver *drv, const nxl_instance *inst, void *arg,
                      nxl_error *err)
{
    return nxl_instance_destroy(drv, inst, NULL, NULL, !*(bool *)arg, NULL,
                                err);
}

static int cmd_destroy(const cli *c, int argc, char **argv)
{
    static const char *const flags[] = {"keep-disks", NULL};
    const cmd_spec *self = find_cmd("destroy");
    bool keep[2] = {false, false};
    int ret = parse_flags(self, argc, argv, flags, keep);

    return ret >= 0 ? ret : on_instance(c, self, argc, argv, do_destroy, keep);
}

static int do_pause(nxl_driver *drv, const nxl_instance *inst, void *arg,
                    nxl_error *err)
{
    return *(bool *)arg ? nxl_instance_pause(drv, inst, err)
                        : nxl_instance_unpause(drv, inst, err);
}

static int cmd_pause(const cli *c, int argc, char **argv)
{
    const cmd_spec *self = find_cmd("pause");
    bool pause = true;
    int ret = parse_flags(self, argc, argv, NULL, NULL);

    return ret >= 0 ? ret : on_instance(c, self, argc, argv, do_pause, &pause);
}

static int cmd_unpause(const cli *c, int argc, char **argv)
{
    const cmd_spec *self = find_cmd("unpause");
    bool pause = false;
    int ret = parse_flags(self, argc, argv, NULL, NULL);

    return ret >= 0 ? ret : on_instance(c, self, argc, argv, do_pause, &pause);
}

static int do_power_on(nxl_driver *drv, const nxl_instance *inst, void *arg,
                       nxl_error *err)
{
    (void)arg;
    return nxl_instance_power_on(drv, inst, NULL, NULL, err);
}

static int cmd_power_on(const cli *c, int argc, char **argv)
{
    const cmd_spec *self = find_cmd("power-on");
    int ret = parse_flags(self, argc, argv, NULL, NULL);

    return ret >= 0 ? ret : on_instance(c, self, argc, argv, do_power_on, NULL);
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

static int do_power_off(nxl_driver *drv, const nxl_instance *inst, void *arg,
                        nxl_error *err)
{
    const unsigned *t = arg;

    return nxl_instance_power_off(drv, inst, t[0], t[1], err);
}

static int cmd_power_off(const cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"timeout", required_argument, NULL, 't'},
        {"retry-interval", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cmd_spec *self = find_cmd("power-off");
    /* nova's defaults: CONF.shutdown_timeout 60 s, retry every 10 s. */
    unsigned t[2] = {60, 10};
    int opt;

    /* 0, not 1: glibc then forgets main's "+" (stop at the first
     * operand), so options may follow the UUID. */
    optind = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (!parse_seconds(optarg, &t[0]))
                return usage_error(self, "--timeout wants 0..86400 seconds");
            break;
        case 'r':
            if (!parse_seconds(optarg, &t[1]))
                return usage_error(self,
                                   "--retry-interval wants 0..86400 seconds");
            break;
        case 'h':
            printf("Usage: novaxl %s %s\n%s.\n", self->name, self->usage,
                   self->help);
            return EXIT_OK;
        default:
            return usage_error(self, "unknown option");
        }
    }
    return on_instance(c, self, argc, argv, do_power_off, t);
}

static int do_reboot(nxl_driver *drv, const nxl_instance *inst, void *arg,
                     nxl_error *err)
{
    return nxl_instance_reboot(drv, inst, NULL,
                               *(bool *)arg ? NXL_REBOOT_HARD
                                            : NXL_REBOOT_SOFT,
                               NULL, NULL, NULL, err);
}

static int cmd_reboot(const cli *c, int argc, char **argv)
{
    static const char *const flags[] = {"hard", NULL};
    const cmd_spec *self = find_cmd("reboot");
    bool hard[2] = {false, false};
    int ret = parse_flags(self, argc, argv, flags, hard);

    return ret >= 0 ? ret : on_instance(c, self, argc, argv, do_reboot, hard);
}

static int cmd_dry_run(const cli *c, int argc, char **argv)
{
    const cmd_spec *self = find_cmd("dry-run");

    if (argc != 2)
        return usage_error(self,
                           argc < 2 ? "missing FILE" : "too many arguments");
    return print_config(c, argv[1]);
}

static int cmd_spawn(const cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const cmd_spec *self = find_cmd("spawn");
    bool dry_run = c->dry_run;
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+Nh", opts, NULL)) != -1) {
        switch (opt) {
        case 'N':
            dry_run = true;
            break;
        case 'h':
            printf("Usage: novaxl spawn %s\n%s.\n", self->usage, self->help);
            return EXIT_OK;
        default:
            return usage_error(self, "unknown option");
        }
    }
    if (argc - optind != 1)
        return usage_error(self, argc - optind < 1 ? "missing FILE"
                                                   : "too many arguments");
    if (dry_run)
        return print_config(c, argv[optind]);
    return spawn_file(c, argv[optind]);
}

static int cmd_help(const cli *c, int argc, char **argv)
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
    printf("Usage: novaxl %s %s\n%s.\n", cmd->name, cmd->usage, cmd->help);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"dry-run", no_argument, NULL, 'N'},
        {"instances-dir", required_argument, NULL, 'I'},
        {"image-cache", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    cli c = {false, false, NULL, NULL};
    const cmd_spec *cmd;
    int opt;

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
        case 'I':
            c.instances_dir = optarg;
            break;
        case 'C':
            c.image_cache_dir = optarg;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    cmd = find_cmd(argv[optind]);
    if (!cmd) {
        fprintf(stderr, "novaxl: unknown command '%s' (see novaxl --help)\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    if (c.dry_run && !cmd->modifies)
        nxl__debug("-N has no effect on '%s', which changes nothing",
                   cmd->name);
    return cmd->handler(&c, argc - optind, argv + optind);
}

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

#include <libxl.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"
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

static const cmd_spec cmd_table[] = {
    {"dry-run", cmd_dry_run, false,
     "Print the libxl domain configuration for a spawn request", "FILE"},
    {"spawn", cmd_spawn, true, "Create an instance from a spawn request",
     "[-N|--dry-run] FILE"},
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
    nxl_error err = NXL_ERROR_INIT;
    int opt, ret;

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
    /* Creating a domain goes through the public driver API, which the
     * contract work adds; until it is in this build, say so plainly. */
    nxl_error_set(&err, NXL_E_NOT_IMPLEMENTED,
                  "spawn: creating domains needs the driver API, not in "
                  "this build (use --dry-run)");
    ret = report(c, argv[optind], &err);
    nxl_error_dispose(&err);
    return ret;
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
        {NULL, 0, NULL, 0},
    };
    cli c = {false, false};
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

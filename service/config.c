/* novaxld's configuration: "key = value" lines, '#' comments. Every key,
 * its default and whether SIGHUP reloads it is in the table below, in
 * etc/novaxl/novaxld.conf and in docs/protocol.md. An unknown key is an
 * error, so a typo never goes unnoticed. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "service/svc.h"

typedef enum { K_PATH, K_OPT_PATH, K_STR, K_UINT, K_MODE, K_LEVEL } ktype;

static const struct key {
    const char *name;
    ktype type;
    size_t off;
    unsigned min, max; /* K_UINT */
} keys[] = {
#define OFF(f) offsetof(nxl_svc_config, f)
    {"socket", K_PATH, OFF(socket_path), 0, 0},
    {"ro_socket", K_OPT_PATH, OFF(ro_socket_path), 0, 0},
    {"socket_mode", K_MODE, OFF(socket_mode), 0, 0},
    {"ro_socket_mode", K_MODE, OFF(ro_socket_mode), 0, 0},
    {"admin_group", K_STR, OFF(admin_group), 0, 0},
    {"ro_group", K_STR, OFF(ro_group), 0, 0},
    {"host", K_STR, OFF(host), 0, 0},
    {"instances_dir", K_PATH, OFF(instances_dir), 0, 0},
    {"image_cache_dir", K_PATH, OFF(image_cache_dir), 0, 0},
    {"console_log_dir", K_PATH, OFF(console_log_dir), 0, 0},
    {"console_log_cap", K_UINT, OFF(console_log_cap), 4096, 1u << 30},
    {"console_log_interval", K_UINT, OFF(console_log_interval), 1, 86400},
    {"serial_listen", K_STR, OFF(serial_listen), 0, 0},
    {"serial_port_range", K_STR, OFF(serial_port_range), 0, 0},
    {"log_level", K_LEVEL, OFF(log_level), 0, 0},
    {"idle_timeout", K_UINT, OFF(idle_timeout), 0, 86400},
    {"max_connections", K_UINT, OFF(max_connections), 1, 4096},
    {"max_request_bytes", K_UINT, OFF(max_request_bytes), 1024,
     NXL_MAX_DOCUMENT_BYTES},
    {"max_inflight", K_UINT, OFF(max_inflight), 1, 256},
    {"workers", K_UINT, OFF(workers), 1, 256},
    {"event_backlog", K_UINT, OFF(event_backlog), 1, 1000000},
    {"write_timeout", K_UINT, OFF(write_timeout), 1, 3600},
#undef OFF
};

int nxl_svc_config_init(nxl_svc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->socket_mode = 0660;
    cfg->ro_socket_mode = 0666;
    cfg->log_level = LOG_INFO;
    cfg->idle_timeout = 300;
    cfg->max_connections = 64;
    cfg->max_request_bytes = NXL_MAX_DOCUMENT_BYTES;
    cfg->max_inflight = 16;
    cfg->workers = 8;
    cfg->event_backlog = 1024;
    cfg->write_timeout = 10;
    cfg->console_log_cap = 1024 * 1024;
    cfg->console_log_interval = 60;
    if (!(cfg->socket_path = strdup("/run/novaxl/novaxld.sock")) ||
        !(cfg->ro_socket_path = strdup("/run/novaxl/novaxld-ro.sock")) ||
        !(cfg->instances_dir = strdup("/var/lib/novaxl/instances")) ||
        !(cfg->image_cache_dir = strdup("/var/lib/novaxl/images")) ||
        !(cfg->console_log_dir = strdup("/var/log/xen/console")) ||
        !(cfg->serial_listen = strdup("127.0.0.1")) ||
        !(cfg->serial_port_range = strdup("10000:20000"))) {
        nxl_svc_config_dispose(cfg);
        return NXL_E_NOMEM;
    }
    return 0;
}

void nxl_svc_config_dispose(nxl_svc_config *cfg)
{
    for (size_t i = 0; i < NXL_ARRAY_SIZE(keys); i++) {
        if (keys[i].type == K_PATH || keys[i].type == K_OPT_PATH ||
            keys[i].type == K_STR) {
            char **p = (char **)((char *)cfg + keys[i].off);
            free(*p);
            *p = NULL;
        }
    }
}

/* A deep copy, for loading onto a scratch config. */
static int config_copy(nxl_svc_config *dst, const nxl_svc_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < NXL_ARRAY_SIZE(keys); i++) {
        if (keys[i].type == K_PATH || keys[i].type == K_OPT_PATH ||
            keys[i].type == K_STR) {
            char **p = (char **)((char *)dst + keys[i].off);
            if (*p && !(*p = strdup(*p))) {
                for (size_t j = i + 1; j < NXL_ARRAY_SIZE(keys); j++)
                    if (keys[j].type == K_PATH || keys[j].type == K_OPT_PATH ||
                        keys[j].type == K_STR)
                        *(char **)((char *)dst + keys[j].off) = NULL;
                nxl_svc_config_dispose(dst);
                return NXL_E_NOMEM;
            }
        }
    }
    return 0;
}

int nxl_svc_config_set(nxl_svc_config *cfg, const char *key, const char *value,
                       nxl_error *err)
{
    const struct key *k = NULL;
    char *end;
    unsigned long v;

    for (size_t i = 0; i < NXL_ARRAY_SIZE(keys); i++)
        if (strcmp(keys[i].name, key) == 0)
            k = &keys[i];
    if (!k)
        return nxl_error_set(err, NXL_E_INVAL, "unknown key '%s'", key);
    switch (k->type) {
    case K_PATH:
    case K_OPT_PATH:
        if (value[0] == '\0' && k->type == K_OPT_PATH)
            goto set_string;
        if (value[0] != '/')
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s: '%s' is not an absolute path", key,
                                 value);
        if (strlen(value) >= PATH_MAX)
            return nxl_error_set(err, NXL_E_INVAL, "%s: path too long", key);
        goto set_string;
    case K_STR:
    set_string : {
        char **p = (char **)((char *)cfg + k->off);
        char *copy = NULL;

        if (value[0] && !(copy = strdup(value)))
            return nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", key);
        free(*p);
        *p = copy;
        return 0;
    }
    case K_MODE:
        errno = 0;
        v = strtoul(value, &end, 8);
        if (errno || !value[0] || *end || v > 0777)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s: '%s' is not an octal mode (0..0777)", key,
                                 value);
        *(unsigned *)((char *)cfg + k->off) = (unsigned)v;
        return 0;
    case K_UINT:
        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno || !isdigit((unsigned char)value[0]) || *end || v < k->min ||
            v > k->max)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s: '%s' is not a whole number in %u..%u",
                                 key, value, k->min, k->max);
        *(unsigned *)((char *)cfg + k->off) = (unsigned)v;
        return 0;
    case K_LEVEL: {
        int level = nxl_svc_log_level_parse(value);
        if (level < 0)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s: '%s' is not one of error, warning, "
                                 "info, debug",
                                 key, value);
        *(int *)((char *)cfg + k->off) = level;
        return 0;
    }
    }
    return nxl_error_set(err, NXL_E_INVAL, "%s: unknown type", key);
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int nxl_svc_config_load(nxl_svc_config *cfg, const char *path, nxl_error *err)
{
    nxl_svc_config tmp;
    char line[PATH_MAX + 256];
    unsigned lineno = 0;
    FILE *f;
    int rc;

    f = fopen(path, "re");
    if (!f)
        return nxl_error_set_errno(err, NXL_E_IO, errno, "%s", path);
    if ((rc = config_copy(&tmp, cfg))) {
        fclose(f);
        return nxl_error_set(err, rc, "%s: out of memory", path);
    }
    while (fgets(line, sizeof(line), f)) {
        char *s, *eq, *key, *value;
        nxl_error e = NXL_ERROR_INIT;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = nxl_error_set(err, NXL_E_INVAL, "%s:%u: line too long", path,
                               lineno);
            goto out;
        }
        s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            rc = nxl_error_set(err, NXL_E_INVAL,
                               "%s:%u: expected 'key = value'", path, lineno);
            goto out;
        }
        *eq = '\0';
        key = trim(s);
        value = trim(eq + 1);
        if ((rc = nxl_svc_config_set(&tmp, key, value, &e))) {
            nxl_error_set(err, rc, "%s:%u: %s", path, lineno,
                          nxl_error_message(&e));
            nxl_error_dispose(&e);
            goto out;
        }
    }
    if (ferror(f)) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "%s: read", path);
        goto out;
    }
    nxl_svc_config_dispose(cfg);
    *cfg = tmp;
    memset(&tmp, 0, sizeof(tmp));
    rc = 0;
out:
    nxl_svc_config_dispose(&tmp);
    fclose(f);
    return rc;
}

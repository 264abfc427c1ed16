/* novaxld: the dom0 service. Owns one libxl driver (nxl_driver_open, then
 * init_host, which reconciles what an earlier run left) and serves the
 * contract over Unix sockets with JSON-RPC 2.0 (docs/protocol.md).
 *
 *   novaxld [--foreground] [--config FILE] [--socket PATH]
 *           [--ro-socket PATH|""] [--instances-dir DIR] [--image-cache DIR]
 *           [--log-level LEVEL]
 *
 * Options override the configuration file (default
 * $(sysconfdir)/novaxl/novaxld.conf; a missing default file means the
 * built-in defaults). SIGHUP re-reads the file and applies what can change
 * at run time (log_level, idle_timeout, max_connections); SIGTERM and
 * SIGINT stop cleanly: no new requests, those already read finish and are
 * answered, then cleanup_host.
 *
 * --fake-port is for the test suite only (tests/test_service.c): it runs
 * the driver on the in-memory fake hypervisor instead of libxl, refuses
 * to start without --instances-dir and --image-cache (so it can never
 * touch a real host's records) and says so loudly in the log.
 * --fake-proc DIR (with --fake-port only) makes init_host's xenconsoled
 * check read DIR instead of /proc, so the tests choose the warning. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "service/svc.h"
#include "xl_driver/xl_console.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"

#ifndef NXL_SYSCONFDIR
#define NXL_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG NXL_SYSCONFDIR "/novaxl/novaxld.conf"

typedef struct daemon_state {
    const char *config_path; /* NULL: the default, which may be missing */
    bool config_explicit;
    nxl_svc_config cfg;
    /* command-line overrides, re-applied after every reload */
    const char *opt_keys[8];
    const char *opt_values[8];
    size_t n_opts;
} daemon_state;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: novaxld [OPTIONS]\n"
            "  --foreground          log to stderr, not syslog\n"
            "  --config FILE         configuration (default %s)\n"
            "  --socket PATH         read-write socket\n"
            "  --ro-socket PATH      read-only socket (\"\": none)\n"
            "  --instances-dir DIR   records and disks\n"
            "  --image-cache DIR     images by id\n"
            "  --log-level LEVEL     error, warning, info or debug\n"
            "  -h, --help            this help\n"
            "  -V, --version         the version\n",
            DEFAULT_CONFIG);
}

/* File, then the command line on top. */
static int load_config(daemon_state *d, nxl_svc_config *cfg, nxl_error *err)
{
    const char *path = d->config_path ? d->config_path : DEFAULT_CONFIG;
    int rc;

    if ((rc = nxl_svc_config_init(cfg)))
        return nxl_error_set(err, rc, "configuration: out of memory");
    if (d->config_explicit || access(path, F_OK) == 0) {
        if ((rc = nxl_svc_config_load(cfg, path, err)))
            goto fail;
    }
    for (size_t i = 0; i < d->n_opts; i++) {
        nxl_error e = NXL_ERROR_INIT;
        if ((rc = nxl_svc_config_set(cfg, d->opt_keys[i], d->opt_values[i],
                                     &e))) {
            nxl_error_set(err, rc, "command line: %s", nxl_error_message(&e));
            nxl_error_dispose(&e);
            goto fail;
        }
    }
    return 0;
fail:
    nxl_svc_config_dispose(cfg);
    return rc;
}

static void reload(void *opaque, nxl_svc_server *srv)
{
    daemon_state *d = opaque;
    nxl_error err = NXL_ERROR_INIT;
    nxl_svc_config cfg;

    if (load_config(d, &cfg, &err)) {
        nxl_svc_log(LOG_ERR, NULL,
                    "reload failed, keeping the running "
                    "configuration: %s",
                    nxl_error_message(&err));
        nxl_error_dispose(&err);
        return;
    }
    nxl_svc_server_reconfigure(srv, &cfg);
    nxl_svc_log(LOG_INFO, NULL,
                "reloaded: log_level %s, idle_timeout %u s, max_connections "
                "%u (other keys take effect at the next start)",
                nxl_svc_log_level_name(cfg.log_level), cfg.idle_timeout,
                cfg.max_connections);
    nxl_svc_config_dispose(&d->cfg);
    d->cfg = cfg;
}

static int add_opt(daemon_state *d, const char *key, const char *value)
{
    if (d->n_opts >= NXL_ARRAY_SIZE(d->opt_keys))
        return -1;
    d->opt_keys[d->n_opts] = key;
    d->opt_values[d->n_opts++] = value;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"foreground", no_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"socket", required_argument, NULL, 's'},
        {"ro-socket", required_argument, NULL, 'r'},
        {"instances-dir", required_argument, NULL, 'I'},
        {"image-cache", required_argument, NULL, 'C'},
        {"log-level", required_argument, NULL, 'l'},
        {"fake-port", no_argument, NULL, 'F'},       /* tests only; see above */
        {"fake-proc", required_argument, NULL, 'P'}, /* tests only too */
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    daemon_state d;
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver_config dcfg = NXL_DRIVER_CONFIG_INIT;
    nxl_driver *drv = NULL;
    nxl_svc_bus *bus = NULL;
    nxl_svc_server *srv = NULL;
    nxl_port *port = NULL;
    const char *fake_proc = NULL;
    bool foreground = false, fake = false, have_inst = false, have_img = false,
         host_up = false;
    char host[256];
    sigset_t mask;
    int sigfd = -1, opt, ret = 1;

    memset(&d, 0, sizeof(d));
    while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
        int r = 0;
        switch (opt) {
        case 'f':
            foreground = true;
            break;
        case 'c':
            d.config_path = optarg;
            d.config_explicit = true;
            break;
        case 's':
            r = add_opt(&d, "socket", optarg);
            break;
        case 'r':
            r = add_opt(&d, "ro_socket", optarg);
            break;
        case 'I':
            r = add_opt(&d, "instances_dir", optarg);
            have_inst = true;
            break;
        case 'C':
            r = add_opt(&d, "image_cache_dir", optarg);
            have_img = true;
            break;
        case 'l':
            r = add_opt(&d, "log_level", optarg);
            break;
        case 'F':
            fake = true;
            break;
        case 'P':
            fake_proc = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("novaxld %s\n", PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (r) {
            fprintf(stderr, "novaxld: too many options\n");
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (fake_proc && !fake) {
        fprintf(stderr, "novaxld: --fake-proc is for the test suite and "
                        "needs --fake-port\n");
        return 2;
    }
    if (fake && (!have_inst || !have_img)) {
        fprintf(stderr, "novaxld: --fake-port is for the test suite and "
                        "needs --instances-dir and --image-cache\n");
        return 2;
    }

    nxl_svc_log_open(foreground);
    if (load_config(&d, &d.cfg, &err)) {
        nxl_svc_log(LOG_ERR, NULL, "%s", nxl_error_message(&err));
        goto out;
    }
    nxl_svc_log_set_level(d.cfg.log_level);

    /* Signals go to the signalfd the main loop polls; every thread
     * created from here inherits the mask. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sigfd < 0) {
        nxl_svc_log(LOG_ERR, NULL, "signalfd: %s", strerror(errno));
        goto out;
    }

    if (d.cfg.host) {
        snprintf(host, sizeof(host), "%s", d.cfg.host);
    } else if (gethostname(host, sizeof(host)) < 0) {
        snprintf(host, sizeof(host), "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    dcfg.host = host;
    dcfg.instances_dir = d.cfg.instances_dir;
    dcfg.image_cache_dir = d.cfg.image_cache_dir;
    dcfg.console_log_dir = d.cfg.console_log_dir;
    dcfg.console_log_cap = d.cfg.console_log_cap;
    dcfg.console_log_interval = d.cfg.console_log_interval;
    dcfg.serial_listen = d.cfg.serial_listen;
    dcfg.serial_port_range = d.cfg.serial_port_range;
    if (nxl_driver_open("libxl", &dcfg, &drv, &err))
        goto fail;
    if (fake) {
        nxl_svc_log(LOG_WARNING, NULL,
                    "TEST ONLY: the driver runs on the fake hypervisor port "
                    "(--fake-port); no guest is real");
        if (nxl__port_fake_new(&port)) {
            nxl_error_set(&err, NXL_E_NOMEM, "fake port: out of memory");
            goto fail;
        }
        if (nxl__xl_driver_use_port(drv, port, false, &err)) {
            nxl__port_free(port);
            goto fail;
        }
        if (fake_proc)
            nxl__xl_console_set_proc(drv, fake_proc);
    }
    if ((nxl_svc_bus_new(d.cfg.event_backlog, &bus, &err)))
        goto fail;
    /* Before init_host, so that events of the reconciliation are seen. */
    if (nxl_driver_register_event_listener(drv, nxl_svc_bus_lifecycle, bus,
                                           &err) ||
        nxl_driver_set_event_kinds(
            drv, NXL_EVENT_KIND_LIFECYCLE | NXL_EVENT_KIND_AGGREGATE, &err))
        goto fail;
    if (nxl_host_init(drv, host, &err))
        goto fail;
    host_up = true;
    {
        char *w = NULL;

        /* Also in host_status, for who never reads this log. */
        if (nxl_host_get_console_warning(drv, &w, NULL) == 0 && w)
            nxl_svc_log(LOG_WARNING, NULL, "consoles: %s", w);
        free(w);
    }
    if (nxl_svc_server_new(&d.cfg, drv, bus, &srv, &err))
        goto fail;
    nxl_svc_log(LOG_INFO, NULL,
                "serving host %s on %s%s%s (driver %s, %u workers)", host,
                d.cfg.socket_path, d.cfg.ro_socket_path ? " and " : "",
                d.cfg.ro_socket_path ? d.cfg.ro_socket_path : "",
                nxl_driver_name(drv), d.cfg.workers);
    ret = nxl_svc_server_run(srv, sigfd, reload, &d) ? 1 : 0;
    goto out;
fail:
    nxl_svc_log(LOG_ERR, NULL, "cannot start: %s: %s",
                nxl_error_nova_name(err.code), nxl_error_message(&err));
out:
    nxl_svc_server_free(srv);
    if (drv) {
        nxl_error e = NXL_ERROR_INIT;
        nxl_driver_register_event_listener(drv, NULL, NULL, NULL);
        if (host_up && nxl_host_cleanup(drv, host, &e))
            nxl_svc_log(LOG_WARNING, NULL, "cleanup_host: %s",
                        nxl_error_message(&e));
        nxl_error_dispose(&e);
    }
    nxl_driver_close(drv);
    nxl_svc_bus_free(bus);
    if (sigfd >= 0)
        close(sigfd);
    if (ret == 0)
        nxl_svc_log(LOG_INFO, NULL, "stopped");
    nxl_svc_config_dispose(&d.cfg);
    nxl_error_dispose(&err);
    nxl_svc_log_close();
    return ret;
}

/* Helpers shared by the lab tests (see labutil.h). */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <execinfo.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "tests/lab/src/labutil.h"
#include "xl_driver/xl_port.h"

int nxl_lab_failures;

/* How long a destroyed domain may linger as dying (its backends still
 * releasing its memory) before it counts as still there. */
#define DYING_BOUND_S 10

static double t_start, t_step;

bool nxl_lab_check(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (!ok)
        nxl_lab_failures++;
    return ok;
}

bool nxl_lab_ok_call(int rc, nxl_error *err, const char *what)
{
    bool ok = nxl_lab_check(rc == 0, "%s%s%s", what, rc ? ": " : "",
                            rc ? nxl_error_message(err) : "");

    nxl_error_dispose(err);
    return ok;
}

double nxl_lab_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A lab test that dies of a signal prints where, in the lab's log: the
 * lab is the only place such a crash is seen, and its dom0 has no
 * debugger. Only async-signal-safe calls here (backtrace() was called
 * once before, so it loads nothing now); then the signal kills as it
 * would have. */
static void on_fatal_signal(int sig)
{
    static const char head[] = "\n  CRASH: fatal signal ";
    char num[4] = {(char)('0' + sig / 10 % 10), (char)('0' + sig % 10), '\n'};
    void *frames[64];
    int n = backtrace(frames, 64);

    if (write(STDOUT_FILENO, head, sizeof(head) - 1) < 0 ||
        write(STDOUT_FILENO, num, 3) < 0)
        _exit(128 + sig);
    backtrace_symbols_fd(frames, n, STDOUT_FILENO);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_fatal_signals(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE};
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)};
    struct sigaction sa;
    void *warm[2];

    backtrace(warm, 2); /* loads libgcc_s now, not in the handler */
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

void nxl_lab_start(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_fatal_signals();
    t_start = t_step = nxl_lab_now();
}

void nxl_lab_step_done(const char *name)
{
    double t = nxl_lab_now();

    printf("STEP %-32s %6.1fs (at %6.1fs)\n", name, t - t_step, t - t_start);
    fflush(stdout);
    t_step = t;
}

int nxl_lab_finish(void)
{
    printf("%s: %d failure(s) in %.1fs\n", nxl_lab_failures ? "FAIL" : "PASS",
           nxl_lab_failures, nxl_lab_now() - t_start);
    return nxl_lab_failures ? 1 : 0;
}

const char *nxl_lab_env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);

    return v && *v ? v : dflt;
}

bool nxl_lab_is_dom0(void)
{
    char caps[64] = "";
    FILE *f = fopen("/proc/xen/capabilities", "r");
    bool ok = f && fgets(caps, sizeof(caps), f) && strstr(caps, "control_d");

    if (f)
        fclose(f);
    if (!ok)
        printf("not a Xen dom0: skipping\n");
    return ok;
}

void nxl_lab_env_load(nxl_lab_env *env)
{
    env->examples = nxl_lab_env_or("NXL_LAB_EXAMPLES_DIR", "/novaxl/examples");
    env->kernel = nxl_lab_env_or("NXL_LAB_GUEST_KERNEL",
                                 "/var/lib/novaxl/images/guest-kernel");
    env->initrd = nxl_lab_env_or("NXL_LAB_GUEST_INITRD",
                                 "/var/lib/novaxl/images/guest-initrd");
    env->marker = nxl_lab_env_or("NXL_LAB_GUEST_MARKER", "NOVAXL-GUEST-UP");
    env->logdir =
        nxl_lab_env_or("NXL_LAB_CONSOLE_LOG_DIR", "/var/log/xen/console");
}

/* ---- console logs -------------------------------------------------------- */

static char logbuf[1 << 20];

static const char *read_log(const char *path)
{
    size_t n;
    FILE *f = fopen(path, "r");

    logbuf[0] = '\0';
    if (!f)
        return logbuf;
    n = fread(logbuf, 1, sizeof(logbuf) - 1, f);
    fclose(f);
    logbuf[n] = '\0';
    return logbuf;
}

int nxl_lab_count_in_file(const char *path, const char *needle)
{
    int count = 0;

    for (const char *p = read_log(path); (p = strstr(p, needle));
         p += strlen(needle))
        count++;
    return count;
}

bool nxl_lab_wait_marker(const char *log, const char *needle, int above,
                         int bound_s)
{
    double end = nxl_lab_now() + bound_s;

    while (nxl_lab_now() < end) {
        if (nxl_lab_count_in_file(log, needle) > above)
            return true;
        usleep(500 * 1000);
    }
    return false;
}

void nxl_lab_last_line(const char *log, const char *needle, char *line,
                       size_t size)
{
    const char *p = read_log(log), *last = NULL;
    size_t n;

    while ((p = strstr(p, needle))) {
        last = p;
        p += strlen(needle);
    }
    line[0] = '\0';
    if (!last)
        return;
    n = strcspn(last, "\r\n");
    if (n >= size)
        n = size - 1;
    memcpy(line, last, n);
    line[n] = '\0';
}

bool nxl_lab_wait_last_line(const char *log, const char *needle,
                            const char *want, int bound_s, char *line,
                            size_t size)
{
    double end = nxl_lab_now() + bound_s;

    do {
        nxl_lab_last_line(log, needle, line, size);
        if (strstr(line, want))
            return true;
        usleep(500 * 1000);
    } while (nxl_lab_now() < end);
    return false;
}

/* ---- the host ---------------------------------------------------------------
 */

size_t nxl_lab_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

bool nxl_lab_is_file(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int nxl_lab_domains_with(const char *uuid)
{
    double end = nxl_lab_now() + DYING_BOUND_S;
    nxl_port *port = NULL;
    int k;

    if (nxl__port_libxl_new(&port, NULL) < 0)
        return -1;
    for (;;) {
        nxl_port_dominfo *v = NULL;
        size_t n = 0;
        bool dying = false;

        k = port->ops->list(port, &v, &n, NULL) < 0 ? -1 : 0;
        for (size_t i = 0; k >= 0 && i < n; i++)
            if (strcmp(v[i].uuid, uuid) == 0) {
                k++;
                dying = dying || v[i].dying;
            }
        free(v);
        if (!dying || nxl_lab_now() >= end)
            break;
        usleep(200 * 1000);
    }
    nxl__port_free(port);
    return k;
}

int nxl_lab_tcp_connect(const char *host, int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

bool nxl_lab_xl(const char *verb, const char *name)
{
    char cmd[256];
    int r;

    snprintf(cmd, sizeof(cmd), "xl %s %s", verb, name);
    r = system(cmd);
    return nxl_lab_check(r == 0, "%s (status %d)", cmd, r);
}

bool nxl_lab_xl_create_foreign(const char *dir, const nxl_lab_env *env,
                               const char *name, const char *uuid)
{
    char cfg[600], create[700], destroy[400];
    FILE *f;
    int r;

    snprintf(cfg, sizeof(cfg), "%s/%s.cfg", dir, name);
    f = fopen(cfg, "w");
    if (!f)
        return nxl_lab_check(false, "write %s", cfg);
    fprintf(f,
            "name = \"%s\"\nuuid = \"%s\"\n"
            "type = \"pv\"\nkernel = \"%s\"\nramdisk = \"%s\"\n"
            "extra = \"console=hvc0 rdinit=/init quiet\"\nmemory = 128\n",
            name, uuid, env->kernel, env->initrd);
    fclose(f);
    /* xl's own messages go to the test's output. */
    snprintf(create, sizeof(create), "xl create -p %s 2>&1", cfg);
    snprintf(destroy, sizeof(destroy), "xl destroy %s >/dev/null 2>&1", name);
    r = system(create);
    if (WIFSIGNALED(r) || (WIFEXITED(r) && WEXITSTATUS(r) >= 128)) {
        printf("  xl create died (status %d); once more\n", r);
        if (system(destroy) != 0)
            printf("  (nothing of it to destroy)\n");
        r = system(create);
    }
    return nxl_lab_check(r == 0, "xl create -p %s (status %d)", cfg, r);
}

bool nxl_lab_xl_paused(const char *name, char *line, size_t size)
{
    char cmd[300], buf[256];
    size_t len = strlen(name);
    FILE *p;

    snprintf(cmd, sizeof(cmd), "xl list %s 2>/dev/null", name);
    p = popen(cmd, "r");
    line[0] = '\0';
    while (p && fgets(buf, sizeof(buf), p))
        if (strncmp(buf, name, len) == 0 && buf[len] == ' ')
            snprintf(line, size, "%s", buf);
    if (p)
        pclose(p);
    /* xl's state column: r, b, p, s, c, d in that order, '-' when not. */
    return line[0] && strstr(line, "--p") != NULL;
}

/* What every such init starts with: /dev, the console, and the xenbus
 * device the guest programs talk through (it comes with the PV drivers,
 * a moment after boot). */
static const char guest_init_prelude[] =
    "#!/bin/busybox sh\n"
    "# novaxl lab: a test's guest programs, then the lab guest's /init.\n"
    "B=/bin/busybox\n"
    "$B mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
    "exec </dev/console >/dev/console 2>&1\n"
    "i=0\n"
    "while [ ! -e /dev/xen/xenbus ] && [ $i -lt 20 ]; do $B sleep 1; "
    "i=$((i + 1)); done\n";

static bool write_text(const char *path, const char *prelude, const char *text,
                       mode_t mode)
{
    FILE *f = fopen(path, "w");
    bool ok = f && fputs(prelude, f) >= 0 && fputs(text, f) >= 0;

    if (f && fclose(f) != 0)
        ok = false;
    return ok && chmod(path, mode) == 0;
}

bool nxl_lab_guest_initrd(const char *root, const char *images,
                          const char *lab_initrd, const char *initrd_id,
                          const char *program, const char *init_name,
                          const char *init_text)
{
    char dir[1024], cmd[4096];
    const char *payload = nxl_lab_env_or("NXL_LAB_PAYLOAD", "/novaxl");

    snprintf(dir, sizeof(dir), "%s/%s.d", root, init_name);
    snprintf(cmd, sizeof(cmd),
             "set -e; mkdir -p %s/bin; cp %s/lab/bin/%s %s/bin/", dir, payload,
             program, dir);
    if (!nxl_lab_check(system(cmd) == 0, "%s from %s/lab/bin", program,
                       payload))
        return false;
    snprintf(cmd, sizeof(cmd), "%s/%s", dir, init_name);
    if (!nxl_lab_check(write_text(cmd, guest_init_prelude, init_text, 0755),
                       "%s", cmd))
        return false;
    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; find . | cpio -o -H newc --quiet | gzip -1 "
             ">../%s.cpio.gz; rm -f %s/%s; cat %s ../%s.cpio.gz >%s/%s",
             dir, init_name, images, initrd_id, lab_initrd, init_name, images,
             initrd_id);
    return nxl_lab_check(system(cmd) == 0, "guest initramfs %s/%s", images,
                         initrd_id);
}

size_t nxl_lab_xs_data_children(nxl_xs *xs, int domid, const char *sub)
{
    char dir[128];
    nxl_strv names;
    size_t n;

    snprintf(dir, sizeof(dir), "/local/domain/%d/data/%s", domid, sub);
    nxl_strv_init(&names);
    if (nxl_xs_directory(xs, XBT_NULL, dir, &names, NULL) < 0)
        n = 0; /* absent is empty */
    else
        n = names.n;
    nxl_strv_dispose(&names);
    return n;
}

bool nxl_lab_read_request(const char *path, nxl_spawn_req *req, char **doc)
{
    nxl_error err = NXL_ERROR_INIT;
    size_t len;
    bool ok;

    nxl_spawn_req_init(req);
    ok = nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, doc, &len, &err) ==
             0 &&
         nxl__spawn_req_from_json(*doc, len, req, &err) == 0;
    nxl_lab_check(ok, "read %s%s%s", path, ok ? "" : ": ",
                  ok ? "" : nxl_error_message(&err));
    nxl_error_dispose(&err);
    return ok;
}

bool nxl_lab_make_root(const char *prefix, const nxl_lab_env *env,
                       const nxl_instance *inst, char *root, char *images,
                       char *instances)
{
    char path[1024];

    snprintf(root, 512, "/var/tmp/nxl-%s-XXXXXX", prefix);
    if (!nxl_lab_check(mkdtemp(root) != NULL, "temporary root %s", root))
        return false;
    snprintf(images, 512, "%s/images", root);
    snprintf(instances, 512, "%s/instances", root);
    mkdir(images, 0700);
    snprintf(path, sizeof(path), "%s/%s", images, inst->kernel_id);
    if (!nxl_lab_check(symlink(env->kernel, path) == 0, "image %s -> %s", path,
                       env->kernel))
        return false;
    snprintf(path, sizeof(path), "%s/%s", images, inst->ramdisk_id);
    return nxl_lab_check(symlink(env->initrd, path) == 0, "image %s -> %s",
                         path, env->initrd);
}

int nxl_lab_begin(nxl_lab_run *run, const char *prefix, const char *example)
{
    char path[1024];

    memset(run, 0, sizeof(*run));
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    nxl_lab_env_load(&run->env);
    snprintf(path, sizeof(path), "%s/%s.json", run->env.examples, example);
    if (!nxl_lab_read_request(path, &run->req, &run->doc) ||
        !nxl_lab_make_root(prefix, &run->env, &run->req.instance, run->root,
                           run->images, run->instances))
        return nxl_lab_end(run);
    return 0;
}

int nxl_lab_end(nxl_lab_run *run)
{
    nxl_xs_close(run->xs);
    nxl_driver_close(run->drv);
    nxl_spawn_req_dispose(&run->req);
    free(run->doc);
    return nxl_lab_finish();
}

bool nxl_lab_open_driver(const char *images, const char *instances,
                         const char *logdir, nxl_event_fn *listener,
                         nxl_driver **drv_r)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;

    cfg.instances_dir = instances;
    cfg.image_cache_dir = images;
    cfg.console_log_dir = logdir;
    return nxl_lab_open_driver_cfg(&cfg, listener, 0, drv_r);
}

bool nxl_lab_open_driver_cfg(const nxl_driver_config *cfg,
                             nxl_event_fn *listener, unsigned kinds,
                             nxl_driver **drv_r)
{
    nxl_error err = NXL_ERROR_INIT;

    *drv_r = NULL;
    return nxl_lab_ok_call(nxl_driver_open("libxl", cfg, drv_r, &err), &err,
                           "nxl_driver_open") &&
           (!listener || nxl_lab_ok_call(nxl_driver_register_event_listener(
                                             *drv_r, listener, NULL, &err),
                                         &err, "register_event_listener")) &&
           (!kinds ||
            nxl_lab_ok_call(nxl_driver_set_event_kinds(*drv_r, kinds, &err),
                            &err, "set_event_kinds")) &&
           nxl_lab_ok_call(nxl_host_init(*drv_r, "lab", &err), &err,
                           "init_host");
}

bool nxl_lab_run_open(nxl_lab_run *run, nxl_driver_config *cfg,
                      nxl_event_fn *listener, unsigned kinds)
{
    nxl_error err = NXL_ERROR_INIT;

    cfg->host = "lab";
    cfg->instances_dir = run->instances;
    cfg->image_cache_dir = run->images;
    cfg->console_log_dir = run->env.logdir;
    return nxl_lab_open_driver_cfg(cfg, listener, kinds, &run->drv) &&
           nxl_lab_ok_call(nxl_xs_open(&run->xs, &err), &err, "xenstore open");
}

/* ---- instances
 * ---------------------------------------------------------------- */

int nxl_lab_info(nxl_driver *drv, const nxl_instance *inst,
                 nxl_instance_info *i_r)
{
    nxl_instance_info i;
    nxl_error err = NXL_ERROR_INIT;
    int rc;

    nxl_instance_info_init(&i);
    rc = nxl_instance_get_info(drv, inst, &i, &err);
    if (rc && rc != NXL_E_NOT_FOUND)
        printf("  get_info: %s\n", nxl_error_message(&err));
    nxl_error_dispose(&err);
    if (rc)
        i.domid = -1;
    if (i_r)
        *i_r = i;
    return rc ? rc : i.state;
}

int nxl_lab_state_domid(nxl_driver *drv, const nxl_instance *inst, int *domid_r)
{
    nxl_instance_info i;
    int st = nxl_lab_info(drv, inst, &i);

    if (domid_r)
        *domid_r = i.domid;
    return st;
}

bool nxl_lab_check_alive(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_instance_info *before, int bound_s)
{
    double end = nxl_lab_now() + bound_s;
    nxl_instance_info j;
    bool grew = false;

    nxl_instance_info_init(&j);
    while (!grew && nxl_lab_now() < end) {
        usleep(500 * 1000);
        grew = nxl_lab_info(drv, inst, &j) == NXL_POWER_RUNNING &&
               j.cpu_time_ns > before->cpu_time_ns;
    }
    return nxl_lab_check(grew, "guest alive: vCPU time %.3f s -> %.3f s",
                         before->cpu_time_ns / 1e9, j.cpu_time_ns / 1e9);
}

bool nxl_lab_wait_state(nxl_driver *drv, const nxl_instance *inst, int state,
                        int bound_s, nxl_instance_info *i_r)
{
    double end = nxl_lab_now() + bound_s;

    for (;;) {
        if (nxl_lab_info(drv, inst, i_r) == state)
            return true;
        if (nxl_lab_now() >= end)
            return false;
        usleep(200 * 1000);
    }
}

bool nxl_lab_suspend_checked(nxl_driver *drv, const nxl_instance *inst,
                             const char *instances)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance_info i;
    char path[1024];
    int st;

    if (!nxl_lab_ok_call(nxl_instance_suspend(drv, inst, &err), &err,
                         "suspend"))
        return false;
    st = nxl_lab_info(drv, inst, &i);
    nxl_lab_check(st == NXL_POWER_SUSPENDED && i.domid == -1,
                  "get_info SUSPENDED, domid %d", i.domid);
    snprintf(path, sizeof(path), "%s/%s/novaxl.save", instances, inst->uuid);
    nxl_lab_check(nxl_lab_is_file(path), "save image %s", path);
    nxl_lab_check(nxl_lab_domains_with(inst->uuid) == 0,
                  "no domain with the UUID");
    return true;
}

bool nxl_lab_resume_checked(nxl_driver *drv, const nxl_instance *inst,
                            const char *instances, const char *log,
                            const char *marker, int alive_s)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance_info i;
    char path[1024];
    int boots = nxl_lab_count_in_file(log, marker), st;

    if (!nxl_lab_ok_call(nxl_instance_resume(drv, inst, NULL, NULL, &err), &err,
                         "resume"))
        return false;
    st = nxl_lab_info(drv, inst, &i);
    nxl_lab_check(st == NXL_POWER_RUNNING && i.domid > 0,
                  "get_info RUNNING (domid %d)", i.domid);
    snprintf(path, sizeof(path), "%s/%s/novaxl.save", instances, inst->uuid);
    nxl_lab_check(!nxl_lab_is_file(path), "save image gone");
    nxl_lab_check_alive(drv, inst, &i, alive_s);
    nxl_lab_check(nxl_lab_count_in_file(log, marker) == boots,
                  "no new boot (the saved guest went on)");
    return true;
}

void nxl_lab_check_nothing_left(nxl_driver *drv, const nxl_instance *inst,
                                const char *instances)
{
    char path[1024];

    nxl_lab_check(nxl_lab_info(drv, inst, NULL) == NXL_E_NOT_FOUND,
                  "get_info NOT_FOUND");
    nxl_lab_check(nxl_lab_domains_with(inst->uuid) == 0,
                  "no domain with the UUID");
    /* Its own journal and lock (xl_driver/xl_store.h's layout): other
     * instances may still have theirs. */
    snprintf(path, sizeof(path), "%s/.novaxl/journal/%s.json", instances,
             inst->uuid);
    nxl_lab_check(access(path, F_OK) != 0, "no journal");
    snprintf(path, sizeof(path), "%s/.novaxl/locks/%s.lock", instances,
             inst->uuid);
    nxl_lab_check(access(path, F_OK) != 0, "no lock file");
    snprintf(path, sizeof(path), "%s/%s", instances, inst->uuid);
    nxl_lab_check(access(path, F_OK) != 0, "no instance directory %s", path);
}

/* ---- events ----------------------------------------------------------------
 */

#define MAX_EVENTS 512

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static nxl_event events[MAX_EVENTS];
static size_t n_events;

void nxl_lab_listener(void *opaque, const nxl_event *ev)
{
    (void)opaque;
    pthread_mutex_lock(&ev_lock);
    if (n_events < MAX_EVENTS)
        events[n_events++] = *ev;
    pthread_mutex_unlock(&ev_lock);
    printf("  event %s %s\n", ev->uuid,
           nxl_event_transition_name(ev->transition));
    fflush(stdout);
}

size_t nxl_lab_events_seen(void)
{
    size_t n;

    pthread_mutex_lock(&ev_lock);
    n = n_events;
    pthread_mutex_unlock(&ev_lock);
    return n;
}

bool nxl_lab_wait_event(const char *uuid, int transition, size_t from,
                        int bound_s)
{
    double end = nxl_lab_now() + bound_s;

    while (nxl_lab_now() < end) {
        bool found = false;

        pthread_mutex_lock(&ev_lock);
        for (size_t i = from; i < n_events && !found; i++)
            found = events[i].transition == transition &&
                    strcmp(events[i].uuid, uuid) == 0;
        pthread_mutex_unlock(&ev_lock);
        if (found)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

void nxl_lab_event_names(const char *uuid, size_t from, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    pthread_mutex_lock(&ev_lock);
    for (size_t i = from; i < n_events; i++) {
        if (strcmp(events[i].uuid, uuid) != 0)
            continue;
        len += (size_t)snprintf(
            buf + len, len < size ? size - len : 0, "%s%s", len ? " " : "",
            nxl_event_transition_name(events[i].transition));
        if (len >= size) {
            buf[size - 1] = '\0';
            break;
        }
    }
    pthread_mutex_unlock(&ev_lock);
}

/* Lab test: more of the driver's lifecycle through the public API (nxl.h)
 * on real Xen, in the lab's dom0 (exit 0 pass, 1 fail, 77 skip off dom0).
 *
 * Spawns examples/pv-direct-kernel.json (image ids linked to the lab's
 * guest kernel and initramfs in a private image cache), then:
 *   suspend      SUSPENDED, a save image in the instance dir, no domain;
 *   resume       RUNNING, the guest alive (its vCPU time grows);
 *   xl pause     (out of band) PAUSED, and a `paused` event reaches the
 *                listener from the driver's event thread; xl unpause:
 *                `resumed`;
 *   soft_delete  no domain; restore: RUNNING;
 *   rebuild      (same image, preserve_ephemeral false) RUNNING in a new
 *                domain, the guest's marker on its console again;
 *   rescue       (the same kernel image as rescue image) the rescue
 *                domain runs, boots (marker) with both disks; unrescue:
 *                RUNNING in a new domain;
 *   xl destroy   (out of band) SHUTDOWN and a `stopped` event;
 *   destroy      nothing left: no domain, record, journal, lock or
 *                instance directory.
 * Then spawns examples/pvh-direct-kernel.json, waits for its marker and
 * destroys it. Every wait is bounded by time; one line per step with its
 * duration.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"
#include "xl_driver/xl_port.h"

/* Bounds, in seconds: a PV guest prints its marker 20-25 s after create
 * under TCG, a PVH guest 20-50 s; an event comes within the event
 * thread's poll (1 s) plus a scan. */
#define PV_BOOT_BOUND_S 90
#define PVH_BOOT_BOUND_S 120
#define EVENT_BOUND_S 20
#define ALIVE_BOUND_S 20

static int failures;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double t_start, t_step;

static bool check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool check(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (!ok)
        failures++;
    return ok;
}

/* Ends the step that began at t_step: one line with its duration. */
static void step_done(const char *name)
{
    double t = now_s();

    printf("STEP %-28s %6.1fs (at %6.1fs)\n", name, t - t_step, t - t_start);
    fflush(stdout);
    t_step = t;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);

    return v && *v ? v : dflt;
}

/* ---- console logs ------------------------------------------------------ */

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

static int count_in_file(const char *path, const char *needle)
{
    int count = 0;

    for (const char *p = read_log(path); (p = strstr(p, needle));
         p += strlen(needle))
        count++;
    return count;
}

static bool wait_marker(const char *log, const char *marker, int above,
                        int bound_s)
{
    double end = now_s() + bound_s;

    while (now_s() < end) {
        if (count_in_file(log, marker) > above)
            return true;
        usleep(500 * 1000);
    }
    return false;
}

/* The last line of log holding needle, copied into line (empty if none). */
static void last_line(const char *log, const char *needle, char *line,
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

/* ---- the listener ------------------------------------------------------ */

#define MAX_EVENTS 256

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static nxl_event events[MAX_EVENTS];
static size_t n_events;

static void listener(void *opaque, const nxl_event *ev)
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

static size_t events_seen(void)
{
    size_t n;

    pthread_mutex_lock(&ev_lock);
    n = n_events;
    pthread_mutex_unlock(&ev_lock);
    return n;
}

/* Whether uuid's transition arrived at or after index from. */
static bool wait_event(const char *uuid, int transition, size_t from,
                       int bound_s)
{
    double end = now_s() + bound_s;

    while (now_s() < end) {
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

/* ---- the driver and the host ------------------------------------------ */

static int info(nxl_driver *drv, const nxl_instance *inst,
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
    if (i_r)
        *i_r = i;
    return rc ? rc : i.state;
}

/* Waits (bounded) until get_info says state; the last answer in i_r. */
static bool wait_state(nxl_driver *drv, const nxl_instance *inst, int state,
                       int bound_s, nxl_instance_info *i_r)
{
    double end = now_s() + bound_s;

    for (;;) {
        if (info(drv, inst, i_r) == state)
            return true;
        if (now_s() >= end)
            return false;
        usleep(200 * 1000);
    }
}

static bool ok_call(int rc, nxl_error *err, const char *what)
{
    bool ok = check(rc == 0, "%s%s%s", what, rc ? ": " : "",
                    rc ? nxl_error_message(err) : "");

    nxl_error_dispose(err);
    return ok;
}

static size_t dir_entries(const char *dir)
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

static bool is_file(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Domains libxl lists with uuid, through the real port. */
static int domains_with(const char *uuid)
{
    nxl_port *port = NULL;
    nxl_port_dominfo *v = NULL;
    size_t n = 0;
    int k = 0;

    if (nxl__port_libxl_new(&port, NULL) < 0)
        return -1;
    if (port->ops->list(port, &v, &n, NULL) < 0)
        k = -1;
    for (size_t i = 0; k >= 0 && i < n; i++)
        if (strcmp(v[i].uuid, uuid) == 0)
            k++;
    free(v);
    nxl__port_free(port);
    return k;
}

/* Runs "xl VERB NAME" in dom0, out of the driver's sight. */
static bool xl(const char *verb, const char *name)
{
    char cmd[256];
    int r;

    snprintf(cmd, sizeof(cmd), "xl %s %s", verb, name);
    r = system(cmd);
    return check(r == 0, "%s (status %d)", cmd, r);
}

static bool read_request(const char *path, nxl_spawn_req *req, char **doc)
{
    nxl_error err = NXL_ERROR_INIT;
    size_t len;
    bool ok;

    nxl_spawn_req_init(req);
    ok = nxl__read_file_capped(path, NXL_MAX_DOCUMENT_BYTES, doc, &len,
                               &err) == 0 &&
         nxl__spawn_req_from_json(*doc, len, req, &err) == 0;
    check(ok, "read %s%s%s", path, ok ? "" : ": ",
          ok ? "" : nxl_error_message(&err));
    nxl_error_dispose(&err);
    return ok;
}

/* Nothing of inst left: no domain, record, journal, lock, instance dir. */
static void check_nothing_left(nxl_driver *drv, const nxl_instance *inst,
                               const char *instances)
{
    char path[1024];

    check(info(drv, inst, NULL) == NXL_E_NOT_FOUND, "get_info NOT_FOUND");
    check(domains_with(inst->uuid) == 0, "no domain with the UUID");
    snprintf(path, sizeof(path), "%s/.novaxl/journal", instances);
    check(dir_entries(path) == 0, "no journal");
    snprintf(path, sizeof(path), "%s/.novaxl/locks", instances);
    check(dir_entries(path) == 0, "no lock file");
    snprintf(path, sizeof(path), "%s/%s", instances, inst->uuid);
    check(access(path, F_OK) != 0, "no instance directory %s", path);
}

/* The PV instance's life after spawn; false when a later step would make
 * no sense (the caller then destroys it). */
static bool pv_steps(nxl_driver *drv, nxl_spawn_req *req,
                     const char *instances, const char *log,
                     const char *marker)
{
    const nxl_instance *inst = &req->instance;
    nxl_error err = NXL_ERROR_INIT;
    nxl_instance_info i, j;
    char path[1024], line[512];
    int boots, d1, d2, ps;
    size_t mark;

    nxl_instance_info_init(&i);
    nxl_instance_info_init(&j);
    /* suspend */
    if (!ok_call(nxl_instance_suspend(drv, inst, &err), &err, "suspend"))
        return false;
    ps = info(drv, inst, &i);
    check(ps == NXL_POWER_SUSPENDED && i.domid == -1,
          "get_info SUSPENDED, domid %d", i.domid);
    snprintf(path, sizeof(path), "%s/%s/novaxl.save", instances, inst->uuid);
    check(is_file(path), "save image %s", path);
    check(domains_with(inst->uuid) == 0, "no domain with the UUID");
    step_done("suspend");

    /* resume: the same guest goes on (no new boot), its vCPU time grows */
    boots = count_in_file(log, marker);
    if (!ok_call(nxl_instance_resume(drv, inst, NULL, NULL, &err), &err,
                 "resume"))
        return false;
    ps = info(drv, inst, &i);
    check(ps == NXL_POWER_RUNNING && i.domid > 0,
          "get_info RUNNING (domid %d)", i.domid);
    check(!is_file(path), "save image gone");
    {
        double end = now_s() + ALIVE_BOUND_S;
        bool grew = false;

        while (!grew && now_s() < end) {
            usleep(500 * 1000);
            grew = info(drv, inst, &j) == NXL_POWER_RUNNING &&
                   j.cpu_time_ns > i.cpu_time_ns;
        }
        check(grew, "guest alive: vCPU time %.3f s -> %.3f s",
              i.cpu_time_ns / 1e9, j.cpu_time_ns / 1e9);
    }
    check(count_in_file(log, marker) == boots,
          "no new boot (the saved guest went on)");
    step_done("resume");

    /* out-of-band pause and unpause, seen by the event thread */
    mark = events_seen();
    xl("pause", inst->name);
    check(info(drv, inst, NULL) == NXL_POWER_PAUSED, "get_info PAUSED");
    check(wait_event(inst->uuid, NXL_EVENT_PAUSED, mark, EVENT_BOUND_S),
          "paused event from the event thread");
    step_done("xl pause -> paused event");
    mark = events_seen();
    xl("unpause", inst->name);
    check(info(drv, inst, NULL) == NXL_POWER_RUNNING, "get_info RUNNING");
    check(wait_event(inst->uuid, NXL_EVENT_RESUMED, mark, EVENT_BOUND_S),
          "resumed event from the event thread");
    step_done("xl unpause -> resumed event");

    /* soft_delete and restore */
    if (!ok_call(nxl_instance_soft_delete(drv, inst, &err), &err,
                 "soft_delete"))
        return false;
    check(domains_with(inst->uuid) == 0, "no domain with the UUID");
    ps = info(drv, inst, &i);
    check(ps == NXL_POWER_SHUTDOWN && i.domid == -1,
          "get_info SHUTDOWN, no domain");
    step_done("soft_delete");
    if (!ok_call(nxl_instance_restore(drv, inst, &err), &err, "restore"))
        return false;
    ps = info(drv, inst, &i);
    check(ps == NXL_POWER_RUNNING && i.domid > 0,
          "get_info RUNNING (domid %d)", i.domid);
    step_done("restore");

    /* rebuild from the same image */
    d1 = i.domid;
    boots = count_in_file(log, marker);
    if (!ok_call(nxl_instance_rebuild(drv, req, NULL, NULL, false, false,
                                      &err),
                 &err, "rebuild (same image, preserve_ephemeral false)"))
        return false;
    d2 = info(drv, inst, &i) == NXL_POWER_RUNNING ? i.domid : -1;
    check(d2 > 0 && d2 != d1, "get_info RUNNING in a new domain (%d -> %d)",
          d1, d2);
    check(wait_marker(log, marker, boots, PV_BOOT_BOUND_S),
          "rebuilt guest booted (marker)");
    step_done("rebuild + marker");

    /* rescue with the instance's own kernel image as rescue image */
    d1 = d2;
    boots = count_in_file(log, marker);
    if (!ok_call(nxl_instance_rescue(drv, inst, NULL, &req->image_meta, NULL,
                                     &err),
                 &err, "rescue (image nxl-lab-kernel)"))
        return false;
    d2 = info(drv, inst, &i) == NXL_POWER_RUNNING ? i.domid : -1;
    check(d2 > 0 && d2 != d1, "rescue domain RUNNING (%d -> %d)", d1, d2);
    snprintf(path, sizeof(path), "%s/%s/disk.rescue", instances, inst->uuid);
    check(is_file(path), "rescue disk %s", path);
    if (check(wait_marker(log, marker, boots, PV_BOOT_BOUND_S),
              "rescue guest booted (marker)")) {
        /* The guest lists its disks once they are there (10 s at most). */
        double end = now_s() + 15;

        do {
            last_line(log, "NOVAXL-GUEST-DEVS", line, sizeof(line));
            if (strstr(line, "xvdb"))
                break;
            usleep(500 * 1000);
        } while (now_s() < end);
        check(strstr(line, "xvda") && strstr(line, "xvdb"),
              "rescue guest sees the rescue disk and its own: %s", line);
    }
    step_done("rescue + marker");
    d1 = d2;
    if (!ok_call(nxl_instance_unrescue(drv, inst, NULL, &err), &err,
                 "unrescue"))
        return false;
    d2 = info(drv, inst, &i) == NXL_POWER_RUNNING ? i.domid : -1;
    check(d2 > 0 && d2 != d1, "get_info RUNNING in a new domain (%d -> %d)",
          d1, d2);
    check(!is_file(path), "rescue disk gone");
    step_done("unrescue");

    /* out-of-band destroy: halted, and told */
    mark = events_seen();
    xl("destroy", inst->name);
    check(wait_state(drv, inst, NXL_POWER_SHUTDOWN, EVENT_BOUND_S, &i) &&
              i.domid == -1,
          "get_info SHUTDOWN, no domain");
    check(wait_event(inst->uuid, NXL_EVENT_STOPPED, mark, EVENT_BOUND_S),
          "stopped event from the event thread");
    step_done("xl destroy -> stopped event");
    return true;
}

int main(void)
{
    const char *examples = env_or("NXL_LAB_EXAMPLES_DIR", "/novaxl/examples");
    const char *kernel = env_or("NXL_LAB_GUEST_KERNEL",
                                "/var/lib/novaxl/images/guest-kernel");
    const char *initrd = env_or("NXL_LAB_GUEST_INITRD",
                                "/var/lib/novaxl/images/guest-initrd");
    const char *marker = env_or("NXL_LAB_GUEST_MARKER", "NOVAXL-GUEST-UP");
    const char *logdir =
        env_or("NXL_LAB_CONSOLE_LOG_DIR", "/var/log/xen/console");
    char root[] = "/var/tmp/nxl-t22-XXXXXX";
    char path[1024], images[512], instances[512], log[1024];
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    nxl_spawn_req pv, pvh;
    nxl_instance_info i;
    char *doc = NULL, *doc2 = NULL;
    char caps[64] = "";
    int boots, st;
    FILE *f;

    setvbuf(stdout, NULL, _IOLBF, 0);
    f = fopen("/proc/xen/capabilities", "r");
    if (!f || !fgets(caps, sizeof(caps), f) || !strstr(caps, "control_d")) {
        printf("not a Xen dom0: skipping\n");
        if (f)
            fclose(f);
        return 77;
    }
    fclose(f);
    t_start = t_step = now_s();
    nxl_instance_info_init(&i);

    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", examples);
    if (!read_request(path, &pv, &doc))
        return 1;
    snprintf(path, sizeof(path), "%s/pvh-direct-kernel.json", examples);
    if (!read_request(path, &pvh, &doc2))
        return 1;

    /* A private image cache and instances dir, so the test leaves the
     * host's alone and can check for leftovers exactly. Both examples use
     * the same image ids. */
    if (!check(mkdtemp(root) != NULL, "temporary root %s", root))
        return 1;
    snprintf(images, sizeof(images), "%s/images", root);
    snprintf(instances, sizeof(instances), "%s/instances", root);
    mkdir(images, 0700);
    snprintf(path, sizeof(path), "%s/%s", images, pv.instance.kernel_id);
    check(symlink(kernel, path) == 0, "image %s -> %s", path, kernel);
    snprintf(path, sizeof(path), "%s/%s", images, pv.instance.ramdisk_id);
    check(symlink(initrd, path) == 0, "image %s -> %s", path, initrd);

    cfg.instances_dir = instances;
    cfg.image_cache_dir = images;
    cfg.console_log_dir = logdir;
    if (!ok_call(nxl_driver_open("libxl", &cfg, &drv, &err), &err,
                 "nxl_driver_open") ||
        !ok_call(nxl_driver_register_event_listener(drv, listener, NULL,
                                                    &err),
                 &err, "register_event_listener") ||
        !ok_call(nxl_host_init(drv, "lab", &err), &err, "init_host"))
        return 1;
    step_done("setup");

    /* The PV guest. */
    snprintf(log, sizeof(log), "%s/guest-%s.log", logdir, pv.instance.name);
    boots = count_in_file(log, marker);
    if (ok_call(nxl_instance_spawn(drv, &pv, &err), &err, "spawn PV")) {
        check(wait_marker(log, marker, boots, PV_BOOT_BOUND_S),
              "guest marker %s in %s", marker, log);
        st = info(drv, &pv.instance, &i);
        check(st == NXL_POWER_RUNNING, "get_info RUNNING (domid %d)",
              i.domid);
        step_done("spawn PV + marker");
        pv_steps(drv, &pv, instances, log, marker);
    }
    ok_call(nxl_instance_destroy(drv, &pv.instance, NULL, NULL, true, NULL,
                                 &err),
            &err, "destroy PV");
    check_nothing_left(drv, &pv.instance, instances);
    step_done("destroy PV");

    /* The PVH guest. */
    snprintf(log, sizeof(log), "%s/guest-%s.log", logdir, pvh.instance.name);
    boots = count_in_file(log, marker);
    if (ok_call(nxl_instance_spawn(drv, &pvh, &err), &err, "spawn PVH")) {
        st = info(drv, &pvh.instance, &i);
        check(st == NXL_POWER_RUNNING, "get_info RUNNING (domid %d)",
              i.domid);
        check(wait_marker(log, marker, boots, PVH_BOOT_BOUND_S),
              "guest marker %s in %s", marker, log);
        step_done("spawn PVH + marker");
    }
    ok_call(nxl_instance_destroy(drv, &pvh.instance, NULL, NULL, true, NULL,
                                 &err),
            &err, "destroy PVH");
    check_nothing_left(drv, &pvh.instance, instances);
    check(dir_entries(instances) == 1, "only the store's own dir left");
    step_done("destroy PVH");

    ok_call(nxl_driver_register_event_listener(drv, NULL, NULL, &err), &err,
            "unregister the listener");
    ok_call(nxl_host_cleanup(drv, "lab", &err), &err, "cleanup_host");
    nxl_driver_close(drv);
    nxl_spawn_req_dispose(&pv);
    nxl_spawn_req_dispose(&pvh);
    free(doc);
    free(doc2);
    printf("%s: %d failure(s) in %.1fs\n", failures ? "FAIL" : "PASS",
           failures, now_s() - t_start);
    return failures ? 1 : 0;
}

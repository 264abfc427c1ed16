/* Lab test: kill at every step on real Xen (exit 0 pass, 1 fail, 77 skip
 * off dom0). This file runs spawn; t25-crash-suspend.c and
 * t26-crash-rebuild.c include it with CRASH_OP set to run the others (one
 * program each: every one of them needs most of the per-test bound under
 * TCG, where each domain create costs ~10 s).
 *
 * For crash point k = 1, 2, ... a child process opens the driver, arms
 * the driver's crash hook (nxl__xl_driver_crash_after: the k-th crash
 * point, right before or after a durable step, stops the operation dead)
 * and runs the operation; at the crash it _exits at once, with its libxl
 * context, lock and files as they are, as a killed nova-compute would.
 * The parent then opens a fresh driver, whose init_host reconciles, and
 * checks:
 *   - a well-defined state (RUNNING, SHUTDOWN, SUSPENDED, or no instance),
 *     the one the operation's journal rules give for that point;
 *   - a domain with the UUID exactly when the state is RUNNING;
 *   - a save image exactly when SUSPENDED;
 *   - no journal; no lock file once the instance is gone;
 *   - nothing stray in the instance directory (temporaries, .rebuild
 *     disks, a pending record, a half-written save image, and no
 *     directory at all once the instance is gone);
 *   - no xenstore node of a dead domain: every domid under /local/domain,
 *     /libxl and dom0's backend directories is a live domain, and /vm has
 *     an entry for the UUID only while its domain lives.
 * until the operation completes without reaching k.
 *
 * Points covered here: spawn all of them (those before the domain create
 * cost a driver open each, those after a create each). suspend: the
 * points around the save, the rename and the destroy, each on a booted
 * guest (a save needs the guest's cooperation), not those in between
 * journal writes that touch no hypervisor state (tests/test_lifecycle.c
 * covers every point of every operation against the fake port). rebuild:
 * all of them, of an instance without a NIC (see main).
 */
#include "config.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "novaxl/nxl.h"
#include "tests/lab/src/labutil.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_port.h"

#define CRASH_SPAWN 1
#define CRASH_SUSPEND 2
#define CRASH_REBUILD 3
#ifndef CRASH_OP
#define CRASH_OP CRASH_SPAWN
#define CRASH_NAME "t24"
#endif

#define BOOT_BOUND_S 90
/* Where a loop gives up: far more points than any operation has. */
#define MAX_POINTS 40

/* The child's exit status when it stopped at the crash point. */
#define EXIT_CRASHED 10

typedef struct lab {
    nxl_lab_env env;
    char root[512], images[512], instances[512], log[1024];
    nxl_spawn_req req;     /* the instance */
    nxl_spawn_req rebuild; /* rebuild's request: another image */
} lab;

/* A driver without the event thread (the parent's checks and the child's
 * operation need none, and a fork is simpler without threads). */
static nxl_driver *open_driver(const lab *l, bool quiet)
{
    nxl_driver_config cfg = NXL_DRIVER_CONFIG_INIT;
    nxl_error err = NXL_ERROR_INIT;
    nxl_driver *drv = NULL;
    int rc;

    cfg.instances_dir = l->instances;
    cfg.image_cache_dir = l->images;
    cfg.console_log_dir = l->env.logdir;
    rc = nxl_driver_open("libxl", &cfg, &drv, &err);
    if (rc == 0) {
        nxl__xl_driver_set_event_poll(drv, 0);
        rc = nxl_host_init(drv, "lab", &err);
    }
    if (rc || !quiet)
        nxl_lab_check(rc == 0, "open + init_host%s%s", rc ? ": " : "",
                      rc ? nxl_error_message(&err) : "");
    nxl_error_dispose(&err);
    if (rc) {
        nxl_driver_close(drv);
        return NULL;
    }
    return drv;
}

static void close_driver(nxl_driver *drv)
{
    nxl_host_cleanup(drv, "lab", NULL);
    nxl_driver_close(drv);
}

static int run_op(nxl_driver *drv, const lab *l, nxl_error *err)
{
    switch (CRASH_OP) {
    case CRASH_SUSPEND:
        return nxl_instance_suspend(drv, &l->req.instance, err);
    case CRASH_REBUILD:
        return nxl_instance_rebuild(drv, &l->rebuild, NULL, NULL, false, true,
                                    err);
    default:
        return nxl_instance_spawn(drv, &l->req, err);
    }
}

/* Runs the operation in a child that dies at crash point k. Returns 1 when
 * it crashed, 0 when the operation completed, -1 when it failed, 2 when
 * it died of a fatal signal instead (an unplanned crash; its backtrace is
 * in the log). */
static int crash_child(const lab *l, unsigned k)
{
    pid_t pid;
    int status;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        nxl_error err = NXL_ERROR_INIT;
        nxl_driver *drv = open_driver(l, true);
        int rc;

        if (!drv)
            _exit(2);
        nxl__xl_driver_crash_after(drv, k);
        rc = run_op(drv, l, &err);
        if (nxl__xl_driver_crashed(drv)) {
            fflush(stdout);
            _exit(EXIT_CRASHED); /* killed here: nothing closed or undone */
        }
        if (rc)
            printf("  child: %s\n", nxl_error_message(&err));
        fflush(stdout);
        _exit(rc ? 1 : 0);
    }
    if (waitpid(pid, &status, 0) != pid) {
        printf("  child: waitpid failed\n");
        return -1;
    }
    /* Say how a child that neither crashed on purpose nor completed
     * ended: a lab run is the only place this is seen. */
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);

        printf("  child: killed by signal %d at k=%u\n", sig, k);
        return sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS ? 2 : -1;
    }
    if (!WIFEXITED(status))
        return -1;
    if (WEXITSTATUS(status) == EXIT_CRASHED)
        return 1;
    if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)
        printf("  child: exit status %d at k=%u (2: it could not open the "
               "driver)\n",
               WEXITSTATUS(status), k);
    return WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- leftovers -------------------------------------------------------------
 */

/* The names under path in dom0's xenstore (none when it has none). */
static size_t xs_list(const char *path, char names[][64], size_t max)
{
    struct xs_handle *xs = xs_open(0);
    unsigned num = 0;
    char **v = xs ? xs_directory(xs, XBT_NULL, path, &num) : NULL;
    size_t n = 0;

    for (unsigned i = 0; v && i < num && n < max; i++)
        snprintf(names[n++], 64, "%.63s", v[i]);
    free(v);
    if (xs)
        xs_close(xs);
    return n;
}

/* The live domains' ids, from one libxl list (an `xl` per domid costs
 * seconds under TCG). */
static size_t live_domids(uint32_t *v, size_t max)
{
    nxl_port *port = NULL;
    nxl_port_dominfo *d = NULL;
    size_t n = 0, k = 0;

    if (nxl__port_libxl_new(&port, NULL) < 0)
        return 0;
    if (port->ops->list(port, &d, &n, NULL) == 0)
        for (size_t i = 0; i < n && k < max; i++)
            v[k++] = d[i].domid;
    free(d);
    nxl__port_free(port);
    return k;
}

/* Every domid named under path is a live one. */
static bool xs_domids_alive(const char *path, const uint32_t *live,
                            size_t n_live, char *bad, size_t size)
{
    char names[256][64];
    size_t n = xs_list(path, names, 256);

    for (size_t i = 0; i < n; i++) {
        char *end;
        unsigned long d = strtoul(names[i], &end, 10);
        bool alive = *end != '\0';

        for (size_t j = 0; j < n_live && !alive; j++)
            alive = live[j] == d;
        if (alive)
            continue;
        snprintf(bad, size, "%s/%s", path, names[i]);
        return false;
    }
    return true;
}

static void check_xenstore(const char *uuid, bool domain)
{
    static const char *const dirs[] = {"/local/domain",
                                       "/libxl",
                                       "/local/domain/0/backend/vbd",
                                       "/local/domain/0/backend/qdisk",
                                       "/local/domain/0/backend/vif",
                                       "/local/domain/0/backend/console"};
    char names[256][64], bad[256] = "";
    uint32_t live[256];
    size_t n, vm = 0, n_live = live_domids(live, 256);
    bool ok = n_live > 0;

    for (size_t i = 0; ok && i < sizeof(dirs) / sizeof(dirs[0]); i++)
        ok = xs_domids_alive(dirs[i], live, n_live, bad, sizeof(bad));
    nxl_lab_check(ok, "xenstore: no node of a dead domain%s%s", ok ? "" : ": ",
                  bad);
    /* libxl names a domain's /vm entry by its UUID (with a suffix when a
     * second domain shares it). */
    n = xs_list("/vm", names, 256);
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], uuid, strlen(uuid)) == 0)
            vm++;
    nxl_lab_check(vm == (domain ? 1u : 0u),
                  "xenstore: %zu /vm entr%s for "
                  "the UUID (want %d)",
                  vm, vm == 1 ? "y" : "ies", domain ? 1 : 0);
}

/* Files in the instance directory other than these are stray. */
static bool allowed_file(const char *name, int state)
{
    return strcmp(name, "novaxl.json") == 0 || strcmp(name, "disk") == 0 ||
           strcmp(name, "disk.swap") == 0 ||
           (strncmp(name, "disk.eph", 8) == 0 && !strchr(name + 8, '.')) ||
           (state == NXL_POWER_SUSPENDED &&
            strcmp(name, NXL_XL_SAVE_FILE) == 0);
}

/* What init_host left: judged as in the header. Returns the state (or
 * NXL_E_NOT_FOUND). */
static int check_after(nxl_driver *drv, const lab *l, unsigned k)
{
    const nxl_instance *inst = &l->req.instance;
    char path[1024], stray[256] = "";
    int st = nxl_lab_info(drv, inst, NULL), domains;
    bool well = st == NXL_POWER_RUNNING || st == NXL_POWER_SHUTDOWN ||
                st == NXL_POWER_SUSPENDED || st == NXL_E_NOT_FOUND;
    DIR *d;
    struct dirent *e;

    nxl_lab_check(well, "crash at %u: state %s", k,
                  st >= 0 ? nxl_power_state_name(st) : "no instance");
    domains = nxl_lab_domains_with(inst->uuid);
    nxl_lab_check(domains == (st == NXL_POWER_RUNNING ? 1 : 0),
                  "%d domain(s) with the UUID", domains);
    snprintf(path, sizeof(path), "%s/.novaxl/journal", l->instances);
    nxl_lab_check(nxl_lab_dir_entries(path) == 0, "no journal");
    snprintf(path, sizeof(path), "%s/%s/%s", l->instances, inst->uuid,
             NXL_XL_SAVE_FILE);
    nxl_lab_check(nxl_lab_is_file(path) == (st == NXL_POWER_SUSPENDED),
                  "save image %s", nxl_lab_is_file(path) ? "there" : "none");
    snprintf(path, sizeof(path), "%s/%s", l->instances, inst->uuid);
    if (st == NXL_E_NOT_FOUND) {
        nxl_lab_check(access(path, F_OK) != 0, "no instance directory");
        snprintf(path, sizeof(path), "%s/.novaxl/locks", l->instances);
        nxl_lab_check(nxl_lab_dir_entries(path) == 0, "no lock file");
    } else if ((d = opendir(path))) {
        while ((e = readdir(d)))
            if (e->d_name[0] != '.' && !allowed_file(e->d_name, st))
                snprintf(stray, sizeof(stray), "%s", e->d_name);
        closedir(d);
        nxl_lab_check(!stray[0], "nothing stray in the instance directory%s%s",
                      stray[0] ? ": " : "", stray);
    }
    check_xenstore(inst->uuid, domains > 0);
    return st;
}

/* ---- the operations ------------------------------------------------------ */

static bool ok(int rc, nxl_error *err, const char *what)
{
    return nxl_lab_ok_call(rc, err, what);
}

/* Brings the instance to where the operation starts: none for spawn;
 * RUNNING and booted for suspend; RUNNING for rebuild. */
static bool prepare(nxl_driver *drv, const lab *l, int st)
{
    const nxl_instance *inst = &l->req.instance;
    nxl_error err = NXL_ERROR_INIT;
    int boots = nxl_lab_count_in_file(l->log, l->env.marker);

    switch (CRASH_OP) {
    case CRASH_SPAWN:
        return st == NXL_E_NOT_FOUND ||
               ok(nxl_instance_destroy(drv, inst, NULL, NULL, true, NULL, &err),
                  &err, "destroy");
    case CRASH_SUSPEND:
        if (st == NXL_POWER_RUNNING)
            return true;
        if (st == NXL_POWER_SUSPENDED)
            /* The same guest goes on from its image: no boot to wait for. */
            return ok(nxl_instance_resume(drv, inst, NULL, NULL, &err), &err,
                      "resume");
        if (st == NXL_E_NOT_FOUND &&
            !ok(nxl_instance_spawn(drv, &l->req, &err), &err, "spawn"))
            return false;
        if (st == NXL_POWER_SHUTDOWN &&
            !ok(nxl_instance_power_on(drv, inst, NULL, NULL, &err), &err,
                "power_on"))
            return false;
        return nxl_lab_check(
            nxl_lab_wait_marker(l->log, l->env.marker, boots, BOOT_BOUND_S),
            "guest booted (a save needs its cooperation)");
    default:
        if (st == NXL_E_NOT_FOUND)
            return ok(nxl_instance_spawn(drv, &l->req, &err), &err, "spawn");
        return true;
    }
}

/* Whether the instance is not where the operation starts (see prepare). */
static bool needs_prepare(int st)
{
    switch (CRASH_OP) {
    case CRASH_SPAWN:
        return st != NXL_E_NOT_FOUND;
    case CRASH_SUSPEND:
        return st != NXL_POWER_RUNNING;
    default:
        return st == NXL_E_NOT_FOUND;
    }
}

/* The points run: every one, or for suspend those that change what the
 * hypervisor or the save image holds (see the header); 0 ends the list
 * with a run that must complete. */
static unsigned next_point(unsigned k)
{
    if (CRASH_OP == CRASH_SUSPEND) {
        /* 1 at the begin (nothing journaled: RUNNING); 4 right before
         * the save (RUNNING); 5 right after it, before "written" (the
         * guest suspended itself, the image is partial: SHUTDOWN); 7
         * after the rename (the image is whole, the domain still there:
         * SUSPENDED); 11 after the destroy and the record, before the
         * journal goes (SUSPENDED). Not the journal writes in between,
         * which meet the same hypervisor states (8-10 as 7 and 11), to
         * stay within the per-test bound: each point past the save costs
         * a save and a resume, or a boot. */
        static const unsigned pts[] = {1, 4, 5, 7, 11, MAX_POINTS};

        for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
            if (pts[i] > k)
                return pts[i];
        return 0;
    }
    return k + 1 < MAX_POINTS ? k + 1 : MAX_POINTS;
}

/* A second raw root image for rebuild: the lab initramfs's bytes do
 * (rebuild copies it in; the guest boots its kernel directly). */
static bool add_image(const lab *l, const char *id, const char *src)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", l->images, id);
    return nxl_lab_check(symlink(src, path) == 0, "image %s -> %s", path, src);
}

int main(void)
{
    char path[1024];
    char *doc = NULL, *doc2 = NULL;
    unsigned k, crashes = 0;
    bool died = false;
    nxl_driver *drv;
    lab l;
    int st = NXL_E_NOT_FOUND, r = 0;

    if (!nxl_lab_is_dom0())
        return 77;
    nxl_lab_start();
    memset(&l, 0, sizeof(l));
    nxl_lab_env_load(&l.env);
    snprintf(path, sizeof(path), "%s/pv-direct-kernel.json", l.env.examples);
    if (!nxl_lab_read_request(path, &l.req, &doc) ||
        !nxl_lab_read_request(path, &l.rebuild, &doc2) ||
        !nxl_lab_make_root(CRASH_NAME, &l.env, &l.req.instance, l.root,
                           l.images, l.instances))
        return 1;
    /* rebuild: onto another image id, a raw root disk image (copied in),
     * keeping the kernel for the boot. */
    add_image(&l, "nxl-lab-rootfs", l.env.initrd);
    free(l.rebuild.instance.image_ref);
    free(l.rebuild.image_meta.id);
    free(l.rebuild.image_meta.disk_format);
    l.rebuild.instance.image_ref = strdup("nxl-lab-rootfs");
    l.rebuild.image_meta.id = strdup("nxl-lab-rootfs");
    l.rebuild.image_meta.disk_format = strdup("raw");
    if (CRASH_OP == CRASH_REBUILD) {
        /* Without its NIC: rebuild journals nothing of it, spawn's run
         * covers the vif's cleanup, and its hotplug scripts would add
         * ~10 s to each of the points past a create. */
        nxl_network_info_dispose(&l.req.network_info);
        nxl_network_info_dispose(&l.rebuild.network_info);
        nxl_network_info_init(&l.req.network_info);
        nxl_network_info_init(&l.rebuild.network_info);
    }
    snprintf(l.log, sizeof(l.log), "%s/guest-%s.log", l.env.logdir,
             l.req.instance.name);
    nxl_lab_step_done("setup");

    for (k = next_point(0); k;) {
        char step[64];

        if (needs_prepare(st)) {
            bool ready;

            if (!(drv = open_driver(&l, true)))
                break;
            ready = prepare(drv, &l, st);
            close_driver(drv);
            if (!ready)
                break;
        }
        r = crash_child(&l, k);
        if (!(drv = open_driver(&l, true)))
            break;
        st = check_after(drv, &l, k);
        close_driver(drv);
        snprintf(step, sizeof(step), "%s k=%u",
                 r == 1   ? "crash at"
                 : r == 2 ? "died at"
                          : "done",
                 k);
        nxl_lab_step_done(step);
        if (r == 2 && !died) {
            /* A death the test did not plan is one more crash, and
             * check_after has just shown init_host reconciling it; the
             * planned point was not reached, so it runs once more. Twice
             * is a failure. */
            printf("  the child died of a signal before crash point %u "
                   "(reconciled above); crash point %u once more\n",
                   k, k);
            died = true;
            continue;
        }
        died = false;
        if (r != 1)
            break;
        crashes++;
        if (CRASH_OP == CRASH_SPAWN)
            /* A spawn that did not return success leaves nothing. */
            nxl_lab_check(st == NXL_E_NOT_FOUND,
                          "crashed spawn rolled back: no instance");
        k = next_point(k);
    }
    nxl_lab_check(r == 0,
                  "the operation completed without a crash after "
                  "%u crash points",
                  crashes);
    if (CRASH_OP == CRASH_SPAWN)
        nxl_lab_check(crashes >= 10, "spawn has at least 10 crash points");
    if ((drv = open_driver(&l, false))) {
        nxl_error err = NXL_ERROR_INIT;
        int want = CRASH_OP == CRASH_SUSPEND   ? NXL_POWER_SUSPENDED
                   : CRASH_OP == CRASH_REBUILD ? NXL_POWER_RUNNING
                                               : NXL_POWER_RUNNING;

        nxl_lab_check(nxl_lab_info(drv, &l.req.instance, NULL) == want,
                      "after the operation completed: %s",
                      nxl_power_state_name(want));
        nxl_lab_ok_call(nxl_instance_destroy(drv, &l.req.instance, NULL, NULL,
                                             true, NULL, &err),
                        &err, "destroy");
        nxl_lab_check_nothing_left(drv, &l.req.instance, l.instances);
        check_xenstore(l.req.instance.uuid, false);
        close_driver(drv);
    }
    nxl_spawn_req_dispose(&l.req);
    nxl_spawn_req_dispose(&l.rebuild);
    free(doc);
    free(doc2);
    return nxl_lab_finish();
}

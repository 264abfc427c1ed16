/* The lifecycle contract suite (see suite.h): the cases, the checks they
 * count, and the event log they read. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "novaxl/nxl.h"
#include "tests/contract/suite.h"

/* Events kept per case: far more than any case causes. */
#define EV_MAX 256

typedef struct contract {
    const nxl_contract_target *t;
    const nxl_spawn_req *req;
    nxl_instance inst; /* req's instance, by UUID */
    nxl_driver *drv;
    unsigned failures;
    /* The listener's log of the instance's transitions, in order; the
     * driver calls the listener from its own threads. */
    pthread_mutex_t ev_lock;
    int ev[EV_MAX];
    size_t n_ev;
    size_t ev_read; /* what the last expect_events consumed */
} contract;

/* ---- checks ---- */

static bool check_at(contract *c, bool ok, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool check_at(contract *c, bool ok, int line, const char *fmt, ...)
{
    va_list ap;

    printf("  %s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok) {
        printf(" (suite.c:%d, %s)", line, c->t->name);
        c->failures++;
    }
    putchar('\n');
    fflush(stdout);
    return ok;
}

#define CHECK(c, ok, ...) check_at((c), (ok), __LINE__, __VA_ARGS__)

/* The call returned want; on a mismatch the error's message is shown. */
#define CHECK_RC(c, call, want, what)                                          \
    do {                                                                       \
        nxl_error e_ = NXL_ERROR_INIT;                                         \
        int rc_ = (call);                                                      \
        CHECK((c), rc_ == (want), "%s: %s%s%s", (what),                        \
              nxl_error_code_name(want), rc_ == (want) ? "" : ", got: ",       \
              rc_ == (want) ? "" : nxl_error_message(&e_));                    \
        nxl_error_dispose(&e_);                                                \
    } while (0)

#define CHECK_OK(c, call, what) CHECK_RC(c, call, 0, what)

/* ---- the event log ---- */

static void listener(void *opaque, const nxl_event *ev)
{
    contract *c = opaque;

    if (strcmp(ev->uuid, c->inst.uuid) != 0)
        return;
    pthread_mutex_lock(&c->ev_lock);
    if (c->n_ev < EV_MAX)
        c->ev[c->n_ev++] = ev->transition;
    pthread_mutex_unlock(&c->ev_lock);
}

/* The names of the transitions from index from on, space-separated. */
static size_t ev_names(contract *c, size_t from, char *buf, size_t size)
{
    size_t n;

    buf[0] = '\0';
    pthread_mutex_lock(&c->ev_lock);
    n = c->n_ev;
    for (size_t i = from; i < n; i++) {
        size_t used = strlen(buf);

        snprintf(buf + used, size - used, "%s%s", used ? " " : "",
                 nxl_event_transition_name(c->ev[i]));
    }
    pthread_mutex_unlock(&c->ev_lock);
    return n;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether got is one of want's alternatives (separated by '|'). */
static bool events_match(const char *want, const char *got)
{
    size_t len = strlen(got);

    for (const char *alt = want;; alt++) {
        const char *bar = strchr(alt, '|');
        size_t n = bar ? (size_t)(bar - alt) : strlen(alt);

        if (n == len && strncmp(alt, got, n) == 0)
            return true;
        if (!bar)
            return false;
        alt = bar;
    }
}

/* Exactly `want` (names, space-separated; "" for none; alternatives
 * separated by '|') reached the listener since the last call: waited for
 * until the bound while fewer than the shortest alternative have arrived,
 * and for a moment more so that one too many is seen. */
static void expect_events(contract *c, const char *want, int bound_s,
                          const char *after)
{
    char got[1024];
    size_t words = 0, least = (size_t)-1, n;
    double end = now_s() + bound_s;

    for (const char *p = want;; p++) {
        if (*p == '|' || !*p) {
            least = words < least ? words : least;
            words = 0;
            if (!*p)
                break;
            continue;
        }
        words += (p == want || p[-1] == ' ' || p[-1] == '|') && *p != ' ';
    }
    words = least;
    for (;;) {
        n = ev_names(c, c->ev_read, got, sizeof(got));
        if (n - c->ev_read >= words || now_s() >= end)
            break;
        usleep(20 * 1000);
    }
    /* Long enough for a duplicate of the driver's own report (from its
     * event thread) to show up, short against the cases' run time. */
    usleep(200 * 1000);
    n = ev_names(c, c->ev_read, got, sizeof(got));
    CHECK(c, events_match(want, got), "events after %s: [%s] (got [%s])", after,
          want, got);
    c->ev_read = n;
}

/* ---- the instance ---- */

/* get_info's power state (or its negative error); the domid in *domid_r
 * (-1 when there is none). */
static int state(contract *c, int *domid_r)
{
    nxl_instance_info info;
    int rc;

    nxl_instance_info_init(&info);
    rc = nxl_instance_get_info(c->drv, &c->inst, &info, NULL);
    if (domid_r)
        *domid_r = rc == 0 ? info.domid : -1;
    return rc ? rc : info.state;
}

static const char *state_name(int s)
{
    switch (s) {
    case NXL_POWER_RUNNING:
        return "RUNNING";
    case NXL_POWER_PAUSED:
        return "PAUSED";
    case NXL_POWER_SHUTDOWN:
        return "SHUTDOWN";
    case NXL_POWER_CRASHED:
        return "CRASHED";
    case NXL_POWER_SUSPENDED:
        return "SUSPENDED";
    default:
        return s < 0 ? nxl_error_code_name(s) : "NOSTATE";
    }
}

static void expect_state(contract *c, int want, const char *after)
{
    int s = state(c, NULL);

    CHECK(c, s == want, "get_info after %s: %s (got %s)", after,
          state_name(want), state_name(s));
}

static int domains(contract *c)
{
    return c->t->domains_with(c->t->opaque, c->inst.uuid);
}

static bool file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static int power_off(contract *c, nxl_error *err)
{
    /* timeout 0: destroyed at once, whatever the guest does, so the
     * suite does not depend on the guest's shutdown handling. */
    return nxl_instance_power_off(c->drv, &c->inst, 0, 1, err);
}

static int power_on(contract *c, nxl_error *err)
{
    return nxl_instance_power_on(c->drv, &c->inst, NULL, NULL, err);
}

static int reboot_hard(contract *c, nxl_error *err)
{
    return nxl_instance_reboot(c->drv, &c->inst, NULL, NXL_REBOOT_HARD, NULL,
                               NULL, NULL, err);
}

static int destroy(contract *c, nxl_error *err)
{
    return nxl_instance_destroy(c->drv, &c->inst, NULL, NULL, true, NULL, err);
}

static void expect_boot(contract *c, int above, const char *after)
{
    CHECK(c, c->t->wait_boot(c->t->opaque, &c->inst, above),
          "the guest boots after %s", after);
}

/* A new driver, as after a restart of the compute service. */
static bool reopen(contract *c)
{
    nxl_error err = NXL_ERROR_INIT;
    bool ok;

    /* A clean stop of the one before, when there is one. */
    if (c->drv)
        CHECK_OK(c, nxl_host_cleanup(c->drv, c->t->host, &e_), "cleanup_host");
    nxl_driver_close(c->drv);
    c->drv = NULL;
    ok = CHECK(c, c->t->open(c->t->opaque, listener, c, &c->drv, &err) == 0,
               "open the driver and init_host%s%s", err.code ? ": " : "",
               err.code ? nxl_error_message(&err) : "");
    nxl_error_dispose(&err);
    return ok;
}

/* Nothing of the instance is left: unknown to the driver, no domain, and
 * nothing under instances_dir of it (its directory, its journal and lock,
 * xl_driver/xl_store.h's layout). */
static void expect_nothing_left(contract *c, const char *after)
{
    const char *dir = c->t->instances_dir, *uuid = c->inst.uuid;
    char path[4096];
    bool b = true, ok;
    size_t n = 0;

    expect_state(c, NXL_E_NOT_FOUND, after);
    CHECK(c, domains(c) == 0, "no domain with the UUID after %s", after);
    snprintf(path, sizeof(path), "%s/%s", dir, uuid);
    CHECK(c, !file_exists(path), "no instance directory after %s", after);
    snprintf(path, sizeof(path), "%s/.novaxl/journal/%s.json", dir, uuid);
    CHECK(c, !file_exists(path), "no journal after %s", after);
    snprintf(path, sizeof(path), "%s/.novaxl/locks/%s.lock", dir, uuid);
    CHECK(c, !file_exists(path), "no lock file after %s", after);
    CHECK(c, nxl_instance_exists(c->drv, &c->inst, &b, NULL) == 0 && !b,
          "instance_exists false after %s", after);
    /* Called before the check: its message shows what the call said. */
    ok = nxl_host_get_num_instances(c->drv, &n, NULL) == 0;
    CHECK(c, ok && n == 0, "get_num_instances 0 after %s (%zu)", after, n);
}

static bool strv_has(const nxl_strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}

/* The instance is listed (name and UUID), counted as the only one, and
 * exists on this host. */
static void expect_listed(contract *c, const char *after)
{
    nxl_strv names, uuids;
    size_t n = 0;
    bool b = false, ok;

    nxl_strv_init(&names);
    nxl_strv_init(&uuids);
    /* The calls come before the checks: their messages show what the
     * calls said. */
    ok = nxl_host_list_instances(c->drv, &names, NULL) == 0;
    CHECK(c, ok && names.n == 1 && strv_has(&names, c->req->instance.name),
          "list_instances is [%s] after %s (%zu names)", c->req->instance.name,
          after, names.n);
    ok = nxl_host_list_instance_uuids(c->drv, &uuids, NULL) == 0;
    CHECK(c, ok && uuids.n == 1 && strv_has(&uuids, c->inst.uuid),
          "list_instance_uuids is [%s] after %s (%zu UUIDs)", c->inst.uuid,
          after, uuids.n);
    ok = nxl_host_get_num_instances(c->drv, &n, NULL) == 0;
    CHECK(c, ok && n == 1, "get_num_instances 1 after %s (%zu)", after, n);
    CHECK(c, nxl_instance_exists(c->drv, &c->inst, &b, NULL) == 0 && b,
          "instance_exists after %s", after);
    b = false;
    CHECK(c, nxl_instance_on_disk(c->drv, &c->inst, &b, NULL) == 0 && b,
          "instance_on_disk after %s", after);
    nxl_strv_dispose(&names);
    nxl_strv_dispose(&uuids);
}

/* spawn, checked: RUNNING with a domain, `started` told. */
static bool spawn(contract *c)
{
    nxl_error err = NXL_ERROR_INIT;
    int rc = nxl_instance_spawn(c->drv, c->req, &err);

    CHECK(c, rc == 0, "spawn%s%s", rc ? ": " : "",
          rc ? nxl_error_message(&err) : "");
    nxl_error_dispose(&err);
    if (rc)
        return false;
    expect_state(c, NXL_POWER_RUNNING, "spawn");
    CHECK(c, domains(c) == 1, "one domain with the UUID after spawn");
    expect_events(c, "started", 5, "spawn");
    return true;
}

/* ---- the cases ---- */

/* spawn, inventory, pause/unpause, power_off/power_on, HARD reboot,
 * trigger_crash_dump, destroy: each from the states the contract allows,
 * each refused from the others, each told to the listener once. */
static void case_lifecycle(contract *c)
{
    int boots = c->t->boots(c->t->opaque, &c->inst), d0 = -1, d1 = -1;
    bool deleted = false;

    if (!spawn(c))
        return;
    expect_boot(c, boots, "spawn");
    boots = c->t->boots(c->t->opaque, &c->inst);
    expect_listed(c, "spawn");

    CHECK_RC(c, nxl_instance_unpause(c->drv, &c->inst, &e_),
             NXL_E_INVALID_STATE, "unpause of a running instance");
    CHECK_RC(c, nxl_instance_resume(c->drv, &c->inst, NULL, NULL, &e_),
             NXL_E_INVALID_STATE, "resume of a running instance");
    CHECK_RC(c, nxl_instance_restore(c->drv, &c->inst, &e_),
             NXL_E_INVALID_STATE, "restore of an instance not soft-deleted");
    CHECK_RC(c, nxl_instance_unrescue(c->drv, &c->inst, NULL, &e_),
             NXL_E_INVALID_STATE, "unrescue of an instance not rescued");
    CHECK_RC(c, nxl_instance_delete_files(c->drv, &c->inst, &deleted, &e_),
             NXL_E_INVALID_STATE, "delete_instance_files of a live instance");
    expect_events(c, "", 0, "refused calls");

    CHECK_OK(c, nxl_instance_pause(c->drv, &c->inst, &e_), "pause");
    expect_state(c, NXL_POWER_PAUSED, "pause");
    expect_events(c, "paused", 5, "pause");
    CHECK_RC(c, nxl_instance_pause(c->drv, &c->inst, &e_), NXL_E_INVALID_STATE,
             "pause of a paused instance");
    CHECK_OK(c, nxl_instance_unpause(c->drv, &c->inst, &e_), "unpause");
    expect_state(c, NXL_POWER_RUNNING, "unpause");
    expect_events(c, "resumed", 5, "unpause");

    state(c, &d0);
    CHECK_OK(c, power_off(c, &e_), "power_off");
    CHECK(c, state(c, &d1) == NXL_POWER_SHUTDOWN && d1 == -1,
          "SHUTDOWN without a domain after power_off (domid %d)", d1);
    CHECK(c, domains(c) == 0, "no domain after power_off");
    expect_events(c, "stopped", 5, "power_off");
    CHECK_OK(c, power_off(c, &e_), "power_off of a stopped instance");
    CHECK_RC(c, nxl_instance_pause(c->drv, &c->inst, &e_), NXL_E_INVALID_STATE,
             "pause of a stopped instance");
    CHECK_RC(c, nxl_instance_suspend(c->drv, &c->inst, &e_),
             NXL_E_INVALID_STATE, "suspend of a stopped instance");
    CHECK_RC(c, nxl_instance_trigger_crash_dump(c->drv, &c->inst, &e_),
             NXL_E_NOT_RUNNING, "trigger_crash_dump of a stopped instance");
    expect_events(c, "", 0, "calls on a stopped instance");
    expect_listed(c, "power_off");

    CHECK_OK(c, power_on(c, &e_), "power_on");
    expect_state(c, NXL_POWER_RUNNING, "power_on");
    expect_events(c, "started", 5, "power_on");
    expect_boot(c, boots, "power_on");
    boots = c->t->boots(c->t->opaque, &c->inst);
    state(c, &d0);
    CHECK_OK(c, power_on(c, &e_), "power_on of a running instance");
    CHECK(c, state(c, &d1) == NXL_POWER_RUNNING && d1 == d0,
          "the same domain after a second power_on (%d, %d)", d0, d1);

    CHECK_OK(c, reboot_hard(c, &e_), "HARD reboot");
    CHECK(c, state(c, &d1) == NXL_POWER_RUNNING && d1 != d0 && d1 > 0,
          "RUNNING in a new domain after the HARD reboot (%d, then %d)", d0,
          d1);
    CHECK(c, domains(c) == 1, "one domain after the HARD reboot");
    /* From running to running: nothing to tell. */
    expect_events(c, "", 0, "the HARD reboot");
    expect_boot(c, boots, "the HARD reboot");

    /* What a guest does with an NMI is its own affair: the lab's kernel
     * logs it and goes on, the fake's guest crashes (as a Linux with
     * panic_on_unrecovered_nmi does), told as `crashed` once the event
     * thread looks, before or after the destroy. */
    CHECK_OK(c, nxl_instance_trigger_crash_dump(c->drv, &c->inst, &e_),
             "trigger_crash_dump of a running instance");
    CHECK_OK(c, destroy(c, &e_), "destroy");
    expect_events(c, "stopped|crashed|crashed stopped", 5,
                  "trigger_crash_dump and destroy");
    expect_nothing_left(c, "destroy");
}

/* suspend to disk, a restart of the service, resume of the same guest. */
static void case_suspend_resume(contract *c)
{
    int boots = c->t->boots(c->t->opaque, &c->inst), d = -1;
    char image[4096];

    snprintf(image, sizeof(image), "%s/%s/novaxl.save", c->t->instances_dir,
             c->inst.uuid);
    if (!spawn(c))
        return;
    /* A guest suspends only once its kernel is up to answer. */
    expect_boot(c, boots, "spawn");
    boots = c->t->boots(c->t->opaque, &c->inst);

    CHECK_OK(c, nxl_instance_suspend(c->drv, &c->inst, &e_), "suspend");
    CHECK(c, state(c, &d) == NXL_POWER_SUSPENDED && d == -1,
          "SUSPENDED without a domain after suspend (domid %d)", d);
    CHECK(c, domains(c) == 0, "no domain after suspend");
    CHECK(c, file_exists(image), "the save image %s", image);
    expect_events(c, "suspended", 5, "suspend");
    CHECK_RC(c, nxl_instance_suspend(c->drv, &c->inst, &e_),
             NXL_E_INVALID_STATE, "suspend of a suspended instance");
    CHECK_RC(c, power_on(c, &e_), NXL_E_INVALID_STATE,
             "power_on of a suspended instance");
    CHECK_RC(c, nxl_instance_pause(c->drv, &c->inst, &e_), NXL_E_INVALID_STATE,
             "pause of a suspended instance");

    if (!reopen(c))
        return;
    expect_state(c, NXL_POWER_SUSPENDED, "a restart of the driver");
    expect_listed(c, "a restart of a suspended instance's driver");

    CHECK_OK(c, nxl_instance_resume(c->drv, &c->inst, NULL, NULL, &e_),
             "resume");
    CHECK(c, state(c, &d) == NXL_POWER_RUNNING && d > 0,
          "RUNNING with a domain after resume (domid %d)", d);
    CHECK(c, !file_exists(image), "no save image after resume");
    expect_events(c, "resumed", 5, "resume");
    /* The same guest goes on: it did not boot again. */
    CHECK(c, c->t->boots(c->t->opaque, &c->inst) == boots,
          "no new boot after resume");
    CHECK_RC(c, nxl_instance_resume(c->drv, &c->inst, NULL, NULL, &e_),
             NXL_E_INVALID_STATE, "resume of a running instance");

    CHECK_OK(c, destroy(c, &e_), "destroy");
    expect_nothing_left(c, "destroy");
}

/* soft_delete keeps the instance, without a domain, until restore. */
static void case_soft_delete_restore(contract *c)
{
    int boots = c->t->boots(c->t->opaque, &c->inst), d = -1;

    if (!spawn(c))
        return;
    CHECK_OK(c, nxl_instance_soft_delete(c->drv, &c->inst, &e_), "soft_delete");
    CHECK(c, state(c, &d) == NXL_POWER_SHUTDOWN && d == -1,
          "SHUTDOWN without a domain after soft_delete (domid %d)", d);
    CHECK(c, domains(c) == 0, "no domain after soft_delete");
    expect_events(c, "stopped", 5, "soft_delete");
    expect_listed(c, "soft_delete");
    CHECK_OK(c, nxl_instance_soft_delete(c->drv, &c->inst, &e_),
             "soft_delete again (idempotent)");
    CHECK_RC(c, power_on(c, &e_), NXL_E_INVALID_STATE,
             "power_on of a soft-deleted instance");
    CHECK_RC(c, reboot_hard(c, &e_), NXL_E_INVALID_STATE,
             "reboot of a soft-deleted instance");
    if (!reopen(c))
        return;
    CHECK_RC(c, power_on(c, &e_), NXL_E_INVALID_STATE,
             "power_on of a soft-deleted instance after a restart");
    expect_events(c, "", 0, "refused calls");

    CHECK_OK(c, nxl_instance_restore(c->drv, &c->inst, &e_), "restore");
    expect_state(c, NXL_POWER_RUNNING, "restore");
    expect_events(c, "started", 5, "restore");
    expect_boot(c, boots, "restore");
    CHECK_RC(c, nxl_instance_restore(c->drv, &c->inst, &e_),
             NXL_E_INVALID_STATE, "restore of a restored instance");

    CHECK_OK(c, destroy(c, &e_), "destroy");
    expect_nothing_left(c, "destroy");
}

/* set_bootable(false) blocks every start, survives a restart, never
 * blocks a stop. */
static void case_set_bootable(contract *c)
{
    if (!spawn(c))
        return;
    CHECK_OK(c, nxl_instance_set_bootable(c->drv, &c->inst, false, &e_),
             "set_bootable(false)");
    expect_state(c, NXL_POWER_RUNNING, "set_bootable(false)");
    CHECK_OK(c, power_off(c, &e_), "power_off of an unbootable instance");
    expect_state(c, NXL_POWER_SHUTDOWN, "power_off");
    CHECK_RC(c, power_on(c, &e_), NXL_E_INVALID_STATE,
             "power_on of an unbootable instance");
    CHECK_RC(c, reboot_hard(c, &e_), NXL_E_INVALID_STATE,
             "reboot of a halted unbootable instance");
    if (!reopen(c))
        return;
    CHECK_RC(c, power_on(c, &e_), NXL_E_INVALID_STATE,
             "power_on of an unbootable instance after a restart");
    CHECK(c, domains(c) == 0, "no domain made by the refused starts");
    CHECK_OK(c, nxl_instance_set_bootable(c->drv, &c->inst, true, &e_),
             "set_bootable(true)");
    CHECK_OK(c, power_on(c, &e_), "power_on once bootable");
    expect_state(c, NXL_POWER_RUNNING, "power_on");
    expect_events(c, "stopped started", 5, "power_off and power_on");

    CHECK_OK(c, destroy(c, &e_), "destroy");
    expect_nothing_left(c, "destroy");
}

/* Calls on an instance this host does not know: the contract's error
 * (nova's InstanceNotFound), nothing made; destroy succeeds. A UUID that
 * is not one is refused before any lookup. */
static void case_unknown_instance(contract *c)
{
    nxl_instance bad;
    nxl_instance_info info;
    bool b = true;

    CHECK_RC(c, nxl_instance_get_info(c->drv, &c->inst, &info, &e_),
             NXL_E_NOT_FOUND, "get_info");
    CHECK_RC(c, nxl_instance_pause(c->drv, &c->inst, &e_), NXL_E_NOT_FOUND,
             "pause");
    CHECK_RC(c, nxl_instance_unpause(c->drv, &c->inst, &e_), NXL_E_NOT_FOUND,
             "unpause");
    CHECK_RC(c, power_off(c, &e_), NXL_E_NOT_FOUND, "power_off");
    CHECK_RC(c, power_on(c, &e_), NXL_E_NOT_FOUND, "power_on");
    CHECK_RC(c, reboot_hard(c, &e_), NXL_E_NOT_FOUND, "reboot");
    CHECK_RC(c, nxl_instance_suspend(c->drv, &c->inst, &e_), NXL_E_NOT_FOUND,
             "suspend");
    CHECK_RC(c, nxl_instance_resume(c->drv, &c->inst, NULL, NULL, &e_),
             NXL_E_NOT_FOUND, "resume");
    CHECK_RC(c, nxl_instance_soft_delete(c->drv, &c->inst, &e_),
             NXL_E_NOT_FOUND, "soft_delete");
    CHECK_RC(c, nxl_instance_restore(c->drv, &c->inst, &e_), NXL_E_NOT_FOUND,
             "restore");
    CHECK_RC(c, nxl_instance_set_bootable(c->drv, &c->inst, false, &e_),
             NXL_E_NOT_FOUND, "set_bootable");
    CHECK_RC(c, nxl_instance_trigger_crash_dump(c->drv, &c->inst, &e_),
             NXL_E_NOT_FOUND, "trigger_crash_dump");
    CHECK(c, nxl_instance_exists(c->drv, &c->inst, &b, NULL) == 0 && !b,
          "instance_exists false");
    CHECK_OK(c, destroy(c, &e_), "destroy of an unknown instance");

    nxl_instance_init(&bad);
    snprintf(bad.uuid, sizeof(bad.uuid), "../../../etc/passwd");
    CHECK_RC(c, nxl_instance_get_info(c->drv, &bad, &info, &e_), NXL_E_INVAL,
             "get_info of a UUID that is a path");
    CHECK_RC(c, nxl_instance_destroy(c->drv, &bad, NULL, NULL, true, NULL, &e_),
             NXL_E_INVAL, "destroy of a UUID that is a path");
    nxl_instance_dispose(&bad);
    expect_events(c, "", 0, "calls on an unknown instance");
    expect_nothing_left(c, "calls on an unknown instance");
}

/* A domain the driver did not make is never listed or touched; what an
 * operator does behind the driver's back is seen and told; a restart
 * adopts the instance's domain. */
static void case_foreign_out_of_band(contract *c)
{
    char foreign[NXL_CONTRACT_UUID_LEN] = "";
    nxl_instance f;
    nxl_instance_info info;
    int bound = c->t->event_bound_s, d0 = -1, d1 = -1;

    nxl_instance_init(&f);
    if (!CHECK(c, c->t->foreign_create(c->t->opaque, foreign) == 0,
               "a foreign domain made behind the driver's back"))
        goto out;
    snprintf(f.uuid, sizeof(f.uuid), "%s", foreign);
    if (!spawn(c))
        goto out;
    expect_listed(c, "spawn beside a foreign domain");
    CHECK_RC(c, nxl_instance_get_info(c->drv, &f, &info, &e_), NXL_E_NOT_FOUND,
             "get_info of the foreign domain");
    CHECK_RC(c, nxl_instance_pause(c->drv, &f, &e_), NXL_E_NOT_FOUND,
             "pause of the foreign domain");
    CHECK_OK(c, nxl_instance_destroy(c->drv, &f, NULL, NULL, true, NULL, &e_),
             "destroy of the foreign domain's UUID (unknown: success)");
    CHECK(c, c->t->foreign_intact(c->t->opaque, foreign),
          "the foreign domain untouched");

    state(c, &d0);
    CHECK(c, c->t->out_of_band(c->t->opaque, "pause", d0) == 0,
          "pause of domain %d behind the driver's back", d0);
    expect_events(c, "paused", bound, "an out-of-band pause");
    expect_state(c, NXL_POWER_PAUSED, "an out-of-band pause");
    CHECK_OK(c, nxl_instance_unpause(c->drv, &c->inst, &e_),
             "unpause through the driver");
    expect_events(c, "resumed", 5, "unpause");

    CHECK(c, c->t->out_of_band(c->t->opaque, "destroy", d0) == 0,
          "destroy of domain %d behind the driver's back", d0);
    expect_events(c, "stopped", bound, "an out-of-band destroy");
    CHECK(c, state(c, &d1) == NXL_POWER_SHUTDOWN && d1 == -1,
          "SHUTDOWN without a domain after an out-of-band destroy (%d)", d1);
    expect_listed(c, "an out-of-band destroy");
    if (!reopen(c))
        goto out;
    expect_state(c, NXL_POWER_SHUTDOWN, "a restart");
    CHECK(c, c->t->foreign_intact(c->t->opaque, foreign),
          "the foreign domain untouched by init_host");

    CHECK_OK(c, power_on(c, &e_), "power_on after the out-of-band destroy");
    expect_events(c, "started", 5, "power_on");
    state(c, &d0);
    if (!reopen(c))
        goto out;
    CHECK(c, state(c, &d1) == NXL_POWER_RUNNING && d1 == d0,
          "a restart adopts the running domain (%d, %d)", d0, d1);
    expect_events(c, "", 0, "a restart");

    CHECK_OK(c, destroy(c, &e_), "destroy");
    expect_nothing_left(c, "destroy");
    CHECK(c, c->t->foreign_intact(c->t->opaque, foreign),
          "the foreign domain untouched at the end");
out:
    if (foreign[0])
        c->t->foreign_destroy(c->t->opaque, foreign);
    nxl_instance_dispose(&f);
}

/* Calls from several threads through one driver. */
#define RACERS 4

typedef struct racer {
    contract *c;
    const nxl_spawn_req *req;
    const nxl_instance *inst;
    int rc;
    char why[512]; /* the error's message, "" on success */
} racer;

static void racer_done(racer *r, int rc, nxl_error *err)
{
    r->rc = rc;
    snprintf(r->why, sizeof(r->why), "%s", rc ? nxl_error_message(err) : "");
    nxl_error_dispose(err);
}

static void *spawn_racer(void *opaque)
{
    racer *r = opaque;
    nxl_error err = NXL_ERROR_INIT;

    racer_done(r, nxl_instance_spawn(r->c->drv, r->req, &err), &err);
    return NULL;
}

static void *destroy_racer(void *opaque)
{
    racer *r = opaque;
    nxl_error err = NXL_ERROR_INIT;

    racer_done(
        r,
        nxl_instance_destroy(r->c->drv, r->inst, NULL, NULL, true, NULL, &err),
        &err);
    return NULL;
}

/* Runs n racers on fn at once; false when a thread could not start. */
static bool race(racer *r, size_t n, void *(*fn)(void *))
{
    pthread_t th[RACERS];
    size_t started = 0;

    while (started < n &&
           pthread_create(&th[started], NULL, fn, &r[started]) == 0)
        started++;
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return started == n;
}

static int state_of(contract *c, const nxl_instance *inst)
{
    nxl_instance_info info;
    int rc;

    nxl_instance_info_init(&info);
    rc = nxl_instance_get_info(c->drv, inst, &info, NULL);
    return rc ? rc : info.state;
}

/* The library is safe to call from several threads: one instance spawned
 * by racing threads is made once (the others: EXISTS); another instance
 * spawns while the first is paused, read and unpaused from this thread;
 * both are destroyed from two threads at once, and nothing is left. */
static void case_threads(contract *c)
{
    racer r[RACERS];
    nxl_instance other;
    size_t n = 0, ok = 0, exists = 0;
    bool raced;
    const nxl_spawn_req *req2 = c->t->other;

    nxl_instance_init(&other);
    snprintf(other.uuid, sizeof(other.uuid), "%s", req2->instance.uuid);
    for (size_t i = 0; i < RACERS; i++)
        r[i] = (racer){c, c->req, &c->inst, -1, ""};
    CHECK(c, race(r, RACERS, spawn_racer), "%d threads spawn at once", RACERS);
    for (size_t i = 0; i < RACERS; i++) {
        ok += r[i].rc == 0;
        exists += r[i].rc == NXL_E_EXISTS;
    }
    CHECK(c, ok == 1 && exists == RACERS - 1,
          "the same instance from %d threads: one spawn, %d EXISTS (%zu, "
          "%zu)",
          RACERS, RACERS - 1, ok, exists);
    CHECK(c, domains(c) == 1, "one domain of it");
    expect_state(c, NXL_POWER_RUNNING, "the racing spawns");
    expect_events(c, "started", 5, "the racing spawns");

    r[0] = (racer){c, req2, &other, -1, ""};
    {
        pthread_t th;
        bool started = pthread_create(&th, NULL, spawn_racer, &r[0]) == 0;

        CHECK_OK(c, nxl_instance_pause(c->drv, &c->inst, &e_),
                 "pause while another instance spawns");
        CHECK(c, nxl_host_get_num_instances(c->drv, &n, NULL) == 0,
              "get_num_instances while another instance spawns");
        CHECK_OK(c, nxl_instance_unpause(c->drv, &c->inst, &e_),
                 "unpause while another instance spawns");
        if (started)
            pthread_join(th, NULL);
        CHECK(c, started && r[0].rc == 0, "spawn of %s in another thread%s%s",
              req2->instance.name, r[0].rc ? ": " : "", r[0].why);
    }
    CHECK(c, state_of(c, &other) == NXL_POWER_RUNNING,
          "the other instance RUNNING");
    CHECK(c, c->t->domains_with(c->t->opaque, other.uuid) == 1,
          "one domain of the other instance");
    expect_state(c, NXL_POWER_RUNNING, "pause and unpause beside a spawn");
    expect_events(c, "paused resumed", 5, "pause and unpause");
    CHECK(c, nxl_host_get_num_instances(c->drv, &n, NULL) == 0 && n == 2,
          "get_num_instances 2");

    r[0] = (racer){c, c->req, &c->inst, -1, ""};
    r[1] = (racer){c, req2, &other, -1, ""};
    /* Raced before the check: its message shows what the calls said. */
    raced = race(r, 2, destroy_racer);
    CHECK(c, raced && r[0].rc == 0 && r[1].rc == 0,
          "both destroyed from two threads at once (%s%s%s)", r[0].why,
          r[0].rc || r[1].rc ? "; " : "", r[1].why);
    CHECK(c,
          state_of(c, &other) == NXL_E_NOT_FOUND &&
              c->t->domains_with(c->t->opaque, other.uuid) == 0,
          "nothing left of the other instance");
    expect_events(c, "stopped", 5, "destroy");
    expect_nothing_left(c, "destroy");
    /* Whatever a failed check above left of it. */
    nxl_instance_destroy(c->drv, &other, NULL, NULL, true, NULL, NULL);
    nxl_instance_dispose(&other);
}

static const struct {
    const char *name;
    void (*fn)(contract *c);
} cases[] = {
    {"unknown instance", case_unknown_instance},
    {"lifecycle", case_lifecycle},
    {"suspend and resume", case_suspend_resume},
    {"soft_delete and restore", case_soft_delete_restore},
    {"set_bootable", case_set_bootable},
    {"foreign domains and out-of-band changes", case_foreign_out_of_band},
    {"threads", case_threads},
};

size_t nxl_contract_n_cases(void)
{
    return sizeof(cases) / sizeof(cases[0]);
}

const char *nxl_contract_case_name(size_t i)
{
    return i < nxl_contract_n_cases() ? cases[i].name : NULL;
}

unsigned nxl_contract_run_case(const nxl_contract_target *t, size_t i)
{
    contract c;
    double t0 = now_s();

    if (i >= nxl_contract_n_cases())
        return 1;
    memset(&c, 0, sizeof(c));
    c.t = t;
    c.req = t->req;
    nxl_instance_init(&c.inst);
    snprintf(c.inst.uuid, sizeof(c.inst.uuid), "%s", t->req->instance.uuid);
    pthread_mutex_init(&c.ev_lock, NULL);
    printf("contract case: %s (%s)\n", cases[i].name, t->name);
    fflush(stdout);
    if (reopen(&c)) {
        cases[i].fn(&c);
        /* A case that stopped part-way leaves nothing to the next one;
         * a passed case has destroyed it already (unknown: success). */
        if (c.failures)
            destroy(&c, NULL);
        CHECK_OK(&c, nxl_host_cleanup(c.drv, t->host, &e_), "cleanup_host");
    }
    nxl_driver_close(c.drv);
    pthread_mutex_destroy(&c.ev_lock);
    nxl_instance_dispose(&c.inst);
    printf("contract case: %s (%s): %s, %.1fs\n", cases[i].name, t->name,
           c.failures ? "FAILED" : "passed", now_s() - t0);
    fflush(stdout);
    return c.failures;
}

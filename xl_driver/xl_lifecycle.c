/* The libxl backend's instance lifecycle and inventory.
 *
 * Ownership. The instance UUID is the domain UUID. An instance is ours
 * when it has a record (xl_store.h); a domain is ours only through that
 * record, or through the journal of an operation that was creating it.
 * Domain-0 and domains made by hand with xl have neither, so nothing here
 * lists, reports or touches them, whatever their name or UUID.
 *
 * What is read live and what is remembered. The domain's state always
 * comes from the hypervisor (one libxl_list_domain call, matched by
 * UUID); the record only says what the driver last did, which matters
 * when there is no domain: SHUTDOWN after power_off or when the domain
 * vanished behind our back (xl destroy, host reboot).
 *
 * The journal, per operation (steps are journaled before they are taken;
 * "recovery" is what init_host, or the next operation on the instance,
 * does with a journal nobody holds the lock of; an in-process failure
 * does the same thing at once):
 *   spawn      instance_dir, disks, create, unpause, then the record. Recovery
 *              rolls back: every domain with the UUID, the record, and
 *              the instance directory if spawn made it. A spawn that did
 *              not return success leaves nothing.
 *   power_on   create, unpause. Rolled back: any domain it created goes,
 *   reboot     soft (a request to the guest), destroy, create, unpause.
 *              Rolled back once destroy or create was journaled (or the
 *              guest shut down for a soft reboot): any domain with the
 *              UUID goes and the record says SHUTDOWN. Before that the
 *              domain was not touched (a soft reboot is the guest's).
 *   power_off  shutdown, destroy. Finished: the domain goes, the record
 *              says SHUTDOWN.
 *   destroy    destroy, record, instance_dir. Finished: the domain and
 *              the record go (and the directory with destroy_disks).
 *   rebuild    prepare (new disks as <file>.rebuild, the new request as a
 *              pending record), destroy, commit (both renamed over),
 *              create, unpause. Before commit rolled back (old image, and
 *              SHUTDOWN once destroyed); after, finished to SHUTDOWN on the
 *              new image.
 *   rescue     rescue_disk, destroy, create, unpause, then the record
 *              (rescued). Until recorded rolled back: disk.rescue goes,
 *              SHUTDOWN once destroy or create was journaled.
 *   unrescue   destroy, record (unrescued, SHUTDOWN), create, unpause.
 *              After destroy finished to SHUTDOWN, unrescued.
 *   pause, unpause: one libxl call; nothing to finish or undo, since the
 *              state is read live.
 * A recovery that fails (libxl refuses) keeps the journal for the next
 * try and leaves the instance's lock file in place.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>

#include "common/driver.h"
#include "common/internal.h"
#include "common/json.h"
#include "aggregates/agg.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_config.h"
#include "xl_driver/xl_console.h"
#include "xl_driver/xl_host.h"
#include "xl_driver/xl_lifecycle.h"
#include "xl_driver/xl_metadata.h"
#include "xl_driver/xl_port.h"
#include "xl_driver/xl_store.h"

/* How often a wait for the guest looks at the domain again. */
#define POLL_MS 50

/* A rescued instance's boot disk, made from the rescue image, and the
 * suffix rebuild's new disks carry until its commit. */
#define RESCUE_DISK NXL_XL_RESCUE_DISK
#define REBUILD_SUFFIX ".rebuild"

static int instance_config(nxl_driver *drv, const nxl_record *rec,
                           const char *method, libxl_domain_config *cfg_r,
                           nxl_error *err);
static int recover_rescue(nxl_xl_state *st, const nxl_journal *j,
                          nxl_error *err);
static int recover_unrescue(nxl_xl_state *st, const nxl_journal *j,
                            nxl_error *err);
static int recover_rebuild(nxl_xl_state *st, const nxl_journal *j,
                           nxl_error *err);

/* ---- state -----------------------------------------------------------------
 */

int nxl__xl_state_new(nxl_xl_state **st_r, nxl_error *err)
{
    nxl_xl_state *st = calloc(1, sizeof(*st));

    if (!st)
        return nxl_error_set(err, NXL_E_NOMEM,
                             "libxl driver: out of memory for its state");
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return nxl_error_set(err, NXL_E_NOMEM,
                             "libxl driver: cannot create a mutex");
    }
    if (pthread_mutex_init(&st->ev_lock, NULL) != 0) {
        pthread_mutex_destroy(&st->lock);
        free(st);
        return nxl_error_set(err, NXL_E_NOMEM,
                             "libxl driver: cannot create a mutex");
    }
    nxl__xl_store_init(&st->store);
    if (nxl__xl_console_new(&st->con, err) < 0) {
        pthread_mutex_destroy(&st->ev_lock);
        pthread_mutex_destroy(&st->lock);
        free(st);
        return NXL_E_NOMEM;
    }
    st->soft_reboot_timeout_ms = NXL_XL_SOFT_REBOOT_TIMEOUT_MS;
    st->tun_path = NXL_XL_TUN_PATH;
    st->ev_poll_ms = NXL_XL_EVENT_POLL_MS;
    *st_r = st;
    return 0;
}

static void ev_thread_stop(nxl_xl_state *st);
static int ev_thread_start(nxl_driver *drv, nxl_error *err);
static void sweep_final(nxl_xl_state *st);
static void sleep_ms(unsigned ms);

void nxl__xl_state_free(nxl_xl_state *st)
{
    if (!st)
        return;
    /* The thread uses the port: it goes first. */
    ev_thread_stop(st);
    sweep_final(st);
    free(st->known);
    free(st->pending);
    nxl__xl_console_free(st->con);
    pthread_mutex_destroy(&st->ev_lock);
    if (!st->port_borrowed)
        nxl__port_free(st->port);
    nxl__xl_store_dispose(&st->store);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static nxl_xl_state *state_of(nxl_driver *drv)
{
    return drv->priv;
}

int nxl__xl_driver_use_port(nxl_driver *drv, nxl_port *port, bool borrowed,
                            nxl_error *err)
{
    nxl_xl_state *st;
    int rc;

    if (!drv || !port || drv->ops != &nxl_xl_driver_ops)
        return nxl_error_set(err, NXL_E_INVAL,
                             "use_port: not a libxl driver, or no port");
    st = state_of(drv);
    pthread_mutex_lock(&st->lock);
    if (st->port) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "use_port: the driver already "
                           "has a port");
    } else {
        st->port = port;
        st->port_borrowed = borrowed;
        /* A test's host is not the one the test's guests "run" on. */
        if (borrowed)
            st->tun_path = NULL;
        rc = 0;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void nxl__xl_driver_crash_after(nxl_driver *drv, unsigned k)
{
    nxl_xl_state *st = state_of(drv);

    pthread_mutex_lock(&st->lock);
    st->crash_at = k;
    st->crash_count = 0;
    pthread_mutex_unlock(&st->lock);
}

bool nxl__xl_driver_crashed(nxl_driver *drv)
{
    nxl_xl_state *st = state_of(drv);
    bool dead;

    pthread_mutex_lock(&st->lock);
    dead = st->dead;
    pthread_mutex_unlock(&st->lock);
    return dead;
}

void nxl__xl_driver_set_soft_reboot_timeout(nxl_driver *drv, unsigned ms)
{
    state_of(drv)->soft_reboot_timeout_ms = ms;
}

void nxl__xl_driver_set_event_poll(nxl_driver *drv, unsigned ms)
{
    nxl_xl_state *st = state_of(drv);

    pthread_mutex_lock(&st->ev_lock);
    st->ev_poll_ms = ms;
    pthread_mutex_unlock(&st->ev_lock);
}

void nxl__xl_driver_set_tun_path(nxl_driver *drv, const char *path)
{
    state_of(drv)->tun_path = path;
}

/* True when the simulated crash happens here (or has happened): the
 * caller must then stop without another side effect. */
static bool crashpoint(nxl_xl_state *st)
{
    bool dead;

    pthread_mutex_lock(&st->lock);
    if (!st->dead && st->crash_at && ++st->crash_count == st->crash_at)
        st->dead = true;
    dead = st->dead;
    pthread_mutex_unlock(&st->lock);
    return dead;
}

static int crashed(nxl_error *err, const char *method)
{
    return nxl_error_set(err, NXL_E_FAILED,
                         "%s: the driver stopped at a simulated crash", method);
}

/* The port and store every instance method needs; init_host sets both. */
static int ready(nxl_xl_state *st, const char *method, nxl_error *err)
{
    bool ok, dead;

    pthread_mutex_lock(&st->lock);
    ok = st->port && st->store_open;
    dead = st->dead;
    pthread_mutex_unlock(&st->lock);
    if (dead)
        return crashed(err, method);
    if (!ok)
        return nxl_error_set(err, NXL_E_HYPERVISOR,
                             "%s: not connected to the hypervisor "
                             "(init_host has not run)",
                             method);
    return 0;
}

/* Records failure cause under code with method's name in front, keeping
 * the cause's libxl rc and domid: the caller's code (e.g. NXL_E_REBOOT) is
 * what the contract promises, the cause's text is why. */
static int fail_with(nxl_error *err, int code, const nxl_error *cause,
                     const char *method, const char *uuid)
{
    return nxl_error_set_libxl(err, code, cause->libxl_rc, cause->domid,
                               "%s: instance %s: %s", method, uuid,
                               nxl_error_message(cause));
}

/* ---- domains by UUID -------------------------------------------------------
 */

/* The domain whose UUID is uuid (never Domain-0; a live one before a
 * zombie: nxl__port_dominfo_by_uuid), in one list call. *found_r false
 * when there is none. */
static int find_domain(nxl_xl_state *st, const char *uuid,
                       nxl_port_dominfo *info_r, bool *found_r, nxl_error *err)
{
    const nxl_port_dominfo *d;
    nxl_port_dominfo *list = NULL;
    size_t n = 0;
    int rc;

    rc = st->port->ops->list(st->port, &list, &n, err);
    if (rc)
        return rc;
    d = nxl__port_dominfo_by_uuid(list, n, uuid);
    *found_r = d != NULL;
    if (d)
        *info_r = *d;
    free(list);
    return 0;
}

/* ---- xenstore leftovers of destroyed domains ------------------------------
 *
 * libxl removes a domain's xenstore directories when it destroys it, but
 * the QEMU that serves its qdisk disks can write its backend state once
 * more while it exits, after libxl is done: /local/domain/0/backend/qdisk/
 * <domid> then stays for ever (found in the lab, after a plain destroy).
 * So for a while after each destroy of ours the domain's directories are
 * removed again, once Xen no longer lists the domid: right after the
 * destroy and from the event thread's periodic look. Only domids this
 * driver destroyed are touched, never another toolstack's domains. */

static const char *const sweep_roots[] = {"/local/domain", "/libxl"};
#define SWEEP_BACKENDS "/local/domain/0/backend"

static void sweep_note(nxl_xl_state *st, uint32_t domid)
{
    pthread_mutex_lock(&st->ev_lock);
    if (st->n_sweep == NXL_XL_SWEEP_MAX) { /* forget the oldest */
        memmove(&st->sweep[0], &st->sweep[1],
                (NXL_XL_SWEEP_MAX - 1) * sizeof(st->sweep[0]));
        st->n_sweep--;
    }
    st->sweep[st->n_sweep].domid = domid;
    st->sweep[st->n_sweep].noted_ms = nxl__mono_ms();
    st->n_sweep++;
    pthread_mutex_unlock(&st->ev_lock);
}

static void sweep_domain(nxl_xs *xs, uint32_t domid)
{
    nxl_strv types;
    char path[128];

    for (size_t i = 0; i < sizeof(sweep_roots) / sizeof(sweep_roots[0]); i++) {
        snprintf(path, sizeof(path), "%s/%" PRIu32, sweep_roots[i], domid);
        nxl_xs_rm(xs, XBT_NULL, path, NULL);
    }
    nxl_strv_init(&types);
    if (nxl_xs_directory(xs, XBT_NULL, SWEEP_BACKENDS, &types, NULL) == 0)
        for (size_t i = 0; i < types.n; i++) {
            /* backend type names come from dom0's own tools; still,
             * nothing but a plain name is joined into a path. */
            if (nxl_xs_key_validate(types.v[i], NULL) != 0)
                continue;
            snprintf(path, sizeof(path), SWEEP_BACKENDS "/%s/%" PRIu32,
                     types.v[i], domid);
            nxl_xs_rm(xs, XBT_NULL, path, NULL);
        }
    nxl_strv_dispose(&types);
}

/* Best effort: a failure here leaves what libxl left, and says so in the
 * debug log only. */
static void sweep_dead_domains(nxl_xl_state *st)
{
    uint32_t todo[NXL_XL_SWEEP_MAX];
    size_t n_todo = 0, n = 0, k = 0;
    nxl_port_dominfo *list = NULL;
    nxl_xs *xs = NULL;
    uint64_t now = nxl__mono_ms();

    pthread_mutex_lock(&st->ev_lock);
    for (size_t i = 0; i < st->n_sweep; i++)
        if (now - st->sweep[i].noted_ms < NXL_XL_SWEEP_MS) {
            st->sweep[k++] = st->sweep[i];
            todo[n_todo++] = st->sweep[i].domid;
        }
    st->n_sweep = k;
    pthread_mutex_unlock(&st->ev_lock);
    if (!n_todo || !st->port || st->port->ops->list(st->port, &list, &n, NULL))
        return;
    if (nxl_xs_open(&xs, NULL) == 0) {
        for (size_t i = 0; i < n_todo; i++) {
            bool alive = false;

            for (size_t j = 0; j < n && !alive; j++)
                alive = list[j].domid == todo[i];
            if (!alive)
                sweep_domain(xs, todo[i]);
        }
        nxl_xs_close(xs);
    } else {
        nxl__debug("sweep: no xenstore connection; leftovers of %zu "
                   "destroyed domain(s) stay",
                   n_todo);
    }
    free(list);
}

/* Before the port closes (cleanup_host, close): the event thread will not
 * look again, so give a domain destroyed in the last SWEEP_SETTLE_MS its
 * QEMU's last write (it comes within a second or two of the destroy),
 * then sweep once more. Bounded: at most SWEEP_SETTLE_MS of waiting. */
#define SWEEP_SETTLE_MS 3000

static void sweep_final(nxl_xl_state *st)
{
    uint64_t latest = 0, now = nxl__mono_ms();

    /* Without a port (cleanup_host closed it, after its own final sweep)
     * nothing can be swept: waiting would only delay the close. */
    if (!st->port)
        return;
    pthread_mutex_lock(&st->ev_lock);
    for (size_t i = 0; i < st->n_sweep; i++) {
        uint64_t noted = st->sweep[i].noted_ms;

        if (noted > latest)
            latest = noted;
    }
    pthread_mutex_unlock(&st->ev_lock);
    if (!latest)
        return;
    /* A test's own port (borrowed) runs no QEMU: nothing to wait for. */
    if (!st->port_borrowed && now < latest + SWEEP_SETTLE_MS)
        sleep_ms((unsigned)(latest + SWEEP_SETTLE_MS - now));
    sweep_dead_domains(st);
}

/* Destroys every domain with uuid (a half-made one next to an old one can
 * share it). Domains that vanish meanwhile are fine. */
static int destroy_by_uuid(nxl_xl_state *st, const char *uuid, nxl_error *err)
{
    nxl_port_dominfo *list = NULL;
    size_t n = 0;
    int rc;

    rc = st->port->ops->list(st->port, &list, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        nxl_error e = NXL_ERROR_INIT;

        /* A dying domain is on its way out (or a zombie nothing here can
         * free): destroying it again only asks libxl to tear down devices
         * that are gone. */
        if (list[i].domid == 0 || list[i].dying ||
            strcmp(list[i].uuid, uuid) != 0)
            continue;
        rc = st->port->ops->destroy(st->port, list[i].domid, &e);
        if (rc == NXL_E_NOT_FOUND)
            rc = 0;
        if (!rc)
            sweep_note(st, list[i].domid);
        if (rc)
            nxl_error_set_libxl(err, rc, e.libxl_rc, (int)list[i].domid,
                                "destroying domain %u: %s", list[i].domid,
                                nxl_error_message(&e));
        nxl_error_dispose(&e);
        if (rc)
            goto out;
    }
    rc = 0;
out:
    free(list);
    sweep_dead_domains(st);
    return rc;
}

/* nova's power state of a domain libxl reports. */
static int power_state_of(const nxl_port_dominfo *d)
{
    if (d->crashed)
        return NXL_POWER_CRASHED;
    if (d->shutdown || d->dying)
        return NXL_POWER_SHUTDOWN;
    if (d->paused)
        return NXL_POWER_PAUSED;
    /* running, blocked (idle), or runnable but not scheduled right now. */
    return NXL_POWER_RUNNING;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

typedef int ask_fn(nxl_port *port, uint32_t domid, nxl_error *err);

/* Waits up to timeout_ms for domid to shut down (or go), asking again with
 * ask every retry_ms (0: never). *down_r says whether it did. */
static int wait_shutdown(nxl_xl_state *st, uint32_t domid, uint64_t timeout_ms,
                         uint64_t retry_ms, ask_fn *ask, bool *down_r,
                         nxl_error *err)
{
    uint64_t start = nxl__mono_ms(), last_ask = start;

    *down_r = false;
    for (;;) {
        nxl_port_dominfo info;
        nxl_error e = NXL_ERROR_INIT;
        uint64_t now;
        int rc = st->port->ops->domain_info(st->port, domid, &info, &e);

        if (rc == NXL_E_NOT_FOUND) {
            nxl_error_dispose(&e);
            *down_r = true;
            return 0;
        }
        if (rc) {
            nxl_error_set_libxl(err, rc, e.libxl_rc, (int)domid, "%s",
                                nxl_error_message(&e));
            nxl_error_dispose(&e);
            return rc;
        }
        if (info.shutdown || info.dying) {
            *down_r = true;
            return 0;
        }
        now = nxl__mono_ms();
        if (now - start >= timeout_ms)
            return 0;
        if (retry_ms && now - last_ask >= retry_ms) {
            /* A guest that missed the first request may see this one; a
             * refusal now changes nothing, the timeout still decides. */
            ask(st->port, domid, NULL);
            last_ask = now;
        }
        sleep_ms(POLL_MS);
    }
}

/* ---- events: what the listener is told
 * ---------------------------------------- */

/* Events come from two places: each operation reports the change it made
 * (spawn: started, pause: paused, ...), and the event thread reports
 * changes nobody here made (xl behind our back, the guest itself), found
 * from libxl's domain shutdown and death events and, for what libxl has
 * no event for (pause, unpause), from its periodic look. Both go through
 * ev_note, which remembers the last state the listener was told per
 * instance, so one change is reported once whoever sees it first. Both
 * call it with the instance's lock held, so their views of one instance
 * are serialised. */
struct nxl_xl_ev_known {
    char uuid[NXL_UUID_STRLEN + 1];
    int state; /* nxl_power_state */
    /* When the periodic look first found the domain paused by someone
     * else, not yet reported (0: it did not); see ev_pause_settled. */
    uint64_t paused_since_ms;
};

/* The transition from one power state to another; -1 when there is none
 * to tell (no change, or from halted to gone). NXL_POWER_NOSTATE as
 * `to` means the instance is gone (destroyed). */
static int ev_transition(int from, int to)
{
    if (from == to)
        return -1;
    switch (to) {
    case NXL_POWER_RUNNING:
        return from == NXL_POWER_PAUSED || from == NXL_POWER_SUSPENDED
                   ? NXL_EVENT_RESUMED
                   : NXL_EVENT_STARTED;
    case NXL_POWER_PAUSED:
        return NXL_EVENT_PAUSED;
    case NXL_POWER_SUSPENDED:
        return NXL_EVENT_SUSPENDED;
    case NXL_POWER_CRASHED:
        return NXL_EVENT_CRASHED;
    case NXL_POWER_SHUTDOWN:
        return NXL_EVENT_STOPPED;
    case NXL_POWER_NOSTATE:
        /* Destroyed: a stop, unless it had stopped already. */
        return from == NXL_POWER_SHUTDOWN || from == NXL_POWER_CRASHED
                   ? -1
                   : NXL_EVENT_STOPPED;
    default:
        return -1;
    }
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* uuid is now in state `to` (NXL_POWER_NOSTATE: gone). `from` is the state
 * the caller saw before its change, or -1 when it has no idea (the event
 * thread): then, for an instance the listener was never told of, `to` is
 * only remembered, as the starting point. Queues the event for ev_flush.
 * Never fails: on out of memory the event is dropped (and logged), as a
 * listener cannot be told anything then anyway. */
static void ev_note(nxl_xl_state *st, const char *uuid, int from, int to)
{
    nxl_xl_ev_known *k = NULL;
    size_t i;
    int t;

    pthread_mutex_lock(&st->ev_lock);
    for (i = 0; i < st->n_known; i++)
        if (strcmp(st->known[i].uuid, uuid) == 0) {
            k = &st->known[i];
            break;
        }
    /* What the listener last heard wins over the caller's view. */
    if (k)
        from = k->state;
    t = from < 0 ? -1 : ev_transition(from, to);
    if (to == NXL_POWER_NOSTATE) {
        if (k)
            st->known[i] = st->known[--st->n_known];
    } else if (k) {
        k->state = to;
        k->paused_since_ms = 0;
    } else {
        nxl_xl_ev_known *v = realloc(st->known, (st->n_known + 1) * sizeof(*v));

        if (v) {
            st->known = v;
            memcpy(v[st->n_known].uuid, uuid, sizeof(v->uuid));
            v[st->n_known].state = to;
            v[st->n_known].paused_since_ms = 0;
            st->n_known++;
        }
    }
    if (t >= 0) {
        nxl_event *v = realloc(st->pending, (st->n_pending + 1) * sizeof(*v));

        if (v) {
            st->pending = v;
            memset(&v[st->n_pending], 0, sizeof(*v));
            memcpy(v[st->n_pending].uuid, uuid, sizeof(v->uuid));
            v[st->n_pending].transition = t;
            v[st->n_pending].timestamp_us = now_us();
            st->n_pending++;
        } else {
            nxl__debug("events: out of memory; %s of %s dropped",
                       nxl_event_transition_name(t), uuid);
        }
    }
    pthread_mutex_unlock(&st->ev_lock);
}

/* Whether a pause the periodic look found (nobody here made it) has lasted
 * long enough to be told. libxl's domain destroy (xl destroy behind our
 * back) pauses the domain first, then tears its devices down, which takes
 * seconds under load (hotplug scripts), and only then destroys it: a look
 * in that window sees a paused domain that is neither dying nor shut
 * down, and telling `paused` would be a lie followed by `stopped`. A real
 * pause (xl pause) lasts: it is told once it has been seen for
 * NXL_XL_PAUSE_SETTLE_POLLS looks' worth of time; a pause that ends in
 * the domain's death before then is only the death. */
static bool ev_pause_settled(nxl_xl_state *st, const char *uuid)
{
    uint64_t now = nxl__mono_ms(), settle;
    bool settled = true;

    pthread_mutex_lock(&st->ev_lock);
    settle = (uint64_t)st->ev_poll_ms * NXL_XL_PAUSE_SETTLE_POLLS;
    for (size_t i = 0; i < st->n_known; i++) {
        nxl_xl_ev_known *k = &st->known[i];

        if (strcmp(k->uuid, uuid) != 0 || k->state == NXL_POWER_PAUSED)
            continue;
        if (!k->paused_since_ms)
            k->paused_since_ms = now;
        settled = now - k->paused_since_ms >= settle;
        break;
    }
    pthread_mutex_unlock(&st->ev_lock);
    return settled;
}

/* Hands queued events to the listener, in order, with no lock held (a
 * listener may call back into the driver). Whoever finds the queue being
 * delivered leaves its events to that thread, which drains it. Call with
 * no instance lock held. */
static void ev_flush(nxl_xl_state *st)
{
    pthread_mutex_lock(&st->ev_lock);
    if (st->delivering || !st->drv) {
        pthread_mutex_unlock(&st->ev_lock);
        return;
    }
    st->delivering = true;
    while (st->n_pending > 0) {
        nxl_event ev = st->pending[0];

        memmove(&st->pending[0], &st->pending[1],
                (st->n_pending - 1) * sizeof(ev));
        st->n_pending--;
        pthread_mutex_unlock(&st->ev_lock);
        nxl__driver_emit_event(st->drv, &ev, NULL);
        pthread_mutex_lock(&st->ev_lock);
    }
    st->delivering = false;
    pthread_mutex_unlock(&st->ev_lock);
}

/* ---- operations: lock, journal, crash points --------------------------------
 */

typedef struct lc_op {
    nxl_xl_state *st;
    const char *method;
    const char *uuid;
    int lock_fd;
    bool journaled;
    nxl_journal j;
} lc_op;

static void op_init(lc_op *op, nxl_xl_state *st, const char *method,
                    const char *uuid)
{
    op->st = st;
    op->method = method;
    op->uuid = uuid;
    op->lock_fd = -1;
    op->journaled = false;
    nxl__journal_init(&op->j);
}

static bool has_step(const nxl_journal *j, const char *step)
{
    for (size_t i = 0; i < j->steps.n; i++)
        if (strcmp(j->steps.v[i], step) == 0)
            return true;
    return false;
}

static int set_record_state(nxl_xl_state *st, const char *uuid, int state,
                            int domid, nxl_error *err)
{
    nxl_record rec;
    int rc;

    nxl__record_init(&rec);
    rc = nxl__xl_record_load(&st->store, uuid, &rec, err);
    if (rc == NXL_E_NOT_FOUND) {
        /* Nothing to update: the instance has no record (a spawn). */
        nxl_error_dispose(err);
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;
    if (rec.state == state && rec.domid == domid)
        goto out;
    rec.state = state;
    rec.domid = domid;
    rc = nxl__xl_record_save(&st->store, &rec, err);
out:
    nxl__record_dispose(&rec);
    return rc;
}

/* ---- save images
 * ---------------------------------------------------------------- */

/* The save image of uuid (final when !temp); NULL on out of memory. */
static char *save_path(nxl_xl_state *st, const char *uuid, bool temp)
{
    return nxl__xl_store_instance_file(
        &st->store, uuid, temp ? NXL_XL_SAVE_TEMP : NXL_XL_SAVE_FILE);
}

static bool save_exists(nxl_xl_state *st, const char *uuid, bool temp)
{
    char *p = save_path(st, uuid, temp);
    struct stat sb;
    bool ok = p && lstat(p, &sb) == 0;

    free(p);
    return ok;
}

static int remove_save(nxl_xl_state *st, const char *uuid, bool temp,
                       nxl_error *err)
{
    char *p = save_path(st, uuid, temp);
    int rc;

    if (!p)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    rc = nxl__xl_store_remove_file(p, err);
    free(p);
    return rc;
}

/* Both the image and any half-written one. */
static int remove_save_files(nxl_xl_state *st, const char *uuid, nxl_error *err)
{
    int rc = remove_save(st, uuid, true, err);

    return rc ? rc : remove_save(st, uuid, false, err);
}

/* <uuid>/<name> goes; fine when there is none. */
static int remove_instance_file(nxl_xl_state *st, const char *uuid,
                                const char *name, nxl_error *err)
{
    char *p = nxl__xl_store_instance_file(&st->store, uuid, name);
    int rc;

    if (!p)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    rc = nxl__xl_store_remove_file(p, err);
    free(p);
    return rc;
}

/* No domain with uuid any more, and the record says state. */
static int gone_as(nxl_xl_state *st, const char *uuid, int state,
                   nxl_error *err)
{
    int rc = destroy_by_uuid(st, uuid, err);

    return rc ? rc : set_record_state(st, uuid, state, -1, err);
}

/* suspend's recovery. The image is complete once renamed to its final
 * name (or journaled "written", then it only needs the rename): from then
 * on the suspend is finished (the domain goes, the record says
 * SUSPENDED). Before, it is rolled back: the half-written image goes, and
 * a guest that had already suspended itself for the save (its memory is
 * not in a complete image, and the port cannot cancel a suspend) is
 * destroyed, leaving the instance SHUTDOWN, as after a crash of the
 * guest; a guest still running keeps running. */
static int recover_suspend(nxl_xl_state *st, const nxl_journal *j,
                           nxl_error *err)
{
    nxl_port_dominfo d;
    bool found = false;
    int rc;

    if (has_step(j, "written") && !save_exists(st, j->uuid, false) &&
        save_exists(st, j->uuid, true)) {
        char *from = save_path(st, j->uuid, true);
        char *to = save_path(st, j->uuid, false);

        rc = from && to ? nxl__xl_store_rename(from, to, err)
                        : nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        free(from);
        free(to);
        if (rc)
            return rc;
    }
    if ((rc = remove_save(st, j->uuid, true, err)))
        return rc;
    if (save_exists(st, j->uuid, false))
        return gone_as(st, j->uuid, NXL_POWER_SUSPENDED, err);
    if ((rc = find_domain(st, j->uuid, &d, &found, err)))
        return rc;
    if (found && (d.shutdown || d.dying))
        return gone_as(st, j->uuid, NXL_POWER_SHUTDOWN, err);
    return 0;
}

/* resume's recovery. Until the restored domain was journaled to be
 * unpaused, the guest has not run: it is destroyed and the instance stays
 * SUSPENDED with its image, so resume can be tried again. From then on
 * the guest may have run and written to its disks, which makes the image
 * stale (restoring it again would corrupt them): the resume is finished,
 * the domain unpaused if it still is paused, the image removed. */
static int recover_resume(nxl_xl_state *st, const nxl_journal *j,
                          nxl_error *err)
{
    nxl_port_dominfo d;
    bool found = false;
    int rc;

    if (!has_step(j, "unpause"))
        return gone_as(st, j->uuid, NXL_POWER_SUSPENDED, err);
    if ((rc = find_domain(st, j->uuid, &d, &found, err)))
        return rc;
    if (found && d.paused && !d.shutdown && !d.dying &&
        (rc = st->port->ops->unpause(st->port, d.domid, err)))
        return rc;
    if ((rc = set_record_state(st, j->uuid,
                               found ? NXL_POWER_RUNNING : NXL_POWER_SHUTDOWN,
                               found ? (int)d.domid : -1, err)))
        return rc;
    return remove_save_files(st, j->uuid, err);
}

/* Finishes or rolls back the operation j describes (see the top of this
 * file), then removes j. Called with the instance's lock held. */
static int recover(nxl_xl_state *st, const nxl_journal *j, nxl_error *err)
{
    const char *op = j->op;
    int rc;

    nxl__debug("recovering interrupted %s of %s (%zu steps)", op, j->uuid,
               j->steps.n);
    if (strcmp(op, "spawn") == 0) {
        if ((rc = destroy_by_uuid(st, j->uuid, err)) ||
            (rc = nxl__xl_record_remove(&st->store, j->uuid, err)))
            return rc;
        if (has_step(j, "instance_dir") &&
            (rc = nxl__xl_store_remove_instance_dir(&st->store, j->uuid, err)))
            return rc;
    } else if (strcmp(op, "destroy") == 0) {
        if ((rc = destroy_by_uuid(st, j->uuid, err)) ||
            (rc = nxl__xl_record_remove(&st->store, j->uuid, err)))
            return rc;
        if (j->destroy_disks &&
            (rc = nxl__xl_store_remove_instance_dir(&st->store, j->uuid, err)))
            return rc;
        if (!j->destroy_disks &&
            ((rc = remove_save_files(st, j->uuid, err)) ||
             (rc = remove_instance_file(st, j->uuid, RESCUE_DISK, err))))
            return rc;
    } else if (strcmp(op, "soft_delete") == 0) {
        nxl_record rec;

        /* Finished: the domain and image go, the record is marked. */
        if ((rc = destroy_by_uuid(st, j->uuid, err)) ||
            (rc = remove_save_files(st, j->uuid, err)))
            return rc;
        nxl__record_init(&rec);
        rc = nxl__xl_record_load(&st->store, j->uuid, &rec, err);
        if (rc == 0 && (!rec.soft_deleted || rec.domid != -1 ||
                        rec.state != NXL_POWER_SHUTDOWN)) {
            rec.soft_deleted = true;
            rec.state = NXL_POWER_SHUTDOWN;
            rec.domid = -1;
            rc = nxl__xl_record_save(&st->store, &rec, err);
        }
        nxl__record_dispose(&rec);
        if (rc)
            return rc;
    } else if (strcmp(op, "rescue") == 0) {
        if ((rc = recover_rescue(st, j, err)))
            return rc;
    } else if (strcmp(op, "unrescue") == 0) {
        if ((rc = recover_unrescue(st, j, err)))
            return rc;
    } else if (strcmp(op, "rebuild") == 0) {
        if ((rc = recover_rebuild(st, j, err)))
            return rc;
    } else if (strcmp(op, "suspend") == 0) {
        if ((rc = recover_suspend(st, j, err)))
            return rc;
    } else if (strcmp(op, "resume") == 0) {
        if ((rc = recover_resume(st, j, err)))
            return rc;
    } else if (strcmp(op, "power_off") == 0) {
        if ((rc = destroy_by_uuid(st, j->uuid, err)) ||
            (rc = set_record_state(st, j->uuid, NXL_POWER_SHUTDOWN, -1, err)))
            return rc;
    } else if (strcmp(op, "power_on") == 0 || strcmp(op, "reboot") == 0) {
        nxl_port_dominfo d;
        bool found = false;

        /* A guest that rebooted itself on our request sits shut down
         * waiting to be built again: that is a halted instance too. */
        if (!has_step(j, "create") && !has_step(j, "destroy") &&
            has_step(j, "soft") &&
            (rc = find_domain(st, j->uuid, &d, &found, err)))
            return rc;
        if (has_step(j, "create") || has_step(j, "destroy") ||
            (found && (d.shutdown || d.dying))) {
            if ((rc = destroy_by_uuid(st, j->uuid, err)) ||
                (rc = set_record_state(st, j->uuid, NXL_POWER_SHUTDOWN, -1,
                                       err)))
                return rc;
        }
    } else if (strcmp(op, "pause") != 0 && strcmp(op, "unpause") != 0 &&
               strcmp(op, "crash_dump") != 0) {
        return nxl_error_set(err, NXL_E_FAILED,
                             "instance %s: journal of unknown operation '%s' "
                             "(written by a newer novaxl?); left in place",
                             j->uuid, op);
    }
    nxl__xl_store_remove_temps(&st->store, j->uuid);
    return nxl__xl_journal_remove(&st->store, j->uuid, err);
}

/* Takes the instance's lock (waiting for an operation in progress when
 * wait, else NXL_E_CONFLICT), and first deals with any journal an
 * interrupted operation left. */
static int op_lock_mode(lc_op *op, bool wait, nxl_error *err)
{
    nxl_journal old;
    nxl_error e = NXL_ERROR_INIT;
    int rc;

    rc = nxl__xl_lock(&op->st->store, op->uuid, wait, &op->lock_fd, err);
    if (rc)
        return rc;
    if (!nxl__xl_journal_exists(&op->st->store, op->uuid))
        return 0;
    nxl__journal_init(&old);
    rc = nxl__xl_journal_load(&op->st->store, op->uuid, &old, &e);
    if (rc == 0)
        rc = recover(op->st, &old, &e);
    nxl__journal_dispose(&old);
    if (rc)
        fail_with(err, rc, &e, op->method, op->uuid);
    nxl_error_dispose(&e);
    return rc;
}

static int op_lock(lc_op *op, nxl_error *err)
{
    return op_lock_mode(op, true, err);
}

static int op_save(lc_op *op, nxl_error *err)
{
    int rc;

    if (crashpoint(op->st))
        return crashed(err, op->method);
    rc = nxl__xl_journal_save(&op->st->store, &op->j, err);
    if (rc)
        return rc;
    op->journaled = true;
    if (crashpoint(op->st))
        return crashed(err, op->method);
    return 0;
}

/* Journals the start of name on the instance. */
static int op_begin(lc_op *op, const char *name, nxl_error *err)
{
    memcpy(op->j.uuid, op->uuid, sizeof(op->j.uuid));
    free(op->j.op);
    op->j.op = strdup(name);
    if (!op->j.op)
        return nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", op->method);
    return op_save(op, err);
}

/* Journals step durably; the caller takes it only after this succeeds. */
static int op_step(lc_op *op, const char *step, nxl_error *err)
{
    if (nxl_strv_push(&op->j.steps, step) < 0)
        return nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", op->method);
    return op_save(op, err);
}

/* Ends the operation: removes the journal when done (success, or a
 * failure already recovered), and releases the lock. After a simulated
 * crash nothing is touched, as after a real one: the kernel drops the
 * lock, and the files stay as they were. */
static int op_finish(lc_op *op, bool done, nxl_error *err)
{
    nxl_xl_state *st = op->st;
    bool gone;
    int rc = 0;

    if (st->dead) {
        if (op->lock_fd >= 0)
            close(op->lock_fd);
        goto out;
    }
    if (done && op->journaled) {
        if (crashpoint(st)) {
            close(op->lock_fd);
            rc = crashed(err, op->method);
            goto out;
        }
        rc = nxl__xl_journal_remove(&st->store, op->uuid, err);
    }
    /* The lock file goes with the instance: no record, no journal. */
    gone = !nxl__xl_record_exists(&st->store, op->uuid) &&
           !nxl__xl_journal_exists(&st->store, op->uuid);
    nxl__xl_unlock(&st->store, op->uuid, op->lock_fd, gone);
out:
    op->lock_fd = -1;
    nxl__journal_dispose(&op->j);
    return rc;
}

/* After a failed creating operation (spawn, power_on, reboot): roll back
 * now, exactly as recovery would after a crash. If the rollback itself
 * fails, the journal stays for init_host. Returns whether it is done. */
static bool op_rollback(lc_op *op)
{
    nxl_error e = NXL_ERROR_INIT;
    bool done;

    if (op->st->dead || !op->journaled)
        return !op->st->dead;
    done = recover(op->st, &op->j, &e) == 0;
    if (!done)
        nxl__debug("%s: rollback of %s failed, left for init_host: %s",
                   op->method, op->uuid, nxl_error_message(&e));
    else
        op->journaled = false; /* recover() removed it */
    nxl_error_dispose(&e);
    return done;
}

/* ---- building and starting a domain ----------------------------------------
 */

static bool regular_file(const char *path)
{
    struct stat sb;

    return path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* One local disk file spawn makes under the instance directory. */
typedef struct disk_plan {
    char *path;     /* <instances_dir>/<uuid>/<file> */
    char *src;      /* image to copy in, NULL for a blank disk */
    uint64_t bytes; /* at least this large (sparse beyond the copy) */
} disk_plan;

static void plans_free(disk_plan *plans, size_t n)
{
    for (size_t i = 0; plans && i < n; i++) {
        free(plans[i].path);
        free(plans[i].src);
    }
    free(plans);
}

#define GIB (1024ULL * 1024 * 1024)
#define MIB (1024ULL * 1024)

/* What file (the builder's name under <uuid>/) must hold, from req:
 *   disk       the root disk. A raw or ami image (image_ref in the cache)
 *              is copied in and grown (sparse) to root_gb; an image that
 *              is a kernel (aki, ari) has no filesystem to copy, so a
 *              direct-kernel guest gets a blank root disk of root_gb (at
 *              least 1 MiB, so that the device exists). Other formats
 *              need conversion, which the storage work adds.
 *   disk.ephN  blank, the ephemeral's size (unformatted: mkfs is the
 *              storage work's); disk.swap blank, the swap size.
 *   disk.config  a config drive: not built yet.
 * Every refusal happens before anything is created. */
static int plan_disk(nxl_driver *drv, const nxl_spawn_req *req,
                     const char *file, const char *method, disk_plan *p,
                     nxl_error *err)
{
    const nxl_instance *inst = &req->instance;
    const nxl_block_device_info *bdi = &req->block_device_info;
    const char *fmt = req->image_meta.disk_format;
    int num;

    if (strcmp(file, "disk") == 0) {
        const char *image =
            inst->image_ref ? inst->image_ref : req->image_meta.id;
        bool kernel_image = fmt && (!strcmp(fmt, "aki") || !strcmp(fmt, "ari"));

        p->bytes = inst->root_gb * GIB;
        if (kernel_image || (!image && inst->kernel_id)) {
            if (!inst->kernel_id &&
                !nxl_kvlist_get(&req->image_meta.properties, "kernel_id"))
                return nxl_error_set(err, NXL_E_INVAL,
                                     "%s: instance %s: image %s is a %s "
                                     "image but no kernel_id is given",
                                     method, inst->uuid, image ? image : "?",
                                     fmt);
            if (p->bytes < MIB)
                p->bytes = MIB;
            return 0;
        }
        if (!image)
            return nxl_error_set(err, NXL_E_INVAL,
                                 "%s: instance %s: no image_ref for the "
                                 "root disk",
                                 method, inst->uuid);
        if (fmt && strcmp(fmt, "raw") != 0 && strcmp(fmt, "ami") != 0)
            return nxl_error_set(err, NXL_E_UNSUPPORTED,
                                 "%s: instance %s: root image %s is %s; only "
                                 "raw images can be used yet (conversion is "
                                 "not implemented)",
                                 method, inst->uuid, image, fmt);
        if (nxl_name_validate(image, "image_ref", err) < 0)
            return NXL_E_INVAL;
        if (asprintf(&p->src, "%s/%s", drv->layout.image_cache_dir, image) <
            0) {
            p->src = NULL;
            return nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        }
        if (!regular_file(p->src))
            return nxl_error_set(err, NXL_E_FAILED,
                                 "%s: instance %s: root disk image not "
                                 "found: %s is not a file in the image "
                                 "cache",
                                 method, inst->uuid, p->src);
        return 0;
    }
    if (sscanf(file, "disk.eph%d", &num) == 1) {
        p->bytes = inst->ephemeral_gb * GIB;
        for (size_t i = 0; i < bdi->n_ephemerals; i++)
            if (bdi->ephemerals[i].num == num)
                p->bytes = bdi->ephemerals[i].size * GIB;
        return 0;
    }
    if (strcmp(file, "disk.swap") == 0) {
        p->bytes =
            (bdi->has_swap ? bdi->swap.swap_size : inst->flavor.swap) * MIB;
        return 0;
    }
    return nxl_error_set(err, NXL_E_UNSUPPORTED,
                         "%s: instance %s: local disk %s: building it is not "
                         "implemented yet (config drive)",
                         method, inst->uuid, file);
}

/* Copies src into a new file at path and makes it at least bytes long. */
static int make_disk(const disk_plan *p, nxl_error *err)
{
    char *buf = NULL;
    int in = -1, out = -1, rc;
    struct stat sb;

    out = open(p->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
               0600);
    if (out < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot create %s",
                                 p->path);
        goto out;
    }
    if (p->src) {
        if ((in = open(p->src, O_RDONLY | O_CLOEXEC)) < 0) {
            rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot open %s",
                                     p->src);
            goto out;
        }
        if (!(buf = malloc(MIB))) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
            goto out;
        }
        for (;;) {
            ssize_t r = read(in, buf, MIB), off = 0;

            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot read %s",
                                         p->src);
                goto out;
            }
            if (r == 0)
                break;
            while (off < r) {
                ssize_t w = write(out, buf + off, (size_t)(r - off));

                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                             "cannot write %s", p->path);
                    goto out;
                }
                off += w;
            }
        }
    }
    if (fstat(out, &sb) < 0 ||
        ((uint64_t)sb.st_size < p->bytes &&
         ftruncate(out, (off_t)p->bytes) < 0) ||
        fsync(out) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno, "cannot size %s",
                                 p->path);
        goto out;
    }
    rc = 0;
out:
    free(buf);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

/* An HVM guest's emulated NIC is a tap the device model opens through
 * /dev/net/tun: without it QEMU dies at start and libxl says only
 * ERROR_FAIL, after the domain was built. */
static int check_tun(nxl_driver *drv, const nxl_spawn_req *req,
                     const libxl_domain_config *cfg, const char *method,
                     nxl_error *err)
{
    const char *tun = state_of(drv)->tun_path;

    if (!tun || cfg->b_info.type != LIBXL_DOMAIN_TYPE_HVM)
        return 0;
    for (int i = 0; i < cfg->num_nics; i++) {
        /* libxl's HVM default (UNKNOWN) is the emulated NIC too. */
        if (cfg->nics[i].nictype == LIBXL_NIC_TYPE_VIF)
            continue;
        if (access(tun, R_OK | W_OK) == 0)
            return 0;
        return nxl_error_set(err, NXL_E_FAILED,
                             "%s: instance %s: network_info[%d] is an "
                             "emulated NIC, whose tap the device model opens "
                             "through %s: %s (is the tun module loaded in "
                             "dom0?)",
                             method, req->instance.uuid, i, tun,
                             strerror(errno));
    }
    return 0;
}

static bool spice_on(const libxl_domain_config *cfg)
{
    return cfg->c_info.type == LIBXL_DOMAIN_TYPE_HVM &&
           !libxl_defbool_is_default(cfg->b_info.u.hvm.spice.enable) &&
           libxl_defbool_val(cfg->b_info.u.hvm.spice.enable);
}

/* A SPICE server that qemu could not start fails the create with
 * libxl's bare ERROR_FAIL: say why before anything exists. */
static int check_spice(const nxl_spawn_req *req, const libxl_domain_config *cfg,
                       const char *method, nxl_error *err)
{
    nxl_error cause = NXL_ERROR_INIT;
    int rc;

    if (!spice_on(cfg) ||
        nxl__xl_spice_check_listen(cfg->b_info.u.hvm.spice.host, &cause) == 0)
        return 0;
    rc = nxl_error_set(err, cause.code, "%s: instance %s: %s", method,
                       req->instance.uuid, nxl_error_message(&cause));
    nxl_error_dispose(&cause);
    return rc;
}

/* The libxl config for req, after checking that everything it boots from
 * is there: nothing may be created for a request that cannot start. With
 * plans_r, also the local disks spawn must make (n in *n_plans_r); without
 * it (power_on, reboot) they must exist already. */
static int build_config(nxl_driver *drv, const nxl_spawn_req *req,
                        const char *method, libxl_domain_config *cfg_r,
                        disk_plan **plans_r, size_t *n_plans_r, nxl_error *err)
{
    libxl_domain_config cfg;
    const char *cache = drv->layout.image_cache_dir;
    size_t dlen = strlen(drv->layout.instances_dir);
    disk_plan *plans = NULL;
    size_t n_plans = 0;
    int rc;

    rc = nxl__xl_build_config(req, &drv->layout, &cfg, err);
    if (rc)
        return rc;
    /* Every (re)creation of an instance of a pooled aggregate lands in
     * its cpupool, not only the first. */
    if ((rc = nxl__xl_aggregate_place(drv, req, &cfg, err)))
        goto out;
    if (cfg.b_info.kernel && !regular_file(cfg.b_info.kernel)) {
        rc =
            nxl_error_set(err, NXL_E_FAILED,
                          "%s: instance %s: kernel image not found: %s is "
                          "not a file in the image cache %s",
                          method, req->instance.uuid, cfg.b_info.kernel, cache);
        goto out;
    }
    if (cfg.b_info.ramdisk && !regular_file(cfg.b_info.ramdisk)) {
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "%s: instance %s: ramdisk image not found: %s is "
                           "not a file in the image cache %s",
                           method, req->instance.uuid, cfg.b_info.ramdisk,
                           cache);
        goto out;
    }
    if ((rc = check_tun(drv, req, &cfg, method, err)) ||
        (rc = check_spice(req, &cfg, method, err)))
        goto out;
    if (cfg.num_disks > 0 &&
        !(plans = calloc((size_t)cfg.num_disks, sizeof(*plans)))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    for (int i = 0; i < cfg.num_disks; i++) {
        const char *p = cfg.disks[i].pdev_path;
        const char *file;

        /* Volumes are attached as given; local disks live in the
         * instance directory. */
        if (!p || strncmp(p, drv->layout.instances_dir, dlen) != 0 ||
            p[dlen] != '/')
            continue;
        file = strrchr(p, '/') + 1;
        if (!plans_r) {
            if (!regular_file(p)) {
                rc = nxl_error_set(err, NXL_E_FAILED,
                                   "%s: instance %s: local disk %s is gone",
                                   method, req->instance.uuid, p);
                goto out;
            }
            continue;
        }
        if (!(plans[n_plans].path = strdup(p))) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
            goto out;
        }
        n_plans++;
        if ((rc = plan_disk(drv, req, file, method, &plans[n_plans - 1], err)))
            goto out;
    }
    *cfg_r = cfg;
    if (plans_r) {
        *plans_r = NXL_STEAL(plans);
        *n_plans_r = n_plans;
    }
    plans_free(plans, n_plans);
    return 0;
out:
    plans_free(plans, n_plans);
    libxl_domain_config_dispose(&cfg);
    return rc;
}

/* A SPICE server's port, picked for each create (xl_config.h: the
 * config leaves it 0) and claimed until the create returns; *claimed_r
 * is 0 when cfg has no SPICE or a port already. The domain's own config
 * keeps the port, which is where get_spice_console reads it. */
static int spice_port(libxl_domain_config *cfg, unsigned *claimed_r,
                      nxl_error *err)
{
    libxl_spice_info *spice = &cfg->b_info.u.hvm.spice;
    int rc;

    *claimed_r = 0;
    if (!spice_on(cfg) || spice->port > 0)
        return 0;
    if ((rc = nxl__xl_spice_claim(spice->host, NXL_XL_SPICE_PORT_MIN,
                                  NXL_XL_SPICE_PORT_MAX, claimed_r, err)))
        return rc;
    spice->port = (int)*claimed_r;
    return 0;
}

/* create and unpause, journaled; on failure the caller rolls back (which
 * destroys whatever create left, found by UUID). */
static int create_and_start(lc_op *op, libxl_domain_config *cfg,
                            const nxl_kvlist *metadata, uint32_t *domid_r,
                            nxl_error *err)
{
    nxl_port *port = op->st->port;
    uint32_t domid = 0;
    unsigned spice = 0;
    int rc;

    if ((rc = op_step(op, "create", err)) ||
        (rc = spice_port(cfg, &spice, err)))
        return rc;
    rc = port->ops->create(port, cfg, &domid, err);
    nxl__xl_spice_release(spice);
    if (rc)
        return rc;
    op->j.domid = (int)domid;
    /* The guest's metadata lives and dies with the domain: publish the
     * driver's copy before the guest runs (xl_metadata.h). Best effort:
     * the copy that counts is on disk, and the next change publishes it
     * again; a guest without its metadata is no reason to fail a start. */
    (void)nxl__xl_metadata_publish(op->st, op->uuid, domid, metadata, NULL);
    if ((rc = op_step(op, "unpause", err)))
        return rc;
    rc = port->ops->unpause(port, domid, err);
    if (rc)
        return rc;
    *domid_r = domid;
    return 0;
}

/* The record's copy of a spawn request: what power_on and reboot need to
 * build the domain again. The admin password and injected files are for
 * the first boot only and are not kept on disk. */
static int copy_request(const nxl_spawn_req *req, nxl_spawn_req *copy_r,
                        nxl_error *err)
{
    char *doc = NULL;
    int rc;

    rc = nxl__spawn_req_to_json(req, &doc, err);
    if (rc == 0)
        rc = nxl__spawn_req_from_json(doc, strlen(doc), copy_r, err);
    free(doc);
    if (rc)
        return rc;
    free(copy_r->admin_password);
    copy_r->admin_password = NULL;
    for (size_t i = 0; i < copy_r->n_injected_files; i++) {
        free(copy_r->injected_files[i].path);
        free(copy_r->injected_files[i].contents_b64);
    }
    free(copy_r->injected_files);
    copy_r->injected_files = NULL;
    copy_r->n_injected_files = 0;
    return 0;
}

/* ---- init_host: reconciliation
 * ----------------------------------------------- */

/* Recovers every journal whose operation nobody runs any more. */
static void reconcile_journals(nxl_xl_state *st)
{
    nxl_strv uuids;
    nxl_error e = NXL_ERROR_INIT;

    nxl_strv_init(&uuids);
    if (nxl__xl_store_list_journals(&st->store, &uuids, &e) < 0)
        goto out;
    for (size_t i = 0; i < uuids.n; i++) {
        const char *uuid = uuids.v[i];
        nxl_journal j;
        int fd = -1;

        nxl_error_dispose(&e);
        /* Held: another process or thread is running that operation. */
        if (nxl__xl_lock(&st->store, uuid, false, &fd, &e) < 0)
            continue;
        nxl__journal_init(&j);
        if (nxl__xl_journal_load(&st->store, uuid, &j, &e) == 0 &&
            recover(st, &j, &e) < 0)
            nxl__debug("init_host: %s", nxl_error_message(&e));
        nxl__journal_dispose(&j);
        nxl__xl_unlock(&st->store, uuid, fd,
                       !nxl__xl_record_exists(&st->store, uuid) &&
                           !nxl__xl_journal_exists(&st->store, uuid));
    }
out:
    if (e.code)
        nxl__debug("init_host: %s", nxl_error_message(&e));
    nxl_error_dispose(&e);
    nxl_strv_dispose(&uuids);
}

/* Adopts our domains: each record learns its domain's current domid and
 * state; a record whose domain vanished behind our back (xl destroy, a
 * host reboot) now says SHUTDOWN. Domains without a record are not ours
 * and are left alone. */
static int reconcile_records(nxl_xl_state *st, nxl_error *err)
{
    nxl_port_dominfo *list = NULL;
    size_t n = 0;
    nxl_strv uuids;
    int rc;

    nxl_strv_init(&uuids);
    if ((rc = nxl__xl_store_list_records(&st->store, &uuids, err)) ||
        (rc = st->port->ops->list(st->port, &list, &n, err)))
        goto out;
    for (size_t i = 0; i < uuids.n; i++) {
        const char *uuid = uuids.v[i];
        nxl_error e = NXL_ERROR_INIT;
        int state = -1, domid = -1, fd = -1;
        nxl_record rec;

        if (nxl__xl_lock(&st->store, uuid, false, &fd, &e) < 0) {
            nxl_error_dispose(&e);
            continue;
        }
        nxl__xl_store_remove_temps(&st->store, uuid);
        {
            const nxl_port_dominfo *d =
                nxl__port_dominfo_by_uuid(list, n, uuid);

            if (d) {
                state = power_state_of(d);
                domid = (int)d->domid;
            }
        }
        nxl__record_init(&rec);
        if (nxl__xl_record_load(&st->store, uuid, &rec, &e) == 0) {
            if (domid < 0 && rec.state != NXL_POWER_SUSPENDED &&
                rec.state != NXL_POWER_SHUTDOWN) {
                nxl__debug("init_host: instance %s lost its domain %d "
                           "behind the driver's back: now SHUTDOWN",
                           uuid, rec.domid);
                state = NXL_POWER_SHUTDOWN;
            }
            if (state >= 0 && (state != rec.state || domid != rec.domid)) {
                rec.state = state;
                rec.domid = domid;
                if (nxl__xl_record_save(&st->store, &rec, &e) < 0)
                    nxl__debug("init_host: %s", nxl_error_message(&e));
            }
        } else {
            nxl__debug("init_host: %s", nxl_error_message(&e));
        }
        nxl__record_dispose(&rec);
        nxl_error_dispose(&e);
        nxl__xl_unlock(&st->store, uuid, fd, false);
    }
    rc = 0;
out:
    free(list);
    nxl_strv_dispose(&uuids);
    return rc;
}

/* Lock files of instances that are gone (a crash between the last
 * removal and the unlock). */
static void reconcile_locks(nxl_xl_state *st)
{
    nxl_strv uuids;

    nxl_strv_init(&uuids);
    if (nxl__xl_store_list_locks(&st->store, &uuids, NULL) < 0)
        goto out;
    for (size_t i = 0; i < uuids.n; i++) {
        int fd = -1;

        if (nxl__xl_lock(&st->store, uuids.v[i], false, &fd, NULL) < 0)
            continue;
        nxl__xl_store_remove_temps(&st->store, uuids.v[i]);
        nxl__xl_unlock(&st->store, uuids.v[i], fd,
                       !nxl__xl_record_exists(&st->store, uuids.v[i]) &&
                           !nxl__xl_journal_exists(&st->store, uuids.v[i]));
    }
out:
    nxl_strv_dispose(&uuids);
}

/* Aggregate records a crashed add or remove left `changing` become
 * `error` (undo_aggregate_operation settles them): until then every
 * change to those aggregates would be refused. init_host is when no
 * operation of ours can be running. */
static int recover_aggregates(nxl_error *err)
{
    nxl_error e = NXL_ERROR_INIT;
    nxl_xs *xs = NULL;
    size_t n = 0;
    int rc;

    if ((rc = nxl_xs_open(&xs, &e)) == 0)
        rc = nxl_agg_recover(xs, NXL_AGG_XS_ROOT, &n, &e);
    nxl_xs_close(xs);
    if (rc)
        nxl_error_set(err, rc, "init_host: recovering aggregates: %s",
                      nxl_error_message(&e));
    else if (n)
        nxl__debug("init_host: %zu interrupted aggregate operation(s) now "
                   "in state error",
                   n);
    nxl_error_dispose(&e);
    return rc;
}

int nxl_xl_init_host(nxl_driver *drv, const char *host, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_port *port = NULL;
    int rc;

    (void)host;
    pthread_mutex_lock(&st->lock);
    if (st->dead) {
        pthread_mutex_unlock(&st->lock);
        return crashed(err, "init_host");
    }
    /* The hypervisor first: off dom0 nothing is created on disk. */
    if (!st->port) {
        rc = nxl__port_libxl_new(&port, err);
        if (rc) {
            pthread_mutex_unlock(&st->lock);
            return rc;
        }
        st->port = nxl__port_trace_wrap(port);
        st->port_borrowed = false;
    }
    if (!st->store_open) {
        rc = nxl__xl_store_open(&st->store, drv->layout.instances_dir, err);
        if (rc) {
            pthread_mutex_unlock(&st->lock);
            return rc;
        }
        st->store_open = true;
    }
    pthread_mutex_unlock(&st->lock);

    /* Journals first: a finished or rolled-back operation changes which
     * records exist and what they say. */
    reconcile_journals(st);
    rc = reconcile_records(st, err);
    if (rc)
        return rc;
    reconcile_locks(st);
    if ((rc = recover_aggregates(err)))
        return rc;
    nxl__xl_console_init_host(drv);
    return ev_thread_start(drv, err);
}

int nxl_xl_cleanup_host(nxl_driver *drv, const char *host, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);

    (void)host;
    (void)err;
    /* Closes the libxl session; the records stay, and init_host picks
     * them up again. Operations must not be running (nova calls this at
     * service stop). The event thread uses the port: it stops first. */
    ev_thread_stop(st);
    nxl__xl_console_cleanup_host(drv);
    sweep_final(st);
    pthread_mutex_lock(&st->lock);
    if (!st->port_borrowed)
        nxl__port_free(st->port);
    st->port = NULL;
    st->port_borrowed = false;
    pthread_mutex_unlock(&st->lock);
    return 0;
}

/* ---- inventory
 * --------------------------------------------------------------- */

static int list_records(nxl_driver *drv, const char *method, nxl_strv *uuids_r,
                        nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    int rc;

    if ((rc = ready(st, method, err)))
        return rc;
    return nxl__xl_store_list_records(&st->store, uuids_r, err);
}

int nxl_xl_list_instance_uuids(nxl_driver *drv, nxl_strv *uuids_r,
                               nxl_error *err)
{
    /* Our instances are exactly those with a record: domains without one
     * (Domain-0, xl's) are never listed, and a powered-off instance,
     * which has no domain, still is, as libvirt lists defined domains. */
    return list_records(drv, "list_instance_uuids", uuids_r, err);
}

int nxl_xl_list_instances(nxl_driver *drv, nxl_strv *names_r, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_strv uuids, names;
    int rc;

    nxl_strv_init(&uuids);
    nxl_strv_init(&names);
    if ((rc = list_records(drv, "list_instances", &uuids, err)))
        goto out;
    for (size_t i = 0; i < uuids.n; i++) {
        nxl_record rec;
        nxl_error e = NXL_ERROR_INIT;

        nxl__record_init(&rec);
        rc = nxl__xl_record_load(&st->store, uuids.v[i], &rec, &e);
        /* Destroyed since the scan: not an instance any more. */
        if (rc == NXL_E_NOT_FOUND)
            rc = 0;
        else if (rc)
            nxl_error_set(err, rc, "list_instances: %s", nxl_error_message(&e));
        else if (nxl_strv_push(&names, rec.req.instance.name) < 0)
            rc = nxl_error_set(err, NXL_E_NOMEM,
                               "list_instances: out of memory");
        nxl__record_dispose(&rec);
        nxl_error_dispose(&e);
        if (rc)
            goto out;
    }
    *names_r = names;
    nxl_strv_init(&names);
    rc = 0;
out:
    nxl_strv_dispose(&names);
    nxl_strv_dispose(&uuids);
    return rc;
}

int nxl_xl_get_num_instances(nxl_driver *drv, size_t *n_r, nxl_error *err)
{
    nxl_strv uuids;
    int rc;

    /* One directory scan, no call into libxl at all. */
    nxl_strv_init(&uuids);
    rc = list_records(drv, "get_num_instances", &uuids, err);
    if (rc == 0)
        *n_r = uuids.n;
    nxl_strv_dispose(&uuids);
    return rc;
}

int nxl_xl_instance_request(nxl_driver *drv, const nxl_instance *inst,
                            char **json_r, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_record rec;
    int rc;

    /* No instance lock: the record is replaced by rename, so a reader
     * sees the old or the new one whole. */
    nxl__record_init(&rec);
    if ((rc = ready(st, "instance_request", err)) ||
        (rc = nxl__xl_record_load(&st->store, inst->uuid, &rec, err)))
        goto out;
    rc = nxl__spawn_req_to_json(&rec.req, json_r, err);
out:
    nxl__record_dispose(&rec);
    return rc;
}

int nxl_xl_get_info(nxl_driver *drv, const nxl_instance *inst,
                    nxl_instance_info *info_r, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_instance_info info;
    nxl_port_dominfo d;
    nxl_record rec;
    bool found;
    int rc;

    nxl__record_init(&rec);
    if ((rc = ready(st, "get_info", err)))
        goto out;
    rc = nxl__xl_record_load(&st->store, inst->uuid, &rec, err);
    if (rc)
        goto out;
    if ((rc = find_domain(st, inst->uuid, &d, &found, err)))
        goto out;
    nxl_instance_info_init(&info);
    memcpy(info.id, inst->uuid, sizeof(info.id));
    if (found) {
        info.state = power_state_of(&d);
        info.max_mem_kb = d.max_mem_kb;
        info.mem_kb = d.mem_kb;
        info.num_cpu = d.vcpus;
        info.cpu_time_ns = d.cpu_time_ns;
        info.domid = (int)d.domid;
    } else {
        /* No domain: suspended to disk, or halted (powered off by us or
         * destroyed behind our back: either way SHUTDOWN). */
        info.state = rec.state == NXL_POWER_SUSPENDED ? NXL_POWER_SUSPENDED
                                                      : NXL_POWER_SHUTDOWN;
        info.max_mem_kb = rec.req.instance.memory_mb * 1024;
        info.mem_kb = 0;
        info.num_cpu = rec.req.instance.vcpus;
        info.cpu_time_ns = 0;
        info.domid = -1;
    }
    *info_r = info;
    rc = 0;
out:
    nxl__record_dispose(&rec);
    return rc;
}

int nxl_xl_instance_exists(nxl_driver *drv, const nxl_instance *inst,
                           bool *exists_r, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    int rc;

    /* nova's default: the instance is among list_instance_uuids. */
    if ((rc = ready(st, "instance_exists", err)))
        return rc;
    *exists_r = nxl__xl_record_exists(&st->store, inst->uuid);
    return 0;
}

/* ---- spawn and destroy
 * ---------------------------------------------------------- */

int nxl_xl_spawn(nxl_driver *drv, const nxl_spawn_req *req, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = req->instance.uuid;
    libxl_domain_config cfg;
    bool have_cfg = false, found, done;
    nxl_port_dominfo d;
    nxl_record rec;
    uint32_t domid = 0;
    disk_plan *plans = NULL;
    size_t n_plans = 0;
    char *dir = NULL;
    struct stat sb;
    lc_op op;
    int rc;

    op_init(&op, st, "spawn", uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "spawn", err)))
        goto out;
    /* A disabled host, or one in maintenance, takes no new work: refused
     * before anything exists. */
    if ((rc = nxl__xl_host_accepts_work(drv, "spawn", err)))
        goto out;
    /* Everything that can be checked is checked before anything exists:
     * the config (pure translation) and the images it boots from. */
    if ((rc = build_config(drv, req, "spawn", &cfg, &plans, &n_plans, err)))
        goto out;
    have_cfg = true;
    memcpy(rec.uuid, uuid, sizeof(rec.uuid));
    if ((rc = copy_request(req, &rec.req, err)))
        goto out;
    if (!(dir = nxl__xl_store_instance_dir(&st->store, uuid))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "spawn: out of memory");
        goto out;
    }

    if ((rc = op_lock(&op, err)))
        goto out;
    if (nxl__xl_record_exists(&st->store, uuid)) {
        rc = nxl_error_set(err, NXL_E_EXISTS,
                           "spawn: instance %s already exists", uuid);
        goto out_unlock;
    }
    if ((rc = find_domain(st, uuid, &d, &found, err)))
        goto out_unlock;
    if (found && d.dying) {
        /* A zombie of an instance of that UUID destroyed before: Xen keeps
         * it until dom0 lets go of its memory, and a new domain may sit
         * beside it under the same UUID. */
        nxl__debug("spawn: domain %u with UUID %s is dying; creating the "
                   "instance's domain beside it",
                   d.domid, uuid);
    } else if (found) {
        /* Not ours (no record), so never touched: refuse. */
        rc = nxl_error_set_libxl(err, NXL_E_EXISTS, 0, (int)d.domid,
                                 "spawn: a domain with UUID %s already exists "
                                 "(domain %u, not created by novaxl)",
                                 uuid, d.domid);
        goto out_unlock;
    }

    if (lstat(dir, &sb) == 0) {
        /* Files of an instance that is not ours any more (destroy without
         * destroy_disks): spawn would mix them with its own. */
        rc = nxl_error_set(err, NXL_E_EXISTS,
                           "spawn: %s already exists; delete_instance_files "
                           "first",
                           dir);
        goto out_unlock;
    }

    if ((rc = op_begin(&op, "spawn", err)) ||
        (rc = op_step(&op, "instance_dir", err)))
        goto out_fail;
    if (mkdir(dir, 0700) < 0) {
        rc = nxl_error_set_errno(err, NXL_E_IO, errno,
                                 "spawn: cannot create %s", dir);
        goto out_fail;
    }
    if (n_plans && (rc = op_step(&op, "disks", err)))
        goto out_fail;
    for (size_t i = 0; i < n_plans; i++)
        if ((rc = make_disk(&plans[i], err)))
            goto out_fail;
    if ((rc =
             create_and_start(&op, &cfg, &req->instance.metadata, &domid, err)))
        goto out_fail;

    rec.state = NXL_POWER_RUNNING;
    rec.domid = (int)domid;
    if (crashpoint(st)) {
        rc = crashed(err, "spawn");
        goto out_fail;
    }
    if ((rc = nxl__xl_record_save(&st->store, &rec, err)))
        goto out_fail;
    ev_note(st, uuid, NXL_POWER_NOSTATE, NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;

out_fail:
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, false, NULL);
out:
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    plans_free(plans, n_plans);
    nxl__record_dispose(&rec);
    free(dir);
    ev_flush(st);
    return rc;
}

/* destroy and cleanup. An unknown instance is destroyed already (a
 * domain with its UUID but no record is not ours: untouched); cleanup
 * with destroy_disks also removes files a failed spawn or migration left
 * in its instance directory. */
static int destroy_instance(nxl_driver *drv, const char *method,
                            const char *uuid, bool destroy_disks,
                            bool orphan_files, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    lc_op op;
    int rc;

    op_init(&op, st, method, uuid);
    if ((rc = ready(st, method, err)))
        return rc;
    if ((rc = op_lock(&op, err)))
        goto out_unlock;
    if (!nxl__xl_record_exists(&st->store, uuid)) {
        nxl__debug("%s: warning: instance %s is not known here; "
                   "nothing to destroy",
                   method, uuid);
        rc = orphan_files && destroy_disks
                 ? nxl__xl_store_remove_instance_dir(&st->store, uuid, err)
                 : 0;
        goto out_unlock;
    }
    op.j.destroy_disks = destroy_disks;
    if ((rc = op_begin(&op, "destroy", err)) ||
        (rc = op_step(&op, "destroy", err)) ||
        (rc = destroy_by_uuid(st, uuid, err)) ||
        (rc = op_step(&op, "record", err)) ||
        (rc = nxl__xl_record_remove(&st->store, uuid, err)))
        goto out_unlock;
    if (destroy_disks &&
        ((rc = op_step(&op, "instance_dir", err)) ||
         (rc = nxl__xl_store_remove_instance_dir(&st->store, uuid, err))))
        goto out_unlock;
    /* A suspended instance's save image and a rescue disk are no disks
     * of the instance: they go either way. */
    if (!destroy_disks &&
        ((rc = remove_save_files(st, uuid, err)) ||
         (rc = remove_instance_file(st, uuid, RESCUE_DISK, err))))
        goto out_unlock;
    ev_note(st, uuid, -1, NXL_POWER_NOSTATE);
    rc = op_finish(&op, true, err);
    ev_flush(st);
    return rc;

out_unlock:
    /* A failed destroy leaves a consistent instance (domain and record,
     * or neither); the journal has nothing left to finish in-process. */
    op_finish(&op, !st->dead, NULL);
    return rc;
}

int nxl_xl_destroy(nxl_driver *drv, const nxl_instance *inst,
                   const nxl_network_info *network_info,
                   const nxl_block_device_info *bdi, bool destroy_disks,
                   const char *migrate_data_json, nxl_error *err)
{
    (void)network_info;
    (void)bdi;
    (void)migrate_data_json;
    return destroy_instance(drv, "destroy", inst->uuid, destroy_disks, false,
                            err);
}

int nxl_xl_cleanup(nxl_driver *drv, const nxl_instance *inst,
                   const nxl_network_info *network_info,
                   const nxl_block_device_info *bdi, bool destroy_disks,
                   const char *migrate_data_json, bool destroy_vifs,
                   nxl_error *err)
{
    /* The contract: the domain should be gone already, but after a failed
     * spawn or migration it may not be: whatever is ours goes as destroy
     * does it (journaled the same way). VIFs are backend devices of the
     * domain, which libxl removes with it (and with its hotplug scripts),
     * so there is nothing of them to keep: destroy_vifs has no separate
     * work. Volumes (bdi) are detached by nova's volume layer; the
     * domain's death releases them here. */
    (void)network_info;
    (void)bdi;
    (void)migrate_data_json;
    (void)destroy_vifs;
    return destroy_instance(drv, "cleanup", inst->uuid, destroy_disks, true,
                            err);
}

/* ---- power ------------------------------------------------------------------
 */

/* Loads the record and the domain for an operation under the lock. */
static int load_instance(lc_op *op, nxl_record *rec, nxl_port_dominfo *d,
                         bool *found, nxl_error *err)
{
    int rc = nxl__xl_record_load(&op->st->store, op->uuid, rec, err);

    if (rc)
        return rc;
    return find_domain(op->st, op->uuid, d, found, err);
}

/* set_bootable(false) forbids starting a domain for the instance. */
static int check_bootable(const nxl_record *rec, const char *method,
                          nxl_error *err)
{
    if (!rec->unbootable)
        return 0;
    return nxl_error_set(err, NXL_E_INVALID_STATE,
                         "%s: instance %s is marked not bootable "
                         "(set_bootable); it cannot be started",
                         method, rec->uuid);
}

static int pause_or_unpause(nxl_driver *drv, const nxl_instance *inst,
                            bool pause, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *method = pause ? "pause" : "unpause";
    nxl_port_dominfo d;
    nxl_record rec;
    bool found;
    lc_op op;
    int rc, state;

    op_init(&op, st, method, inst->uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, method, err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    state = found ? power_state_of(&d) : rec.state;
    if (pause && state != NXL_POWER_RUNNING) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "pause: instance %s is %s, not running", inst->uuid,
                           found ? nxl_power_state_name(state) : "shutdown");
        goto out_unlock;
    }
    if (!pause && state != NXL_POWER_PAUSED) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "unpause: instance %s is %s, not paused", inst->uuid,
                           found ? nxl_power_state_name(state) : "shutdown");
        goto out_unlock;
    }
    if ((rc = op_begin(&op, method, err)))
        goto out_unlock;
    rc = pause ? st->port->ops->pause(st->port, d.domid, err)
               : st->port->ops->unpause(st->port, d.domid, err);
    if (rc)
        goto out_unlock;
    if (crashpoint(st)) {
        rc = crashed(err, method);
        goto out_unlock;
    }
    rec.state = pause ? NXL_POWER_PAUSED : NXL_POWER_RUNNING;
    rec.domid = (int)d.domid;
    if ((rc = nxl__xl_record_save(&st->store, &rec, err)))
        goto out_unlock;
    ev_note(st, inst->uuid, state, rec.state);
    rc = op_finish(&op, true, err);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

int nxl_xl_pause(nxl_driver *drv, const nxl_instance *inst, nxl_error *err)
{
    return pause_or_unpause(drv, inst, true, err);
}

int nxl_xl_unpause(nxl_driver *drv, const nxl_instance *inst, nxl_error *err)
{
    return pause_or_unpause(drv, inst, false, err);
}

int nxl_xl_power_off(nxl_driver *drv, const nxl_instance *inst,
                     unsigned int timeout, unsigned int retry_interval,
                     nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_error cause = NXL_ERROR_INIT;
    nxl_port_dominfo d;
    nxl_record rec;
    bool found, down = false;
    lc_op op;
    int rc;

    op_init(&op, st, "power_off", inst->uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "power_off", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (!found) {
        /* Already off: nova's power_off of a stopped instance succeeds. */
        if (rec.state != NXL_POWER_SHUTDOWN &&
            rec.state != NXL_POWER_SUSPENDED) {
            rec.state = NXL_POWER_SHUTDOWN;
            rec.domid = -1;
            rc = nxl__xl_record_save(&st->store, &rec, err);
        }
        goto out_unlock;
    }
    if ((rc = op_begin(&op, "power_off", err)))
        goto out_unlock;
    if (timeout > 0 && !d.shutdown && !d.dying) {
        if ((rc = op_step(&op, "shutdown", &cause)))
            goto out_fail;
        /* A guest that cannot be asked (no PV drivers yet) is destroyed
         * at once, as nova's libvirt driver does when shutdown fails. */
        if (st->port->ops->shutdown(st->port, d.domid, NULL) == 0 &&
            (rc = wait_shutdown(st, d.domid, (uint64_t)timeout * 1000,
                                (uint64_t)retry_interval * 1000,
                                st->port->ops->shutdown, &down, &cause)))
            goto out_fail;
        nxl__debug("power_off: %s %s", inst->uuid,
                   down ? "shut down cleanly" : "did not shut down in time");
    }
    if ((rc = op_step(&op, "destroy", &cause)) ||
        (rc = destroy_by_uuid(st, inst->uuid, &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "power_off");
        goto out_fail;
    }
    rec.state = NXL_POWER_SHUTDOWN;
    rec.domid = -1;
    if ((rc = nxl__xl_record_save(&st->store, &rec, &cause)))
        goto out_fail;
    ev_note(st, inst->uuid, power_state_of(&d), NXL_POWER_SHUTDOWN);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    fail_with(err, st->dead ? rc : NXL_E_POWER_OFF, &cause, "power_off",
              inst->uuid);
    rc = st->dead ? rc : NXL_E_POWER_OFF;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

/* Destroys what is there (when destroy_first) and boots the domain again
 * from the record: the second half of power_on and of a reboot. */
static int restart_domain(nxl_driver *drv, lc_op *op, nxl_record *rec,
                          bool destroy_first, nxl_error *err)
{
    nxl_xl_state *st = op->st;
    libxl_domain_config cfg;
    uint32_t domid = 0;
    int rc;

    if ((rc = instance_config(drv, rec, op->method, &cfg, err)))
        return rc;
    if (destroy_first && ((rc = op_step(op, "destroy", err)) ||
                          (rc = destroy_by_uuid(st, op->uuid, err))))
        goto out;
    if ((rc = create_and_start(op, &cfg, &rec->req.instance.metadata, &domid,
                               err)))
        goto out;
    if (crashpoint(st)) {
        rc = crashed(err, op->method);
        goto out;
    }
    rec->state = NXL_POWER_RUNNING;
    rec->domid = (int)domid;
    rc = nxl__xl_record_save(&st->store, rec, err);
out:
    libxl_domain_config_dispose(&cfg);
    return rc;
}

int nxl_xl_power_on(nxl_driver *drv, const nxl_instance *inst,
                    const nxl_network_info *network_info,
                    const nxl_block_device_info *bdi, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_error cause = NXL_ERROR_INIT;
    nxl_port_dominfo d;
    nxl_record rec;
    bool found, done;
    lc_op op;
    int rc, before;

    (void)network_info;
    (void)bdi;
    op_init(&op, st, "power_on", inst->uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "power_on", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (rec.state == NXL_POWER_SUSPENDED && !found) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "power_on: instance %s is suspended; resume it",
                           inst->uuid);
        goto out_unlock;
    }
    if (rec.soft_deleted) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "power_on: instance %s is soft-deleted; restore "
                           "it",
                           inst->uuid);
        goto out_unlock;
    }
    if (found && !d.shutdown && !d.dying) {
        /* Already on. A paused domain is left paused: unpause is its own
         * operation in nova, and power_on must not undo a pause. */
        goto out_unlock;
    }
    if ((rc = check_bootable(&rec, "power_on", err)))
        goto out_unlock;
    before = found ? power_state_of(&d) : NXL_POWER_SHUTDOWN;
    if ((rc = op_begin(&op, "power_on", &cause)) ||
        (rc = restart_domain(drv, &op, &rec, found, &cause)))
        goto out_fail;
    ev_note(st, inst->uuid, before, NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    rc = st->dead ? rc : rc;
    fail_with(err, rc, &cause, "power_on", inst->uuid);
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

int nxl_xl_reboot(nxl_driver *drv, const nxl_instance *inst,
                  const nxl_network_info *network_info, int reboot_type,
                  const nxl_block_device_info *bdi,
                  nxl_bad_volumes_fn *bad_volumes, void *opaque, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_error cause = NXL_ERROR_INIT;
    nxl_port_dominfo d;
    nxl_record rec;
    bool found, done, down = false;
    lc_op op;
    int rc;

    (void)network_info;
    (void)bdi;
    (void)bad_volumes;
    (void)opaque;
    op_init(&op, st, "reboot", inst->uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "reboot", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (rec.state == NXL_POWER_SUSPENDED && !found) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "reboot: instance %s is suspended; resume it",
                           inst->uuid);
        goto out_unlock;
    }
    if (rec.soft_deleted) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "reboot: instance %s is soft-deleted; restore it",
                           inst->uuid);
        goto out_unlock;
    }
    /* Rebooting a halted instance starts it, which set_bootable(false)
     * forbids; a running one may reboot. */
    if ((!found || d.shutdown || d.dying) &&
        (rc = check_bootable(&rec, "reboot", err)))
        goto out_unlock;
    if ((rc = op_begin(&op, "reboot", &cause)))
        goto out_fail;
    /* SOFT asks the guest, and only a running guest can answer; a paused,
     * halted or unanswering one gets the HARD path, so the instance ends
     * RUNNING as the contract asks. */
    if (reboot_type == NXL_REBOOT_SOFT && found &&
        power_state_of(&d) == NXL_POWER_RUNNING) {
        if ((rc = op_step(&op, "soft", &cause)))
            goto out_fail;
        if (st->port->ops->reboot(st->port, d.domid, NULL) == 0 &&
            (rc = wait_shutdown(st, d.domid, st->soft_reboot_timeout_ms, 0,
                                st->port->ops->reboot, &down, &cause)))
            goto out_fail;
        nxl__debug("reboot: %s %s", inst->uuid,
                   down ? "rebooted by the guest; re-creating its domain"
                        : "did not reboot in time; rebooting HARD");
    }
    /* libxl leaves a rebooted domain shut down (reason reboot): building
     * it again is the toolstack's job, as it is xl's. */
    if ((rc = restart_domain(drv, &op, &rec, found, &cause)))
        goto out_fail;
    /* From running to running is no event: nova's manager would take a
     * STOPPED in the middle of a reboot for the guest stopping. */
    ev_note(st, inst->uuid, found ? power_state_of(&d) : NXL_POWER_SHUTDOWN,
            NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    if (!st->dead) {
        fail_with(err, NXL_E_REBOOT, &cause, "reboot", inst->uuid);
        rc = NXL_E_REBOOT;
    } else {
        fail_with(err, rc, &cause, "reboot", inst->uuid);
    }
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

/* ---- suspend and resume
 * ------------------------------------------------------ */

int nxl_xl_suspend(nxl_driver *drv, const nxl_instance *inst, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = inst->uuid;
    nxl_error cause = NXL_ERROR_INIT;
    nxl_port_dominfo d;
    nxl_record rec;
    char *tmp = NULL, *final = NULL;
    bool found, done;
    lc_op op;
    int rc, fd = -1, state;

    op_init(&op, st, "suspend", uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "suspend", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    state = found ? power_state_of(&d) : rec.state;
    /* Only a running guest can answer libxl's suspend request (a paused
     * PV guest never would); nova suspends ACTIVE instances only. */
    if (state != NXL_POWER_RUNNING) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "suspend: instance %s is %s, not running", uuid,
                           found ? nxl_power_state_name(state)
                                 : nxl_power_state_name(rec.state));
        goto out_unlock;
    }
    if (!(tmp = save_path(st, uuid, true)) ||
        !(final = save_path(st, uuid, false))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "suspend: out of memory");
        goto out_unlock;
    }
    /* The image is written under a temporary name and renamed once
     * complete and on disk, so a file under the final name is always a
     * whole image (recover_suspend relies on it). */
    if ((rc = op_begin(&op, "suspend", &cause)) ||
        (rc = op_step(&op, "save", &cause)))
        goto out_fail;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = nxl_error_set_errno(&cause, NXL_E_IO, errno, "cannot create %s",
                                 tmp);
        goto out_fail;
    }
    if ((rc = st->port->ops->save(st->port, d.domid, fd, &cause)))
        goto out_fail;
    if (fsync(fd) < 0) {
        rc =
            nxl_error_set_errno(&cause, NXL_E_IO, errno, "cannot sync %s", tmp);
        goto out_fail;
    }
    close(fd);
    fd = -1;
    if ((rc = op_step(&op, "written", &cause)) ||
        (rc = nxl__xl_store_rename(tmp, final, &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "suspend");
        goto out_fail;
    }
    /* libxl leaves the saved domain shut down (reason suspend). */
    if ((rc = op_step(&op, "destroy", &cause)) ||
        (rc = destroy_by_uuid(st, uuid, &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "suspend");
        goto out_fail;
    }
    rec.state = NXL_POWER_SUSPENDED;
    rec.domid = -1;
    if ((rc = nxl__xl_record_save(&st->store, &rec, &cause)))
        goto out_fail;
    ev_note(st, uuid, state, NXL_POWER_SUSPENDED);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    if (fd >= 0)
        close(fd);
    fail_with(err, rc, &cause, "suspend", uuid);
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    free(tmp);
    free(final);
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

int nxl_xl_resume(nxl_driver *drv, const nxl_instance *inst,
                  const nxl_network_info *network_info,
                  const nxl_block_device_info *bdi, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = inst->uuid;
    nxl_error cause = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    bool have_cfg = false, found, done;
    nxl_port_dominfo d;
    nxl_record rec;
    char *final = NULL;
    uint32_t domid = 0;
    unsigned spice = 0;
    lc_op op;
    int rc, fd = -1;

    (void)network_info;
    (void)bdi;
    op_init(&op, st, "resume", uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "resume", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (found || rec.state != NXL_POWER_SUSPENDED ||
        !save_exists(st, uuid, false)) {
        rc = nxl_error_set(
            err, NXL_E_INVALID_STATE,
            "resume: instance %s is %s, not suspended", uuid,
            nxl_power_state_name(found ? power_state_of(&d) : rec.state));
        goto out_unlock;
    }
    if (!(final = save_path(st, uuid, false))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "resume: out of memory");
        goto out_unlock;
    }
    /* The config is checked (and its disks must be there) before anything
     * is created. */
    if ((rc = instance_config(drv, &rec, "resume", &cfg, err)))
        goto out_unlock;
    have_cfg = true;
    if ((rc = op_begin(&op, "resume", &cause)) ||
        (rc = op_step(&op, "restore", &cause)))
        goto out_fail;
    fd = open(final, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = nxl_error_set_errno(&cause, NXL_E_IO, errno, "cannot open %s",
                                 final);
        goto out_fail;
    }
    if ((rc = spice_port(&cfg, &spice, &cause)) == 0)
        rc = st->port->ops->restore(st->port, &cfg, fd, &domid, &cause);
    nxl__xl_spice_release(spice);
    close(fd);
    if (rc)
        goto out_fail;
    op.j.domid = (int)domid;
    if ((rc = op_step(&op, "unpause", &cause)) ||
        (rc = st->port->ops->unpause(st->port, domid, &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "resume");
        goto out_fail;
    }
    rec.state = NXL_POWER_RUNNING;
    rec.domid = (int)domid;
    /* The guest runs: its image is stale from now on, and goes. */
    if ((rc = nxl__xl_record_save(&st->store, &rec, &cause)) ||
        (rc = remove_save_files(st, uuid, &cause)))
        goto out_fail;
    ev_note(st, uuid, NXL_POWER_SUSPENDED, NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    fail_with(err, rc, &cause, "resume", uuid);
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    free(final);
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

/* ---- soft_delete and restore
 * ------------------------------------------------- */

int nxl_xl_soft_delete(nxl_driver *drv, const nxl_instance *inst,
                       nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = inst->uuid;
    nxl_error cause = NXL_ERROR_INIT;
    nxl_port_dominfo d;
    nxl_record rec;
    bool found, done;
    lc_op op;
    int rc, before;

    op_init(&op, st, "soft_delete", uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "soft_delete", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (rec.soft_deleted)
        goto out_unlock; /* already: nothing more to free */
    before = found ? power_state_of(&d) : rec.state;
    /* Holds nothing afterwards: no domain (destroyed, not asked: nova
     * soft-deletes what the user deleted), no save image either. The
     * record stays, marked, for restore. */
    if ((rc = op_begin(&op, "soft_delete", &cause)) ||
        (rc = op_step(&op, "destroy", &cause)) ||
        (rc = destroy_by_uuid(st, uuid, &cause)) ||
        (rc = remove_save_files(st, uuid, &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "soft_delete");
        goto out_fail;
    }
    rec.state = NXL_POWER_SHUTDOWN;
    rec.domid = -1;
    rec.soft_deleted = true;
    if ((rc = nxl__xl_record_save(&st->store, &rec, &cause)))
        goto out_fail;
    ev_note(st, uuid, before, NXL_POWER_SHUTDOWN);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    fail_with(err, rc, &cause, "soft_delete", uuid);
    /* Finished, not undone: the journal's recovery completes it. */
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

int nxl_xl_restore(nxl_driver *drv, const nxl_instance *inst, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = inst->uuid;
    nxl_error cause = NXL_ERROR_INIT;
    nxl_port_dominfo d;
    nxl_record rec;
    bool found, done;
    lc_op op;
    int rc;

    op_init(&op, st, "restore", uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "restore", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (!rec.soft_deleted) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "restore: instance %s is not soft-deleted", uuid);
        goto out_unlock;
    }
    if ((rc = check_bootable(&rec, "restore", err)))
        goto out_unlock;
    /* Unmarked first, then booted as power_on does (journaled as one):
     * a failure or crash in the boot leaves an ordinary halted instance,
     * which power_on starts. */
    rec.soft_deleted = false;
    if ((rc = op_begin(&op, "power_on", &cause)) ||
        (rc = nxl__xl_record_save(&st->store, &rec, &cause)) ||
        (rc = restart_domain(drv, &op, &rec, found, &cause)))
        goto out_fail;
    ev_note(st, uuid, NXL_POWER_SHUTDOWN, NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    fail_with(err, rc, &cause, "restore", uuid);
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

/* ---- rescue and unrescue
 * ------------------------------------------------------- */

static int image_meta_copy(const nxl_image_meta *im, nxl_image_meta *copy_r,
                           nxl_error *err)
{
    nxl_image_meta c;

    nxl_image_meta_init(&c);
    if ((im->id && !(c.id = strdup(im->id))) ||
        (im->name && !(c.name = strdup(im->name))) ||
        (im->disk_format && !(c.disk_format = strdup(im->disk_format))) ||
        (im->container_format &&
         !(c.container_format = strdup(im->container_format))))
        goto nomem;
    c.size = im->size;
    c.min_disk = im->min_disk;
    c.min_ram = im->min_ram;
    for (size_t i = 0; i < im->properties.n; i++)
        if (nxl_kvlist_set(&c.properties, im->properties.items[i].key,
                           im->properties.items[i].value) < 0)
            goto nomem;
    *copy_r = c;
    return 0;
nomem:
    nxl_image_meta_dispose(&c);
    return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
}

static int replace_str(char **dst, const char *src, nxl_error *err)
{
    char *v = NULL;

    if (src && !(v = strdup(src)))
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    free(*dst);
    *dst = v;
    return 0;
}

/* rec's request booting rescue image im instead of its own: nova's
 * rules (libvirt's too): the rescue image's kernel and ramdisk when its
 * properties name them, else the instance's own. */
static int rescue_request(const nxl_record *rec, const nxl_image_meta *im,
                          nxl_spawn_req *req_r, nxl_error *err)
{
    nxl_spawn_req req;
    const char *k = nxl_kvlist_get(&im->properties, "kernel_id");
    const char *r = nxl_kvlist_get(&im->properties, "ramdisk_id");
    int rc;

    nxl_spawn_req_init(&req);
    if ((rc = copy_request(&rec->req, &req, err)))
        goto out;
    nxl_image_meta_dispose(&req.image_meta);
    if ((rc = image_meta_copy(im, &req.image_meta, err)) ||
        (rc = replace_str(&req.instance.image_ref, im->id, err)) ||
        (k && (rc = replace_str(&req.instance.kernel_id, k, err))) ||
        (k && (rc = replace_str(&req.instance.ramdisk_id, r, err))))
        goto out;
    *req_r = req;
    nxl_spawn_req_init(&req);
    rc = 0;
out:
    nxl_spawn_req_dispose(&req);
    return rc;
}

/* The config of rec rescued with im: the rescue disk (<uuid>/disk.rescue,
 * made from the rescue image) where the root disk was, so the guest boots
 * it, and the instance's own root disk attached next, at the first free
 * xvd name, with its other disks and volumes where they were. With plan_r,
 * also how to make the rescue disk (rescue makes it); without, it must
 * exist (power_on, reboot, resume of a rescued instance). */
static int build_rescue_config(nxl_driver *drv, const nxl_record *rec,
                               const nxl_image_meta *im, const char *method,
                               libxl_domain_config *cfg_r, disk_plan *plan_r,
                               nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    libxl_domain_config cfg;
    bool have_cfg = false;
    nxl_spawn_req req;
    disk_plan plan = {NULL, NULL, 0};
    char *root = NULL, *rescue = NULL, vdev[8];
    libxl_device_disk *v, *d;
    int rc, idx = -1, max = -1;

    nxl_spawn_req_init(&req);
    if ((rc = rescue_request(rec, im, &req, err)) ||
        (rc = build_config(drv, &req, method, &cfg, NULL, NULL, err)))
        goto out;
    have_cfg = true;
    if (!(root = nxl__xl_store_instance_file(&st->store, rec->uuid, "disk")) ||
        !(rescue = nxl__xl_store_instance_file(&st->store, rec->uuid,
                                               RESCUE_DISK))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    for (int i = 0; i < cfg.num_disks; i++) {
        int k = nxl__xl_vdev_index(cfg.disks[i].vdev);

        if (cfg.disks[i].pdev_path && strcmp(cfg.disks[i].pdev_path, root) == 0)
            idx = i;
        if (k > max)
            max = k;
    }
    if (idx < 0) {
        rc = nxl_error_set(err, NXL_E_UNSUPPORTED,
                           "%s: instance %s boots from a volume; rescuing "
                           "it (a rescue disk in place of a volume) is not "
                           "implemented",
                           method, rec->uuid);
        goto out;
    }
    if (max + 1 >= 26) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "%s: instance %s: no free disk name for its root "
                           "disk next to the rescue disk",
                           method, rec->uuid);
        goto out;
    }
    if (plan_r) {
        if ((rc = plan_disk(drv, &req, "disk", method, &plan, err)))
            goto out;
        plan.path = NXL_STEAL(rescue);
    } else if (!regular_file(rescue)) {
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "%s: instance %s: its rescue disk %s is gone",
                           method, rec->uuid, rescue);
        goto out;
    }
    v = realloc(cfg.disks, ((size_t)cfg.num_disks + 1) * sizeof(*v));
    if (!v) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    cfg.disks = v;
    d = &cfg.disks[cfg.num_disks];
    libxl_device_disk_init(d);
    cfg.num_disks++;
    snprintf(vdev, sizeof(vdev), "xvd%c", 'a' + max + 1);
    d->backend = cfg.disks[idx].backend;
    d->format = cfg.disks[idx].format;
    d->readwrite = 1;
    if (!(d->vdev = strdup(vdev))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    /* The own root disk moves to the new slot; the rescue disk boots. */
    d->pdev_path = cfg.disks[idx].pdev_path;
    cfg.disks[idx].pdev_path = NULL;
    if (!(cfg.disks[idx].pdev_path =
              plan_r ? strdup(plan.path) : strdup(rescue))) {
        rc = nxl_error_set(err, NXL_E_NOMEM, "%s: out of memory", method);
        goto out;
    }
    *cfg_r = cfg;
    have_cfg = false;
    if (plan_r) {
        *plan_r = plan;
        plan.path = plan.src = NULL;
    }
    rc = 0;
out:
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    free(plan.path);
    free(plan.src);
    free(root);
    free(rescue);
    nxl_spawn_req_dispose(&req);
    return rc;
}

/* What rec's domain boots: its own request, or the rescue config. */
static int instance_config(nxl_driver *drv, const nxl_record *rec,
                           const char *method, libxl_domain_config *cfg_r,
                           nxl_error *err)
{
    if (rec->rescued)
        return build_rescue_config(drv, rec, &rec->rescue_image, method, cfg_r,
                                   NULL, err);
    return build_config(drv, &rec->req, method, cfg_r, NULL, NULL, err);
}

/* rescue's recovery. Once the record says rescued the rescue is done.
 * Before, it is rolled back: the rescue disk goes, and if the instance's
 * domain was destroyed (or a rescue domain created) any domain goes and
 * the instance is SHUTDOWN, unrescued, as power_on's rollback leaves it;
 * otherwise its domain was never touched. */
static int recover_rescue(nxl_xl_state *st, const nxl_journal *j,
                          nxl_error *err)
{
    nxl_record rec;
    int rc;

    nxl__record_init(&rec);
    rc = nxl__xl_record_load(&st->store, j->uuid, &rec, err);
    if (rc == 0 && rec.rescued)
        goto out;
    if (rc)
        goto out;
    if ((has_step(j, "destroy") || has_step(j, "create")) &&
        (rc = gone_as(st, j->uuid, NXL_POWER_SHUTDOWN, err)))
        goto out;
    rc = remove_instance_file(st, j->uuid, RESCUE_DISK, err);
out:
    nxl__record_dispose(&rec);
    return rc;
}

/* unrescue's recovery. Before its destroy nothing was touched. After,
 * the unrescue is finished short of booting: no domain, the record
 * unrescued and SHUTDOWN, the rescue disk gone (power_on boots the
 * instance's own disks). */
static int recover_unrescue(nxl_xl_state *st, const nxl_journal *j,
                            nxl_error *err)
{
    nxl_record rec;
    int rc;

    if (!has_step(j, "destroy"))
        return 0;
    if ((rc = destroy_by_uuid(st, j->uuid, err)))
        return rc;
    nxl__record_init(&rec);
    rc = nxl__xl_record_load(&st->store, j->uuid, &rec, err);
    if (rc == 0 &&
        (rec.rescued || rec.state != NXL_POWER_SHUTDOWN || rec.domid != -1)) {
        rec.rescued = false;
        nxl_image_meta_dispose(&rec.rescue_image);
        rec.state = NXL_POWER_SHUTDOWN;
        rec.domid = -1;
        rc = nxl__xl_record_save(&st->store, &rec, err);
    }
    nxl__record_dispose(&rec);
    return rc ? rc : remove_instance_file(st, j->uuid, RESCUE_DISK, err);
}

int nxl_xl_rescue(nxl_driver *drv, const nxl_instance *inst,
                  const nxl_network_info *network_info,
                  const nxl_image_meta *image_meta, const char *rescue_password,
                  nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = inst->uuid;
    nxl_error cause = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    disk_plan plan = {NULL, NULL, 0};
    bool have_cfg = false, found, done;
    nxl_port_dominfo d;
    nxl_record rec;
    uint32_t domid = 0;
    lc_op op;
    int rc, before;

    /* libvirt puts the rescue password on a config drive; this driver
     * builds none yet (and has no agent), so the rescue image's own
     * credentials apply, as with libvirt without a config drive. */
    (void)rescue_password;
    (void)network_info;
    op_init(&op, st, "rescue", uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "rescue", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    before = found ? power_state_of(&d) : rec.state;
    if (rec.rescued || rec.soft_deleted ||
        (!found && rec.state == NXL_POWER_SUSPENDED)) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "rescue: instance %s is %s", uuid,
                           rec.rescued        ? "rescued already"
                           : rec.soft_deleted ? "soft-deleted; restore it"
                                              : "suspended; resume it");
        goto out_unlock;
    }
    if ((rc = check_bootable(&rec, "rescue", err)))
        goto out_unlock;
    /* Everything is checked before anything changes. */
    if ((rc = build_rescue_config(drv, &rec, image_meta, "rescue", &cfg, &plan,
                                  err)))
        goto out_unlock;
    have_cfg = true;
    if ((rc = op_begin(&op, "rescue", &cause)) ||
        (rc = op_step(&op, "rescue_disk", &cause)) ||
        (rc = nxl__xl_store_remove_file(plan.path, &cause)) ||
        (rc = make_disk(&plan, &cause)))
        goto out_fail;
    if (found && ((rc = op_step(&op, "destroy", &cause)) ||
                  (rc = destroy_by_uuid(st, uuid, &cause))))
        goto out_fail;
    if ((rc = create_and_start(&op, &cfg, &rec.req.instance.metadata, &domid,
                               &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "rescue");
        goto out_fail;
    }
    rec.rescued = true;
    rec.state = NXL_POWER_RUNNING;
    rec.domid = (int)domid;
    nxl_image_meta_dispose(&rec.rescue_image);
    if ((rc = image_meta_copy(image_meta, &rec.rescue_image, &cause)) ||
        (rc = nxl__xl_record_save(&st->store, &rec, &cause)))
        goto out_fail;
    ev_note(st, uuid, before, NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    fail_with(err, rc, &cause, "rescue", uuid);
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    free(plan.path);
    free(plan.src);
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

int nxl_xl_unrescue(nxl_driver *drv, const nxl_instance *inst,
                    const nxl_network_info *network_info, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = inst->uuid;
    nxl_error cause = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    bool have_cfg = false, found, done;
    nxl_port_dominfo d;
    nxl_record rec;
    uint32_t domid = 0;
    lc_op op;
    int rc, before;

    (void)network_info;
    op_init(&op, st, "unrescue", uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "unrescue", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (!rec.rescued) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "unrescue: instance %s is not rescued", uuid);
        goto out_unlock;
    }
    before = found ? power_state_of(&d) : rec.state;
    /* The instance's own config, checked (its disks must be there)
     * before the rescue domain goes. */
    if ((rc = build_config(drv, &rec.req, "unrescue", &cfg, NULL, NULL, err)))
        goto out_unlock;
    have_cfg = true;
    rec.rescued = false;
    nxl_image_meta_dispose(&rec.rescue_image);
    rec.state = NXL_POWER_SHUTDOWN;
    rec.domid = -1;
    if ((rc = op_begin(&op, "unrescue", &cause)) ||
        (rc = op_step(&op, "destroy", &cause)) ||
        (rc = destroy_by_uuid(st, uuid, &cause)) ||
        (rc = op_step(&op, "record", &cause)) ||
        (rc = nxl__xl_record_save(&st->store, &rec, &cause)) ||
        (rc = remove_instance_file(st, uuid, RESCUE_DISK, &cause)) ||
        (rc = create_and_start(&op, &cfg, &rec.req.instance.metadata, &domid,
                               &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "unrescue");
        goto out_fail;
    }
    rec.state = NXL_POWER_RUNNING;
    rec.domid = (int)domid;
    if ((rc = nxl__xl_record_save(&st->store, &rec, &cause)))
        goto out_fail;
    /* From the rescue domain to the instance's own: running either way
     * unless the rescue domain was off. */
    ev_note(st, uuid, before, NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    fail_with(err, rc, &cause, "unrescue", uuid);
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    ev_flush(st);
    return rc;
}

/* ---- rebuild
 * ------------------------------------------------------------------ */

/* rebuild's new disks (<file>.rebuild in the instance directory): renamed
 * over their final names when commit, else removed. */
static int rebuild_temps(nxl_xl_state *st, const char *uuid, bool commit,
                         nxl_error *err)
{
    char *dir = nxl__xl_store_instance_dir(&st->store, uuid);
    size_t slen = strlen(REBUILD_SUFFIX);
    struct dirent *e;
    DIR *dh;
    int rc = 0;

    if (!dir)
        return nxl_error_set(err, NXL_E_NOMEM, "out of memory");
    if (!(dh = opendir(dir))) {
        rc = errno == ENOENT ? 0
                             : nxl_error_set_errno(err, NXL_E_IO, errno,
                                                   "cannot read %s", dir);
        free(dir);
        return rc;
    }
    while (rc == 0 && (e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        char *from = NULL, *to = NULL;

        if (n <= slen || strcmp(e->d_name + n - slen, REBUILD_SUFFIX) != 0)
            continue;
        if (asprintf(&from, "%s/%s", dir, e->d_name) < 0)
            from = NULL;
        if (commit &&
            asprintf(&to, "%s/%.*s", dir, (int)(n - slen), e->d_name) < 0)
            to = NULL;
        if (!from || (commit && !to))
            rc = nxl_error_set(err, NXL_E_NOMEM, "out of memory");
        else
            rc = commit ? nxl__xl_store_rename(from, to, err)
                        : nxl__xl_store_remove_file(from, err);
        free(from);
        free(to);
    }
    closedir(dh);
    free(dir);
    return rc;
}

/* rebuild's recovery. The commit point is journaled "commit": after it,
 * the new request and disks are put in place (whatever of that had not
 * happened yet) and the instance is left SHUTDOWN on them, as power_on's
 * rollback leaves an instance; power_on boots the new image. Before it,
 * the new disks and request go, and the instance keeps its old image:
 * SHUTDOWN if its domain had been destroyed, untouched otherwise. */
static int recover_rebuild(nxl_xl_state *st, const nxl_journal *j,
                           nxl_error *err)
{
    bool commit = has_step(j, "commit"), committed;
    int rc;

    if (commit) {
        if ((rc = nxl__xl_record_commit_pending(&st->store, j->uuid, &committed,
                                                err)))
            return rc;
    } else if ((rc = remove_instance_file(st, j->uuid, NXL_XL_RECORD_PENDING,
                                          err))) {
        return rc;
    }
    if ((rc = rebuild_temps(st, j->uuid, commit, err)))
        return rc;
    if (commit || has_step(j, "destroy"))
        return gone_as(st, j->uuid, NXL_POWER_SHUTDOWN, err);
    return 0;
}

int nxl_xl_rebuild(nxl_driver *drv, const nxl_spawn_req *req,
                   nxl_block_devices_fn *block_devices, void *opaque,
                   bool recreate, bool preserve_ephemeral, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    const char *uuid = req->instance.uuid;
    nxl_error cause = NXL_ERROR_INIT;
    libxl_domain_config cfg;
    bool have_cfg = false, found, done, committed;
    disk_plan *plans = NULL;
    size_t n_plans = 0;
    nxl_port_dominfo d;
    nxl_record rec, next;
    uint32_t domid = 0;
    lc_op op;
    int rc, before;

    op_init(&op, st, "rebuild", uuid);
    nxl__record_init(&rec);
    nxl__record_init(&next);
    if ((rc = ready(st, "rebuild", err)))
        goto out;
    if (recreate) {
        /* Evacuation: the instance's files would have to be here already
         * (shared instance storage), which this driver does not provide;
         * capabilities say supports_recreate = false, so nova never asks. */
        rc = nxl_error_set(err, NXL_E_UNSUPPORTED,
                           "rebuild: instance %s: recreate (evacuating a "
                           "failed host) needs shared instance storage, "
                           "which the libxl driver does not have",
                           uuid);
        goto out;
    }
    /* The new config and every image it boots are checked first. */
    if ((rc = build_config(drv, req, "rebuild", &cfg, &plans, &n_plans, err)))
        goto out;
    have_cfg = true;
    memcpy(next.uuid, uuid, sizeof(next.uuid));
    if ((rc = copy_request(req, &next.req, err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    before = found ? power_state_of(&d) : rec.state;
    /* nova rebuilds ACTIVE, STOPPED and ERROR instances only. */
    if (rec.rescued || rec.soft_deleted || before == NXL_POWER_PAUSED ||
        (!found && rec.state == NXL_POWER_SUSPENDED)) {
        rc = nxl_error_set(
            err, NXL_E_INVALID_STATE, "rebuild: instance %s is %s", uuid,
            rec.rescued                  ? "rescued; unrescue it"
            : rec.soft_deleted           ? "soft-deleted; restore it"
            : before == NXL_POWER_PAUSED ? "paused; unpause it"
                                         : "suspended; resume it");
        goto out_unlock;
    }
    if ((rc = check_bootable(&rec, "rebuild", err)))
        goto out_unlock;
    next.state = NXL_POWER_SHUTDOWN;
    next.domid = -1;
    next.unbootable = rec.unbootable;
    /* The new disks are made under temporary names: the root disk from
     * the new image, the swap and ephemeral disks blank, except that
     * preserve_ephemeral keeps each ephemeral disk that exists. */
    for (size_t i = 0; i < n_plans; i++) {
        const char *file = strrchr(plans[i].path, '/') + 1;
        char *tmp = NULL;

        if (preserve_ephemeral && strncmp(file, "disk.eph", 8) == 0 &&
            regular_file(plans[i].path)) {
            free(plans[i].path);
            plans[i].path = NULL;
            continue;
        }
        if (asprintf(&tmp, "%s%s", plans[i].path, REBUILD_SUFFIX) < 0) {
            rc = nxl_error_set(err, NXL_E_NOMEM, "rebuild: out of memory");
            goto out_unlock;
        }
        free(plans[i].path);
        plans[i].path = tmp;
    }
    if ((rc = op_begin(&op, "rebuild", &cause)) ||
        (rc = op_step(&op, "prepare", &cause)) ||
        (rc = rebuild_temps(st, uuid, false, &cause)) ||
        (rc = nxl__xl_record_save_pending(&st->store, &next, &cause)))
        goto out_fail;
    for (size_t i = 0; i < n_plans; i++)
        if (plans[i].path && (rc = make_disk(&plans[i], &cause)))
            goto out_fail;
    if (found && ((rc = op_step(&op, "destroy", &cause)) ||
                  (rc = destroy_by_uuid(st, uuid, &cause))))
        goto out_fail;
    /* nova's detach_block_devices: the volumes leave the old instance. */
    if (block_devices && (rc = block_devices(opaque, false, &req->instance,
                                             &req->block_device_info, &cause)))
        goto out_fail;
    /* The point of no return: the new request replaces the record, the
     * new disks the old. */
    if ((rc = op_step(&op, "commit", &cause)) ||
        (rc = nxl__xl_record_commit_pending(&st->store, uuid, &committed,
                                            &cause)) ||
        (rc = rebuild_temps(st, uuid, true, &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "rebuild");
        goto out_fail;
    }
    if (block_devices && (rc = block_devices(opaque, true, &req->instance,
                                             &req->block_device_info, &cause)))
        goto out_fail;
    if ((rc = create_and_start(&op, &cfg, &req->instance.metadata, &domid,
                               &cause)))
        goto out_fail;
    if (crashpoint(st)) {
        rc = crashed(&cause, "rebuild");
        goto out_fail;
    }
    next.state = NXL_POWER_RUNNING;
    next.domid = (int)domid;
    if ((rc = nxl__xl_record_save(&st->store, &next, &cause)))
        goto out_fail;
    /* Running to running is no event, as for a reboot. */
    ev_note(st, uuid, found ? before : NXL_POWER_SHUTDOWN, NXL_POWER_RUNNING);
    rc = op_finish(&op, true, err);
    goto out;
out_fail:
    fail_with(err, rc, &cause, "rebuild", uuid);
    done = op_rollback(&op);
    op_finish(&op, done, NULL);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    if (have_cfg)
        libxl_domain_config_dispose(&cfg);
    plans_free(plans, n_plans);
    nxl_error_dispose(&cause);
    nxl__record_dispose(&rec);
    nxl__record_dispose(&next);
    ev_flush(st);
    return rc;
}

/* ---- set_bootable, host boot, stuck reboots
 * ----------------------------------- */

int nxl_xl_set_bootable(nxl_driver *drv, const nxl_instance *inst,
                        bool is_bootable, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_record rec;
    lc_op op;
    int rc;

    /* XenAPI's meaning (the only driver nova had for it): a flag that
     * blocks starting the VM. Here it blocks every start of a domain for
     * the instance (power_on, restore, rescue, rebuild, a reboot or a host
     * boot that would start a halted one); stopping stays possible, so
     * nova can always stop or delete it. One atomic record write: nothing
     * to journal. */
    op_init(&op, st, "set_bootable", inst->uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "set_bootable", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = nxl__xl_record_load(&st->store, inst->uuid, &rec, err)))
        goto out_unlock;
    if (rec.unbootable != !is_bootable) {
        rec.unbootable = !is_bootable;
        rc = nxl__xl_record_save(&st->store, &rec, err);
    }
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl__record_dispose(&rec);
    return rc;
}

/* The instance's state after recovering any interrupted operation on it.
 * With wait, after an operation in progress (or the event thread's look
 * at it) ends; else NXL_E_CONFLICT then. */
static int settled_state(nxl_driver *drv, const char *method, const char *uuid,
                         bool wait, nxl_record *rec_r, int *state_r,
                         bool *save_r, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_port_dominfo d;
    bool found;
    lc_op op;
    int rc;

    op_init(&op, st, method, uuid);
    if ((rc = op_lock_mode(&op, wait, err)) ||
        (rc = load_instance(&op, rec_r, &d, &found, err)))
        goto out;
    *state_r = found                                 ? power_state_of(&d)
               : rec_r->state == NXL_POWER_SUSPENDED ? NXL_POWER_SUSPENDED
                                                     : NXL_POWER_SHUTDOWN;
    *save_r = !found && save_exists(st, uuid, false);
out:
    op_finish(&op, !st->dead && op.lock_fd >= 0, NULL);
    return rc;
}

#define POLL_BUSY_MS 3000

int nxl_xl_resume_state_on_host_boot(nxl_driver *drv, const nxl_instance *inst,
                                     const nxl_network_info *network_info,
                                     const nxl_block_device_info *bdi,
                                     nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_record rec;
    bool save = false;
    int rc, state = NXL_POWER_NOSTATE;

    /* nova calls this at service start for an instance it expects to be
     * running that is not (the host rebooted under it). The record says
     * how to bring it back: from its save image when it was suspended
     * (its memory is there), else booted from its disks, as libvirt's
     * hard reboot does. A running instance is left alone; a soft-deleted
     * or unbootable one is not started. It waits for an operation in
     * progress (the event thread looks at every instance each second):
     * nova calls it once, at service start, and a refusal would leave the
     * instance down. */
    nxl__record_init(&rec);
    if ((rc = ready(st, "resume_state_on_host_boot", err)) ||
        (rc = settled_state(drv, "resume_state_on_host_boot", inst->uuid, true,
                            &rec, &state, &save, err)))
        goto out;
    if (state == NXL_POWER_RUNNING)
        goto out;
    if (rec.soft_deleted) {
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "resume_state_on_host_boot: instance %s is "
                           "soft-deleted; restore it",
                           inst->uuid);
        goto out;
    }
    if ((rc = check_bootable(&rec, "resume_state_on_host_boot", err)))
        goto out;
    if (state == NXL_POWER_SUSPENDED && save)
        rc = nxl_xl_resume(drv, inst, network_info, bdi, err);
    else if (state == NXL_POWER_PAUSED)
        rc = nxl_xl_unpause(drv, inst, err);
    else
        rc = nxl_xl_reboot(drv, inst, network_info, NXL_REBOOT_HARD, bdi, NULL,
                           NULL, err);
out:
    nxl__record_dispose(&rec);
    return rc;
}

int nxl_xl_poll_rebooting_instances(nxl_driver *drv, unsigned int timeout,
                                    const nxl_instance *instances, size_t n,
                                    nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    int rc, first = 0;

    /* nova passes the instances whose reboot has been running longer than
     * timeout (it did the filtering). The driver's own reboot always ends
     * (SOFT falls back to HARD after a bound), so a reboot is stuck only
     * when it was interrupted (its journal is recovered here, leaving the
     * instance halted) or when the guest never came back: each such
     * instance that is not running is rebooted HARD, which ends RUNNING.
     * One being operated on right now is not stuck and is skipped, and
     * so are instances that are not ours. A failure on one does not stop
     * the others; the first is reported. */
    (void)timeout;
    if ((rc = ready(st, "poll_rebooting_instances", err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        const char *uuid = instances[i].uuid;
        nxl_error e = NXL_ERROR_INIT;
        nxl_record rec;
        bool save = false;
        int state = NXL_POWER_NOSTATE;

        /* The event thread holds each instance's lock for a moment every
         * second: a lock busy for less than POLL_BUSY_MS is that look,
         * not an operation, and must not make a stuck instance look
         * busy. */
        for (uint64_t t0 = nxl__mono_ms();;) {
            nxl__record_init(&rec);
            rc = settled_state(drv, "poll_rebooting_instances", uuid, false,
                               &rec, &state, &save, &e);
            if (rc != NXL_E_CONFLICT || nxl__mono_ms() - t0 >= POLL_BUSY_MS)
                break;
            nxl__record_dispose(&rec);
            nxl_error_dispose(&e);
            sleep_ms(50);
        }
        if (rc == NXL_E_NOT_FOUND || rc == NXL_E_CONFLICT) {
            nxl__debug("poll_rebooting_instances: %s skipped: %s", uuid,
                       nxl_error_message(&e));
            rc = 0;
        } else if (rc == 0 && state != NXL_POWER_RUNNING &&
                   state != NXL_POWER_SUSPENDED && !rec.soft_deleted) {
            nxl__debug("poll_rebooting_instances: %s is %s; rebooting it "
                       "HARD",
                       uuid, nxl_power_state_name(state));
            nxl_error_dispose(&e);
            rc = nxl_xl_reboot(drv, &instances[i], NULL, NXL_REBOOT_HARD, NULL,
                               NULL, NULL, &e);
        }
        if (rc && !first) {
            first = rc;
            nxl_error_set_libxl(err, rc, e.libxl_rc, e.domid,
                                "poll_rebooting_instances: %s",
                                nxl_error_message(&e));
        }
        nxl_error_dispose(&e);
        nxl__record_dispose(&rec);
    }
    return first;
}

/* ---- smaller members
 * ---------------------------------------------------------- */

int nxl_xl_trigger_crash_dump(nxl_driver *drv, const nxl_instance *inst,
                              nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_port_dominfo d;
    nxl_record rec;
    bool found;
    lc_op op;
    int rc;

    op_init(&op, st, "trigger_crash_dump", inst->uuid);
    nxl__record_init(&rec);
    if ((rc = ready(st, "trigger_crash_dump", err)))
        goto out;
    if ((rc = op_lock(&op, err)) ||
        (rc = load_instance(&op, &rec, &d, &found, err)))
        goto out_unlock;
    if (!found || power_state_of(&d) != NXL_POWER_RUNNING) {
        rc = nxl_error_set(err, NXL_E_NOT_RUNNING,
                           "trigger_crash_dump: instance %s is not running",
                           inst->uuid);
        goto out_unlock;
    }
    if ((rc = op_begin(&op, "crash_dump", err)) ||
        (rc = st->port->ops->send_nmi(st->port, d.domid, err)))
        goto out_unlock;
    rc = op_finish(&op, true, err);
    goto out;
out_unlock:
    op_finish(&op, !st->dead, NULL);
out:
    nxl__record_dispose(&rec);
    return rc;
}

int nxl_xl_instance_on_disk(nxl_driver *drv, const nxl_instance *inst,
                            bool *on_disk_r, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    int rc;

    /* The instance's files live in this host's instances_dir: "on disk"
     * when its record is there (shared storage would show another host's
     * records here as well). */
    if ((rc = ready(st, "instance_on_disk", err)))
        return rc;
    *on_disk_r = nxl__xl_record_exists(&st->store, inst->uuid);
    return 0;
}

int nxl_xl_delete_instance_files(nxl_driver *drv, const nxl_instance *inst,
                                 bool *deleted_r, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    nxl_error e = NXL_ERROR_INIT;
    lc_op op;
    int rc;

    op_init(&op, st, "delete_instance_files", inst->uuid);
    if ((rc = ready(st, "delete_instance_files", err)))
        return rc;
    if ((rc = op_lock(&op, err)))
        goto out;
    if (nxl__xl_record_exists(&st->store, inst->uuid)) {
        /* Still an instance (nova destroys first): its files stay. */
        rc = nxl_error_set(err, NXL_E_INVALID_STATE,
                           "delete_instance_files: instance %s still exists; "
                           "destroy it first",
                           inst->uuid);
        goto out;
    }
    /* nova's contract: report whether the files are gone, not raise. */
    *deleted_r =
        nxl__xl_store_remove_instance_dir(&st->store, inst->uuid, &e) == 0;
    if (!*deleted_r)
        nxl__debug("delete_instance_files: %s", nxl_error_message(&e));
    rc = 0;
out:
    op_finish(&op, !st->dead, NULL);
    nxl_error_dispose(&e);
    return rc;
}

/* ---- the event thread
 * ---------------------------------------------------------- */

/* One thread per driver, from init_host to cleanup_host (or close). It
 * waits on the port's domain events (libxl's DOMAIN_SHUTDOWN and
 * DOMAIN_DEATH, armed per domain with watch_domain and armed again for
 * each new domain) and, every ev_poll_ms, looks at every instance, which
 * also catches what libxl has no event for (pause and unpause with xl).
 * Per instance, under its lock (an instance an operation holds is left
 * to that operation, which reports its own change), it does what xl's
 * own monitor would for our domains and reports the change:
 *   guest rebooted itself  the domain is built again from the record, as
 *                          xl does (journaled as a reboot); the instance
 *                          stays RUNNING and nothing is reported;
 *   guest powered off      the shut-down domain is destroyed (journaled
 *                          as a power_off): STOPPED;
 *   guest crashed          CRASHED; the domain stays for inspection
 *                          (power_on or destroy clean it up);
 *   domain gone (xl destroy)  the record says SHUTDOWN: STOPPED;
 *   paused, unpaused       PAUSED, RESUMED.
 */

typedef struct ev_armed {
    uint32_t *v;
    size_t n;
} ev_armed;

static bool armed_has(const ev_armed *a, uint32_t domid)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i] == domid)
            return true;
    return false;
}

static void armed_del(ev_armed *a, uint32_t domid)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i] == domid) {
            a->v[i] = a->v[--a->n];
            return;
        }
}

/* Arms domid's events; on failure the next look tries again. */
static void arm(nxl_xl_state *st, ev_armed *a, uint32_t domid)
{
    uint32_t *v;

    if (armed_has(a, domid))
        return;
    v = realloc(a->v, (a->n + 1) * sizeof(*v));
    if (!v)
        return;
    a->v = v;
    if (st->port->ops->watch_domain(st->port, domid, NULL) == 0)
        a->v[a->n++] = domid;
}

static bool is_dead(nxl_xl_state *st)
{
    bool dead;

    pthread_mutex_lock(&st->lock);
    dead = st->dead;
    pthread_mutex_unlock(&st->lock);
    return dead;
}

/* rec's domain, now: by the record's domid (every operation keeps it
 * current), else from the snapshot taken before the lock. */
static int live_domain(nxl_xl_state *st, const nxl_record *rec,
                       const nxl_port_dominfo *snap, size_t n_snap,
                       nxl_port_dominfo *d_r, bool *found_r, nxl_error *err)
{
    int domid = rec->domid;

    *found_r = false;
    if (domid < 0) {
        const nxl_port_dominfo *d =
            nxl__port_dominfo_by_uuid(snap, n_snap, rec->uuid);

        if (d)
            domid = (int)d->domid;
    }
    if (domid > 0) {
        nxl_error e = NXL_ERROR_INIT;
        int rc = st->port->ops->domain_info(st->port, (uint32_t)domid, d_r, &e);

        if (rc && rc != NXL_E_NOT_FOUND) {
            nxl_error_set(err, rc, "%s", nxl_error_message(&e));
            nxl_error_dispose(&e);
            return rc;
        }
        nxl_error_dispose(&e);
        *found_r = rc == 0 && strcmp(d_r->uuid, rec->uuid) == 0;
    }
    return 0;
}

/* Looks at one instance; see above. */
static void ev_scan_one(nxl_driver *drv, const char *uuid,
                        const nxl_port_dominfo *snap, size_t n_snap,
                        ev_armed *armed)
{
    nxl_xl_state *st = state_of(drv);
    nxl_error e = NXL_ERROR_INIT;
    nxl_port_dominfo d;
    nxl_record rec;
    bool found, done = true;
    lc_op op;
    int rc, state;

    op_init(&op, st, "event thread", uuid);
    nxl__record_init(&rec);
    if (op_lock_mode(&op, false, &e)) {
        /* Busy: the operation holding it reports its own change. */
        if (op.lock_fd >= 0)
            goto out_unlock;
        goto out;
    }
    rc = nxl__xl_record_load(&st->store, uuid, &rec, &e);
    if (rc == NXL_E_NOT_FOUND) {
        ev_note(st, uuid, -1, NXL_POWER_NOSTATE);
        goto out_unlock;
    }
    if (rc || live_domain(st, &rec, snap, n_snap, &d, &found, &e))
        goto out_unlock;
    if (found && d.shutdown && !d.dying &&
        d.shutdown_reason == LIBXL_SHUTDOWN_REASON_REBOOT) {
        nxl__debug("events: %s rebooted itself; building domain %u again", uuid,
                   d.domid);
        op.method = "reboot";
        if ((rc = op_begin(&op, "reboot", &e)) ||
            (rc = restart_domain(drv, &op, &rec, true, &e))) {
            nxl__debug("events: rebuilding %s failed: %s", uuid,
                       nxl_error_message(&e));
            done = op_rollback(&op);
        }
        /* Whatever happened, the record says where it ended. */
        nxl__record_dispose(&rec);
        nxl__record_init(&rec);
        if (nxl__xl_record_load(&st->store, uuid, &rec, &e) ||
            live_domain(st, &rec, snap, 0, &d, &found, &e))
            goto out_unlock;
    } else if (found && d.shutdown && !d.dying &&
               d.shutdown_reason == LIBXL_SHUTDOWN_REASON_POWEROFF) {
        op.method = "power_off";
        if ((rc = op_begin(&op, "power_off", &e)) ||
            (rc = op_step(&op, "destroy", &e)) ||
            (rc = destroy_by_uuid(st, uuid, &e)) ||
            (rc = set_record_state(st, uuid, NXL_POWER_SHUTDOWN, -1, &e))) {
            nxl__debug("events: reaping %s failed: %s", uuid,
                       nxl_error_message(&e));
            done = op_rollback(&op);
            goto out_unlock;
        }
        found = false;
        rec.state = NXL_POWER_SHUTDOWN;
    }
    if (found) {
        state = power_state_of(&d);
        arm(st, armed, d.domid);
        if (state == NXL_POWER_PAUSED && !ev_pause_settled(st, uuid))
            goto out_unlock;
    } else if (rec.state == NXL_POWER_SUSPENDED) {
        state = NXL_POWER_SUSPENDED;
    } else {
        state = NXL_POWER_SHUTDOWN;
        /* Gone behind our back (xl destroy): halted, as init_host says. */
        if ((rec.state != NXL_POWER_SHUTDOWN || rec.domid != -1) &&
            set_record_state(st, uuid, NXL_POWER_SHUTDOWN, -1, &e))
            goto out_unlock;
    }
    ev_note(st, uuid, -1, state);
out_unlock:
    op_finish(&op, done && !st->dead, NULL);
out:
    if (e.code)
        nxl__debug("events: %s: %s", uuid, nxl_error_message(&e));
    nxl_error_dispose(&e);
    nxl__record_dispose(&rec);
}

static void ev_scan(nxl_driver *drv, ev_armed *armed)
{
    nxl_xl_state *st = state_of(drv);
    nxl_port_dominfo *snap = NULL;
    size_t n_snap = 0;
    nxl_strv uuids;

    nxl_strv_init(&uuids);
    if (nxl__xl_store_list_records(&st->store, &uuids, NULL) == 0 &&
        st->port->ops->list(st->port, &snap, &n_snap, NULL) == 0)
        for (size_t i = 0; i < uuids.n && !is_dead(st); i++)
            ev_scan_one(drv, uuids.v[i], snap, n_snap, armed);
    free(snap);
    nxl_strv_dispose(&uuids);
}

/* Longest a wait for events lasts, so that stopping is quick. */
#define EV_WAIT_MAX_MS 100

static void *ev_main(void *arg)
{
    nxl_driver *drv = arg;
    nxl_xl_state *st = state_of(drv);
    ev_armed armed = {NULL, 0};
    uint64_t next_scan = 0;

    for (;;) {
        nxl_port_event ev;
        unsigned poll, wait;
        bool stop;
        int rc;

        pthread_mutex_lock(&st->ev_lock);
        stop = st->ev_stop;
        poll = st->ev_poll_ms;
        pthread_mutex_unlock(&st->ev_lock);
        if (stop || is_dead(st))
            break;
        if ((uint64_t)nxl__mono_ms() >= next_scan) {
            ev_scan(drv, &armed);
            ev_flush(st);
            nxl__xl_console_tick(drv);
            sweep_dead_domains(st);
            next_scan = nxl__mono_ms() + poll;
        }
        wait = poll < EV_WAIT_MAX_MS ? poll : EV_WAIT_MAX_MS;
        rc = st->port->ops->wait_event(st->port, (int)wait, &ev, NULL);
        if (rc == 0) {
            nxl__debug("events: domain %u: %s", ev.domid,
                       ev.kind == NXL_PORT_EV_DEATH ? "death" : "shutdown");
            /* libxl disarms a domain once it reports its death. */
            if (ev.kind == NXL_PORT_EV_DEATH)
                armed_del(&armed, ev.domid);
            next_scan = 0; /* look now */
        } else if (rc != NXL_E_TIMEOUT) {
            sleep_ms(wait);
        }
    }
    if (!is_dead(st))
        for (size_t i = 0; i < armed.n; i++)
            st->port->ops->unwatch_domain(st->port, armed.v[i], NULL);
    free(armed.v);
    return NULL;
}

static int ev_thread_start(nxl_driver *drv, nxl_error *err)
{
    nxl_xl_state *st = state_of(drv);
    int rc = 0, r;

    pthread_mutex_lock(&st->ev_lock);
    st->drv = drv;
    if (!st->ev_running && st->ev_poll_ms > 0) {
        st->ev_stop = false;
        r = pthread_create(&st->ev_thread, NULL, ev_main, drv);
        if (r)
            rc = nxl_error_set_errno(err, NXL_E_NOMEM, r,
                                     "init_host: cannot start the event "
                                     "thread");
        else
            st->ev_running = true;
    }
    pthread_mutex_unlock(&st->ev_lock);
    return rc;
}

static void ev_thread_stop(nxl_xl_state *st)
{
    pthread_t t;

    pthread_mutex_lock(&st->ev_lock);
    if (!st->ev_running) {
        pthread_mutex_unlock(&st->ev_lock);
        return;
    }
    st->ev_stop = true;
    t = st->ev_thread;
    pthread_mutex_unlock(&st->ev_lock);
    pthread_join(t, NULL);
    pthread_mutex_lock(&st->ev_lock);
    st->ev_running = false;
    pthread_mutex_unlock(&st->ev_lock);
}

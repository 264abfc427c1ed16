/* The event bus: every event gets the next id (1, 2, ...: monotonic for
 * the life of the daemon) and goes into a ring of the last `backlog`
 * events as one serialised JSON line. Subscribers read the ring at their
 * own pace from the id they last saw; one that fell further behind than
 * the ring reaches gets a "gap" event naming the ids it lost, never a
 * silent hole. Publishers never wait for a subscriber.
 *
 * Sources: the driver's lifecycle events (register_event_listener), its
 * aggregate transitions ("aggregate" events: every step of an aggregate's
 * state machine on this host, with its reason), and the mutating calls
 * the daemon completed ("operation" events, with their outcome; host
 * enable/disable and maintenance are among them). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/svc.h"

struct nxl_svc_bus {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char **ring; /* ring[id % cap]: the line of event id */
    size_t cap;
    uint64_t next_id; /* id of the next event; ids start at 1 */
    bool stopped;
};

int nxl_svc_bus_new(size_t backlog, nxl_svc_bus **bus_r, nxl_error *err)
{
    nxl_svc_bus *bus;
    pthread_condattr_t ca;

    if (backlog == 0)
        return nxl_error_set(err, NXL_E_INVAL, "event bus: empty backlog");
    bus = calloc(1, sizeof(*bus));
    if (!bus || !(bus->ring = calloc(backlog, sizeof(*bus->ring)))) {
        free(bus);
        return nxl_error_set(err, NXL_E_NOMEM, "event bus: out of memory");
    }
    bus->cap = backlog;
    bus->next_id = 1;
    pthread_mutex_init(&bus->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&bus->cond, &ca);
    pthread_condattr_destroy(&ca);
    *bus_r = bus;
    return 0;
}

void nxl_svc_bus_free(nxl_svc_bus *bus)
{
    if (!bus)
        return;
    for (size_t i = 0; i < bus->cap; i++)
        free(bus->ring[i]);
    free(bus->ring);
    pthread_cond_destroy(&bus->cond);
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Publishes what fill() writes after the id, under the lock (the id must
 * be in the line and ids must go out in order). */
typedef void fill_fn(nxl_jw *w, const void *arg);

static void publish(nxl_svc_bus *bus, fill_fn *fill, const void *arg)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_jw *w = nxl__jw_new();
    char *line = NULL;
    uint64_t id;

    pthread_mutex_lock(&bus->lock);
    id = bus->next_id;
    nxl__jw_object_open(w);
    nxl__jw_kv_uint(w, "id", id);
    fill(w, arg);
    nxl__jw_object_close(w);
    if (nxl__jw_finish(w, &line, &err) == 0) {
        free(bus->ring[id % bus->cap]);
        bus->ring[id % bus->cap] = line;
        bus->next_id++;
        pthread_cond_broadcast(&bus->cond);
    }
    pthread_mutex_unlock(&bus->lock);
    if (err.code)
        nxl_svc_log(LOG_ERR, NULL, "event bus: event dropped: %s",
                    nxl_error_message(&err));
    nxl_error_dispose(&err);
    nxl__jw_free(w);
}

static void fill_lifecycle(nxl_jw *w, const void *arg)
{
    const nxl_event *ev = arg;

    nxl__jw_kv_int(w, "timestamp_us",
                   ev->timestamp_us ? ev->timestamp_us : now_us());
    nxl__jw_kv_string(w, "type", "lifecycle");
    nxl__jw_kv_string(w, "uuid", ev->uuid);
    nxl__jw_kv_string(w, "transition",
                      nxl_event_transition_name(ev->transition));
    nxl__jw_kv_int(w, "transition_code", ev->transition);
}

static void fill_aggregate(nxl_jw *w, const void *arg)
{
    const nxl_aggregate_event *ae = arg;

    nxl__jw_kv_int(w, "timestamp_us",
                   ae->base.timestamp_us ? ae->base.timestamp_us : now_us());
    nxl__jw_kv_string(w, "type", "aggregate");
    nxl__jw_kv_int(w, "aggregate_id", ae->aggregate_id);
    nxl__jw_kv_string(w, "aggregate_name", ae->aggregate_name);
    nxl__jw_kv_string(w, "from", ae->from_state);
    nxl__jw_kv_string(w, "to", ae->to_state);
    nxl__jw_kv_string(w, "op", ae->op);
    nxl__jw_kv_string(w, "host", ae->host);
    nxl__jw_kv_string(w, "reason", ae->reason);
    nxl__jw_kv_uint(w, "seq", ae->seq);
}

void nxl_svc_bus_lifecycle(void *opaque, const nxl_event *ev)
{
    nxl_svc_bus *bus = opaque;
    const nxl_aggregate_event *ae = nxl_event_aggregate(ev);

    if (ae) {
        nxl_svc_log(LOG_INFO, NULL, "event: aggregate %lld %s -> %s: %s",
                    (long long)ae->aggregate_id, ae->from_state, ae->to_state,
                    ae->reason);
        publish(bus, fill_aggregate, ae);
        return;
    }

    nxl_svc_log(LOG_INFO, ev->uuid, "event: %s",
                nxl_event_transition_name(ev->transition));
    publish(bus, fill_lifecycle, ev);
}

typedef struct op_arg {
    const char *method, *uuid, *result;
    const nxl_error *err;
} op_arg;

static void fill_operation(nxl_jw *w, const void *arg)
{
    const op_arg *a = arg;

    nxl__jw_kv_int(w, "timestamp_us", now_us());
    nxl__jw_kv_string(w, "type", "operation");
    nxl__jw_kv_string(w, "method", a->method);
    if (a->uuid)
        nxl__jw_kv_string(w, "uuid", a->uuid);
    if (a->err && a->err->code) {
        nxl__jw_kv_bool(w, "ok", false);
        nxl__jw_key(w, "error");
        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "kind", nxl_error_nova_name(a->err->code));
        nxl__jw_kv_string(w, "code", nxl_error_code_name(a->err->code));
        nxl__jw_kv_string(w, "message", nxl_error_message(a->err));
        nxl__jw_object_close(w);
    } else {
        nxl__jw_kv_bool(w, "ok", true);
        if (a->result)
            nxl__jw_kv_string(w, "result", a->result);
    }
}

void nxl_svc_bus_operation(nxl_svc_bus *bus, const char *method,
                           const char *uuid, const char *result,
                           const nxl_error *err)
{
    op_arg a = {method, uuid, result, err};

    publish(bus, fill_operation, &a);
}

uint64_t nxl_svc_bus_last_id(nxl_svc_bus *bus)
{
    uint64_t id;

    pthread_mutex_lock(&bus->lock);
    id = bus->next_id - 1;
    pthread_mutex_unlock(&bus->lock);
    return id;
}

static uint64_t oldest_locked(const nxl_svc_bus *bus)
{
    return bus->next_id > bus->cap ? bus->next_id - bus->cap : 1;
}

uint64_t nxl_svc_bus_oldest_id(nxl_svc_bus *bus)
{
    uint64_t id;

    pthread_mutex_lock(&bus->lock);
    id = oldest_locked(bus);
    pthread_mutex_unlock(&bus->lock);
    return id;
}

static char *gap_line(uint64_t from, uint64_t to)
{
    nxl_jw *w = nxl__jw_new();
    char *line = NULL;

    /* The gap carries the last lost id as its own: a client that
     * records ids resumes after it, exactly where the backlog starts. */
    nxl__jw_object_open(w);
    nxl__jw_kv_uint(w, "id", to);
    nxl__jw_kv_int(w, "timestamp_us", now_us());
    nxl__jw_kv_string(w, "type", "gap");
    nxl__jw_kv_uint(w, "from", from);
    nxl__jw_kv_uint(w, "to", to);
    nxl__jw_kv_uint(w, "missed", to - from + 1);
    nxl__jw_object_close(w);
    if (nxl__jw_finish(w, &line, NULL))
        line = NULL;
    nxl__jw_free(w);
    return line;
}

nxl_svc_bus_next_kind nxl_svc_bus_next(nxl_svc_bus *bus, uint64_t after,
                                       int timeout_ms, char **line_r,
                                       uint64_t *id_r)
{
    struct timespec until;
    nxl_svc_bus_next_kind kind;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&bus->lock);
    for (;;) {
        uint64_t oldest = oldest_locked(bus);

        if (bus->stopped) {
            kind = NXL_SVC_BUS_STOPPED;
            break;
        }
        if (bus->next_id - 1 > after) {
            if (after + 1 < oldest) {
                char *line = gap_line(after + 1, oldest - 1);
                kind = line ? NXL_SVC_BUS_GAP : NXL_SVC_BUS_NOMEM;
                *line_r = line;
                *id_r = oldest - 1;
            } else {
                char *line = strdup(bus->ring[(after + 1) % bus->cap]);
                kind = line ? NXL_SVC_BUS_EVENT : NXL_SVC_BUS_NOMEM;
                *line_r = line;
                *id_r = after + 1;
            }
            break;
        }
        if (pthread_cond_timedwait(&bus->cond, &bus->lock, &until) ==
            ETIMEDOUT) {
            kind = NXL_SVC_BUS_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&bus->lock);
    return kind;
}

void nxl_svc_bus_stop(nxl_svc_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    bus->stopped = true;
    pthread_cond_broadcast(&bus->cond);
    pthread_mutex_unlock(&bus->lock);
}

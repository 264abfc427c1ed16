/* novaxl: aggregate (pool) membership as a persisted state machine.
 *
 * Why: Nova tells each compute host when it joins or leaves an aggregate
 * (add_to_aggregate / remove_from_aggregate) and asks it to roll back when
 * the manager's side failed (undo_aggregate_operation). XAPI pools kept a
 * state per pool whose `error` could never be left; here every aggregate
 * this host has seen has a small record in dom0-only xenstore, with the
 * states of nova's old xenapi/pool_states.py and a bounded history of
 * transitions, and `error` is left through undo.
 *
 * States and transitions (every one recorded with a reason):
 *
 *     (none) --first op--> created
 *     created | active | dismissed --add--> changing --ok--> active
 *     active --remove--> changing --ok--> active (hosts left)
 *                                    \--> dismissed (none left)
 *     changing --apply failed / interrupted--> error
 *     any --undo(set_error)--> error   (the op is rolled back; stays error)
 *     error | changing | any --undo(!set_error)--> active | created |
 *                                          dismissed (the settled state)
 *
 * `changing` is the lock: while an operation is between its two
 * transactions, other add/remove calls are refused (NXL_E_DENIED), so two
 * managers can never interleave on one aggregate. Membership, metadata
 * and the final state change are written in ONE xenstore transaction, so
 * a crash (or a killed process) between the two transitions leaves the
 * record in `changing` with the pending op, its host and the state before
 * it: membership untouched. nxl_agg_recover() (for init_host) turns such
 * stale records into `error` naming the interrupted op; undo then settles
 * them.
 *
 * Layout under root (NXL_AGG_XS_ROOT unless a test picks another), owner
 * dom0 and no access for any other domain, set when root is created:
 *
 *     <root>/<id>/name, availability_zone, state, seq, since
 *     <root>/<id>/op, op_host, prev        (only while changing / error)
 *     <root>/<id>/hosts/<hkey>             = host name
 *     <root>/<id>/metadata/<mkey>/key, value
 *     <root>/<id>/history/<seq>/time, from, to, op, host, reason
 *
 * <id> is Nova's aggregate id in decimal: names can be renamed and are
 * free text. Host names and metadata keys are free text too, so their
 * xenstore keys are encoded by nxl_agg_key_encode(); the original text is
 * stored as a value and compared on every lookup.
 *
 * Not thread-safe per handle beyond what nxl_xs gives; correctness across
 * handles and processes comes from xenstore transactions.
 */
#ifndef NOVAXL_AGGREGATES_AGG_H
#define NOVAXL_AGGREGATES_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "novaxl/nxl-types.h"
#include "xenstore/xs.h"

#define NXL_AGG_XS_ROOT "/local/domain/0/novaxl/aggregates"
/* Transitions kept per aggregate; older ones are deleted in the same
 * transaction that adds a new one. */
#define NXL_AGG_HISTORY_MAX 16
/* A reason is cut to this many bytes (it holds libxl or xenstore
 * messages, which we do not control). */
#define NXL_AGG_REASON_MAX 480
/* Metadata values: Nova caps them at 255; xenstore requests at 4096. */
#define NXL_AGG_VALUE_MAX 1024

typedef enum nxl_agg_state {
    NXL_AGG_NONE = 0, /* no record on this host */
    NXL_AGG_CREATED = 1,
    NXL_AGG_CHANGING = 2,
    NXL_AGG_ACTIVE = 3,
    NXL_AGG_ERROR = 4,
    NXL_AGG_DISMISSED = 5,
} nxl_agg_state;

/* "created", ...; "none" for NXL_AGG_NONE, "unknown" outside the enum. */
NXL_HIDDEN const char *nxl_agg_state_name(int state);

typedef struct nxl_agg_transition {
    uint64_t seq;
    int64_t time; /* seconds since the Epoch */
    int from;     /* nxl_agg_state */
    int to;
    char *op;   /* "add_to_aggregate", ..., "recover"; NULL when none */
    char *host; /* NULL when none */
    char *reason;
} nxl_agg_transition;

/* What this host knows of one aggregate. */
typedef struct nxl_agg_record {
    int64_t id;
    char *name;
    char *availability_zone; /* NULL when none */
    int state;               /* nxl_agg_state */
    uint64_t seq;            /* transitions so far */
    int64_t since;           /* time of the last transition */
    char *op;                /* pending or failed op; NULL when none */
    char *op_host;
    int prev; /* state before `changing`; NXL_AGG_NONE when none */
    nxl_strv hosts;
    nxl_kvlist metadata;
    nxl_agg_transition *history; /* oldest first */
    size_t n_history;
} nxl_agg_record;

NXL_HIDDEN void nxl_agg_record_init(nxl_agg_record *r);
NXL_HIDDEN void nxl_agg_record_dispose(nxl_agg_record *r);

/* The external side of an op, run between `changing` and the final
 * transition (a cpupool move, when an aggregate maps onto one). It runs
 * outside any transaction and must be idempotent: after a crash, undo
 * may run its inverse for a half-done op. A failure moves the aggregate
 * to `error` with the message as reason and is returned. op is
 * "add_to_aggregate" or "remove_from_aggregate"; undo calls it with the
 * inverse op. May be NULL. */
typedef int nxl_agg_apply_fn(void *opaque, const char *op,
                             const nxl_aggregate *agg, const char *host,
                             nxl_error *err);

/* Checks what would be written for agg and host: name, zone, metadata
 * keys (1..255 bytes of UTF-8, no control characters, no '/', not "." or
 * "..") and values (at most NXL_AGG_VALUE_MAX bytes of UTF-8, no control
 * characters), at most NXL_MAX_LIST_ITEMS of them, host a valid name.
 * NXL_E_INVAL naming the offender. Every operation calls it first, so a
 * bad key writes nothing. */
NXL_HIDDEN int nxl_agg_validate(const nxl_aggregate *agg, const char *host,
                                nxl_error *err);

/* The xenstore key for free text s: bytes in [A-Za-z0-9-] are kept,
 * every other byte becomes _XX (hex). When that is longer than
 * NXL_XS_KEY_MAX, the first 46 bytes are kept and "_h" and the 16 hex
 * digits of the 64-bit FNV-1a hash of s appended. out must have
 * NXL_XS_KEY_MAX + 1 bytes. Deterministic; callers compare the stored
 * original to rule out a hash collision. */
NXL_HIDDEN void nxl_agg_key_encode(const char *s, char *out);

/* Joins host to agg on this host: created (first time), changing, then
 * apply (may be NULL), then active with host a member and metadata
 * replaced by agg's. NXL_E_DENIED when the aggregate is changing or in
 * error (the message says how to recover), NXL_E_INVAL when host already
 * belongs to it or input is bad, NXL_E_CONFLICT when the record changed
 * under us between the transitions (an undo won), the apply error when
 * apply fails (state is then error). */
NXL_HIDDEN int nxl_agg_add_host(nxl_xs *xs, const char *root,
                                const nxl_aggregate *agg, const char *host,
                                nxl_agg_apply_fn *apply, void *opaque,
                                nxl_error *err);

/* The inverse: active -> changing -> active, or dismissed when the last
 * host leaves. NXL_E_DENIED from created ("no hosts to remove"),
 * changing, error and dismissed; NXL_E_NOT_FOUND when this host has no
 * record of agg; NXL_E_INVAL when host is not a member. */
NXL_HIDDEN int nxl_agg_remove_host(nxl_xs *xs, const char *root,
                                   const nxl_aggregate *agg, const char *host,
                                   nxl_agg_apply_fn *apply, void *opaque,
                                   nxl_error *err);

/* nova's undo_aggregate_operation: rolls op back for host (after an add,
 * host is not a member; after a remove, it is), running apply with the
 * inverse op first. With set_error the aggregate ends in `error` (the
 * manager says something went wrong); without, it settles: active when
 * it has hosts, else the state before the op (created or dismissed).
 * Works from every state, which is how `error` is left. NXL_E_NOT_FOUND
 * when this host has no record of agg. */
NXL_HIDDEN int nxl_agg_undo(nxl_xs *xs, const char *root, const char *op,
                            const nxl_aggregate *agg, const char *host,
                            bool set_error, nxl_agg_apply_fn *apply,
                            void *opaque, nxl_error *err);

/* Reads the record of aggregate id into rec_r (empty on entry).
 * NXL_E_NOT_FOUND when there is none. nxl_agg_record_dispose(rec_r). */
NXL_HIDDEN int nxl_agg_get(nxl_xs *xs, const char *root, int64_t id,
                           nxl_agg_record *rec_r, nxl_error *err);

/* The ids of every aggregate with a record, as decimal strings.
 * nxl_strv_dispose(ids_r) (empty on entry). */
NXL_HIDDEN int nxl_agg_list(nxl_xs *xs, const char *root, nxl_strv *ids_r,
                            nxl_error *err);

/* For init_host, when no operation can be running: every record left in
 * `changing` by a process that died moves to `error` with the
 * interrupted op in the reason. *n_r (may be NULL) counts them. */
NXL_HIDDEN int nxl_agg_recover(nxl_xs *xs, const char *root, size_t *n_r,
                               nxl_error *err);

#endif /* NOVAXL_AGGREGATES_AGG_H */

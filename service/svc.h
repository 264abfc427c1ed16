/* novaxld, the dom0 service: what its files share (never installed).
 *
 *   novaxld.c  options, start-up (driver + init_host), signals, shutdown
 *   config.c   the configuration file (every key, its default, reload)
 *   log.c      syslog or stderr, a level reloadable with SIGHUP
 *   server.c   sockets, peer credentials, connections, the worker pool,
 *              JSON-RPC 2.0 framing, the subscribe stream
 *   methods.c  the method table: one JSON request -> one nxl_* call
 *   events.c   the event bus: monotonic ids, a bounded backlog, gaps
 *
 * The service holds no logic of the driver's: it maps a request to one
 * nxl_* call and the outcome to one reply (STYLE.md, "service and cli").
 * All JSON goes through common/json.c (the only yajl user).
 */
#ifndef NOVAXL_SERVICE_SVC_H
#define NOVAXL_SERVICE_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "common/internal.h"
#include "common/json.h"
#include "novaxl/nxl.h"

/* ---- log.c ------------------------------------------------------------------
 */

/* Levels are syslog priorities: LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6,
 * LOG_DEBUG 7. */
void nxl_svc_log_open(bool to_stderr);
void nxl_svc_log_close(void);
void nxl_svc_log_set_level(int level);
int nxl_svc_log_get_level(void);
/* "error", "warning", "info", "debug" -> the priority; -1 otherwise. */
int nxl_svc_log_level_parse(const char *name);
const char *nxl_svc_log_level_name(int level);
/* One line; with uuid non-NULL it starts "instance <uuid>: ". */
void nxl_svc_log(int prio, const char *uuid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- config.c
 * ---------------------------------------------------------------- */

typedef struct nxl_svc_config {
    char *socket_path;    /* read-write socket */
    char *ro_socket_path; /* read-only socket; NULL: none */
    unsigned socket_mode; /* permission bits of the read-write socket */
    unsigned ro_socket_mode;
    char *admin_group; /* group allowed on the rw socket; NULL: none */
    char *ro_group;    /* group allowed on the ro socket; NULL: all */
    char *host;        /* nova's CONF.host; NULL: gethostname() */
    char *instances_dir;
    char *image_cache_dir;
    char *console_log_dir;
    unsigned console_log_cap;      /* bytes */
    unsigned console_log_interval; /* s */
    char *serial_listen;
    char *serial_port_range;  /* "min:max" */
    int log_level;            /* reloadable */
    unsigned idle_timeout;    /* s; 0: none. Reloadable */
    unsigned max_connections; /* reloadable */
    unsigned max_request_bytes;
    unsigned max_inflight; /* requests in flight per connection */
    unsigned workers;
    unsigned event_backlog;
    unsigned write_timeout; /* s a reply may take to go out */
} nxl_svc_config;

/* Fills the defaults (docs/protocol.md, etc/novaxl/novaxld.conf). */
int nxl_svc_config_init(nxl_svc_config *cfg);
void nxl_svc_config_dispose(nxl_svc_config *cfg);
/* Reads "key = value" lines over cfg. An unknown key, a bad value or an
 * unreadable file is NXL_E_INVAL/NXL_E_IO naming the file and line; cfg
 * is then unchanged. */
int nxl_svc_config_load(nxl_svc_config *cfg, const char *path, nxl_error *err);
/* Sets one key from text (the command line uses it too). */
int nxl_svc_config_set(nxl_svc_config *cfg, const char *key, const char *value,
                       nxl_error *err);

/* ---- events.c
 * ---------------------------------------------------------------- */

typedef struct nxl_svc_bus nxl_svc_bus;

int nxl_svc_bus_new(size_t backlog, nxl_svc_bus **bus_r, nxl_error *err);
void nxl_svc_bus_free(nxl_svc_bus *bus);
/* The driver's lifecycle and aggregate events (nxl_event_fn; opaque is
 * the bus). */
void nxl_svc_bus_lifecycle(void *bus, const nxl_event *ev);
/* A mutating call the daemon completed: method, the instance (may be
 * NULL), the outcome (err NULL or code 0: success) and, for host calls,
 * the result word ("disabled", ...; may be NULL). */
void nxl_svc_bus_operation(nxl_svc_bus *bus, const char *method,
                           const char *uuid, const char *result,
                           const nxl_error *err);
/* Highest id published so far (0: none). */
uint64_t nxl_svc_bus_last_id(nxl_svc_bus *bus);
/* Oldest id still in the backlog (last + 1 when empty). */
uint64_t nxl_svc_bus_oldest_id(nxl_svc_bus *bus);

typedef enum nxl_svc_bus_next_kind {
    NXL_SVC_BUS_EVENT,   /* *line_r: the event after `after` */
    NXL_SVC_BUS_GAP,     /* *line_r: a gap event; ids up to *id_r lost */
    NXL_SVC_BUS_TIMEOUT, /* nothing new within timeout_ms */
    NXL_SVC_BUS_STOPPED, /* the bus is shutting down */
    NXL_SVC_BUS_NOMEM,
} nxl_svc_bus_next_kind;

/* Waits up to timeout_ms for the first event with an id above after.
 * *line_r (malloc'd, one JSON object without newline) and *id_r are set
 * for EVENT and GAP. */
nxl_svc_bus_next_kind nxl_svc_bus_next(nxl_svc_bus *bus, uint64_t after,
                                       int timeout_ms, char **line_r,
                                       uint64_t *id_r);
/* Wakes every waiter; next() answers STOPPED from now on. */
void nxl_svc_bus_stop(nxl_svc_bus *bus);

/* ---- methods.c -------------------------------------------------------------
 */

/* JSON-RPC error codes (docs/protocol.md). */
enum {
    NXL_RPC_PARSE_ERROR = -32700,
    NXL_RPC_INVALID_REQUEST = -32600,
    NXL_RPC_METHOD_NOT_FOUND = -32601,
    NXL_RPC_INVALID_PARAMS = -32602,
    NXL_RPC_INTERNAL_ERROR = -32603,
    NXL_RPC_DRIVER_ERROR = -32000,    /* the contract's error; data.kind */
    NXL_RPC_NOT_IMPLEMENTED = -32001, /* a contract method not mapped yet */
    NXL_RPC_FORBIDDEN = -32003,       /* refused on this socket */
    NXL_RPC_BUSY = -32004,            /* too many connections, stopping */
};

/* What a handler gets. */
typedef struct nxl_svc_call {
    nxl_driver *drv;
    const nxl_json *params;         /* an object, or NULL when absent */
    char uuid[NXL_UUID_STRLEN + 1]; /* set by the handler: the instance */
    const char *result_word;        /* set by host handlers: "disabled", ... */
    int rpc_code; /* set with err: which JSON-RPC code carries it */
} nxl_svc_call;

/* Writes the result value into w, or returns a negative NXL_E_* with err
 * set (rpc_code says INVALID_PARAMS or DRIVER_ERROR). */
typedef int nxl_svc_method_fn(nxl_svc_call *call, nxl_jw *w, nxl_error *err);

typedef struct nxl_svc_method {
    const char *name;
    nxl_svc_method_fn *fn; /* NULL: a contract method not mapped yet */
    bool read_only;        /* allowed on the read-only socket */
    bool mutating;         /* completions go on the event bus */
} nxl_svc_method;

/* The method called name, or NULL. "subscribe" is in the table (with fn
 * NULL and read_only) but server.c serves it. */
const nxl_svc_method *nxl_svc_method_find(const char *name);
/* Every entry, for docs and tests. */
const nxl_svc_method *nxl_svc_methods(size_t *n_r);

/* ---- server.c --------------------------------------------------------------
 */

typedef struct nxl_svc_server nxl_svc_server;

/* Binds the sockets (read-write, and read-only when configured) and
 * starts the worker pool. cfg is copied where kept; drv and bus are
 * borrowed until nxl_svc_server_free(). */
int nxl_svc_server_new(const nxl_svc_config *cfg, nxl_driver *drv,
                       nxl_svc_bus *bus, nxl_svc_server **srv_r,
                       nxl_error *err);
/* Serves until a SIGTERM or SIGINT arrives on sigfd (a signalfd), calling
 * reload() on SIGHUP. Then stops accepting, lets every request already
 * read finish and be answered, ends streams, and returns 0. */
int nxl_svc_server_run(nxl_svc_server *srv, int sigfd,
                       void (*reload)(void *opaque, nxl_svc_server *srv),
                       void *opaque);
/* Applies the reloadable keys of cfg (log_level, idle_timeout,
 * max_connections). */
void nxl_svc_server_reconfigure(nxl_svc_server *srv, const nxl_svc_config *cfg);
void nxl_svc_server_free(nxl_svc_server *srv);

#endif /* NOVAXL_SERVICE_SVC_H */

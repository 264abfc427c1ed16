/* The hypervisor port: the only calls the libxl driver makes into libxl.
 *
 * Why it exists: the driver's own logic (request validation, the operation
 * journal, cleanup after a failed spawn, records, events) must be testable
 * without a hypervisor. So every call into libxl goes through this small
 * ops table, in the shape of git's struct ref_storage_be. The real port
 * (xl_port_libxl.c) makes one libxl call per op where it can; the fake
 * (xl_port_fake.c) keeps domains in memory and fails on cue.
 *
 * What the fake must never hide: anything that is not libxl itself. It
 * keeps libxl's contract where the driver can see it: create and restore
 * leave the domain PAUSED; shutdown and reboot are requests a guest answers
 * (the domain then sits in "shutdown" with a reason until it is destroyed);
 * suspend leaves a shut-down (reason suspend) domain the caller must
 * destroy; list includes Domain-0; a failed create can leave a
 * half-created domain behind; errors go through the same xl_rc map with the
 * same raw libxl rc. Whatever the fake cannot model honestly (guest
 * behaviour, timing, device setup) is for the Xen lab (tests/lab/) to prove.
 *
 * Conventions: every op returns 0 or a negative NXL_E_*, fills the
 * caller-owned err (may be NULL) at the failure with the raw libxl rc and
 * the domid, and writes its _r outputs only on success. Ports are
 * thread-safe: several threads may call ops on one port at once, but only
 * one thread at a time may wait for events.
 */
#ifndef NOVAXL_XL_PORT_H
#define NOVAXL_XL_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxl.h>

#include "common/internal.h"
#include "novaxl/nxl-error.h"
#include "novaxl/nxl-types.h"

typedef struct nxl_port nxl_port;

/* One domain as libxl_dominfo reports it. Plain data: owns no memory. */
typedef struct nxl_port_dominfo {
    uint32_t domid;
    char uuid[NXL_UUID_STRLEN + 1]; /* lower-case canonical form */
    bool running;
    bool blocked;
    bool paused;
    bool shutdown;
    bool dying;
    bool crashed; /* shutdown with reason crash */
    /* A libxl_shutdown_reason; LIBXL_SHUTDOWN_REASON_UNKNOWN unless
     * shutdown is set. */
    int shutdown_reason;
    uint64_t mem_kb; /* current */
    uint64_t max_mem_kb;
    uint32_t vcpus; /* online */
    uint64_t cpu_time_ns;
    uint32_t cpupool; /* the cpupool id the domain runs in (0: Pool-0) */
} nxl_port_dominfo;

/* The domain with uuid in v (Domain-0 never): the one that is not dying
 * when there is one, else the newest dying one; NULL when none. A
 * destroyed domain stays listed, dying, for as long as some dom0 process
 * (a stuck QEMU, a leaked grant or foreign mapping) holds one of its
 * pages: such a zombie can sit beside the instance's next domain under
 * the same UUID, and it is never the one to report or act on. */
NXL_HIDDEN const nxl_port_dominfo *
nxl__port_dominfo_by_uuid(const nxl_port_dominfo *v, size_t n,
                          const char *uuid);

/* Host facts (libxl_get_physinfo + libxl_get_version_info). Plain data. */
typedef struct nxl_port_hostinfo {
    uint32_t nr_cpus;
    uint32_t threads_per_core;
    uint32_t cores_per_socket;
    uint32_t nr_nodes;
    uint32_t cpu_khz;
    uint64_t total_kb;
    uint64_t free_kb;
    bool cap_pv;
    bool cap_hvm;
    int xen_major;
    int xen_minor;
    char xen_extra[32];     /* ".7", possibly truncated */
    char capabilities[256]; /* "xen-3.0-x86_64 hvm-3.0-x86_32 ..." */
} nxl_port_hostinfo;

/* One vcpu as libxl_vcpuinfo reports it. Plain data. */
typedef struct nxl_port_vcpu {
    uint32_t id;
    bool online;
    uint64_t time_ns; /* CPU time it has used */
} nxl_port_vcpu;

/* One physical CPU: Xen's idle time for it (xc_getcpuinfo) and its place
 * in the topology (libxl_get_cpu_topology). Plain data. */
typedef struct nxl_port_pcpu {
    uint32_t cpu;
    bool online; /* false: offline or absent; the rest is then 0 */
    uint64_t idle_ns;
    uint32_t core;
    uint32_t socket;
    uint32_t node;
} nxl_port_pcpu;

/* One NUMA node (libxl_get_numainfo). Plain data. */
typedef struct nxl_port_numa_node {
    uint32_t node;
    bool online; /* false: no memory there (an empty or absent node) */
    uint64_t total_kb;
    uint64_t free_kb;
} nxl_port_numa_node;

/* cpupool names are free text to Xen; ours are bounded. */
#define NXL_PORT_POOL_NAME_MAX 63
/* CPUs a cpupool's map can name: more than any host the driver runs on. */
#define NXL_PORT_MAX_CPUS 1024

/* One cpupool (libxl_list_cpupool). Plain data. */
typedef struct nxl_port_cpupool {
    uint32_t poolid;
    char name[NXL_PORT_POOL_NAME_MAX + 1];
    uint32_t n_domains;                    /* Domain-0 counts in Pool-0 */
    uint8_t cpumap[NXL_PORT_MAX_CPUS / 8]; /* bit i: physical CPU i */
} nxl_port_cpupool;

static inline bool nxl__port_cpumap_test(const uint8_t *map, uint32_t cpu)
{
    return cpu < NXL_PORT_MAX_CPUS && (map[cpu / 8] >> (cpu % 8)) & 1;
}

static inline void nxl__port_cpumap_set(uint8_t *map, uint32_t cpu)
{
    if (cpu < NXL_PORT_MAX_CPUS)
        map[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
}

typedef enum nxl_port_event_kind {
    /* The domain shut down (libxl DOMAIN_SHUTDOWN); it still exists. */
    NXL_PORT_EV_SHUTDOWN = 1,
    /* The domain is gone (libxl DOMAIN_DEATH). */
    NXL_PORT_EV_DEATH = 2,
} nxl_port_event_kind;

typedef struct nxl_port_event {
    uint32_t domid;
    int kind;            /* nxl_port_event_kind */
    int shutdown_reason; /* libxl_shutdown_reason, for SHUTDOWN */
} nxl_port_event;

typedef struct nxl_port_ops {
    const char *name; /* "libxl", "fake", "trace" */
    /* Frees the port and everything it owns; NULL-safe via nxl__port_free. */
    void (*free)(nxl_port *port);

    /* libxl_domain_create_new on a private copy of cfg. The new domain is
     * left PAUSED, so the caller can record it before it runs. On failure
     * a half-created domain may remain (libxl's ERROR_ABORTED): its domid
     * is then in err->domid, for the caller to destroy. */
    int (*create)(nxl_port *port, const libxl_domain_config *cfg,
                  uint32_t *domid_r, nxl_error *err);
    /* libxl_domain_destroy: the domain is gone on success. */
    int (*destroy)(nxl_port *port, uint32_t domid, nxl_error *err);
    int (*pause)(nxl_port *port, uint32_t domid, nxl_error *err);
    int (*unpause)(nxl_port *port, uint32_t domid, nxl_error *err);
    /* Clean shutdown and reboot are requests (libxl_domain_shutdown,
     * libxl_domain_reboot): success means the guest was asked. Watch
     * events, or poll domain_info, for the outcome. A rebooted domain ends
     * up shut down with reason reboot; re-creating it is the caller's job,
     * as it is xl's. */
    int (*shutdown)(nxl_port *port, uint32_t domid, nxl_error *err);
    int (*reboot)(nxl_port *port, uint32_t domid, nxl_error *err);
    /* libxl_send_trigger(LIBXL_TRIGGER_NMI) to vcpu 0. */
    int (*send_nmi)(nxl_port *port, uint32_t domid, nxl_error *err);

    /* libxl_domain_info. NXL_E_NOT_FOUND when there is no such domain. */
    int (*domain_info)(nxl_port *port, uint32_t domid, nxl_port_dominfo *r,
                       nxl_error *err);
    /* libxl_list_domain, Domain-0 included. *list_r is malloc'd; free(). */
    int (*list)(nxl_port *port, nxl_port_dominfo **list_r, size_t *n_r,
                nxl_error *err);
    /* libxl_name_to_domid. NXL_E_NOT_FOUND when no domain has the name. */
    int (*name_to_domid)(nxl_port *port, const char *name, uint32_t *domid_r,
                         nxl_error *err);

    /* libxl_domain_suspend: writes the domain's state to fd (which the
     * caller opened and closes). The domain is left shut down with reason
     * suspend; the caller destroys it. */
    int (*save)(nxl_port *port, uint32_t domid, int fd, nxl_error *err);
    /* libxl_domain_create_restore from fd, on a private copy of cfg. The
     * domain is left PAUSED; on failure, as create. */
    int (*restore)(nxl_port *port, const libxl_domain_config *cfg, int fd,
                   uint32_t *domid_r, nxl_error *err);
    /* libxl_retrieve_domain_configuration, as libxl's own JSON
     * (libxl_domain_config_to_json). JSON rather than a struct because a
     * libxl_domain_config can only be copied or parsed with a live
     * libxl_ctx, which the fake does not have. *json_r: free(). */
    int (*retrieve_config)(nxl_port *port, uint32_t domid, char **json_r,
                           nxl_error *err);

    /* libxl userdata (per-domain blobs libxl deletes with the domain).
     * retrieve gives *data_r == NULL, *len_r == 0 when there is none;
     * otherwise *data_r is malloc'd. A zero-length store removes. */
    int (*userdata_store)(nxl_port *port, uint32_t domid, const char *userid,
                          const uint8_t *data, size_t len, nxl_error *err);
    int (*userdata_retrieve)(nxl_port *port, uint32_t domid, const char *userid,
                             uint8_t **data_r, size_t *len_r, nxl_error *err);
    int (*userdata_remove)(nxl_port *port, uint32_t domid, const char *userid,
                           nxl_error *err);

    int (*host_info)(nxl_port *port, nxl_port_hostinfo *r, nxl_error *err);

    /* Arms (libxl_evenable_domain_death) SHUTDOWN and DEATH events for
     * domid. A domain stays armed after its SHUTDOWN is reported, so its
     * DEATH still comes; reporting DEATH disarms it. Arming a domid that
     * does not exist reports its DEATH at once; arming twice is a no-op. */
    int (*watch_domain)(nxl_port *port, uint32_t domid, nxl_error *err);
    /* Disarms; events already queued may still be reported. */
    int (*unwatch_domain)(nxl_port *port, uint32_t domid, nxl_error *err);
    /* Waits up to timeout_ms (0: just check, -1: forever) for the next
     * event of an armed domain. NXL_E_TIMEOUT when none came. */
    int (*wait_event)(nxl_port *port, int timeout_ms, nxl_port_event *ev_r,
                      nxl_error *err);

    /* libxl_list_vcpu: every vcpu of domid, in vcpu order. *list_r is
     * malloc'd; free(). NXL_E_NOT_FOUND when there is no such domain. */
    int (*vcpu_list)(nxl_port *port, uint32_t domid, nxl_port_vcpu **list_r,
                     size_t *n_r, nxl_error *err);
    /* libxl_vm_get_start_time: when domid was created, in seconds since
     * the Epoch (libxl reads it from /vm/<uuid>/start_time, a node only
     * dom0 writes). NXL_E_NOT_FOUND when libxl cannot tell. */
    int (*start_time)(nxl_port *port, uint32_t domid, uint64_t *secs_r,
                      nxl_error *err);
    /* libxl_domain_need_memory on a private copy of cfg (libxl defaults
     * the config it is given): the free host memory, in KiB, that
     * building the domain takes, its RAM included (page tables, shadow
     * or p2m memory, device model extras; rounded as libxl rounds). */
    int (*need_memory)(nxl_port *port, const libxl_domain_config *cfg,
                       uint64_t *need_kb_r, nxl_error *err);

    /* Every physical CPU up to the host's nr_cpus, in CPU order, with
     * Xen's idle time (xc_getcpuinfo) and libxl_get_cpu_topology's
     * place. *list_r is malloc'd; free(). */
    int (*pcpu_list)(nxl_port *port, nxl_port_pcpu **list_r, size_t *n_r,
                     nxl_error *err);
    /* libxl_get_numainfo: every node, in node order. *list_r: free(). */
    int (*numa_list)(nxl_port *port, nxl_port_numa_node **list_r, size_t *n_r,
                     nxl_error *err);
    /* libxl_list_cpupool, Pool-0 first. *list_r is malloc'd; free(). */
    int (*cpupool_list)(nxl_port *port, nxl_port_cpupool **list_r, size_t *n_r,
                        nxl_error *err);
    /* libxl_cpupool_create with the host's default scheduler and the
     * CPUs of cpumap, which must be free (in no pool: remove them from
     * Pool-0 first). NXL_E_EXISTS when a pool has the name. */
    int (*cpupool_create)(nxl_port *port, const char *name,
                          const uint8_t *cpumap, uint32_t *poolid_r,
                          nxl_error *err);
    /* libxl_cpupool_destroy: its CPUs become free. Xen refuses (EBUSY)
     * while domains run in it; Pool-0 cannot go. */
    int (*cpupool_destroy)(nxl_port *port, uint32_t poolid, nxl_error *err);
    /* libxl_cpupool_cpuadd: a free CPU joins poolid. */
    int (*cpupool_cpu_add)(nxl_port *port, uint32_t poolid, uint32_t cpu,
                           nxl_error *err);
    /* libxl_cpupool_cpuremove: the CPU becomes free. Xen refuses to take
     * the last CPU of a pool that has domains. */
    int (*cpupool_cpu_remove)(nxl_port *port, uint32_t poolid, uint32_t cpu,
                              nxl_error *err);
} nxl_port_ops;

/* Every port starts with this header; backends embed it first. */
struct nxl_port {
    const nxl_port_ops *ops;
};

/* The userdata id the driver uses. */
#define NXL_PORT_USERDATA_ID "novaxl"

/* The real port: one libxl_ctx, logging through the xl_log adapter. Fails
 * with NXL_E_HYPERVISOR when this is not a Xen dom0. */
NXL_HIDDEN int nxl__port_libxl_new(nxl_port **port_r, nxl_error *err);

/* Closes any port; NULL-safe. */
static inline void nxl__port_free(nxl_port *port)
{
    if (port)
        port->ops->free(port);
}

/* ---- the fake ---------------------------------------------------------- */

/* A fake hypervisor: Domain-0 plus in-memory domains (domids from 1), a
 * host of 8 GiB / 4 CPUs unless nxl__port_fake_set_host changes it. */
NXL_HIDDEN int nxl__port_fake_new(nxl_port **port_r);
/* True when port is a fake (or a trace wrapper around one). */
NXL_HIDDEN bool nxl__port_is_fake(const nxl_port *port);

/* Fault injection. The nth call of op ("create", "pause", ...) from now
 * (nth >= 1) fails once with code; nth == 0 makes every call fail until
 * cleared with code NXL_OK. Returns NXL_E_INVAL for an unknown op. */
NXL_HIDDEN int nxl__port_fake_fail(nxl_port *port, const char *op, unsigned nth,
                                   int code);
/* Same, but the call fails AFTER doing its work: a create leaves a
 * half-created (paused) domain whose domid is in err->domid, a destroy
 * removes the domain yet reports failure, a pause pauses, and so on
 * (outputs are still not written). For ops without effects (domain_info,
 * list, ...) it is the same as nxl__port_fake_fail. */
NXL_HIDDEN int nxl__port_fake_fail_after(nxl_port *port, const char *op,
                                         unsigned nth, int code);

/* The ops called so far, in order, space-separated ("create unpause"),
 * including failed calls. malloc'd; free(). NULL on out of memory. */
NXL_HIDDEN char *nxl__port_fake_calls(nxl_port *port);
NXL_HIDDEN void nxl__port_fake_calls_reset(nxl_port *port);

/* Out-of-band actions on domid, as by an operator running xl behind the
 * driver's back or by the guest itself: "destroy", "pause", "unpause",
 * "poweroff" (the guest shuts itself down), "reboot" (the guest reboots
 * itself), "crash", "hang" (the guest stops answering shutdown, reboot
 * and suspend requests), "hold" (a dom0 process maps one of its pages:
 * its destroy leaves it listed, dying, a zombie, with the name free) and
 * "release" (that process lets go: a zombie goes). Events are queued exactly as
 * for the ops; the call log is not touched. NXL_E_NOT_FOUND / NXL_E_INVAL as
 * fits. */
NXL_HIDDEN int nxl__port_fake_external(nxl_port *port, const char *action,
                                       uint32_t domid);
/* A foreign domain (running, 256 MiB, 1 vcpu) that the driver did not
 * create, as `xl create` by hand would make. */
NXL_HIDDEN int nxl__port_fake_external_create(nxl_port *port, const char *name,
                                              uint32_t *domid_r);

NXL_HIDDEN void nxl__port_fake_set_host(nxl_port *port, uint64_t total_kb,
                                        uint32_t nr_cpus);
/* Xen's idle time of physical CPU cpu (0 for every CPU of a new fake).
 * NXL_E_INVAL when the host has no such CPU. */
NXL_HIDDEN int nxl__port_fake_set_pcpu_idle(nxl_port *port, uint32_t cpu,
                                            uint64_t idle_ns);
/* Spreads the host over nodes NUMA nodes (1 in a new fake): CPU i on node
 * i * nodes / nr_cpus, memory split evenly. Resets the cpupools to one
 * Pool-0 of every CPU. */
NXL_HIDDEN void nxl__port_fake_set_numa(nxl_port *port, uint32_t nodes);

/* ---- tracing ----------------------------------------------------------- */

typedef void nxl_port_trace_fn(void *user, const char *line);

/* Wraps port in a tracer that logs each call and its rc through
 * nxl__debug when NXL_TRACE=1 is set (so it shows with NXL_DEBUG=1);
 * otherwise returns port unchanged. The wrapper owns port. On out of
 * memory the unwrapped port is returned: tracing is optional. */
NXL_HIDDEN nxl_port *nxl__port_trace_wrap(nxl_port *port);
/* Unconditional, with a chosen sink; fails only on out of memory, and then
 * leaves *port_r alone and port still owned by the caller. */
NXL_HIDDEN int nxl__port_trace_new(nxl_port *port, nxl_port_trace_fn *fn,
                                   void *user, nxl_port **port_r);

/* The port a trace wrapper (or a chain of them) forwards to; port itself
 * when it is not a wrapper. */
NXL_HIDDEN nxl_port *nxl__port_trace_inner(nxl_port *port);

/* The name of a libxl_shutdown_reason ("poweroff", ...), for messages. */
NXL_HIDDEN const char *nxl__port_shutdown_reason_name(int reason);

#endif /* NOVAXL_XL_PORT_H */

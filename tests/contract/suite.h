/* The lifecycle contract suite, one source for two targets: the libxl
 * driver on the fake hypervisor port (tests/test_contract, make check) and
 * the same driver on real Xen (tests/lab/t19-contract-suite, in the lab's
 * dom0). Every case goes through the public API (novaxl/nxl.h) only; what
 * differs between the targets is behind nxl_contract_target: how a driver
 * is opened, how a guest's boot is seen, and how an operator acts behind
 * the driver's back (the fake port's external actions, or xl).
 *
 * What the fake port alone can do (fault injection, crash points at every
 * step, call logs) stays in tests/test_lifecycle.c; what needs a real
 * guest's cooperation (SOFT reboot honoured or ignored, a console) stays
 * in the lab's own tests. This suite is the part that must hold, call for
 * call, on both.
 *
 * The suite uses no test framework, so that it runs in the lab's dom0,
 * which has no CUnit: each case counts its failed checks, prints one line
 * per check, and the runners turn the counts into their verdicts.
 */
#ifndef NOVAXL_TESTS_CONTRACT_SUITE_H
#define NOVAXL_TESTS_CONTRACT_SUITE_H

#include <stdbool.h>
#include <stddef.h>

#include "novaxl/nxl.h"

#define NXL_CONTRACT_UUID_LEN (NXL_UUID_STRLEN + 1)

/* What the suite runs against. opaque is the target's own state. */
typedef struct nxl_contract_target {
    const char *name; /* "fake port", "real Xen": for the output */
    const char *host; /* the compute host the driver is opened for */
    void *opaque;
    /* The instance the cases drive, and another one (a UUID, name and
     * NICs of its own) for the case of two at once; the driver finds
     * both's images. */
    const nxl_spawn_req *req;
    const nxl_spawn_req *other;
    /* The driver's instances_dir: the suite checks what is left there. */
    const char *instances_dir;
    /* How long an out-of-band change may take to reach the listener (the
     * event thread's look, libxl's watches), in seconds. */
    int event_bound_s;
    /* A new driver on the target's host and instances_dir, listener
     * registered before init_host; the same disk state and hypervisor as
     * every driver before it (a restart of the compute service). 0 or a
     * negative NXL_E_* code, with a message in err. */
    int (*open)(void *opaque, nxl_event_fn *listener, void *lopaque,
                nxl_driver **drv_r, nxl_error *err);
    /* How often the guest of inst has booted so far (its console marker);
     * a target without guests (the fake port) says 0. */
    int (*boots)(void *opaque, const nxl_instance *inst);
    /* Waits, bounded, until the guest has booted more than `above` times;
     * a target without guests says true at once. */
    bool (*wait_boot)(void *opaque, const nxl_instance *inst, int above);
    /* Domains the hypervisor lists with uuid (a dying one waited for, a
     * few seconds at most); -1 when it cannot list. */
    int (*domains_with)(void *opaque, const char *uuid);
    /* An operator's action on domid behind the driver's back: "pause",
     * "unpause" or "destroy". 0 when done. */
    int (*out_of_band)(void *opaque, const char *action, int domid);
    /* A domain the driver did not create (as `xl create` by hand); its
     * UUID lands in uuid_r. 0 when made. */
    int (*foreign_create)(void *opaque, char uuid_r[NXL_CONTRACT_UUID_LEN]);
    /* Whether the foreign domain is still there, untouched (paused or
     * running as made). */
    bool (*foreign_intact)(void *opaque, const char *uuid);
    /* Removes it. */
    void (*foreign_destroy)(void *opaque, const char *uuid);
} nxl_contract_target;

/* The cases, in the order nxl_contract_run runs them. */
size_t nxl_contract_n_cases(void);
const char *nxl_contract_case_name(size_t i);

/* Runs case i against t; prints one line per check. Returns the number
 * of failed checks (0: the case passed). Each case starts and ends with
 * no instance of t's requests on the target; one that fails part-way
 * still destroys what it made. */
unsigned nxl_contract_run_case(const nxl_contract_target *t, size_t i);

#endif /* NOVAXL_TESTS_CONTRACT_SUITE_H */

/* Helpers shared by the lab tests that use the project's code
 * (tests/lab/src/t*.c): checks that count failures, bounded waits, console
 * logs, the private image cache and instances dir each test drives the
 * driver in, and what is left of an instance on the host.
 *
 * Built into every such test: by the build's rules (the xl_driver .mk fragments
 * list it in each tests/lab/tNN program's sources) and by lab/stage.sh's
 * fallback compile, which adds it to any tests/lab/src/t*.c it builds itself. A
 * test that does not include labutil.h is unaffected.
 */
#ifndef NOVAXL_TESTS_LAB_LABUTIL_H
#define NOVAXL_TESTS_LAB_LABUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "novaxl/nxl.h"
#include "xenstore/xs.h"

/* Failed checks so far; a test exits 1 when non-zero. */
extern int nxl_lab_failures;

/* Prints "ok   ..." or "FAIL ..." and counts a failure; returns ok. */
bool nxl_lab_check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* nxl_lab_check(rc == 0) naming what and the error; disposes err. */
bool nxl_lab_ok_call(int rc, nxl_error *err, const char *what);

/* Monotonic seconds. */
double nxl_lab_now(void);
/* Starts the step clock (nxl_lab_start) and ends a step: one line with its
 * duration and the time since the start. */
void nxl_lab_start(void);
void nxl_lab_step_done(const char *name);
/* The final line and exit status: 0 when no check failed, else 1. */
int nxl_lab_finish(void);

const char *nxl_lab_env_or(const char *name, const char *dflt);
/* True in the lab's dom0 (control_d); otherwise says why it skips. */
bool nxl_lab_is_dom0(void);

/* What lab/lab.env says about the guests, with the lab's defaults. */
typedef struct nxl_lab_env {
    const char *examples; /* the project's examples/ */
    const char *kernel;   /* the guest kernel and initramfs */
    const char *initrd;
    const char *marker; /* what the guest prints once up */
    const char *logdir; /* xenconsoled's guest console logs */
} nxl_lab_env;
void nxl_lab_env_load(nxl_lab_env *env);

/* Console logs (small: read whole). */
int nxl_lab_count_in_file(const char *path, const char *needle);
/* Waits (at most bound_s) until needle occurs more than `above` times. */
bool nxl_lab_wait_marker(const char *log, const char *needle, int above,
                         int bound_s);
/* The last line of log holding needle (empty when none). */
void nxl_lab_last_line(const char *log, const char *needle, char *line,
                       size_t size);
/* Waits (at most bound_s, reading at least once) until the last line of
 * log holding needle also holds want; that line lands in line either way. */
bool nxl_lab_wait_last_line(const char *log, const char *needle,
                            const char *want, int bound_s, char *line,
                            size_t size);

size_t nxl_lab_dir_entries(const char *dir);
bool nxl_lab_is_file(const char *path);
/* Domains libxl lists with uuid (through the project's libxl port); -1
 * when libxl cannot list. A dying one (destroyed, its memory still being
 * released) is waited for, a few seconds at most. */
int nxl_lab_domains_with(const char *uuid);
/* A TCP connection to host (numeric IPv4):port; -1 when refused. */
int nxl_lab_tcp_connect(const char *host, int port);
/* Runs "xl VERB NAME" in dom0, out of the driver's sight; checked. */
bool nxl_lab_xl(const char *verb, const char *name);

/* A domain made by hand, out of the driver's sight: `xl create -p` (paused:
 * it needs no CPU, and "still paused" later shows that nothing unpaused or
 * rebooted it) of a PV guest of the lab's kernel named name with uuid, its
 * config written under dir. An xl that dies of a signal (lab/README.md)
 * is tried once more. Checked. */
bool nxl_lab_xl_create_foreign(const char *dir, const nxl_lab_env *env,
                               const char *name, const char *uuid);
/* Whether `xl list name` shows the domain paused; its line (empty when it
 * is gone) lands in line. */
bool nxl_lab_xl_paused(const char *name, char *line, size_t size);

/* images/INITRD_ID: the lab guest's initramfs (lab_initrd) with a second
 * archive appended, holding the payload's lab/bin/PROGRAM (a static guest
 * program from lab/guest/) as /bin/PROGRAM and /INIT_NAME (executable),
 * for a kernel command line's rdinit=/INIT_NAME: a busybox shell script
 * that mounts /dev, takes the console, waits (20 s at most) for
 * /dev/xen/xenbus, then runs init_text, which should end with
 * "exec /init". Built under root. Checked. */
bool nxl_lab_guest_initrd(const char *root, const char *images,
                          const char *lab_initrd, const char *initrd_id,
                          const char *program, const char *init_name,
                          const char *init_text);
/* How many nodes are under /local/domain/DOMID/data/SUB (0 when it is
 * absent): where the guest agent protocol's requests (host) and answers
 * (guest) live. */
size_t nxl_lab_xs_data_children(nxl_xs *xs, int domid, const char *sub);

/* Reads a spawn request (examples/NAME.json); *doc owns its strings. */
bool nxl_lab_read_request(const char *path, nxl_spawn_req *req, char **doc);

/* A private root (/var/tmp/nxl-PREFIX-XXXXXX) with images/ and
 * instances/, so a test leaves the host's alone and can look for
 * leftovers exactly; links req's kernel_id and ramdisk_id in images/ to
 * the lab's guest kernel and initramfs. The paths land in the buffers
 * (each at least 512 bytes). */
bool nxl_lab_make_root(const char *prefix, const nxl_lab_env *env,
                       const nxl_instance *inst, char *root, char *images,
                       char *instances);
/* What most tests start with: the env, one example's request (doc owns
 * its strings), a private root, and the driver and xenstore connection
 * the test opens (NULL until then). */
typedef struct nxl_lab_run {
    nxl_lab_env env;
    nxl_spawn_req req;
    char *doc;
    char root[512], images[512], instances[512];
    nxl_driver *drv;
    nxl_xs *xs;
} nxl_lab_run;
/* The start most tests share: stdout line-buffered, the dom0 check, the
 * step clock, env loaded, examples/EXAMPLE.json read into run->req and a
 * private root made (nxl_lab_make_root, with prefix). 0 when all is
 * ready; otherwise the test's exit status: 77 off dom0, or
 * nxl_lab_finish's after a failed check. */
int nxl_lab_begin(nxl_lab_run *run, const char *prefix, const char *example);
/* Closes and frees what run holds; nxl_lab_finish's status. */
int nxl_lab_end(nxl_lab_run *run);
/* Opens the libxl driver on images/instances/logdir and runs init_host
 * (with listener, when not NULL, registered first). */
bool nxl_lab_open_driver(const char *images, const char *instances,
                         const char *logdir, nxl_event_fn *listener,
                         nxl_driver **drv_r);
/* The same with the caller's whole configuration (host name, console log
 * rotation...) and, when kinds is not 0, set_event_kinds before
 * init_host. *drv_r is the caller's to close, also on failure. */
bool nxl_lab_open_driver_cfg(const nxl_driver_config *cfg,
                             nxl_event_fn *listener, unsigned kinds,
                             nxl_driver **drv_r);
/* run's driver, on host "lab": cfg's instances, image cache and console
 * log dirs set to run's (its other fields as the caller set them), opened
 * as nxl_lab_open_driver_cfg does into run->drv; then dom0's xenstore into
 * run->xs. nxl_lab_end closes both, also on failure. */
bool nxl_lab_run_open(nxl_lab_run *run, nxl_driver_config *cfg,
                      nxl_event_fn *listener, unsigned kinds);

/* get_info's state (or its negative error); the answer in i_r. */
int nxl_lab_info(nxl_driver *drv, const nxl_instance *inst,
                 nxl_instance_info *i_r);
/* get_info's state (or its negative error) and domid (-1 when none). */
int nxl_lab_state_domid(nxl_driver *drv, const nxl_instance *inst,
                        int *domid_r);
/* Checks that the guest runs: its vCPU time grows past before's within
 * bound_s. */
bool nxl_lab_check_alive(nxl_driver *drv, const nxl_instance *inst,
                         const nxl_instance_info *before, int bound_s);
/* Waits (bounded) until get_info says state; the last answer in i_r. */
bool nxl_lab_wait_state(nxl_driver *drv, const nxl_instance *inst, int state,
                        int bound_s, nxl_instance_info *i_r);
/* suspend, checked: SUSPENDED without a domain, the save image in the
 * instance directory. Then resume, checked: RUNNING, the image gone, the
 * same guest going on (no new marker in log, its vCPU time grows within
 * alive_s). Each false when its call failed. */
bool nxl_lab_suspend_checked(nxl_driver *drv, const nxl_instance *inst,
                             const char *instances);
bool nxl_lab_resume_checked(nxl_driver *drv, const nxl_instance *inst,
                            const char *instances, const char *log,
                            const char *marker, int alive_s);
/* Nothing of inst left: get_info NOT_FOUND, no domain, record, journal,
 * lock or instance directory (of inst: others may have theirs). */
void nxl_lab_check_nothing_left(nxl_driver *drv, const nxl_instance *inst,
                                const char *instances);

/* Events: a listener that keeps (and prints) what the driver tells it. */
void nxl_lab_listener(void *opaque, const nxl_event *ev);
/* How many events arrived so far (a mark for the calls below). */
size_t nxl_lab_events_seen(void);
/* Waits (bounded) for uuid's transition at or after index from. */
bool nxl_lab_wait_event(const char *uuid, int transition, size_t from,
                        int bound_s);
/* uuid's transitions from index from on, by name, space-separated. */
void nxl_lab_event_names(const char *uuid, size_t from, char *buf, size_t size);

#endif /* NOVAXL_TESTS_LAB_LABUTIL_H */

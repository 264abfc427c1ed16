/* A private, real xenstored for one test run (see tests/xsd/README.md).
 *
 * nxl_test_xsd_start() runs Debian's C xenstored as an ordinary process
 * with tests/xsd/libnxlxsdshim.so preloaded (in the child only), in a fresh
 * directory of its own, and points XENSTORED_PATH in this process at its
 * socket, so nxl_xs_open() and libxl's xs_open() talk to it and never to a
 * host's store. nxl_test_xsd_stop() kills it and removes the directory.
 *
 * A test can also act as a guest domain (nxl_test_xsd_guest_*): the shim
 * backs each guest's ring page with a file in that directory, so the test
 * maps it and speaks the ring protocol, and xenstored applies permissions
 * to that domid exactly as it would on Xen.
 *
 * Link with tests/xsd/libnxlxsdtest.la. Not thread-safe; one instance per
 * process at a time (XENSTORED_PATH is process-wide).
 */
#ifndef NOVAXL_TESTS_XSD_HARNESS_H
#define NOVAXL_TESTS_XSD_HARNESS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit status automake treats as "skipped". */
#define NXL_TEST_SKIP 77

typedef struct nxl_test_xsd {
    char dir[PATH_MAX];    /* private directory, "" when not started */
    char socket[PATH_MAX]; /* dir/socket */
    pid_t pid;             /* the daemon, -1 when not running */
    char *saved_path;      /* XENSTORED_PATH before start, to restore */
    int had_path;
    char why[512]; /* why start failed or was skipped */
} nxl_test_xsd;

/* Returns 0 when the daemon answers a read; NXL_TEST_SKIP when xenstored or
 * the shim is not installed/built; -1 on any other failure. In both
 * failure cases x->why says what happened (and stop() is still safe).
 * Overrides: NXL_TEST_XENSTORED (daemon binary), NXL_TEST_XSD_SHIM (the
 * .so), NXL_TEST_XSD_TRACE=1 (keep a trace file, printed on failure). */
int nxl_test_xsd_start(nxl_test_xsd *x);
/* For a CUnit suite's init: starts x and returns 0 when it answers, else
 * prints why on stderr, copies it into skip_why (of size len) when the
 * daemon is not installed (NXL_TEST_SKIP), and returns 1. */
int nxl_test_xsd_suite_start(nxl_test_xsd *x, char *skip_why, size_t len);
/* Kills the daemon (SIGKILL: it ignores SIGTERM clean-up), reaps it,
 * removes the directory and restores XENSTORED_PATH. Safe to repeat. */
void nxl_test_xsd_stop(nxl_test_xsd *x);
/* True while x->dir exists (tests check stop() removed it). */
int nxl_test_xsd_dir_exists(const nxl_test_xsd *x);

/* ---- acting as a guest domain ------------------------------------------ */

typedef struct nxl_test_xsd_guest {
    unsigned int domid;
    char socket[PATH_MAX]; /* dom0's way in, to release the domain */
    void *ring; /* struct xenstore_domain_interface, shared with xenstored */
    int evtchn_fd;
    uint32_t req_id;
} nxl_test_xsd_guest;

/* Introduces domid to xenstored (as dom0 would after building a guest)
 * and maps its ring. 0 or -1 with a message on stderr. */
int nxl_test_xsd_guest_open(nxl_test_xsd *x, unsigned int domid,
                            nxl_test_xsd_guest *g);
/* Releases the domain in xenstored (its connection goes away; nodes it
 * owns stay) and unmaps the ring. Safe to repeat. */
void nxl_test_xsd_guest_close(nxl_test_xsd_guest *g);
/* Sends one request (type is an xsd_sockmsg_type, payload as on the wire)
 * and waits up to 5 s for its reply, skipping watch events. On success
 * returns 0 with *reply_r (malloc'd, NUL appended; free() it), *len_r and
 * *type_r (XS_ERROR with the errno name as payload when refused). */
int nxl_test_xsd_guest_request(nxl_test_xsd_guest *g, uint32_t type,
                               const void *payload, size_t len,
                               uint32_t *type_r, char **reply_r, size_t *len_r);

#endif /* NOVAXL_TESTS_XSD_HARNESS_H */

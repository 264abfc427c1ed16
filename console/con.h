/* novaxl: guest console logs and console connection details.
 *
 * Logs. xenconsoled (started with --log=guest) appends each guest's
 * console to <console_log_dir>/guest-<domain name>.log, opened O_APPEND,
 * and reopens every log when it gets SIGHUP. Two dangers come with that:
 * a chatty or hostile guest fills dom0's disk, and a reader racing a
 * rotation reads a torn or duplicated tail. So:
 *   - nxl_con_tail() opens the log once and works on that descriptor
 *     only (fstat, then pread of the last bytes): a rename or an
 *     unlink-and-recreate under it cannot mix two files, it never reads
 *     more than max bytes whatever the file's size, and a truncation
 *     between fstat and pread is detected and the tail re-read. When the
 *     live log is shorter than max, the rotated log (<log>.1) fills the
 *     rest, unless it is the very file already read (a rotation happened
 *     between the two opens).
 *   - nxl_con_rotate() is the size policy: every guest log over cap is
 *     renamed to <log>.1 (replacing the older one) and xenconsoled is
 *     told to reopen, so each guest holds at most about 2 x cap of dom0's
 *     disk. Renaming, not truncating, is what makes it race-free: the
 *     daemon keeps appending to the renamed file until it reopens, and
 *     nothing it writes is lost. Call it periodically (the driver's
 *     periodic tasks) or from cron.
 *
 * Connection details come from what libxl and QEMU publish in xenstore
 * under /local/domain/<domid>/: console/vnc-port and console/vnc-listen
 * (libxl, from QMP's query-vnc), console/tty (the PV console pty) and
 * serial/0/tty (an HVM guest's emulated serial pty). Those nodes live in
 * the guest's own subtree, so they are read bounded and validated as if
 * the guest wrote them.
 */
#ifndef NOVAXL_CONSOLE_CON_H
#define NOVAXL_CONSOLE_CON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "novaxl/nxl-results.h"
#include "novaxl/nxl-types.h"
#include "xenstore/xs.h"

/* nova's libvirt driver returns the last 100 KiB; so do we. */
#define NXL_CON_OUTPUT_MAX (100 * 1024)
/* Default size policy: a guest log above this is rotated. */
#define NXL_CON_LOG_CAP (1024 * 1024)
/* Debian's /etc/init.d/xen starts xenconsoled with this pid file. */
#define NXL_CON_XENCONSOLED_PIDFILE "/run/xenconsoled.pid"

/* <dir>/guest-<name>.log, as xenconsoled names it. name must pass
 * nxl_name_validate() and not start with '.'. free(*path_r). */
NXL_HIDDEN int nxl_con_log_path(const char *dir, const char *name,
                                char **path_r, nxl_error *err);

/* The last at most max bytes of the log at path (with its rotated <path>.1
 * in front when the live log is shorter), appended to out (which the
 * caller initialised; nothing is appended on failure). A missing log is
 * not an error: nothing is appended, as nova's libvirt driver returns ""
 * while a guest has written nothing yet. NXL_E_INVAL when path is not a
 * regular file (a FIFO or a device would block or never end) or is a
 * symlink; NXL_E_IO on read errors. */
NXL_HIDDEN int nxl_con_tail(const char *path, size_t max, nxl_buf *out,
                            nxl_error *err);

/* Tells the console daemon to reopen its logs. */
typedef int nxl_con_reopen_fn(void *opaque, nxl_error *err);

/* SIGHUP to the pid in the pid file opaque (a const char *; NULL: the
 * Debian default, and when that file is missing the running process
 * named xenconsoled). NXL_E_NOT_FOUND when the file is missing or names no
 * running process. */
NXL_HIDDEN int nxl_con_reopen_xenconsoled(void *opaque, nxl_error *err);

/* The size policy: renames each regular guest-*.log in dir larger than
 * cap bytes to <name>.1, then calls reopen(opaque) once if any was
 * renamed. Symlinks and other files are left alone. *n_r (may be NULL):
 * how many were rotated. A failing reopen is returned after the renames
 * (the daemon then keeps writing to the .1 files until it reopens). */
NXL_HIDDEN int nxl_con_rotate(const char *dir, uint64_t cap,
                              nxl_con_reopen_fn *reopen, void *opaque,
                              size_t *n_r, nxl_error *err);

/* Deletes <dir>/guest-<name>.log and its rotated .1, when they are
 * regular files (nothing else under those names, and nothing else in
 * dir, is touched). *n_r (may be NULL): how many were deleted. Call only
 * once no domain of that name exists, or xenconsoled keeps writing to
 * the deleted file. */
NXL_HIDDEN int nxl_con_delete_logs(const char *dir, const char *name,
                                   size_t *n_r, nxl_error *err);

/* Whether xenconsoled runs (found by name under proc, NULL: /proc) and
 * logs guest consoles (--log=guest or all) into dir (--log-dir, by
 * default /var/log/xen/console; compared after resolving both). On
 * success *warning_r is NULL when it does, else a malloc'd message saying
 * what is wrong and how to fix it on Debian. Errors: NXL_E_IO when proc
 * cannot be read, NXL_E_NOMEM. */
NXL_HIDDEN int nxl_con_xenconsoled_check(const char *proc, const char *dir,
                                         char **warning_r, nxl_error *err);

/* ---- connection details ---------------------------------------------- */

/* VNC of domid: host from console/vnc-listen (an IPv4/IPv6 literal or
 * a host name; at most 255 bytes of [A-Za-z0-9.:_-]), port from
 * console/vnc-port (1..65535). NXL_E_NOT_FOUND when the domain publishes
 * no VNC server; NXL_E_INVAL when what it publishes is malformed.
 * console_r is filled (type NXL_CONSOLE_VNC) only on success;
 * nxl_console_dispose it. */
NXL_HIDDEN int nxl_con_vnc(nxl_xs *xs, uint32_t domid, nxl_console *console_r,
                           nxl_error *err);

/* The pty of domid's serial line: serial/0/tty for an HVM guest, else
 * console/tty (the PV console). Must be /dev/pts/<n>. free(*tty_r).
 * NXL_E_NOT_FOUND when neither is published. */
NXL_HIDDEN int nxl_con_serial_tty(nxl_xs *xs, uint32_t domid, char **tty_r,
                                  nxl_error *err);

#endif /* NOVAXL_CONSOLE_CON_H */

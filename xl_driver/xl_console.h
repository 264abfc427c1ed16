/* The libxl backend's console upkeep (xl_console.c): the serial TCP
 * bridges it owns and the console log policy, driven from init_host,
 * cleanup_host and the event thread (xl_lifecycle.c).
 *
 * Serial bridges. get_serial_console starts a bridge (console/bridge.h)
 * for the instance and persists its port in the instance directory
 * (<instances_dir>/<uuid>/NXL_XL_SERIAL_PORT_FILE, dom0-only like the
 * record), so that init_host after a restart, and power_on or a reboot
 * (a new domain, a new pty), bring the same port back. Each tick
 * reconciles: an instance with a persisted port and a live domain has a
 * bridge to that domain's current pty; any other bridge is stopped
 * (destroy, power_off, a domain gone behind our back). A bridge is
 * started by get_serial_console only, so a deployment that never asks
 * for serial consoles opens no port at all.
 *
 * Logs. Every log interval the tick rotates guest logs above the cap
 * (nxl_con_rotate) and deletes the logs of instances whose record went
 * away since the driver started, once no domain has their name. Only
 * guest-<name>.log and .log.1 of names the driver held a record for are
 * deleted; a name it never owned (another toolstack's domain, or an
 * instance deleted while the driver was not running) is left alone.
 */
#ifndef NOVAXL_XL_CONSOLE_H
#define NOVAXL_XL_CONSOLE_H

#include "common/driver.h"
#include "common/internal.h"
#include "console/con.h"

/* The persisted port of an instance's serial bridge (decimal). */
#define NXL_XL_SERIAL_PORT_FILE "novaxl.serial-port"

typedef struct nxl_xl_console nxl_xl_console;

NXL_HIDDEN int nxl__xl_console_new(nxl_xl_console **con_r, nxl_error *err);
/* Stops every bridge; NULL is ignored. */
NXL_HIDDEN void nxl__xl_console_free(nxl_xl_console *con);

/* init_host: checks xenconsoled's logging (the warning is kept for
 * nxl_host_get_console_warning and written to the debug log) and brings back
 * the persisted bridges of live domains. Never fails init_host: consoles
 * are not worth refusing the host for. */
NXL_HIDDEN void nxl__xl_console_init_host(nxl_driver *drv);
/* cleanup_host: stops every bridge (their ports stay persisted). */
NXL_HIDDEN void nxl__xl_console_cleanup_host(nxl_driver *drv);
/* The event thread's periodic work; see above. */
NXL_HIDDEN void nxl__xl_console_tick(nxl_driver *drv);
/* console_warning (nxl_host_get_console_warning): what init_host found
 * wrong with xenconsoled's logging, malloc'd in *warning_r; NULL when
 * nothing is (or init_host has not run). */
NXL_HIDDEN int nxl_xl_console_warning(nxl_driver *drv, char **warning_r,
                                      nxl_error *err);

/* SPICE ports. libxl refuses a SPICE server without a port, and qemu
 * has no "pick a free one" for SPICE as it has for VNC, so the driver
 * picks: the lowest port of [min, max] that can be bound on host (the
 * address the server will listen on) and that no other create in this
 * process has claimed. The claim lasts until nxl__xl_spice_release(),
 * which the caller makes once the create returned (qemu then holds the
 * port, or failed and left it). *port_r: the port. NXL_E_FAILED naming
 * the range when none is free; NXL_E_INVAL for a host that is not a
 * numeric address. */
NXL_HIDDEN int nxl__xl_spice_claim(const char *host, unsigned min, unsigned max,
                                   unsigned *port_r, nxl_error *err);
/* Ends a claim; 0 or an unclaimed port is ignored. */
NXL_HIDDEN void nxl__xl_spice_release(unsigned port);
/* Whether qemu's SPICE server will be able to listen on host: it
 * resolves the address with getaddrinfo(AI_PASSIVE | AI_ADDRCONFIG), and
 * AI_ADDRCONFIG finds nothing for 127.0.0.1 on a host whose only IPv4
 * address is loopback's; qemu then exits and libxl says only ERROR_FAIL.
 * The same call here, before anything is created: NXL_E_FAILED saying
 * what the host lacks. */
NXL_HIDDEN int nxl__xl_spice_check_listen(const char *host, nxl_error *err);

/* Tests: the /proc the xenconsoled check reads (NULL: /proc), and makes
 * the next tick run the log policy whatever the interval. */
NXL_HIDDEN void nxl__xl_console_set_proc(nxl_driver *drv, const char *proc);
/* Tests: what tells the console daemon to reopen its logs after a
 * rotation (default nxl_con_reopen_xenconsoled, NULL opaque). */
NXL_HIDDEN void nxl__xl_console_set_reopen(nxl_driver *drv,
                                           nxl_con_reopen_fn *fn, void *opaque);
NXL_HIDDEN void nxl__xl_console_logs_due(nxl_driver *drv);

#endif /* NOVAXL_XL_CONSOLE_H */

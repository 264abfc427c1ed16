/* novaxl: serial consoles bridged to TCP.
 *
 * nova's serial console proxy connects to host:port and expects a raw
 * TCP byte stream. A Xen guest's serial line is a pty in dom0: the PV
 * console's (xenconsoled holds the master) or an HVM guest's emulated
 * UART (qemu holds the master). A bridge listens on one TCP port and,
 * while one client is connected, relays bytes between that client and
 * the pty's slave side, as `xl console` would. The same mechanism serves
 * both guest types; see xl_driver/xl_console.c for why qemu's own
 * "tcp:" serial backend is not used for HVM.
 *
 * Bounds: one thread and one poll(2) loop serve every bridge of a set;
 * at most NXL_CON_BRIDGE_MAX bridges; each holds two fixed buffers of
 * NXL_CON_BRIDGE_BUF bytes, and a side whose buffer is full is simply
 * not read until the other side drains it (back pressure, never
 * unbounded buffering). One client at a time: a second connection is
 * accepted and closed at once. The pty is opened only while a client is
 * connected, so an unused bridge holds only its listening socket.
 *
 * The pty path is checked again here (only /dev/pts/<digits>, opened
 * O_NOFOLLOW and required to be a tty), whatever the caller read it from.
 */
#ifndef NOVAXL_CONSOLE_BRIDGE_H
#define NOVAXL_CONSOLE_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/internal.h"
#include "novaxl/nxl-error.h"

/* poll(2) refuses more entries than RLIMIT_NOFILE (1024 by default): a
 * bridge takes at most three (listener, client, pty), plus the wake-up
 * pipe. */
#define NXL_CON_BRIDGE_MAX 256
#define NXL_CON_BRIDGE_BUF 4096

typedef struct nxl_con_bridges nxl_con_bridges;

/* text, a numeric IPv4 or IPv6 address, as a socket address (port 0)
 * and its length. NXL_E_INVAL naming what (the setting) otherwise. Shared
 * by every listener dom0 offers consoles on (serial bridges, SPICE). */
NXL_HIDDEN int nxl_con_listen_addr(const char *what, const char *text,
                                   struct sockaddr_storage *addr_r,
                                   socklen_t *len_r, nxl_error *err);
/* NXL_E_INVAL naming what unless [min, max] is a range of TCP ports. */
NXL_HIDDEN int nxl_con_port_range(const char *what, unsigned min, unsigned max,
                                  nxl_error *err);

/* A set of bridges listening on listen_addr (a numeric IPv4 or IPv6
 * address) with ports taken from [port_min, port_max]. No thread runs and
 * no socket is open until the first bridge starts. NXL_E_INVAL names the
 * bad argument. nxl_con_bridges_free(*set_r). */
NXL_HIDDEN int nxl_con_bridges_new(const char *listen_addr, unsigned port_min,
                                   unsigned port_max, nxl_con_bridges **set_r,
                                   nxl_error *err);
/* Stops every bridge and the thread; NULL is ignored. */
NXL_HIDDEN void nxl_con_bridges_free(nxl_con_bridges *set);

/* Starts the bridge named key (an instance UUID) to tty, or, when key has
 * one already, keeps its port and points it at tty (a rebooted domain has
 * a new pty; a connected client is dropped then). want_port, when in the
 * range and free, is tried first (the port persisted from an earlier
 * run); else the lowest free port of the range that can be bound.
 * *port_r: the port. NXL_E_INVAL for a tty that is not /dev/pts/<n>;
 * NXL_E_FAILED (naming the range) when no port is left;
 * NXL_E_IO when the socket cannot be made. */
NXL_HIDDEN int nxl_con_bridge_start(nxl_con_bridges *set, const char *key,
                                    const char *tty, unsigned want_port,
                                    unsigned *port_r, nxl_error *err);
/* Closes key's bridge (its client, pty and port); false when none. */
NXL_HIDDEN bool nxl_con_bridge_stop(nxl_con_bridges *set, const char *key);
/* key's port and (copied into tty, may be NULL) pty; 0 when none. */
NXL_HIDDEN unsigned nxl_con_bridge_port(nxl_con_bridges *set, const char *key,
                                        char *tty, size_t tty_size);
/* The keys of the running bridges, malloc'd (free each and the array). */
NXL_HIDDEN int nxl_con_bridge_keys(nxl_con_bridges *set, char ***keys_r,
                                   size_t *n_r, nxl_error *err);
/* Whether tty is a path a bridge accepts: /dev/pts/<1..9 digits>. */
NXL_HIDDEN bool nxl_con_pty_path_ok(const char *tty);

#endif /* NOVAXL_CONSOLE_BRIDGE_H */

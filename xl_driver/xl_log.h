/* xentoollog adapter: the logger every libxl ctx of ours is created with.
 *
 * libxl reports the reason for a failure only through its logger, and
 * libxl_ctx_alloc() with a NULL logger crashes on the first error, so the
 * driver always passes one of these. Each message goes to nxl__debug()
 * (library code logs nothing above DEBUG); the last message at XTL_ERROR
 * or above is kept, per thread, so the driver can put libxl's own words
 * into the nxl_error it returns (see nxl__xl_error_set() in xl_rc.h). */
#ifndef NOVAXL_XL_DRIVER_XL_LOG_H
#define NOVAXL_XL_DRIVER_XL_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include <xentoollog.h>

#include "common/internal.h"

#define NXL_XL_LOG_MSG_MAX 1024

typedef struct nxl_xl_logger {
    /* First member: libxl calls back with a pointer to it. */
    xentoollog_logger xtl;
} nxl_xl_logger;

/* Allocates nothing; pair with _dispose. */
NXL_HIDDEN void nxl__xl_logger_init(nxl_xl_logger *lg);
/* Safe to repeat. The ctx using lg must be freed first. */
NXL_HIDDEN void nxl__xl_logger_dispose(nxl_xl_logger *lg);
/* What to hand libxl_ctx_alloc(); valid while lg is. */
NXL_HIDDEN xentoollog_logger *nxl__xl_logger_xtl(nxl_xl_logger *lg);
/* Forgets this thread's last error: call before an operation so that the
 * message reported afterwards belongs to it. */
NXL_HIDDEN void nxl__xl_logger_clear(nxl_xl_logger *lg);
/* Copies the error libxl logged through lg in this thread since its last
 * clear (truncated to len) into buf: true when there is one. With several,
 * the first (the cause) and the last (the outcome), as "FIRST (then N
 * more, the last: LAST)", so a buffer of 2 * NXL_XL_LOG_MSG_MAX holds
 * both whole. Per thread because
 * one ctx serves every thread of the driver: with one slot per ctx,
 * another thread's clear before its own call wiped a failing create's
 * reason (seen in the lab: a bare ERROR_FAIL), or handed it to the wrong
 * call. libxl logs an operation's errors in the thread that called it. */
NXL_HIDDEN bool nxl__xl_logger_last_error(nxl_xl_logger *lg, char *buf,
                                          size_t len);

#endif /* NOVAXL_XL_DRIVER_XL_LOG_H */

/* xentoollog adapter: the logger every libxl ctx of ours is created with.
 *
 * libxl reports the reason for a failure only through its logger, and
 * libxl_ctx_alloc() with a NULL logger crashes on the first error, so the
 * driver always passes one of these. Each message goes to nxl__debug()
 * (library code logs nothing above DEBUG); the last message at XTL_ERROR
 * or above is kept so the driver can put libxl's own words into the
 * nxl_error it returns (see nxl__xl_error_set() in xl_rc.h). */
#ifndef NOVAXL_XL_DRIVER_XL_LOG_H
#define NOVAXL_XL_DRIVER_XL_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <xentoollog.h>

#include "common/internal.h"

#define NXL_XL_LOG_MSG_MAX 1024

typedef struct nxl_xl_logger {
    /* First member: libxl calls back with a pointer to it. */
    xentoollog_logger xtl;
    /* libxl documents the ctx as thread-safe, so several threads may log
     * at once. */
    pthread_mutex_t lock;
    bool has_error;
    char last_error[NXL_XL_LOG_MSG_MAX];
    int last_errno; /* errno libxl passed with that message, or -1 */
} nxl_xl_logger;

/* Allocates nothing beyond the mutex; pair with _dispose. */
NXL_HIDDEN void nxl__xl_logger_init(nxl_xl_logger *lg);
/* Destroys the mutex; safe to repeat. The ctx using lg must be freed
 * first. */
NXL_HIDDEN void nxl__xl_logger_dispose(nxl_xl_logger *lg);
/* What to hand libxl_ctx_alloc(); valid while lg is. */
NXL_HIDDEN xentoollog_logger *nxl__xl_logger_xtl(nxl_xl_logger *lg);
/* Forgets the last error: call before an operation so that the message
 * reported afterwards belongs to it. */
NXL_HIDDEN void nxl__xl_logger_clear(nxl_xl_logger *lg);
/* Copies the last error message (truncated to len) into buf: true when
 * there is one. The message shared by threads using one ctx: after a
 * failure it is libxl's latest error, normally the failing call's. */
NXL_HIDDEN bool nxl__xl_logger_last_error(nxl_xl_logger *lg, char *buf,
                                          size_t len);

#endif /* NOVAXL_XL_DRIVER_XL_LOG_H */

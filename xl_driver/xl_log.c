/* xentoollog_logger that forwards to nxl__debug and remembers the last
 * error, in the manner of libvirt's libxl_logger.c. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xl_driver/xl_log.h"

static void logger_vmessage(xentoollog_logger *xtl, xentoollog_level level,
                            int errnoval, const char *context,
                            const char *format, va_list al)
{
    nxl_xl_logger *lg = (nxl_xl_logger *)xtl;
    char msg[NXL_XL_LOG_MSG_MAX];
    int n;

    n = vsnprintf(msg, sizeof(msg), format, al);
    if (n < 0)
        snprintf(msg, sizeof(msg), "(unprintable libxl message)");
    /* libxl passes errno separately; keep it in the text the way xl's
     * stdio logger prints it, so the stored message is complete. */
    if (errnoval >= 0) {
        size_t used = strlen(msg);
        snprintf(msg + used, sizeof(msg) - used, ": %s", strerror(errnoval));
    }
    nxl__debug("libxl %s%s%s: %s", xtl_level_to_string(level),
               context ? " " : "", context ? context : "", msg);
    if (level < XTL_ERROR)
        return;
    pthread_mutex_lock(&lg->lock);
    memcpy(lg->last_error, msg, sizeof(msg));
    lg->last_errno = errnoval;
    lg->has_error = true;
    pthread_mutex_unlock(&lg->lock);
}

/* The logger is embedded in the driver and freed with it: libxl must not
 * free it, and xtl_logger_destroy() on it is harmless. */
static void logger_destroy(xentoollog_logger *xtl)
{
    (void)xtl;
}

void nxl__xl_logger_init(nxl_xl_logger *lg)
{
    memset(lg, 0, sizeof(*lg));
    lg->xtl.vmessage = logger_vmessage;
    lg->xtl.progress = NULL; /* libxl allows NULL: no progress bars */
    lg->xtl.destroy = logger_destroy;
    lg->last_errno = -1;
    pthread_mutex_init(&lg->lock, NULL);
}

void nxl__xl_logger_dispose(nxl_xl_logger *lg)
{
    if (!lg->xtl.vmessage)
        return;
    pthread_mutex_destroy(&lg->lock);
    memset(lg, 0, sizeof(*lg));
}

xentoollog_logger *nxl__xl_logger_xtl(nxl_xl_logger *lg)
{
    return &lg->xtl;
}

void nxl__xl_logger_clear(nxl_xl_logger *lg)
{
    pthread_mutex_lock(&lg->lock);
    lg->has_error = false;
    lg->last_error[0] = '\0';
    lg->last_errno = -1;
    pthread_mutex_unlock(&lg->lock);
}

bool nxl__xl_logger_last_error(nxl_xl_logger *lg, char *buf, size_t len)
{
    bool has;

    pthread_mutex_lock(&lg->lock);
    has = lg->has_error;
    if (has && len > 0)
        snprintf(buf, len, "%s", lg->last_error);
    pthread_mutex_unlock(&lg->lock);
    return has;
}

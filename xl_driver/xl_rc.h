/* The one place that turns libxl ERROR_* values into NXL_E_* codes. */
#ifndef NOVAXL_XL_DRIVER_XL_RC_H
#define NOVAXL_XL_DRIVER_XL_RC_H

#include "common/internal.h"
#include "xl_driver/xl_log.h"

/* The NXL_E_* code for a libxl return value: 0 for 0 and for positive
 * values (libxl returns counts and domids), NXL_E_FAILED for a negative
 * value libxl does not define (a newer libxl), never 0 for a negative. */
NXL_HIDDEN int nxl__xl_rc_to_nxl(int libxl_rc);
/* "ERROR_DOMAIN_NOTFOUND"; "ERROR_UNKNOWN" outside the table; "OK" for 0. */
NXL_HIDDEN const char *nxl__xl_rc_name(int libxl_rc);

/* Records a libxl failure in err: the mapped code, libxl_rc and domid
 * (-1 for none), and a message "<what>: <rc name>[: <libxl's last error
 * message>]" when lg (may be NULL) caught one since the last
 * nxl__xl_logger_clear(). Returns the mapped code. */
NXL_HIDDEN int nxl__xl_error_set(nxl_error *err, int libxl_rc, int domid,
                                 nxl_xl_logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif /* NOVAXL_XL_DRIVER_XL_RC_H */

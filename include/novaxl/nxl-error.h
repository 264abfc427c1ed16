/* novaxl: error codes and the caller-owned error object.
 *
 * Every function that can fail returns 0 or one of the negative codes below.
 * Details go into an optional nxl_error owned by the caller. Each code maps
 * to exactly one Nova exception (nxl_error_nova_name()), so a pool manager
 * can re-raise what the contract promises.
 */
#ifndef NOVAXL_NXL_ERROR_H
#define NOVAXL_NXL_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nxl_errcode {
    NXL_OK = 0,
    NXL_E_INVAL = -1,           /* InvalidInput: bad argument or document */
    NXL_E_NOT_FOUND = -2,       /* InstanceNotFound */
    NXL_E_NOT_RUNNING = -3,     /* InstanceNotRunning */
    NXL_E_QUIESCE_UNSUPP = -4,  /* InstanceQuiesceNotSupported */
    NXL_E_FAILED = -5,          /* NovaException: the operation failed */
    NXL_E_NOT_IMPLEMENTED = -6, /* NotImplementedError: not implemented yet */
    NXL_E_UNSUPPORTED = -7,     /* NotImplementedError: Xen cannot do this */
    NXL_E_HYPERVISOR = -8,      /* HypervisorUnavailable */
    NXL_E_POWER_OFF = -9,       /* InstancePowerOffFailure */
    NXL_E_REBOOT = -10,         /* InstanceRebootFailure */
    NXL_E_INVALID_STATE = -11,  /* InstanceInvalidState: wrong power state */
    NXL_E_EXISTS = -12,         /* InstanceExists */
    NXL_E_NOMEM = -13,          /* NovaException (out of memory) */
    NXL_E_IO = -14,             /* NovaException (host I/O failure) */
    NXL_E_TIMEOUT = -15,        /* NovaException (timed out) */
    NXL_E_DENIED = -16,         /* Forbidden: refused by policy or state */
    NXL_E_CONFLICT = -17,       /* NovaException (concurrent change) */
    NXL_E_CONSOLE_UNAVAILABLE = -18, /* ConsoleTypeUnavailable */
    _NXL_E_MAX = -19                 /* sentinel: one past the last code */
} nxl_errcode;

/* Caller-owned error details. Set once, at the failure; left alone on
 * success. Initialise with nxl_error_init() or NXL_ERROR_INIT. */
typedef struct nxl_error {
    int code;      /* NXL_OK or an NXL_E_* value */
    char *message; /* complete message, malloc'd; NULL when code == NXL_OK */
    int libxl_rc;  /* raw libxl ERROR_* value, 0 when none */
    int sys_errno; /* errno at the failure, 0 when none */
    int domid;     /* domain concerned, -1 when none */
} nxl_error;

#define NXL_ERROR_INIT                                                         \
    {                                                                          \
        NXL_OK, NULL, 0, 0, -1                                                 \
    }

void nxl_error_init(nxl_error *err);
/* Frees the message and resets to the initial state; safe to repeat. */
void nxl_error_dispose(nxl_error *err);

/* Records the failure in err (which may be NULL) unless err already holds
 * one: the first failure is the root cause and is kept. Returns code. */
int nxl_error_set(nxl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errnum)" and keeping errnum. */
int nxl_error_set_errno(nxl_error *err, int code, int errnum, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
/* Same, keeping the raw libxl rc and the domid concerned. */
int nxl_error_set_libxl(nxl_error *err, int code, int libxl_rc, int domid,
                        const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "NXL_E_NOT_FOUND"; "NXL_E_UNKNOWN" for a value outside the enum. */
const char *nxl_error_code_name(int code);
/* The Nova exception class the code maps to, e.g. "InstanceNotFound". */
const char *nxl_error_nova_name(int code);
/* Parses a code name back ("NXL_E_NOT_FOUND" -> -2); 0 when unknown. */
int nxl_error_code_from_name(const char *name);
/* The message, or the code name when no message was recorded. */
const char *nxl_error_message(const nxl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NOVAXL_NXL_ERROR_H */

/* Lab test: kill at the steps of suspend that touch the hypervisor or the
 * save image, on real Xen; init_host then leaves nothing behind and the
 * instance RUNNING, SHUTDOWN or SUSPENDED with exactly its image. The
 * machinery, the checks and the points run are t24-crash-safety.c's. */
#define CRASH_OP CRASH_SUSPEND
#define CRASH_NAME "t25"
#include "t24-crash-safety.c"

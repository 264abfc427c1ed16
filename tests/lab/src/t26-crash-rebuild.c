/* Lab test: kill at every step of rebuild (onto another image id, with
 * preserve_ephemeral) on real Xen; init_host then leaves the old image or
 * the new one, never a mix, and nothing stray. The machinery and the
 * checks are t24-crash-safety.c's. */
#define CRASH_OP CRASH_REBUILD
#define CRASH_NAME "t26"
#include "t24-crash-safety.c"

/* The guest agent protocol (docs/guest-agent.md) and the members built on
 * it: set_admin_password, inject_file, inject_network_info,
 * reset_network (xl_agent.c).
 *
 * One request, one response, through the guest's xenstore:
 *   /local/domain/<domid>/data/host/<id>   written by dom0, ACL: owner 0,
 *                                          read for the guest, nobody else
 *   /local/domain/<domid>/data/guest/<id>  written by the guest agent
 * <id> is 32 random hex digits. The request is a JSON object
 * {"name": ..., "value": ...}; the response a JSON object
 * {"returncode": "0", "message": "..."} of at most
 * NXL_XL_AGENT_RESPONSE_MAX bytes. Whatever the guest writes is untrusted:
 * read bounded, parsed with the usual caps, and quoted in messages. Both
 * nodes are removed when the call ends, however it ends.
 */
#ifndef NOVAXL_XL_AGENT_H
#define NOVAXL_XL_AGENT_H

#include <stdint.h>

#include "common/driver.h"

/* nova's XenAPI driver waited 30 s for its agent (agent_timeout). */
#define NXL_XL_AGENT_TIMEOUT_MS 30000
#define NXL_XL_AGENT_RESPONSE_MAX 1024
#define NXL_XL_AGENT_MESSAGE_MAX 512

/* How long calls wait for an answer; tests lower it. */
NXL_HIDDEN extern unsigned nxl__xl_agent_timeout_ms;

/* Sends request_json (a complete JSON object) to domid's agent and waits
 * for its answer. 0 when the agent answered with returncode 0 (then
 * *message_r, when message_r is not NULL, is its message or NULL;
 * free()); NXL_E_TIMEOUT "no guest agent answered within N s";
 * NXL_E_FAILED when the agent refused (its returncode and message quoted)
 * or answered something that is not a valid response; NXL_E_NOT_FOUND
 * when the domain has no xenstore home; NXL_E_INVAL when the request
 * does not fit in one xenstore node. */
NXL_HIDDEN int nxl__xl_agent_call(uint32_t domid, const char *method,
                                  const char *request_json, char **message_r,
                                  nxl_error *err);

NXL_HIDDEN int nxl_xl_set_admin_password(nxl_driver *drv,
                                         const nxl_instance *inst,
                                         const char *new_pass, nxl_error *err);
NXL_HIDDEN int nxl_xl_inject_file(nxl_driver *drv, const nxl_instance *inst,
                                  const char *b64_path,
                                  const char *b64_contents, nxl_error *err);
NXL_HIDDEN int nxl_xl_inject_network_info(nxl_driver *drv,
                                          const nxl_instance *inst,
                                          const nxl_network_info *network_info,
                                          nxl_error *err);
NXL_HIDDEN int nxl_xl_reset_network(nxl_driver *drv, const nxl_instance *inst,
                                    nxl_error *err);

#endif /* NOVAXL_XL_AGENT_H */

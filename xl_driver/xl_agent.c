/* The guest agent protocol (xl_agent.h, docs/guest-agent.md) and the four
 * members nova's XenAPI driver served through its xenstore agent.
 *
 * Why xenstore: it is the one channel every Xen guest has from its first
 * instruction, needs no network and no device model, and xenstored
 * enforces who may read what. Why the care: data/ is the guest's own
 * directory (libxl gives the guest ownership of it), so everything under
 * data/guest is written by a party we do not trust, and a guest may also
 * write nothing at all, answer late, answer twice, or flood us with
 * changes. So: the request node gets an ACL of its own (owner dom0, the
 * guest may only read it), the wait is bounded by a monotonic deadline
 * whatever the guest does, the response is read with a size cap, and its
 * text only ever reaches a message through nxl__quote.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/json.h"
#include "xenstore/xs.h"
#include "xl_driver/xl_agent.h"
#include "xl_driver/xl_host.h"

unsigned nxl__xl_agent_timeout_ms = NXL_XL_AGENT_TIMEOUT_MS;

static int request_id(char id[33], nxl_error *err)
{
    unsigned char raw[16];
    size_t off = 0;

    /* Unguessable, so a guest cannot prepare a node for a request before
     * it is made (the ACL we set would win anyway, but the answer node,
     * which the guest owns, could otherwise be pre-written). */
    while (off < sizeof(raw)) {
        ssize_t r = getrandom(raw + off, sizeof(raw) - off, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return nxl_error_set_errno(err, NXL_E_IO, errno,
                                       "guest agent: getrandom failed");
        off += (size_t)r;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(id + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

typedef struct req_ctx {
    uint32_t domid;
    const char *path;
    const char *doc;
} req_ctx;

static int write_request(nxl_xs *xs, xs_transaction_t t, void *opaque,
                         nxl_error *err)
{
    req_ctx *c = opaque;
    nxl_xs_perms p;
    int rc;

    nxl_xs_perms_init(&p);
    p.owner = 0;
    p.others = NXL_XS_ACCESS_NONE;
    /* Written and locked down in one transaction: nobody, the guest
     * included, ever sees it with the ACL it inherits from data/ (which
     * the guest owns). */
    if ((rc = nxl_xs_write_str(xs, t, c->path, c->doc, err)) == 0 &&
        (rc = nxl_xs_perms_add(&p, c->domid, NXL_XS_ACCESS_READ, err)) == 0)
        rc = nxl_xs_set_perms(xs, t, c->path, &p, err);
    nxl_xs_perms_dispose(&p);
    return rc;
}

static void timeout_text(char *buf, size_t size, unsigned ms)
{
    if (ms % 1000 == 0)
        snprintf(buf, size, "%u s", ms / 1000);
    else
        snprintf(buf, size, "%u.%03u s", ms / 1000, ms % 1000);
}

/* Judges what the guest wrote: 0 for returncode 0, else NXL_E_FAILED. */
static int judge(const char *method, uint32_t domid, const char *val,
                 size_t len, char **message_r, nxl_error *err)
{
    nxl_json *root = NULL;
    nxl_error why = NXL_ERROR_INIT;
    const nxl_json *rcv, *msgv;
    const char *msg = NULL, *rcs;
    long long code = -1;
    char q[NXL_XL_AGENT_MESSAGE_MAX / 4 + 8];
    int rc;

    if (nxl__json_parse(val, len, NXL_XL_AGENT_RESPONSE_MAX, &root, &why) < 0 ||
        nxl__json_type(root) != NXL_JSON_OBJECT) {
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "%s: the guest agent of domain %u answered %s, "
                           "which is not a JSON object",
                           method, domid, nxl__quote(q, sizeof(q), val));
        goto out;
    }
    rcv = nxl__json_get(root, "returncode");
    msgv = nxl__json_get(root, "message");
    /* nova's agent sends the code as a string of digits; an integer is
     * fine too. */
    if ((rcs = nxl__json_string(rcv))) {
        char *end = NULL;

        errno = 0;
        if (rcs[0] >= '0' && rcs[0] <= '9' && strlen(rcs) <= 9)
            code = strtoll(rcs, &end, 10);
        if (!end || *end || errno)
            code = -1;
    } else if (!nxl__json_integer(rcv, &code) || code < 0) {
        code = -1;
    }
    if (code < 0 || (msgv && nxl__json_type(msgv) != NXL_JSON_NULL &&
                     !(msg = nxl__json_string(msgv)))) {
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "%s: the guest agent of domain %u answered %s, "
                           "which has no valid returncode (a string of digits) "
                           "or a message that is not a string",
                           method, domid, nxl__quote(q, sizeof(q), val));
        goto out;
    }
    if (code != 0) {
        rc = nxl_error_set(err, NXL_E_FAILED,
                           "%s: the guest agent of domain %u refused "
                           "(returncode %lld): %s",
                           method, domid, code,
                           nxl__quote(q, sizeof(q), msg ? msg : ""));
        goto out;
    }
    if (message_r) {
        char *copy = NULL;

        if (msg && strlen(msg) > NXL_XL_AGENT_MESSAGE_MAX) {
            rc = nxl_error_set(err, NXL_E_FAILED,
                               "%s: the guest agent's message is over %d bytes",
                               method, NXL_XL_AGENT_MESSAGE_MAX);
            goto out;
        }
        if ((rc = nxl__strdup(&copy, msg, err)) < 0)
            goto out;
        *message_r = copy;
    }
    rc = 0;
out:
    nxl_error_dispose(&why);
    nxl__json_free(root);
    return rc;
}

int nxl__xl_agent_call(uint32_t domid, const char *method,
                       const char *request_json, char **message_r,
                       nxl_error *err)
{
    char id[33], dom[32], token[64], tmo[32];
    char *req_path = NULL, *resp_path = NULL, *val = NULL;
    char *ev_path = NULL, *ev_token = NULL;
    unsigned timeout = nxl__xl_agent_timeout_ms;
    nxl_xs *xs = NULL;
    bool watching = false, requested = false;
    int64_t deadline;
    size_t len = 0;
    req_ctx c;
    int rc;

    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    if ((rc = request_id(id, err)) < 0 ||
        (rc = NXL_XS_PATH_JOIN(&req_path, err, dom, "data", "host", id)) < 0 ||
        (rc = NXL_XS_PATH_JOIN(&resp_path, err, dom, "data", "guest", id)) < 0)
        goto out;
    if (strlen(req_path) + 1 + strlen(request_json) > NXL_XS_PAYLOAD_MAX) {
        rc = nxl_error_set(err, NXL_E_INVAL,
                           "%s: the request is %zu bytes; one xenstore node "
                           "holds at most %zu with its path",
                           method, strlen(request_json),
                           (size_t)NXL_XS_PAYLOAD_MAX - strlen(req_path) - 1);
        goto out;
    }
    if ((rc = nxl_xs_open(&xs, err)) < 0)
        goto out;
    if ((rc = nxl_xs_read(xs, XBT_NULL, dom, &val, NULL, err)) < 0)
        goto out;
    free(val);
    val = NULL;
    /* Watch before asking, so an answer cannot slip in unseen. */
    snprintf(token, sizeof(token), "nxl-agent-%s", id);
    if ((rc = nxl_xs_watch(xs, resp_path, token, err)) < 0)
        goto out;
    watching = true;
    c.domid = domid;
    c.path = req_path;
    c.doc = request_json;
    if ((rc = nxl_xs_transact(xs, write_request, &c, err)) < 0)
        goto out;
    requested = true;
    deadline = nxl__mono_ms() + timeout;
    for (;;) {
        int64_t left;
        int r;

        rc = nxl_xs_read_bounded(xs, XBT_NULL, resp_path,
                                 NXL_XL_AGENT_RESPONSE_MAX, &val, &len, NULL);
        if (rc == 0)
            break;
        if (rc != NXL_E_NOT_FOUND) {
            /* Too long, or holds a NUL: the guest broke the protocol. */
            rc = nxl_error_set(err, NXL_E_FAILED,
                               "%s: the guest agent of domain %u wrote an "
                               "invalid response (over %d bytes, or not "
                               "text) to %s",
                               method, domid, NXL_XL_AGENT_RESPONSE_MAX,
                               resp_path);
            goto out;
        }
        left = deadline - nxl__mono_ms();
        if (left <= 0) {
            timeout_text(tmo, sizeof(tmo), timeout);
            rc = nxl_error_set(err, NXL_E_TIMEOUT,
                               "%s: no guest agent answered within %s "
                               "(domain %u, request %s; is the agent "
                               "installed and running in the guest?)",
                               method, tmo, domid, req_path);
            goto out;
        }
        r = nxl_xs_read_watch(xs, (int)left, &ev_path, &ev_token, err);
        if (r < 0) {
            rc = r;
            goto out;
        }
        free(ev_path);
        free(ev_token);
        ev_path = ev_token = NULL;
    }
    rc = judge(method, domid, val, len, message_r, err);
out:
    /* However it ended: the request (which may hold a password) and any
     * answer go, and a late answer finds no request to answer. */
    if (watching)
        nxl_xs_unwatch(xs, resp_path, token, NULL);
    if (requested) {
        nxl_xs_rm(xs, XBT_NULL, req_path, NULL);
        nxl_xs_rm(xs, XBT_NULL, resp_path, NULL);
    }
    nxl_xs_close(xs);
    free(ev_path);
    free(ev_token);
    free(val);
    free(req_path);
    free(resp_path);
    return rc;
}

/* ---- the members ------------------------------------------------------------
 */

/* Builds the request with w (whose value the caller wrote after the
 * name), finds the domain and calls its agent. */
static int call_with(nxl_driver *drv, const nxl_instance *inst,
                     const char *method, nxl_jw *w, nxl_error *err)
{
    char *doc = NULL;
    uint32_t domid;
    int rc;

    nxl__jw_object_close(w);
    if ((rc = nxl__jw_finish(w, &doc, err)) < 0 ||
        (rc = nxl__xl_instance_domid(drv, inst, method, &domid, err)) < 0)
        goto out;
    rc = nxl__xl_agent_call(domid, method, doc, NULL, err);
out:
    if (doc) {
        /* May hold a password. */
        memset(doc, 0, strlen(doc));
        free(doc);
    }
    nxl__jw_free(w);
    return rc;
}

static nxl_jw *start(const char *name)
{
    nxl_jw *w = nxl__jw_new();

    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "name", name);
    return w;
}

int nxl_xl_set_admin_password(nxl_driver *drv, const nxl_instance *inst,
                              const char *new_pass, nxl_error *err)
{
    nxl_jw *w;
    size_t len = strlen(new_pass);

    if (len == 0 || len > 255 || !nxl__utf8_valid(new_pass, len))
        return nxl_error_set(err, NXL_E_INVAL,
                             "set_admin_password: the password must be 1 to "
                             "255 bytes of UTF-8");
    w = start("password");
    nxl__jw_kv_string(w, "value", new_pass);
    return call_with(drv, inst, "set_admin_password", w, err);
}

static bool b64_ok(const char *s)
{
    size_t n = strlen(s), pad = 0;

    if (n == 0 || n % 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (ch == '=') {
            pad++;
            continue;
        }
        if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
            return false;
    }
    return pad <= 2;
}

int nxl_xl_inject_file(nxl_driver *drv, const nxl_instance *inst,
                       const char *b64_path, const char *b64_contents,
                       nxl_error *err)
{
    nxl_jw *w;

    if (!b64_ok(b64_path))
        return nxl_error_set(err, NXL_E_INVAL,
                             "inject_file: b64_path is not base64");
    if (!b64_ok(b64_contents))
        return nxl_error_set(err, NXL_E_INVAL,
                             "inject_file: b64_contents is not base64");
    /* Passed on still encoded: the guest agent decodes and decides where
     * it may write; dom0 never interprets the path. */
    w = start("inject_file");
    nxl__jw_key(w, "value");
    nxl__jw_object_open(w);
    nxl__jw_kv_string(w, "b64_path", b64_path);
    nxl__jw_kv_string(w, "b64_contents", b64_contents);
    nxl__jw_object_close(w);
    return call_with(drv, inst, "inject_file", w, err);
}

int nxl_xl_inject_network_info(nxl_driver *drv, const nxl_instance *inst,
                               const nxl_network_info *ni, nxl_error *err)
{
    nxl_jw *w = start("inject_network_info");

    nxl__jw_key(w, "value");
    nxl__jw_object_open(w);
    nxl__jw_key(w, "interfaces");
    nxl__jw_array_open(w);
    for (size_t i = 0; i < ni->n; i++) {
        const nxl_vif *v = &ni->vifs[i];

        nxl__jw_object_open(w);
        nxl__jw_kv_string(w, "mac", v->address);
        nxl__jw_kv_string(w, "label", v->network_label);
        if (v->mtu)
            nxl__jw_kv_uint(w, "mtu", v->mtu);
        nxl__jw_key(w, "subnets");
        nxl__jw_array_open(w);
        for (size_t s = 0; s < v->n_subnets; s++) {
            const nxl_subnet *sn = &v->subnets[s];

            nxl__jw_object_open(w);
            nxl__jw_kv_string(w, "cidr", sn->cidr);
            nxl__jw_kv_string(w, "gateway", sn->gateway);
            nxl__jw_key(w, "dns");
            nxl__jw_array_open(w);
            for (size_t d = 0; d < sn->dns.n; d++)
                nxl__jw_string(w, sn->dns.v[d]);
            nxl__jw_array_close(w);
            nxl__jw_key(w, "ips");
            nxl__jw_array_open(w);
            for (size_t k = 0; k < sn->n_ips; k++) {
                nxl__jw_object_open(w);
                nxl__jw_kv_string(w, "address", sn->ips[k].address);
                nxl__jw_kv_int(w, "version", sn->ips[k].version);
                nxl__jw_object_close(w);
            }
            nxl__jw_array_close(w);
            nxl__jw_object_close(w);
        }
        nxl__jw_array_close(w);
        nxl__jw_object_close(w);
    }
    nxl__jw_array_close(w);
    nxl__jw_object_close(w);
    return call_with(drv, inst, "inject_network_info", w, err);
}

int nxl_xl_reset_network(nxl_driver *drv, const nxl_instance *inst,
                         nxl_error *err)
{
    nxl_jw *w = start("resetnetwork");

    nxl__jw_kv_string(w, "value", "");
    return call_with(drv, inst, "reset_network", w, err);
}

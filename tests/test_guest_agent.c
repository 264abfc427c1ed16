/* The reference guest agent (lab/guest/nxl-agent.c) on the build host:
 * its request parser, its shape checks, its inject_file path policy and
 * atomic write, its answer encoding. Its actions in a real guest (root's
 * password, networking) are proven by the lab, t36-guest-agent; here only
 * inject_file writes, below a private directory under /tmp (one of its
 * allowed prefixes).
 *
 * The agent's file is compiled in whole (its helpers are static) with its
 * main renamed, and its xenstore client with it.
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nxl_agent_main(void);
#define main nxl_agent_main
#include "lab/guest/nxl-agent.c"
#undef main
/* Included too rather than listed as a source: no object of the build may
 * land in lab/, which is distributed whole. */
#include "lab/guest/xenbus.c"

#include "common/internal.h"
#include "tests/testutil.h"

static answer last;

/* Runs one request through the agent's dispatcher; its code. */
static int run(const char *req)
{
    const char *name;

    memset(&last, 0, sizeof(last));
    dispatch(req, strlen(req), &last, &name);
    return last.code;
}

#define CHECK_RUN(req, code, want)                                             \
    do {                                                                       \
        int got_ = run(req);                                                   \
        CU_ASSERT_EQUAL(got_, code);                                           \
        CU_ASSERT_PTR_NOT_NULL(strstr(last.msg, want));                        \
        if (got_ != (code) || !strstr(last.msg, want))                         \
            fprintf(stderr, "  %s -> %d %s (want %d '%s')\n", req, got_,       \
                    last.msg, code, want);                                     \
    } while (0)

static void test_malformed(void)
{
    static char deep[64], many[REQ_MAX + 8], big[REQ_MAX + 64];
    size_t o = 0;

    CHECK_RUN("", RC_BAD, "malformed request: unexpected end");
    CHECK_RUN("{\"name\": \"password\", \"value\": ", RC_BAD, "unexpected end");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"x\"} x", RC_BAD,
              "text after the JSON value");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"x\", \"name\": \"y\"}",
              RC_BAD, "duplicate key");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"a\\u0000b\"}", RC_BAD,
              "escaped NUL");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"\\ud800\"}", RC_BAD,
              "lone high surrogate");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"\\udc00\"}", RC_BAD,
              "lone low surrogate");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"a\tb\"}", RC_BAD,
              "control character");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"\\x\"}", RC_BAD,
              "bad escape");
    CHECK_RUN("{\"name\": \"password\", \"value\": 01}", RC_BAD,
              "expected ',' or '}'");
    CHECK_RUN("{\"name\": \"password\", \"value\": 1.}", RC_BAD, "bad number");
    CHECK_RUN("{\"name\" \"password\", \"value\": 1}", RC_BAD, "expected ':'");
    CHECK_RUN("{name: 1}", RC_BAD, "expected a key");
    CHECK_RUN("[\"password\"]", RC_BAD, "not an object with a string name");
    CHECK_RUN("{\"value\": \"x\"}", RC_BAD, "not an object with a string name");
    CHECK_RUN("{\"name\": \"password\"}", RC_BAD,
              "not an object with a string name");
    CHECK_RUN("{\"name\": \"reboot\", \"value\": \"\"}", RC_BAD,
              "unknown request name");
    /* Nesting past J_DEPTH. */
    for (int i = 0; i < J_DEPTH + 1; i++)
        deep[o++] = '[';
    deep[o] = '\0';
    CHECK_RUN(deep, RC_BAD, "nested too deep");
    /* More values than the pool holds. */
    o = (size_t)snprintf(many, sizeof(many), "{\"name\": \"x\", \"value\": [");
    for (int i = 0; i < J_NODES + 1; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "%s0", i ? "," : "");
    snprintf(many + o, sizeof(many) - o, "]}");
    CHECK_RUN(many, RC_BAD, "too many values");
    /* Over one xenstore node. */
    o = (size_t)snprintf(big, sizeof(big),
                         "{\"name\": \"password\", "
                         "\"value\": \"");
    memset(big + o, 'a', REQ_MAX);
    snprintf(big + REQ_MAX, sizeof(big) - REQ_MAX, "\"}");
    CHECK_RUN(big, RC_BAD, "request too long");
}

static void test_strings_decoded(void)
{
    static jdoc d;
    const char *doc = "{\"s\": \"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\n\", "
                      "\"n\": -12, \"t\": true, \"z\": null, \"a\": []}";
    int root = jparse(&d, doc, strlen(doc));
    long v = 0;

    CU_ASSERT_FATAL(root >= 0);
    CU_ASSERT_STRING_EQUAL(jstring(&d, jget(&d, root, "s")),
                           "\xc3\xa9\xf0\x9f\x98\x80\"\\/\n");
    CU_ASSERT(jint(&d, jget(&d, root, "n"), -20, 0, &v) && v == -12);
    CU_ASSERT(!jint(&d, jget(&d, root, "n"), 0, 20, &v));
    CU_ASSERT_EQUAL(d.v[jget(&d, root, "t")].type, J_TRUE);
    CU_ASSERT_EQUAL(d.v[jget(&d, root, "z")].type, J_NULL);
    CU_ASSERT_EQUAL(d.v[jget(&d, root, "a")].n, 0);
    CU_ASSERT_EQUAL(jget(&d, root, "missing"), -1);
}

static void test_password_shapes(void)
{
    static char long_pw[PASS_MAX + 64];
    size_t o;

    CHECK_RUN("{\"name\": \"password\", \"value\": 5}", RC_BAD,
              "value must be a string");
    CHECK_RUN("{\"name\": \"password\", \"value\": \"\"}", RC_BAD,
              "1 to 255 bytes");
    o = (size_t)snprintf(long_pw, sizeof(long_pw),
                         "{\"name\": \"password\", \"value\": \"");
    memset(long_pw + o, 'p', PASS_MAX + 1);
    snprintf(long_pw + o + PASS_MAX + 1, sizeof(long_pw) - o - PASS_MAX - 1,
             "\"}");
    CHECK_RUN(long_pw, RC_BAD, "1 to 255 bytes");
}

static void test_base64(void)
{
    unsigned char out[8];

    CU_ASSERT_EQUAL(b64_decode("YQ==", out, sizeof(out)), 1);
    CU_ASSERT_EQUAL(out[0], 'a');
    CU_ASSERT_EQUAL(b64_decode("YWI=", out, sizeof(out)), 2);
    CU_ASSERT_EQUAL(memcmp(out, "ab", 2), 0);
    CU_ASSERT_EQUAL(b64_decode("YWJj", out, sizeof(out)), 3);
    CU_ASSERT_EQUAL(b64_decode("", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64_decode("YWJ", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64_decode("Y===", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64_decode("Y=Jj", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64_decode("YQ==YWJj", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64_decode("YW-j", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(b64_decode("YWJjZGVm", out, 5), -1); /* 6 bytes > 5 */
}

static void test_path_policy(void)
{
    static const char *const ok[] = {"/etc/x", "/root/.ssh/authorized_keys",
                                     "/tmp/a..b", "/tmp/.hidden",
                                     "/etc/with space"};
    static const struct {
        const char *path, *why;
    } bad[] = {
        {"etc/x", "not an absolute path"},
        {"/etc", "outside /root, /etc and /tmp"},
        {"/etc/", "empty path component"},
        {"/var/x", "outside"},
        {"/rootx/y", "outside"},
        {"/", "empty path component"},
        {"/tmp/./x", ". or .."},
        {"/tmp/../etc/x", ". or .."},
        {"/tmp/x/..", ". or .."},
        {"/tmp//x", "empty path component"},
        {"/tmp/a\nb", "not printable ASCII"},
        {"/tmp/\xc3\xa9", "not printable ASCII"},
    };
    char longp[PATH_MAX_INJECT + 8];

    for (size_t i = 0; i < NXL_ARRAY_SIZE(ok); i++) {
        const char *why = path_refusal(ok[i], strlen(ok[i]));

        CU_ASSERT_PTR_NULL(why);
        if (why)
            fprintf(stderr, "  %s refused: %s\n", ok[i], why);
    }
    for (size_t i = 0; i < NXL_ARRAY_SIZE(bad); i++) {
        const char *why = path_refusal(bad[i].path, strlen(bad[i].path));

        CU_ASSERT(why && strstr(why, bad[i].why));
        if (!why || !strstr(why, bad[i].why))
            fprintf(stderr, "  %s: %s (want %s)\n", bad[i].path,
                    why ? why : "accepted", bad[i].why);
    }
    memset(longp, 'a', sizeof(longp) - 1);
    memcpy(longp, "/tmp/", 5);
    longp[PATH_MAX_INJECT + 1] = '\0';
    CU_ASSERT(path_refusal(longp, strlen(longp)) != NULL);
}

/* ---- inject_file for real, below /tmp ---- */

static char base[64];

static int files_init(void)
{
    snprintf(base, sizeof(base), "/tmp/nxl-agent-test-XXXXXX");
    return mkdtemp(base) ? 0 : -1;
}

static int files_cleanup(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

/* inject_file of path with text through the dispatcher; its code. */
static int inject(const char *path, const char *text, size_t n)
{
    /* Room for both whole (the test's requests stay far below REQ_MAX). */
    static char req[2 * REQ_MAX], p64[512], c64[REQ_MAX];
    int len;

    b64_encode(path, strlen(path), p64, sizeof(p64));
    b64_encode(text, n, c64, sizeof(c64));
    len = snprintf(req, sizeof(req),
                   "{\"name\": \"inject_file\", \"value\": {\"b64_path\": "
                   "\"%s\", \"b64_contents\": \"%s\"}}",
                   p64, c64);
    CU_ASSERT_FATAL(len > 0 && len <= REQ_MAX);
    return run(req);
}

/* path is a regular file holding text, with mode (any when -1). */
static bool file_is(const char *path, const char *text, int mode)
{
    char buf[256];
    struct stat st;
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return false;
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           (mode < 0 || (int)(st.st_mode & 07777) == mode) &&
           n == strlen(text) && memcmp(buf, text, n) == 0;
}

static void test_inject_file_writes(void)
{
    char path[256], want[320];

    /* Parents created; a new file is 0600; read back, CRC-32 said. */
    snprintf(path, sizeof(path), "%s/sub/dir/f", base);
    CU_ASSERT_EQUAL(inject(path, "hello\n", 6), RC_OK);
    snprintf(want, sizeof(want), "wrote %s (6 bytes, crc32 %08x)", path,
             crc32_of((const unsigned char *)"hello\n", 6));
    CU_ASSERT_STRING_EQUAL(last.msg, want);
    CU_ASSERT(file_is(path, "hello\n", 0600));
    /* Replaced: the mode of the file it replaces is kept. */
    CU_ASSERT_EQUAL(chmod(path, 0644), 0);
    CU_ASSERT_EQUAL(inject(path, "again", 5), RC_OK);
    CU_ASSERT(file_is(path, "again", 0644));
    /* Empty contents cannot be said in base64 (nor by dom0): refused. */
    CU_ASSERT_EQUAL(inject(path, "", 0), RC_REFUSED);
    CU_ASSERT(file_is(path, "again", 0644));
    /* No temporary file left beside it. */
    snprintf(path, sizeof(path), "%s/sub/dir/.nxl-agent.tmp", base);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
}

static void test_inject_file_symlinks(void)
{
    char path[256], target[256], link[256];

    /* A symlinked parent is refused, not followed. */
    snprintf(target, sizeof(target), "%s/real", base);
    snprintf(link, sizeof(link), "%s/link", base);
    CU_ASSERT_EQUAL(mkdir(target, 0755), 0);
    CU_ASSERT_EQUAL(symlink(target, link), 0);
    snprintf(path, sizeof(path), "%s/link/f", base);
    CU_ASSERT_EQUAL(inject(path, "x", 1), RC_REFUSED);
    CU_ASSERT_PTR_NOT_NULL(strstr(last.msg, "a parent is a symlink"));
    snprintf(path, sizeof(path), "%s/real/f", base);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    /* A symlink at the name is replaced, its target untouched. */
    snprintf(target, sizeof(target), "%s/real/target", base);
    {
        FILE *f = fopen(target, "w");

        CU_ASSERT_FATAL(f != NULL);
        fputs("keep", f);
        fclose(f);
    }
    snprintf(link, sizeof(link), "%s/s", base);
    CU_ASSERT_EQUAL(symlink(target, link), 0);
    CU_ASSERT_EQUAL(inject(link, "new", 3), RC_OK);
    CU_ASSERT(file_is(link, "new", 0600));
    CU_ASSERT(file_is(target, "keep", -1));
    /* A directory at the name is refused. */
    CU_ASSERT_EQUAL(inject(base, "x", 1), RC_REFUSED);
    CU_ASSERT_PTR_NOT_NULL(strstr(last.msg, "a directory"));
}

static void test_inject_file_refusals(void)
{
    static char huge[FILE_MAX + 2], c64[2 * FILE_MAX];
    static unsigned char contents_buf[FILE_MAX + 2];

    CHECK_RUN("{\"name\": \"inject_file\", \"value\": \"x\"}", RC_BAD,
              "value must be an object");
    CHECK_RUN("{\"name\": \"inject_file\", \"value\": {\"b64_path\": "
              "\"L3RtcC94\"}}",
              RC_BAD, "value must be an object");
    CHECK_RUN("{\"name\": \"inject_file\", \"value\": {\"b64_path\": \"!!\", "
              "\"b64_contents\": \"eA==\"}}",
              RC_BAD, "b64_path is not base64");
    /* "/var/x" and "/tmp/../etc/x" */
    CHECK_RUN("{\"name\": \"inject_file\", \"value\": {\"b64_path\": "
              "\"L3Zhci94\", \"b64_contents\": \"eA==\"}}",
              RC_REFUSED, "refused /var/x: outside /root, /etc and /tmp");
    CHECK_RUN("{\"name\": \"inject_file\", \"value\": {\"b64_path\": "
              "\"L3RtcC8uLi9ldGMveA==\", \"b64_contents\": \"eA==\"}}",
              RC_REFUSED, "refused /tmp/../etc/x: path has a . or ..");
    /* "/tmp/a\0b": a NUL inside the decoded path. */
    CHECK_RUN("{\"name\": \"inject_file\", \"value\": {\"b64_path\": "
              "\"L3RtcC9hAGI=\", \"b64_contents\": \"eA==\"}}",
              RC_REFUSED, "path holds a NUL");
    /* Contents over FILE_MAX do not decode (a request that large does not
     * fit in one node, so the decoder's cap is what refuses them). */
    memset(huge, 'z', FILE_MAX + 1);
    b64_encode(huge, FILE_MAX + 1, c64, sizeof(c64));
    CU_ASSERT_EQUAL(b64_decode(c64, contents_buf, FILE_MAX), -1);
    CU_ASSERT_EQUAL(b64_decode(c64, contents_buf, FILE_MAX + 1), FILE_MAX + 1);
}

static void test_network_shapes(void)
{
    static char nine[REQ_MAX];
    size_t o;

    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": {}}", RC_BAD,
              "interfaces, an array of 1 to 8");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": []}}",
              RC_BAD, "interfaces, an array of 1 to 8");
    o = (size_t)snprintf(nine, sizeof(nine),
                         "{\"name\": \"inject_network_info\", \"value\": "
                         "{\"interfaces\": [");
    for (int i = 0; i < IFACES_MAX + 1; i++)
        o += (size_t)snprintf(nine + o, sizeof(nine) - o,
                              "%s{\"mac\": \"fa:16:3e:00:00:0%d\"}",
                              i ? ", " : "", i);
    snprintf(nine + o, sizeof(nine) - o, "]}}");
    CHECK_RUN(nine, RC_BAD, "interfaces, an array of 1 to 8");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fa:16:3e:00:00\"}]}}",
              RC_BAD, "no valid mac");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fa:16:3e:00:00:01\", \"mtu\": "
              "70000}]}}",
              RC_BAD, "mtu is not an integer from 68 to 65535");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fa:16:3e:00:00:01\", "
              "\"subnets\": [{\"cidr\": \"10.0.0.0/24\", \"ips\": "
              "[{\"address\": \"10.0.0.5\", \"version\": 5}]}]}]}}",
              RC_BAD, "not {address, version 4 or 6}");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fa:16:3e:00:00:01\", "
              "\"subnets\": [{\"cidr\": \"10.0.0.0/33\", \"ips\": "
              "[{\"address\": \"10.0.0.5\", \"version\": 4}]}]}]}}",
              RC_BAD, "10.0.0.5 has no IPv4 cidr");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fa:16:3e:00:00:01\", "
              "\"subnets\": [{\"cidr\": \"10.0.0.0/24\", \"ips\": "
              "[{\"address\": \"10.0.0.500\", \"version\": 4}]}]}]}}",
              RC_BAD, "a version 4 ip is not an IPv4 address");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fa:16:3e:00:00:01\", "
              "\"subnets\": [{\"cidr\": \"10.0.0.0/24\", \"gateway\": "
              "\"gw\", \"ips\": [{\"address\": \"10.0.0.5\", \"version\": "
              "4}]}]}]}}",
              RC_BAD, "the gateway is not IPv4");
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fa:16:3e:00:00:01\", "
              "\"subnets\": [{\"dns\": [\"not-an-ip\"]}]}]}}",
              RC_BAD, "a dns entry is not an IP address");
    /* Well formed, but no interface of this host has the MAC (a locally
     * administered one nobody uses): 404 before anything is touched. */
    CHECK_RUN("{\"name\": \"inject_network_info\", \"value\": "
              "{\"interfaces\": [{\"mac\": \"fe:6e:78:6c:36:36\", "
              "\"label\": null, \"mtu\": 1500, \"subnets\": [{\"cidr\": "
              "\"192.0.2.0/24\", \"gateway\": \"192.0.2.1\", \"dns\": "
              "[\"192.0.2.53\"], \"ips\": [{\"address\": \"192.0.2.36\", "
              "\"version\": 4}, {\"address\": \"2001:db8::36\", "
              "\"version\": 6}]}]}]}}",
              RC_MISSING, "no interface with MAC fe:6e:78:6c:36:36");
    CHECK_RUN("{\"name\": \"resetnetwork\", \"value\": 0}", RC_BAD,
              "value must be a string");
}

static void test_answer_and_crc(void)
{
    answer a = {.code = 403};
    char out[1024];
    const unsigned char check[] = "123456789";

    snprintf(a.msg, sizeof(a.msg), "q\"b\\n\nt\x01\xc3\xa9");
    answer_json(&a, out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "{\"returncode\": \"403\", \"message\": "
                                "\"q\\\"b\\\\n\\u000at\\u0001??\"}");
    /* The standard CRC-32 check value. */
    CU_ASSERT_EQUAL(crc32_of(check, 9), 0xcbf43926u);
    CU_ASSERT(id_ok("0123456789abcdef0123456789abcdef"));
    CU_ASSERT(!id_ok(""));
    CU_ASSERT(!id_ok("../x"));
    CU_ASSERT(!id_ok("a/b"));
}

int main(void)
{
    static const nxl_test_def parse[] = {
        {"malformed requests refused", test_malformed},
        {"strings decoded", test_strings_decoded},
        {"password shapes", test_password_shapes},
        {"base64 strict", test_base64},
        {"network shapes", test_network_shapes},
        {"answers and CRC-32", test_answer_and_crc},
    };
    static const nxl_test_def files[] = {
        {"path policy", test_path_policy},
        {"inject_file writes atomically", test_inject_file_writes},
        {"inject_file and symlinks", test_inject_file_symlinks},
        {"inject_file refusals", test_inject_file_refusals},
    };

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (nxl_test_add_suite("agent requests", NULL, NULL, parse,
                           NXL_ARRAY_SIZE(parse)) ||
        nxl_test_add_suite("agent files", files_init, files_cleanup, files,
                           NXL_ARRAY_SIZE(files))) {
        CU_cleanup_registry();
        return 1;
    }
    return nxl_test_run(NULL);
}

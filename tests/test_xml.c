/* libvirt domain XML (common/xml.c): every example request as golden XML,
 * round trips both ways, libvirt-only documents, and hostile or wrong
 * input refused with a message naming the element and nothing built.
 * NXL_TEST_REGENERATE=1 rewrites tests/golden/xml/. */
#include "config.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "common/json.h"
#include "common/xml.h"
#include "tests/testutil.h"

static bool req_empty(const nxl_spawn_req *r)
{
    nxl_spawn_req e;
    bool eq;

    nxl_spawn_req_init(&e);
    eq = nxl__spawn_req_equal(r, &e) && r->instance.name == NULL;
    nxl_spawn_req_dispose(&e);
    return eq;
}

/* ---- examples: golden XML and round trips ----------------------------------
 */

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const nxl_kv *)a)->key, ((const nxl_kv *)b)->key);
}

static void kv_sort(nxl_kvlist *kv)
{
    if (kv->n)
        qsort(kv->items, kv->n, sizeof(*kv->items), kv_cmp);
}

/* The request's string maps are maps (nova's dicts): a field libvirt
 * carries comes back at the end of its map, so compare in key order. */
static bool same_request(nxl_spawn_req *a, nxl_spawn_req *b)
{
    nxl_spawn_req *r[2] = {a, b};

    for (int i = 0; i < 2; i++) {
        kv_sort(&r[i]->instance.flavor.extra_specs);
        kv_sort(&r[i]->instance.metadata);
        kv_sort(&r[i]->instance.system_metadata);
        kv_sort(&r[i]->image_meta.properties);
        for (size_t j = 0; j < r[i]->network_info.n; j++)
            kv_sort(&r[i]->network_info.vifs[j].details);
        for (size_t j = 0; j < r[i]->block_device_info.n_mappings; j++)
            kv_sort(&r[i]->block_device_info.mappings[j].connection_info.data);
    }
    return nxl__spawn_req_equal(a, b);
}

static void check_example(const char *name)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req, back, again;
    char rel[512];
    char *doc, *golden, *xml = NULL, *xml2 = NULL, *json = NULL;
    const char *regen = getenv("NXL_TEST_REGENERATE");
    size_t len, glen;
    size_t n = strlen(name) - strlen(".json");

    nxl_spawn_req_init(&req);
    nxl_spawn_req_init(&back);
    nxl_spawn_req_init(&again);
    snprintf(rel, sizeof(rel), "examples/%s", name);
    doc = nxl_test_read_src(rel, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL_FATAL(nxl__spawn_req_from_json(doc, len, &req, &err), 0);
    /* The record keeps no admin password or injected files; the XML
     * carries what the request has. */
    if (nxl__spawn_req_to_xml(&req, NULL, &xml, &err) != 0) {
        fprintf(stderr, "  %s: %s\n", name, nxl_error_message(&err));
        CU_FAIL("to_xml failed");
        goto out;
    }
    snprintf(rel, sizeof(rel), "tests/golden/xml/%.*s.xml", (int)n, name);
    if (regen && strcmp(regen, "1") == 0) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", nxl_test_srcdir(), rel);
        f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL(f);
        if (f) {
            fputs(xml, f);
            fclose(f);
        }
    }
    golden = nxl_test_read_src(rel, &glen);
    CU_ASSERT_PTR_NOT_NULL(golden);
    if (golden && strcmp(golden, xml) != 0) {
        fprintf(stderr, "\n  %s differs; NXL_TEST_REGENERATE=1 rewrites it\n",
                rel);
        CU_FAIL("XML differs from the golden file");
    }
    free(golden);

    /* JSON -> model -> XML -> model: the same request. */
    if (nxl__spawn_req_from_xml(xml, strlen(xml), NULL, &back, &err) != 0) {
        fprintf(stderr, "  %s: %s\n", name, nxl_error_message(&err));
        CU_FAIL("from_xml failed");
        goto out;
    }
    /* Compared on copies: back is written again below as it was read. */
    CU_ASSERT_EQUAL(nxl__spawn_req_to_json(&back, &json, &err), 0);
    CU_ASSERT_EQUAL(nxl__spawn_req_from_json(json, strlen(json), &again, &err),
                    0);
    free(json);
    json = NULL;
    if (!same_request(&req, &again)) {
        nxl__spawn_req_to_json(&back, &json, &err);
        fprintf(stderr, "\n  %s: read back differs:\n%s\n", name, json);
        CU_FAIL("JSON -> XML -> model is not the same request");
    }
    /* XML -> model -> XML: the same text. */
    CU_ASSERT_EQUAL(nxl__spawn_req_to_xml(&back, NULL, &xml2, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(xml2);
    if (xml2 && strcmp(xml, xml2) != 0)
        CU_FAIL("XML -> model -> XML is not the same document");
    nxl_spawn_req_dispose(&again);
    nxl_spawn_req_init(&again);
    CU_ASSERT_EQUAL(
        nxl__spawn_req_from_xml(xml2, strlen(xml2), NULL, &again, &err), 0);
    /* a read-back request reads back in the very same order */
    CU_ASSERT_TRUE(nxl__spawn_req_equal(&back, &again));
out:
    nxl_error_dispose(&err);
    nxl_spawn_req_dispose(&req);
    nxl_spawn_req_dispose(&back);
    nxl_spawn_req_dispose(&again);
    free(doc);
    free(xml);
    free(xml2);
    free(json);
}

static void test_examples(void)
{
    char dir[4096];
    struct dirent **list = NULL;
    int n, seen = 0;

    snprintf(dir, sizeof(dir), "%s/examples", nxl_test_srcdir());
    n = scandir(dir, &list, NULL, alphasort);
    CU_ASSERT_TRUE_FATAL(n > 0);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(list[i]->d_name);
        if (l > 5 && strcmp(list[i]->d_name + l - 5, ".json") == 0) {
            check_example(list[i]->d_name);
            seen++;
        }
        free(list[i]);
    }
    free(list);
    CU_ASSERT_TRUE(seen >= 10);
}

/* ---- documents written by hand (libvirt only, no novaxl metadata) -------- */

#define UUID "2f9c4d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
#define HEAD "<domain type='xen'><name>vm1</name><uuid>" UUID "</uuid>"
#define MEM "<memory unit='MiB'>256</memory><vcpu>2</vcpu>"
#define PV_OS                                                                  \
    "<os><type>linux</type><kernel>/var/lib/novaxl/images/k1</kernel>"         \
    "<initrd>r1</initrd><cmdline>console=hvc0</cmdline></os>"

static int parse(const char *doc, nxl_spawn_req *req, nxl_error *err)
{
    return nxl__spawn_req_from_xml(doc, strlen(doc), NULL, req, err);
}

static void test_libvirt_only(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    const char *doc = HEAD MEM
        "<cputune><shares>512</shares><quota>50000</quota></cputune>" PV_OS
        "<on_crash>preserve</on_crash><devices>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/srv/vol1.img'/><target dev='xvdb' bus='xen'/>"
        "<serial>s-1</serial><readonly/></disk>"
        "<disk type='network'><source protocol='rbd' name='pool/img'>"
        "<host name='192.0.2.1' port='6789'/><host name='192.0.2.2'"
        " port='6789'/></source><auth username='cinder'><secret type='ceph'"
        " uuid='457eb676-33da-42ec-9a8c-9293d545c337'/></auth>"
        "<target dev='xvdc'/></disk>"
        "<disk type='network'><source protocol='iscsi'"
        " name='iqn.2010-10.org.openstack:vol/1'><host name='192.0.2.20'"
        " port='3260'/></source><target dev='xvdd'/></disk>"
        "<interface type='bridge'><mac address='FA:16:3E:00:00:01'/>"
        "<source bridge='br0'/><virtualport type='openvswitch'/>"
        "<target dev='tap1'/><mtu size='1450'/><model type='netfront'/>"
        "<bandwidth><inbound average='1000' burst='100'/>"
        "<outbound average='2000'/></bandwidth></interface>"
        "<console type='pty'><target type='xen' port='0'/></console>"
        "<graphics type='vnc' port='-1' autoport='yes'/>"
        "<input type='mouse' bus='xen'/>"
        "</devices><features><pae/></features></domain>";
    const nxl_connection_info *ci;

    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(parse(doc, &req, &err), 0);
    CU_ASSERT_STRING_EQUAL(req.instance.uuid, UUID);
    CU_ASSERT_STRING_EQUAL(req.instance.name, "vm1");
    CU_ASSERT_EQUAL(req.instance.memory_mb, 256);
    CU_ASSERT_EQUAL(req.instance.vcpus, 2);
    CU_ASSERT_STRING_EQUAL(req.instance.kernel_id, "k1");
    CU_ASSERT_STRING_EQUAL(req.instance.ramdisk_id, "r1");
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.image_meta.properties, "os_command_line"),
        "console=hvc0");
    /* a kernel already makes it PV: no vm_mode needed */
    CU_ASSERT_PTR_NULL(nxl_kvlist_get(&req.image_meta.properties, "vm_mode"));
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.instance.flavor.extra_specs, "quota:cpu_shares"),
        "512");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&req.instance.flavor.extra_specs,
                                          "quota:vif_inbound_average"),
                           "1000");
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.instance.flavor.extra_specs, "hw:vnc"), "true");
    CU_ASSERT_EQUAL_FATAL(req.network_info.n, 1);
    CU_ASSERT_STRING_EQUAL(req.network_info.vifs[0].address,
                           "fa:16:3e:00:00:01");
    CU_ASSERT_STRING_EQUAL(req.network_info.vifs[0].bridge, "br0");
    CU_ASSERT_STRING_EQUAL(req.network_info.vifs[0].type, "ovs");
    CU_ASSERT_STRING_EQUAL(req.network_info.vifs[0].devname, "tap1");
    CU_ASSERT_EQUAL(req.network_info.vifs[0].mtu, 1450);
    CU_ASSERT_EQUAL_FATAL(req.block_device_info.n_mappings, 3);
    ci = &req.block_device_info.mappings[0].connection_info;
    CU_ASSERT_STRING_EQUAL(ci->driver_volume_type, "file");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "device_path"),
                           "/srv/vol1.img");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "access_mode"), "ro");
    CU_ASSERT_STRING_EQUAL(ci->serial, "s-1");
    CU_ASSERT_STRING_EQUAL(req.block_device_info.mappings[0].disk_bus, "xen");
    ci = &req.block_device_info.mappings[1].connection_info;
    CU_ASSERT_STRING_EQUAL(ci->driver_volume_type, "rbd");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "hosts"),
                           "192.0.2.1,192.0.2.2");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "ports"), "6789,6789");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "auth_username"),
                           "cinder");
    ci = &req.block_device_info.mappings[2].connection_info;
    CU_ASSERT_STRING_EQUAL(ci->driver_volume_type, "iscsi");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "target_iqn"),
                           "iqn.2010-10.org.openstack:vol");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "target_lun"), "1");
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&ci->data, "target_portal"),
                           "192.0.2.20:3260");
    nxl_spawn_req_dispose(&req);

    /* HVM without graphics: headless (hw_video_model none) */
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(parse(HEAD MEM "<os><type>hvm</type></os>"
                                         "</domain>",
                                &req, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.image_meta.properties, "hw_video_model"), "none");
    nxl_spawn_req_dispose(&req);

    /* HVM with a kernel must say so: vm_mode hvm */
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(parse(HEAD MEM
                                "<os><type>hvm</type><kernel>k</kernel>"
                                "</os><devices><graphics type='vnc'/>"
                                "<graphics type='spice'/></devices>"
                                "</domain>",
                                &req, &err),
                          0);
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.image_meta.properties, "vm_mode"), "hvm");
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.instance.flavor.extra_specs, "hw:spice"), "true");
    nxl_spawn_req_dispose(&req);

    /* PVH, memory in other units */
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(parse(HEAD "<memory unit='G'>1</memory>"
                                     "<currentMemory>1048576</currentMemory>"
                                     "<vcpu placement='static' current='1'>1"
                                     "</vcpu><os><type machine='xenpvh'>xenpvh"
                                     "</type><kernel>k</kernel></os></domain>",
                                &req, &err),
                          0);
    CU_ASSERT_EQUAL(req.instance.memory_mb, 1024);
    CU_ASSERT_STRING_EQUAL(
        nxl_kvlist_get(&req.image_meta.properties, "vm_mode"), "pvh");
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);
}

/* ---- refusals
 * -------------------------------------------------------------------- */

/* doc is refused with a message holding what, and nothing is built. */
static void refused(const char *doc, size_t len, const char *what)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    int rc;

    nxl_spawn_req_init(&req);
    rc = nxl__spawn_req_from_xml(doc, len, NULL, &req, &err);
    CU_ASSERT_EQUAL(rc, NXL_E_INVAL);
    CU_ASSERT_EQUAL(err.code, NXL_E_INVAL);
    CU_ASSERT_TRUE(nxl_test_has(nxl_error_message(&err), what));
    if (rc != NXL_E_INVAL || !nxl_test_has(nxl_error_message(&err), what))
        fprintf(stderr, "\n  rc %d, message '%s', wanted '%s'\n", rc,
                nxl_error_message(&err), what);
    CU_ASSERT_TRUE(req_empty(&req));
    nxl_spawn_req_dispose(&req);
    nxl_error_dispose(&err);
}

#define REFUSED(doc, what) refused((doc), strlen(doc), (what))
#define GOOD HEAD MEM PV_OS

static void test_hostile(void)
{
    char *big, *deep;
    size_t n;

    /* XXE: an external entity naming a local file */
    REFUSED("<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM "
            "'file:///etc/passwd'>]><domain type='xen'><name>&x;</name>"
            "</domain>",
            "DOCTYPE is not allowed");
    /* the same over http, and a parameter entity */
    REFUSED("<!DOCTYPE domain [<!ENTITY % p SYSTEM 'http://192.0.2.1/x.dtd'>"
            "%p;]><domain type='xen'/>",
            "DOCTYPE is not allowed");
    REFUSED("<!DOCTYPE domain [<!ENTITY x SYSTEM 'http://192.0.2.1/x'>]>"
            "<domain type='xen'><name>&x;</name></domain>",
            "DOCTYPE is not allowed");
    /* an external DTD */
    REFUSED("<!DOCTYPE domain SYSTEM 'file:///etc/passwd'><domain type='xen'>"
            "</domain>",
            "DOCTYPE is not allowed");
    REFUSED("<!DOCTYPE domain PUBLIC '-//x//y' 'http://192.0.2.1/d.dtd'>"
            "<domain type='xen'/>",
            "DOCTYPE is not allowed");
    /* billion laughs */
    REFUSED("<!DOCTYPE lolz [<!ENTITY lol 'lol'>"
            "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
            "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
            "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
            "<domain type='xen'><name>&lol3;</name></domain>",
            "DOCTYPE is not allowed");
    /* an undeclared entity */
    REFUSED("<domain type='xen'><name>&x;</name></domain>", "not well-formed");
    /* XInclude is not processed: an unknown element */
    REFUSED(GOOD "<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' "
                 "href='file:///etc/passwd'/></domain>",
            "include");
    /* malformed */
    REFUSED("<domain type='xen'><name>x</domain>", "not well-formed: line 1");
    REFUSED("", "empty document");
    REFUSED("   ", "not well-formed");
    refused("<domain type='xen'>\0</domain>", 27, "NUL byte");
    /* oversized */
    n = NXL_MAX_DOCUMENT_BYTES + 1;
    big = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, ' ', n);
    memcpy(big, "<domain type='xen'>", 19);
    big[n] = '\0';
    refused(big, n, "document too large");
    free(big);
    /* deep nesting */
    deep = malloc(64 * 3 + 64 * 4 + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    deep[0] = '\0';
    for (int i = 0; i < 64; i++)
        strcat(deep, "<a>");
    for (int i = 0; i < 64; i++)
        strcat(deep, "</a>");
    REFUSED(deep, "nesting deeper than");
    free(deep);
}

static void test_wrong(void)
{
    REFUSED("<domian type='xen'/>", "root element must be <domain>");
    REFUSED("<domain type='kvm'/>", "novaxl runs only type 'xen'");
    REFUSED("<domain xmlns='urn:x' type='xen'/>", "root element");
    REFUSED("<domain type='xen'><name>vm1</name><uuid>not-a-uuid</uuid>"
            "</domain>",
            "<uuid>");
    REFUSED("<domain type='xen'><name>a/b</name></domain>", "<name>");
    REFUSED("<domain type='xen'><name>a&#x1;b</name></domain>",
            "not well-formed");
    REFUSED("<domain type='xen'><name>a\tb</name></domain>", "<name>");
    REFUSED("<domain type='xen'><name>..</name></domain>", "<name>");
    REFUSED(HEAD "<memory unit='parsec'>1</memory></domain>", "memory/@unit");
    REFUSED(HEAD "<memory unit='KiB'>1000</memory></domain>",
            "not a whole number of MiB");
    REFUSED(HEAD "<memory>-1</memory></domain>", "not an unsigned integer");
    REFUSED(HEAD "<memory unit='b'>0</memory></domain>", "memory");
    REFUSED(HEAD "<memory unit='MiB'>256</memory><currentMemory unit='MiB'>"
                 "128</currentMemory></domain>",
            "currentMemory");
    REFUSED(HEAD "<memory unit='MiB'>256</memory><vcpu>0</vcpu></domain>",
            "vcpu");
    REFUSED(HEAD "<memory unit='MiB'>256</memory><vcpu cpuset='0-1'>2</vcpu>"
                 "</domain>",
            "vcpu/@cpuset");
    REFUSED(HEAD MEM "</domain>", "<os> is required");
    REFUSED(HEAD MEM "<os><type>exe</type></os></domain>", "os/type");
    REFUSED(HEAD MEM "<os><type>linux</type><kernel>/boot/vmlinuz</kernel>"
                     "</os></domain>",
            "not in the image cache");
    REFUSED(HEAD MEM "<os><type>linux</type><kernel>..</kernel></os></domain>",
            "os/kernel");
    REFUSED(HEAD MEM "<os><type>hvm</type><initrd>r</initrd></os></domain>",
            "os/initrd: needs a kernel");
    REFUSED(GOOD "<on_crash>destroy</on_crash></domain>",
            "on_crash: 'destroy' cannot be honoured");
    REFUSED(GOOD "<on_reboot>destroy</on_reboot></domain>", "on_reboot");
    REFUSED(GOOD "<memoryBacking><hugepages/></memoryBacking></domain>",
            "domain/memoryBacking");
    REFUSED(GOOD "<devices><hostdev mode='subsystem'/></devices></domain>",
            "devices/hostdev");
    REFUSED(GOOD "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>",
            "cputune/vcpupin");
    REFUSED(GOOD "<cputune><shares>lots</shares></cputune></domain>",
            "cputune/shares");
    REFUSED(GOOD "<devices><interface type='network'><mac address="
                 "'fa:16:3e:00:00:01'/></interface></devices></domain>",
            "interface[1]/@type");
    REFUSED(GOOD "<devices><interface type='bridge'/></devices></domain>",
            "<mac address> is required");
    REFUSED(GOOD "<devices><interface type='bridge'><mac address='01:00:5e:"
                 "00:00:01'/></interface></devices></domain>",
            "interface[1]/mac/@address");
    REFUSED(GOOD "<devices><interface type='bridge'><mac address='fa:16:3e:"
                 "00:00:01'/><bandwidth><inbound average='1'/></bandwidth>"
                 "</interface><interface type='bridge'><mac address='fa:16:"
                 "3e:00:00:02'/></interface></devices></domain>",
            "interface[2]/bandwidth: differs");
    REFUSED(GOOD "<devices><interface type='bridge'><mac address='fa:16:3e:"
                 "00:00:01'/><source bridge='br0;reboot'/></interface>"
                 "</devices></domain>",
            "network.bridge");
    REFUSED(GOOD "<devices><disk type='volume'><target dev='xvdb'/></disk>"
                 "</devices></domain>",
            "disk[1]/@type");
    REFUSED(GOOD "<devices><disk type='file'><source file='/x'/></disk>"
                 "</devices></domain>",
            "<target dev> is required");
    REFUSED(GOOD "<devices><disk type='file'><source file='x.img'/><target"
                 " dev='xvdb'/></disk></devices></domain>",
            "not an absolute path");
    REFUSED(GOOD "<devices><disk type='network'><source protocol='nbd' "
                 "name='x'/><target dev='xvdb'/></disk></devices></domain>",
            "@protocol");
    REFUSED(GOOD "<devices><disk type='file'><source file='/x'/><target dev="
                 "'xvdb'/><shareable/></disk></devices></domain>",
            "disk[1]/shareable");
    REFUSED(GOOD "<devices><graphics type='sdl'/></devices></domain>",
            "graphics/@type");
    REFUSED(GOOD "<devices><graphics type='spice'/></devices></domain>",
            "spice");
    REFUSED(GOOD "<devices><console type='tcp'/></devices></domain>",
            "console/@type");
    REFUSED(HEAD MEM "<os><type>hvm</type></os><devices><graphics type="
                     "'vnc'/><graphics type='vnc'/></devices>"
                     "<metadata><n:request xmlns:n='" NXL_XML_NS "'>"
                     "<map xmlns='" NXL_XML_FN_NS "'><map key='image_meta'>"
                     "<map key='properties'><string key='hw_video_model'>"
                     "none</string></map></map></map></n:request></metadata>"
                     "</domain>",
            "hw_video_model");
    REFUSED(GOOD "<name>again</name></domain>", "domain/name: given 2 times");
}

/* The metadata: what libvirt carries may not be there too, and it is
 * checked as a JSON request is. */
#define MD(body)                                                               \
    GOOD "<metadata><other xmlns='urn:other'><x/></other><n:request "          \
         "xmlns:n='" NXL_XML_NS "'><map xmlns='" NXL_XML_FN_NS "'>" body       \
         "</map></n:request></metadata></domain>"

static void test_metadata(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;

    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(
        parse(MD("<map key='instance'><string key='display_name'>a\\u0001b"
                 "</string><string key='host' escaped='true'>h\\u002d1"
                 "</string><number key='root_gb'>20</number>"
                 "<map key='metadata'><string key='k&amp;' escaped-key='true'"
                 ">v</string></map></map><string key='admin_password'>pw"
                 "</string>"),
              &req, &err),
        0);
    CU_ASSERT_STRING_EQUAL(req.instance.display_name, "a\\u0001b");
    CU_ASSERT_STRING_EQUAL(req.instance.host, "h-1");
    CU_ASSERT_EQUAL(req.instance.root_gb, 20);
    CU_ASSERT_STRING_EQUAL(nxl_kvlist_get(&req.instance.metadata, "k&"), "v");
    CU_ASSERT_STRING_EQUAL(req.admin_password, "pw");
    nxl_spawn_req_dispose(&req);

    REFUSED(
        MD("<map key='instance'><number key='memory_mb'>512</number></map>"),
        "instance.memory_mb belongs in <memory>");
    REFUSED(MD("<map key='instance'><string key='name'>x</string></map>"),
            "instance.name belongs in <name>");
    REFUSED(MD("<map key='instance'><map key='flavor'><map key='extra_specs'>"
               "<string key='quota:cpu_shares'>5</string></map></map></map>"),
            "quota:cpu_shares belongs in <cputune><shares>");
    REFUSED(MD("<map key='instance'><number key='root_gb'>-1</number></map>"),
            "instance.root_gb");
    REFUSED(MD("<map key='instance'><number key='root_gb'>x</number></map>"),
            "not an unsigned integer");
    REFUSED(MD("<string key='admin_password'>a<b/></string>"), "expected text");
    REFUSED(MD("<string>no key</string>"), "needs a key");
    REFUSED(MD("<map key='instance'><boolean key='x'>maybe</boolean></map>"),
            "true or false");
    REFUSED(MD("<string key='admin_password' escaped='true'>\\u0000</string>"),
            "bad escape");
    /* a cut escape at the very end of the text, an unknown one */
    REFUSED(MD("<string key='admin_password' escaped='true'>x\\u1</string>"),
            "bad escape");
    REFUSED(MD("<string key='admin_password' escaped='true'>\\q</string>"),
            "bad escape");
    REFUSED(MD("<array key='instance'><string>x</string></array>"), "instance");
    REFUSED(MD("<array key='network_info'><map><string key='address'>fa:16:3e"
               ":00:00:09</string></map></array>"),
            "vif fa:16:3e:00:00:09 has no <interface>");
    REFUSED(MD("<map key='block_device_info'><array key='block_device_mapping'"
               "><map><string key='mount_device'>/dev/xvdz</string><map key="
               "'connection_info'><string key='driver_volume_type'>file"
               "</string></map></map></array></map>"),
            "block_device_mapping /dev/xvdz has no <disk>");
    REFUSED(MD("<foo key='x'/>"), "not an XPath JSON element");
    REFUSED(GOOD "<metadata><n:request xmlns:n='" NXL_XML_NS "'><string "
                 "xmlns='" NXL_XML_FN_NS "'>x</string></n:request></metadata>"
                 "</domain>",
            "must hold one <map>");
    REFUSED(GOOD "<metadata><n:other xmlns:n='" NXL_XML_NS "'/></metadata>"
                 "</domain>",
            "unknown novaxl element");
    nxl_error_dispose(&err);
}

/* The writer refuses what XML or libvirt cannot carry. */
static void test_write_refusals(void)
{
    nxl_error err = NXL_ERROR_INIT;
    nxl_spawn_req req;
    char *doc, *xml = NULL;
    size_t len;

    doc = nxl_test_read_src("examples/pv-iscsi-volume.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    nxl_spawn_req_init(&req);
    CU_ASSERT_EQUAL_FATAL(nxl__spawn_req_from_json(doc, len, &req, &err), 0);
    free(req.block_device_info.mappings[0].connection_info.driver_volume_type);
    req.block_device_info.mappings[0].connection_info.driver_volume_type =
        strdup("nfs");
    CHECK_FAIL(nxl__spawn_req_to_xml(&req, NULL, &xml, &e_), NXL_E_INVAL,
               "driver_volume_type 'nfs' has no libvirt form");
    CU_ASSERT_PTR_NULL(xml);
    nxl_kvlist_set(&req.image_meta.properties, "vm_mode", "exe");
    CHECK_FAIL(nxl__spawn_req_to_xml(&req, NULL, &xml, &e_), NXL_E_INVAL,
               "vm_mode");
    nxl_spawn_req_dispose(&req);
    free(doc);
    nxl_error_dispose(&err);
}

int main(void)
{
    static const nxl_test_def tests[] = {
        {"examples: golden XML and round trips", test_examples},
        {"libvirt-only documents", test_libvirt_only},
        {"hostile input", test_hostile},
        {"wrong values", test_wrong},
        {"novaxl metadata", test_metadata},
        {"writer refusals", test_write_refusals},
    };

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (nxl_test_add_suite("xml", NULL, NULL, tests, NXL_ARRAY_SIZE(tests)))
        return 1;
    return nxl_test_run(NULL);
}

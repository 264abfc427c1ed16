/* The only door to libxml2: libvirt domain XML (<domain type='xen'>) to
 * and from the spawn request (nxl_spawn_req). docs/libvirt-xml.md has the
 * element-by-element mapping and the policy for elements novaxl does not
 * use; this is the contract.
 *
 * Parsing is for untrusted text. The document is capped at
 * NXL_MAX_DOCUMENT_BYTES, must hold no NUL byte, and must have no
 * DOCTYPE at all (refused as soon as the parser meets it, before any
 * entity or DTD is read), so there is nothing to expand and nothing to
 * fetch; the parser also runs with XML_PARSE_NONET and without
 * XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID or HUGE. At most
 * NXL_XML_MAX_DEPTH levels and NXL_XML_MAX_NODES nodes. libxml2's own
 * messages go into err (with the line), never to stderr.
 *
 * The request is built the way the JSON door builds it: the nova-only
 * fields travel in <metadata><novaxl:request> as XPath 3.1's XML form of
 * JSON, libvirt's elements are merged in, and the result goes through
 * nxl__spawn_req_from_json(), so every check of the JSON path applies.
 * An element that asks for something novaxl cannot do is NXL_E_INVAL
 * naming it; only elements listed as informational are ignored.
 *
 * On failure *req_r is left as after nxl_spawn_req_init(). layout may be
 * NULL (nxl_host_layout_default()): <kernel> and <initrd> are paths in
 * its image_cache_dir. */
#ifndef NOVAXL_COMMON_XML_H
#define NOVAXL_COMMON_XML_H

#include <stddef.h>

#include "common/internal.h"
#include "novaxl/nxl-types.h"

#define NXL_XML_MAX_DEPTH 32
#define NXL_XML_MAX_NODES 20000

/* The namespace of novaxl's <metadata> child, and the XPath functions
 * namespace of the JSON it holds. */
#define NXL_XML_NS "urn:x-novaxl:request:1"
#define NXL_XML_FN_NS "http://www.w3.org/2005/xpath-functions"

NXL_HIDDEN int nxl__spawn_req_from_xml(const char *doc, size_t len,
                                       const nxl_host_layout *layout,
                                       nxl_spawn_req *req_r, nxl_error *err);

/* *xml_r: malloc'd, NUL-terminated, indented, ends with a newline; free().
 * NXL_E_INVAL when the request holds something libvirt XML cannot carry
 * (a volume type other than local, file, block, iscsi, rbd). */
NXL_HIDDEN int nxl__spawn_req_to_xml(const nxl_spawn_req *req,
                                     const nxl_host_layout *layout,
                                     char **xml_r, nxl_error *err);

#endif /* NOVAXL_COMMON_XML_H */

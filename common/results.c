/* init/dispose of the result types in nxl-results.h. Every dispose frees
 * the members and leaves the struct as after init, so a second call does
 * nothing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "novaxl/nxl-results.h"

void nxl_supported_instance_init(nxl_supported_instance *si)
{
    memset(si, 0, sizeof(*si));
}

void nxl_supported_instance_dispose(nxl_supported_instance *si)
{
    if (!si)
        return;
    free(si->arch);
    free(si->hv_type);
    free(si->vm_mode);
    nxl_supported_instance_init(si);
}

void nxl_host_resources_init(nxl_host_resources *hr)
{
    memset(hr, 0, sizeof(*hr));
}

void nxl_host_resources_dispose(nxl_host_resources *hr)
{
    size_t i;

    if (!hr)
        return;
    free(hr->hypervisor_type);
    free(hr->hypervisor_hostname);
    free(hr->cpu_info);
    free(hr->numa_topology);
    for (i = 0; i < hr->n_supported_instances; i++)
        nxl_supported_instance_dispose(&hr->supported_instances[i]);
    free(hr->supported_instances);
    nxl_host_resources_init(hr);
}

void nxl_nic_diagnostics_init(nxl_nic_diagnostics *nic)
{
    memset(nic, 0, sizeof(*nic));
}

void nxl_nic_diagnostics_dispose(nxl_nic_diagnostics *nic)
{
    if (!nic)
        return;
    free(nic->mac_address);
    nxl_nic_diagnostics_init(nic);
}

void nxl_diagnostics_init(nxl_diagnostics *d)
{
    memset(d, 0, sizeof(*d));
}

void nxl_diagnostics_dispose(nxl_diagnostics *d)
{
    size_t i;

    if (!d)
        return;
    free(d->state);
    free(d->driver);
    free(d->hypervisor);
    free(d->hypervisor_os);
    free(d->cpu_details);
    for (i = 0; i < d->n_nic_details; i++)
        nxl_nic_diagnostics_dispose(&d->nic_details[i]);
    free(d->nic_details);
    free(d->disk_details);
    nxl_diagnostics_init(d);
}

void nxl_console_init(nxl_console *c)
{
    memset(c, 0, sizeof(*c));
    c->port = -1;
    c->tls_port = -1;
}

void nxl_console_dispose(nxl_console *c)
{
    if (!c)
        return;
    free(c->host);
    free(c->internal_access_path);
    nxl_console_init(c);
}

void nxl_console_pool_init(nxl_console_pool *p)
{
    memset(p, 0, sizeof(*p));
}

void nxl_console_pool_dispose(nxl_console_pool *p)
{
    if (!p)
        return;
    free(p->address);
    free(p->username);
    /* A console password: do not leave it in freed heap memory. */
    if (p->password)
        explicit_bzero(p->password, strlen(p->password));
    free(p->password);
    nxl_console_pool_init(p);
}

void nxl_maintenance_init(nxl_maintenance *m)
{
    memset(m, 0, sizeof(*m));
    nxl_strv_init(&m->not_evacuated);
}

void nxl_maintenance_dispose(nxl_maintenance *m)
{
    if (!m)
        return;
    nxl_strv_dispose(&m->not_evacuated);
    free(m->reason);
    nxl_maintenance_init(m);
}

void nxl_volume_connector_init(nxl_volume_connector *vc)
{
    memset(vc, 0, sizeof(*vc));
}

void nxl_volume_connector_dispose(nxl_volume_connector *vc)
{
    if (!vc)
        return;
    free(vc->ip);
    free(vc->initiator);
    free(vc->host);
    nxl_volume_connector_init(vc);
}

void nxl_disk_info_init(nxl_disk_info *di)
{
    memset(di, 0, sizeof(*di));
}

void nxl_disk_info_dispose(nxl_disk_info *di)
{
    if (!di)
        return;
    free(di->path);
    free(di->type);
    free(di->backing_file);
    nxl_disk_info_init(di);
}

void nxl_disk_info_list_init(nxl_disk_info_list *l)
{
    memset(l, 0, sizeof(*l));
}

void nxl_disk_info_list_dispose(nxl_disk_info_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        nxl_disk_info_dispose(&l->items[i]);
    free(l->items);
    nxl_disk_info_list_init(l);
}

void nxl_bw_counter_init(nxl_bw_counter *bw)
{
    memset(bw, 0, sizeof(*bw));
}

void nxl_bw_counter_dispose(nxl_bw_counter *bw)
{
    if (!bw)
        return;
    free(bw->mac_address);
    nxl_bw_counter_init(bw);
}

void nxl_bw_counter_list_init(nxl_bw_counter_list *l)
{
    memset(l, 0, sizeof(*l));
}

void nxl_bw_counter_list_dispose(nxl_bw_counter_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        nxl_bw_counter_dispose(&l->items[i]);
    free(l->items);
    nxl_bw_counter_list_init(l);
}

void nxl_volume_usage_init(nxl_volume_usage *vu)
{
    memset(vu, 0, sizeof(*vu));
}

void nxl_volume_usage_dispose(nxl_volume_usage *vu)
{
    if (!vu)
        return;
    free(vu->volume);
    nxl_volume_usage_init(vu);
}

void nxl_volume_usage_list_init(nxl_volume_usage_list *l)
{
    memset(l, 0, sizeof(*l));
}

void nxl_volume_usage_list_dispose(nxl_volume_usage_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        nxl_volume_usage_dispose(&l->items[i]);
    free(l->items);
    nxl_volume_usage_list_init(l);
}

void nxl_instance_usage_list_init(nxl_instance_usage_list *l)
{
    memset(l, 0, sizeof(*l));
}

void nxl_instance_usage_list_dispose(nxl_instance_usage_list *l)
{
    if (!l)
        return;
    free(l->items);
    nxl_instance_usage_list_init(l);
}

const char *nxl_event_transition_name(int transition)
{
    switch (transition) {
    case NXL_EVENT_STARTED:
        return "started";
    case NXL_EVENT_STOPPED:
        return "stopped";
    case NXL_EVENT_PAUSED:
        return "paused";
    case NXL_EVENT_RESUMED:
        return "resumed";
    case NXL_EVENT_SUSPENDED:
        return "suspended";
    case NXL_EVENT_CRASHED:
        return "crashed";
    case NXL_EVENT_AGGREGATE:
        return "aggregate";
    default:
        return "unknown";
    }
}

const nxl_aggregate_event *nxl_event_aggregate(const nxl_event *ev)
{
    /* base is the first member, so the cast is the containing struct. */
    if (!ev || ev->transition != NXL_EVENT_AGGREGATE)
        return NULL;
    return (const nxl_aggregate_event *)ev;
}

void nxl_bdm_init(nxl_bdm *bdm)
{
    memset(bdm, 0, sizeof(*bdm));
    bdm->boot_index = -1;
    nxl_connection_info_init(&bdm->connection_info);
}

void nxl_bdm_dispose(nxl_bdm *bdm)
{
    if (!bdm)
        return;
    free(bdm->source_type);
    free(bdm->destination_type);
    free(bdm->guest_format);
    free(bdm->device_name);
    free(bdm->device_type);
    free(bdm->disk_bus);
    free(bdm->volume_id);
    nxl_connection_info_dispose(&bdm->connection_info);
    nxl_bdm_init(bdm);
}

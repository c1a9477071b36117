/*
 * JSON views of decoded US Privacy and GPP strings, for the CLI and the
 * HTTP API (shapes in docs/consent.md). Keys are snake_case field names of
 * the specifications; values are the numbers or characters decoded.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "consent/gpp_internal.h"
#include "core/error.h"

static json_t *flag_json(pv_usp_flag f)
{
	char s[2] = { (char)f, '\0' };
	return json_string(s);
}

static json_t *usp_object(const pv_usp *u)
{
	return json_pack("{s:i, s:o, s:o, s:o, s:b}", "version", u->version, "notice",
			 flag_json(u->notice), "opt_out_sale", flag_json(u->opt_out_sale), "lspa_covered",
			 flag_json(u->lspa_covered), "opted_out", pv_usp_opted_out(u));
}

static json_t *u8_array(const uint8_t *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *usnat_object(const pv_gpp_usnat *u)
{
	json_t *o = json_pack(
		"{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o*, s:o*, s:i, s:i, s:i, s:i, s:b}",
		"version", (int)u->version, "sharing_notice", u->sharing_notice, "sale_opt_out_notice",
		u->sale_opt_out_notice, "sharing_opt_out_notice", u->sharing_opt_out_notice,
		"targeted_advertising_opt_out_notice", u->targeted_advertising_opt_out_notice,
		"sensitive_data_processing_opt_out_notice", u->sensitive_data_processing_opt_out_notice,
		"sensitive_data_limit_use_notice", u->sensitive_data_limit_use_notice, "sale_opt_out",
		u->sale_opt_out, "sharing_opt_out", u->sharing_opt_out, "targeted_advertising_opt_out",
		u->targeted_advertising_opt_out, "sensitive_data_processing",
		u8_array(u->sensitive_data_processing, pv_gpp_usnat_sensitive_count(u->version)),
		"known_child_sensitive_data_consents",
		u8_array(u->known_child_sensitive_data_consents, pv_gpp_usnat_child_count(u->version)),
		"personal_data_consents", u->personal_data_consents, "mspa_covered_transaction",
		u->mspa_covered_transaction, "mspa_opt_out_option_mode", u->mspa_opt_out_option_mode,
		"mspa_service_provider_mode", u->mspa_service_provider_mode, "gpc_segment_included",
		u->gpc_segment_included);
	if (o && u->gpc_segment_included && json_object_set_new(o, "gpc", json_boolean(u->gpc)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Serialize and free `root`; *out is malloc'd (json_dumps), the caller frees it. */
static int dump(char **out, json_t *root)
{
	*out = NULL;
	if (!root)
		return pv_error_set(PV_ENOMEM, "consent signals: out of memory building JSON");
	*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!*out)
		return pv_error_set(PV_ENOMEM, "consent signals: out of memory writing JSON");
	return 0;
}

int pv_usp_to_json(char **out, const pv_usp *u)
{
	return dump(out, usp_object(u));
}

/*
 * {"type":3,"version":1,"section_ids":[...],"sections":[{"id","name",
 * "decoded","applicable"}...], "uspv1":{...}, "usnat":{...}, "tcfeuv2":{...}}
 * with the decoded sections' keys present only when decoded.
 */
int pv_gpp_to_json(char **out, const pv_gpp *g)
{
	json_t *root = json_pack("{s:i, s:i}", "type", (int)g->type, "version", (int)g->version);
	json_t *ids = json_array(), *secs = json_array();
	char *tcf = NULL;
	int rc;

	if (!root || !ids || !secs)
		goto nomem;
	for (size_t i = 0; i < g->n_sections; i++) {
		const pv_gpp_section *s = &g->sections[i];
		if (json_array_append_new(ids, json_integer(s->id)) < 0 ||
		    json_array_append_new(secs, json_pack("{s:i, s:s, s:b, s:b}", "id", (int)s->id, "name",
							  s->name, "decoded", s->decoded, "applicable",
							  s->applicable)) < 0)
			goto nomem;
	}
	rc = json_object_set_new(root, "section_ids", ids);
	ids = NULL;  /* stolen, also on failure */
	if (rc < 0)
		goto nomem;
	rc = json_object_set_new(root, "sections", secs);
	secs = NULL;
	if (rc < 0)
		goto nomem;
	if (g->has_uspv1 && json_object_set_new(root, "uspv1", usp_object(&g->uspv1)) < 0)
		goto nomem;
	if (g->has_usnat && json_object_set_new(root, "usnat", usnat_object(&g->usnat)) < 0)
		goto nomem;
	if (g->has_tcfeuv2 && g->tcfeuv2) {
		json_error_t err;
		if ((rc = pv_tcf_to_json(&tcf, g->tcfeuv2)) < 0) {
			json_decref(root);
			return rc;
		}
		json_t *t = json_loads(tcf, 0, &err);
		free(tcf);
		if (!t || json_object_set_new(root, "tcfeuv2", t) < 0)
			goto nomem;
	}
	return dump(out, root);
nomem:
	json_decref(ids);
	json_decref(secs);
	json_decref(root);
	*out = NULL;
	return pv_error_set(PV_ENOMEM, "gpp: out of memory building JSON");
}

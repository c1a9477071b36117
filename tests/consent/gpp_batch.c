/*
 * The C side of the GPP oracle test (tests/consent/gpp_oracle.sh), one item
 * per line from stdin to stdout:
 *   gpp_batch decode         GPP strings -> JSON lines ({"error": "<message>"} on failure)
 *   gpp_batch encode         JSON models -> GPP strings (exit 1 on the first failure)
 *   gpp_batch header-decode  header segments -> [ids] ({"error": ...} on failure)
 *   gpp_batch header-encode  [ids] -> header segments
 * A model is {"section_ids": [...], "uspv1": {...}, "usnat": {...}} with the
 * keys of pv_gpp_to_json; uspv1 and usnat are the sections it can encode.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent/gpp_internal.h"
#include "privault/error.h"

static int u8(json_t *o, const char *key, uint8_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return -1;
	*out = (uint8_t)json_integer_value(v);
	return 0;
}

static int list(json_t *o, const char *key, uint8_t *out, size_t max)
{
	json_t *a = json_object_get(o, key);
	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	for (size_t i = 0; i < json_array_size(a); i++)
		out[i] = (uint8_t)json_integer_value(json_array_get(a, i));
	return 0;
}

static int usnat_from(json_t *o, pv_gpp_usnat *u)
{
	memset(u, 0, sizeof(*u));
	u->version = (unsigned)json_integer_value(json_object_get(o, "version"));
	if (u8(o, "sharing_notice", &u->sharing_notice) || u8(o, "sale_opt_out_notice", &u->sale_opt_out_notice) ||
	    u8(o, "sharing_opt_out_notice", &u->sharing_opt_out_notice) ||
	    u8(o, "targeted_advertising_opt_out_notice", &u->targeted_advertising_opt_out_notice) ||
	    u8(o, "sensitive_data_processing_opt_out_notice", &u->sensitive_data_processing_opt_out_notice) ||
	    u8(o, "sensitive_data_limit_use_notice", &u->sensitive_data_limit_use_notice) ||
	    u8(o, "sale_opt_out", &u->sale_opt_out) || u8(o, "sharing_opt_out", &u->sharing_opt_out) ||
	    u8(o, "targeted_advertising_opt_out", &u->targeted_advertising_opt_out) ||
	    list(o, "sensitive_data_processing", u->sensitive_data_processing, PV_GPP_USNAT_SENSITIVE_MAX) ||
	    list(o, "known_child_sensitive_data_consents", u->known_child_sensitive_data_consents,
		 PV_GPP_USNAT_CHILD_MAX) ||
	    u8(o, "personal_data_consents", &u->personal_data_consents) ||
	    u8(o, "mspa_covered_transaction", &u->mspa_covered_transaction) ||
	    u8(o, "mspa_opt_out_option_mode", &u->mspa_opt_out_option_mode) ||
	    u8(o, "mspa_service_provider_mode", &u->mspa_service_provider_mode))
		return -1;
	u->gpc_segment_included = json_is_true(json_object_get(o, "gpc_segment_included"));
	u->gpc = json_is_true(json_object_get(o, "gpc"));
	return 0;
}

static int flag(json_t *o, const char *key, pv_usp_flag *out)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || strlen(s) != 1)
		return -1;
	*out = (pv_usp_flag)s[0];
	return 0;
}

/* Encode one model line into out. 0 or -1 (message on stderr). */
static int encode_model(char *out, size_t cap, const char *line)
{
	json_error_t err;
	json_t *m = json_loads(line, 0, &err), *ids_j;
	unsigned ids[PV_GPP_MAX_SECTIONS];
	char bufs[PV_GPP_MAX_SECTIONS][128];
	const char *secs[PV_GPP_MAX_SECTIONS];
	size_t n;
	int rc = -1;

	if (!m || !json_is_array(ids_j = json_object_get(m, "section_ids")) ||
	    (n = json_array_size(ids_j)) > PV_GPP_MAX_SECTIONS)
		goto done;
	for (size_t i = 0; i < n; i++) {
		ids[i] = (unsigned)json_integer_value(json_array_get(ids_j, i));
		secs[i] = bufs[i];
		if (ids[i] == PV_GPP_SID_USPV1) {
			pv_usp u = { 1, PV_USP_NA, PV_USP_NA, PV_USP_NA };
			json_t *o = json_object_get(m, "uspv1");
			if (flag(o, "notice", &u.notice) || flag(o, "opt_out_sale", &u.opt_out_sale) ||
			    flag(o, "lspa_covered", &u.lspa_covered) || pv_usp_encode(bufs[i], &u) < 0)
				goto done;
		} else if (ids[i] == PV_GPP_SID_USNAT) {
			pv_gpp_usnat u;
			if (usnat_from(json_object_get(m, "usnat"), &u) < 0 ||
			    pv_gpp_usnat_encode(bufs[i], sizeof(bufs[i]), &u) < 0)
				goto done;
		} else {
			goto done;
		}
	}
	rc = pv_gpp_encode(out, cap, ids, secs, n);
done:
	json_decref(m);
	return rc < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	char *line = NULL, out[4096];
	size_t cap = 0;
	ssize_t n;
	const char *mode = argc == 2 ? argv[1] : "";

	if (strcmp(mode, "decode") && strcmp(mode, "encode") && strcmp(mode, "header-decode") &&
	    strcmp(mode, "header-encode")) {
		fprintf(stderr, "usage: gpp_batch decode|encode|header-decode|header-encode < lines\n");
		return 2;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (strcmp(mode, "decode") == 0) {
			pv_gpp g;
			char *js = NULL;
			if (pv_gpp_decode(&g, line, (size_t)n) != 0 || pv_gpp_to_json(&js, &g) != 0) {
				/* messages name fields and offsets: no quotes or backslashes */
				printf("{\"error\":\"%s\"}\n", pv_error_last());
			} else {
				json_error_t err;
				json_t *o = json_loads(js, 0, &err);
				char *c = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
				printf("%s\n", c);
				free(c);
				json_decref(o);
			}
			free(js);
			pv_gpp_clear(&g);
		} else if (strcmp(mode, "header-decode") == 0) {
			pv_gpp g;
			unsigned ids[PV_GPP_MAX_SECTIONS];
			size_t k;
			memset(&g, 0, sizeof(g));
			if (pv_gpp_header_decode(&g, ids, &k, line, (size_t)n) != 0) {
				printf("{\"error\":\"%s\"}\n", pv_error_last());
				continue;
			}
			printf("[");
			for (size_t i = 0; i < k; i++)
				printf("%s%u", i ? "," : "", ids[i]);
			printf("]\n");
		} else if (strcmp(mode, "header-encode") == 0) {
			json_error_t err;
			json_t *a = json_loads(line, 0, &err);
			unsigned ids[PV_GPP_MAX_SECTIONS];
			size_t k = json_array_size(a);
			for (size_t i = 0; i < k && i < PV_GPP_MAX_SECTIONS; i++)
				ids[i] = (unsigned)json_integer_value(json_array_get(a, i));
			json_decref(a);
			if (k > PV_GPP_MAX_SECTIONS || pv_gpp_header_encode(out, sizeof(out), ids, k) != 0) {
				fprintf(stderr, "gpp_batch: header-encode: %s\n", pv_error_last());
				free(line);
				return 1;
			}
			printf("%s\n", out);
		} else {
			if (encode_model(out, sizeof(out), line) != 0) {
				fprintf(stderr, "gpp_batch: encode: bad model or %s\n", pv_error_last());
				free(line);
				return 1;
			}
			printf("%s\n", out);
		}
	}
	free(line);
	return 0;
}

/* Every route table the server dispatches from and documents in /v1/openapi.json. */
#include "http/http.h"

const pv_http_route *const pv_http_route_tables[] = {
	pv_http_system_routes,
	pv_http_api_routes,
	pv_http_scrub_routes,
	pv_http_retention_routes,
	pv_http_rights_routes,
	pv_http_consent_routes,
	pv_http_banner_routes,
	pv_http_fulfil_routes,
	NULL,
};

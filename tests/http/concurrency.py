#!/usr/bin/env python3
"""Concurrency: 8 clients doing 1,000 mixed operations each against one real server.

Each client has its own connection and its own key (admin, and services with
grants) and mixes: create a subject, store a record, read, rectify, look up,
erase. Every answer is recorded. Afterwards:
  - every acknowledged write is there: each live subject is found again by its
    email, its records read back with exactly the last acknowledged data, each
    erased subject answers 410;
  - the audit chain verifies;
  - the audit's counts per action equal the acknowledged operations
    (subject.create, record.put, record.read, record.rectify, subject.find,
    subject.erase), so nothing unacknowledged was written and nothing
    acknowledged was lost.
CLIENTS and OPS may be set in the environment (defaults 8 and 1000).
"""

import collections
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvtest  # noqa: E402

CLIENTS = int(os.environ.get("CLIENTS", "8"))
OPS = int(os.environ.get("OPS", "1000"))

# Each client: a service holding account and order_fulfilment (every category), or the admin.
KEYS = dict(pvtest.KEYS)
for i in range(CLIENTS):
    KEYS["C%d" % i] = ("client-%d" % i, "service", ["account", "order_fulfilment"])

CATS = [("identifiers", "account"), ("contact", "account"), ("commercial", "order_fulfilment")]
COVERS = {"account": ("identifiers", "contact"), "order_fulfilment": ("identifiers", "commercial")}


class Client(threading.Thread):
    def __init__(self, srv, n):
        super().__init__()
        self.srv = srv
        self.n = n
        self.key = "C%d" % n
        self.rng = random.Random(1000 + n)
        self.subjects = {}      # id -> {"email", "erased", "records": {rid: (cat, pur, data)}}
        self.acks = collections.Counter()
        self.errors = []
        self.unexpected = collections.Counter()
        self.conn_srv = None

    def req(self, method, path, body=None, headers=None, key=None):
        return self.conn_srv.request(method, path, body=body, headers=headers, key=key or self.key)

    def live(self):
        return [s for s, v in self.subjects.items() if not v["erased"]]

    def op_create(self, i):
        email = "c%d-%d.pii@example.com" % (self.n, i)
        r = self.req("POST", "/v1/subjects", {"identifiers": {"email": email}, "regime": "gdpr"})
        if r.status == 201:
            self.subjects[r.json()["id"]] = {"email": email, "erased": False, "records": {}}
            self.acks["subject.create"] += 1
        else:
            self.unexpected["create %d" % r.status] += 1

    def op_put(self, i):
        live = self.live()
        if not live:
            return self.op_create(i)
        s = self.rng.choice(live)
        cat, pur = self.rng.choice(CATS)
        data = {"v": "put-%d-%d-pii" % (self.n, i), "n": i}
        r = self.req("POST", "/v1/subjects/%s/records" % s, {"category": cat, "purpose": pur, "data": data})
        if r.status == 201:
            self.subjects[s]["records"][r.json()["id"]] = (cat, pur, data)
            self.acks["record.put"] += 1
        else:
            self.unexpected["put %d" % r.status] += 1

    def op_read(self, i):
        live = self.live()
        if not live:
            return self.op_create(i)
        s = self.rng.choice(live)
        pur = self.rng.choice(["account", "order_fulfilment"])
        r = self.req("GET", "/v1/subjects/%s/records" % s, headers={"X-Purpose": pur})
        want = {rid: d for rid, (c, p, d) in self.subjects[s]["records"].items() if c in COVERS[pur]}
        if r.status == 200:
            got = {rec["id"]: rec["data"] for rec in r.json()["records"]}
            if got != want:
                self.errors.append("read of a subject did not return exactly its acknowledged records")
            self.acks["record.read"] += 1
        elif r.status == 403 and not want and self.subjects[s]["records"]:
            # every record is of a category the purpose does not cover: denied, and audited
            if r.json().get("reason") != "category_not_in_purpose":
                self.errors.append("a read denied for another reason than category_not_in_purpose")
            self.acks["record.read"] += 1
        else:
            self.unexpected["read %d" % r.status] += 1

    def op_rectify(self, i):
        cands = [(s, rid) for s in self.live() for rid in self.subjects[s]["records"]]
        if not cands:
            return self.op_put(i)
        s, rid = self.rng.choice(cands)
        data = {"v": "rect-%d-%d-pii" % (self.n, i)}
        r = self.req("PUT", "/v1/subjects/%s/records/%s" % (s, rid), {"data": data})
        if r.status == 200:
            cat, pur, _ = self.subjects[s]["records"][rid]
            self.subjects[s]["records"][rid] = (cat, pur, data)
            self.acks["record.rectify"] += 1
        else:
            self.unexpected["rectify %d" % r.status] += 1

    def op_lookup(self, i):
        live = self.live()
        if not live:
            return self.op_create(i)
        s = self.rng.choice(live)
        r = self.req("POST", "/v1/lookup", {"kind": "email", "value": self.subjects[s]["email"]})
        if r.status == 200:
            if r.json()["id"] != s:
                self.errors.append("lookup answered another subject")
            self.acks["subject.find"] += 1
        else:
            self.unexpected["lookup %d" % r.status] += 1

    def op_erase(self, i):
        live = self.live()
        if len(live) < 3:
            return self.op_create(i)
        s = self.rng.choice(live)
        r = self.req("DELETE", "/v1/subjects/%s" % s, key="ADMIN")
        if r.status == 204:
            self.subjects[s]["erased"] = True
            self.subjects[s]["records"] = {}
            self.acks["subject.erase"] += 1
        else:
            self.unexpected["erase %d" % r.status] += 1

    def run(self):
        # one connection per client: a private Server view sharing port and keys
        self.conn_srv = pvtest.Server.__new__(pvtest.Server)
        self.conn_srv.__dict__.update({k: v for k, v in self.srv.__dict__.items() if k not in ("conn", "log")})
        self.conn_srv.conn = None
        ops = [self.op_create] * 15 + [self.op_put] * 30 + [self.op_read] * 25 + [self.op_rectify] * 12 \
            + [self.op_lookup] * 13 + [self.op_erase] * 5
        try:
            for i in range(OPS):
                self.rng.choice(ops)(i)
        except Exception as e:  # noqa: BLE001 - reported as a failure
            self.errors.append("client %d stopped: %r" % (self.n, e))


def audit_counts(srv):
    counts = collections.Counter()
    frm = 1
    while True:
        r = srv.request("GET", "/v1/audit?from=%d&limit=10000" % frm, key="AUDITOR")
        assert r.status == 200, r.body
        page = r.json()
        for e in page["entries"]:
            counts[e["action"]] += 1
        if page["next"] is None:
            return counts
        frm = page["next"]


def main():
    failures = []
    with pvtest.Server(keys=KEYS) as srv:
        base = audit_counts(srv)
        clients = [Client(srv, n) for n in range(CLIENTS)]
        t0 = time.time()
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        elapsed = time.time() - t0
        acks = collections.Counter()
        for c in clients:
            acks.update(c.acks)
            failures += c.errors
            for k, n in c.unexpected.items():
                failures.append("client %d: %d unexpected answers: %s" % (c.n, n, k))
        total = sum(acks.values())
        print("%d clients x %d operations in %.1f s (%.0f ops/s); acknowledged: %s"
              % (CLIENTS, OPS, elapsed, CLIENTS * OPS / elapsed, dict(acks)))

        # the audit counts, before the checks below add their own entries
        counts = audit_counts(srv)
        for action in ("subject.create", "record.put", "record.read", "record.rectify", "subject.find",
                       "subject.erase"):
            got = counts[action] - base[action]
            if got != acks[action]:
                failures.append("audit has %d %s entries, %d were acknowledged" % (got, action, acks[action]))
        r = srv.request("GET", "/v1/audit/verify", key="AUDITOR").json()
        if not r["ok"]:
            failures.append("the audit does not verify: %r" % r)
        if total != CLIENTS * OPS:
            failures.append("%d operations acknowledged of %d" % (total, CLIENTS * OPS))

        # every acknowledged write is there
        nrec = 0
        for c in clients:
            for s, st in c.subjects.items():
                if st["erased"]:
                    r = srv.request("GET", "/v1/subjects/%s/records" % s, headers={"X-Purpose": "account"},
                                    key="ADMIN")
                    if r.status != 410:
                        failures.append("erased subject answers %d, not 410" % r.status)
                    continue
                r = srv.request("POST", "/v1/lookup", {"kind": "email", "value": st["email"]}, key="ADMIN")
                if r.status != 200 or r.json()["id"] != s:
                    failures.append("an acknowledged subject is not found by its email")
                got = {}
                for pur in ("account", "order_fulfilment"):
                    r = srv.request("GET", "/v1/subjects/%s/records" % s, headers={"X-Purpose": pur}, key="ADMIN")
                    if r.status == 200:
                        got.update({rec["id"]: (rec["category"], rec["purpose"], rec["data"])
                                    for rec in r.json()["records"]})
                    elif any(c in COVERS[pur] for c, _, _ in st["records"].values()) or r.status != 403:
                        failures.append("a subject's records answer %d" % r.status)
                if got != st["records"]:
                    failures.append("a subject's records differ from the acknowledged writes")
                nrec += len(st["records"])
        print("re-read %d subjects and %d records" % (sum(len(c.subjects) for c in clients), nrec))
    for f in failures[:50]:
        print("FAIL " + f)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

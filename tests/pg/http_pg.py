"""Two `privault serve` processes on one PostgreSQL database, and 503 while it is down.

Run by tests/pg/http_suite.sh (PG_DIR, PG_BIN, PG_USER of the throw-away server).
1. Servers A and B share one vault (key file) and one database; 8 clients drive
   both at once with subject creates and record puts. Afterwards the audit chain
   is one valid chain of exactly the acknowledged writes (plus setup), and every
   acknowledged subject and record is there.
2. PostgreSQL is killed: writes answer 503 with a problem body naming the store,
   nothing of them is stored; PostgreSQL comes back: the same servers answer 201
   again without a restart, and every write acknowledged before is still there.
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests", "http"))
import pvtest  # noqa: E402

SRC = os.environ["SRCDIR"]
PG = "source %s/tests/pg/pg_server.sh; PG_DIR=%s PG_BIN=%s PG_USER=%s; " % (
    SRC, os.environ["PG_DIR"], os.environ["PG_BIN"], os.environ["PG_USER"])


def sh(cmd):
    return subprocess.run(["bash", "-c", PG + cmd], check=True, capture_output=True, text=True).stdout.strip()


def serve_only(srv):
    """Start `privault serve` for an already initialized vault (the second server)."""
    srv.port = pvtest.free_port()
    env = srv.env()
    env.update({"PRIVAULT_LISTEN": "127.0.0.1", "PRIVAULT_PORT": str(srv.port),
                "PRIVAULT_ACCESS_LOG": srv.access_log})
    srv.log = open(srv.log_path, "wb")
    srv.proc = subprocess.Popen([srv.exe, "--vault", srv.vault, "serve"], stdout=srv.log,
                                stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if srv.request("GET", "/readyz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("second server not ready:\n" + srv.server_log())


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    url = sh("pg_new_db http_two")
    a = pvtest.Server()
    a.store = url
    a.start()
    b = pvtest.Server()
    b.store, b.vault, b.keys = url, a.vault, a.keys
    serve_only(b)
    try:
        before = int(dict(l.split(": ", 1) for l in a.cli("status").stdout.splitlines())["audit entries"])
        acks = {"create": [], "put": []}
        errors = []
        lock = threading.Lock()

        def client(n):
            srv = pvtest.Server.__new__(pvtest.Server)   # own connection to A or B
            srv.port, srv.keys, srv.conn = (a if n % 2 else b).port, a.keys, None
            for i in range(60):
                r = srv.request("POST", "/v1/subjects", {"identifiers": {"email": "two%d-%d.pii@example.com" % (n, i)}},
                                key="ADMIN")
                if r.status != 201:
                    errors.append("create %d" % r.status)
                    continue
                sid = r.json()["id"]
                r = srv.request("POST", "/v1/subjects/%s/records" % sid,
                                {"category": "contact", "purpose": "account", "data": {"n": i}}, key="ADMIN")
                with lock:
                    acks["create"].append(sid)
                    if r.status == 201:
                        acks["put"].append((sid, r.json()["id"]))
                    else:
                        errors.append("put %d %s" % (r.status, r.body[:200]))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            fail("unexpected answers while two servers ran: %s" % errors[:5])
        v = a.cli("audit", "verify", check=False)
        if v.returncode != 0:
            fail("audit chain after two servers: " + v.stdout + v.stderr)
        st = dict(l.split(": ", 1) for l in a.cli("status").stdout.splitlines())
        # every acknowledged write is in the one chain: an entry per create and per put
        want = before + len(acks["create"]) + len(acks["put"])
        if int(st["subjects"]) != len(acks["create"]) or int(st["records"]) != len(acks["put"]):
            fail("counts: status %s, acknowledged %d subjects, %d records" % (st, len(acks["create"]), len(acks["put"])))
        entries = int(v.stdout.split()[1])
        if entries < want:
            fail("chain of %d entries, expected at least %d" % (entries, want))
        print("two servers: %d subjects, %d records acknowledged; one chain of %d entries verified"
              % (len(acks["create"]), len(acks["put"]), entries))

        # ---- PostgreSQL down: 503 with a problem body, nothing stored; back: 201 again
        sh("pg_kill_server")
        down = []
        for srv in (a, b):
            r = srv.request("POST", "/v1/subjects", {"identifiers": {"email": "down.pii@example.com"}},
                            key="ADMIN", fresh=True)
            down.append(r)
            if r.status != 503:
                fail("write while PostgreSQL is down: %d %s" % (r.status, r.body[:300]))
            if not r.headers.get("content-type", "").startswith("application/problem+json"):
                fail("503 without a problem body: %s" % r.headers)
            p = r.json()
            if p.get("status") != 503 or "title" not in p or b"down.pii" in r.body:
                fail("problem body: %s" % p)
        print("PostgreSQL down: 503 %s / %s" % (down[0].json().get("type"), down[0].json().get("detail")))
        sh("pg_restart_server")
        for srv in (a, b):
            r = srv.request("POST", "/v1/subjects", {"identifiers": {"email": "back%d.pii@example.com" % srv.port}},
                            key="ADMIN", fresh=True)
            if r.status != 201:
                fail("first write after the restart: %d %s" % (r.status, r.body[:300]))
        r = a.request("POST", "/v1/lookup", {"kind": "email", "value": "down.pii@example.com"}, key="ADMIN")
        if r.status != 404:
            fail("a write answered 503 was stored: lookup %d" % r.status)
        for sid in acks["create"][::7]:
            r = b.request("GET", "/v1/subjects/%s" % sid, key="ADMIN")
            if r.status != 200:
                fail("acknowledged subject %s lost: %d" % (sid, r.status))
        v = a.cli("audit", "verify", check=False)
        if v.returncode != 0:
            fail("audit chain after the outage: " + v.stdout + v.stderr)
        print("after the restart: both servers write again; %s" % v.stdout.strip())
    finally:
        b.stop()
        a.stop()
        a.cleanup()
    print("http_pg: ok")


if __name__ == "__main__":
    main()

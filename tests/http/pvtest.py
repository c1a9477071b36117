"""Shared helpers of the HTTP tests: a real `privault serve` on loopback.

Server() creates a fresh vault in a temporary directory (tests/data/vault-policy.yaml
by default), API keys for every role through `privault apikey create`, starts
`privault serve` on a free loopback port and waits for /readyz. Requests go
through http.client, so bodies can hold any bytes (invalid UTF-8 included).

The keys made for every test (names as in the audit):
  ADMIN           admin
  SERVICE         service, grants: order_fulfilment, account:identifiers
  SERVICE_NARROW  service, grants: account:contact
  SERVICE_NONE    service without any grant
  AUDITOR         auditor
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

KEY_RE = re.compile(r"pvk_[0-9a-f]{16}_[0-9a-f]{64}")

KEYS = {
    "ADMIN": ("admin-test", "admin", []),
    "SERVICE": ("svc-orders", "service", ["order_fulfilment", "account:identifiers"]),
    "SERVICE_NARROW": ("svc-contact", "service", ["account:contact"]),
    "SERVICE_NONE": ("svc-nothing", "service", []),
    "AUDITOR": ("auditor-test", "auditor", []),
}


def env_paths():
    """PRIVAULT (the binary) and SRCDIR (the source root) from the environment or the tree."""
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.environ.get("SRCDIR") or os.path.dirname(os.path.dirname(here))
    exe = os.environ.get("PRIVAULT") or os.path.join(src, "build", "cmd", "privault", "privault")
    return exe, src


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-case name -> value
        self.body = body                # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class Server:
    def __init__(self, policy=None, extra_env=None, keys=KEYS):
        self.exe, self.src = env_paths()
        self.policy = policy or os.path.join(self.src, "tests", "data", "vault-policy.yaml")
        self.tmp = tempfile.mkdtemp(prefix="pv-http-")
        self.vault = os.path.join(self.tmp, "vault")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.access_log = os.path.join(self.tmp, "access.log")
        self.extra_env = extra_env or {}
        self.keys = {}
        self.key_spec = keys
        self.proc = None
        self.port = None
        self.conn = None
        # PV_TEST_NEW_STORE: a command printing the URL of a fresh empty store (tests/pg runs
        # these tests on PostgreSQL with it); unset: the vault's own SQLite file.
        self.store = None
        cmd = os.environ.get("PV_TEST_NEW_STORE")
        if cmd:
            self.store = subprocess.run(cmd, shell=True, check=True, capture_output=True,
                                        text=True).stdout.strip()

    # ---- life ----

    def env(self):
        e = dict(os.environ)
        e.pop("PRIVAULT_KEYS", None)
        e.pop("PRIVAULT_STORE", None)
        if self.store:
            e["PRIVAULT_STORE"] = self.store
        e["PRIVAULT_VAULT"] = self.vault
        e["TMPDIR"] = self.tmp
        e.update(self.extra_env)
        return e

    def cli(self, *args, input=None, check=True):
        p = subprocess.run([self.exe, "--vault", self.vault] + list(args), input=input,
                           capture_output=True, text=True, env=self.env(), timeout=120)
        if check and p.returncode != 0:
            raise RuntimeError("privault %s: exit %d: %s" % (" ".join(args[:2]), p.returncode, p.stderr.strip()))
        return p

    def create_key(self, var, name, role, grants):
        args = ["apikey", "create", name, "--role", role]
        for g in grants:
            args += ["--grant", g]
        out = self.cli(*args).stdout
        m = KEY_RE.search(out)
        if not m:
            raise RuntimeError("apikey create %s: no key in the output" % name)
        self.keys[var] = m.group(0)

    def start(self):
        self.cli("init", self.vault, "--policy", self.policy)
        for var, (name, role, grants) in self.key_spec.items():
            self.create_key(var, name, role, grants)
        self.port = free_port()
        env = self.env()
        env.update({"PRIVAULT_LISTEN": "127.0.0.1", "PRIVAULT_PORT": str(self.port),
                    "PRIVAULT_ACCESS_LOG": self.access_log})
        env.update(self.extra_env)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.exe, "--vault", self.vault, "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("privault serve exited with %d:\n%s" % (self.proc.returncode, self.server_log()))
            try:
                r = self.request("GET", "/readyz")
                if r.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("privault serve did not become ready:\n" + self.server_log())

    def stop(self):
        if self.conn:
            self.conn.close()
            self.conn = None
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        elif self.proc:
            rc = self.proc.returncode
        if getattr(self, "log", None):
            self.log.close()
        return rc

    def cleanup(self):
        if os.environ.get("PV_KEEP_TMP"):
            print("kept", self.tmp)
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()

    def server_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def read_access_log(self):
        try:
            with open(self.access_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- requests ----

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def request(self, method, path, body=None, headers=None, key=None, fresh=False):
        """One request on a kept-alive connection. body: bytes, str, or a JSON-able object."""
        hdrs = dict(headers or {})
        if key is not None:
            hdrs["Authorization"] = "Bearer " + (self.keys.get(key, key))
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        for attempt in range(2):
            if self.conn is None or fresh:
                if self.conn:
                    self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                try:
                    self.conn.request(method, path, body=body, headers=hdrs)
                except (BrokenPipeError, ConnectionResetError):
                    # the server answered early (413) and closed: its answer is still readable
                    if not body or len(body) < 65536:
                        raise
                r = self.conn.getresponse()
                data = r.read()
                hs = {k.lower(): v for k, v in r.getheaders()}
                if hs.get("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return Response(r.status, hs, data)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
            except Exception:
                self.conn.close()
                self.conn = None
                raise
        raise AssertionError("unreachable")


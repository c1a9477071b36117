#!/usr/bin/env python3
"""Run the HTTP cases of tests/http/cases/ against a real `privault serve`.

One plain-text file per case, run in name order against one fresh server (so a
case may use what an earlier one created). A case is the request, a line
"=== expect", and the expected answer:

    # 010: an admin creates a subject
    POST /v1/subjects
    Authorization: Bearer ${ADMIN}
    Content-Type: application/json

    {"identifiers": {"email": "ann.pii@example.com"}}
    === expect
    201
    Location: /v1/subjects/$uuid
    Content-Type: application/json

    {"id": "$uuid:SUBJECT"}

Request: "METHOD TARGET", header lines, a blank line, the body (to "=== expect";
one final newline is dropped). In the target, headers and body, ${NAME} is a
variable (the API keys ADMIN, SERVICE, SERVICE_NARROW, SERVICE_NONE, AUDITOR,
and anything captured earlier), ${repeat:TEXT:N} is TEXT N times, ${hex:ff fe}
raw bytes (invalid UTF-8), ${file:PATH} a file of the source tree.

Expected: the status, header lines (patterns), a blank line, and the body: a JSON
pattern, "(empty)" for no body, "(any)" or nothing to leave it unchecked.
Patterns (JSON strings, and header values):
  $any $string $number $integer $bool $null $object $array
  $uuid $hash (64 hex) $time (YYYY-MM-DDThh:mm:ssZ)   type checks
  $re:REGEX        a string matching REGEX entirely
  $=NAME           equal to the captured value NAME (any JSON type)
  $<tok>:NAME      check, then capture the value as NAME (e.g. "$uuid:SUBJECT")
Objects must have exactly the expected keys unless the pattern holds "$more": true;
arrays must have the expected length, or be ["$each", P] (every item matches P).

Besides each case's own expectations, every answer is checked for personal
data: no problem body (status >= 400), and at the end neither the access log
nor the server's output, may hold any identifier value or record value sent in
any request (the strings under "identifiers", "value" and "data").

Usage: run.py [--cases DIR] [--filter TEXT] [-v]   (PRIVAULT, SRCDIR from the environment)
"""

import argparse
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvtest  # noqa: E402

TYPE_RE = {
    "$uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "$hash": r"[0-9a-f]{64}",
    "$time": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z",
    "$string": r".*",
    "$any": r".*",
}
TOKEN_RE = re.compile(r"\$(any|string|number|integer|bool|null|object|array|uuid|hash|time)(?::([A-Za-z_][A-Za-z0-9_]*))?")


class CaseError(Exception):
    pass


def expand(text, variables, src):
    """Expand ${...} in a request template into bytes."""
    out = bytearray()
    pos = 0
    for m in re.finditer(r"\$\{([^}]*)\}", text):
        out += text[pos:m.start()].encode("utf-8")
        pos = m.end()
        inner = m.group(1)
        if inner.startswith("repeat:"):
            body, _, n = inner[7:].rpartition(":")
            out += (body * int(n)).encode("utf-8")
        elif inner.startswith("hex:"):
            out += bytes.fromhex(inner[4:])
        elif inner.startswith("file:"):
            with open(os.path.join(src, inner[5:]), "rb") as f:
                out += f.read()
        elif inner in variables:
            v = variables[inner]
            out += (v if isinstance(v, str) else json.dumps(v)).encode("utf-8")
        else:
            raise CaseError("unknown variable ${%s}" % inner)
    out += text[pos:].encode("utf-8")
    return bytes(out)


def parse_case(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "\n=== expect\n" not in text:
        raise CaseError("no '=== expect' line")
    req, exp = text.split("\n=== expect\n", 1)
    lines = req.split("\n")
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    if not lines:
        raise CaseError("no request line")
    method, target = lines.pop(0).split(None, 1)
    headers = []
    while lines and lines[0].strip():
        name, _, value = lines.pop(0).partition(":")
        headers.append((name.strip(), value.strip()))
    body = "\n".join(lines[1:]) if lines else ""
    body = body[:-1] if body.endswith("\n") else body
    elines = [ln for ln in exp.split("\n")]
    while elines and (elines[0].startswith("#") or not elines[0].strip()):
        elines.pop(0)
    status = int(elines.pop(0).split()[0])
    eheaders = []
    while elines and elines[0].strip():
        name, _, value = elines.pop(0).partition(":")
        eheaders.append((name.strip().lower(), value.strip()))
    ebody = "\n".join(elines).strip()
    return {"method": method, "target": target.strip(), "headers": headers, "body": body,
            "status": status, "eheaders": eheaders, "ebody": ebody}


# ---- matching ----

def check_token(tok, v):
    if tok == "$any":
        return True
    if tok == "$string":
        return isinstance(v, str)
    if tok == "$number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if tok == "$integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if tok == "$bool":
        return isinstance(v, bool)
    if tok == "$null":
        return v is None
    if tok == "$object":
        return isinstance(v, dict)
    if tok == "$array":
        return isinstance(v, list)
    return isinstance(v, str) and re.fullmatch(TYPE_RE[tok], v) is not None


def match(pat, act, variables, where, errors):
    """Match actual JSON `act` against pattern `pat`; append mismatches to errors; captures into variables."""
    if isinstance(pat, str) and pat.startswith("$"):
        if pat.startswith("$re:"):
            if not (isinstance(act, str) and re.fullmatch(pat[4:], act, re.S)):
                errors.append("%s: expected a string matching /%s/, got %s" % (where or "/", pat[4:], json.dumps(act)))
            return
        if pat.startswith("$="):
            name = pat[2:]
            if name not in variables:
                errors.append("%s: no captured value %s" % (where or "/", name))
            elif variables[name] != act:
                errors.append("%s: expected %s (%s), got %s" % (where or "/", json.dumps(variables[name]), name,
                                                                json.dumps(act)))
            return
        m = TOKEN_RE.fullmatch(pat)
        if m:
            tok = "$" + m.group(1)
            if not check_token(tok, act):
                errors.append("%s: expected %s, got %s" % (where or "/", tok, json.dumps(act)))
            elif m.group(2):
                variables[m.group(2)] = act
            return
    if isinstance(pat, dict):
        if not isinstance(act, dict):
            errors.append("%s: expected an object, got %s" % (where or "/", json.dumps(act)))
            return
        more = pat.get("$more") is True
        for k, p in pat.items():
            if k == "$more":
                continue
            if k not in act:
                errors.append("%s/%s: missing" % (where, k))
            else:
                match(p, act[k], variables, "%s/%s" % (where, k), errors)
        if not more:
            for k in act:
                if k not in pat:
                    errors.append("%s/%s: unexpected member %s" % (where, k, json.dumps(act[k])[:200]))
        return
    if isinstance(pat, list):
        if not isinstance(act, list):
            errors.append("%s: expected an array, got %s" % (where or "/", json.dumps(act)[:200]))
            return
        if len(pat) == 2 and pat[0] == "$each":
            for i, a in enumerate(act):
                match(pat[1], a, variables, "%s/%d" % (where, i), errors)
            return
        if len(pat) != len(act):
            errors.append("%s: expected %d items, got %d" % (where or "/", len(pat), len(act)))
            return
        for i, (p, a) in enumerate(zip(pat, act)):
            match(p, a, variables, "%s/%d" % (where, i), errors)
        return
    if pat != act or type(pat) is not type(act):
        errors.append("%s: expected %s, got %s" % (where or "/", json.dumps(pat), json.dumps(act)[:200]))


def match_header(pat, value, variables):
    """A header pattern: literal text with $tokens (and $tok:NAME captures) inside. True/False."""
    rx = ""
    names = []
    pos = 0
    for m in TOKEN_RE.finditer(pat):
        rx += re.escape(pat[pos:m.start()])
        rx += "(" + TYPE_RE.get("$" + m.group(1), ".*") + ")"
        names.append(m.group(2))
        pos = m.end()
    rx += re.escape(pat[pos:])
    mm = re.fullmatch(rx, value)
    if not mm:
        return False
    for i, n in enumerate(names):
        if n:
            variables[n] = mm.group(i + 1)
    return True


# ---- personal data ----

def collect_personal(obj, out, inside=False):
    """Strings (3+ chars) under identifiers / value / data of a request body."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            collect_personal(v, out, inside or k in ("identifiers", "value", "data"))
    elif isinstance(obj, list):
        for v in obj:
            collect_personal(v, out, inside)
    elif inside and isinstance(obj, str) and len(obj) >= 3:
        out.add(obj)


def run_case(srv, case, variables, personal):
    target = expand(case["target"], variables, srv.src).decode("utf-8")
    headers = {n: expand(v, variables, srv.src).decode("latin-1") for n, v in case["headers"]}
    body = expand(case["body"], variables, srv.src) if case["body"] else None
    if body:
        try:
            collect_personal(json.loads(body), personal)
        except ValueError:
            pass
    r = srv.request(case["method"], target, body=body, headers=headers)
    errors = []
    if r.status != case["status"]:
        errors.append("status: expected %d, got %d" % (case["status"], r.status))
    for name, pat in case["eheaders"]:
        pat = expand(pat, variables, srv.src).decode("utf-8")
        if name not in r.headers:
            errors.append("header %s: missing" % name)
        elif not match_header(pat, r.headers[name], variables):
            errors.append("header %s: expected %r, got %r" % (name, pat, r.headers[name]))
    act = None
    if r.body:
        try:
            act = json.loads(r.body.decode("utf-8"))
        except ValueError:
            act = None
    eb = case["ebody"]
    if eb == "(empty)":
        if r.body:
            errors.append("body: expected none, got %d bytes" % len(r.body))
    elif eb and eb != "(any)":
        pat = json.loads(expand(eb, variables, srv.src).decode("utf-8"))
        if act is None:
            errors.append("body: expected JSON, got %r" % r.body[:300])
        else:
            match(pat, act, variables, "", errors)
    if r.status >= 400:
        ctype = r.headers.get("content-type", "")
        if not ctype.startswith("application/problem+json"):
            errors.append("a %d must be application/problem+json, got %r" % (r.status, ctype))
        if not isinstance(act, dict) or not all(k in act for k in ("type", "title", "status", "detail")):
            errors.append("a problem needs type, title, status and detail")
        elif act["status"] != r.status:
            errors.append("problem status %r differs from the HTTP status %d" % (act["status"], r.status))
        text = r.body.decode("utf-8", "replace")
        for p in personal:
            if p in text:
                errors.append("the problem body echoes a personal value (%d chars)" % len(p))
    return r, act, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))
    ap.add_argument("--filter", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()

    files = sorted(glob.glob(os.path.join(args.cases, "*.case")))
    if not files:
        print("no cases in %s" % args.cases)
        return 1
    failed = 0
    personal = set()
    srv = pvtest.Server()
    try:
        srv.start()
        variables = dict(srv.keys)
        variables["PORT"] = str(srv.port)
        for path in files:
            name = os.path.basename(path)[:-5]
            if args.filter and args.filter not in name:
                continue
            try:
                case = parse_case(path)
                r, act, errors = run_case(srv, case, variables, personal)
            except (CaseError, ValueError, KeyError, OSError) as e:
                r, act, errors = None, None, ["case error: %s" % e]
            if errors:
                failed += 1
                print("FAIL %s" % name)
                for e in errors:
                    print("    " + e)
                if r is not None:
                    print("    --- got %d, body:" % r.status)
                    shown = json.dumps(act, indent=2) if act is not None else repr(r.body[:2000])
                    for ln in shown.split("\n")[:60]:
                        print("    | " + ln)
            else:
                print("ok   %s" % name)
                if args.v and act is not None:
                    print(json.dumps(act, indent=2))
        rc = srv.stop()
        if rc not in (0, None):
            failed += 1
            print("FAIL server exit status %s after SIGTERM" % rc)
        logs = srv.read_access_log() + srv.server_log()
        leaks = [p for p in personal if p in logs]
        if leaks:
            failed += 1
            print("FAIL the access log or server output holds %d personal values" % len(leaks))
        if "?" in srv.read_access_log():
            failed += 1
            print("FAIL the access log holds a query string")
        if not srv.read_access_log().strip():
            failed += 1
            print("FAIL the access log is empty")
        print("%d cases, %d failed" % (len(files), failed))
    finally:
        srv.stop()
        srv.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

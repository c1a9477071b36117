#!/usr/bin/env python3
"""Run the curl examples of docs/api.md against a fresh server, so the docs cannot rot.

Every ```sh block runs, in order, in one bash session (variables carry over)
with PV (the server's URL), ADMIN, SERVICE and AUDITOR (keys) set, in a
temporary directory where tests/ points to the source tree's. A ```json block
that directly follows (only blank lines or prose without another code block in
between do not count: it must be the next block) is the expected output: the
same JSON, where strings that hold ids, hashes or times may hold other ones,
and the audit's sequence numbers and counts may differ.
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pvtest  # noqa: E402

VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "<time>"),
]
VOLATILE_NUMBERS = {"seq", "entries", "checkpoints", "next", "rewrapped", "version"}


def normalize(v, key=None):
    if isinstance(v, str):
        for rx, rep in VOLATILE:
            v = rx.sub(rep, v)
        return v
    if isinstance(v, dict):
        return {k: normalize(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [normalize(x, key) for x in v]
    if isinstance(v, (int, float)) and not isinstance(v, bool) and key in VOLATILE_NUMBERS:
        return "<number>"
    return v


def blocks(text):
    """[(lang, body, line)] of the fenced blocks."""
    out = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```\s*$", text, re.S | re.M):
        out.append((m.group(1), m.group(2), text[:m.start()].count("\n") + 1))
    return out


def main():
    exe, src = pvtest.env_paths()
    with open(os.path.join(src, "docs", "api.md"), encoding="utf-8") as f:
        bl = blocks(f.read())
    examples = []
    for i, (lang, body, line) in enumerate(bl):
        if lang != "sh":
            continue
        expect = None
        if i + 1 < len(bl) and bl[i + 1][0] == "json":
            expect = json.loads(bl[i + 1][1])
        examples.append((body, expect, line))
    if not examples:
        print("FAIL no sh examples in docs/api.md")
        return 1
    failures = 0
    with pvtest.Server() as srv:
        work = os.path.join(srv.tmp, "docs")
        os.mkdir(work)
        os.symlink(os.path.join(src, "tests"), os.path.join(work, "tests"))
        script = "set -o pipefail\n"
        for n, (body, _, _) in enumerate(examples):
            script += "printf '\\n@@@ %d\\n'\n%s\n" % (n, body)
        env = dict(os.environ, PV=srv.url(), ADMIN=srv.keys["ADMIN"], SERVICE=srv.keys["SERVICE"],
                   AUDITOR=srv.keys["AUDITOR"])
        p = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        outs = re.split(r"^@@@ \d+\n", p.stdout, flags=re.M)[1:]
        if len(outs) != len(examples):
            print("FAIL the examples stopped after %d of %d: %s" % (len(outs), len(examples), p.stderr[-2000:]))
            return 1
        for (body, expect, line), out in zip(examples, outs):
            first = body.strip().split("\n")[0][:90]
            if expect is None:
                print("ok   docs/api.md:%d %s (output not checked)" % (line, first))
                continue
            try:
                got = json.loads(out)
            except ValueError:
                got = out
            if normalize(got) != normalize(expect):
                failures += 1
                print("FAIL docs/api.md:%d %s" % (line, first))
                print("     expected: %s" % json.dumps(expect))
                print("     got:      %s" % (json.dumps(got) if not isinstance(got, str) else got[:500]))
            else:
                print("ok   docs/api.md:%d %s" % (line, first))
        if p.stderr.strip():
            print("stderr of the examples:\n" + p.stderr[-2000:])
    print("%d examples, %d failed" % (len(examples), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

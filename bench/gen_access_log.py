#!/usr/bin/env python3
"""Generate a deterministic web-server access log for tests and benchmarks.

usage: gen_access_log.py LINES [--seed N] [--mix bench|test]

bench: nginx/Apache "combined" lines with a trailing X-Forwarded-For field,
       clients mostly IPv4, some IPv6 (like a real site).
test:  every client notation privault and anonip read: IPv4, IPv4:port,
       IPv6 compressed/full/upper case, IPv4-mapped and embedded, zones,
       [v6]:port, trailing ']' forms, and malformed clients.
"""
import random
import sys


def v4(r):
    return "%d.%d.%d.%d" % (r.randrange(1, 256), r.randrange(256), r.randrange(256), r.randrange(256))


def hextets(r):
    h = [r.randrange(0x10000) for _ in range(8)]
    # zero runs at random places so that "::" lands everywhere
    if r.random() < 0.6:
        s = r.randrange(8)
        for i in range(s, min(8, s + r.randrange(1, 6))):
            h[i] = 0
    return h


def v6(r):
    h = hextets(r)
    style = r.randrange(4)
    if style == 0:  # full, leading zeros
        return ":".join("%04x" % x for x in h)
    if style == 1:  # no leading zeros, no compression
        return ":".join("%x" % x for x in h)
    # compressed (Python-like, but sometimes not the longest run)
    parts = ["%x" % x for x in h]
    zeros = [i for i, x in enumerate(h) if x == 0]
    if len(zeros) >= 2 and style == 2:
        i = zeros[0]
        j = i
        while j < 8 and h[j] == 0:
            j += 1
        if j - i >= 1:
            return ":".join(parts[:i]) + "::" + ":".join(parts[j:])
    return ":".join(parts)


SPECIAL = [
    "0.0.0.0", "255.255.255.255", "127.0.0.1", "10.0.0.1", "192.168.100.200", "1.2.3.4",
    "::", "::1", "1::", "::ffff:1.2.3.4", "::ffff:102:304", "::1.2.3.4", "64:ff9b::c000:221",
    "64:ff9b::192.0.2.33", "2001:db8::", "2001:0db8:0000:0000:0000:0000:0000:0001",
    "2001:DB8:85A3::8A2E:370:7334", "fe80::1%eth0", "fe80::abcd%25", "0:0:0:0:0:0:0:0",
    "1:0:0:1:0:0:0:1", "1:0:0:0:1:0:0:1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "1.2.3.4:80", "1.2.3.4:65535", "1.2.3.4]", "1.2.3.4:80]", "[2001:db8::1]", "[2001:db8::1]:443",
    "[2001:db8::1]]", "[2001:db8::1]:443]", "[::ffff:1.2.3.4]:8080", "[fe80::1%eth0]:80",
    "user@1.2.3.4", "1.2.3.4/32", "1.2.3.4/", "1.2.3.4?x", "1.2.3.4#y", "2001:db8::1/128",
    "1.2.3.4:11.2.3.45",
    # malformed: passed through unchanged by both
    "-", "unix:", "example.com", "01.2.3.4", "1.2.3", "256.1.1.1", "[1.2.3.4]", "1.2.3.4.5",
    "::::", "1:::2", "[zz]:80", "[]", "2001:db8::1:80]", "x[::1]:3", "1.2.3.4%x", "12345::",
    "1:2:3:4:5:6:7:8:9", "1::2::3", "g::1", ":1::2", "1::2:",
]

METHODS = ["GET", "GET", "GET", "POST", "HEAD"]
PATHS = ["/", "/index.html", "/static/app.js", "/api/v1/items?page=2&sort=asc", "/login",
         "/images/logo.png", "/search?q=privacy+policy", "/favicon.ico"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "curl/7.88.1", "Googlebot/2.1 (+http://www.google.com/bot.html)"]
REFS = ["-", "https://www.example.org/", "https://search.example.com/?q=a%20b"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def line(r, client, xff):
    t = "[%02d/%s/2024:%02d:%02d:%02d +0000]" % (r.randrange(1, 29), MONTHS[r.randrange(12)],
                                                r.randrange(24), r.randrange(60), r.randrange(60))
    req = '"%s %s HTTP/1.1"' % (r.choice(METHODS), r.choice(PATHS))
    user = "-" if r.random() < 0.95 else "alice"
    s = '%s - %s %s %s %d %d "%s" "%s"' % (client, user, t, req, r.choice([200, 200, 200, 304, 404, 500]),
                                          r.randrange(100, 50000), r.choice(REFS), r.choice(AGENTS))
    if xff is not None:
        s += ' "%s"' % xff
    return s


def main():
    n = int(sys.argv[1])
    seed = 7
    mix = "bench"
    args = sys.argv[2:]
    while args:
        if args[0] == "--seed":
            seed = int(args[1])
            args = args[2:]
        elif args[0] == "--mix":
            mix = args[1]
            args = args[2:]
        else:
            sys.exit("unknown argument " + args[0])
    r = random.Random(seed)
    out = sys.stdout
    buf = []
    for i in range(n):
        if mix == "test":
            k = r.randrange(10)
            if k < 3:
                c = r.choice(SPECIAL)
            elif k < 5:
                c = v4(r)
                if r.random() < 0.3:
                    c += ":%d" % r.randrange(1, 65536)
            elif k < 9:
                c = v6(r)
                if r.random() < 0.2:
                    c = c.upper()
                elif r.random() < 0.3:
                    c = "[%s]:%d" % (c, r.randrange(1, 65536))
            else:
                c = "::ffff:" + v4(r)
            xff = None
            if r.random() < 0.5:
                xff = ", ".join(r.choice([v4(r), v6(r), "unknown"]) for _ in range(r.randrange(1, 4)))
        else:
            c = v4(r) if r.random() < 0.85 else v6(r)
            xff = "-" if r.random() < 0.7 else v4(r) + ", " + v4(r)
        buf.append(line(r, c, xff))
        if len(buf) >= 10000:
            out.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        out.write("\n".join(buf) + "\n")


if __name__ == "__main__":
    main()

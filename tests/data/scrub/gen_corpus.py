#!/usr/bin/env python3
"""Generate tests/data/scrub/generated.txt: the labeled scrub corpus (seeded,
reproducible). Each line is one piece of telemetry, log or support-ticket text;
personal data is marked {{type:value}}. Lines without marks are hard negatives.
The generator validates independently of the C code (Luhn, mod 97, SSA ranges).
Run: python3 gen_corpus.py > generated.txt"""
import random

R = random.Random(20261125)

FIRST = ["anna", "bob", "chen", "dmitri", "elif", "farah", "gus", "hana", "ivan", "jo", "kwame", "lena",
         "mateo", "noor", "olga", "pablo", "quinn", "rosa", "sven", "tariq", "uma", "viktor", "wen", "yara"]
LAST = ["smith", "garcia", "mueller", "rossi", "nguyen", "kowalski", "okafor", "tanaka", "silva", "dubois"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example.co.uk", "ixsystems.com",
           "rockstor.com", "students.uni-example.de", "example.io", "sub.mail.example.com.br"]

def email():
    f, l = R.choice(FIRST), R.choice(LAST)
    local = R.choice([f, f + "." + l, f + "_" + l, f + l[0], f + "+" + R.choice(["news", "tag", "support"]),
                      f + str(R.randint(1, 999)), f[0] + "." + l])
    if R.random() < 0.15:
        local = local.capitalize()
    d = R.choice(DOMAINS)
    if R.random() < 0.1:
        d = d.upper()
    return local + "@" + d

def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(R.randint(0, 9))
    for check in range(10):
        ds = digits + [check]
        s = 0
        for i, d in enumerate(reversed(ds)):
            if i % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            s += d
        if s % 10 == 0:
            return "".join(map(str, ds))

def luhn_ok(num):
    s = 0
    for i, d in enumerate(reversed([int(c) for c in num])):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return s % 10 == 0

def card():
    brand = R.choice(["visa", "visa", "mc", "mc2", "amex", "disc", "jcb", "diners"])
    if brand == "visa":
        n = luhn_complete("4" + str(R.randint(10000, 99999)), 16)
    elif brand == "mc":
        n = luhn_complete(str(R.randint(51, 55)), 16)
    elif brand == "mc2":
        n = luhn_complete(str(R.randint(2221, 2720)), 16)
    elif brand == "amex":
        n = luhn_complete(R.choice(["34", "37"]), 15)
    elif brand == "disc":
        n = luhn_complete(R.choice(["6011", "65"]), 16)
    elif brand == "jcb":
        n = luhn_complete(str(R.randint(3528, 3589)), 16)
    else:
        n = luhn_complete(R.choice(["36", "38"]), 14)
    style = R.choice(["plain", "space", "dash"])
    if style == "plain":
        return n
    sep = " " if style == "space" else "-"
    if len(n) == 15:
        groups = [n[:4], n[4:10], n[10:]]
    elif len(n) == 14:
        groups = [n[:4], n[4:10], n[10:]]
    else:
        groups = [n[i:i + 4] for i in range(0, len(n), 4)]
    return sep.join(groups)

IBAN_LEN = {"DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "CH": 21, "AT": 20,
            "PL": 28, "SE": 24, "NO": 15, "IE": 22, "PT": 25, "DK": 18, "FI": 18}

def iban_check(cc, bban):
    s = bban + cc + "00"
    num = "".join(str(int(c, 36)) for c in s)
    return "%02d" % (98 - int(num) % 97)

def iban_valid(compact):
    s = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1

def iban():
    cc = R.choice(list(IBAN_LEN))
    n = IBAN_LEN[cc] - 4
    if cc in ("GB", "IE"):
        bban = "".join(R.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + \
               "".join(str(R.randint(0, 9)) for _ in range(n - 4))
    else:
        bban = "".join(str(R.randint(0, 9)) for _ in range(n))
    code = cc + iban_check(cc, bban) + bban
    assert iban_valid(code)
    if R.random() < 0.5:
        return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
    return code

def ssn():
    while True:
        a = R.randint(1, 899)
        if a != 666:
            break
    return "%03d-%02d-%04d" % (a, R.randint(1, 99), R.randint(1, 9999))

def nanp():
    a = R.randint(201, 989)
    e = R.randint(200, 999)
    s = "%04d" % R.randint(0, 9999)
    f = R.choice(["(%d) %d-%s", "%d-%d-%s", "%d.%d.%s", "%d %d %s", "+1 %d %d %s", "+1-%d-%d-%s",
                  "1-%d-%d-%s", "+1 (%d) %d-%s", "(%d)%d-%s"])
    return f % (a, e, s)

def intl():
    return R.choice([
        "+44 20 %04d %04d" % (R.randint(1000, 9999), R.randint(0, 9999)),
        "+44 (0)20 %04d %04d" % (R.randint(1000, 9999), R.randint(0, 9999)),
        "+49 30 %07d" % R.randint(1000000, 9999999),
        "+49 151 %08d" % R.randint(10000000, 99999999),
        "+33 1 %02d %02d %02d %02d" % tuple(R.randint(10, 99) for _ in range(4)),
        "+33 6 %02d %02d %02d %02d" % tuple(R.randint(10, 99) for _ in range(4)),
        "+61 2 %04d %04d" % (R.randint(1000, 9999), R.randint(0, 9999)),
        "+91 %05d %05d" % (R.randint(70000, 99999), R.randint(0, 99999)),
        "+81-3-%04d-%04d" % (R.randint(1000, 9999), R.randint(0, 9999)),
        "+%d%d" % (R.choice([44, 49, 33, 34, 39, 31]), R.randint(100000000, 999999999)),
        "+14155550%03d" % R.randint(100, 199),
    ])

def phone():
    return nanp() if R.random() < 0.5 else intl()

def ipv4():
    a = R.choice([R.randint(1, 223), 10, 172, 192])
    return "%d.%d.%d.%d" % (a, R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))

def ipv6():
    g = ["%x" % R.randint(0, 0xffff) for _ in range(8)]
    g[0] = R.choice(["2001", "2a02", "fe80", "2606", "2400", "fd00"])
    style = R.choice(["full", "zero", "comp", "comp", "mapped", "loop"])
    if style == "full":
        return ":".join(g)
    if style == "zero":
        return ":".join("%04x" % int(x, 16) for x in g)
    if style == "comp":
        k = R.randint(1, 5)
        return ":".join(g[:k]) + "::" + ":".join(g[k + 2:])
    if style == "mapped":
        return "::ffff:" + ipv4()
    return R.choice(["::1", "fe80::1", "2001:db8::" + g[7]])

GEN = {"email": email, "phone": phone, "ipv4": ipv4, "ipv6": ipv6, "card": card, "iban": iban, "ssn": ssn}

def m(t, v):
    return "{{%s:%s}}" % (t, v)

TEMPLATES = [
    # telemetry and application logs
    "2024-03-0{d} 12:{mm}:07Z INFO auth: login ok user={email} src={ipv4} build=24.04.1",
    "level=warn msg=\"payment declined\" card={card} order=ORD-{order} amount=129.99 currency=EUR",
    "{{\"event\":\"signup\",\"email\":\"{email}\",\"ip\":\"{ipv6}\",\"ts\":1700000{n3}123,\"app\":\"2.14.0\"}}",
    "{ipv4} - - [10/Oct/2023:13:55:36 +0000] \"GET /api/v2/users?email={email} HTTP/1.1\" 200 2326",
    "[{ipv6}]:51234 connect from client, session 9f86d081884c7d659a2feaa0c55ad015",
    "X-Forwarded-For: {ipv4}, {ipv4b}",
    "crash report v3.2.1 uuid=550e8400-e29b-41d4-a716-44665544{n4} contact {phone}",
    "sms gateway: delivered to {phone} at 2024-01-15T08:30:00+01:00 id=msg_{n6}",
    "billing: refund to IBAN {iban} for invoice INV-2024-{n4}, total 1,234.56",
    "hr-sync: employee {n4} ssn {ssn} updated by batch 20240115-{n3}",
    # support tickets
    "Hi, my card {card} was charged twice for order #{order}. Call me at {phone}.",
    "Please update my bank details to {iban}. Thanks, ticket 48213",
    "I can't log in from {ipv4} since the 11.3 update, my email is {email}",
    "Customer says SSN on file ({ssn}) is wrong; case CS-{n6} escalated",
    "Reach me on {phone} or {email} after 5pm",
    "Router shows WAN {ipv6} and LAN {ipv4}; firmware 1.0.3.46",
    "The NAS at {ipv4}:8080 stopped replying after upgrading to TrueNAS 13.0-U6.1",
    "wire the deposit to {iban} (ref 2024/0042) before 31.12.2024",
]

NEGATIVES = [
    "order {order} shipped, tracking 1Z999AA1{n6}{n4} weight 2.5kg",
    "Order #{o16} confirmed; total $1,{n3}.99 incl. VAT",
    "version 1.2.{n1}.{n2} released; see CHANGELOG for 1.2.{n1}",
    "version: 10.{n1}.0.{n2} (build 20240115.{n3})",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/119.0.0.0 Safari/537.36",
    "kernel 5.15.0-{n2}-generic on Ubuntu 22.04.3 LTS",
    "TrueNAS-13.0-U{n1}.1 build 20231025-{n4} commit a3f9c2d71be04c55e7b9d0fa11223344556677aa",
    "request 550e8400-e29b-41d4-a716-{n12} took 123.45ms",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ok",
    "md5 {hex32} size {n6}",
    "timestamp 2024-01-15T12:{mm}:07.123456Z epoch 17053{n6}{n2}",
    "at 12:{mm}:45 on 2023-10-05 the job ran for 00:03:12",
    "dated 10/05/2023, due 2023-11-04, period 2023-10-01..2023-10-31",
    "price 19.99 EUR, 1,299.00 USD, 4 999,00 SEK",
    "mac address 00:1a:2b:{hh}:4d:5e on eth0",
    "ISBN 978-3-16-{n6}-0, DOI 10.1000/182",
    "OID 1.3.6.1.4.1.{n4}.1.2 snmp trap",
    "coordinates 48.8584, 2.2945 altitude 35.5",
    "build id 20240115.{n4}.{n2}, artifact app-2.14.0-rc.1+sha.5114f85",
    "invoice INV-2024-{n6} amount 4532.10",
    "card-like number 4111 1111 1111 {bad4} fails the check digit",
    "account IBAN DE89 3704 0044 0532 0130 01 has a wrong checksum",
    "ssn-shaped but never issued: 000-{n2}-{n4}, 666-{n2}-{n4}, 9{n2}-{n2}-{n4}",
    "port range 1024-65535, ulimit 1048576",
    "invalid ip 999.{n1}.{n1}.{n1} and 256.1.1.1 rejected",
    "semver ^2.3.1 || ~1.12.0, node v18.17.1",
    "phone-ish 123-456-7890 extension 0100 is not a NANP number",
    "elapsed 0.{n6}s, p99 1234567 ns, 87.5% done",
    "std::vector<int> and Foo::bar() called from mod::init",
    "hash 4f2a{hex32}",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 merged",
    "serial SN-{n6}-{n4}, part 0800-{n4}",
    "image icon@2x.png and logo@3x.webp loaded; npm i left-pad@1.3.0",
    "disk /dev/sda1 1.8T used 42%, inode 73{n6}",
    "GTIN 0{n6}{n6}, EAN 40{n6}{n4}",
]

def fill(t, lab=True):
    out = t
    for key in ["email", "phone", "ipv4", "ipv4b", "ipv6", "card", "iban", "ssn"]:
        while "{" + key + "}" in out:
            typ = "ipv4" if key == "ipv4b" else key
            v = GEN[typ]()
            out = out.replace("{" + key + "}", m(typ, v) if lab else v, 1)
    def num(k):
        return "".join(str(R.randint(0, 9)) for _ in range(k))
    while "{o16}" in out:
        o = num(16)
        while luhn_ok(o):
            o = num(16)
        out = out.replace("{o16}", o, 1)
    while "{bad4}" in out:
        b = num(4)
        while luhn_ok("411111111111" + b):
            b = num(4)
        out = out.replace("{bad4}", b, 1)
    rep = {"{order}": lambda: "2024-" + num(6), "{n1}": lambda: str(R.randint(0, 9)),
           "{n2}": lambda: str(R.randint(10, 99)), "{n3}": lambda: num(3), "{n4}": lambda: num(4),
           "{n6}": lambda: num(6), "{n12}": lambda: num(12), "{d}": lambda: str(R.randint(1, 9)),
           "{mm}": lambda: "%02d" % R.randint(0, 59), "{hh}": lambda: "%02x" % R.randint(0, 255),
           "{hex32}": lambda: "".join(R.choice("0123456789abcdef") for _ in range(32))}
    for k, f in rep.items():
        while k in out:
            out = out.replace(k, f(), 1)
    return out.replace("{{\"", "{\"").replace("}}\n", "}\n") if False else out

def main():
    print("# generated by gen_corpus.py (seed 20261125): do not edit by hand")
    for i in range(60):
        for t in TEMPLATES:
            line = fill(t)
            print(line.replace("{{\"event", "{\"event").replace(",\"app\":\"2.14.0\"}}", ",\"app\":\"2.14.0\"}"))
    for i in range(30):
        for t in NEGATIVES:
            print(fill(t))

main()

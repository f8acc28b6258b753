#!/usr/bin/env python3
"""Writes the seed corpora (fuzz/corpus/<target>/seed-*) from the conformance
vectors in crates/hookwise/tests/vectors*/ plus hand-written edge cases.

Run from anywhere: `python3 fuzz/seeds.py`. Seeds are small and deterministic;
libFuzzer adds its own finds next to them (minimized with `cargo fuzz cmin`).
"""
import base64, glob, hashlib, hmac, json, os, struct, subprocess, tempfile

ROOT = os.path.dirname(os.path.abspath(__file__))
VECTORS = sorted(glob.glob(os.path.join(ROOT, "../crates/hookwise/tests/vectors*/*.json")))
NOW = 1_700_000_000
BODY = b'{"id":"evt_fuzz","type":"fuzz.created","event_id":"ev_1"}'
HMAC_SECRET = b"fuzz-secret-7f3a9c2e51d04b86"
STRIPE_SECRET = b"whsec_fuzz_7f3a9c2e51d04b86"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = b"fuzz-token-6b1e0d9a4c7f2358"
NAMES = ["github", "github-sha1", "stripe", "slack", "standard", "svix", "shopify", "meta",
         "gitlab", "gitlab-signing", "twitch", "zoom", "linear", "paddle", "pagerduty", "square",
         "hubspot", "intercom", "bitbucket", "jira", "gitea", "gogs", "mailgun", "discord",
         "sendgrid", "twilio"]


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def mac(key, msg, alg=hashlib.sha256):
    return hmac.new(key, msg, alg).digest()


vectors = []
for path in VECTORS:
    v = json.load(open(path))
    v["name"] = os.path.basename(path)[:-5]
    vectors.append(v)

# verify_request: the vectors as request logs.
for v in vectors:
    lines = [v["provider"]]
    for s in v.get("secrets", []):
        lines.append("@secret " + s)
    if v.get("public_key"):
        lines.append("@secret " + v["public_key"])
    lines.append("@now %d" % v["now"])
    if v.get("url"):
        lines.append("@url " + v["url"])
    lines.append("@method " + v.get("method", "POST"))
    for n, val in v["headers"]:
        lines.append("%s: %s" % (n, val))
    write("verify_request", v["name"], "\n".join(lines) + "\n\n" + v["body"])

# header_list: the same headers as text, with a request line.
for v in vectors[::3]:
    text = "POST /hook HTTP/1.1\r\n" + "".join("%s: %s\r\n" % (n, val) for n, val in v["headers"])
    write("header_list", v["name"], text + "\r\n")
for i, t in enumerate(["A: b\nnocolon", "\n\n:\n", " X : y \n x: z", "GET / HTTP/1.1", "é: ü\r\n"]):
    write("header_list", "edge-%d" % i, t)

# signature_lists / prefixed_signatures: selector byte + signature header value.
LISTS = {"stripe": 0, "paddle": 1, "standard": 2, "gitlab-signing": 4, "pagerduty": 5}
PREFIXED = {"github": 0, "github-sha1": 1, "meta": 2, "bitbucket": 3, "jira": 4, "intercom": 5,
            "twitch": 6, "slack": 7, "zoom": 8, "linear": 9, "gitea": 10, "gogs": 12,
            "shopify": 13, "square": 14, "hubspot": 15, "discord": 16, "sendgrid": 17, "twilio": 18}
for v in vectors:
    for n, val in v["headers"]:
        ln = n.lower()
        if v["provider"] in LISTS and ln.endswith("-signature"):
            sel = LISTS[v["provider"]] + (1 if ln.startswith("svix") else 0)
            write("signature_lists", v["name"], bytes([sel]) + val.encode())
        elif v["provider"] in PREFIXED and ("signature" in ln or "hmac" in ln):
            write("prefixed_signatures", v["name"], bytes([PREFIXED[v["provider"]]]) + val.encode())

ts = str(NOW).encode()
msg_id = b"msg_" + hashlib.sha256(BODY).hexdigest()[:24].encode()
whsec_key = base64.b64decode(WHSEC[len("whsec_"):])
valid_lists = {
    "stripe-valid": (0, b"t=%s,v1=%s,v0=00" % (ts, mac(STRIPE_SECRET, ts + b"." + BODY).hex().encode())),
    "paddle-valid": (1, b"ts=%s;h1=%s" % (ts, mac(HMAC_SECRET, ts + b":" + BODY).hex().encode())),
    "standard-valid": (2, b"v1,bad v1," + base64.b64encode(mac(whsec_key, msg_id + b"." + ts + b"." + BODY))),
    "pagerduty-valid": (5, b"v1=00,v1=" + mac(HMAC_SECRET, BODY).hex().encode()),
    "stripe-many": (0, b"t=%s," % ts + b",".join([b"v1=00"] * 70)),
    "stripe-two-ts": (0, b"t=1,t=2,v1=00"),
    "standard-junk": (2, b"v2,xx  v1a,AAAA v1"),
    "custom-1": (6, b",=v1\nv1=00,v1=" + mac(HMAC_SECRET, BODY).hex().encode()),
    "custom-2": (6, b" ,v9\nv9,zz v9,00"),
    "custom-3": (6, "é=h1\nh1=00éh1=11".encode()),
}
for name, (sel, val) in valid_lists.items():
    write("signature_lists", name, bytes([sel]) + val)
valid_prefixed = {
    "github-valid": (0, b"sha256=" + mac(HMAC_SECRET, BODY).hex().encode()),
    "github-sha1-valid": (1, b"sha1=" + mac(HMAC_SECRET, BODY, hashlib.sha1).hex().encode()),
    "slack-valid": (7, b"v0=" + mac(HMAC_SECRET, b"v0:" + ts + b":" + BODY).hex().upper().encode()),
    "shopify-valid": (13, base64.b64encode(mac(HMAC_SECRET, BODY))),
    "gitea-empty": (10, b""),
    "twitch-prefix-only": (6, b"SHA256="),
}
for name, (sel, val) in valid_prefixed.items():
    write("prefixed_signatures", name, bytes([sel]) + val)

# timestamps.
stamps = ["1700000000", "-5", "1700000000000", "01700000000", "9223372036854775807",
          "-9223372036854775808", "99999999999999999999", "", "-", "+5",
          "2023-11-14T22:13:20Z", "2023-11-14T22:13:20.123456789+02:00", "2024-02-29T00:00:00z",
          "2023-02-29T00:00:00Z", "0000-01-01T00:00:00-99:99", "9999-12-31T23:59:60+00:00",
          "2023-11-14 22:13:20.Z", "1970-01-01T00:00:00" + "." + "9" * 44 + "Z"]
for v in vectors:
    for n, val in v["headers"]:
        if "timestamp" in n.lower():
            stamps.append(val)
for i, s in enumerate(dict.fromkeys(stamps)):
    write("timestamps", "%02d" % i, s)

# basic_auth: realm line + Authorization value.
creds = base64.b64encode(b"fuzz-user:pa55-w0rd-9f1c")
for i, s in enumerate([b"webhooks\nBasic " + creds, b'a"b\x07c\nbasic   ' + creds + b"  ",
                       b"\nBearer x", b"r\n" + TOKEN, b"r\nBasic !!!", b"r\nBasic "]):
    write("basic_auth", "%d" % i, s)

# forwarded_headers: mode byte + value(s).
fwd = [b"\x00192.30.252.1, 198.51.100.7, 10.1.1.1", b"\x01for=192.30.252.9;proto=https, for=\"[fd00::1]:443\"",
       b"\x02for=1.2.3.4\n5.6.7.8", b"\x03a\nb", b"\x10[2001:db8::1]:443, fd00::5", b"\x20 1.1.1.1",
       b"\x00" + b"1.1.1.1," * 33, b"\x01For=unknown;by=_x", b"\x00192.30.252.1:5555, ::ffff:10.0.0.1",
       b"\x01for=\"[2001:db8::1]\";for=10.0.0.9"]
for i, s in enumerate(fwd):
    write("forwarded_headers", "%d" % i, s)

# keys: provider selector + secret / public key.
keys = {(4, WHSEC), (4, WHSEC.rstrip("=")), (5, "whsec_" + "A" * 7), (9, "whsk_" + base64.b64encode(b"\x01" * 32).decode()),
        (23, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
        (24, "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"), (2, " x "), (25, "token")}
for v in vectors:
    sel = NAMES.index(v["provider"]) if v["provider"] in NAMES else 0
    for s in v.get("secrets", []) + ([v["public_key"]] if v.get("public_key") else []):
        keys.add((sel, s))
for i, (sel, s) in enumerate(sorted(keys)):
    write("keys", "%03d" % i, bytes([sel]) + s.encode())

# client_cert: DER certificates from openssl.
def cert(subj, san):
    with tempfile.TemporaryDirectory() as d:
        key, out = os.path.join(d, "k.pem"), os.path.join(d, "c.der")
        cmd = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
               "-nodes", "-keyout", key, "-subj", subj, "-days", "1", "-outform", "DER", "-out", out]
        if san:
            cmd += ["-addext", "subjectAltName=" + san]
        subprocess.run(cmd, check=True, capture_output=True)
        return open(out, "rb").read()

certs = {
    "cn": cert("/CN=Acme Webhooks", None),
    "dns": cert("/CN=other", "DNS:sender.example.com"),
    "uri-email": cert("/O=x", "URI:spiffe://example.com/sender,email:HOOKS@example.com"),
    "unrelated": cert("/CN=nope", "DNS:evil.example.com,IP:10.0.0.1"),
}
for name, der in certs.items():
    write("client_cert", name, der)
write("client_cert", "truncated", certs["dns"][:100])

# mutated_signed: selector, body length, body, then 4-byte mutations.
bodies = [BODY, b"", b"payload=%7B%7D&a=1", b"x0", b'{"a":[1,2,3]}0']
ops = [b"", b"\x00\x00\x05\x01", b"\x01\x00\x00A", b"\x05\x00\x03\x00", b"\x08\x00\x00\x00",
       b"\x09\x00\x00\x00", b"\x0a\x00\x00\x00", b"\x0c\x01\x00\x00", b"\x10\x00\x00\x02",
       b"\x11\x01\x00\x00\x0d\x01\x00\x00"]
i = 0
for sel in list(range(len(NAMES))) + [134, 135]:
    for j, op in enumerate(ops[: 3 if sel not in (16, 20, 21, 25, 23, 24) else len(ops)]):
        body = bodies[(sel + j) % len(bodies)]
        write("mutated_signed", "%03d" % i, bytes([sel, len(body)]) + body + op)
        i += 1

"""A deterministic corpus of broken and hostile messages (≥ 200) for email ingest.

``hostile_corpus()`` returns ``(name, raw bytes)`` pairs covering: bad MIME boundaries,
wrong and unknown charsets, huge headers, NUL bytes, missing or garbage From, deeply nested
multiparts, broken transfer encodings, binary garbage, hostile HTML, loop/auto-reply mail,
absurd recipient lists, odd Message-IDs. ``big_attachment_message()`` builds the 20 MB
attachment at call time (never committed).
"""

# ruff: noqa: E501
from __future__ import annotations

import base64
import random

CRLF = b"\r\n"
TO = b"support@helpdesk.localhost"


def _msg(headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    head = CRLF.join(k + b": " + v for k, v in headers)
    return head + CRLF + CRLF + body


def _base(i: int, name: str, **over: bytes | None) -> list[tuple[bytes, bytes]]:
    h: dict[bytes, bytes | None] = {
        b"From": f"Sender {i} <sender{i}@example.com>".encode(),
        b"To": TO,
        b"Subject": f"corpus {name} {i}".encode(),
        b"Message-ID": f"<corpus-{name}-{i}@example.com>".encode(),
        b"Date": b"Mon, 2 Mar 2026 10:00:00 +0000",
    }
    h.update({k.replace("_", "-").encode(): v for k, v in over.items()})
    return [(k, v) for k, v in h.items() if v is not None]


def _bad_boundaries(rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    variants = [
        # boundary declared, never used
        (b'multipart/mixed; boundary="abc"', b"just text, no parts\r\n"),
        # parts, never closed
        (b'multipart/mixed; boundary="abc"', b"--abc\r\nContent-Type: text/plain\r\n\r\nhi\r\n"),
        # no boundary parameter at all
        (b"multipart/mixed", b"--abc\r\n\r\nhello\r\n--abc--\r\n"),
        # empty boundary
        (b'multipart/alternative; boundary=""', b"--\r\n\r\nx\r\n----\r\n"),
        # mismatched boundary
        (
            b'multipart/mixed; boundary="one"',
            b"--two\r\nContent-Type: text/plain\r\n\r\nx\r\n--two--",
        ),
        # boundary with regex metacharacters
        (b'multipart/mixed; boundary="(.*)+[?"', b"--(.*)+[?\r\n\r\nbody\r\n--(.*)+[?--\r\n"),
        # preamble only, epilogue garbage
        (b'multipart/mixed; boundary="b"', b"preamble\r\n--b--\r\nepilogue \xff\xfe\r\n"),
        # very long boundary
        (
            b'multipart/mixed; boundary="' + b"x" * 5000 + b'"',
            b"--" + b"x" * 5000 + b"\r\n\r\nq\r\n",
        ),
        # part with no headers and no blank line
        (b'multipart/mixed; boundary="b"', b"--b\r\ntext without headers\r\n--b--\r\n"),
        # nested boundary equals outer
        (
            b'multipart/mixed; boundary="b"',
            b'--b\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n',
        ),
    ]
    for i in range(30):
        ctype, body = variants[i % len(variants)]
        if i >= len(variants):
            body = body + bytes(rng.randrange(32, 127) for _ in range(rng.randrange(0, 200)))
        out.append((f"boundary-{i}", _msg(_base(i, "boundary", **{"Content-Type": ctype}), body)))
    return out


def _charsets(rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    texts = ["Grüße aus München", "Привет, мир", "日本語のテキスト", "Ünïcødé ☃ 💥", "naïve café"]
    charsets = [
        "utf-8",
        "iso-8859-1",
        "koi8-r",
        "shift_jis",
        "x-unknown-42",
        "utf-16",
        "",
        "us-ascii",
    ]
    for i in range(40):
        text = texts[i % len(texts)]
        declared = charsets[i % len(charsets)]
        actual = ["utf-8", "latin-1", "cp1251", "utf-16-le", "shift_jis"][(i // 3) % 5]
        body = text.encode(actual, errors="replace")
        ctype = b"text/plain" + (f"; charset={declared}".encode() if declared else b"")
        subject = f"=?{declared or 'bogus'}?B?{base64.b64encode(body).decode()}?=".encode()
        if i % 4 == 0:
            subject = b"=?utf-8?Q?broken=ZZ=?="  # invalid encoded word
        if i % 5 == 0:
            subject = text.encode(actual, errors="replace")  # raw 8-bit in a header
        headers = _base(i, "charset", **{"Content-Type": ctype, "Subject": subject})
        out.append((f"charset-{i}", _msg(headers, body + CRLF)))
    return out


def _huge_headers(rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    out.append(("huge-subject", _msg(_base(0, "huge", Subject=b"S" * 200_000), b"x")))
    out.append(("huge-line-1mb", _msg(_base(1, "huge", **{"X-Junk": b"j" * 1_000_000}), b"x")))
    many = _base(2, "huge") + [(f"X-H{n}".encode(), b"v" * 50) for n in range(20_000)]
    out.append(("many-headers", _msg(many, b"x")))
    folded = b"\r\n ".join([b"fold"] * 50_000)
    out.append(("folded-forever", _msg(_base(3, "huge", Subject=folded), b"x")))
    refs = b" ".join(f"<ref{n}@example.com>".encode() for n in range(20_000))
    out.append(("huge-references", _msg(_base(4, "huge", References=refs), b"reply")))
    to = b", ".join(f"user{n}@example.com".encode() for n in range(10_000))
    out.append(("huge-to", _msg(_base(5, "huge", To=to), b"x")))
    cc = b", ".join(f"cc{n}@example.com".encode() for n in range(5_000))
    out.append(("huge-cc", _msg(_base(6, "huge", Cc=cc), b"x")))
    for i in range(7, 20):
        junk = bytes(rng.randrange(33, 127) for _ in range(rng.randrange(10_000, 60_000)))
        out.append((f"huge-random-{i}", _msg(_base(i, "huge", Subject=junk), b"x")))
    return out


def _nul_bytes(rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for i in range(20):
        where = i % 4
        headers = _base(i, "nul")
        body = b"hello\x00world\x00" * (i + 1)
        if where == 1:
            headers = _base(i, "nul", Subject=b"sub\x00ject")
        elif where == 2:
            headers = _base(i, "nul", From=f"nul{i}\x00@example.com".encode())
        elif where == 3:
            body = b"\x00" * 10_000
        out.append((f"nul-{i}", _msg(headers, body)))
    return out


def _senders(rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    froms: list[bytes | None] = [
        None,
        b"",
        b"<<<>>>",
        b"no-at-sign",
        b"@example.com",
        b"user@",
        b'"quoted" <>',
        b"a@b@c.example.com",
        b"=?utf-8?B?////?= <x@example.com>",
        b"user@[127.0.0.1]",
        b"user@localhost",
        b"\xff\xfe@example.com",
        b"very.long." + b"a" * 300 + b"@example.com",
        b"user@example.invalid",
        b"Group: a@example.com, b@example.com;",
    ]
    for i in range(30):
        value = froms[i % len(froms)]
        headers = [h for h in _base(i, "sender") if h[0] != b"From"]
        if value is not None:
            headers.insert(0, (b"From", value))
        out.append((f"sender-{i}", _msg(headers, b"who am I?\r\n")))
    return out


def _nested(depth: int, i: int) -> bytes:
    body = b""
    for d in range(depth):
        body += f'--b{d}\r\nContent-Type: multipart/mixed; boundary="b{d + 1}"\r\n\r\n'.encode()
    body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b{depth}--\r\n".encode()
    headers = _base(i, "nested", **{"Content-Type": b'multipart/mixed; boundary="b0"'})
    return _msg(headers, body)


def _nesting() -> list[tuple[str, bytes]]:
    return [(f"nested-{d}", _nested(d, n)) for n, d in enumerate((5, 30, 60, 200, 500, 1000, 3000))]


def _encodings(rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    cases = [
        (b"base64", b"!!!not base64!!!"),
        (b"base64", b"aGVsbG8"),  # bad padding
        (b"base64", base64.b64encode(bytes(range(256)))),
        (b"quoted-printable", b"=ZZ=\r\nsoft break =\r\n=E9=E8"),
        (b"x-uuencode", b"begin 644 f\r\n#86)C\r\n`\r\nend\r\n"),
        (b"8bit", bytes(range(1, 256))),
        (b"binary", bytes(rng.randrange(256) for _ in range(500))),
        (b"7bit", "ünïcode in 7bit".encode()),
        (b"\xff\xfe", b"text"),
        (b"base64", b""),
    ]
    for i in range(20):
        cte, body = cases[i % len(cases)]
        ctype = b"text/plain; charset=utf-8" if i < 10 else b"application/pdf; name=x.pdf"
        headers = _base(i, "cte", **{"Content-Transfer-Encoding": cte, "Content-Type": ctype})
        out.append((f"encoding-{i}", _msg(headers, body)))
    return out


def _garbage(rng: random.Random) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = [
        ("empty", b""),
        ("whitespace", b"   \r\n\r\n\t"),
        ("only-blank-line", CRLF),
        ("no-headers-body", b"\r\njust a body\r\n"),
        ("headers-only", _msg(_base(0, "garbage"), b"")),
        ("colon-less-header", b"This is not a header\r\nFrom: a@example.com\r\n\r\nbody"),
        ("lf-only", b"From: lf@example.com\nTo: support@helpdesk.localhost\nSubject: lf\n\nbody\n"),
        ("cr-only", b"From: cr@example.com\rSubject: cr\r\rbody\r"),
    ]
    for i in range(17):
        out.append(
            (f"random-bytes-{i}", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000))))
        )
    return out


def _html(rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    bodies = [
        b"<html><body><p>Hello <b>there</b></p><script>alert(1)</script></body></html>",
        b"<div><div><div>" * 2000 + b"deep",
        b"<p>unclosed <a href='x'>link <table><tr><td>cell",
        b"<!-- comment --><style>p{}</style><p>&amp; &lt;tag&gt; &#x1F4A5; &bogus;</p>",
        b"<![CDATA[ x ]]><?xml ?><p>pi</p>",
        b"<blockquote>quoted</blockquote><p>new</p>",
        b"<" * 10_000,
        b"<p>" + "ünï".encode("latin-1") + b"</p>",
        b"<svg><foreignObject><p>svg</p></foreignObject></svg>",
        b"<img src=x onerror=alert(1)>",
    ]
    for i in range(20):
        body = bodies[i % len(bodies)]
        headers = _base(i, "html", **{"Content-Type": b"text/html; charset=utf-8"})
        out.append((f"html-{i}", _msg(headers, body)))
    return out


def _automated() -> list[tuple[str, bytes]]:
    out = []
    flags = [
        (b"Auto-Submitted", b"auto-replied"),
        (b"Auto-Submitted", b"auto-generated"),
        (b"Precedence", b"bulk"),
        (b"Precedence", b"junk"),
        (b"Precedence", b"list"),
        (b"Precedence", b"auto_reply"),
        (b"X-Autoreply", b"yes"),
        (b"X-Auto-Response-Suppress", b"All"),
        (b"X-Loop", b"support@helpdesk.localhost"),
        (b"List-Id", b"<list.example.com>"),
    ]
    for i in range(20):
        name, value = flags[i % len(flags)]
        headers = [*_base(i, "auto"), (name, value)]
        out.append((f"auto-{i}", _msg(headers, b"I am out of office.\r\n")))
    out.append(("own-address", _msg(_base(99, "auto", From=TO), b"loop\r\n")))
    out.append(("mailer-daemon", _msg(_base(98, "auto", From=b"MAILER-DAEMON@example.com"), b"x")))
    return out


def _message_ids() -> list[tuple[str, bytes]]:
    out = []
    ids: list[bytes | None] = [
        None,
        b"",
        b"no-brackets@example.com",
        b"<>",
        b"<" + b"m" * 5000 + b"@example.com>",
        b"<a@b> <c@d>",
        b"<\xff\xfe@example.com>",
        b"<corpus-duplicate@example.com>",
        b"<corpus-duplicate@example.com>",
        b"<in reply to self@example.com>",
    ]
    for i, mid in enumerate(ids):
        over: dict[str, bytes | None] = {"Message-ID": mid}
        if i == 9:
            over["In-Reply-To"] = b"<in reply to self@example.com>"
        headers = _base(i, "mid")
        headers = [(k, v) for k, v in headers if k != b"Message-ID"]
        if mid is not None:
            headers.append((b"Message-ID", mid))
        for k, v in over.items():
            if k != "Message-ID" and v is not None:
                headers.append((k.encode(), v))
        out.append((f"message-id-{i}", _msg(headers, b"id test\r\n")))
    return out


def hostile_corpus(seed: int = 6) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    corpus = [
        *_bad_boundaries(rng),
        *_charsets(rng),
        *_huge_headers(rng),
        *_nul_bytes(rng),
        *_senders(rng),
        *_nesting(),
        *_encodings(rng),
        *_garbage(rng),
        *_html(rng),
        *_automated(),
        *_message_ids(),
    ]
    return corpus


def big_attachment_message(size: int = 20 * 1024 * 1024, i: int = 0) -> bytes:
    """A message with one attachment of ``size`` bytes (base64-encoded, 76-char lines)."""
    payload = base64.encodebytes(random.Random(i).randbytes(size)).replace(b"\n", CRLF)
    headers = _base(i, "big", **{"Content-Type": b'multipart/mixed; boundary="big"'})
    body = (
        b"--big\r\nContent-Type: text/plain\r\n\r\nSee the attached file.\r\n"
        b"--big\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="big.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + payload + b"--big--\r\n"
    )
    return _msg(headers, body)

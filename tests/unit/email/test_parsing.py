from email.message import EmailMessage

import pytest

from services.email_ingest.domain.html_text import html_to_text
from services.email_ingest.domain.message import Unparseable, parse_email
from tests.unit.email.fakes import mail


def test_plain_text_is_preferred_over_html() -> None:
    parsed = parse_email(mail(body="plain words", html="<p>html words</p>"))
    assert parsed.body == "plain words"


def test_html_only_is_converted_to_text() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style></head><body><p>Hello <b>there</b> &amp; bye</p>"
        b"<script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>"
    )
    parsed = parse_email(raw)
    assert parsed.body == "Hello there & bye\n\n- one\n- two"


def test_any_charset_and_encoded_headers() -> None:
    raw = (
        b"From: =?iso-8859-1?Q?J=FCrgen?= <j@example.com>\r\n"
        b"Subject: =?koi8-r?B?8NLJ18XU?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nGr\xfc\xdfe"
    )
    parsed = parse_email(raw)
    assert parsed.sender == "j@example.com"
    assert parsed.sender_name == "Jürgen"
    assert parsed.subject == "Привет"
    assert parsed.body == "Grüße"


def test_wrong_or_unknown_charset_never_fails() -> None:
    raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=x-nope\r\n\r\nb\xe9b\xe9"
    assert parse_email(raw).body == "b\u00e9b\u00e9"
    raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nb\xe9b\xe9\x00"
    assert parse_email(raw).body == "b\u00e9b\u00e9"


def test_attachments_recorded_by_name_type_and_size() -> None:
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["Subject"] = "files"
    msg.set_content("see attached")
    msg.add_attachment(b"x" * 1234, maintype="application", subtype="pdf", filename="report.pdf")
    msg.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="shot.png")
    parsed = parse_email(bytes(msg))
    assert parsed.body == "see attached"
    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == [
        ("report.pdf", "application/pdf", 1234),
        ("shot.png", "image/png", 4),
    ]


def test_thread_ids_in_reply_to_first_then_references_newest_first() -> None:
    parsed = parse_email(
        mail(in_reply_to="<c@example.com>", references="<a@example.com> <b@example.com>")
    )
    assert parsed.thread_ids == ("<c@example.com>", "<b@example.com>", "<a@example.com>")


def test_missing_message_id_gets_a_stable_content_hash() -> None:
    raw = b"From: a@example.com\r\nSubject: x\r\n\r\nbody"
    first, second = parse_email(raw), parse_email(raw)
    assert first.message_id_generated
    assert first.message_id == second.message_id
    assert first.message_id.startswith("<sha256.")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"", "empty"), (b"  \r\n", "empty"), (b"\r\njust a body", "no_headers")],
)
def test_unparseable(raw: bytes, reason: str) -> None:
    with pytest.raises(Unparseable) as caught:
        parse_email(raw)
    assert caught.value.reason == reason


def test_html_blockquote_marked_as_quote() -> None:
    text = html_to_text("<p>new</p><blockquote><p>old</p></blockquote>")
    assert text == "new\n\n> old"

from services.email_ingest.domain.quoting import strip_quoted


def test_gmail_attribution_and_quotes_are_dropped() -> None:
    text = "Thanks, that fixed it.\n\nOn Mon, 2 Mar 2026 at 10:00, Support <s@x.com> wrote:\n> old"
    assert strip_quoted(text) == "Thanks, that fixed it."


def test_attribution_split_over_two_lines() -> None:
    text = "New text\n\nOn Mon, 2 Mar 2026 at 10:00, Some Body\n<s@example.com> wrote:\n> old"
    assert strip_quoted(text) == "New text"


def test_outlook_original_message_block() -> None:
    text = "Still broken.\n\n-----Original Message-----\nFrom: Support\nSent: today\n\nold"
    assert strip_quoted(text) == "Still broken."
    text = "Still broken.\n\n________________________________\nFrom: Support\nSent: x\nold"
    assert strip_quoted(text) == "Still broken."
    text = "Hi\n\nFrom: Support <s@example.com>\nSent: Monday\nTo: me\n\nold"
    assert strip_quoted(text) == "Hi"


def test_inline_answers_between_quotes_are_kept() -> None:
    text = "> question one?\nanswer one\n> question two?\nanswer two\n\n> trailing quote"
    assert strip_quoted(text) == "> question one?\nanswer one\n> question two?\nanswer two"


def test_signature_is_dropped() -> None:
    assert strip_quoted("Body\n-- \nAlice, ACME") == "Body"


def test_nothing_left_keeps_everything() -> None:
    assert strip_quoted("> only quoted text") == "> only quoted text"


def test_german_and_french_attributions() -> None:
    assert strip_quoted("Neu\nAm 2. März 2026 schrieb Support <s@x.de>:\n> alt") == "Neu"
    assert strip_quoted("Nouveau\nLe 2 mars 2026, Support a écrit :\n> ancien") == "Nouveau"

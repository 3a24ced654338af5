from services.email_ingest.domain.reply_text import extract_reply


def visible(text: str) -> str:
    return extract_reply(text).visible


def test_gmail_attribution_and_quotes_are_collapsed() -> None:
    text = "Thanks, that fixed it.\n\nOn Mon, 2 Mar 2026 at 10:00, Support <s@x.com> wrote:\n> old"
    reply = extract_reply(text)
    assert reply.visible == "Thanks, that fixed it."
    assert reply.quoted == "On Mon, 2 Mar 2026 at 10:00, Support <s@x.com> wrote:\n> old"
    assert not reply.kept_whole


def test_attribution_split_over_two_lines() -> None:
    text = "New text\n\nOn Mon, 2 Mar 2026 at 10:00, Some Body\n<s@example.com> wrote:\n> old"
    assert visible(text) == "New text"
    text = "Neu\n\nAm Mo., 2. März 2026 um 10:00 Uhr schrieb Support <\ns@example.com>:\n> alt"
    assert visible(text) == "Neu"


def test_outlook_original_message_block() -> None:
    text = "Still broken.\n\n-----Original Message-----\nFrom: Support\nSent: today\n\nold"
    assert visible(text) == "Still broken."
    assert extract_reply(text).quoted.startswith("-----Original Message-----")
    text = "Still broken.\n\n________________________________\nFrom: Support\nSent: x\nold"
    assert visible(text) == "Still broken."
    text = "Hi\n\nFrom: Support <s@example.com>\nSent: Monday\nTo: me\n\nold"
    assert visible(text) == "Hi"


def test_inline_answers_between_quotes_are_kept() -> None:
    text = "> question one?\nanswer one\n> question two?\nanswer two\n\n> trailing quote"
    reply = extract_reply(text)
    assert reply.visible == "> question one?\nanswer one\n> question two?\nanswer two"
    assert reply.quoted == "> trailing quote"


def test_bottom_posted_answer_below_the_quote_is_kept() -> None:
    text = "Hi,\nOn Tue, 3 Mar 2026, Support wrote:\n> Which browser?\n\nFirefox 124.\n"
    reply = extract_reply(text)
    assert reply.visible.startswith("Hi,")
    assert reply.visible.endswith("Firefox 124.")
    assert reply.quoted == ""


def test_signatures_are_dropped() -> None:
    assert visible("Body\n-- \nAlice, ACME") == "Body"
    assert visible("Body\n\nSent from my iPhone") == "Body"
    assert visible("Body\n\nVon meinem iPhone gesendet") == "Body"
    assert visible("Body\n\nGet Outlook for iOS<https://aka.ms/o0ukef>") == "Body"


def test_mailing_list_footer_is_dropped() -> None:
    text = "Body\n____________________\nDev mailing list\nhttps://x.example/listinfo/dev"
    assert visible(text) == "Body"


def test_nothing_left_keeps_everything() -> None:
    reply = extract_reply("> only quoted text")
    assert reply.visible == "> only quoted text"
    assert reply.kept_whole and reply.quoted == ""
    assert visible("Sent from my iPhone") == "Sent from my iPhone"
    assert visible("-- \nAlice") == "-- \nAlice"


def test_no_cut_inside_unquoted_text() -> None:
    text = "The installer wrote:\nerror 5\nand stopped."
    assert visible(text) == text
    long_tail = "Steps:\n--\n" + "\n".join(f"{i}. step" for i in range(12))
    assert visible(long_tail) == long_tail
    text = "How do I unsubscribe from the newsletter?"
    assert visible(text) == text


def test_attributions_in_several_languages() -> None:
    assert visible("Neu\nAm 2. März 2026 schrieb Support <s@x.de>:\n> alt") == "Neu"
    assert visible("Nouveau\nLe 2 mars 2026, Support a écrit :\n> ancien") == "Nouveau"
    assert visible("Nuevo\nEl 2 mar 2026, Support escribió:\n> viejo") == "Nuevo"
    assert visible("Nieuw\nOp 2 mrt 2026 schreef Support <s@x.nl>:\n> oud") == "Nieuw"


def _html_mail(html: str) -> str:
    from email.message import EmailMessage

    from services.email_ingest.domain.message import parse_email

    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["To"] = "support@helpdesk.localhost"
    msg["Subject"] = "Re: [#1] x"
    msg["Message-ID"] = "<html-1@example.com>"
    msg.set_content(html, subtype="html")
    return parse_email(bytes(msg)).body


def test_html_only_replies_of_gmail_and_outlook() -> None:
    gmail = (
        '<div dir="ltr">Works now, thanks!</div><br><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">On Mon, 2 Mar 2026 at 10:00, Support &lt;'
        's@example.com&gt; wrote:<br></div><blockquote class="gmail_quote">Try again.'
        "</blockquote></div>"
    )
    reply = extract_reply(_html_mail(gmail))
    assert reply.visible == "Works now, thanks!"
    assert "Try again." in reply.quoted
    outlook = (
        '<div>Still broken.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Support '
        "&lt;s@example.com&gt;<br><b>Sent:</b> Monday, March 2, 2026 10:00<br><b>To:</b> Ann"
        "<br><b>Subject:</b> RE: x</div><div>Please retry.</div>"
    )
    reply = extract_reply(_html_mail(outlook))
    assert reply.visible == "Still broken."
    assert "Please retry." in reply.quoted

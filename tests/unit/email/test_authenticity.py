"""Our mail server's verdict and the policy (pure): which header counts, alignment."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.email_ingest.domain.authenticity import Outcome, aligned, assess, our_results

OURS = "mx.helpdesk.example"
ANN = "ann@example.com"


def test_only_the_topmost_header_with_our_id_counts() -> None:
    headers = [
        "other.example; dmarc=fail header.from=example.com",  # a relay's, above ours
        f"{OURS}; dmarc=pass header.from=example.com",
        f"{OURS}; dmarc=fail header.from=example.com",  # written by the sender
    ]
    assert assess(headers, OURS, ANN).outcome == Outcome.PASS
    assert assess(list(reversed(headers)), OURS, ANN).outcome == Outcome.FAIL


def test_a_pass_from_another_authserv_id_is_ignored() -> None:
    verdict = assess(["evil.example; dmarc=pass; dkim=pass header.d=example.com"], OURS, ANN)
    assert verdict.outcome == Outcome.NO_VERDICT
    assert not verdict.trusted


def test_authserv_id_is_case_insensitive_and_exact() -> None:
    assert our_results([f"{OURS.upper()} 1; dmarc=pass"], OURS) is not None
    assert our_results([f"x{OURS}; dmarc=pass"], OURS) is None
    assert our_results([f"{OURS}.evil.example; dmarc=pass"], OURS) is None


def test_an_unreadable_header_of_ours_is_no_verdict_not_a_reason_to_look_further() -> None:
    verdict = assess([f"{OURS}; dkim", f"{OURS}; dmarc=pass"], OURS, ANN)
    assert verdict.outcome == Outcome.NO_VERDICT


@pytest.mark.parametrize(
    ("results", "outcome"),
    [
        ("dmarc=pass header.from=example.com", Outcome.PASS),
        (
            "dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com; dmarc=fail",
            Outcome.FAIL,
        ),
        ("dmarc=quarantine", Outcome.FAIL),
        ("dmarc=temperror", Outcome.FAIL),
        ("dmarc=none; dkim=pass header.d=example.com", Outcome.PASS),
        ("dmarc=none; dkim=pass header.d=mail.example.com", Outcome.PASS),
        ("dmarc=none; dkim=pass header.d=evil.example", Outcome.FAIL),
        ("dmarc=none; dkim=fail header.d=example.com", Outcome.FAIL),
        ("dmarc=none; spf=pass smtp.mailfrom=bounce@example.com", Outcome.PASS),
        ("dmarc=none; spf=pass smtp.mailfrom=evil.example", Outcome.FAIL),
        ("dkim=pass header.d=example.com", Outcome.PASS),  # no DMARC run: like none
        ("spf=fail smtp.mailfrom=example.com", Outcome.FAIL),
        ("none", Outcome.FAIL),
    ],
)
def test_policy(results: str, outcome: Outcome) -> None:
    assert assess([f"{OURS}; {results}"], OURS, ANN).outcome == outcome


def test_alignment_is_relaxed_but_never_across_registrations() -> None:
    assert aligned("example.com", "example.com")
    assert aligned("example.com", "eu.example.com")
    assert aligned("mail.example.com", "example.com")
    assert not aligned("evil.co.uk", "victim.co.uk")
    assert not aligned("com", "example.com")
    assert not aligned("ample.com", "example.com")
    assert not aligned("", "example.com")


verdicts = st.sampled_from(["dmarc=pass", "dmarc=fail", "dmarc=none", "spf=softfail"])
ids = st.sampled_from([OURS, "relay.example", "evil.example", OURS.upper()])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ids, verdicts), max_size=6))
def test_verdict_is_the_topmost_of_ours_whatever_else_is_there(
    headers: list[tuple[str, str]],
) -> None:
    values = [f"{authserv}; {verdict}" for authserv, verdict in headers]
    ours = [v for a, v in headers if a.lower() == OURS]
    outcome = assess(values, OURS, ANN).outcome
    if not ours:
        assert outcome == Outcome.NO_VERDICT
    else:
        assert (outcome == Outcome.PASS) == (ours[0] == "dmarc=pass")

"""Is a mail really from its sender? The verdict of *our own* mail server, and the policy.

Trust model (docs/email.md): the mail server in front of the ingest (Postfix with OpenDKIM
and OpenDMARC, rspamd, ...) checks SPF, DKIM and DMARC and prepends an
``Authentication-Results`` header (RFC 8601) naming itself by its *authserv-id*
(``HELPDESK_EMAIL_AUTHSERV_ID``). Anyone can write such headers into a mail, so only the
topmost header carrying our id counts; every other one is ignored.

A mail that would act on an existing ticket needs ``dmarc=pass``, or, where the sender's
domain publishes no DMARC policy (``dmarc=none``, or no DMARC result), an *aligned*
``dkim=pass`` or ``spf=pass``. Alignment is relaxed and kept simple (no public suffix list):
the signing (``header.d``) or envelope (``smtp.mailfrom``) domain equals the ``From``
domain, or one is a subdomain of the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import authres


class Outcome(StrEnum):
    PASS = "pass"
    """Authenticated: may act on a ticket."""
    FAIL = "fail"
    """Our server's verdict says no (or not enough)."""
    NO_VERDICT = "no_verdict"
    """Nothing from our server (missing or unreadable header)."""
    UNCHECKED = "unchecked"
    """No check is configured: today's behaviour, every mail is trusted."""
    RELEASED = "released"
    """An admin released the mail from the suspended queue."""


@dataclass(frozen=True)
class Authenticity:
    outcome: Outcome
    reason: str
    """What decided, e.g. ``dmarc=pass``, ``dmarc=fail``, ``no Authentication-Results
    from mx.example``."""

    @property
    def trusted(self) -> bool:
        """May act on an existing ticket as its sender."""
        return self.outcome in (Outcome.PASS, Outcome.UNCHECKED, Outcome.RELEASED)

    @property
    def label(self) -> str | None:
        """What a new ticket's channel details say (None when nothing was checked)."""
        return {
            Outcome.PASS: "verified",
            Outcome.RELEASED: "released",
            Outcome.UNCHECKED: None,
        }.get(self.outcome, "unverified")


UNCHECKED = Authenticity(Outcome.UNCHECKED, "no authentication check configured")


def domain_of(address: str | None) -> str:
    return (address or "").rpartition("@")[2].strip().lower().rstrip(".")


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment without a public suffix list: equal, or one is a subdomain of
    the other (``mail.example.com`` ~ ``example.com``; ``a.co.uk`` !~ ``b.co.uk``)."""
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not domain or not from_domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    ) and "." in domain


@dataclass(frozen=True)
class Result:
    """One ``method=result`` of an Authentication-Results header, with its properties."""

    method: str
    result: str
    properties: dict[str, str]


class Unreadable:
    """Our topmost header could not be parsed."""


UNREADABLE = Unreadable()


def our_results(headers: Sequence[str], authserv_id: str) -> list[Result] | Unreadable | None:
    """The results of the topmost header naming ``authserv_id``; None when there is none.
    A header of ours that cannot be read is :data:`UNREADABLE`, never a reason to look
    further down (where a sender's own headers are)."""
    wanted = authserv_id.strip().lower()
    for value in headers:
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(value)
        except Exception:
            if _leading_id(value) == wanted:
                return UNREADABLE
            continue
        if str(parsed.authserv_id).strip().lower() != wanted:
            continue
        return [
            Result(
                method=str(r.method).lower(),
                result=str(r.result).lower(),
                properties={
                    f"{p.type}.{p.name}".lower(): str(p.value) for p in (r.properties or ())
                },
            )
            for r in parsed.results
        ]
    return None


def _leading_id(value: str) -> str:
    head = value.split(";", 1)[0].strip()
    return head.split()[0].lower() if head else ""


def assess(headers: Sequence[str], authserv_id: str, sender: str | None) -> Authenticity:
    """The policy applied to our server's verdict for a mail from ``sender``."""
    results = our_results(headers, authserv_id)
    if results is None:
        return Authenticity(Outcome.NO_VERDICT, f"no Authentication-Results from {authserv_id}")
    if isinstance(results, Unreadable):
        return Authenticity(Outcome.NO_VERDICT, f"unreadable verdict from {authserv_id}")
    from_domain = domain_of(sender)
    dmarc = [r.result for r in results if r.method == "dmarc"]
    if "pass" in dmarc:
        return Authenticity(Outcome.PASS, "dmarc=pass")
    if dmarc and any(d != "none" for d in dmarc):
        return Authenticity(Outcome.FAIL, f"dmarc={dmarc[0]}")
    if dkim := _aligned_pass(results, "dkim", ("header.d", "header.i"), from_domain):
        return Authenticity(Outcome.PASS, f"no DMARC policy; dkim=pass header.d={dkim}")
    if spf := _aligned_pass(results, "spf", ("smtp.mailfrom",), from_domain):
        return Authenticity(Outcome.PASS, f"no DMARC policy; spf=pass smtp.mailfrom={spf}")
    summary = " ".join(f"{r.method}={r.result}" for r in results) or "no results"
    return Authenticity(Outcome.FAIL, f"no DMARC pass nor aligned dkim/spf pass: {summary}")


def _aligned_pass(
    results: Iterable[Result], method: str, keys: Sequence[str], from_domain: str
) -> str | None:
    for r in results:
        if r.method != method or r.result != "pass":
            continue
        for key in keys:
            domain = domain_of(r.properties.get(key))
            if aligned(domain, from_domain):
                return domain
    return None

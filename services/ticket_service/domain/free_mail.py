"""Free-mail domains (``data/free_mail_domains.txt``): anyone can get an address there, so an
organization can never claim one (a claim would hand an org-wide viewer strangers' tickets).

The list is static package data, read once at import."""

from __future__ import annotations

from importlib.resources import files

LIST_FILE = "free_mail_domains.txt"


def _load() -> frozenset[str]:
    text = files(__package__).joinpath("data", LIST_FILE).read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line)


FREE_MAIL_DOMAINS = _load()


def is_free_mail(domain: str) -> bool:
    """``domain`` or any domain it is a subdomain of is on the list (``mail.gmail.com``
    is Google's as much as ``gmail.com``)."""
    labels = domain.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in FREE_MAIL_DOMAINS for i in range(len(labels) - 1))

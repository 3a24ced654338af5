"""Which authenticator start-up picks, and the warning when mail is not authenticated."""

from __future__ import annotations

import logging

import pytest

from services.email_ingest.adapters.dkim_check import DkimVerifier
from services.email_ingest.application.authentication import MtaVerdict, Unchecked
from services.email_ingest.bootstrap import authenticator_for
from services.settings import Settings


def test_authserv_id_selects_our_servers_verdict(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        chosen = authenticator_for(Settings(email_authserv_id="mx.example.com"))
    assert isinstance(chosen, MtaVerdict) and chosen.authserv_id == "mx.example.com"
    assert not caplog.records


def test_without_it_a_warning_and_todays_behaviour(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        chosen = authenticator_for(Settings())
    assert isinstance(chosen, Unchecked)
    assert "HELPDESK_EMAIL_AUTHSERV_ID is not set" in caplog.text


def test_optional_dkim_check(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        chosen = authenticator_for(Settings(email_dkim_verify=True))
    assert isinstance(chosen, DkimVerifier)
    assert "checking DKIM in process" in caplog.text

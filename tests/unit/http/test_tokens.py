"""Bearer tokens: ``exp`` required and bounded, a non-empty ``sub``, ``iss``/``aud`` when
configured, keys chosen by ``kid``; every refusal is a 401 in our own words, on FastAPI's
routes, reads and commands alike."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.settings import Settings
from services.ticket_service.bootstrap import create_app

PRIMARY = "primary-secret-primary-secret-primary-secret-0123"
ROTATED = "rotated-secret-rotated-secret-rotated-secret-4567"
ISSUER = "https://idp.example.com"
AUDIENCE = "helpdesk"
MAX_LIFETIME_H = 1
HOUR = 3600

# Far from every bound (and from the clock skew): no test depends on timing.
EXP_OFFSETS = {
    "none": None,
    "expired 2h ago": -2 * HOUR,
    "in 20 minutes": HOUR // 3,
    "in 45 minutes": 3 * HOUR // 4,
    "in 3 hours": 3 * HOUR,
    "in 30 days": 30 * 24 * HOUR,
}
IAT_OFFSETS = {"none": None, "now": 0, "10 minutes ago": -HOUR // 6, "5 hours ago": -5 * HOUR}
NBF_OFFSETS = {"none": None, "past": -HOUR // 6, "in 2 hours": 2 * HOUR}
SUBS: dict[str, Any] = {
    "absent": ...,
    "named": "alice",
    "empty": "",
    "blank": "   ",
    "number": 42,
}
ROLES: dict[str, Any] = {
    "absent": ...,
    "agent": "agent",
    "integration": "integration",
    "automation": "automation",
    "unknown": "god",
}
ISSUERS: dict[str, Any] = {"absent": ..., "ours": ISSUER, "other": "https://evil.example"}
AUDIENCES: dict[str, Any] = {"absent": ..., "ours": AUDIENCE, "other": "billing"}
KEYS = {  # (kid header, signing secret)
    "primary, no kid": (None, PRIMARY),
    "rotated, its kid": ("k2", ROTATED),
    "rotated, no kid": (None, ROTATED),
    "primary, rotated kid": ("k2", PRIMARY),
    "unknown kid": ("k9", PRIMARY),
    "foreign secret": (None, "someone-else-someone-else-someone-else"),
}
TOKEN_ROLES = {"agent", "integration"}


@dataclass(frozen=True)
class Draft:
    exp: str
    iat: str
    nbf: str
    sub: str
    role: str
    iss: str
    aud: str
    key: str

    def token(self) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {"email": "alice@helpdesk.example.com"}
        for claim, offsets, choice in (
            ("exp", EXP_OFFSETS, self.exp),
            ("iat", IAT_OFFSETS, self.iat),
            ("nbf", NBF_OFFSETS, self.nbf),
        ):
            if offsets[choice] is not None:
                payload[claim] = now + offsets[choice]
        for claim, values, choice in (
            ("sub", SUBS, self.sub),
            ("role", ROLES, self.role),
            ("iss", ISSUERS, self.iss),
            ("aud", AUDIENCES, self.aud),
        ):
            if values[choice] is not ...:
                payload[claim] = values[choice]
        kid, secret = KEYS[self.key]
        return jwt.encode(payload, secret, algorithm="HS256", headers={"kid": kid} if kid else None)

    def acceptable(self) -> bool:
        """The rules, stated once: what a token needs to be let in."""
        exp, iat, nbf = EXP_OFFSETS[self.exp], IAT_OFFSETS[self.iat], NBF_OFFSETS[self.nbf]
        lifetime = MAX_LIFETIME_H * HOUR
        return (
            exp is not None
            and 0 < exp <= lifetime
            and (iat is None or exp - iat <= lifetime)
            and (nbf is None or nbf <= 0)
            and isinstance(SUBS[self.sub], str)
            and bool(SUBS[self.sub].strip())
            and ROLES[self.role] in TOKEN_ROLES
            and self.iss == "ours"
            and self.aud == "ours"
            and self.key in {"primary, no kid", "rotated, its kid"}
        )


drafts = st.builds(
    Draft,
    exp=st.sampled_from(sorted(EXP_OFFSETS)),
    iat=st.sampled_from(sorted(IAT_OFFSETS)),
    nbf=st.sampled_from(sorted(NBF_OFFSETS)),
    sub=st.sampled_from(sorted(SUBS)),
    role=st.sampled_from(sorted(ROLES)),
    iss=st.sampled_from(sorted(ISSUERS)),
    aud=st.sampled_from(sorted(AUDIENCES)),
    key=st.sampled_from(sorted(KEYS)),
)
GOOD = Draft(
    exp="in 45 minutes",
    iat="now",
    nbf="none",
    sub="named",
    role="agent",
    iss="ours",
    aud="ours",
    key="primary, no kid",
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("tokens"),
        jwt_secret=PRIMARY,
        jwt_secrets={"k2": ROTATED},
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_max_lifetime=f"{MAX_LIFETIME_H}h",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def call(client: TestClient, where: str, token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if where == "a read":
        return client.get("/api/v1/views/all?limit=1", headers=headers)
    body = {"subject": "s", "requester": "ann@example.com"}  # a command
    return client.post("/api/v1/tickets", json=body, headers=headers)


def library_messages(token: str) -> set[str]:
    """What PyJWT itself would say about the token, with each of the keys."""
    said = set()
    for secret in (PRIMARY, ROTATED):
        try:
            jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                audience=AUDIENCE,
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.PyJWTError as error:
            said.add(str(error))
    return said


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(draft=drafts, where=st.sampled_from(["a read", "a command"]))
def test_a_token_is_let_in_exactly_when_the_rules_allow(
    client: TestClient, draft: Draft, where: str
) -> None:
    from services.ticket_service.adapters.http.auth import refusal_messages

    token = draft.token()
    r = call(client, where, token)
    if draft.acceptable():  # let in; then the role table decides (views are for agents)
        refused = where == "a read" and ROLES[draft.role] == "integration"
        assert r.status_code in ({403} if refused else {200, 201}), (draft, r.text)
        return
    assert r.status_code == 401, (draft, r.text)
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "invalid_token"
    assert problem["detail"] in refusal_messages(), problem
    for message in library_messages(token):
        assert message not in problem["detail"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"exp": "none"}, "The token has no exp claim."),
        ({"exp": "expired 2h ago"}, "The token has expired."),
        ({"exp": "in 3 hours"}, "lives longer"),
        ({"exp": "in 45 minutes", "iat": "5 hours ago"}, "lives longer"),
        ({"sub": "empty"}, "sub claim"),
        ({"sub": "blank"}, "sub claim"),
        ({"sub": "absent"}, "The token has no sub claim."),
        ({"role": "automation"}, "role"),
        ({"iss": "other"}, "another issuer"),
        ({"iss": "absent"}, "no iss claim"),
        ({"aud": "other"}, "another audience"),
        ({"key": "unknown kid"}, "key id"),
        ({"key": "primary, rotated kid"}, "signature"),
        ({"key": "rotated, no kid"}, "signature"),
    ],
)
def test_each_rule_refuses_on_its_own(
    client: TestClient, change: dict[str, str], detail: str
) -> None:
    from dataclasses import replace

    r = call(client, "a read", replace(GOOD, **change).token())
    assert r.status_code == 401
    assert detail in r.json()["detail"]


def test_the_good_token_and_the_rotated_key_are_let_in(client: TestClient) -> None:
    from dataclasses import replace

    for draft in (GOOD, replace(GOOD, key="rotated, its kid")):
        assert call(client, "a read", draft.token()).status_code == 200
        assert call(client, "a command", draft.token()).status_code == 201


@pytest.mark.parametrize(
    "token",
    ["junk", "a.b.c", "", "Bearer", jwt.encode({"sub": "x"}, PRIMARY, algorithm="HS512")],
)
def test_malformed_tokens_are_refused_in_our_words(client: TestClient, token: str) -> None:
    from services.ticket_service.adapters.http.auth import refusal_messages

    r = client.get("/api/v1/views/all", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json()["detail"] in refusal_messages() | {"A Bearer token is required."}

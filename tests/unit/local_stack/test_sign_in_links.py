"""``make run`` prints a browser sign-in link per role that has pages."""

from __future__ import annotations

from services.local_stack.stack import StackInfo, sign_in_links


def test_sign_in_links_carry_the_token_in_the_fragment() -> None:
    info = StackInfo(
        api_url="http://127.0.0.1:8000",
        smtp="127.0.0.1:2525",
        kafka_bootstrap="127.0.0.1:19092",
        redis_url="redis://127.0.0.1:16379",
        data_dir="var",
        tokens={"agent": "A.B.C", "requester": "R.S.T", "integration": "I.J.K"},
        env={},
    )
    assert sign_in_links(info) == {
        "agent": "http://127.0.0.1:8000/agent/sign-in#token=A.B.C",
        "requester": "http://127.0.0.1:8000/help/sign-in#token=R.S.T",
    }

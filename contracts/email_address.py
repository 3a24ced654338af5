"""``EmailStr``: an email address checked for its syntax only, remembered per input string.

Every syntactically valid address is an address, whatever its domain: a helpdesk for a
company's own staff takes ``ops@corp.local``, ``bob@customer.test``,
``it@intranet.internal`` or ``root@mailhost``. The special-use names of RFC 6761 and
friends (``local``, ``test``, ``localhost``, ``invalid``, ``onion``, ``arpa``) and
single-label domains are refused by ``email_validator`` (and so by ``pydantic.EmailStr``)
only because it assumes globally deliverable mail; here they pass. Syntax errors are still
refused, and so are the two forms ``email_validator`` keeps behind a flag as obscure and
easy to misuse: quoted local parts (``"a b"@example.com``) and IP-address literals
(``x@[10.0.0.1]``). A display-name form (``Jane Doe <jane@example.com>``) is taken as its
address, as ``pydantic.EmailStr`` does.

Validating an address (syntax, IDNA, normalisation) costs more than the rest of a
command's validation together, and the same requesters write again and again. The check is
a pure function of the string, so only valid addresses are remembered. The JSON Schema is
pydantic's (``{"type": "string", "format": "email"}``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import email_validator
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

REMEMBERED_ADDRESSES = 4096
MAX_INPUT_LENGTH = 2048
"""Longer input is refused before parsing (as ``pydantic.EmailStr`` does)."""

# The library's documented way to allow special-use domain names (its README, "Testing"):
# remove them from this list. Nothing else in the process validates addresses with
# other expectations.
email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()


def _invalid(reason: str) -> PydanticCustomError:
    return PydanticCustomError(
        "value_error", "value is not a valid email address: {reason}", {"reason": reason}
    )


@lru_cache(maxsize=REMEMBERED_ADDRESSES)
def normalized_email(value: str) -> str:
    """The normalised address, or pydantic's ``value_error`` for one that is not
    syntactically valid."""
    if len(value) > MAX_INPUT_LENGTH:
        raise _invalid(f"Length must not exceed {MAX_INPUT_LENGTH} characters")
    try:
        parts = email_validator.validate_email(
            value.strip(),
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
            allow_display_name=True,
        )
    except email_validator.EmailNotValidError as error:
        raise _invalid(str(error.args[0])) from None
    return parts.normalized


def is_valid_address(value: str) -> bool:
    """Whether ``value`` is an address :data:`EmailStr` takes."""
    try:
        normalized_email(value)
    except PydanticCustomError:
        return False
    return True


class _RememberedEmailValidation:
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            normalized_email, core_schema.str_schema()
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        field_schema = handler(schema)
        field_schema.update(type="string", format="email")
        return field_schema


EmailStr = Annotated[str, _RememberedEmailValidation()]

"""``EmailStr``: pydantic's email validation, remembered per input string.

Validating an address (``email_validator``: syntax, IDNA, normalisation) costs more than
the rest of a command's validation together, and the same requesters write again and
again. The check is a pure function of the string, so an address validates, normalises
and fails exactly as with ``pydantic.EmailStr``; only valid addresses are remembered.
The JSON Schema is the same (``{"type": "string", "format": "email"}``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, validate_email
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

REMEMBERED_ADDRESSES = 4096


@lru_cache(maxsize=REMEMBERED_ADDRESSES)
def normalized_email(value: str) -> str:
    """The normalised address, or pydantic's ``value_error`` for an invalid one."""
    return validate_email(value)[1]


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

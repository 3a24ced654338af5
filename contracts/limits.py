"""The maxima of every string and collection on the wire, and the checks behind them.

They are chosen so that the largest event any accepted command can cause, serialised as
the relay publishes it, stays below 1,000,000 bytes: under Apache Kafka's default record
limits (broker ``max.message.bytes`` 1,048,588, producer ``max.request.size`` 1,048,576).
Strings are counted in characters (code points); a character costs at most 6 bytes in JSON
(a control character is written ``\\u00XX``), which is the figure the budget assumes
(``tests/unit/contracts/test_event_sizes.py`` checks it for every event type).

HTTP bodies, Kafka commands and email-made commands are validated by the same contract
models, so one limit holds whichever way a change comes in; the JSON Schemas and the
OpenAPI document show them.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

SUBJECT_MAX = 500
"""Characters of a subject."""
TEXT_MAX = 100_000
"""Characters of a description, a comment body or a follow-up's message."""
NAME_MAX = 255
"""Characters of an assignee, a division or a form."""
TAG_MAX = 100
"""Characters of one tag."""
TAGS_MAX = 100
"""Tags on a ticket."""
CC_MAX = 100
"""CC'd addresses on a ticket (each an email address, at most 254 characters)."""
CUSTOM_FIELDS_BYTES_MAX = 65_536
"""Bytes of a ticket's ``custom_fields`` object as compact JSON (UTF-8)."""
CUSTOM_FIELDS_DEPTH_MAX = 5
"""Nesting of ``custom_fields``: the object itself is level 1, an object or array in it 2."""
ATTACHMENTS_MAX = 100
"""Attachment descriptions on one comment."""
ATTACHMENTS_BYTES_MAX = 65_536
"""Bytes of a comment's attachment descriptions as compact JSON (UTF-8)."""
ATTACHMENTS_DEPTH_MAX = 3
"""Nesting of the attachment list: the list, its objects, one level inside them."""
QUOTED_TEXT_MAX = 20_000
"""Characters of a comment's ``quoted_text`` (the quoted history collapsed below an email
reply); a longer history is cut (the whole message is kept by email ingest)."""
KEY_MAX = 998
"""Characters of a source key or an email Message-ID (the line limit of RFC 5322)."""
ID_MAX = 1_024
"""Characters of a correlation or causation id (room for ``email:<Message-ID>``)."""
SUB_MAX = 256
"""Characters of an actor's ``sub`` (the token subject)."""
EMAIL_MAX = 254
"""Characters of an email address (RFC 5321 path limit)."""


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON, exactly as the contracts serialise it."""
    return len(to_json(value))


def json_depth(value: Any, *, stop_above: int | None = None) -> int:
    """Nesting depth of JSON data: a scalar is 0, ``{}`` or ``[]`` is 1. With
    ``stop_above``, counting stops at the first level past it (enough to refuse)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        kind = type(node)
        if kind is dict:
            children = node.values()
        elif kind is list:
            children = node
        else:
            continue
        if depth > deepest:
            deepest = depth
            if stop_above is not None and depth > stop_above:
                return depth
        for child in children:
            if type(child) in _CONTAINERS:
                stack.append((child, depth + 1))
    return deepest


_CONTAINERS = (dict, list)


def bounded_json(value: Any, *, what: str, max_bytes: int, max_depth: int | None = None) -> Any:
    """``value`` unchanged, or ``ValueError`` saying which limit it exceeds. Depth is
    checked first, so an overly deep value is never serialised."""
    if not value:
        return value
    if max_depth is not None and json_depth(value, stop_above=max_depth) > max_depth:
        raise ValueError(f"{what} nests deeper than {max_depth} levels")
    size = json_size(value)
    if size > max_bytes:
        raise ValueError(f"{what} is {size} bytes as JSON; at most {max_bytes} are allowed")
    return value


ORGANIZATION_MEMBERS_BYTES_MAX = 600_000
"""Bytes of an organization's member list as JSON: with its name and 100 domains, every
organization event stays below a default Kafka record (use domains for larger ones)."""


DEAD_LETTER_VALUE_MAX = 600_000
"""Bytes of a poison record's value a dead letter keeps (base64: 800,000 characters); a
larger value is cut there, so the dead letter itself fits a default Kafka record."""
DEAD_LETTER_HEADERS_MAX = 65_536
"""Bytes of a poison record's headers a dead letter keeps."""

"""Numbers written in request text (view cursors, ``If-Match`` versions): ASCII digits only.

``str.isdigit`` is true for characters ``int`` refuses (superscripts: ``"¹"``) and for the
digits of other scripts, which ``int`` reads (Arabic-Indic one is 1); a number of this API
is ``0-9`` only, at most 18 digits (it fits the stores' 64-bit integers)."""

from __future__ import annotations

import re

MAX_DIGITS = 18
_DIGITS = re.compile(f"[0-9]{{1,{MAX_DIGITS}}}")


def ascii_number(text: str) -> int | None:
    """``text`` as a number if it is 1 to 18 ASCII digits, else None."""
    return int(text) if _DIGITS.fullmatch(text) else None

"""Keep every record printable as strict JSON, whatever route a value took to get there.

Two kinds of value can reach a record and then break its output:

* a lone surrogate (U+D800-U+DFFF): Excel's ``_xD800_`` escape decodes to one, and so can a
  file name that is not UTF-8. UTF-8 cannot encode it, so ``apdocs parse --json`` would die
  mid-batch with UnicodeEncodeError. It becomes U+FFFD, the replacement character;
* a non-finite number (inf, nan): a cell holding ``<v>inf</v>`` or a 400-digit amount. JSON
  has no such numbers (Python would print ``Infinity``, which strict parsers reject). It
  becomes null.

:func:`scrub_values` does this to a record's values and says where, as warnings
(``TEXT_INVALID``, ``NUMBER_NOT_FINITE``); :func:`strict_json` is the last line for anything
printed (paths and messages included), and refuses NaN outright rather than print it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from apdocs.errors import Notice

_SURROGATE = re.compile("[\ud800-\udfff]")
_SLOT_ID = re.compile(r"^[a-z]+\d+(?:\.\d+)?$")  # e1, q15, a1.16: a slot id on its own


def _child(where: str, key: str) -> str:
    """Where a nested value sits, named as the slot id README documents ("e1.seen", "a1.1")."""
    if not where or _SLOT_ID.match(key):
        return key
    return f"{where}.{key}"


def scrub_values(value: Any, where: str, notices: list[Notice]) -> Any:
    """``value`` with lone surrogates replaced and non-finite numbers nulled; one notice per place."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            notices.append(
                Notice("TEXT_INVALID", "text held characters that are not valid Unicode; each was replaced by '\ufffd'", where)
            )
            return _SURROGATE.sub("\ufffd", value)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        notices.append(Notice("NUMBER_NOT_FINITE", "a number was infinite or not a number; left blank", where))
        return None
    if isinstance(value, dict):
        return {k: scrub_values(v, _child(where, str(k)), notices) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_values(v, where, notices) for v in value]
    return value


def printable_text(text: str) -> str:
    """``text`` with any lone surrogate as U+FFFD, so it can be encoded as UTF-8."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return printable_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_printable(k) if isinstance(k, str) else k: _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    return value


def strict_json(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as JSON every strict parser accepts: no NaN/Infinity, no lone surrogates."""
    return json.dumps(_printable(data), indent=indent, ensure_ascii=False, default=str, allow_nan=False)

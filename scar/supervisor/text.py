"""Text someone else controls (object keys, file names, query values) made safe to show on one log line."""

from __future__ import annotations

import unicodedata

#: Categories of characters that end a line or steer a terminal: C0 and C1 controls (\n, \r, ESC, \x85...),
#: and the Unicode line and paragraph separators. A tab does neither and is left alone.
_CONTROL = ("Cc", "Zl", "Zp")


def is_control(char: str) -> bool:
    return char != "\t" and unicodedata.category(char) in _CONTROL


def shown(text: str) -> str:
    """`text` with every control character escaped as Python writes it (`\\r`, `\\x1b`, `\\u2028`), so no
    name can start a forged log line or rewrite the one it is on."""
    if text.isprintable():
        return text
    return "".join(repr(c)[1:-1] if is_control(c) else c for c in text)


def percent_encoded_controls(text: str) -> str:
    """`text` with each control character replaced by the %XX of its UTF-8 bytes (`\\r` becomes `%0D`)."""
    if text.isprintable():
        return text
    return "".join("".join(f"%{b:02X}" for b in c.encode("utf-8")) if is_control(c) else c for c in text)

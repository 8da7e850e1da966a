"""`--debug`: botocore's request log on stderr, with every secret replaced by `***`.

Redaction works on structure first: the request dictionaries and the JSON bodies botocore logs are walked
key by key, so a secret is hidden however it is quoted or escaped. What is only text (an XML answer, a
signed request's headers, a canonical request) is then cleaned by patterns, as a second line of defence.
A value is secret when its key looks like one (SecretAccessKey, SessionToken, Password, Credentials,
access_key, ...; pagination tokens excepted), or when it is the `Value` of an SSM SecureString or of a
name/value pair whose name looks secret (a container's environment).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

HIDDEN = "***"

_SECRET_WORDS = re.compile(r"secret|password|passwd|token|credential|accesskey|privatekey|apikey|signature")
#: tokens that only page through results or make a call idempotent: showing them helps, hiding them hides nothing
_HARMLESS = re.compile(r"(next|continuation|nextcontinuation|pagination|starting|nextforward|nextbackward|"
                       r"client|idempotency)token")


def looks_secret(name: str) -> bool:
    """Whether a key (or a variable's name) names a secret: `SecretAccessKey`, `aws_session_token`, ...
    scar's own tags (`scar:credentials` lists parameter names) are not."""
    if name.startswith("scar:"):
        return False
    folded = re.sub(r"[^a-z]", "", name.lower())
    return bool(_SECRET_WORDS.search(folded)) and not _HARMLESS.fullmatch(folded)


def redact_data(value: Any) -> Any:
    """A copy of `value` (mappings, lists, JSON text or bytes) with every secret value replaced."""
    if isinstance(value, Mapping):
        return _redact_mapping(value)
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(item) for item in value)
    if isinstance(value, bytes):
        text = value.decode("utf-8", "surrogateescape")
        cleaned = _redact_json_text(text)
        return value if cleaned is None else cleaned.encode("utf-8", "surrogateescape")
    if isinstance(value, str):
        cleaned = _redact_json_text(value)
        return value if cleaned is None else cleaned
    return value


def _redact_mapping(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    keys = {str(key).lower(): key for key in mapping}
    pair_name = mapping.get(keys.get("name", ""))
    hide_value = "value" in keys and (
        mapping.get(keys.get("type", "")) == "SecureString"
        or (isinstance(pair_name, str) and "key" not in keys and looks_secret(pair_name)))
    return {key: HIDDEN if looks_secret(str(key)) or (hide_value and str(key).lower() == "value")
            else redact_data(item) for key, item in mapping.items()}


def _redact_json_text(text: str) -> str | None:
    """The JSON document in `text` with its secrets hidden, or None when `text` is not a JSON container."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        document = json.loads(stripped)
    except ValueError:
        return None
    return json.dumps(redact_data(document))


_TEXT_SECRETS: list[tuple[re.Pattern[str], Any]] = [
    # Authorization headers and presigned URLs: the access key id and the signature
    (re.compile(r"((?:X-Amz-)?Credential=)[^/\s'\"&]+"), rf"\1{HIDDEN}"),
    (re.compile(r"((?:X-Amz-)?Signature=)[0-9a-fA-F]+"), rf"\1{HIDDEN}"),
    (re.compile(r"(Signature:\s*)[0-9a-f]{64}"), rf"\1{HIDDEN}"),
    # <SecretAccessKey>...</SecretAccessKey> in XML answers (STS, IAM)
    (re.compile(r"<(\w+)>([^<]*)</\1>"),
     lambda m: f"<{m[1]}>{HIDDEN}</{m[1]}>" if looks_secret(m[1]) else m[0]),
]
#: key: value, key=value, 'key': b'value', \"key\": \"value\" (any level of escaping)
_KEY = re.compile(r"""([A-Za-z][\w.-]*)((?:\\*['"])?\s*[:=]\s*(?:b(?=\\*['"]))?(?:\\*['"])?)""")
_VALUE = re.compile(r"""[^'"\s,&}\\]+""")


def redact(text: str) -> str:
    """`text` with every secret-looking value replaced (the patterns' pass, for text without structure)."""
    for pattern, replacement in _TEXT_SECRETS:
        text = pattern.sub(replacement, text)
    kept, position = [], 0
    for key in _KEY.finditer(text):  # keys and separators only: a value may hold the next `key=value`
        if key.start() < position or not looks_secret(key[1]):
            continue
        value = _VALUE.match(text, key.end())
        if value and not value[0].startswith(HIDDEN):
            kept += [text[position:key.end()], HIDDEN]
            position = value.end()
    return "".join(kept) + text[position:]


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = redact_data(record.args)
        elif record.args:
            record.args = tuple(redact_data(arg) for arg in record.args)
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


@contextlib.contextmanager
def enabled() -> Iterator[None]:
    """Debug logging on stderr for the duration of one command (and then as it was)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Redact())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.handlers.insert(0, handler)  # first: its filter redacts each record in place before other handlers see it
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

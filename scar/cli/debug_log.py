"""`--debug`: botocore's request log on stderr, with credentials taken out of every line."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator

_SECRETS = [
    (re.compile(r"(Credential=)[^/\s'\"]+"), r"\1[hidden]"),  # the access key id in Authorization headers
    (re.compile(r"(Signature=)[0-9a-f]+"), r"\1[hidden]"),
    (re.compile(r"((?:X-Amz-Security-Token|x-amz-security-token)['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}]+"),
     r"\1[hidden]"),
    (re.compile(r"((?:aws_)?(?:secret_access_key|access_key_id|session_token|secret_key|access_key|"
                r"SecretAccessKey|AccessKeyId|SessionToken|Password|password|token)['\"]?\s*[:=]\s*b?['\"]?)"
                r"[^'\"\s,}]+"), r"\1[hidden]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


@contextlib.contextmanager
def enabled() -> Iterator[None]:
    """Debug logging on stderr for the duration of one command (and then as it was)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Redact())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

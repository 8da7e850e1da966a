"""GetObject and PutObject of small files, first tried as one signed request without botocore's per-call work.

With many small files in flight, `put` and `get` are bound by the client's CPU (one core: the GIL). A botocore
call costs about 4 ms of it for a 64 KiB GetObject: parameter validation, endpoint rules, a dozen events, a
parse of every modelled header; the same request signed and sent by itself costs about 1.5 ms. So each small
object is first fetched or stored by one request built here and sent through the client's own parts: the URL
botocore makes for the bucket (resolved once per bucket), the client's signer (credentials, region,
SigV4) and its HTTP session (connection pool, proxies, TLS settings, timeouts). A PUT carries the body's
CRC32; a GET asks for the object's checksum and checks it when S3 has one (CRC32, SHA-1 or SHA-256), and
checks the length.

Anything but a clean success is left to botocore: a connection error, an error answer, a bad checksum or
length makes the same call through the client, whose retries, backoff, region redirects and error messages
are then the answer (after the backoff botocore would have waited before a first retry). A bucket that
answered with an error other than throttling or a server fault goes through the client from then on. Buckets
named by an ARN, S3 Express buckets and anything botocore would not sign with SigV4 always do.

The bucket's URL and signing scope are botocore's: a probe GetObject is built by the client and stopped by a
before-sign handler (registered once per client; it lets every other request by) before anything is sent.
Since the URL and the signer are the client's, a direct request is signed exactly as botocore's own would be.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import botocore
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError
from botocore.parsers import create_parser
from botocore.retries.standard import ExponentialBackoff, RetryContext, RetryEventAdapter, ThrottlingErrorDetector

from scar.version import __version__

_PROBE_KEY = f"scar-probe-{secrets.token_hex(8)}"  # never a real object: the probe sends nothing
_probing = threading.local()  # set while this thread probes: the handler leaves every other request alone
_CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "x-amz-checksum-crc32": lambda body: zlib.crc32(body).to_bytes(4, "big"),
    "x-amz-checksum-sha1": lambda body: hashlib.sha1(body).digest(),
    "x-amz-checksum-sha256": lambda body: hashlib.sha256(body).digest(),
}
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class ObjectRequests:
    """Whole-object GET and PUT through one S3 client (safe to share between threads)."""

    def __init__(self, client: Any, direct: bool = True) -> None:
        """`direct=False`: every call through the client (for -v -j and --debug, which show botocore's
        answers and wire log)."""
        self._client = client
        parts = _client_parts(client) if direct else None
        self._signer, self._http = parts if parts else (None, None)
        if parts:  # before any thread uses the client; botocore keeps one registration per unique_id
            client.meta.events.register_first("before-sign.s3.GetObject", _stop_probe, unique_id="scar-direct-probe")
        self._lock = threading.Lock()
        self._bases: dict[str, tuple[str, str, str] | None] = {}  # bucket → (URL prefix, region, signing name)
        self._backoff = ExponentialBackoff(service_name="s3",
                                           throttling_detector=ThrottlingErrorDetector(RetryEventAdapter()))
        self._parser = create_parser("rest-xml")
        self._user_agent = f"scar/{__version__} Botocore/{botocore.__version__}"

    def get(self, bucket: str, key: str) -> bytes:
        base = self._base(bucket)
        if base is not None:
            response = self._send(base, key, None, {"x-amz-checksum-mode": "ENABLED"})
            if response is not None and _intact(response):
                return response.content
            self._after_failure(bucket, response)
        return self._client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def put(self, bucket: str, key: str, body: bytes) -> None:
        base = self._base(bucket)
        if base is not None:
            checksum = base64.b64encode(_CHECKSUMS["x-amz-checksum-crc32"](body)).decode()
            response = self._send(base, key, body, {"x-amz-checksum-crc32": checksum,
                                                    "x-amz-sdk-checksum-algorithm": "CRC32"})
            if response is not None and response.status_code < 300:
                return
            self._after_failure(bucket, response)
        self._client.put_object(Bucket=bucket, Key=key, Body=body)

    def _send(self, base: tuple[str, str, str], key: str, body: bytes | None, headers: dict[str, str]) -> Any:
        """The answer to one signed request, or None when it could not be had (the caller asks botocore)."""
        prefix, region, signing_name = base
        request = AWSRequest(method="PUT" if body is not None else "GET", url=prefix + quote(key, safe="/~"),
                             data=body, headers={**headers, "User-Agent": self._user_agent})
        request.context["client_config"] = self._client.meta.config
        if body is not None:  # over HTTPS the CRC32 stands for the body, as botocore does: no SHA-256 of it
            request.context["checksum"] = {"request_algorithm": {"in": "header", "name": "x-amz-checksum-crc32"}}
        try:  # the signer's auth for this scope (frozen credentials, refreshed when due), without sign()'s events
            self._signer.get_auth_instance(signing_name, region, "s3v4").add_auth(request)
            return self._http.send(request.prepare())
        except BotoCoreError:  # connection refused or reset, timeout, ...: botocore's own call retries it
            return None

    def _after_failure(self, bucket: str, response: Any) -> None:
        """Wait as botocore would before its first retry; a bucket that refuses these requests goes to
        botocore from now on (a redirect to another region, a policy, a proxy that changes them)."""
        if response is None:
            return
        parsed = None
        if response.status_code >= 300:
            parsed = self._parser.parse({"headers": response.headers, "status_code": response.status_code,
                                         "body": response.content}, None)
        time.sleep(self._backoff.delay_amount(RetryContext(1, parsed_response=parsed, http_response=response)))
        if response.status_code >= 300 and response.status_code not in _TRANSIENT_STATUS:
            with self._lock:
                self._bases[bucket] = None

    def _base(self, bucket: str) -> tuple[str, str, str] | None:
        if self._signer is None:
            return None
        if bucket in self._bases:  # resolved already: read without the lock, which every request would contend
            return self._bases[bucket]
        with self._lock:
            if bucket not in self._bases:
                self._bases[bucket] = _resolve_base(self._client, bucket)
            return self._bases[bucket]


def _client_parts(client: Any) -> tuple[Any, Any] | None:
    """The client's signer and HTTP session. botocore has no public handle on them; without them (another
    botocore), every call goes through the client."""
    signer = getattr(client, "_request_signer", None)
    http = getattr(getattr(client, "_endpoint", None), "http_session", None)
    if not callable(getattr(signer, "get_auth_instance", None)) or not callable(getattr(http, "send", None)):
        return None
    return signer, http


class _Probed(Exception):
    """Raised by the probe's before-sign handler: what botocore would sign, and that nothing is to be sent."""

    def __init__(self, url: str, region: str, signing_name: str, version: str) -> None:
        super().__init__(url)
        self.url, self.region, self.signing_name, self.version = url, region, signing_name, version


def _stop_probe(request: Any, region_name: str, signing_name: str, signature_version: Any, **kwargs: Any) -> None:
    if getattr(_probing, "active", False) and request.url.endswith("/" + _PROBE_KEY):
        signing = request.context.get("signing", {})
        raise _Probed(request.url, signing.get("region", region_name), signing.get("signing_name", signing_name),
                      signature_version)


def _resolve_base(client: Any, bucket: str) -> tuple[str, str, str] | None:
    """The URL prefix of the bucket's objects and the signing region and name, as botocore makes them for a
    GetObject of the bucket (endpoint rules, addressing style, custom endpoint), found by letting the client
    build one and stopping it before it is signed; None when botocore would not sign it with SigV4."""
    if bucket.startswith("arn:") or bucket.endswith("--x-s3"):
        return None
    _probing.active = True
    try:
        client.get_object(Bucket=bucket, Key=_PROBE_KEY)
    except _Probed as probed:
        if probed.version == "s3v4" and urlsplit(probed.url).query == "":
            return probed.url[:-len(_PROBE_KEY)], probed.region, probed.signing_name
    except BotoCoreError:
        pass
    finally:
        _probing.active = False
    return None


def _intact(response: Any) -> bool:
    """A 200 whose body has the announced length and, when S3 sent one, the object's checksum."""
    if response.status_code != 200:
        return False
    body = response.content
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) != len(body):
        return False
    for header, digest in _CHECKSUMS.items():
        expected = response.headers.get(header)
        if expected is not None and "-" not in expected:  # "...-N": of the parts, not of the object
            return base64.b64encode(digest(body)).decode() == expected
    return True

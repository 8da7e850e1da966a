"""The OSCAR REST API of one cluster, over requests.

Every call has a timeout; only idempotent calls (GET, PUT, DELETE) are retried, on connection failures and
on 502/503/504. TLS certificates are verified unless the cluster says `ssl_verify: false`, which gets one
warning per cluster. Credentials travel only in the Authorization header (basic auth or a bearer token):
never in a body, a message or a log line. Errors name the cluster, the call and the status.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from urllib3.util.retry import Retry

from scar.config.specs import OscarClusterSpec
from scar.errors import ScarError

#: seconds to connect, and to wait for an answer of the management API
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60
#: a synchronous run waits as long as a service may reasonably take
RUN_TIMEOUT = 900
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
_ERROR_TEXT_LIMIT = 300

_warned: set[str] = set()
_warned_lock = threading.Lock()


class OscarError(ScarError):
    """A call to an OSCAR cluster failed."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BearerAuth(AuthBase):
    """`Authorization: Bearer TOKEN` (an OIDC token, or a service's own token for /run and /job)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def _retries() -> Retry:
    return Retry(total=3, connect=3, read=2, status=3, backoff_factor=0.2, status_forcelist=(502, 503, 504),
                 allowed_methods=IDEMPOTENT, raise_on_status=False)


class OscarClient:
    def __init__(self, cluster: OscarClusterSpec, notice: Callable[[str], None] | None = None) -> None:
        self.cluster = cluster
        self._base = cluster.endpoint.rstrip("/")
        self._session = requests.Session()
        adapter = HTTPAdapter(max_retries=_retries(), pool_maxsize=16)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.verify = cluster.ssl_verify
        if cluster.oidc_token:
            self._auth: AuthBase | None = BearerAuth(cluster.oidc_token)
        elif cluster.auth_user:
            self._auth = HTTPBasicAuth(cluster.auth_user, cluster.auth_password)
        else:
            self._auth = None
        if not cluster.ssl_verify:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # said once below, not per call
            with _warned_lock:
                first = cluster.cluster_id not in _warned
                _warned.add(cluster.cluster_id)
            if first and notice is not None:
                notice(f"warning: OSCAR cluster {cluster.cluster_id}: ssl_verify is false, so the TLS certificate "
                       f"of {cluster.endpoint} is not checked")

    # -- services ---------------------------------------------------------------------------------

    def list_services(self) -> list[dict[str, Any]]:
        answer = self._call("GET", "/system/services").json()
        return answer if isinstance(answer, list) else []

    def get_service(self, name: str) -> dict[str, Any] | None:
        response = self._call("GET", f"/system/services/{_segment(name)}", absent=True)
        return None if response is None else response.json()

    def create_service(self, body: dict[str, Any]) -> None:
        self._call("POST", "/system/services", json=body, ok=(200, 201))

    def update_service(self, body: dict[str, Any]) -> None:
        self._call("PUT", "/system/services", json=body, ok=(200, 204))

    def delete_service(self, name: str) -> bool:
        """Whether it was deleted (False: it was already absent)."""
        return self._call("DELETE", f"/system/services/{_segment(name)}", ok=(200, 204), absent=True) is not None

    # -- jobs and invocations ---------------------------------------------------------------------

    def list_jobs(self, name: str) -> dict[str, dict[str, Any]]:
        """The service's jobs by name, every page."""
        jobs: dict[str, dict[str, Any]] = {}
        page = None
        for _ in range(1000):  # a bound, should a server repeat its continuation token
            answer = self._call("GET", f"/system/logs/{_segment(name)}", params={"page": page} if page else None)
            document = answer.json()
            listed = document.get("jobs") if isinstance(document.get("jobs"), dict) else document
            jobs.update({key: value for key, value in listed.items() if isinstance(value, dict)})
            page = document.get("next_page")
            if not page:
                break
        return jobs

    def job_logs(self, name: str, job: str) -> str:
        return self._call("GET", f"/system/logs/{_segment(name)}/{_segment(job)}").text

    def invoke(self, name: str, token: str, payload: bytes, asynchronous: bool) -> requests.Response:
        """POST /job/NAME (asynchronous) or /run/NAME with the service's own token; not retried."""
        path = f"/job/{_segment(name)}" if asynchronous else f"/run/{_segment(name)}"
        return self._call("POST", path, data=payload, ok=(201,) if asynchronous else (200,),
                          auth=BearerAuth(token), read_timeout=None if asynchronous else RUN_TIMEOUT,
                          headers={"Content-Type": "application/octet-stream"})

    # -- the one door -----------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), absent: bool = False,
              auth: AuthBase | None = None, read_timeout: float | None = None,
              **kwargs: Any) -> requests.Response | None:
        where = f"OSCAR cluster {self.cluster.cluster_id}: {method} {path}"
        try:
            response = self._session.request(method, self._base + path, auth=auth or self._auth,
                                             timeout=(CONNECT_TIMEOUT, read_timeout or READ_TIMEOUT),
                                             allow_redirects=False,
                                             **kwargs)
        except requests.exceptions.SSLError:
            raise OscarError(f"{where}: the TLS certificate of {self.cluster.endpoint} could not be verified "
                             "(set ssl_verify: false for this cluster only if you trust the network)") from None
        except requests.exceptions.Timeout:
            raise OscarError(f"{where}: no answer from {self.cluster.endpoint} in time") from None
        except requests.exceptions.RequestException as err:
            raise OscarError(f"{where}: cannot reach {self.cluster.endpoint} ({type(err).__name__})") from None
        if absent and response.status_code == 404:
            return None
        if response.status_code not in ok:
            raise OscarError(f"{where}: HTTP {response.status_code}{_reason(response)}", response.status_code)
        return response


def _segment(value: str) -> str:
    return quote(value, safe="")


def _reason(response: requests.Response) -> str:
    if response.status_code == 401:
        return " (unauthorized: check the cluster's auth_user/auth_password or oidc_token)"
    text = " ".join(response.text.split())[:_ERROR_TEXT_LIMIT]
    return f": {text}" if text else ""

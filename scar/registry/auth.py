"""Authentication to a registry: none, basic (a user and password, such as ECR's `AWS` and its token), or the
bearer tokens a registry asks for in its `WWW-Authenticate` challenge (fetched from the realm it names,
anonymously or with the basic credentials). Tokens are kept per repository for this client's lifetime."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from scar.registry.errors import RegistryError, describe

_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


def ecr_credentials(answer: dict[str, Any]) -> tuple[Credentials, str]:
    """The user, password and registry URL of ECR's GetAuthorizationToken answer."""
    try:
        data = answer["authorizationData"][0]
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        endpoint = str(data.get("proxyEndpoint", ""))
    except (KeyError, IndexError, ValueError) as err:
        raise RegistryError(f"ECR's authorization token cannot be read ({type(err).__name__})") from None
    return Credentials(user, password), endpoint


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """(scheme, parameters) of a WWW-Authenticate header such as `Bearer realm="…",service="…",scope="…"`."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


class Authenticator:
    """The Authorization header for each repository; `challenged` answers a 401 and says whether to retry."""

    def __init__(self, session: requests.Session, credentials: Credentials | None) -> None:
        self._session = session
        self._credentials = credentials
        self._headers: dict[str, str] = {}  # repository -> Authorization
        self._lock = threading.Lock()

    def header(self, repository: str) -> dict[str, str]:
        with self._lock:
            value = self._headers.get(repository) or self._headers.get("")
        return {"Authorization": value} if value else {}

    def challenged(self, response: requests.Response, repository: str, sent: str | None) -> bool:
        """Learn the header the 401 `response` (to a request that carried Authorization `sent`) asks for;
        False when there is nothing new to try."""
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if self._credentials is None:
                return False
            value = "Basic " + base64.b64encode(
                f"{self._credentials.username}:{self._credentials.password}".encode()).decode()
        elif scheme == "bearer" and params.get("realm"):
            value = "Bearer " + self._token(params)
        else:
            return False
        if value == sent:
            return False  # the registry refused exactly this
        with self._lock:
            self._headers[repository] = value
        return True

    def _token(self, params: dict[str, str]) -> str:
        query = {key: params[key] for key in ("service", "scope") if params.get(key)}
        auth = (self._credentials.username, self._credentials.password) if self._credentials else None
        try:
            answer = self._session.get(params["realm"], params=query, auth=auth, timeout=60)
        except requests.RequestException as err:
            raise RegistryError(f"cannot reach the registry's token service {params['realm']}: {err}") from None
        if answer.status_code != 200:
            raise describe(answer, f"the registry's token service {params['realm']} refused the credentials")
        try:
            document = answer.json()
            return str(document.get("token") or document["access_token"])
        except (ValueError, KeyError):
            raise RegistryError(f"the registry's token service {params['realm']} gave no token") from None


def docker_config_credentials(registry: str) -> Credentials | None:
    """The user and password `docker login` saved for `registry` in `$DOCKER_CONFIG/config.json` (by default
    ~/.docker/config.json), if any; credential helpers are not run."""
    folder = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        auths = json.loads((folder / "config.json").read_text()).get("auths") or {}
    except (OSError, ValueError, AttributeError):
        return None
    for key in (registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/"):
        encoded = (auths.get(key) or {}).get("auth")
        if encoded:
            try:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                return None
            return Credentials(user, password)
    return None

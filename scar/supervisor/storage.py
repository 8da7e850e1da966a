"""Input download and output upload for S3 and MinIO providers, through boto3's transfer manager."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from .config import FunctionConfig, StorageIO
from .text import percent_encoded_controls, shown


class StorageError(Exception):
    """A download or upload failed, or an input or output cannot be used."""


def ssm_credentials(parameters: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """Credentials of a provider reference, read on first use from the SSM SecureString named in the
    function's configuration (the package only holds the name), with the function's own role."""
    cache: dict[str, dict[str, str]] = {}

    def read(reference: str) -> dict[str, str]:
        name = parameters.get(reference)
        if not name:
            return {}
        if reference not in cache:
            import json

            import boto3

            try:
                value = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
                cache[reference] = json.loads(value)
            except Exception as err:
                raise StorageError(f"cannot read the credentials of {reference} from {name}: {_reason(err)}") \
                    from err
        return cache[reference]

    return read


class Storage:
    """One boto3 S3 client per provider reference (`s3`, `s3.ID`, `minio.ID`), built on first use."""

    def __init__(self, config: FunctionConfig, credentials: Callable[[str], dict[str, str]] | None = None) -> None:
        self._config = config
        self._credentials = credentials or (lambda reference: {})
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, reference: str) -> Any:
        with self._lock:
            if reference not in self._clients:
                self._clients[reference] = self._build(reference)
            return self._clients[reference]

    def _build(self, reference: str) -> Any:
        import boto3  # imported on first storage use: plain runs never pay for it
        from botocore.config import Config

        kind, _, ident = reference.partition(".")
        if kind not in ("s3", "minio"):
            raise StorageError(f"storage provider {reference!r} is not supported by this supervisor")
        settings = (self._config.storage_providers.get(kind) or {}).get(ident or "default") or {}
        secret = self._credentials(reference) if ident else {}
        kwargs: dict[str, Any] = {"config": Config(retries={"mode": "standard"}, max_pool_connections=16)}
        if settings.get("region"):
            kwargs["region_name"] = settings["region"]
        if kind == "minio":
            if not settings.get("endpoint"):
                raise StorageError(f"storage provider {reference!r} has no endpoint")
            kwargs["endpoint_url"] = settings["endpoint"]
            kwargs["verify"] = bool(settings.get("verify", True))
            kwargs.setdefault("region_name", "us-east-1")
        if secret.get("access_key"):
            kwargs["aws_access_key_id"] = secret["access_key"]
            kwargs["aws_secret_access_key"] = secret.get("secret_key", "")
        return boto3.client("s3", **kwargs)

    def download(self, provider: str, bucket: str, key: str, folder: Path) -> Path:
        """Download one object into `folder` under its base name (never anywhere else)."""
        name = safe_name(key)
        target = folder / name
        try:
            self.client(provider).download_file(bucket, key, str(target))
        except Exception as err:
            raise StorageError(f"cannot download s3://{shown(bucket)}/{shown(key)}: {_reason(err)}") from err
        return target

    def upload_outputs(self, folder: Path, outputs: tuple[StorageIO, ...], log: Callable[[str], None]) -> list[str]:
        """Upload every regular file under `folder` to each output whose filters it passes."""
        files = list(output_files(folder))
        uploaded = []
        for output in outputs:
            for relative in files:
                if not passes(relative, output):
                    continue
                key = f"{output.folder}/{relative}" if output.folder else relative
                try:
                    self.client(output.storage_provider).upload_file(str(folder / relative), output.bucket, key)
                except Exception as err:
                    raise StorageError(f"cannot upload {shown(relative)} to s3://{output.bucket}/{shown(key)}: "
                                       f"{_reason(err)}") from err
                log(f"uploaded {shown(relative)} to s3://{output.bucket}/{shown(key)}")
                uploaded.append(f"{output.bucket}/{key}")
        return uploaded


def safe_name(key: str) -> str:
    """The base name of an object key, refusing names that are empty or could climb out of a folder. Control
    characters (line breaks, ESC...) become %XX, so the file name, and INPUT_FILE_PATH, hold none."""
    name = key.rsplit("/", 1)[-1]  # not PurePosixPath(key).name: it drops a trailing "/" or "/."
    if name in ("", ".", "..") or "\x00" in name:
        raise StorageError(f"the object key {key!r} has no usable file name")
    return percent_encoded_controls(name)


def place_output(source: Path, root: Path, relative: str) -> Path:
    """Copy `source` to `root/relative` as `scar get` writes: into a temporary file in the target's folder,
    renamed over the target. Nothing is written through a symbolic link: one at the target is replaced, one
    among the folders below `root` is refused, so a link planted in `root` cannot send the file elsewhere."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(part in (".", "..") for part in parts):
        raise StorageError(f"refusing to write the output {relative!r} outside {root}")
    root.mkdir(parents=True, exist_ok=True)
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            inner = _enter(folder, part, root, relative)
            os.close(folder)
            folder = inner
        temporary = f".scar-{secrets.token_hex(8)}.tmp"
        created = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=folder)
        try:
            with os.fdopen(created, "wb") as target, open(source, "rb") as data:
                shutil.copyfileobj(data, target)
            os.rename(temporary, parts[-1], src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            os.unlink(temporary, dir_fd=folder)
            raise
    finally:
        os.close(folder)
    return root.joinpath(*parts)


def _enter(parent: int, name: str, root: Path, relative: str) -> int:
    """The folder `name` in the open folder `parent`, created when missing, never through a link."""
    try:
        os.mkdir(name, 0o777, dir_fd=parent)
    except FileExistsError:  # also for a link: mkdir never follows one
        pass
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    except OSError:  # ELOOP for a link, ENOTDIR for a file
        raise StorageError(f"refusing to write the output {relative!r} in {root}: {name!r} there is a "
                           "symbolic link or not a folder") from None


def output_files(folder: Path) -> list[str]:
    """Regular files under `folder` (relative POSIX paths); links are never followed nor uploaded, so a
    script cannot make the supervisor read files outside its output folder."""
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = [d for d in sorted(folders) if not os.path.islink(os.path.join(root, d))]
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append(PurePosixPath(os.path.relpath(path, folder)).as_posix())
    return found


def passes(relative: str, output: StorageIO) -> bool:
    """The output's filters: any prefix (of the relative path) and any suffix, when given."""
    if output.prefix and not any(relative.startswith(p) for p in output.prefix):
        return False
    return not output.suffix or any(relative.endswith(s) for s in output.suffix)


def _reason(err: Exception) -> str:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(err).__name__}: {err}"

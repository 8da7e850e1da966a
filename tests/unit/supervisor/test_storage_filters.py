"""The storage helpers that decide file names: the base name an input is saved under, the files of the output
folder that may be uploaded (never through a link), and the output filters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scar.supervisor.config import StorageIO
from scar.supervisor.storage import StorageError, output_files, passes, safe_name


@pytest.mark.parametrize(("key", "name"), [
    ("photo.jpg", "photo.jpg"),
    ("input/2024/photo.jpg", "photo.jpg"),
    ("in put/my file+(1).txt", "my file+(1).txt"),
    ("a//b.txt", "b.txt"),
    ("../../etc/passwd", "passwd"),
    ("/abs/init_script.sh", "init_script.sh"),
    ("...", "..."),
    (".hidden", ".hidden"),
])
def test_safe_name(key: str, name: str) -> None:
    assert safe_name(key) == name


@pytest.mark.parametrize("key", ["", "/", "folder/", "a/b/", "..", "a/..", "a/.", ".", "a/b\x00c"])
def test_safe_name_refuses_names_without_a_usable_file(key: str) -> None:
    """A "folder" object (trailing slash) has no file name: it is refused, not saved under its parent's name."""
    with pytest.raises(StorageError, match="has no usable file name"):
        safe_name(key)


def test_output_files_lists_regular_files_with_relative_paths(tmp_path: Path) -> None:
    out = tmp_path / "output"
    (out / "sub" / "deeper").mkdir(parents=True)
    (out / "empty-dir").mkdir()
    (out / "top.txt").write_text("1")
    (out / "sub" / "mid.csv").write_text("2")
    (out / "sub" / "deeper" / "low.log").write_text("3")
    (out / "sub" / "with space.txt").write_text("4")
    assert sorted(output_files(out)) == ["sub/deeper/low.log", "sub/mid.csv", "sub/with space.txt", "top.txt"]


def test_output_files_never_include_links(tmp_path: Path) -> None:
    """A script could link host files (credentials...) into its output folder: links are neither listed nor
    followed, whether they point at a file, a folder, or nowhere."""
    host = tmp_path / "host"
    (host / "secrets").mkdir(parents=True)
    (host / "secret.txt").write_text("do not upload")
    (host / "secrets" / "key.pem").write_text("do not upload")
    out = tmp_path / "output"
    (out / "sub").mkdir(parents=True)
    (out / "real.txt").write_text("ok")
    os.symlink(host / "secret.txt", out / "linked.txt")
    os.symlink(host / "secrets", out / "linked-dir")
    os.symlink(host / "secrets", out / "sub" / "nested-linked-dir")
    os.symlink(tmp_path / "missing", out / "dangling.txt")
    os.symlink(out / "real.txt", out / "sub" / "inner-link.txt")
    assert output_files(out) == ["real.txt"]


def test_output_files_of_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "output" / "nothing").mkdir(parents=True)
    assert output_files(tmp_path / "output") == []


def io(prefix: tuple[str, ...] = (), suffix: tuple[str, ...] = ()) -> StorageIO:
    return StorageIO("s3", "out-bucket/results", suffix=suffix, prefix=prefix)


@pytest.mark.parametrize(("relative", "output", "expected"), [
    ("a.txt", io(), True),
    ("sub/deep/a.bin", io(), True),
    # the prefix applies to the path relative to the output folder, not to the base name
    ("sub/a.txt", io(prefix=("sub/",)), True),
    ("a.txt", io(prefix=("sub/",)), False),
    ("other/sub/a.txt", io(prefix=("sub/",)), False),
    ("result-1.txt", io(prefix=("result",)), True),
    ("sub/result-1.txt", io(prefix=("result",)), False),
    ("log.txt", io(prefix=("result", "log")), True),
    # suffixes
    ("a.txt", io(suffix=(".txt",)), True),
    ("a.txt.bak", io(suffix=(".txt",)), False),
    ("sub/a.csv", io(suffix=(".txt", ".csv")), True),
    # both must hold
    ("sub/a.txt", io(prefix=("sub/",), suffix=(".txt",)), True),
    ("sub/a.csv", io(prefix=("sub/",), suffix=(".txt",)), False),
    ("top/a.txt", io(prefix=("sub/",), suffix=(".txt",)), False),
])
def test_passes(relative: str, output: StorageIO, expected: bool) -> None:
    assert passes(relative, output) is expected


def test_output_folder_and_bucket_of_a_storage_io() -> None:
    assert (io().bucket, io().folder) == ("out-bucket", "results")
    bare = StorageIO("s3", "out-bucket")
    assert (bare.bucket, bare.folder) == ("out-bucket", "")

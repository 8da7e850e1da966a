"""The supervisor layer: the supervisor and udocker sources, the engine tarball, reproducibly."""

from __future__ import annotations

import hashlib
from pathlib import Path

from scar.package.layer import ENGINE_NAME, build_supervisor_layer
from scar.version import __version__
from tests.unit.package.conftest import entries, mode, read


def test_layout():
    layer = build_supervisor_layer(None)
    found = entries(layer.zip_bytes)
    names = list(found)
    assert names == sorted(names)
    assert "python/scar/__init__.py" in names
    assert "python/scar/supervisor/__init__.py" in names
    assert {"python/udocker/__init__.py", "python/udocker/config.py", "python/udocker/engine/proot.py"} <= set(names)
    assert {"python/", "python/scar/", "python/udocker/engine/"} <= set(names)
    assert all(name.endswith((".py", "/")) for name in names)  # no bytecode, no udocker.conf
    assert ENGINE_NAME not in names
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in found.values())
    assert {mode(info) for name, info in found.items() if name.endswith("/")} == {0o755}
    assert {mode(info) for name, info in found.items() if not name.endswith("/")} == {0o644}
    compile(read(layer.zip_bytes, "python/scar/__init__.py"), "__init__.py", "exec")
    assert b"import" not in read(layer.zip_bytes, "python/scar/__init__.py")


def test_reproducible_and_described():
    first, second = build_supervisor_layer(None), build_supervisor_layer(None)
    assert first.zip_bytes == second.zip_bytes
    assert first.sha256 == hashlib.sha256(first.zip_bytes).hexdigest()
    assert first.description == f"scar supervisor {__version__} (sha256:{first.sha256[:12]})"
    assert first.unzipped_size == sum(info.file_size for info in entries(first.zip_bytes).values())


def test_with_the_engine(tmp_path: Path):
    engine = tmp_path / "englib.tar.gz"
    engine.write_bytes(b"\x1f\x8bengine")
    engine.chmod(0o755)
    layer = build_supervisor_layer(engine)
    assert read(layer.zip_bytes, ENGINE_NAME) == b"\x1f\x8bengine"
    assert mode(entries(layer.zip_bytes)[ENGINE_NAME]) == 0o644
    assert layer.sha256 != build_supervisor_layer(None).sha256
    assert build_supervisor_layer(engine).zip_bytes == layer.zip_bytes

"""One source of defaults: every value of the built-in scar.cfg is the default of its spec field."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from scar.config.defaults import SUPERVISOR_LICENSE, cache_folder, default_config
from scar.config.specs import FunctionSpec, LambdaSpec
from scar.local.run import cache_dir
from scar.package.udocker_engine import default_cache_dir


def _disagreements(cls: type, data: dict, path: tuple[str, ...]) -> list[str]:
    found = []
    hints = typing.get_type_hints(cls)
    for fld in dataclasses.fields(cls):
        key = fld.metadata.get("key") or fld.name
        if key not in data:
            continue
        value = data[key]
        if dataclasses.is_dataclass(hints[fld.name]) and isinstance(value, dict):
            found += _disagreements(hints[fld.name], value, path + (key,))
            continue
        if fld.metadata.get("required"):
            continue  # no spec default: the built-in scar.cfg is the only one
        default = fld.default if fld.default_factory is dataclasses.MISSING else fld.default_factory()
        if default != value and not (default is None and value in ("", None)):
            found.append(f"{'.'.join(path + (key,))}: spec {default!r}, scar.cfg {value!r}")
    return found


def test_spec_defaults_and_the_built_in_scar_cfg_agree():
    assert _disagreements(FunctionSpec, default_config()["aws"], ()) == []


def test_the_layer_license_has_one_default():
    assert LambdaSpec().supervisor.license_info == SUPERVISOR_LICENSE
    assert default_config()["aws"]["lambda"]["supervisor"]["license_info"] == SUPERVISOR_LICENSE


def test_one_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "scar"
    assert default_cache_dir().parent == cache_dir().parent == cache_folder()
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_folder() == Path.home() / ".cache" / "scar"

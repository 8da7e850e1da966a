"""Load, merge and validate everything a command needs: defaults < scar.cfg < FDL < environment < flags,
except the region: defaults < scar.cfg < AWS_DEFAULT_REGION < AWS_REGION < FDL < --region."""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scar.config.cfgfile import config_path, load_config
from scar.config.defaults import OWN_SUPERVISOR_VERSIONS, default_config
from scar.config.merge import Tree
from scar.config.origin import KeyPath, Origin, env_origin, file_origin, flag_origin, format_path
from scar.config.overrides import NAME_FLAG, FunctionOverrides, function_overrides
from scar.config.schema import SpecBuilder
from scar.config.specs import (
    OSCAR_OWN_STORAGE,
    FunctionSpec,
    OscarServiceSpec,
    StorageProvidersSpec,
    _known_region,
    storage_ios,
)
from scar.config.yamlfile import load_yaml
from scar.errors import BadInputError, ConfigError

Notice = Callable[[str], None]
_FDL_KEYS = {"functions": ("aws", "oscar"), "storage_providers": None}
_SECTIONS = ("lambda", "iam", "api_gateway", "cloudwatch", "batch", "ecr", "s3")


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one command run."""

    config_file: Path
    region: str
    profile: str | None
    endpoint_url: str | None
    fdl_file: Path | None = None
    functions: tuple[FunctionSpec, ...] = ()
    oscar_services: tuple[OscarServiceSpec, ...] = ()
    storage_providers: StorageProvidersSpec = field(default_factory=StorageProvidersSpec)


def load_settings(args: argparse.Namespace, notice: Notice, deploying: bool = False) -> Settings:
    """Settings from `args` (global options, `-f`, `-n` and function flags); raises ConfigError.

    Without `-f`, a function is built from the flags only when `deploying` (`scar init -n NAME -i IMAGE`);
    other commands then only name functions with `-n`. `deploying` also requires an IAM role.
    """
    cfg_file = config_path(getattr(args, "config", None))
    cfg = load_config(cfg_file, notice)
    aws_cfg = cfg.get("aws") if isinstance(cfg.get("aws"), dict) else {}
    region_candidates = _region_candidates(args, cfg_file, aws_cfg)
    region_problems = [problem for value, origin in region_candidates if (problem := _region_problem(value, origin))]
    region, _ = _pick(*region_candidates)
    profile, _ = _pick(
        (getattr(args, "profile", None), flag_origin("-pf/--profile")),
        (os.environ.get("AWS_PROFILE"), env_origin("AWS_PROFILE")),
        (aws_cfg.get("boto_profile"), file_origin(cfg_file, ("aws", "boto_profile"))),
    )
    endpoint = getattr(args, "endpoint_url", None)
    fdl_name = getattr(args, "conf_file", None)
    overrides = function_overrides(args)
    name = getattr(args, "name", None)
    if not fdl_name and not (deploying and (overrides or name)):
        if region_problems:
            raise ConfigError(region_problems)
        if not region:
            raise BadInputError("no AWS region: pass --region, set AWS_REGION, or set aws.region in scar.cfg")
        return Settings(cfg_file, region, profile, endpoint)
    loader = _Loader(cfg_file, cfg, args, deploying, notice)
    if fdl_name:
        loader.load_fdl(Path(fdl_name).expanduser(), name, overrides)
    else:
        loader.add_cli_function(name, overrides)
    if region_problems or loader.problems:
        raise ConfigError(list(dict.fromkeys(region_problems + loader.problems)))  # a region may be reported twice
    return Settings(cfg_file, region, profile, endpoint, loader.fdl_file, tuple(loader.functions),
                    tuple(loader.oscar), loader.storage)


def _pick(*candidates: tuple[Any, Origin]) -> tuple[Any, Origin | None]:
    for value, origin in candidates:
        if value:
            return value, origin
    return None, None


def _region_candidates(args: argparse.Namespace, cfg_file: Path,
                       aws_cfg: Mapping[str, Any]) -> list[tuple[Any, Origin]]:
    """Every region given outside the FDL, strongest first: --region, AWS_REGION, AWS_DEFAULT_REGION, then
    scar.cfg's (aws.region, or an original per-service one such as aws.lambda.region)."""
    candidates: list[tuple[Any, Origin]] = [
        (getattr(args, "region", None), flag_origin("--region")),
        (os.environ.get("AWS_REGION"), env_origin("AWS_REGION")),
        (os.environ.get("AWS_DEFAULT_REGION"), env_origin("AWS_DEFAULT_REGION")),
        (aws_cfg.get("region"), file_origin(cfg_file, ("aws", "region"))),
    ]
    for section in _SECTIONS:
        values = aws_cfg.get(section)
        if isinstance(values, Mapping) and values.get("region"):
            candidates.append((values["region"], file_origin(cfg_file, ("aws", section, "region"))))
    return candidates


def _region_problem(value: Any, origin: Origin) -> str | None:
    """Why a region value is not one AWS knows (the value is checked wherever it came from, used or not)."""
    if not value:
        return None
    failure = _known_region(value) if isinstance(value, str) else "must be a text value"
    return f"{origin.describe()}: {value!r} {failure}" if failure else None


class _Loader:
    def __init__(self, cfg_file: Path, cfg: dict[str, Any], args: argparse.Namespace, deploying: bool,
                 notice: Notice = lambda message: None) -> None:
        self.cfg_file = cfg_file
        self.notice = notice
        self._supervisor_notice_given = False
        self.cfg = cfg
        self.args = args
        self.deploying = deploying
        self._problems: list[str] = []
        self.functions: list[FunctionSpec] = []
        self.oscar: list[OscarServiceSpec] = []
        self.storage = StorageProvidersSpec()
        self.fdl_file: Path | None = None
        # every spec's builder, to report reference problems at the right file and line
        self._builders: list[tuple[SpecBuilder, Any, KeyPath]] = []

    @property
    def problems(self) -> list[str]:
        return self._problems + [p for builder, _, _ in self._builders for p in builder.problems]

    # -- AWS functions ------------------------------------------------------------------------------

    def _base_tree(self) -> Tree:
        defaults = default_config()["aws"]
        tree = Tree().merge(_fold_sections(defaults),
                            lambda p: Origin("built-in defaults", format_path(("aws",) + p)))
        cfg_aws = self.cfg.get("aws")
        if isinstance(cfg_aws, Mapping):
            moved: dict[KeyPath, KeyPath] = {}
            folded = self._own_supervisor(_fold_sections(cfg_aws, self._fold_problem(self.cfg_file, ("aws",)), moved))
            tree.merge(folded, lambda p: file_origin(self.cfg_file, ("aws",) + moved.get(p, p)))
        for variable in ("AWS_DEFAULT_REGION", "AWS_REGION"):  # defaults below the FDL, as for a Terraform provider
            if os.environ.get(variable):
                tree.merge({"region": os.environ[variable]}, lambda p, v=variable: env_origin(v))
        return tree

    def _own_supervisor(self, cfg_aws: dict[str, Any]) -> dict[str, Any]:
        """scar.cfg's layer with an original SCAR supervisor version (`1.2.0-rc4`, ...) read as `builtin`:
        an upgraded original scar.cfg deploys with scar's own supervisor, and says so once per run. (An FDL
        or a flag naming another version is the user's explicit choice: it is left for init to refuse.)"""
        lam = cfg_aws.get("lambda")
        supervisor = lam.get("supervisor") if isinstance(lam, dict) else None
        version = supervisor.get("version") if isinstance(supervisor, Mapping) else None
        if version is None or str(version) in OWN_SUPERVISOR_VERSIONS:
            return cfg_aws
        if not self._supervisor_notice_given:
            self._supervisor_notice_given = True
            self.notice(f"{self.cfg_file}: aws.lambda.supervisor.version {str(version)!r} is the original SCAR's "
                        "supervisor; deploying scar's own (builtin) instead (set it to builtin to silence this)")
        return {**cfg_aws, "lambda": {**lam, "supervisor": {**supervisor, "version": "builtin"}}}

    def _top_layers(self, tree: Tree, overrides: FunctionOverrides) -> Tree:
        if os.environ.get("AWS_PROFILE"):
            tree.merge({"boto_profile": os.environ["AWS_PROFILE"]}, lambda p: env_origin("AWS_PROFILE"))
        flags = {"region": getattr(self.args, "region", None), "boto_profile": getattr(self.args, "profile", None)}
        tree.merge(flags, lambda p: flag_origin("--region" if p[0] == "region" else "-pf/--profile"))
        tree.merge(overrides.values, overrides.origin_of)
        _drop_replaced_image(tree, overrides)
        return tree

    def add_cli_function(self, name: str | None, overrides: FunctionOverrides) -> None:
        tree = self._base_tree()
        if name:
            tree.merge({"lambda": {"name": name}}, lambda p: flag_origin(NAME_FLAG[1]))
        self._top_layers(tree, overrides)
        self._build_function(tree, ("functions", "aws", 0), "command line")

    def load_fdl(self, file: Path, name: str | None, overrides: FunctionOverrides) -> None:
        self.fdl_file = file.resolve()
        data, lines = load_yaml(file)
        if not isinstance(data, Mapping):
            raise ConfigError([f"{file}: the FDL must be a mapping with a 'functions' key"])

        def origin_at(path: KeyPath) -> Origin:
            return file_origin(file, path, lines.get(path))

        self._check_keys(data, (), _FDL_KEYS, origin_at)
        functions = data.get("functions") or {}
        if not isinstance(functions, Mapping):
            self._add(origin_at(("functions",)), "must be a mapping with 'aws' and/or 'oscar' lists")
            functions = {}
        aws_entries = self._entries(functions, "aws", origin_at)
        oscar_entries = self._entries(functions, "oscar", origin_at)
        if not aws_entries and not oscar_entries:
            self._add(origin_at(("functions",)) if "functions" in data else Origin(str(file), "functions"),
                      "defines no function (add functions.aws or functions.oscar entries)")
        oscar_named = _oscar_named(oscar_entries, name)
        if oscar_named:  # -n names an OSCAR service of the FDL: only that one
            if overrides:
                raise BadInputError(f"command line: {', '.join(overrides.flag_names())}: {name!r} is an OSCAR "
                                    "service; these flags set AWS functions only")
            aws_entries, oscar_entries = [], oscar_named
        selected = None if oscar_named else self._select(file, aws_entries, name, overrides, origin_at)
        for index, entry in aws_entries:
            if selected is not None and index != selected:
                continue
            base = ("functions", "aws", index)
            tree = self._base_tree()
            moved: dict[KeyPath, KeyPath] = {}
            tree.merge(_fold_sections(entry, self._fold_problem(file, base, lines), moved),
                       lambda p, b=base, m=moved: origin_at(b + m.get(p, p)))
            if name and selected == index:
                tree.merge({"lambda": {"name": name}}, lambda p: flag_origin(NAME_FLAG[1]))
            self._top_layers(tree, overrides if selected == index else FunctionOverrides())
            self._build_function(tree, base, str(file))
        self._check_cycles(file)
        names = [f.name for f in self.functions if f.name]
        for duplicate in sorted({n for n in names if names.count(n) > 1}):
            self._problems.append(f"{file}: functions.aws: the name {duplicate!r} is used by more than one function")
        if name is None or selected is None:
            self._load_oscar(file, oscar_entries, origin_at)
        self._load_storage(data.get("storage_providers"), origin_at, str(file))

    def _check_cycles(self, file: Path) -> None:
        """Refuse workflows whose outputs feed back into their own inputs (they would run forever)."""
        feeds = {f.name: {g.name for g in self.functions if g.name != f.name and _feeds(f, g)}
                 for f in self.functions}
        reported: set[frozenset[str]] = set()
        for start in feeds:
            cycle = _cycle_from(start, feeds)
            if cycle and frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                self._problems.append(f"{file}: functions.aws: the outputs and inputs form a loop: "
                                      f"{' → '.join([*cycle, cycle[0]])} (each result would trigger the next "
                                      "function forever)")

    def _select(
        self,
        file: Path,
        entries: list[tuple[int, Mapping[str, Any]]],
        name: str | None,
        overrides: FunctionOverrides,
        origin_at: Callable[[KeyPath], Origin],
    ) -> int | None:
        """The index of the one function `-n` (and function flags) apply to, or None for all."""
        names = {index: _entry_name(entry) for index, entry in entries}
        if name:
            matching = [index for index, entry_name in names.items() if entry_name == name]
            if matching:
                return matching[0]
            if len(entries) == 1:
                return entries[0][0]  # a single function: -n renames it, as in the original SCAR
            listed = ", ".join(str(n) for n in names.values())
            raise BadInputError(f"command line: -n/--name: {file} defines no function named {name!r} "
                                f"(it defines: {listed or 'no AWS function'})")
        if overrides and len(entries) > 1:
            listed = ", ".join(str(n) for n in names.values())
            raise BadInputError(
                f"command line: {', '.join(overrides.flag_names())}: {file} defines {len(entries)} functions "
                f"({listed}); choose the one these flags apply to with -n NAME")
        if overrides and not entries:
            raise BadInputError(f"command line: {', '.join(overrides.flag_names())}: {file} defines no AWS "
                                "function for these flags to apply to")
        return entries[0][0] if len(entries) == 1 and overrides else None

    def _build_function(self, tree: Tree, label: KeyPath, where: str) -> None:
        builder = SpecBuilder(tree, label, where)
        spec = builder.build(FunctionSpec, tree.data, ())
        iam = tree.data.get("iam")
        if self.deploying and (iam is None or isinstance(iam, Mapping)) and (iam or {}).get("role") in (None, ""):
            builder.report(("iam", "role"), "is required to deploy: set aws.iam.role in scar.cfg or iam.role "
                           "in the FDL, or pass -r ARN (see docs/configuration.md for the role's policy)")
        self.functions.append(spec)
        self._builders.append((builder, spec.lambda_, ("lambda",)))

    # -- OSCAR services and storage providers --------------------------------------------------------

    def _load_oscar(self, file: Path, entries: list[tuple[int, Mapping[str, Any]]],
                    origin_at: Callable[[KeyPath], Origin]) -> None:
        clusters = self.cfg.get("oscar") if isinstance(self.cfg.get("oscar"), Mapping) else {}
        for index, entry in entries:
            base = ("functions", "oscar", index)
            if len(entry) != 1:
                self._add(origin_at(base), "must be a mapping of one cluster id to its service "
                          "(for example my_oscar: {name: ..., image: ...})")
                continue
            ((cluster_id, service),) = entry.items()
            cluster_id = str(cluster_id)
            tree = Tree()
            cluster = clusters.get(cluster_id)
            if isinstance(cluster, Mapping):
                tree.merge(cluster, lambda p, c=cluster_id: file_origin(self.cfg_file, ("oscar", c) + p))
            if isinstance(service, Mapping):
                if "cluster_id" in service or "cluster_id" in (cluster or {}):
                    self._add(origin_at(base + (cluster_id, "cluster_id")),
                              f"unknown key (the cluster is the entry's key: {cluster_id})")
                tree.merge(service, lambda p, b=base + (cluster_id,): origin_at(b + p))
                tree.merge({"cluster_id": cluster_id}, lambda p, b=base: origin_at(b))
            builder = SpecBuilder(tree, base + (cluster_id,), str(file))
            spec = builder.build(OscarServiceSpec, tree.data if isinstance(service, Mapping) else service, ())
            self.oscar.append(spec)
            self._builders.append((builder, spec, ()))
        seen: set[tuple[str, str]] = set()
        for spec in self.oscar:
            if spec.name and (spec.cluster_id, spec.name) in seen:
                self._problems.append(f"{file}: functions.oscar: the name {spec.name!r} is used by more than one "
                                      f"service of cluster {spec.cluster_id}")
            seen.add((spec.cluster_id, spec.name))

    def _load_storage(self, data: Any, origin_at: Callable[[KeyPath], Origin], where: str) -> None:
        tree = Tree()
        if isinstance(data, Mapping):
            tree.merge(data, lambda p: origin_at(("storage_providers",) + p))
        builder = SpecBuilder(tree, ("storage_providers",), where)
        self.storage = builder.build(StorageProvidersSpec, data if data is not None else {}, ())
        self._problems.extend(builder.problems)
        for function_builder, spec, base in self._builders:
            own = OSCAR_OWN_STORAGE if isinstance(spec, OscarServiceSpec) else ()
            for key, index, io in storage_ios(spec):
                if io.storage_provider and io.storage_provider not in own and not self.storage.has(io.storage_provider):
                    function_builder.report(base + (key, index, "storage_provider"),
                                            "is not defined in storage_providers", io.storage_provider)

    # -- helpers ---------------------------------------------------------------------------------

    def _entries(self, functions: Mapping[str, Any], key: str,
                 origin_at: Callable[[KeyPath], Origin]) -> list[tuple[int, Mapping[str, Any]]]:
        entries = functions.get(key) or []
        if not isinstance(entries, list):
            self._add(origin_at(("functions", key)), "must be a list of functions")
            return []
        result = []
        for index, entry in enumerate(entries):
            if isinstance(entry, Mapping):
                result.append((index, entry))
            else:
                self._add(origin_at(("functions", key, index)), "must be a mapping of keys to values")
        return result

    def _check_keys(self, data: Mapping[str, Any], path: KeyPath, known: Mapping[str, Any],
                    origin_at: Callable[[KeyPath], Origin]) -> None:
        for key, value in data.items():
            if key not in known:
                close = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(known)})"
                self._add(origin_at(path + (key,)), f"unknown key{hint}")
            elif known[key] and isinstance(value, Mapping):
                self._check_keys(value, path + (key,), dict.fromkeys(known[key]), origin_at)

    def _fold_problem(self, file: Path, base: KeyPath, lines: dict[KeyPath, int] | None = None):
        def report(path: KeyPath, message: str) -> None:
            full = base + path
            self._add(file_origin(file, full, (lines or {}).get(full)), message)
        return report

    def _add(self, origin: Origin, message: str) -> None:
        self._problems.append(f"{origin.describe()}: {message}")


_IMAGE_KEYS = (("lambda", "container", "image"), ("lambda", "container", "image_file"))


def _drop_replaced_image(tree: Tree, overrides: FunctionOverrides) -> None:
    """`-i` replaces an FDL's `image_file` and `-if` its `image`: the two name the same thing."""
    for given, other in (_IMAGE_KEYS, _IMAGE_KEYS[::-1]):
        if given in overrides.flags:
            container = tree.data.get("lambda", {}).get("container", {})
            if isinstance(container, dict):
                container.pop(other[-1], None)
            for path in [p for p in tree.origins if p[: len(other)] == other]:
                del tree.origins[path]


def _feeds(producer: FunctionSpec, consumer: FunctionSpec) -> bool:
    return any(out.storage_provider == inp.storage_provider and
               (out.path == inp.path or out.path.startswith(inp.path + "/"))
               for out in producer.lambda_.output for inp in consumer.lambda_.input)


def _cycle_from(start: str, feeds: dict[str, set[str]]) -> list[str] | None:
    """A path start → ... → start, if there is one (depth-first)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for following in sorted(feeds.get(node, ())):
            if following == start:
                return path
            if following not in seen:
                seen.add(following)
                stack.append((following, [*path, following]))
    return None


def _oscar_named(entries: list[tuple[int, Mapping[str, Any]]],
                 name: str | None) -> list[tuple[int, Mapping[str, Any]]]:
    """The OSCAR entries whose service is called `name` (none without a name)."""
    if not name:
        return []
    return [(index, entry) for index, entry in entries
            if len(entry) == 1 and isinstance(service := next(iter(entry.values())), Mapping)
            and service.get("name") == name]


def _entry_name(entry: Mapping[str, Any]) -> Any:
    section = entry.get("lambda")
    return section.get("name") if isinstance(section, Mapping) else None


def _fold_sections(layer: Mapping[str, Any], report: Callable[[KeyPath, str], None] | None = None,
                   moved: dict[KeyPath, KeyPath] | None = None) -> dict[str, Any]:
    """Move per-service `region`/`boto_profile` keys (the original's layout) to the function level.

    A function's services all live in one region under one profile; two sections that disagree are an error.
    `moved` receives, for each setting moved up, the key path it was read from (for messages).
    """
    folded = {key: (dict(value) if isinstance(value, Mapping) else value) for key, value in layer.items()}
    for setting in ("region", "boto_profile"):
        seen: dict[str, Any] = {}
        for section in _SECTIONS:
            values = folded.get(section)
            if isinstance(values, dict) and values.get(setting) is not None:
                seen[section] = values.pop(setting)
        distinct = set(map(str, seen.values()))
        if folded.get(setting) is not None:
            distinct.add(str(folded[setting]))
        if len(distinct) > 1 and report is not None:
            given_at = (setting,) if folded.get(setting) is not None else (next(iter(seen)), setting)
            report(given_at, f"sections give different values ({', '.join(sorted(distinct))}); a function's "
                   f"services share one {setting}: set it once, at the function level")
        if seen and folded.get(setting) is None:
            section = next(iter(seen))
            folded[setting] = seen[section]
            if moved is not None:
                moved[(setting,)] = (section, setting)
    if folded.get("s3") == {}:
        del folded["s3"]  # the original's per-service section for S3 held only region and profile
    return folded

"""Deep merge of configuration layers and the origin kept for every key path."""

from __future__ import annotations

import copy

import pytest

from scar.config.merge import Tree, deep_merge
from scar.config.origin import Origin, env_origin, file_origin, flag_origin, format_path


def origin(name: str):
    """An origin function that names the layer and the key path."""
    return lambda path: Origin(name, format_path(path))


# ---- deep_merge ------------------------------------------------------------------------------------


def test_nested_dicts_merge_key_by_key():
    base = {"aws": {"lambda": {"memory": 512, "timeout": 300}, "region": "us-east-1"}}
    over = {"aws": {"lambda": {"memory": 1024}}}
    assert deep_merge(base, over) == {"aws": {"lambda": {"memory": 1024, "timeout": 300}, "region": "us-east-1"}}


def test_lists_replace_instead_of_appending():
    base = {"layers": ["a", "b", "c"], "nested": {"types": ["optimal"]}}
    over = {"layers": ["z"], "nested": {"types": []}}
    assert deep_merge(base, over) == {"layers": ["z"], "nested": {"types": []}}


def test_none_means_not_set():
    base = {"memory": 512, "lambda": {"timeout": 300}}
    assert deep_merge(base, {"memory": None, "lambda": {"timeout": None}, "new": None}) == base


def test_none_inside_a_new_mapping_is_not_set_either():
    merged = deep_merge({}, {"vpc": {"SubnetIds": None, "SecurityGroupIds": ["sg-1"], "deep": {"x": None}}})
    assert merged == {"vpc": {"SecurityGroupIds": ["sg-1"], "deep": {}}}


@pytest.mark.parametrize("falsy", [0, False, "", [], {}])
def test_falsy_values_override(falsy):
    merged = deep_merge({"key": "set", "other": 1}, {"key": falsy})
    assert merged == {"key": falsy, "other": 1}
    assert type(merged["key"]) is type(falsy)


def test_empty_dict_over_a_dict_keeps_the_lower_keys():
    assert deep_merge({"env": {"A": "1"}}, {"env": {}}) == {"env": {"A": "1"}}


def test_a_mapping_replaces_a_scalar_and_a_scalar_replaces_a_mapping():
    assert deep_merge({"a": 1, "b": {"x": 1}}, {"a": {"y": 2}, "b": "text"}) == {"a": {"y": 2}, "b": "text"}


def test_inputs_are_not_mutated_and_result_shares_nothing():
    base = {"lambda": {"layers": ["a"], "env": {"A": "1"}}, "top": [1]}
    over = {"lambda": {"layers": ["b"], "env": {"B": "2"}, "new": {"k": [1]}}}
    base_copy, over_copy = copy.deepcopy(base), copy.deepcopy(over)
    merged = deep_merge(base, over)
    assert base == base_copy and over == over_copy
    merged["lambda"]["layers"].append("c")
    merged["lambda"]["new"]["k"].append(2)
    merged["top"].append(2)
    merged["lambda"]["env"]["C"] = "3"
    assert base == base_copy and over == over_copy


# ---- Tree: origins ---------------------------------------------------------------------------------


def test_tree_records_an_origin_for_every_key_path():
    tree = Tree().merge({"lambda": {"memory": 512, "layers": ["a", "b"]}}, origin("defaults"))
    assert set(tree.origins) == {
        ("lambda",), ("lambda", "memory"), ("lambda", "layers"), ("lambda", "layers", 0), ("lambda", "layers", 1)
    }
    assert tree.origins[("lambda", "layers", 1)] == Origin("defaults", "lambda.layers[1]")


def test_upper_layer_replaces_origin_only_where_it_sets_a_value():
    tree = Tree().merge({"lambda": {"memory": 512, "timeout": 300}}, origin("cfg"))
    tree.merge({"lambda": {"memory": 1024, "timeout": None}}, origin("fdl"))
    assert tree.data == {"lambda": {"memory": 1024, "timeout": 300}}
    assert tree.origins[("lambda", "memory")].source == "fdl"
    assert tree.origins[("lambda", "timeout")].source == "cfg"
    assert tree.origins[("lambda",)].source == "fdl"  # the last layer that set a value in it


def test_a_layer_that_sets_nothing_in_a_mapping_leaves_its_origin():
    tree = Tree().merge({"env": {"Variables": {"A": "1"}}, "memory": 1}, origin("cfg"))
    tree.merge({"env": {"Variables": {}}, "memory": 2}, origin("fdl"))
    tree.merge({"env": {"Variables": {"A": None}}}, origin("cli"))
    assert tree.data == {"env": {"Variables": {"A": "1"}}, "memory": 2}
    assert tree.origins[("env",)].source == "cfg"
    assert tree.origins[("env", "Variables")].source == "cfg"
    assert tree.origins[("env", "Variables", "A")].source == "cfg"


def test_a_mapping_s_origin_follows_the_layer_that_added_a_key_to_it():
    tree = Tree().merge({"env": {"Variables": {"A": "1"}}}, origin("cfg"))
    tree.merge({"env": {"Variables": {"B": "2"}}}, origin("fdl"))
    assert tree.origins[("env", "Variables")].source == "fdl"
    assert tree.origins[("env",)].source == "fdl"
    assert tree.origins[("env", "Variables", "A")].source == "cfg"
    assert tree.origins[("env", "Variables", "B")].source == "fdl"


def test_replacing_a_list_drops_the_origins_of_its_old_items():
    tree = Tree().merge({"layers": ["a", "b", "c"]}, origin("cfg"))
    tree.merge({"layers": ["z"]}, origin("cli"))
    assert tree.data == {"layers": ["z"]}
    assert {p: o.source for p, o in tree.origins.items()} == {("layers",): "cli", ("layers", 0): "cli"}


def test_replacing_a_mapping_by_a_scalar_drops_the_origins_below_it():
    tree = Tree().merge({"vpc": {"SubnetIds": ["s-1"]}}, origin("cfg"))
    tree.merge({"vpc": "none"}, origin("fdl"))
    assert {p: o.source for p, o in tree.origins.items()} == {("vpc",): "fdl"}


def test_falsy_values_take_the_origin_of_their_layer():
    tree = Tree().merge({"asynchronous": True, "memory": 512, "description": "x"}, origin("cfg"))
    tree.merge({"asynchronous": False, "memory": 0, "description": ""}, origin("cli"))
    assert tree.data == {"asynchronous": False, "memory": 0, "description": ""}
    assert {o.source for o in tree.origins.values()} == {"cli"}


def test_tree_does_not_keep_references_to_a_layer():
    layer = {"env": {"Variables": {"A": "1"}}, "layers": ["a"]}
    tree = Tree().merge(layer, origin("fdl"))
    tree.data["env"]["Variables"]["B"] = "2"
    tree.data["layers"].append("b")
    assert layer == {"env": {"Variables": {"A": "1"}}, "layers": ["a"]}


def test_origin_falls_back_to_the_nearest_ancestor():
    tree = Tree()
    tree.origins[("lambda",)] = Origin("fdl", "lambda", 4)
    tree.origins[("lambda", "container")] = Origin("cfg", "lambda.container")
    assert tree.origin(("lambda", "container", "image")).source == "cfg"
    assert tree.origin(("lambda", "memory")) == Origin("fdl", "lambda", 4)
    assert tree.origin(("batch", "memory")) is None


# ---- origin helpers ----------------------------------------------------------------------------------


def test_format_path_names_mapping_keys_and_list_indexes():
    assert format_path(("functions", "aws", 1, "lambda", "input", 0, "path")) == "functions.aws[1].lambda.input[0].path"
    assert format_path((0, "a")) == "[0].a"
    assert format_path(()) == ""


def test_origin_describe_with_and_without_line(tmp_path):
    fdl = tmp_path / "sub" / "fdl.yaml"
    with_line = file_origin(fdl, ("functions", "aws", 0, "lambda", "memory"), 7)
    assert with_line.describe() == f"{fdl}:7: functions.aws[0].lambda.memory"
    assert with_line.folder == fdl.parent
    assert file_origin(fdl, ("aws", "region")).describe() == f"{fdl}: aws.region"
    assert flag_origin("-m/--memory").describe() == "command line: -m/--memory"
    assert env_origin("AWS_REGION").describe() == "environment: AWS_REGION"

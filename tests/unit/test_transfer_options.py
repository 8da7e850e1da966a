"""How many requests `put` and `get` keep in flight: 32 small files at once, 10 parts of large files (as the
AWS CLI), both N with `--concurrency N`; the connection pool holds the larger."""

from __future__ import annotations

import pytest

from scar.aws.transfer import MIB
from scar.cli.commands.transfer_common import transfer_options
from scar.cli.parser import build_parser


@pytest.mark.parametrize("command", ["put", "get"])
def test_small_files_and_parts_have_their_own_defaults(command):
    options = transfer_options(build_parser().parse_args([command, "-b", "bucket", "-p", "."]))
    assert (options.concurrency, options.part_concurrency, options.connections) == (32, 10, 32)
    config = options.config()
    assert config.max_request_concurrency == 10
    assert config.multipart_chunksize == config.multipart_threshold == 8 * MIB


@pytest.mark.parametrize("given", ["4", "64"])
def test_concurrency_sets_both(given):
    args = build_parser().parse_args(["put", "-b", "bucket", "-p", ".", "--concurrency", given, "--chunk-size", "16"])
    options = transfer_options(args)
    assert options.concurrency == options.part_concurrency == options.connections == int(given)
    assert options.config().max_request_concurrency == int(given)
    assert options.config().multipart_chunksize == 16 * MIB


def test_debug_and_verbose_json_send_every_request_through_botocore():
    parse = build_parser().parse_args
    assert transfer_options(parse(["get", "-b", "bucket", "-p", "."])).direct
    assert not transfer_options(parse(["--debug", "get", "-b", "bucket", "-p", "."])).direct
    assert not transfer_options(parse(["-v", "-j", "get", "-b", "bucket", "-p", "."])).direct
    assert transfer_options(parse(["-v", "get", "-b", "bucket", "-p", "."])).direct

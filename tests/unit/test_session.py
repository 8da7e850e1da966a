"""One AWS session per (region, profile, endpoint) and run: credentials resolved once, clients shared, pools
as large as the largest concurrency asked. No request is sent: building clients needs no network."""

from __future__ import annotations

import argparse
from pathlib import Path

import botocore.session
import pytest

from scar.cli.main import Context
from scar.cli.output import Output
from scar.config.loader import Settings


@pytest.fixture
def ctx(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    context = Context(argparse.Namespace(), Output())
    context._settings = Settings(Path("scar.cfg"), "us-east-1", None, None)
    return context


def test_one_credential_resolution_per_region_and_profile(ctx, monkeypatch):
    resolved = []
    original = botocore.session.Session.get_credentials

    def counting(self):  # observes the real resolver (it is what reads the environment and profiles)
        resolved.append(self)
        return original(self)

    monkeypatch.setattr(botocore.session.Session, "get_credentials", counting)
    for timeout in (None, 60, 90):
        ctx.aws(read_timeout=timeout).client("lambda")
        ctx.aws("us-east-1", read_timeout=timeout).client("s3")
    ctx.aws("eu-west-1").client("s3")
    assert len({id(core) for core in resolved}) == 2  # us-east-1 and eu-west-1
    assert ctx.aws()._shared is ctx.aws(read_timeout=60)._shared
    assert ctx.aws("eu-west-1")._shared is not ctx.aws()._shared


def test_a_client_is_built_once_per_service_and_read_timeout(ctx):
    first = ctx.aws(read_timeout=60).client("lambda")
    assert ctx.aws(read_timeout=60).client("lambda") is first
    assert ctx.aws().client("lambda") is not first
    assert first.meta.config.read_timeout == 60
    assert first.meta.region_name == "us-east-1"


def test_pools_grow_to_the_largest_concurrency_asked(ctx):
    small = ctx.aws(concurrency=4).client("s3")
    assert small.meta.config.max_pool_connections == 10
    wide = ctx.aws(concurrency=64).client("s3")
    assert wide.meta.config.max_pool_connections == 64
    assert ctx.aws(concurrency=8).client("s3") is wide  # never smaller than what a thread pool already uses

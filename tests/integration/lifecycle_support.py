"""Helpers for the function-lifecycle tests: a deploy-ready scar.cfg, an IAM role in the emulator, and a
counter of the mutating AWS calls scar makes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import boto3
import pytest

from devtools.images import fake_udocker_engine
from scar.aws.session import AwsSession

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scar-test-role"
READ_PREFIXES = ("Get", "List", "Describe", "Head")


def make_engine(path: Path) -> Path:
    """udocker's engine for scar.cfg's udocker_engine.file (no test downloads the real one)."""
    path.write_bytes(fake_udocker_engine())
    return path


def write_scar_cfg(home: Path, engine: Path) -> Path:
    config = home / ".scar" / "scar.cfg"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({
        "scar": {"config_version": "2.0.0"},
        "aws": {"iam": {"role": ROLE}, "lambda": {"supervisor": {"udocker_engine": {"file": str(engine)}}}},
    }))
    return config


def create_role(endpoint: str) -> None:
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    iam.create_role(RoleName="scar-test-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))


class CallCounter:
    """Counts the AWS operations scar's clients send (observes botocore's before-call event)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[str] = Counter()
        original = AwsSession.client

        def client(session: AwsSession, service: str):
            built = original(session, service)
            if not getattr(built, "_scar_counted", False):
                built.meta.events.register("before-call", self._count)
                built._scar_counted = True
            return built

        monkeypatch.setattr(AwsSession, "client", client)

    def _count(self, model, **kwargs) -> None:
        self.calls[model.name] += 1

    def reset(self) -> None:
        self.calls.clear()

    @property
    def mutating(self) -> dict[str, int]:
        return {name: count for name, count in self.calls.items() if not name.startswith(READ_PREFIXES)}

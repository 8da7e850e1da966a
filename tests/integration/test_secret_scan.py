"""A secret scan: storage credentials never appear on stdout or stderr of init, init --dry-run, run, ls or rm,
under --debug, -v and -j (in-process, so botocore's debug log goes through scar's redaction)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import write_fdl

SECRETS = ("wJalrXUtnFEMI/K7MDENG+bPxRfiCYSCANKEY", "MINIOSCANKEY", "AKIASCANARCHIVE", "s3cr3t+scan/value==")
FDL = f"""
functions:
  aws:
  - lambda:
      name: scan-fn
      container: {{image: busybox}}
      input: [{{storage_provider: minio.store, path: minio-bucket/in}}]
      output: [{{storage_provider: s3.archive, path: archive-bucket/out}}]
storage_providers:
  minio:
    store: {{endpoint: "https://minio.example.org", access_key: {SECRETS[1]}, secret_key: "{SECRETS[0]}"}}
  s3:
    archive: {{access_key: {SECRETS[2]}, secret_key: "{SECRETS[3]}", region: eu-west-1}}
"""
MODES = [("--debug",), ("-v",), ("-j",), ("--debug", "-v", "-j")]


def _clean(result) -> None:
    for secret in SECRETS:
        assert secret not in result.stdout, f"{secret!r} on stdout"
        assert secret not in result.stderr, f"{secret!r} on stderr"


@pytest.mark.parametrize("mode", MODES, ids=" ".join)
def test_no_command_prints_a_storage_secret(scar, deploy_env, tmp_path, mode):
    fdl = write_fdl(tmp_path, FDL)
    for argv in (("init", "-f", fdl, "--dry-run"), ("init", "-f", fdl), ("init", "-f", fdl, "--dry-run"),
                 ("init", "-f", fdl), ("run", "-f", fdl, "--no-files"), ("ls",), ("rm", "-f", fdl, "-y")):
        result = scar(*mode, *argv)
        assert result.code == 0, (argv, result.stderr[-2000:])
        _clean(result)

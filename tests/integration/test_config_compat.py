"""A scar.cfg carried over from the original SCAR deploys, with scar's own supervisor."""

from __future__ import annotations

import json

from tests.integration.conftest import write_fdl

FDL = """
functions:
  aws:
  - lambda: {name: compat-one, container: {image: busybox}}
  - lambda: {name: compat-two, container: {image: busybox}}
"""


def test_an_original_supervisor_version_in_scar_cfg_deploys_with_the_builtin_one(scar, deploy_env, isolated_env,
                                                                                  tmp_path):
    cfg_file = isolated_env / ".scar" / "scar.cfg"
    cfg = json.loads(cfg_file.read_text())
    cfg["aws"]["lambda"]["supervisor"]["version"] = "1.2.0-rc4"
    cfg_file.write_text(json.dumps(cfg))
    result = scar("init", "-f", write_fdl(tmp_path, FDL))
    assert result.code == 0, result.stderr
    assert result.stderr.count("aws.lambda.supervisor.version '1.2.0-rc4' is the original SCAR's supervisor") == 1
    refused = scar("init", "-f", write_fdl(tmp_path, FDL), "-n", "compat-one", "-sv", "1.2.0-rc4")
    assert refused.code == 2
    assert "lambda.supervisor.version '1.2.0-rc4'" in refused.stderr

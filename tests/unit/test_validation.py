"""`scar validate -f FDL`: every problem, each as `<file>[:<line>]: <key.path>: <value> <rule>`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.unit.support import ROLE, dedent, errors

LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:{}:1"


def aws_fdl(body: str = "", entry: str = "", *, name: str = "fn", role: str = ROLE,
            container: str = "{image: grycap/cowsay}", top: str = "") -> str:
    """One AWS function. Fixed lines 1-6; `body` (in `lambda`) starts on line 7, then `entry` (the
    function's other sections), then `top` (top-level keys)."""
    return (
        "functions:\n"                          # 1
        "  aws:\n"                              # 2
        f'  - iam: {{role: "{role}"}}\n'        # 3
        "    lambda:\n"                         # 4
        f"      name: {name}\n"                 # 5
        f"      container: {container}\n"       # 6
        + textwrap.indent(_lines(body), " " * 6)
        + textwrap.indent(_lines(entry), " " * 4)
        + _lines(top)
    )


def _lines(text: str) -> str:
    text = dedent(text)
    return text if not text or text.endswith("\n") else text + "\n"


OSCAR_FDL = """\
functions:
  oscar:
  - other_cluster:
      name: svc
      image: grycap/cowsay
      script: script.sh
"""

BIG = "x" * 4094  # with the name BIG: 4097 bytes

CASES = [
    # (id, FDL text, files to create, expected messages; <cwd> is the working directory)
    ("memory-too-low", aws_fdl("memory: 64"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.memory: 64 must be from 128 to 10240 MB"]),
    ("memory-too-high", aws_fdl("memory: 20000"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.memory: 20000 must be from 128 to 10240 MB"]),
    ("memory-not-a-number", aws_fdl("memory: lots"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.memory: 'lots' must be a whole number"]),
    ("memory-boolean", aws_fdl("memory: true"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.memory: True must be a whole number"]),
    ("timeout-zero", aws_fdl("timeout: 0"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.timeout: 0 must be from 1 to 900 seconds"]),
    ("timeout-too-high", aws_fdl("timeout: 901"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.timeout: 901 must be from 1 to 900 seconds"]),
    ("ephemeral-storage", aws_fdl("ephemeral_storage: 256"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.ephemeral_storage: 256 must be from 512 to 10240 MB"]),
    ("function-name", aws_fdl(name="my function"), (),
     ["fdl.yaml:5: functions.aws[0].lambda.name: 'my function' must be 1 to 64 letters, digits, hyphens or "
      "underscores"]),
    ("function-name-too-long", aws_fdl(name="f" * 65), (),
     [f"fdl.yaml:5: functions.aws[0].lambda.name: '{'f' * 65}' must be 1 to 64 letters, digits, hyphens or "
      "underscores"]),
    ("role-arn", aws_fdl(role="arn:aws:iam::1234:role/x"), (),
     ["fdl.yaml:3: functions.aws[0].iam.role: 'arn:aws:iam::1234:role/x' must be an IAM role ARN "
      "(arn:aws:iam::<12-digit account>:role/<name>)"]),
    ("region", aws_fdl(entry="region: eu-moon-1"), (),
     ["fdl.yaml:7: functions.aws[0].region: 'eu-moon-1' must be an AWS region (for example us-east-1, eu-west-1)"]),
    ("region-in-a-section", aws_fdl("region: eu-moon-1"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.region: 'eu-moon-1' must be an AWS region (for example us-east-1, "
      "eu-west-1)"]),
    ("log-level", aws_fdl("log_level: loud"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.log_level: 'loud' must be one of: DEBUG, INFO, WARNING, ERROR, "
      "CRITICAL"]),
    ("execution-mode", aws_fdl("execution_mode: lambda-bach"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.execution_mode: 'lambda-bach' must be one of: lambda, lambda-batch, "
      "batch"]),
    ("two-architectures", aws_fdl("architectures: [x86_64, arm64]"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.architectures: ['x86_64', 'arm64'] must name exactly one "
      "architecture"]),
    ("unknown-architecture", aws_fdl("architectures: [sparc]"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.architectures: ['sparc'] item 'sparc' must be one of: x86_64, arm64"]),
    ("six-layers", aws_fdl("layers:\n" + "".join(f"- {LAYER.format(n)}\n" for n in "abcdef")), (),
     ["fdl.yaml:7: functions.aws[0].lambda.layers: ['arn:aws:lambda:us-east-1:123456789012:layer:a:1', "
      "'arn:aws:lambda:us-east-1... must have at most 4 items"]),
    ("layer-arn", aws_fdl("layers: [arn:aws:lambda:us-east-1:123:layer:x:1]"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.layers: ['arn:aws:lambda:us-east-1:123:layer:x:1'] item "
      "'arn:aws:lambda:us-east-1:123:layer:x:1' must be a Lambda layer version ARN"]),
    ("lambda-environment-over-4kb", aws_fdl(f"environment:\n  Variables:\n    BIG: {BIG}"), (),
     ["fdl.yaml:8: functions.aws[0].lambda.environment.Variables: take 4097 bytes; Lambda allows 4096 bytes of "
      "environment in all"]),
    ("storage-path-bucket", aws_fdl("input:\n- storage_provider: s3\n  path: Bad_Bucket/in"), (),
     ["fdl.yaml:9: functions.aws[0].lambda.input[0].path: 'Bad_Bucket/in' must be BUCKET[/FOLDER] with a valid "
      "bucket name (3-63 lowercase letters, digits, dots or hyphens)"]),
    ("storage-provider-kind", aws_fdl("output:\n- storage_provider: dropbox\n  path: bucket"), (),
     ["fdl.yaml:8: functions.aws[0].lambda.output[0].storage_provider: 'dropbox' must be s3, s3.ID, minio, "
      "minio.ID or onedata.ID"]),
    ("storage-provider-not-defined", aws_fdl("output:\n- storage_provider: s3.mine\n  path: bucket/out"), (),
     ["fdl.yaml:8: functions.aws[0].lambda.output[0].storage_provider: 's3.mine' is not defined in "
      "storage_providers"]),
    ("unknown-key-close", aws_fdl("memroy: 1024"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.memroy: unknown key (did you mean 'memory'?)"]),
    ("unknown-key-far", aws_fdl(entry="ecr:\n  zzz: 1"), (),
     ["fdl.yaml:8: functions.aws[0].ecr.zzz: unknown key (known keys: delete_image, registry_url)"]),
    ("duplicate-yaml-key", aws_fdl("memory: 256\nmemory: 512"), (),
     ["fdl.yaml:8: functions.aws[0].lambda.memory: key given twice (each key may appear once in a mapping)"]),
    ("timeout-threshold", aws_fdl("timeout: 60", container="{image: x, timeout_threshold: 60}"), (),
     ["fdl.yaml:6: functions.aws[0].lambda.container.timeout_threshold: 60 must be lower than the function's "
      "timeout (60 s)"]),
    ("image-and-image-file", aws_fdl(container="{image: x, image_file: image.tar}"), ("image.tar",),
     ["fdl.yaml:6: functions.aws[0].lambda.container.image_file: cannot be given together with container.image"]),
    ("neither-image-nor-image-file", aws_fdl(container="{}"), (),
     ["fdl.yaml: functions.aws[0].lambda.container.image: is required (or give container.image_file)"]),
    ("image-not-text", aws_fdl(container="{image: [a, b]}"), (),
     ["fdl.yaml:6: functions.aws[0].lambda.container.image: ['a', 'b'] must be a text value"]),
    ("missing-init-script", aws_fdl("init_script: missing.sh"), (),
     ["fdl.yaml:7: functions.aws[0].lambda.init_script: 'missing.sh' is not a file (looked for <cwd>/missing.sh)"]),
    ("missing-image-file", aws_fdl(container="{image_file: gone.tar}"), (),
     ["fdl.yaml:6: functions.aws[0].lambda.container.image_file: 'gone.tar' is not a file (looked for "
      "<cwd>/gone.tar)",
      "fdl.yaml: functions.aws[0].lambda.container.image: is required (or give container.image_file)"]),
    ("batch-vcpus-and-memory", aws_fdl(entry="batch:\n  vcpus: 0.1\n  memory: 2"), (),
     ["fdl.yaml:8: functions.aws[0].batch.vcpus: 0.1 must be at least 0.25 vCPUs",
      "fdl.yaml:9: functions.aws[0].batch.memory: 2 must be at least 4 MiB"]),
    ("compute-resources-type", aws_fdl(entry="batch:\n  compute_resources:\n    type: GPU"), (),
     ["fdl.yaml:9: functions.aws[0].batch.compute_resources.type: 'GPU' must be one of: EC2, SPOT, FARGATE, "
      "FARGATE_SPOT"]),
    ("compute-resources-not-a-mapping", aws_fdl(entry="batch:\n  compute_resources: EC2"), (),
     ["fdl.yaml:8: functions.aws[0].batch.compute_resources: 'EC2' must be a mapping of keys to values"]),
    ("desired-vcpus-above-max", aws_fdl(entry="batch:\n  compute_resources:\n    desired_v_cpus: 3"), (),
     ["fdl.yaml:9: functions.aws[0].batch.compute_resources.desired_v_cpus: 3 must be between min_v_cpus (0) and "
      "max_v_cpus (2)"]),
    ("invalid-yaml", aws_fdl("memory: [128, 256"), (),
     ["fdl.yaml:8: invalid YAML: expected ',' or ']', but got '<stream end>'"]),
    ("yaml-mapping-value", "functions:\n  aws:\n  - lambda: name: fn\n", (),
     ["fdl.yaml:3: invalid YAML: mapping values are not allowed here"]),
    ("top-level-unknown-key", aws_fdl(top="storage_provider: {}"), (),
     ["fdl.yaml:7: storage_provider: unknown key (did you mean 'storage_providers'?)"]),
    ("no-functions", "functons:\n  aws: []\n", (),
     ["fdl.yaml:1: functons: unknown key (did you mean 'functions'?)",
      "fdl.yaml: functions: defines no function (add functions.aws or functions.oscar entries)"]),
    ("functions-unknown-platform", aws_fdl(top="") + "  gcp: []\n", (),
     ["fdl.yaml:7: functions.gcp: unknown key (known keys: aws, oscar)"]),
    ("functions-typo", aws_fdl(top="") + "  oscr: []\n", (),
     ["fdl.yaml:7: functions.oscr: unknown key (did you mean 'oscar'?)"]),
    ("aws-not-a-list", "functions:\n  aws:\n    lambda: {name: fn}\n", (),
     ["fdl.yaml:2: functions.aws: must be a list of functions",
      "fdl.yaml:1: functions: defines no function (add functions.aws or functions.oscar entries)"]),
    ("not-a-mapping", "- just\n- a list\n", (),
     ["fdl.yaml: the FDL must be a mapping with a 'functions' key"]),
    ("oscar-service-without-endpoint", OSCAR_FDL, ("script.sh",),
     ["fdl.yaml: functions.oscar[0].other_cluster.endpoint: is required: set the cluster's endpoint in scar.cfg "
      "or in the FDL"]),
    ("oscar-service-bad-endpoint", OSCAR_FDL + "      endpoint: ftp://x\n", ("script.sh",),
     ["fdl.yaml:7: functions.oscar[0].other_cluster.endpoint: 'ftp://x' must be an http(s) URL"]),
    ("oscar-service-name", OSCAR_FDL.replace("name: svc", "name: My_Service") + "      endpoint: https://o\n",
     ("script.sh",),
     ["fdl.yaml:4: functions.oscar[0].other_cluster.name: 'My_Service' must be a DNS label (lowercase letters, "
      "digits, hyphens)"]),
    ("duplicate-function-names",
     aws_fdl() + f"  - {{iam: {{role: '{ROLE}'}}, lambda: {{name: fn, container: {{image: x}}}}}}\n", (),
     ["fdl.yaml: functions.aws: the name 'fn' is used by more than one function"]),
]


@pytest.mark.parametrize(("text", "files", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_exact_messages(scar, text, files, expected):
    Path("fdl.yaml").write_text(text, encoding="utf-8")
    for name in files:
        Path(name).write_text("x")
    result = scar("validate", "-f", "fdl.yaml", "-v")
    cwd = str(Path.cwd().resolve())
    assert result.code == 2
    assert result.stdout == ""
    assert errors(result.stderr) == [line.replace("<cwd>", cwd) for line in expected]


def test_the_fixture_fdl_is_valid(scar, write):
    write("fdl.yaml", aws_fdl())
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(f"{Path.cwd().resolve() / 'fdl.yaml'} is valid: 1 AWS function(s), 0 OSCAR")


@pytest.mark.parametrize("body", [
    "memory: 128", "memory: 10240", "timeout: 11", "timeout: 900", "ephemeral_storage: 10240",
    "log_level: debug", "memory: '1024'", "memory: 1024.0", "architectures: arm64",
    "layers:\n" + "".join(f"- {LAYER.format(n)}\n" for n in "abcd"),
    f"environment:\n  Variables:\n    BIG: {BIG[:-1]}",  # exactly 4096 bytes
    "input:\n- storage_provider: s3\n  path: /my.bucket-1/in/\n  suffix: png",
    "execution_mode: lambda", "region: eu-west-1", "description: ''",
])
def test_values_at_the_limits_are_accepted(scar, write, body):
    write("fdl.yaml", aws_fdl(body))
    result = scar("validate", "-f", "fdl.yaml")
    assert (result.code, errors(result.stderr)) == (0, [])


def test_values_are_normalised(load, write):
    write("fdl.yaml", aws_fdl("log_level: debug\nmemory: '1024'\narchitectures: arm64\n"
                              "input:\n- storage_provider: s3\n  path: /bucket/in/\n"))
    function = load("-f", "fdl.yaml").functions[0]
    assert function.lambda_.log_level == "DEBUG"
    assert function.lambda_.memory == 1024
    assert function.lambda_.architectures == ["arm64"]
    assert (function.lambda_.input[0].path, function.lambda_.input[0].bucket, function.lambda_.input[0].folder) \
        == ("bucket/in", "bucket", "in")


def test_every_problem_is_reported_not_just_the_first(scar, write):
    write("fdl.yaml", aws_fdl("memory: 64\ntimeout: 0\nlog_level: loud\nbogus: 1", role="nope",
                              container="{}", entry="batch:\n  memory: 1"))
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [
        "fdl.yaml:10: functions.aws[0].lambda.bogus: unknown key (known keys: architectures, asynchronous, "
        "c_args, container, deployment, description, environment, ephemeral_storage, execution_mode, extra_payload, "
        "file_system, init_script, input, invocation_type, layers, log_level, log_type, memory, name, output, "
        "preheat, run_script, runtime, supervisor, timeout, vpc)",
        "fdl.yaml:7: functions.aws[0].lambda.memory: 64 must be from 128 to 10240 MB",
        "fdl.yaml:8: functions.aws[0].lambda.timeout: 0 must be from 1 to 900 seconds",
        "fdl.yaml:9: functions.aws[0].lambda.log_level: 'loud' must be one of: DEBUG, INFO, WARNING, ERROR, "
        "CRITICAL",
        "fdl.yaml: functions.aws[0].lambda.container.image: is required (or give container.image_file)",
        "fdl.yaml:3: functions.aws[0].iam.role: 'nope' must be an IAM role ARN (arn:aws:iam::<12-digit account>:"
        "role/<name>)",
        "fdl.yaml:12: functions.aws[0].batch.memory: 1 must be at least 4 MiB",
    ]


def test_problems_of_several_functions_and_services_are_all_reported(scar, write):
    write("script.sh", "echo")
    write("fdl.yaml", """
        functions:
          aws:
          - iam: {role: "arn:aws:iam::123456789012:role/r"}
            lambda: {name: one, memory: 1, container: {image: x}}
          - iam: {role: "arn:aws:iam::123456789012:role/r"}
            lambda: {name: two, timeout: 1000, container: {image: x}}
          oscar:
          - other: {name: svc, image: x, script: script.sh, endpoint: "https://o", cpu: lots}
        storage_providers:
          minio:
            m: {verify: maybe}
        """)
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [
        "fdl.yaml: storage_providers.minio.m.endpoint: is required",
        "fdl.yaml:11: storage_providers.minio.m.verify: 'maybe' must be true or false",
        "fdl.yaml:4: functions.aws[0].lambda.memory: 1 must be from 128 to 10240 MB",
        "fdl.yaml:6: functions.aws[1].lambda.timeout: 1000 must be from 1 to 900 seconds",
        "fdl.yaml:8: functions.oscar[0].other.cpu: 'lots' must be a CPU quantity like 0.5 or 500m",
    ]


def test_every_item_of_a_list_is_checked(scar, write):
    write("fdl.yaml", aws_fdl("input:\n- bucket-a\n- {storage_provider: s3, path: B}\n- [x]"))
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [
        "fdl.yaml:8: functions.aws[0].lambda.input[0]: 'bucket-a' must be a mapping of keys to values",
        "fdl.yaml:9: functions.aws[0].lambda.input[1].path: 'B' must be BUCKET[/FOLDER] with a valid bucket name "
        "(3-63 lowercase letters, digits, dots or hyphens)",
        "fdl.yaml:10: functions.aws[0].lambda.input[2]: ['x'] must be a mapping of keys to values",
    ]


def test_yaml_anchors_and_merge_keys_share_settings(load, write):
    write("fdl.yaml", f"""
        functions:
          aws:
          - iam: {{role: "{ROLE}"}}
            lambda: &common
              name: fn1
              memory: 2048
              container: {{image: grycap/cowsay}}
          - iam: {{role: "{ROLE}"}}
            lambda:
              <<: *common
              name: fn2
        """)
    functions = load("-f", "fdl.yaml", deploying=True).functions
    assert [(f.name, f.lambda_.memory, f.lambda_.container.image) for f in functions] == [
        ("fn1", 2048, "grycap/cowsay"), ("fn2", 2048, "grycap/cowsay")]


def test_the_default_oscar_cluster_without_endpoint_is_one_problem(scar, write, cfg_file):
    write("script.sh", "echo")
    write("fdl.yaml", "functions:\n  oscar:\n  - my_oscar: {name: svc, image: x, script: script.sh}\n")
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [
        f"{cfg_file}: oscar.my_oscar.endpoint: is required: set the cluster's endpoint in scar.cfg or in the FDL"]


def test_the_oscar_cluster_settings_of_scar_cfg_apply(load, write, write_cfg):
    write_cfg({"oscar": {"my_oscar": {"endpoint": "https://cluster", "auth_user": "u", "auth_password": "p",
                                      "memory": "1Gi"}}})
    write("script.sh", "echo")
    write("fdl.yaml", "functions:\n  oscar:\n  - my_oscar: {name: svc, image: x, script: script.sh, cpu: '1'}\n")
    service = load("-f", "fdl.yaml").oscar_services[0]
    assert (service.endpoint, service.auth_user, service.memory, service.cpu) == ("https://cluster", "u", "1Gi", "1")
    assert service.script == Path.cwd().resolve() / "script.sh"


def test_problems_as_json(scar, write):
    write("fdl.yaml", aws_fdl("memory: 64\ntimeout: 0"))
    result = scar("-j", "validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert json.loads(result.stdout) == {"Error": {
        "Type": "ConfigError", "ExitCode": 2,
        "Message": "fdl.yaml:7: functions.aws[0].lambda.memory: 64 must be from 128 to 10240 MB\n"
                   "fdl.yaml:8: functions.aws[0].lambda.timeout: 0 must be from 1 to 900 seconds"}}
    assert len(errors(result.stderr)) == 2


# ---- secrets ------------------------------------------------------------------------------------------


def test_secrets_are_never_shown(scar, write):
    write("script.sh", "echo")
    write("fdl.yaml", f"""
        functions:
          aws:
          - iam: {{role: "{ROLE}"}}
            lambda:
              name: fn
              container: {{image: x}}
              input:
              - {{storage_provider: s3.mine, path: bucket/in}}
          oscar:
          - my_oscar:
              name: svc
              image: x
              script: script.sh
              endpoint: https://oscar.example.com
              auth_password: [TOPSECRET-1]
        storage_providers:
          s3:
            mine:
              access_key: [TOPSECRET-2]
              secret_key: {{value: TOPSECRET-3}}
          minio:
            listed:
            - endpoint: https://minio.example.com
              secret_key: TOPSECRET-4
          onedata:
            od: {{oneprovider_host: h, space: s, token: {{t: TOPSECRET-5}}}}
        """)
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert "TOPSECRET" not in result.stderr + result.stdout
    assert errors(result.stderr) == [
        "fdl.yaml:19: storage_providers.s3.mine.access_key: (hidden) must be a text value",
        "fdl.yaml:20: storage_providers.s3.mine.secret_key: (hidden) must be a text value",
        "fdl.yaml:22: storage_providers.minio.listed: (hidden) must be a mapping of keys to values",
        "fdl.yaml:26: storage_providers.onedata.od.token: (hidden) must be a text value",
        "fdl.yaml:15: functions.oscar[0].my_oscar.auth_password: (hidden) must be a text value",
    ]


def test_a_secret_in_scar_cfg_is_not_shown_either(scar, write, write_cfg):
    cfg = write_cfg({"oscar": {"my_oscar": {"endpoint": "https://o", "auth_password": {"p": "TOPSECRET"}}}})
    write("script.sh", "echo")
    write("fdl.yaml", """
        functions:
          oscar:
          - my_oscar: {name: svc, image: x, script: script.sh}
        """)
    result = scar("validate", "-f", "fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [f"{cfg}: oscar.my_oscar.auth_password: (hidden) must be a text value"]


# ---- relative paths -------------------------------------------------------------------------------------


def test_fdl_paths_are_relative_to_the_fdl_folder(load, write):
    write("sub/init.sh", "echo")
    write("sub/image.tar", "tar")
    write("sub/payload/file.txt", "x")
    write("sub/fdl.yaml", aws_fdl("init_script: init.sh\nextra_payload: payload", container="{image_file: image.tar}"))
    function = load("-f", "sub/fdl.yaml").functions[0]
    folder = Path.cwd().resolve() / "sub"
    assert function.lambda_.init_script == folder / "init.sh"
    assert function.lambda_.container.image_file == folder / "image.tar"
    assert function.lambda_.extra_payload == folder / "payload"


def test_a_missing_fdl_path_is_looked_for_in_the_fdl_folder(scar, write):
    write("init.sh", "echo")  # in the working directory: not where the FDL says
    write("sub/fdl.yaml", aws_fdl("init_script: init.sh"))
    result = scar("validate", "-f", "sub/fdl.yaml")
    assert result.code == 2
    assert errors(result.stderr) == [
        f"sub/fdl.yaml:7: functions.aws[0].lambda.init_script: 'init.sh' is not a file (looked for "
        f"{Path.cwd().resolve() / 'sub' / 'init.sh'})"]


def test_command_line_paths_are_relative_to_the_working_directory(load, write):
    write("init.sh", "echo")
    write("image.tar", "tar")
    write("sub/fdl.yaml", aws_fdl(container="{}"))
    function = load("-f", "sub/fdl.yaml", "-s", "init.sh", "-if", "image.tar").functions[0]
    assert function.lambda_.init_script == Path.cwd().resolve() / "init.sh"
    assert function.lambda_.container.image_file == Path.cwd().resolve() / "image.tar"


def test_a_missing_command_line_path_is_looked_for_in_the_working_directory(scar, write):
    write("sub/init.sh", "echo")
    write("sub/fdl.yaml", aws_fdl())
    result = scar("validate", "-f", "sub/fdl.yaml", "-s", "init.sh", "-ep", "nothing")
    assert result.code == 2
    cwd = Path.cwd().resolve()
    assert errors(result.stderr) == [
        f"command line: -s/--init-script: 'init.sh' is not a file (looked for {cwd / 'init.sh'})",
        f"command line: -ep/--extra-payload: 'nothing' does not exist (looked for {cwd / 'nothing'})",
    ]


def test_scar_cfg_paths_are_relative_to_its_folder(load, write, write_cfg, cfg_file):
    write_cfg({"aws": {"lambda": {"init_script": "init.sh"}}})
    (cfg_file.parent / "init.sh").write_text("echo")
    write("fdl.yaml", aws_fdl())
    assert load("-f", "fdl.yaml").functions[0].lambda_.init_script == cfg_file.parent.resolve() / "init.sh"


# ---- output ---------------------------------------------------------------------------------------------


def test_valid_fdl_json_summary(scar, write):
    write("script.sh", "echo")
    write("fdl.yaml", aws_fdl("memory: 1024\ninput:\n- {storage_provider: s3, path: in-bucket/x}",
                              entry="region: eu-west-1")
          + "  oscar:\n  - other: {name: svc, image: img, script: script.sh, endpoint: 'https://o'}\n")
    result = scar("-j", "validate", "-f", "fdl.yaml")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document == {
        "File": str(Path.cwd().resolve() / "fdl.yaml"),
        "Valid": True,
        "Functions": [{"Name": "fn", "Region": "eu-west-1", "Image": "grycap/cowsay", "Memory": 1024,
                       "Timeout": 300, "ExecutionMode": "lambda", "Input": ["in-bucket/x"], "Output": []}],
        "Services": [{"Name": "svc", "Image": "img", "Endpoint": "https://o", "Memory": "256Mi", "CPU": "0.2"}],
    }


def test_missing_fdl_file(scar):
    result = scar("validate", "-f", "nothing.yaml")
    assert result.code == 2
    assert errors(result.stderr) == ["nothing.yaml: no such file"]


def test_validate_requires_f(scar):
    result = scar("validate")
    assert result.code == 2
    assert "the following arguments are required: -f/--conf-file" in result.stderr

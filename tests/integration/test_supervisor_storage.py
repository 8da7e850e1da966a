"""The supervisor's storage staging against moto server over HTTP: an S3 (or MinIO) notification downloads the
object, the DirectRunner runs a /bin/sh init script on this machine, and its output files are uploaded with
the output's filters and the folder layout kept. boto3 reaches moto through AWS_ENDPOINT_URL (`cloud`)."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from scar.supervisor.config import load_config
from scar.supervisor.response import RequestInfo
from scar.supervisor.runners import DirectRunner
from scar.supervisor.storage import Storage
from scar.supervisor.supervisor import Supervisor

REQUEST = RequestInfo("req-s3", "/aws/lambda/fn", "stream")

PROCESS = """set -e
mkdir -p "$TMP_OUTPUT_DIR/sub"
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/upper.txt"
wc -c < "$INPUT_FILE_PATH" | tr -d ' ' > "$TMP_OUTPUT_DIR/sub/count.log"
echo "processed $STORAGE_OBJECT_KEY"
"""


def record(bucket: str, key: str, source: str = "aws:s3") -> dict[str, Any]:
    return {"eventVersion": "2.1", "eventSource": source, "awsRegion": "us-east-1",
            "eventTime": "2024-05-01T12:00:00.000Z", "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                   "object": {"key": key, "size": 11}}}


def notification(*keys: str, bucket: str = "in-bucket", source: str = "aws:s3") -> dict[str, Any]:
    return {"Records": [record(bucket, key, source) for key in keys]}


def objects(s3: Any, bucket: str) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listing}


def body(document: dict[str, Any]) -> bytes:
    return base64.b64decode(document["body"])


@pytest.fixture
def buckets(s3: Any) -> Any:
    for name in ("in-bucket", "out-bucket"):
        s3.create_bucket(Bucket=name)
    s3.put_object(Bucket="in-bucket", Key="input/data.txt", Body=b"hello world")
    return s3


@pytest.fixture
def supervisor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`supervisor(script, outputs, **config)`: a Supervisor with that init script, the DirectRunner and real
    boto3 storage; per-request folders go under tmp_path/tmp."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    def build(script: str, outputs: list[dict[str, Any]], **config: Any) -> Supervisor:
        task = tmp_path / "task"
        task.mkdir(exist_ok=True)
        (task / "init.sh").write_text(script)
        data = {"name": "fn", "init_script": "init.sh", "container": {"timeout_threshold": 1},
                "input": [{"storage_provider": "s3", "path": "in-bucket/input"}], "output": outputs, **config}
        (task / "function_config.yaml").write_text(json.dumps(data))
        loaded = load_config(task / "function_config.yaml")
        return Supervisor(loaded, DirectRunner(), Storage(loaded))

    return build


def test_outputs_are_uploaded_with_their_layout(buckets: Any, supervisor: Any, tmp_path: Path) -> None:
    run = supervisor(PROCESS, [{"storage_provider": "s3", "path": "out-bucket/results"}])
    document = run.handle(notification("input/data.txt"), REQUEST, None)
    assert document["statusCode"] == 200, body(document)
    assert body(document) == b"processed input/data.txt\n"
    assert objects(buckets, "out-bucket") == {"results/upper.txt": b"HELLO WORLD", "results/sub/count.log": b"11\n"}
    assert list((tmp_path / "tmp").iterdir()) == []


def test_url_encoded_key_and_two_records(buckets: Any, supervisor: Any) -> None:
    buckets.put_object(Bucket="in-bucket", Key="input/my file+1.txt", Body=b"second one")
    script = 'set -e; cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/copy-$(basename "$INPUT_FILE_PATH")"\n' \
             'echo "got $STORAGE_OBJECT_KEY"\n'
    run = supervisor(script, [{"storage_provider": "s3", "path": "out-bucket"}])
    document = run.handle(notification("input/data.txt", "input/my+file%2B1.txt"), REQUEST, None)
    assert document["statusCode"] == 200, body(document)
    assert body(document) == b"got input/data.txt\ngot input/my file+1.txt\n"
    assert objects(buckets, "out-bucket") == {"copy-data.txt": b"hello world", "copy-my file+1.txt": b"second one"}


def test_output_filters(buckets: Any, supervisor: Any) -> None:
    script = PROCESS + 'echo extra > "$TMP_OUTPUT_DIR/sub/extra.txt"\necho top > "$TMP_OUTPUT_DIR/notes.md"\n'
    outputs = [{"storage_provider": "s3", "path": "out-bucket/text", "suffix": [".txt"]},
               {"storage_provider": "s3", "path": "out-bucket/sub-only", "prefix": ["sub/"]},
               {"storage_provider": "s3", "path": "out-bucket/both", "prefix": ["sub/"], "suffix": [".log"]}]
    document = supervisor(script, outputs).handle(notification("input/data.txt"), REQUEST, None)
    assert document["statusCode"] == 200, body(document)
    assert sorted(objects(buckets, "out-bucket")) == [
        "both/sub/count.log",
        "sub-only/sub/count.log", "sub-only/sub/extra.txt",
        "text/sub/extra.txt", "text/upper.txt",
    ]


def test_missing_input_object_is_a_500_document(buckets: Any, supervisor: Any) -> None:
    run = supervisor('echo ran > "$TMP_OUTPUT_DIR/ran.txt"\n', [{"storage_provider": "s3", "path": "out-bucket"}])
    document = run.handle(notification("input/missing.txt"), REQUEST, None)
    assert document["statusCode"] == 500
    answer = json.loads(body(document))
    assert answer["error"].startswith("cannot download s3://in-bucket/input/missing.txt: ")
    assert "404" in answer["error"] or "Not Found" in answer["error"]
    assert "Traceback" not in answer["error"]
    assert objects(buckets, "out-bucket") == {}  # nothing ran


def test_missing_output_bucket_is_a_500_document(buckets: Any, supervisor: Any) -> None:
    run = supervisor(PROCESS, [{"storage_provider": "s3", "path": "no-such-bucket/results"}])
    document = run.handle(notification("input/data.txt"), REQUEST, None)
    assert document["statusCode"] == 500
    error = json.loads(body(document))["error"]
    assert error.startswith("cannot upload ") and "s3://no-such-bucket/results/" in error
    assert "NoSuchBucket" in error


def test_links_in_the_output_folder_are_not_uploaded(buckets: Any, supervisor: Any, tmp_path: Path) -> None:
    host = tmp_path / "host"
    (host / "secrets").mkdir(parents=True)
    (host / "secret.txt").write_text("host secret")
    (host / "secrets" / "key.pem").write_text("host key")
    script = f"""set -e
ln -s "{host}/secret.txt" "$TMP_OUTPUT_DIR/leak.txt"
ln -s "{host}/secrets" "$TMP_OUTPUT_DIR/leak-dir"
echo mine > "$TMP_OUTPUT_DIR/real.txt"
"""
    run = supervisor(script, [{"storage_provider": "s3", "path": "out-bucket/results"}])
    document = run.handle(notification("input/data.txt"), REQUEST, None)
    assert document["statusCode"] == 200, body(document)
    assert objects(buckets, "out-bucket") == {"results/real.txt": b"mine\n"}


def test_nothing_is_uploaded_when_the_script_fails(buckets: Any, supervisor: Any) -> None:
    run = supervisor(PROCESS + "exit 2\n", [{"storage_provider": "s3", "path": "out-bucket"}])
    document = run.handle(notification("input/data.txt"), REQUEST, None)
    assert (document["statusCode"], json.loads(body(document))["exit_code"]) == (500, 2)
    assert objects(buckets, "out-bucket") == {}


def test_minio_provider_with_its_endpoint(buckets: Any, supervisor: Any, cloud: str) -> None:
    """A MinIO notification uses the configured minio provider of that bucket (moto plays MinIO here)."""
    providers = {"minio": {"local": {"endpoint": cloud, "verify": False}}}
    run = supervisor(PROCESS, [{"storage_provider": "minio.local", "path": "out-bucket/from-minio"}],
                     input=[{"storage_provider": "minio.local", "path": "in-bucket/input"}],
                     storage_providers=providers)
    document = run.handle(notification("input%2Fdata.txt", source="minio:s3"), REQUEST, None)
    assert document["statusCode"] == 200, body(document)
    assert sorted(objects(buckets, "out-bucket")) == ["from-minio/sub/count.log", "from-minio/upper.txt"]

"""`scar put`, `scar get` and `scar ls -b` through the CLI entry point against moto server over HTTP."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "a.txt": b"alpha\n",
        "sub/b.bin": os.urandom(3000),
        "sub/deeper/c.txt": b"gamma",
        "space name.txt": b"with a space",
    }
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


def keys(s3, bucket: str) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listing}


def test_put_tree_keeps_layout_and_creates_bucket(scar, s3, tmp_path):
    files = make_tree(tmp_path / "src")
    result = scar("put", "-b", "data-bucket/input/run1", "-p", tmp_path / "src")
    assert result.code == 0, result.stderr
    assert "created bucket 'data-bucket'" in result.stderr
    assert result.stdout.startswith("Uploaded 4 file(s)")
    assert keys(s3, "data-bucket") == {f"input/run1/{k}": v for k, v in files.items()}


def test_put_single_file_to_bucket_root(scar, s3, tmp_path):
    (tmp_path / "one.txt").write_text("one")
    s3.create_bucket(Bucket="existing-bucket")
    result = scar("put", "-b", "existing-bucket", "-p", tmp_path / "one.txt")
    assert result.code == 0, result.stderr
    assert "created bucket" not in result.stderr
    assert keys(s3, "existing-bucket") == {"one.txt": b"one"}


def test_put_creates_bucket_with_location_constraint_outside_us_east_1(scar, s3, tmp_path):
    (tmp_path / "f").write_text("x")
    result = scar("--region", "eu-west-1", "put", "-b", "eu-bucket", "-p", tmp_path / "f")
    assert result.code == 0, result.stderr
    assert s3.get_bucket_location(Bucket="eu-bucket")["LocationConstraint"] == "eu-west-1"


def test_put_multipart_large_file(scar, s3, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    result = scar("put", "-b", "big-bucket", "-p", big, "--chunk-size", "5")
    assert result.code == 0, result.stderr
    head = s3.head_object(Bucket="big-bucket", Key="big.bin")
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].strip('"').endswith("-3")  # uploaded in three 5 MiB parts


def test_put_json_is_one_document(scar, cloud, tmp_path):
    make_tree(tmp_path / "src")
    result = scar("put", "-b", "json-bucket/x", "-p", tmp_path / "src", "-j")
    assert result.code == 0
    document = json.loads(result.stdout)
    assert document["Bucket"] == "json-bucket"
    assert sorted(f["Key"] for f in document["Uploaded"]) == [
        "x/a.txt", "x/space name.txt", "x/sub/b.bin", "x/sub/deeper/c.txt"]
    assert document["Failed"] == []


def test_put_missing_path_is_bad_input(scar, cloud, s3, tmp_path):
    result = scar("put", "-b", "never-created", "-p", tmp_path / "nope")
    assert result.code == 2
    assert result.stderr.strip() == f"scar: error: command line: -p/--path: '{tmp_path / 'nope'}' does not exist"
    assert "never-created" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_put_reports_each_failed_file_and_exits_1(scar, cloud, s3, tmp_path, monkeypatch):
    src = tmp_path / "src"
    make_tree(src)
    (src / "locked.txt").write_text("secret")
    # Mock: tests run as root, who can read any file, and no emulator can make a local read fail;
    # so the local read of this one (small) file fails as it would for an unreadable file.
    from scar.aws import small_objects

    real_read = small_objects.read_file

    def failing_read(path):
        if str(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(small_objects, "read_file", failing_read)
    result = scar("put", "-b", "partial-bucket", "-p", src)
    assert result.code == 1
    assert "Uploaded 4 file(s)" in result.stdout and "1 failed" in result.stdout
    assert "scar: error: 1 file(s) failed:" in result.stderr
    assert f"scar: error: {src / 'locked.txt'}: Permission denied" in result.stderr
    assert sorted(keys(s3, "partial-bucket")) == ["a.txt", "space name.txt", "sub/b.bin", "sub/deeper/c.txt"]


def test_put_bad_bucket_name(scar, cloud, tmp_path):
    (tmp_path / "f").write_text("x")
    result = scar("put", "-b", "Bad_Bucket", "-p", tmp_path / "f")
    assert result.code == 2
    assert "-b/--bucket: 'Bad_Bucket' must be BUCKET[/FOLDER]" in result.stderr


def test_get_folder_keeps_layout_relative_to_prefix(scar, s3, tmp_path):
    s3.create_bucket(Bucket="out-bucket")
    s3.put_object(Bucket="out-bucket", Key="out/r1.txt", Body=b"one")
    s3.put_object(Bucket="out-bucket", Key="out/sub/r2.txt", Body=b"two")
    s3.put_object(Bucket="out-bucket", Key="output2/not-me.txt", Body=b"no")  # sibling folder: not matched
    s3.put_object(Bucket="out-bucket", Key="out/marker/", Body=b"")  # folder marker: skipped
    dest = tmp_path / "dest"
    result = scar("get", "-b", "out-bucket/out", "-p", dest)
    assert result.code == 0, result.stderr
    got = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert got == ["r1.txt", "sub/r2.txt"]
    assert (dest / "sub/r2.txt").read_bytes() == b"two"


def test_get_prefix_is_a_folder_not_a_string_prefix(scar, s3, tmp_path):
    s3.create_bucket(Bucket="prefix-bucket")
    s3.put_object(Bucket="prefix-bucket", Key="input2/x.txt", Body=b"x")
    result = scar("get", "-b", "prefix-bucket/in", "-p", tmp_path / "d")
    assert result.code == 0
    assert "no objects in s3://prefix-bucket/in/" in result.stderr
    assert not any((tmp_path / "d").rglob("*.txt"))


def test_get_single_object(scar, s3, tmp_path):
    s3.create_bucket(Bucket="single-bucket")
    s3.put_object(Bucket="single-bucket", Key="results/today/report.csv", Body=b"a,b\n")
    result = scar("get", "-b", "single-bucket/results/today/report.csv", "-p", tmp_path / "d")
    assert result.code == 0, result.stderr
    assert (tmp_path / "d" / "report.csv").read_bytes() == b"a,b\n"


def test_get_refuses_keys_that_escape_the_destination(scar, s3, tmp_path):
    s3.create_bucket(Bucket="evil-bucket")
    s3.put_object(Bucket="evil-bucket", Key="ok.txt", Body=b"fine")
    s3.put_object(Bucket="evil-bucket", Key="../escaped.txt", Body=b"bad")
    s3.put_object(Bucket="evil-bucket", Key="a/../../escaped2.txt", Body=b"bad")
    s3.put_object(Bucket="evil-bucket", Key="//etc/escaped3.txt", Body=b"bad")
    dest = tmp_path / "inside" / "dest"
    result = scar("get", "-b", "evil-bucket", "-p", dest)
    assert result.code == 1
    assert (dest / "ok.txt").read_bytes() == b"fine"
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and "home" not in p.parts}
    assert written == {"inside/dest/ok.txt"}
    for key in ("../escaped.txt", "a/../../escaped2.txt", "//etc/escaped3.txt"):
        assert f"{key}: refused" in result.stderr


def test_get_refuses_to_follow_a_link_out_of_the_destination(scar, s3, tmp_path):
    s3.create_bucket(Bucket="link-bucket")
    s3.put_object(Bucket="link-bucket", Key="sub/file.txt", Body=b"data")
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    result = scar("get", "-b", "link-bucket", "-p", dest)
    assert result.code == 1
    assert "sub/file.txt: refused" in result.stderr
    assert not (outside / "file.txt").exists()


def test_get_failure_leaves_no_partial_file(scar, s3, tmp_path):
    s3.create_bucket(Bucket="clash-bucket")
    s3.put_object(Bucket="clash-bucket", Key="x", Body=b"file")
    s3.put_object(Bucket="clash-bucket", Key="x/y", Body=b"nested")  # x cannot be a file and a folder
    dest = tmp_path / "d"
    result = scar("get", "-b", "clash-bucket", "-p", dest)
    assert result.code == 1
    assert "1 file(s) failed" in result.stderr
    leftovers = [p.name for p in dest.rglob("*") if p.is_file() and p.name not in ("x", "y")]
    assert leftovers == []


def test_get_missing_bucket(scar, cloud, tmp_path):
    result = scar("get", "-b", "no-such-bucket", "-p", tmp_path)
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == "scar: error: bucket 'no-such-bucket' does not exist"


def test_round_trip_put_then_get(scar, cloud, tmp_path):
    files = make_tree(tmp_path / "src")
    assert scar("put", "-b", "trip-bucket/data", "-p", tmp_path / "src").code == 0
    assert scar("get", "-b", "trip-bucket/data", "-p", tmp_path / "back").code == 0
    for relative, content in files.items():
        assert (tmp_path / "back" / relative).read_bytes() == content


def test_ls_bucket_folder_table_and_json(scar, s3):
    s3.create_bucket(Bucket="list-bucket")
    s3.put_object(Bucket="list-bucket", Key="in/a.txt", Body=b"12345")
    s3.put_object(Bucket="list-bucket", Key="in/deep/b.txt", Body=b"1")
    s3.put_object(Bucket="list-bucket", Key="input2/c.txt", Body=b"1")
    text = scar("ls", "-b", "list-bucket/in")
    assert text.code == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["KEY", "SIZE", "LAST_MODIFIED"]
    assert [line.split()[0] for line in lines[2:]] == ["in/a.txt", "in/deep/b.txt"]
    assert "5 B" in lines[2]
    document = json.loads(scar("ls", "-b", "list-bucket/in", "-j").stdout)
    assert [(o["Key"], o["Size"]) for o in document["Objects"]] == [("in/a.txt", 5), ("in/deep/b.txt", 1)]


def test_ls_paginates_past_1000_keys(scar, s3):
    s3.create_bucket(Bucket="many-bucket")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="many-bucket", Key=f"k/{i:05d}", Body=b""), range(1005)))
    document = json.loads(scar("-j", "ls", "-b", "many-bucket/k").stdout)
    assert len(document["Objects"]) == 1005


def test_ls_missing_bucket_json_error(scar, cloud):
    result = scar("ls", "-b", "absent-bucket", "-j")
    assert result.code == 1
    assert json.loads(result.stdout)["Error"]["Message"] == "bucket 'absent-bucket' does not exist"


def test_round_trip_of_small_and_large_files_in_one_run(scar, cloud, s3, tmp_path):
    """Small files (one request each) and a large one (s3transfer, multipart) in the same put and get: every
    file arrives intact, the JSON lists them in the order of the plan, and no temporary file is left."""
    files = make_tree(tmp_path / "src")
    large = os.urandom(6 * 1024 * 1024 + 1)  # above the small-file limit and the 5 MiB chunk
    (tmp_path / "src" / "m" / "large.bin").parent.mkdir()
    (tmp_path / "src" / "m" / "large.bin").write_bytes(large)
    files["m/large.bin"] = large
    put = scar("-j", "put", "-b", "mixed-bucket/data", "-p", tmp_path / "src", "--chunk-size", "5")
    assert put.code == 0, put.stderr
    assert [entry["Key"] for entry in json.loads(put.stdout)["Uploaded"]] == [
        "data/a.txt", "data/space name.txt", "data/m/large.bin", "data/sub/b.bin", "data/sub/deeper/c.txt"]
    get = scar("get", "-b", "mixed-bucket/data", "-p", tmp_path / "back", "--chunk-size", "5")
    assert get.code == 0, get.stderr
    found = {p.relative_to(tmp_path / "back").as_posix(): p.read_bytes()
             for p in (tmp_path / "back").rglob("*") if p.is_file()}
    assert found == files

"""The pure parts of the AWS resource kinds: credential digests, the policy as the record of wired buckets,
content-addressed package keys."""

from __future__ import annotations

import hashlib

from scar.aws.kinds.package_object import PREFIX, package_key
from scar.aws.kinds.parameter import DESCRIPTION, digest, matches
from scar.aws.kinds.permission import S3_PREFIX, _as_wanted, statement_id, wired_buckets

SECRET = '{"access_key": "AKIA-EXAMPLE", "secret_key": "s3cr3t-value"}'


def test_digest_is_salted_and_never_holds_the_value() -> None:
    first, second = digest(SECRET), digest(SECRET)
    assert first != second  # a fresh salt each time: equal secrets do not show as equal digests
    assert first.startswith("pbkdf2-sha256:100000:")
    assert "s3cr3t" not in first and "AKIA" not in first
    _, iterations, salt, derived = first.split(":")
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(derived)) == 32
    expected = hashlib.pbkdf2_hmac("sha256", SECRET.encode(), bytes.fromhex(salt), int(iterations)).hex()
    assert derived == expected
    assert digest(SECRET, b"\x00" * 16) == digest(SECRET, b"\x00" * 16)


def test_matches_the_value_it_was_made_from_only() -> None:
    description = f"{DESCRIPTION} {digest(SECRET)}"
    assert matches(SECRET, description)
    assert not matches(SECRET + " ", description)
    assert not matches('{"access_key": "AKIA-EXAMPLE", "secret_key": "other"}', description)
    assert not matches("", description)


def test_matches_refuses_malformed_descriptions() -> None:
    good = digest(SECRET, b"\x01" * 16)
    algorithm, iterations, salt, derived = good.split(":")
    assert matches(SECRET, good)  # the digest alone is a description too (the last word counts)
    for bad in ["", DESCRIPTION, "storage credentials of a scar function pbkdf2-sha256",
                f"md5:{iterations}:{salt}:{derived}",
                f"{algorithm}:many:{salt}:{derived}",
                f"{algorithm}:{iterations}:not-hex:{derived}",
                f"{algorithm}:{iterations}:{salt}",
                f"{algorithm}:{iterations}:{salt}:{derived}:extra",
                f"{algorithm}:{iterations}:{salt}:{derived[:-2]}",
                f"{good} trailing-word"]:
        assert not matches(SECRET, bad), bad


def test_a_different_iteration_count_is_honoured() -> None:
    salt = b"\x02" * 16
    derived = hashlib.pbkdf2_hmac("sha256", SECRET.encode(), salt, 1000).hex()
    assert matches(SECRET, f"{DESCRIPTION} pbkdf2-sha256:1000:{salt.hex()}:{derived}")
    assert not matches(SECRET, f"{DESCRIPTION} pbkdf2-sha256:1001:{salt.hex()}:{derived}")


def test_wired_buckets_come_from_scars_statements_only() -> None:
    statements = {statement_id("in-b"): {}, statement_id("in-a"): {}, "other-statement": {},
                  "scar-s3": {}, f"x{S3_PREFIX}in-c": {},
                  statement_id("a-very-long-bucket-name-" + "x" * 40): {}}
    assert wired_buckets(statements) == ["a-very-long-bucket-name-" + "x" * 40, "in-a", "in-b"]
    assert wired_buckets({}) == []
    many = {statement_id(f"bucket-{n:03}"): {} for n in range(60)}  # far beyond a 256-character tag
    assert wired_buckets(many) == sorted(f"bucket-{n:03}" for n in range(60))


def test_a_policy_statement_in_the_shape_of_the_wanted_permission() -> None:
    statement = {"Sid": statement_id("in"), "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                 "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                 "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                               "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::in"}}}
    assert _as_wanted(statement) == {"Principal": "s3.amazonaws.com", "SourceArn": "arn:aws:s3:::in",
                                     "SourceAccount": "123456789012"}
    assert _as_wanted({"Principal": "s3.amazonaws.com"}) == {"Principal": "s3.amazonaws.com", "SourceArn": None,
                                                            "SourceAccount": None}


def test_package_keys_are_content_addressed_and_stable() -> None:
    key = package_key("fn", b"zip bytes")
    assert key == f"scar/fn/function-{hashlib.sha256(b'zip bytes').hexdigest()[:16]}.zip"
    assert key.startswith(PREFIX.format(function="fn"))
    assert package_key("fn", b"zip bytes") == key
    assert package_key("fn", b"other bytes") != key
    assert package_key("fn2", b"zip bytes") == key.replace("scar/fn/", "scar/fn2/")

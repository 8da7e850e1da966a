"""OSCAR services end to end against devtools.oscar_server, which checks every request against OSCAR's
OpenAPI description: init (create, no-op, update, dry run, rollback), rm, ls across clusters, run and log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.oscar_server import OscarServer
from tests.integration.conftest import write_fdl

USER, PASSWORD = "alice", "alice-pw-0123456789"
OIDC = "oidc-token-abcdef0123456789"
STORAGE_SECRET = "minio-secret-9876543210"


@pytest.fixture
def oscar() -> Iterator[OscarServer]:
    """A local OSCAR API (basic user alice, one OIDC token); no request may break the OpenAPI description."""
    with OscarServer(users={USER: PASSWORD}, tokens=(OIDC,)) as server:
        yield server
    assert server.problems == []


@pytest.fixture
def second_oscar() -> Iterator[OscarServer]:
    with OscarServer(users={USER: PASSWORD}, tokens=(OIDC,)) as server:
        yield server
    assert server.problems == []


def configure(home: Path, **clusters: dict) -> Path:
    """scar.cfg's `oscar` section (kept beside whatever else scar.cfg already holds)."""
    config = home / ".scar" / "scar.cfg"
    config.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(config.read_text()) if config.exists() else {"scar": {"config_version": "2.0.0"}}
    data["oscar"] = clusters
    config.write_text(json.dumps(data))
    return config


def basic(server: OscarServer) -> dict:
    return {"endpoint": server.endpoint, "auth_user": USER, "auth_password": PASSWORD}


SERVICE_FDL = """
    functions:
      oscar:
      - c1:
          name: plants
          image: grycap/plants
          script: plants.sh
          memory: 1Gi
          cpu: '0.5'
          environment: {Variables: {MODE: fast}}
          input: [{storage_provider: minio.store, path: plants/in, suffix: [jpg]}]
          output: [{storage_provider: minio.default, path: plants/out}]
    storage_providers:
      minio:
        store: {endpoint: "https://minio.example.org", access_key: AK, secret_key: SECRET_HERE}
        unused: {endpoint: "https://other.example.org", access_key: AK2, secret_key: other-secret}
    """.replace("SECRET_HERE", STORAGE_SECRET)


@pytest.fixture
def fdl(tmp_path: Path) -> Path:
    (tmp_path / "plants.sh").write_text("#!/bin/sh\necho plants\n")
    return write_fdl(tmp_path, SERVICE_FDL)


def test_init_creates_the_service_with_a_schema_valid_body_and_no_cluster_credential(scar, oscar, isolated_env,
                                                                                      fdl):
    configure(isolated_env, c1=basic(oscar))
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    assert "plants (OSCAR c1): created" in result.stdout
    service = oscar.services["plants"]
    assert (service["image"], service["script"], service["memory"], service["cpu"]) == (
        "grycap/plants", "#!/bin/sh\necho plants\n", "1Gi", "0.5")
    assert service["environment"] == {"variables": {"MODE": "fast"}}
    assert service["input"] == [{"storage_provider": "minio.store", "path": "plants/in", "suffix": ["jpg"],
                                 "prefix": []}]
    assert list(service["storage_providers"]["minio"]) == ["store"]  # only what the service references
    for request in oscar.requests:
        assert PASSWORD.encode() not in request.body and b"auth_password" not in request.body
        assert request.auth == f"basic {USER}"
    for text in (result.stdout, result.stderr):
        assert PASSWORD not in text and STORAGE_SECRET not in text


def test_re_init_of_an_unchanged_service_writes_nothing_and_a_change_is_one_put(scar, oscar, isolated_env, fdl):
    configure(isolated_env, c1=basic(oscar))
    assert scar("init", "-f", fdl).code == 0
    writes = len(oscar.writes_to_services())
    again = scar("init", "-f", fdl)
    assert again.code == 0, again.stderr
    assert "plants (OSCAR c1): up to date" in again.stdout
    assert len(oscar.writes_to_services()) == writes
    fdl.write_text(fdl.read_text().replace("memory: 1Gi", "memory: 2Gi"))
    changed = scar("init", "-f", fdl)
    assert changed.code == 0, changed.stderr
    assert "memory 1Gi → 2Gi" in changed.stdout and "plants (OSCAR c1): updated" in changed.stdout
    assert [r.method for r in oscar.writes_to_services()[writes:]] == ["PUT"]
    assert oscar.services["plants"]["memory"] == "2Gi"


def test_dry_run_shows_the_plan_and_writes_nothing(scar, oscar, isolated_env, fdl):
    configure(isolated_env, c1=basic(oscar))
    result = scar("-j", "-v", "init", "-f", fdl, "--dry-run")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    (service,) = document["Services"]
    assert (service["Name"], service["Cluster"], service["Result"]) == ("plants", "c1", "would be created")
    assert service["Steps"][0]["Calls"][0]["Operation"] == "POST /system/services"
    assert oscar.writes_to_services() == [] and oscar.services == {}
    assert STORAGE_SECRET not in result.stdout


def test_bearer_auth_uses_the_oidc_token(scar, oscar, isolated_env, fdl):
    configure(isolated_env, c1={"endpoint": oscar.endpoint, "oidc_token": OIDC})
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    assert {r.auth for r in oscar.requests} == {"bearer"}
    assert all(OIDC.encode() not in r.body for r in oscar.requests)


def test_wrong_credentials_fail_naming_cluster_call_and_status(scar, oscar, isolated_env, fdl):
    configure(isolated_env, c1={**basic(oscar), "auth_password": "wrong-password"})
    result = scar("init", "-f", fdl)
    assert result.code == 1
    assert "OSCAR cluster c1: GET /system/services/plants: HTTP 401" in result.stderr
    assert "wrong-password" not in result.stderr + result.stdout


@pytest.mark.parametrize("first_run", ["create", "update"])
def test_a_failed_write_leaves_the_cluster_as_it_was(scar, oscar, isolated_env, fdl, first_run):
    configure(isolated_env, c1=basic(oscar))
    if first_run == "update":
        assert scar("init", "-f", fdl).code == 0
        fdl.write_text(fdl.read_text().replace("memory: 1Gi", "memory: 2Gi"))
    before = oscar.snapshot()
    oscar.fail_write_at = oscar.writes + 1
    result = scar("init", "-f", fdl)
    assert result.code == 1
    assert "injected failure" in result.stderr
    assert oscar.snapshot() == before


def test_rm_removes_the_service_and_a_second_rm_finds_it_absent(scar, oscar, isolated_env, fdl):
    configure(isolated_env, c1=basic(oscar))
    assert scar("init", "-f", fdl).code == 0
    dry = scar("rm", "-f", fdl, "--dry-run")
    assert dry.code == 0, dry.stderr
    assert "would be removed" in dry.stdout and "plants" in oscar.services
    removed = scar("-j", "rm", "-f", fdl)
    assert removed.code == 0, removed.stderr
    assert json.loads(removed.stdout)["Services"] == [{"Name": "plants", "Cluster": "c1", "Result": "removed"}]
    assert oscar.services == {}
    again = scar("rm", "-f", fdl)
    assert again.code == 0, again.stderr
    assert "already absent" in again.stdout


def test_ls_lists_the_services_of_every_cluster(scar, cloud, oscar, second_oscar, isolated_env, fdl):
    configure(isolated_env, c1=basic(oscar), c2={"endpoint": second_oscar.endpoint, "oidc_token": OIDC})
    assert scar("init", "-f", fdl).code == 0
    fdl.write_text(fdl.read_text().replace("- c1:", "- c2:").replace("name: plants", "name: cows"))
    assert scar("init", "-f", fdl).code == 0
    listed = scar("ls")
    assert listed.code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    header = next(line for line in lines if line.startswith("CLUSTER"))
    assert header.split() == ["CLUSTER", "NAME", "IMAGE", "MEMORY", "CPU"]
    assert [line.split()[:2] for line in lines[lines.index(header) + 2:]] == [["c1", "plants"], ["c2", "cows"]]
    document = json.loads(scar("-j", "ls").stdout)
    assert [(s["Cluster"], s["Name"]) for s in document["Services"]] == [("c1", "plants"), ("c2", "cows")]
    assert "Functions" in document


def test_run_invokes_synchronously_and_asynchronously_with_the_services_token(scar, oscar, isolated_env, fdl,
                                                                                tmp_path):
    configure(isolated_env, c1=basic(oscar))
    assert scar("init", "-f", fdl).code == 0
    token = oscar.services["plants"]["token"]
    result = scar("run", "-f", fdl, "--", "echo", "hi")
    assert result.code == 0, result.stderr
    assert result.stdout == 'plants received 28 bytes: {"cmd_args": ["echo", "hi"]}\n'
    run = next(r for r in oscar.requests if r.path == "/run/plants")
    assert run.headers["Authorization"] == f"Bearer {token}"
    image = tmp_path / "leaf.jpg"
    image.write_bytes(b"JPEGDATA")
    launched = scar("-j", "run", "-f", fdl, "-a", "--input", image)
    assert launched.code == 0, launched.stderr
    assert json.loads(launched.stdout)["OscarOutput"]["Launched"] is True
    assert next(r for r in oscar.requests if r.path == "/job/plants").body == b"JPEGDATA"
    assert token not in result.stdout + result.stderr + launched.stdout + launched.stderr


def test_log_lists_jobs_and_shows_one_jobs_logs(scar, oscar, isolated_env, fdl):
    configure(isolated_env, c1=basic(oscar))
    assert scar("init", "-f", fdl).code == 0
    assert scar("run", "-f", fdl, "-a", "--", "ls").code == 0
    jobs = scar("log", "-f", fdl)
    assert jobs.code == 0, jobs.stderr
    assert jobs.stdout.splitlines()[0].split() == ["JOB", "STATUS", "CREATED", "STARTED", "FINISHED"]
    assert "plants-job-1" in jobs.stdout and "Succeeded" in jobs.stdout
    logs = scar("log", "-f", fdl, "-ri", "plants-job-1")
    assert logs.code == 0, logs.stderr
    assert logs.stdout == 'plants received 20 bytes: {"cmd_args": ["ls"]}\n'
    missing = scar("log", "-f", fdl, "-ri", "nope")
    assert missing.code == 1 and "has no job 'nope'" in missing.stderr


def test_debug_and_verbose_output_never_show_cluster_credentials(scar, oscar, isolated_env, fdl):
    import base64

    configure(isolated_env, c1=basic(oscar))
    header = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for argv in (("--debug", "-v", "init", "-f", fdl), ("-j", "-v", "init", "-f", fdl, "--dry-run"),
                 ("--debug", "run", "-f", fdl), ("--debug", "log", "-f", fdl), ("--debug", "rm", "-f", fdl)):
        result = scar(*argv)
        assert result.code == 0, result.stderr
        for secret in (PASSWORD, header, STORAGE_SECRET):
            assert secret not in result.stdout + result.stderr, argv

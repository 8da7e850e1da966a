"""OSCAR services in the FDL: merged with scar.cfg's cluster, validated with file:line, key and rule."""

from __future__ import annotations

import pytest

from scar.config.oscar_clusters import configured_clusters
from scar.errors import BadInputError, ConfigError


def service_fdl(extra: str = "", cluster: str = "c1") -> str:
    return ("functions:\n  oscar:\n"
            f"  - {cluster}:\n      name: svc\n      image: grycap/cowsay\n      script: s.sh\n"
            "      endpoint: https://oscar.example.org\n" + extra)


def problems(load, *argv: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(*argv)
    return caught.value.problems


def test_the_cluster_id_and_connection_are_on_the_spec(load, write, write_cfg):
    write_cfg({"oscar": {"c1": {"endpoint": "https://o", "oidc_token": "tok", "ssl_verify": False}}})
    write("s.sh", "echo")
    write("fdl.yaml", "functions:\n  oscar:\n  - c1: {name: svc, image: x, script: s.sh}\n")
    service = load("-f", "fdl.yaml").oscar_services[0]
    cluster = service.cluster
    assert (cluster.cluster_id, cluster.endpoint, cluster.oidc_token, cluster.ssl_verify) == ("c1", "https://o",
                                                                                             "tok", False)
    assert "tok" not in repr(cluster) and "tok" not in repr(service)


@pytest.mark.parametrize(("extra", "expected"), [
    ("      memory: 1G\n", "fdl.yaml:8: functions.oscar[0].c1.memory: '1G' must be a memory size in Mi or Gi, "
                           "like 256Mi or 1Gi"),
    ("      cpu: '0'\n", "fdl.yaml:8: functions.oscar[0].c1.cpu: '0' must be more than 0"),
    ("      auth_user: me\n", "fdl.yaml: functions.oscar[0].c1.auth_password: is required with auth_user"),
    ("      auth_user: me\n      auth_password: pw\n      oidc_token: t\n",
     "fdl.yaml:10: functions.oscar[0].c1.oidc_token: cannot be given together with auth_user/auth_password: "
     "choose one way to sign in"),
    ("      input: [{storage_provider: s3, path: bucket/in}]\n",
     "fdl.yaml:8: functions.oscar[0].c1.input[0].storage_provider: 's3' must name a provider defined in "
     "storage_providers (s3.ID): an OSCAR service has no AWS account of its own"),
    ("      output: [{storage_provider: minio.other, path: bucket/out}]\n",
     "fdl.yaml:8: functions.oscar[0].c1.output[0].storage_provider: 'minio.other' is not defined in "
     "storage_providers"),
    ("      cluster_id: c2\n", "fdl.yaml:8: functions.oscar[0].c1.cluster_id: unknown key (the cluster is the "
                               "entry's key: c1)"),
])
def test_bad_services_are_refused_naming_file_line_key_and_rule(load, write, extra, expected):
    write("s.sh", "echo")
    write("fdl.yaml", service_fdl(extra))
    assert expected in problems(load, "-f", "fdl.yaml")


def test_an_image_with_spaces_is_refused(load, write):
    write("s.sh", "echo")
    write("fdl.yaml", service_fdl().replace("image: grycap/cowsay", "image: 'a b'"))
    assert problems(load, "-f", "fdl.yaml") == [
        "fdl.yaml:5: functions.oscar[0].c1.image: 'a b' must be a container image reference (no spaces)"]


def test_the_script_is_relative_to_the_fdl_and_must_exist(load, write):
    write("sub/s.sh", "echo")
    write("sub/fdl.yaml", service_fdl())
    assert load("-f", "sub/fdl.yaml").oscar_services[0].script.read_text() == "echo"
    write("other/fdl.yaml", service_fdl())
    assert any("functions.oscar[0].c1.script: 's.sh' is not a file" in p for p in problems(load, "-f",
                                                                                            "other/fdl.yaml"))


def test_the_clusters_own_minio_needs_no_definition(load, write):
    write("s.sh", "echo")
    write("fdl.yaml", service_fdl("      input: [{storage_provider: minio.default, path: bucket/in}]\n"
                                  "      output: [{storage_provider: minio, path: bucket/out}]\n"))
    assert load("-f", "fdl.yaml").oscar_services[0].input[0].storage_provider == "minio.default"


def test_two_services_of_one_name_on_one_cluster_are_refused(load, write):
    write("s.sh", "echo")
    write("fdl.yaml", service_fdl() + "  - c1: {name: svc, image: x, script: s.sh, endpoint: 'https://o'}\n")
    assert "fdl.yaml: functions.oscar: the name 'svc' is used by more than one service of cluster c1" in problems(
        load, "-f", "fdl.yaml")


def test_name_selects_one_oscar_service_of_a_mixed_fdl(load, write):
    write("s.sh", "echo")
    write("fdl.yaml", service_fdl() + "  aws:\n  - lambda: {name: fn, container: {image: x}}\n")
    settings = load("-f", "fdl.yaml", "-n", "svc")
    assert ([s.name for s in settings.oscar_services], settings.functions) == (["svc"], ())
    with pytest.raises(BadInputError, match="'svc' is an OSCAR service; these flags set AWS functions only"):
        load("-f", "fdl.yaml", "-n", "svc", "-m", "1024")


def test_configured_clusters_are_those_with_an_endpoint(write_cfg, cfg_file):
    write_cfg({"oscar": {"a": {"endpoint": "https://a", "auth_user": "u", "auth_password": "p"},
                         "b": {"endpoint": "https://b", "oidc_token": "t", "memory": "1Gi"}}})
    clusters = configured_clusters(cfg_file, lambda message: None)
    assert [(c.cluster_id, c.endpoint) for c in clusters] == [("a", "https://a"), ("b", "https://b")]  # not my_oscar
    write_cfg({"oscar": {"a": {"endpoint": "https://a", "auth_password": {"p": "SECRET"}}}})
    with pytest.raises(ConfigError) as caught:
        configured_clusters(cfg_file, lambda message: None)
    assert caught.value.problems == [f"{cfg_file}: oscar.a.auth_password: (hidden) must be a text value"]

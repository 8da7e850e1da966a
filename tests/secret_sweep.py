"""A sweep of everything the test session produces for the fake secrets the tests hand to scar.

Three places are swept: the stdout and stderr of every in-process `scar` run (the `scar` fixture calls
`check_output`, so the test that printed a secret fails on the spot); what pytest captured of every test
(output and log records, whatever the outcome); and, once the session ends, every log file under the
session's temporary folder and every file in a `.cache/scar` there (moto's and microburst's request logs, the
registry's, scar's image store). A hit at the end fails the session with the places named.
Under pytest-xdist (`make test`) the controller sweeps: every worker's report reaches it, and every worker's
temporary folder lies below its own.

The secrets are listed here, not discovered: each is a value some test puts in an FDL or scar.cfg and no test
expects to see again. `tests/integration/test_secret_sweep.py` adds its own, deploys with every kind and
sweeps the emulators too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# The secrets of tests/integration/test_secret_sweep.py: one of each kind scar handles.
SWEEP_AWS_SECRET = "SWEEPawsSecretKey/0123456789+abcdefghijKLMN"
SWEEP_AWS_TOKEN = "SWEEPsessionToken0123456789abcdefABCDEF=="
SWEEP_S3 = ("AKIASWEEPARCHIVE01", "SWEEP-s3-secret/value+0123==")
SWEEP_MINIO = ("SWEEPMINIOACCESS", "SWEEP-minio-secret-0123456789")
SWEEP_ONEDATA_TOKEN = "SWEEP-onedata-token-MDAxNWxvY2F0aW9u"
SWEEP_OSCAR_PASSWORD = "SWEEP-oscar-password-0123"
SWEEP_OSCAR_TOKEN = "SWEEP-oidc-token-eyJhbGciOiJSUzI1NiJ9"

FAKE_SECRETS: tuple[str, ...] = (
    "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY",  # test_secrets.py: a storage secret key
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSCANKEY",  # test_secret_scan.py
    "s3cr3t+scan/value==",  # test_secret_scan.py
    "minio-secret-9876543210",  # test_oscar.py: a MinIO secret key
    "oidc-token-abcdef0123456789",  # test_oscar.py: an OIDC token
    SWEEP_AWS_SECRET, SWEEP_AWS_TOKEN, *SWEEP_S3, *SWEEP_MINIO, SWEEP_ONEDATA_TOKEN, SWEEP_OSCAR_PASSWORD,
    SWEEP_OSCAR_TOKEN,
)
_ENCODED = tuple(secret.encode() for secret in FAKE_SECRETS)
_found: dict[str, None] = {}  # in the order found, once each (a report repeats the earlier phases' sections)


def found_in(text: str | bytes) -> list[str]:
    data = text.encode(errors="replace") if isinstance(text, str) else text
    return [secret for secret, encoded in zip(FAKE_SECRETS, _ENCODED, strict=True) if encoded in data]


def check_output(what: str, stdout: str, stderr: str) -> None:
    """Fail the running test if a scar run printed a known fake secret."""
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        if hits := found_in(text):
            raise AssertionError(f"secret sweep: {what} printed {', '.join(map(repr, hits))} on {stream}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for title, text in report.sections:
        if hits := found_in(text):
            _found[f"{report.nodeid} ({title}): {', '.join(map(repr, hits))}"] = None


def _swept_files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and (path.suffix == ".log" or ".cache/scar/" in path.as_posix()):
            yield path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: its reports and its temporary folder (below the controller's) are swept there
    factory = getattr(session.config, "_tmp_path_factory", None)  # pytest's tmp_path plugin keeps it there
    root = getattr(factory, "_basetemp", None)  # None: no test of this session asked for a temporary folder
    if root is not None:
        for path in _swept_files(root):
            try:
                data = path.read_bytes()
            except OSError:
                continue  # removed meanwhile (a server's temporary file)
            if hits := found_in(data):
                _found[f"{path}: {', '.join(map(repr, hits))}"] = None
    if _found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("")
            reporter.write_sep("=", "secret sweep: known fake secrets found", red=True)
            for line in _found:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

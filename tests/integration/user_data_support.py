"""The Batch instances' user data run on this machine, as the instances run it but for the download: `aws s3 cp`
needs the aws CLI, an instance role and S3 itself, which the tests do not have offline, so the test writes the
artifact where that line would, and every other line runs as it is in bash, the archive and install folder moved
to local paths."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

#: the only lines not run here: installing the aws CLI, and the download itself
_NOT_RUN = re.compile(r"(command -v aws |aws s3 cp )")


def user_data_script(user_data: str) -> str:
    """The shell script in the (base64 MIME multipart) user data."""
    document = base64.b64decode(user_data).decode()
    found = re.search(r"Content-Type: text/x-shellscript[^\n]*\n\n(.*?)\n\n--", document, re.S)
    assert found, document
    return found.group(1)


def install_locally(user_data: str, artifact: bytes, archive: Path, target: Path) -> subprocess.CompletedProcess:
    """Put `artifact` where the download would, then run the rest of the script with bash."""
    lines = user_data_script(user_data).splitlines()
    skipped = [line for line in lines if _NOT_RUN.match(line)]
    assert len(skipped) == 2, skipped
    local = {"archive": archive, "target": target}
    kept = [re.sub(r"^(archive|target)=.*", lambda m: f"{m.group(1)}={local[m.group(1)]}", line)
            for line in lines if not _NOT_RUN.match(line)]
    archive.write_bytes(artifact)
    return subprocess.run(["bash", "-c", "\n".join(kept)], capture_output=True, text=True, timeout=60, check=False)

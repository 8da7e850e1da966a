#!/usr/bin/env python3
"""Benchmark image pushes and pulls against a real registry on 127.0.0.1 (Debian's docker-registry).

1. first push vs unchanged re-push of a function image whose base holds a 100 MB layer (random bytes, so gzip
   cannot shrink it): the re-push is what an unchanged `scar init` does — the image kind finds the digest in
   the repository (one HEAD) and pushes nothing. Target: at most 10 % of the first push's time, 0 blob bytes.
2. pull throughput of scar's client (verified, streamed to the store) vs a plain `requests` download of the
   same blobs. Target: at least 80 % of the plain download's throughput.

Run on demand (`.venv/bin/python bench/images.py`), not a test: it prints PASS/FAIL against the targets and exits
0 whatever the numbers; it exits 2 when it cannot run (no docker-registry, no busybox-static, no patchelf).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from bench.results import Measure, record  # noqa: E402
from devtools import registry as local  # noqa: E402
from devtools.images import build_busybox_image, static_busybox  # noqa: E402
from scar.package.function_image import FunctionFiles, build_function_image  # noqa: E402
from scar.registry.archive import import_archive  # noqa: E402
from scar.registry.client import RegistryClient  # noqa: E402
from scar.registry.platforms import host_platform  # noqa: E402
from scar.registry.store import ImageStore  # noqa: E402
from scar.registry.transfer import pull, push  # noqa: E402

MIB = 1 << 20
REDEPLOY_TARGET = 0.10
PULL_TARGET = 0.80


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=100, help="size of the big base layer (default 100)")
    args = parser.parse_args()
    if not local.available() or static_busybox() is None or shutil.which("patchelf") is None:
        print("bench/images.py: needs docker-registry, busybox-static and patchelf (scripts/install-system-deps.sh)")
        return 2
    with tempfile.TemporaryDirectory(prefix="scar-bench-images-") as folder:
        root = Path(folder)
        root.chmod(0o700)
        store = ImageStore(root / "store")
        base_tar = build_busybox_image(root / "base.tar", extra_files={"opt/big.bin": os.urandom(args.mib * MIB)})
        base = import_archive(base_tar, store)
        files = FunctionFiles({"name": "bench-fn", "container": {"environment": {}, "timeout_threshold": 2}},
                              ("script.sh", b"#!/bin/sh\necho hi\n"), {})
        image = build_function_image(store, base, files, "bench-fn")
        size = sum(int(d["size"]) for d in image.blobs)
        with local.local_registry() as registry:
            client = RegistryClient(registry.url)
            started = time.perf_counter()
            push(client, store, image, "bench-fn", ("latest",), progress=False)
            first = time.perf_counter() - started
            sent = client.stats.bytes_uploaded
            started = time.perf_counter()
            present = client.manifest_digest("bench-fn", image.digest) == image.digest  # the image kind's read
            again = time.perf_counter() - started
            resent = client.stats.bytes_uploaded - sent

            fresh = ImageStore(root / "fresh")
            reader = RegistryClient(registry.url)
            started = time.perf_counter()
            pull(reader, "bench-fn", "latest", fresh, host_platform(), progress=False)
            scar_seconds = time.perf_counter() - started
            started = time.perf_counter()
            for descriptor in image.blobs:
                url = f"{registry.url}/v2/bench-fn/blobs/{descriptor['digest']}"
                with requests.get(url, stream=True, timeout=120) as answer, (root / "plain").open("wb") as out:
                    for chunk in answer.iter_content(MIB):
                        out.write(chunk)
            plain_seconds = time.perf_counter() - started
    ratio = again / first
    throughput = (size / scar_seconds) / (size / plain_seconds)
    print(f"image: {len(image.layers)} layers, {size / MIB:.1f} MiB")
    print(f"first push        {first:8.3f} s  {sent / MIB:8.1f} MiB sent")
    redeploy_ok = present and ratio <= REDEPLOY_TARGET and not resent
    print(f"unchanged re-push {again:8.3f} s  {resent / MIB:8.1f} MiB sent  ({ratio:.1%} of the first; target "
          f"<= {REDEPLOY_TARGET:.0%}, 0 bytes)  {'PASS' if redeploy_ok else 'FAIL'}")
    print(f"pull: scar {size / MIB / scar_seconds:8.1f} MiB/s, plain requests {size / MIB / plain_seconds:8.1f} MiB/s "
          f"({throughput:.0%}; target >= {PULL_TARGET:.0%})  {'PASS' if throughput >= PULL_TARGET else 'FAIL'}")
    record(Measure("image: unchanged re-deploy", f"{again:.3f} s, {resent / MIB:.1f} MiB sent",
                   f"first push {first:.3f} s", ratio, f"<= {REDEPLOY_TARGET:.0%}, 0 bytes", redeploy_ok))
    record(Measure("image: pull throughput", f"{size / MIB / scar_seconds:.0f} MiB/s",
                   f"plain requests {size / MIB / plain_seconds:.0f} MiB/s", throughput, f">= {PULL_TARGET:.0%}",
                   throughput >= PULL_TARGET))
    return 0


if __name__ == "__main__":
    sys.exit(main())

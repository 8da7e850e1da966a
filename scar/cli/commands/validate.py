"""`scar validate -f FDL`: load, merge and validate; list every problem, or summarise the functions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from scar.cli.output import table

if TYPE_CHECKING:
    from scar.cli.main import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings(deploying=True)  # raises ConfigError listing every problem (exit 2)
    aws_rows = [
        (f.name, f.region, f.lambda_.container.image or str(f.lambda_.container.image_file),
         f.lambda_.memory, f.lambda_.timeout, f.lambda_.execution_mode,
         ", ".join(io.path for io in f.lambda_.input) or "-", ", ".join(io.path for io in f.lambda_.output) or "-")
        for f in settings.functions
    ]
    oscar_rows = [(s.name, s.image, s.endpoint, s.memory, s.cpu) for s in settings.oscar_services]
    document = {
        "File": str(settings.fdl_file),
        "Valid": True,
        "Functions": [
            {"Name": r[0], "Region": r[1], "Image": r[2], "Memory": r[3], "Timeout": r[4],
             "ExecutionMode": r[5], "Input": [io.path for io in f.lambda_.input],
             "Output": [io.path for io in f.lambda_.output]}
            for r, f in zip(aws_rows, settings.functions)
        ],
        "Services": [{"Name": r[0], "Image": r[1], "Endpoint": r[2], "Memory": r[3], "CPU": r[4]}
                     for r in oscar_rows],
    }
    parts = [f"{settings.fdl_file} is valid: {len(aws_rows)} AWS function(s), {len(oscar_rows)} OSCAR service(s)."]
    if aws_rows:
        parts.append(table(("NAME", "REGION", "IMAGE", "MEMORY", "TIMEOUT", "MODE", "INPUT", "OUTPUT"), aws_rows))
    if oscar_rows:
        parts.append(table(("NAME", "IMAGE", "ENDPOINT", "MEMORY", "CPU"), oscar_rows))
    ctx.output.result(document, "\n\n".join(parts))
    return 0

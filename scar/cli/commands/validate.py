"""`scar validate -f FDL`: load, merge and validate; list every problem, or summarise the functions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from scar.cli.output import table

if TYPE_CHECKING:
    from scar.cli.main import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings(deploying=True)  # raises ConfigError listing every problem (exit 2)
    functions = [
        {"Name": f.name, "Region": f.region,
         "Image": f.lambda_.container.image or str(f.lambda_.container.image_file),
         "Memory": f.lambda_.memory, "Timeout": f.lambda_.timeout, "ExecutionMode": f.lambda_.execution_mode,
         "Input": [io.path for io in f.lambda_.input], "Output": [io.path for io in f.lambda_.output]}
        for f in settings.functions
    ]
    services = [{"Name": s.name, "Image": s.image, "Endpoint": s.endpoint, "Memory": s.memory, "CPU": s.cpu}
                for s in settings.oscar_services]
    document = {"File": str(settings.fdl_file), "Valid": True, "Functions": functions, "Services": services}
    parts = [f"{settings.fdl_file} is valid: {len(functions)} AWS function(s), {len(services)} OSCAR service(s)."]
    if functions:
        parts.append(table(
            ("NAME", "REGION", "IMAGE", "MEMORY", "TIMEOUT", "MODE", "INPUT", "OUTPUT"),
            ((f["Name"], f["Region"], f["Image"], f["Memory"], f["Timeout"], f["ExecutionMode"],
              ", ".join(f["Input"]) or "-", ", ".join(f["Output"]) or "-") for f in functions)))
    if services:
        parts.append(table(("NAME", "IMAGE", "ENDPOINT", "MEMORY", "CPU"), (list(s.values()) for s in services)))
    graph = getattr(args, "graph", None)
    if graph:
        from scar.cli import graph as workflow_graph

        flow = workflow_graph.workflow(settings.functions, settings.oscar_services)
        document["Graph"] = workflow_graph.as_data(flow)
        if graph == "mermaid":
            parts = [workflow_graph.as_mermaid(flow)]  # only the diagram: ready to paste into a page
        else:
            parts.append(workflow_graph.as_text(flow))
    ctx.output.result(document, "\n\n".join(parts))
    return 0

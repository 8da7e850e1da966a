"""The workflow of an FDL as a picture: which storage folders start which function, and where each function's
results go (so which function's output triggers which function). A text tree for terminals, Mermaid for
documentation, and plain data for `-j`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scar.config.specs import FunctionSpec, OscarServiceSpec, StorageIOSpec


@dataclass(frozen=True)
class Folder:
    provider: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.path}"

    def inside(self, other: Folder) -> bool:
        """Whether a file written here lands in `other` (same provider, same folder or a subfolder)."""
        return self.provider == other.provider and (self.path == other.path or
                                                    self.path.startswith(other.path + "/"))


@dataclass(frozen=True)
class Node:
    """A function or OSCAR service, with the folders it reads and writes."""

    label: str
    inputs: tuple[Folder, ...]
    outputs: tuple[Folder, ...]

    def triggered_by(self, folder: Folder) -> bool:
        return any(folder.inside(i) for i in self.inputs)


@dataclass(frozen=True)
class Workflow:
    nodes: tuple[Node, ...]

    @property
    def folders(self) -> list[Folder]:
        seen: dict[Folder, None] = {}
        for node in self.nodes:
            seen.update(dict.fromkeys(node.inputs + node.outputs))
        return list(seen)

    def triggers(self) -> list[tuple[Node, Folder, Node]]:
        """(producer, the output folder, consumer): the producer's results start the consumer."""
        return [(producer, out, consumer) for producer in self.nodes for out in producer.outputs
                for consumer in self.nodes if consumer.triggered_by(out)]


def workflow(functions: Iterable[FunctionSpec], services: Iterable[OscarServiceSpec]) -> Workflow:
    """The workflow of validated settings: AWS functions and OSCAR services."""
    nodes = [Node(f.name, _folders(f.lambda_.input), _folders(f.lambda_.output)) for f in functions]
    nodes += [Node(f"{s.name} (OSCAR {s.cluster_id})", _folders(s.input), _folders(s.output)) for s in services]
    return Workflow(tuple(nodes))


def _folders(ios: Sequence[StorageIOSpec]) -> tuple[Folder, ...]:
    return tuple(Folder(io.storage_provider, io.path) for io in ios)


def as_data(flow: Workflow) -> dict[str, object]:
    return {
        "Functions": [{"Name": n.label, "Inputs": [f.label for f in n.inputs],
                       "Outputs": [f.label for f in n.outputs]} for n in flow.nodes],
        "Triggers": [{"From": p.label, "Via": f.label, "To": c.label} for p, f, c in flow.triggers()],
    }


def as_text(flow: Workflow) -> str:
    """A tree from each folder no function writes to (and each function without inputs)."""
    produced = {out for node in flow.nodes for out in node.outputs}
    inputs = {i for node in flow.nodes for i in node.inputs}
    starts = [f for f in flow.folders if f in inputs and not any(f.inside(p) for p in produced)]
    tree = _Tree(flow)
    for folder in starts:
        tree.lines.append(f"[{folder.label}]")
        tree.folder(folder, "", ())
    for node in flow.nodes:
        if not node.inputs:
            tree.lines.append(f"{node.label}  (no input: started by scar run)")
            tree.reached.add(node.label)
            tree.node(node, "", (node.label,))
    for node in flow.nodes:
        if node.label not in tree.reached:  # fed only by a loop (refused for AWS functions, not for OSCAR)
            tree.lines.append(f"{node.label}  (started only by outputs of its own loop)")
    return "\n".join(tree.lines)


class _Tree:
    def __init__(self, flow: Workflow) -> None:
        self.flow = flow
        self.lines: list[str] = []
        self.reached: set[str] = set()

    def folder(self, folder: Folder, indent: str, path: tuple[str, ...]) -> None:
        consumers = [n for n in self.flow.nodes if n.triggered_by(folder)]
        for index, node in enumerate(consumers):
            last = index == len(consumers) - 1
            branch = f"{indent}{'└' if last else '├'}─▶ {node.label}"
            if node.label in path:
                self.lines.append(branch + "  (loop)")
                continue
            self.lines.append(branch)
            self.reached.add(node.label)
            self.node(node, indent + ("    " if last else "│   "), (*path, node.label))

    def node(self, node: Node, indent: str, path: tuple[str, ...]) -> None:
        for index, out in enumerate(node.outputs):
            last = index == len(node.outputs) - 1
            self.lines.append(f"{indent}{'└' if last else '├'}─▶ [{out.label}]")
            self.folder(out, indent + ("    " if last else "│   "), path)


def as_mermaid(flow: Workflow) -> str:
    """A Mermaid flowchart: folders as cylinders, functions as boxes."""
    folder_ids = {folder: f"s{index}" for index, folder in enumerate(flow.folders)}
    lines = ["flowchart LR"]
    lines += [f'  {ident}[("{folder.label}")]' for folder, ident in folder_ids.items()]
    lines += [f'  f{index}["{node.label}"]' for index, node in enumerate(flow.nodes)]
    for index, node in enumerate(flow.nodes):
        lines += [f"  {ident} --> f{index}" for folder, ident in folder_ids.items() if node.triggered_by(folder)]
        lines += [f"  f{index} --> {folder_ids[out]}" for out in node.outputs]
    return "\n".join(lines)

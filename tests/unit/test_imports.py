"""No import cycle in the package, lazy (function-level) imports included: a cycle hidden behind a
lazy import still ties two layers together and types their calls as Any."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[2] / "dbsynth"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from dbsynth.schema import reflect` imports the submodule when there is one
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            for target in targets:
                if target in modules and target != name and name != "dbsynth":  # the root only re-exports
                    graph.add_edge(name, target)
    return graph


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert graph.number_of_edges() > 100  # the walk found the imports
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert cycles == [], sorted(cycles, key=len)[:5]


def test_only_reflection_calls_sqlalchemy_inspect() -> None:
    """The boundary ``dbsynth/schema/__init__.py`` states: the rest of the package asks it."""
    callers = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "schema":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr == "inspect"
                    and isinstance(node.value, ast.Name) and node.value.id in ("sa", "sqlalchemy")):
                callers.append(f"{path.name}:{node.lineno}")
    assert callers == []


# Lowest first: a module imports only from its own layer or below. The statements, the privacy
# mechanisms and the rules sit under the generators that use them; writing, learning, the pipeline
# and the front ends on top.
LAYERS = [
    {"errors", "numbers", "connect", "registry"},
    {"schema"},
    {"graph", "semantics", "copy_text", "relational"},
    {"privacy", "rules", "config", "meetings", "scenarios"},
    {"generators", "model", "synthesis"},
    {"sinks", "fit_table", "learn", "model_check", "model_io", "drift", "export", "report", "partition"},
    {"pipeline"},
    {"cli", "cli_show", "pytest", "testing", "dbsynth"},  # dbsynth: the root, which re-exports the API
]


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else module
    found = [i for i, names in enumerate(LAYERS) if top in names]
    assert found, f"{module} is in no layer of test_imports.LAYERS: place it"
    return found[0]


def test_imports_point_down_the_layers() -> None:
    """Reference data never depends on what uses it: the rules do not import a sink, privacy does not
    import a generator (each was the case before: rules.database → sinks.base, privacy.release →
    generators.discretize)."""
    graph = import_graph()
    upward = sorted(f"{a} → {b}" for a, b in graph.edges if _layer(b) > _layer(a))
    assert upward == []

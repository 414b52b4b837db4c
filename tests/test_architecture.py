"""The package's folders are its layers: every import points down, and no modules import each other in a circle.

Read from the source (every import statement, those inside functions included), not from what
happens to be imported at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kg"
#: Each folder's rank: a module may import from its own folder or from a folder of lower rank only.
#: (authoring and validation share a rank: neither may import the other.)
LAYERS = {"model": 0, "queries": 1, "validation": 2, "authoring": 2, "stores": 3, "services": 4, "views": 5, "cli": 6}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path) -> set[str]:
    """The kg modules a file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("kg.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kg.") and not node.level:
            found.add(node.module)
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        here = layer_of(module)
        if here is None:
            continue  # kg/__init__: the package's front, which imports lazily by name
        for target in sorted(targets):
            there = layer_of(target)
            if there is None:
                wrong.append(f"{module} imports {target}, which is in no layer folder")
            elif there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f"{module} ({here}) imports {target} ({there}): an import must point to a lower layer")
    return wrong


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle of imports (as the modules on it), by depth-first search."""
    found, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def package_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {t for t in imports_of(path) if t in known and t != name} for name, path in known.items()}


def test_every_module_is_in_a_layer_folder():
    loose = [name for name in modules() if name != "kg" and layer_of(name) is None]
    assert loose == [], f"modules outside the layer folders: {loose}"


def test_imports_point_down_the_layers():
    assert upward_imports(package_graph()) == []


def test_no_modules_import_each_other_in_a_circle():
    assert cycles(package_graph()) == []


@pytest.mark.parametrize("graph, problem", [
    pytest.param({"kg.model.errors": {"kg.stores.oxigraph"}, "kg.stores.oxigraph": set()}, "upward", id="upward-import"),
    pytest.param({"kg.validation.a": {"kg.authoring.b"}, "kg.authoring.b": set()}, "upward", id="same-rank-other-folder"),
    pytest.param({"kg.stores.a": {"kg.stores.b"}, "kg.stores.b": {"kg.stores.a"}}, "cycle", id="circle-in-one-folder"),
])
def test_the_rules_catch_what_they_name(graph, problem):
    """The checks themselves fail on a broken layout (so a green run means something)."""
    if problem == "upward":
        assert upward_imports(graph)
    else:
        assert cycles(graph)

"""The dependency rules of the packages, checked by reading every import (an import-linter equivalent).

- ``routing`` (the domain) imports no framework and no outer layer: no rasa / rasa_sdk, aiohttp,
  telegram, and none of ``gateway``, ``actions``, ``fengqiao`` — not even lazily inside a function.
- ``routing`` has no import cycle between its modules (lazy imports count too).
- ``actions`` and ``gateway`` never import each other; ``fengqiao`` is the composition root they may use.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_ROUTING = ("rasa", "rasa_sdk", "aiohttp", "telegram", "gateway", "actions", "fengqiao")


def _modules(package: str) -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path) -> Iterator[str]:
    """Yield every module name the file imports (absolute; relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{a.name}" for a in node.names)


@pytest.mark.parametrize("name", sorted(_modules("routing")))
def test_routing_imports_no_framework_and_no_outer_layer(name: str) -> None:
    path = _modules("routing")[name]
    bad = sorted({i for i in _imports(name, path) if i.split(".")[0] in FORBIDDEN_IN_ROUTING})
    assert bad == [], f"{name} imports {bad}"


def test_routing_has_no_import_cycle() -> None:
    modules = _modules("routing")
    graph = {m: {i for i in _imports(m, p) if i in modules and i != m} for m, p in modules.items()}
    # ``import routing.x`` also imports the package ``routing``: packages' own imports are kept,
    # but an edge to a parent package is not a cycle of the code that needs it.
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        if node in stack:
            cycle = stack[stack.index(node):] + [node]
            pytest.fail("import cycle: " + " → ".join(cycle))
        if node in done:
            return
        for dep in sorted(graph[node]):
            visit(dep, [*stack, node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])


@pytest.mark.parametrize(("package", "forbidden"), [("actions", "gateway"), ("gateway", "actions")])
def test_the_two_adapters_do_not_import_each_other(package: str, forbidden: str) -> None:
    for name, path in _modules(package).items():
        bad = sorted({i for i in _imports(name, path) if i.split(".")[0] == forbidden})
        assert bad == [], f"{name} imports {bad}"

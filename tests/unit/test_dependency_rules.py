"""The dependency rules of the packages, checked by reading every import (an import-linter equivalent).

- ``routing`` (the domain) imports no framework and no outer layer: no rasa / rasa_sdk, aiohttp,
  telegram, and none of ``gateway``, ``actions``, ``fengqiao`` — not even lazily inside a function.
- ``routing`` has no import cycle between its modules (lazy imports count too).
- ``actions`` and ``gateway`` never import each other; ``fengqiao`` is the composition root they may use.
- Inside ``routing``, the layers of ``docs/architecture.md``: understanding → orgs → the case model
  and persistence → the case use cases → centre and open311 → rates; nothing imports a layer above it.
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


# The case use cases (everything else in ``routing.cases`` is the case model: events, statuses,
# values, ports, deadlines, numbers, channels, reception days, repeat petitions).
USE_CASES = {f"routing.cases.{m}" for m in (
    "uow", "steps", "filing", "filing_policy", "handling", "review", "transfer", "clocks", "reception",
    "alerts", "life", "service")}
APPLICATIONS = ("routing.centre", "routing.open311", "routing.rates")


def _is_under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _layer_violations(source: tuple[str, ...], forbidden: set[str] | tuple[str, ...]) -> list[str]:
    modules = _modules("routing")
    bad = []
    for name, path in modules.items():
        if not _is_under(name, source) or name in USE_CASES:
            continue
        for target in _imports(name, path):
            if target in modules and (target in forbidden if isinstance(forbidden, set)
                                      else _is_under(target, forbidden)):
                bad.append(f"{name} imports {target}")
    return sorted(set(bad))


@pytest.mark.parametrize("source", ["routing.understanding", "routing.orgs", "routing.persistence", "routing.cases"])
def test_lower_layers_import_no_use_case_and_no_application(source: str) -> None:
    assert _layer_violations((source,), USE_CASES) == []
    assert _layer_violations((source,), APPLICATIONS) == []


def test_understanding_reads_no_table() -> None:
    assert _layer_violations(("routing.understanding",), ("routing.persistence",)) == []


def test_use_cases_import_no_application() -> None:
    modules = _modules("routing")
    bad = sorted(f"{n} imports {t}" for n in USE_CASES for t in _imports(n, modules[n])
                 if _is_under(t, APPLICATIONS))
    assert bad == []


@pytest.mark.parametrize(("package", "other"), [("routing.centre", "routing.open311"),
                                                ("routing.open311", "routing.centre"),
                                                ("routing.centre", "routing.rates"),
                                                ("routing.open311", "routing.rates")])
def test_the_applications_do_not_import_each_other(package: str, other: str) -> None:
    assert _layer_violations((package,), (other,)) == []


def test_the_use_case_list_names_real_modules() -> None:
    assert set(_modules("routing")) >= USE_CASES

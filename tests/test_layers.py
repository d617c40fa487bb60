"""The architecture, kept: each layer imports and calls only what its place allows, and no module
takes part in an import cycle. Read from the source's syntax trees; nothing is imported."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "webapp"
VERSIONS = PACKAGE / "migrations" / "versions"

FORMATS_MAY_NOT_IMPORT = ("flask", "flask_login", "sqlalchemy", "webapp.models")
SERVICES_MAY_NOT_USE = {
    "request",
    "abort",
    "flash",
    "render_template",
    "redirect",
    "url_for",
    "make_response",
}


@dataclass(frozen=True)
class Import:
    target: str  # the module imported, resolved to its absolute dotted name
    names: tuple[str, ...]  # the names taken from it (`from target import a, b`), else ()
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.AST, name: str, is_package: bool, known: set[str] = frozenset()) -> list[Import]:
    """Every import in the module, at any depth (inside functions too), with relative ones resolved.

    `from package import thing` counts as importing `package.thing` when that is a module in `known`."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names = tuple(alias.name for alias in node.names)
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            found += [Import(module, (), node.lineno) for module in submodules]
            if len(submodules) < len(names):
                found.append(Import(base, names, node.lineno))
    return found


def formats_violations(tree, name, is_package=False) -> list[str]:
    return [
        f"{name}:{imp.line} imports {imp.target}"
        for imp in imports_of(tree, name, is_package)
        if any(
            imp.target == banned or imp.target.startswith(banned + ".") for banned in FORMATS_MAY_NOT_IMPORT
        )
        or (imp.target == "webapp" and "models" in imp.names)
    ]


def services_violations(tree, name, is_package=False) -> list[str]:
    found = [
        f"{name}:{imp.line} imports {', '.join(sorted(SERVICES_MAY_NOT_USE & set(imp.names)))} from flask"
        for imp in imports_of(tree, name, is_package)
        if imp.target == "flask" and SERVICES_MAY_NOT_USE & set(imp.names)
    ]
    found += [
        f"{name}:{node.lineno} uses flask.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "flask"
        and node.attr in SERVICES_MAY_NOT_USE
    ]
    return found


def web_violations(tree, name, is_package=False) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if called in ("select", "execute"):
                found.append(f"{name}:{node.lineno} calls {called}()")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "session"
            and isinstance(node.value, ast.Name)
            and node.value.id == "db"
        ):
            found.append(f"{name}:{node.lineno} uses db.session")
    return found


def migration_violations(tree, name, is_package=False) -> list[str]:
    return [
        f"{name}:{imp.line} imports {imp.target}"
        for imp in imports_of(tree, name, is_package)
        if imp.target == "webapp" or imp.target.startswith("webapp.")
    ]


def import_graph(sources: dict[str, tuple[ast.AST, bool]]) -> dict[str, set[str]]:
    """module -> the webapp modules it imports (a `from package import name` counts the package)."""
    known = set(sources)
    graph = {}
    for name, (tree, is_package) in sources.items():
        graph[name] = {imp.target for imp in imports_of(tree, name, is_package, known) if imp.target in known}
        graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def parsed(folder: Path, exclude: Path | None = None) -> dict[str, tuple[ast.AST, bool]]:
    return {
        module_name(path): (ast.parse(path.read_text(), str(path)), path.name == "__init__.py")
        for path in sorted(folder.rglob("*.py"))
        if exclude is None or exclude not in path.parents
    }


APP_MODULES = parsed(PACKAGE, exclude=PACKAGE / "migrations")
MIGRATIONS = parsed(VERSIONS)
LAYERS = {"formats": formats_violations, "services": services_violations, "web": web_violations}


def test_every_module_sits_in_a_layer_or_at_the_top():
    top = {"webapp", "webapp.config", "webapp.models", "webapp.cli", "webapp.__main__"}
    layered = {name for name in APP_MODULES if name.split(".")[1:2] and name.split(".")[1] in LAYERS}
    assert set(APP_MODULES) - layered - top == set()


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_keeps_its_rules(layer):
    check = LAYERS[layer]
    members = {
        n: s for n, s in APP_MODULES.items() if n.startswith(f"webapp.{layer}.") or n == f"webapp.{layer}"
    }
    assert members, f"no modules in webapp/{layer}/"
    assert [v for name, (tree, pkg) in members.items() for v in check(tree, name, pkg)] == []


def test_no_module_takes_part_in_an_import_cycle():
    assert cycles(import_graph(APP_MODULES)) == []


def test_migrations_import_nothing_of_the_app():
    assert MIGRATIONS
    assert [
        v for name, (tree, pkg) in MIGRATIONS.items() for v in migration_violations(tree, name, pkg)
    ] == []


# The checks themselves, on code that breaks each rule: a rule that cannot fail guards nothing.

BROKEN = [
    (formats_violations, "webapp.formats.x", "from sqlalchemy import select"),
    (formats_violations, "webapp.formats.x", "import flask"),
    (formats_violations, "webapp.formats.x", "def f():\n    from flask_login import current_user"),
    (formats_violations, "webapp.formats.x", "from ..models import Article"),
    (formats_violations, "webapp.formats.x", "from .. import models"),
    (services_violations, "webapp.services.x", "from flask import current_app, request"),
    (services_violations, "webapp.services.x", "import flask\nflask.abort(404)"),
    (web_violations, "webapp.web.x", "rows = db.session.scalars(q)"),
    (web_violations, "webapp.web.x", "q = select(Article.id)"),
    (web_violations, "webapp.web.x", "q = db.select(Article.id)"),
    (web_violations, "webapp.web.x", "connection.execute(q)"),
    (
        migration_violations,
        "webapp.migrations.versions.x",
        "def upgrade():\n    from webapp.formats import seeds",
    ),
]


@pytest.mark.parametrize(("check", "name", "source"), BROKEN)
def test_each_rule_catches_code_that_breaks_it(check, name, source):
    assert check(ast.parse(source), name)


@pytest.mark.parametrize(
    ("check", "name", "source"),
    [
        (formats_violations, "webapp.formats.x", "from .headlines import words\nimport yaml"),
        (services_violations, "webapp.services.x", "from flask import current_app"),
        (web_violations, "webapp.web.x", "from ..services import listing\nlisting.queue_page(f)"),
    ],
)
def test_what_each_layer_may_do_passes(check, name, source):
    assert check(ast.parse(source), name) == []


def test_a_cycle_through_a_function_level_import_is_found():
    sources = {
        "webapp.services.a": (ast.parse("from . import b"), False),
        "webapp.services.b": (ast.parse("def f():\n    from .c import g"), False),
        "webapp.services.c": (ast.parse("from ..services.a import h"), False),
        "webapp.services.d": (ast.parse("from .a import h"), False),
    }
    assert cycles(import_graph(sources)) == [["webapp.services.a", "webapp.services.b", "webapp.services.c"]]

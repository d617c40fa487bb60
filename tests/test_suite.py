"""The suite's own rule: no test module imports another test module or a conftest.

Shared helpers and constants live in tests/factories.py, fixtures in the conftest.py files.
"""

import ast

from tests.factories import ROOT

TESTS = ROOT / "tests"


def _module_name(path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The dotted names an import statement in `module` brings in, relative imports resolved."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".")[: -node.level]
        base = ".".join([*package, base] if base else package)
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _is_test_module(name: str) -> bool:
    last = name.split(".")[-1]
    return name.startswith("tests.") and (last.startswith("test_") or last == "conftest")


def test_no_test_module_imports_another_or_a_conftest():
    sources = [path for path in TESTS.rglob("*.py") if "node_modules" not in path.parts]
    assert TESTS / "factories.py" in sources and len(sources) > 30
    offences = []
    for path in sources:
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                offences += [
                    f"{module} imports {name}" for name in _imported(node, module) if _is_test_module(name)
                ]
    assert offences == []

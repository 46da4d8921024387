"""The layers import one way: geodata ← registry ← web. registry never imports Flask."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports(package: str) -> set[str]:
    names = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package, forbidden", [
    ("geodata", {"registry", "web", "flask", "sqlalchemy", "geoalchemy2"}),
    ("registry", {"web", "flask", "werkzeug", "jinja2"}),
])
def test_layers_import_one_way(package, forbidden):
    assert not imports(package) & forbidden

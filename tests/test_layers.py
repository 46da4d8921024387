"""The layers import one way: geodata ← registry ← web. registry never imports Flask; web never
builds or runs a query (a view reads the request, calls the registry, renders); only registry's
storage/ asks which database it runs on."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What runs or builds a query on a session.
QUERY_METHODS = {"query", "execute", "scalar", "scalars", "get"}


def _trees(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def imports(package: str) -> set[str]:
    names = set()
    for _path, tree in _trees(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names} | {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names |= {node.module, node.module.split(".")[0]}
    return names


@pytest.mark.parametrize("package, forbidden", [
    ("geodata", {"registry", "web", "flask", "sqlalchemy", "geoalchemy2"}),
    ("registry", {"web", "flask", "werkzeug", "jinja2"}),
    ("web", {"sqlalchemy", "geoalchemy2", "registry.core.models"}),
])
def test_layers_import_one_way(package, forbidden):
    assert not imports(package) & forbidden


def _session_queries(tree) -> list[int]:
    """Lines where a function (or a lambda) calls a query method on ``get_session()`` or on a name
    it bound to it."""
    found = set()
    for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]:
        sessions = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                    and getattr(n.value.func, "id", None) == "get_session" for t in n.targets if isinstance(t, ast.Name)}
        for n in ast.walk(fn):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in QUERY_METHODS:
                owner = n.func.value
                if (isinstance(owner, ast.Name) and owner.id in sessions) or (
                        isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "get_session"):
                    found.add(n.lineno)
    return sorted(found)


def test_web_views_never_query_the_database():
    queries = [f"{path.relative_to(ROOT)}:{line}" for path, tree in _trees("web") for line in _session_queries(tree)]
    assert queries == [], "a view calls one registry function instead"


def test_the_check_finds_a_query_in_a_view():
    tree = ast.parse("def view():\n    db = get_session()\n    return db.scalars(select(Park))\n"
                     "def other():\n    return get_session().get(Park, 1)\n"
                     "later = lambda: get_session().execute(select(Park))\n")
    assert _session_queries(tree) == [3, 5, 6]


def test_only_storage_asks_which_backend_it_runs_on():
    askers = [f"{path.relative_to(ROOT)}:{node.lineno}" for path, tree in _trees("registry")
              if "storage" not in path.relative_to(ROOT).parts
              for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dialect"]
    assert askers == [], "backend-specific SQL belongs in registry/storage (spatial.py, db.py, bulk.py)"

"""The web pages and the API are two doors onto the same services: neither
imports the other. What both need (the CSV download, for one) lives below
both, in blueprints/downloads.py or the services."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BLUEPRINTS = Path(__file__).resolve().parents[2] / "blueprints"


def imported_modules(path: Path) -> set[str]:
    package = ".".join(path.relative_to(BLUEPRINTS.parent).with_suffix("").parts[:-1])
    return imports_in(path.read_text(), package)


def imports_in(source: str, package: str) -> set[str]:
    """Every module the source (of a module in `package`) imports, by its
    absolute dotted name: relative imports resolved, and `from package
    import name` counted as both the package and `package.name`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def imports_of(side: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(BLUEPRINTS.parent)): imported_modules(path)
        for path in sorted((BLUEPRINTS / side).rglob("*.py"))
    }


def reaches(modules: set[str], other: str) -> list[str]:
    prefix = f"blueprints.{other}"
    return sorted(name for name in modules if name == prefix or name.startswith(prefix + "."))


@pytest.mark.parametrize(("side", "other"), [("web", "api"), ("api", "web")])
def test_one_door_never_imports_the_other(side, other):
    files = imports_of(side)
    assert files, f"no modules under blueprints/{side}"
    crossing = {path: reaches(modules, other) for path, modules in files.items()}
    assert {path: names for path, names in crossing.items() if names} == {}


def test_the_shared_download_sits_below_both():
    modules = imported_modules(BLUEPRINTS / "downloads.py")
    assert reaches(modules, "web") == reaches(modules, "api") == []
    for side in ("web", "api"):
        users = [
            path for path, names in imports_of(side).items() if "blueprints.downloads" in names
        ]
        assert users, (
            f"blueprints/{side} no longer takes the CSV download from blueprints.downloads"
        )


@pytest.mark.parametrize(
    "way",
    [
        "import blueprints.api.reports",
        "from blueprints.api.reports import csv_attachment",
        "from blueprints.api import reports",
        "from blueprints import api",
        "from ..api import reports",
        "from ..api.reports import csv_attachment",
        "def later():\n    from blueprints.api import reports\n",
    ],
)
def test_the_walk_sees_every_way_of_importing(way):
    assert reaches(imports_in(way + "\n", "blueprints.web"), "api"), way
    assert not reaches(
        imports_in("from blueprints.downloads import csv_attachment\n", "blueprints.web"), "api"
    )

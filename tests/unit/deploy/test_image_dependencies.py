"""The image installs `uv sync --frozen --no-dev`: every package the services import must be
among the locked runtime dependencies, not only a development one (which `make test` would
have installed, hiding the gap until the image is run)."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from tests.unit.deploy.compose_file import REPO


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure() -> set[str]:
    """The distributions `uv sync --no-dev` installs, read from uv.lock."""
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    packages = {normalise(package["name"]): package for package in lock["package"]}
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["name"]
    wanted: list[tuple[str, tuple[str, ...]]] = [
        (normalise(dep["name"]), tuple(dep.get("extra", ())))
        for dep in packages[normalise(project)]["dependencies"]
    ]
    seen: set[tuple[str, str]] = set()
    closure: set[str] = set()
    while wanted:
        name, extras = wanted.pop()
        package = packages[name]
        for part in ("", *extras):
            if (name, part) in seen:
                continue
            seen.add((name, part))
            closure.add(name)
            deps = (
                package.get("dependencies", [])
                if part == ""
                else package.get("optional-dependencies", {}).get(part, [])
            )
            wanted.extend((normalise(dep["name"]), tuple(dep.get("extra", ()))) for dep in deps)
    return closure


def imported_packages() -> dict[str, Path]:
    """Top-level third-party modules imported anywhere under services/, with one importer."""
    found: dict[str, Path] = {}
    for path in sorted((REPO / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("services", "__future__"):
                    found.setdefault(top, path.relative_to(REPO))
    return found


def test_the_runtime_closure_holds_the_declared_dependencies_and_no_test_tool() -> None:
    closure = runtime_closure()
    assert {"fastapi", "faststream", "aiokafka", "pymongo", "pydantic-settings"} <= closure
    assert not {"pytest", "hypothesis", "ruff", "mypy", "schemathesis"} & closure


def test_every_package_the_services_import_is_installed_in_the_image() -> None:
    distributions = importlib.metadata.packages_distributions()
    closure = runtime_closure()
    missing = {}
    for module, importer in imported_packages().items():
        provided_by = {normalise(name) for name in distributions.get(module, [])}
        if not provided_by & closure:
            missing[module] = f"{importer} (from {sorted(provided_by) or 'nothing installed'})"
    assert missing == {}, "add them to [project] dependencies, not the dev group"

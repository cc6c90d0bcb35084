"""No declared dependency stays unused (issue 18 item 7).

Every entry of pyproject's ``[project.dependencies]`` must be imported somewhere in our code (the packages and
the tests), found by parsing the sources with ``ast`` and mapping import names to their distributions with
``importlib.metadata.packages_distributions()``. A dependency that is used without an import statement is listed
in ``LOADED_WITHOUT_IMPORT`` with the reason; this test also fails when such an exemption is no longer declared.
"""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("schemas", "signals", "streams", "connectors", "synthetic", "tests")

# Declared, but reached without an `import` statement of ours.
LOADED_WITHOUT_IMPORT = {
    "aiosqlite": "SQLAlchemy loads the driver from the database URL (sqlite+aiosqlite://), never imported by name",
}


def _normalise(name: str) -> str:
    """PEP 503 normal form: `Prometheus_Client` and `prometheus-client` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements: list[str] = pyproject["project"]["dependencies"]
    return {
        _normalise(re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0]) for requirement in requirements
    }


def _imported_modules() -> set[str]:
    """Top-level names of every absolute import in our sources, including imports inside functions."""
    modules: set[str] = set()
    for package in CODE:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules


def _imported_distributions() -> set[str]:
    by_module = packages_distributions()
    return {_normalise(dist) for module in _imported_modules() for dist in by_module.get(module, [])}


def test_every_declared_dependency_is_imported_somewhere() -> None:
    unused = _declared() - _imported_distributions() - set(LOADED_WITHOUT_IMPORT)
    assert not unused, f"declared in pyproject.toml but imported nowhere: {sorted(unused)}"


def test_exemptions_name_declared_dependencies_that_are_really_not_imported() -> None:
    exempt = set(LOADED_WITHOUT_IMPORT)
    assert exempt <= _declared(), f"exempted but no longer declared: {sorted(exempt - _declared())}"
    imported_anyway = exempt & _imported_distributions()
    assert not imported_anyway, f"imported after all, drop the exemption: {sorted(imported_anyway)}"


def test_the_scan_sees_the_libraries_the_worker_is_built_on() -> None:
    """Guards the scan itself: a broken mapping would find nothing and make the first test vacuous."""
    assert {"faust-streaming", "aiokafka", "sqlalchemy", "pydantic"} <= _imported_distributions()


def test_kafka_python_is_gone() -> None:
    """One Kafka client library (aiokafka, under Faust); see README "Apache Kafka and PostgreSQL"."""
    assert "kafka-python" not in _declared()
    assert "kafka" not in _imported_modules()

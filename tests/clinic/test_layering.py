"""Dependencies run one way: the apps built on the clinic core import it, never the reverse.

What the core needs from them goes through clinic/hooks.py, filled in from their AppConfig.ready().
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

CLINIC = Path(__file__).resolve().parents[2] / "clinic"
ABOVE_CLINIC = {"aftercare", "consultations", "online", "photos", "reports", "treatments"}


def _imported_modules(path: Path) -> Iterator[str]:
    # Every import statement, at the top or inside a function.
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_clinic_core_imports_no_app_built_on_it() -> None:
    offenders = [
        f"{path.relative_to(CLINIC.parent)} imports {module}"
        for path in sorted(CLINIC.rglob("*.py"))
        for module in _imported_modules(path)
        if module.split(".")[0] in ABOVE_CLINIC
    ]
    assert offenders == []

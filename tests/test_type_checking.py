"""The service modules are the ones mypy holds to full annotations (pyproject.toml)."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("clinic", "scheduling", "tpi")


def _strict_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    overrides = config["tool"]["mypy"]["overrides"]
    return {m for o in overrides if o.get("disallow_untyped_defs") for m in o["module"]}


def _service_modules() -> set[str]:
    """Return the modules with a public keyword-only function: a `<noun>_<verb>(*, ...)` service."""
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.parse(path.read_text()).body:
                if (
                    isinstance(node, ast.FunctionDef)
                    and not node.name.startswith("_")
                    and not node.args.posonlyargs
                    and not node.args.args
                    and node.args.kwonlyargs
                ):
                    found.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
                    break
    return found


def test_every_service_module_must_be_fully_annotated():
    missing = _service_modules() - _strict_modules()
    assert not missing, f"add to the disallow_untyped_defs list in pyproject.toml: {sorted(missing)}"


def test_the_strict_list_names_only_existing_modules():
    gone = {m for m in _strict_modules() if not (ROOT / (m.replace(".", "/") + ".py")).exists()}
    assert not gone, f"remove from pyproject.toml (no such module): {sorted(gone)}"

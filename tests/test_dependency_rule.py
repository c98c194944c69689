"""The dependency rule, one way only: tpi -> scheduling -> clinic (and tpi -> clinic).

Checked on the source, not at run time: every import in clinic/ and scheduling/ (function-level
and relative ones included), every string literal there (dotted paths such as "tpi.replies.handle",
app labels, admin URL names), and the templates of both (clinic's include the project's templates/).
The only place the core may name an app above it is INSTALLED_APPS in clinic/settings.py.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Which apps each layer may not know, lowest layer first.
ABOVE = {"clinic": ("scheduling", "tpi"), "scheduling": ("tpi",)}
TEMPLATE_SUFFIXES = {".html", ".txt"}


def forbidden_pattern(apps: tuple[str, ...]) -> re.Pattern:
    """Match an app's name in a dotted path ("tpi.x", "perms.tpi.x"), a URL namespace ("tpi:") or an admin URL
    name or table ("tpi_followup"). A bare "tpi" is data (the TPI appointment type's code), not a reference."""
    names = "|".join(apps)
    return re.compile(rf"(?<!\w)({names})(?:[.:](?=\w)|_(?=[a-z]))")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Return (line, absolute module name) for every import in TREE, at any depth."""
    found = []
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, origin))
            found += [(node.lineno, f"{origin}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def installed_apps_strings(tree: ast.AST) -> set[int]:
    """Return the ids of the string constants inside the INSTALLED_APPS assignment."""
    allowed = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "INSTALLED_APPS" for t in targets):
            allowed |= {id(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
    return allowed


def python_violations(source: str, *, module: str, is_package: bool, above: tuple[str, ...]) -> list[str]:
    """Return every import of, and every string naming, an app in ABOVE found in SOURCE."""
    tree = ast.parse(source)
    problems = [
        f"line {line}: imports {name}"
        for line, name in imported_modules(tree, module, is_package)
        if name.split(".")[0] in above
    ]
    allowed = installed_apps_strings(tree) if module == "clinic.settings" else set()
    pattern = forbidden_pattern(above)
    for node in ast.walk(tree):
        is_string = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in allowed
        match = pattern.search(node.value) if is_string else None
        if match:
            problems.append(f"line {node.lineno}: names {match.group(0)!r} in a string")
    return sorted(problems, key=lambda problem: int(problem.split(":")[0].removeprefix("line ")))


def template_violations(text: str, *, above: tuple[str, ...]) -> list[str]:
    """Return every mention of an app in ABOVE in a template (perms.tpi.x, 'admin:tpi_x', tpi.x)."""
    pattern = forbidden_pattern(above)
    return [
        f"line {number}: names {match.group(0)!r}"
        for number, line in enumerate(text.splitlines(), start=1)
        for match in pattern.finditer(line)
    ]


def layer_files(layer: str):
    roots = [ROOT / layer] + ([ROOT / "templates"] if layer == "clinic" else [])
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and (path.suffix == ".py" or path.suffix in TEMPLATE_SUFFIXES):
                yield path


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_no_layer_knows_an_app_above_it(layer):
    above = ABOVE[layer]
    problems = []
    for path in layer_files(layer):
        text = path.read_text()
        if path.suffix == ".py":
            found = python_violations(
                text, module=module_name(path), is_package=path.name == "__init__.py", above=above
            )
        else:
            found = template_violations(text, above=above)
        problems += [f"{path.relative_to(ROOT)} {problem}" for problem in found]
    assert problems == []


def test_the_rule_sees_every_kind_of_import():
    source = (
        "import tpi\nfrom scheduling.models import Appointment\nimport clinic.models\n"
        "def f():\n    from tpi import plans\n"
        "from .. import tpi as t\n"  # clinic.messaging.tpi: a module of the core, allowed
        "from ...messaging import tpi\n"  # the same module, allowed
    )
    problems = python_violations(source, module="clinic.messaging.x.y", is_package=False, above=("scheduling", "tpi"))
    assert problems == [
        "line 1: imports tpi",
        "line 2: imports scheduling.models",
        "line 2: imports scheduling.models.Appointment",
        "line 5: imports tpi",
        "line 5: imports tpi.plans",
    ]


def test_the_rule_sees_dotted_names_labels_and_url_names_in_strings():
    source = (
        'A = "tpi.replies.handle"\nB = ["scheduling.api.urls"]\nC = "admin:tpi_followup_changelist"\n'
        'D = "tpi:plan-list"\nE = "TPI_FOLLOWUP_SWEEP_SECONDS"\nF = "used for scheduling. And tpi"\n'
        'G = "clinic.notscheduling_x"\nINSTALLED_APPS = ["clinic", "scheduling.apps.SchedulingConfig", "tpi"]\n'
        'def f():\n    """Docstrings count too: tpi.replies."""\n'
    )
    problems = python_violations(source, module="clinic.settings", is_package=False, above=("scheduling", "tpi"))
    assert problems == [
        "line 1: names 'tpi.' in a string",
        "line 2: names 'scheduling.' in a string",
        "line 3: names 'tpi_' in a string",
        "line 4: names 'tpi:' in a string",
        "line 10: names 'tpi.' in a string",
    ]


def test_installed_apps_is_allowed_only_in_settings():
    source = 'INSTALLED_APPS = ["tpi.apps.TpiConfig"]\n'
    assert python_violations(source, module="clinic.settings", is_package=False, above=("tpi",)) == []
    assert python_violations(source, module="clinic.urls", is_package=False, above=("tpi",)) == [
        "line 1: names 'tpi.' in a string"
    ]


def test_the_rule_sees_permissions_and_url_names_in_templates():
    text = (
        "{% if perms.scheduling.view_appointment %}\n{% url 'admin:tpi_followup_changelist' %}\n"
        "{% url 'tpi:plans' %}\n{{ link.url }} scheduling today\n"
    )
    assert template_violations(text, above=("scheduling", "tpi")) == [
        "line 1: names 'scheduling.'",
        "line 2: names 'tpi_'",
        "line 3: names 'tpi:'",
    ]

"""`.env.example` lists exactly the environment variables clinic/settings.py reads, each with a meaning."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "clinic" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"
# `NAME=value` (set) or `# NAME=value` (commented out: the default shown applies).
VARIABLE = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=")
READERS = {"env_bool", "env_amounts"}  # settings.py's own strict readers; plus every env.<cast>(NAME, ...)


def settings_variables(source: str) -> set[str]:
    """Return the names read by env(...), env.<cast>(...), env_bool(...) and env_amounts(...) in SOURCE."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        reads = (isinstance(func, ast.Name) and func.id in READERS | {"env"}) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        if reads and isinstance(func, ast.Attribute) and func.attr == "read_env":
            continue  # env.read_env(path) loads the .env file; it reads no variable
        first = node.args[0]
        if reads and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def example_variables(text: str) -> dict[str, str]:
    """Return {name: meaning} for every variable line of TEXT; the meaning is the comment line above it."""
    lines = text.splitlines()
    found = {}
    for number, line in enumerate(lines):
        match = VARIABLE.match(line)
        if match:
            above = lines[number - 1] if number else ""
            meaning = above[2:].strip() if above.startswith("# ") and not VARIABLE.match(above) else ""
            found[match.group(1)] = meaning
    return found


def test_the_collector_sees_every_kind_of_read():
    source = (
        'env.read_env("x")\nA = env.str("A", default="")\nB = env_bool("B", True)\n'
        'C = env_amounts("C", default={})\nD = env.db("D")\nE = env("E")\nF = other("F")\n'
    )
    assert settings_variables(source) == {"A", "B", "C", "D", "E"}


def test_the_example_parser_takes_set_and_commented_variables_with_their_meaning():
    text = "# Core\n# What A is.\nA=1\n# B=2\n# Meaning of C.\n# C=3\n"
    assert example_variables(text) == {"A": "What A is.", "B": "", "C": "Meaning of C."}


def test_env_example_lists_exactly_what_settings_read():
    read = settings_variables(SETTINGS.read_text())
    listed = set(example_variables(ENV_EXAMPLE.read_text()))
    assert sorted(read - listed) == [], "read by clinic/settings.py but missing from .env.example"
    assert sorted(listed - read) == [], "in .env.example but never read by clinic/settings.py"


def test_every_variable_in_env_example_says_what_it_means():
    unexplained = [name for name, meaning in example_variables(ENV_EXAMPLE.read_text()).items() if not meaning]
    assert unexplained == []

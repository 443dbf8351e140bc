"""The installed environment can do every job tk offers (issue 22).

A fresh install once lacked lxml_html_clean (pip < 23.3 does not see jusText's `lxml[html_clean]`
as lxml 6's `html-clean` extra), and every HTML input failed. These tests import what each reader
and writer needs, check that every third-party module the package imports is a requirement that
pyproject.toml names itself (not one that happens to come with another package), and run pip check.
"""

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from translate_kit import readers, writers
from translate_kit.registry import unavailable

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "translate_kit"


@pytest.mark.parametrize("kind,registry", [("input", readers.available), ("output", writers.available)])
def test_every_format_imports_its_libraries(kind, registry):
    problems = {name: unavailable(fmt.libraries) for name, fmt in registry().items()}
    assert {name: p for name, p in problems.items() if p} == {}, f"{kind} formats that cannot work here"


def test_html_reader_declares_what_justext_imports():
    assert "lxml_html_clean" in readers.available()["html"].libraries


def _requirement_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"]) + [s for extra in project["optional-dependencies"].values() for s in extra]
    return {re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in specs}


def _imported_modules() -> set[str]:
    found = set()
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"translate_kit", "__future__"}


def test_every_imported_library_is_a_named_requirement():
    distributions = importlib.metadata.packages_distributions()
    named = _requirement_names()
    missing = {}
    for module in sorted(_imported_modules()):
        provided_by = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not provided_by & named:
            missing[module] = sorted(provided_by) or "not installed"
    # huggingface_hub and tokenizers come with transformers, which pins the versions it works with;
    # tk talks to them directly only for the hub's cache layout and errors (models/hub code).
    allowed = {"huggingface_hub", "tokenizers"}
    assert {m: d for m, d in missing.items() if m not in allowed} == {}


def test_pip_check_passes():
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_commands_use_the_constraints():
    """README's two set-up commands install with constraints.txt, the exact versions the tests passed with."""
    commands = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("pip install")]
    assert len(commands) >= 2
    for command in commands[:2]:
        assert "pip install torch==2.13.0 && pip install -c constraints.txt -e " in command
    assert '".[test,serve,ray]"' in commands[1]
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert re.search(r"^lxml-html-clean==", pins, re.MULTILINE) and re.search(r"^torch==2\.13\.0$", pins, re.MULTILINE)

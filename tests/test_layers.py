"""The package's floors, read from its own imports (an ast walk, module level and inside functions).

runtime/ never imports translators, the pipelines, cache.py or the CLI; models/ never imports
runtime/ (nor torch, transformers, ctranslate2); options.py and errors.py import nothing else of
the package; and no import circle exists anywhere, counting function-local imports too, so no
lazy import can be there only to break one (the lazy ones that remain are for start-up speed).
"""

import ast
from pathlib import Path

from translate_kit import options, runtime

PKG = Path(__file__).parents[1] / "translate_kit"
KNOWN_CIRCLES: set[tuple[str, str]] = set()  # none: documents.py builds a fetched page's Document itself
PIPELINES = ("translators", "translate", "summarize", "sharded", "serve", "cli", "cache")


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """{module: every translate_kit module or outside top-level package it imports, anywhere in it}."""
    found = {}
    for path in PKG.rglob("*.py"):
        name, package = module_name(path), module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                source = ".".join(p for p in (base, node.module or "") if p)
                targets |= {f"{source}.{a.name}" for a in node.names} | {source}
        found[name] = targets
    modules = set(found)
    # an imported name that is no module (`from .models import pick_model`) stands for its module
    return {m: {t if t in modules else t.rpartition(".")[0] if t.rpartition(".")[0] in modules else t for t in ts} - {m}
            for m, ts in found.items()}


def inside(target: str, *floors: str) -> bool:
    return any(target == f"translate_kit.{f}" or target.startswith(f"translate_kit.{f}.") for f in floors)


def test_floors():
    graph = imports()
    for module, targets in graph.items():
        if inside(module, "runtime"):
            assert not [t for t in targets if inside(t, *PIPELINES)], module
        if inside(module, "models"):
            assert not [t for t in targets if inside(t, "runtime") or t.split(".")[0] in ("torch", "transformers", "ctranslate2")], module
        if module in ("translate_kit.options", "translate_kit.errors"):
            assert {t for t in targets if t.split(".")[0] == "translate_kit"} <= {"translate_kit.errors"}, module


def test_no_import_circle():
    graph = {m: {t for t in ts if t.startswith("translate_kit.")} for m, ts in imports().items()}
    graph = {m: {t for t in ts if t in graph and not m.startswith(t + ".") and (m, t) not in KNOWN_CIRCLES}
             for m, ts in graph.items()}  # (a module's own package: its __init__ runs first anyway)
    done, stack = set(), []

    def visit(module):
        assert module not in stack, " -> ".join(stack[stack.index(module):] + [module])
        if module in done:
            return
        stack.append(module)
        for target in sorted(graph[module]):
            visit(target)
        stack.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_backend_choices_are_the_registry():
    assert options.BACKENDS == runtime.CHOICES

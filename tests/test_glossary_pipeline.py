"""Glossaries through the real pipeline (issue 25, phase 2): tk translate --glossary on the tiny
copy models of tests/conftest.py, whose output resembles their input, so a substituted term shows.

What is asserted is structure: which sentences the glossary reaches, their cache keys (model
calls counted with `spy`), term checks in every output, reviewed translations winning."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from translate_kit import DecodeOptions, RunOptions, load_documents, translate
from translate_kit.cache import Cache
from translate_kit.cli import app
from translate_kit.glossary import Enforcer, Policy, load_glossary

runner = CliRunner()

ARTICLE = (
    "L'OTAN a tenu un sommet à Bruxelles mardi.\n\n"
    "Les ministres ont parlé du budget pendant trois heures.\n\n"
    "Le président Zelensky a demandé plus d'aide à l'OTAN.\n\n"
    "La réunion s'est terminée tard dans la soirée.\n"
)
GLOSSARY = "fr\ten\nOTAN\tNATO\nZelensky|Zelenski\tZelenskyy\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(tmp_path, glossary: str | None, mode: str = "both", text: str = ARTICLE):
    doc = write(tmp_path, "article.txt", text)
    enforcer = Enforcer(load_glossary(write(tmp_path, "style.tsv", glossary)), Policy(mode)) if glossary else None
    (result,) = translate(load_documents([str(doc)]), "en", src="fr", decode=DecodeOptions(backend="torch"),
                          run=RunOptions(cache_dir=tmp_path / "cache"), glossary=enforcer)
    assert result.error is None, result.error
    return [s for s in result.segments if s.kind == "text"]


def sent(spy) -> int:
    return sum(len(lengths) for _, lengths in spy)


def test_terms_reach_the_model_and_are_reported(offline_hub, tmp_path):
    segments = run(tmp_path, GLOSSARY)
    by_source = {s.text: s for s in segments}
    nato = by_source["L'OTAN a tenu un sommet à Bruxelles mardi."]
    assert [t["target"] for t in nato.terms] == ["NATO"] and nato.terms[0]["source"] == "OTAN"
    plain = by_source["Les ministres ont parlé du budget pendant trois heures."]
    assert plain.terms == []
    for s in segments:  # a miss is a check on its sentence; a term present is none
        term_checks = [c for c in s.checks if c["code"] == "term"]
        assert len(term_checks) == sum(t["missing"] for t in s.terms)
        assert all(t["missing"] == (t["target"] not in s.target) for t in s.terms)
        if term_checks:
            assert s.verdict in ("check", "doubt")

"""Per-language sentence rules: golden tables for fr, de, en, es, it, pt, nl (every case issue 14
lists), quotations, the French lowercase rule, the generic fallback, and the tables themselves."""

import pytest

from translate_kit import segment, segment_rules
from translate_kit.segment import split_sentences
from translate_kit.segment_rules import TABLES, Table, rules_for

# (language, paragraph, its sentences joined by " | ")
GOLDEN = [
    # titles
    ("fr", "M. Dupont est venu. Mme Martin aussi. Le Dr. Roux et le Prof. Blanc sont partis.",
     "M. Dupont est venu. | Mme Martin aussi. | Le Dr. Roux et le Prof. Blanc sont partis."),
    ("fr", "M. et Mme Laurent sont arrivés. Ils repartent demain.", "M. et Mme Laurent sont arrivés. | Ils repartent demain."),
    ("en", "Mr. Smith met Sen. Jones and Dr. Brown. They talked.", "Mr. Smith met Sen. Jones and Dr. Brown. | They talked."),
    ("es", "La Sra. García y el Sr. Pérez votaron. El Dr. Ruiz no.", "La Sra. García y el Sr. Pérez votaron. | El Dr. Ruiz no."),
    ("it", "Il dott. Rossi ha parlato con il Sig. Bianchi. La prof. Conti no.",
     "Il dott. Rossi ha parlato con il Sig. Bianchi. | La prof. Conti no."),
    ("pt", "O Sr. Silva falou com a Dra. Costa. O Prof. Almeida ouviu.", "O Sr. Silva falou com a Dra. Costa. | O Prof. Almeida ouviu."),
    ("nl", "Dhr. De Vries sprak met Mevr. Visser en Prof. Bakker. Zij waren het eens.",
     "Dhr. De Vries sprak met Mevr. Visser en Prof. Bakker. | Zij waren het eens."),
    ("de", "Prof. Dr. Schneider leitet das Institut seit 2015. Sie forscht.", "Prof. Dr. Schneider leitet das Institut seit 2015. | Sie forscht."),
    # ordinals and dates
    ("de", "Am 3. Oktober 2024 sprach er in Schwerin. Die 2. Runde endete ohne Ergebnis.",
     "Am 3. Oktober 2024 sprach er in Schwerin. | Die 2. Runde endete ohne Ergebnis."),
    ("de", "Das Tor fiel in der 67. Minute. Der Kurs stieg auf 25. Danach fiel er.",
     "Das Tor fiel in der 67. Minute. | Der Kurs stieg auf 25. | Danach fiel er."),
    ("en", "The meeting is on Dec. 5 in Brussels. The deal was reported on Jan. 31. Nobody commented.",
     "The meeting is on Dec. 5 in Brussels. | The deal was reported on Jan. 31. | Nobody commented."),
    # number abbreviations
    ("en", "He lives at No. 10 Downing Street. He moved in July.", "He lives at No. 10 Downing Street. | He moved in July."),
    ("de", "Das Haus Nr. 25 brannte. Die Bahn investiert 12,5 Mrd. Euro. Das ist viel.",
     "Das Haus Nr. 25 brannte. | Die Bahn investiert 12,5 Mrd. Euro. | Das ist viel."),
    ("es", "La sede está en la calle Alcalá, núm. 14, en Madrid. Abrirá en mayo.",
     "La sede está en la calle Alcalá, núm. 14, en Madrid. | Abrirá en mayo."),
    ("nl", "De overheid trekt 2,5 mld. euro uit. Dat is veel.", "De overheid trekt 2,5 mld. euro uit. | Dat is veel."),
    # country abbreviations, and a sentence that really ends in an abbreviation
    ("en", "Sales slowed in the U.S. Analysts blamed prices. The U.S. Army agreed.",
     "Sales slowed in the U.S. | Analysts blamed prices. | The U.S. Army agreed."),
    ("es", "Los presidentes de EE. UU. y México se reunirán. Viajarán a EE. UU. El acuerdo es inminente.",
     "Los presidentes de EE. UU. y México se reunirán. | Viajarán a EE. UU. | El acuerdo es inminente."),
    ("fr", "Ils parlent des salaires, des retraites, etc. La réunion a duré trois heures.",
     "Ils parlent des salaires, des retraites, etc. | La réunion a duré trois heures."),
    ("es", "Faltan frutas, verduras, pescado, etc. El Gobierno ha convocado al sector.",
     "Faltan frutas, verduras, pescado, etc. | El Gobierno ha convocado al sector."),
    ("it", "Scuole, ospedali, strade, ecc. Le risorse arriveranno dal Pnrr.", "Scuole, ospedali, strade, ecc. | Le risorse arriveranno dal Pnrr."),
    ("nl", "Treinen reden niet, bomen vielen om, enz. Het KNMI gaf code oranje.", "Treinen reden niet, bomen vielen om, enz. | Het KNMI gaf code oranje."),
    ("de", "Die Kanzlerin a. D. äußerte sich. Sie schwieg lange.", "Die Kanzlerin a. D. äußerte sich. | Sie schwieg lange."),
    # multi-part abbreviations
    ("de", "Viele Städte, wie z. B. Köln, bauen Radwege. Dort werden u. a. Busspuren gebaut. Das kostet.",
     "Viele Städte, wie z. B. Köln, bauen Radwege. | Dort werden u. a. Busspuren gebaut. | Das kostet."),
    ("nl", "Veel gemeenten, o.a. Amsterdam, kampen met tekorten. Starters hebben het moeilijk.",
     "Veel gemeenten, o.a. Amsterdam, kampen met tekorten. | Starters hebben het moeilijk."),
    ("en", "The storm hit at 8:30 p.m. on Wednesday. It was over by 6 a.m. Crews were out at dawn.",
     "The storm hit at 8:30 p.m. on Wednesday. | It was over by 6 a.m. | Crews were out at dawn."),
    # inverted punctuation
    ("es", "¿Se puede hablar de un cambio? Los expertos piden prudencia. ¡Qué día! Así lo dijo.",
     "¿Se puede hablar de un cambio? | Los expertos piden prudencia. | ¡Qué día! | Así lo dijo."),
    # quotation marks of each language, quotations of several sentences split inside
    ("fr", "« Nous voulons la paix. Nous ne céderons pas », a dit le ministre. Il part.",
     "« Nous voulons la paix. | Nous ne céderons pas », a dit le ministre. | Il part."),
    ("fr", "«Nous voulons la paix. Nous ne céderons pas», a dit le ministre. Il part.",
     "«Nous voulons la paix. | Nous ne céderons pas», a dit le ministre. | Il part."),
    ("fr", "Il a dénoncé « une erreur historique » et il est parti. « Non ! » a-t-il crié.",
     "Il a dénoncé « une erreur historique » et il est parti. | « Non ! » a-t-il crié."),
    ("de", "„Wir halten die Schuldenbremse ein. Daran gibt es nichts zu rütteln“, sagte er. Die Opposition protestierte.",
     "„Wir halten die Schuldenbremse ein. | Daran gibt es nichts zu rütteln“, sagte er. | Die Opposition protestierte."),
    ("de", "Der Mieterbund spricht von einem „faulen Kompromiss“. Der Minister schweigt.",
     "Der Mieterbund spricht von einem „faulen Kompromiss“. | Der Minister schweigt."),
    ("en", "“We will not give up. We will rebuild,” the governor said. Crews arrived.",
     "“We will not give up. | We will rebuild,” the governor said. | Crews arrived."),
    ("en", '"We will not give up. We will rebuild," the governor said. Crews arrived.',
     '"We will not give up. | We will rebuild," the governor said. | Crews arrived.'),
    ("es", "«Vamos a ganar. No tengo dudas», dijo el entrenador. El partido es el sábado.",
     "«Vamos a ganar. | No tengo dudas», dijo el entrenador. | El partido es el sábado."),
    ("it", "«Non ci fermeremo. Continueremo a lottare», ha detto. Lo stabilimento chiude.",
     "«Non ci fermeremo. | Continueremo a lottare», ha detto. | Lo stabilimento chiude."),
    ("pt", "«Não vamos desistir. Esta luta é de todos», afirmou. A greve continua.",
     "«Não vamos desistir. | Esta luta é de todos», afirmou. | A greve continua."),
    ("nl", "„Dit is een historische dag!”, riep de minister. De wet gaat in januari in.",
     "„Dit is een historische dag!”, riep de minister. | De wet gaat in januari in."),
    ("nl", "„We laten ons niet wegjagen. Dit is ons dorp”, zei een bewoner. De provincie zwijgt.",
     "„We laten ons niet wegjagen. | Dit is ons dorp”, zei een bewoner. | De provincie zwijgt."),
    # initials, decimals, thousands, times
    ("en", "The novel by J. R. R. Tolkien sold well. Shares rose 3.5% on Monday.", "The novel by J. R. R. Tolkien sold well. | Shares rose 3.5% on Monday."),
    ("fr", "Le film de J. R. R. Tolkien sortira. Il y avait 10 000 soldats. L'OTAN a dit non.",
     "Le film de J. R. R. Tolkien sortira. | Il y avait 10 000 soldats. | L'OTAN a dit non."),
    ("de", "Rund 1.200 Gäste kamen um 20.30 Uhr. Es regnete.", "Rund 1.200 Gäste kamen um 20.30 Uhr. | Es regnete."),
    ("es", "El partido empieza a las 21.00 en Sevilla. Hay 1.200 entradas.", "El partido empieza a las 21.00 en Sevilla. | Hay 1.200 entradas."),
    # the French lowercase rule: glue a continuation, never a new sentence after a real full stop
    ("fr", "« Nous ne sommes pas en guerre ! » a déclaré Macron. Il part.", "« Nous ne sommes pas en guerre ! » a déclaré Macron. | Il part."),
    ("fr", "Une source a confirmé la rencontre… sans en préciser la date. Rien n'est fixé.",
     "Une source a confirmé la rencontre… sans en préciser la date. | Rien n'est fixé."),
    ("fr", "Il a parlé d'un récent appel téléphonique. appel entre les deux dirigeants.",
     "Il a parlé d'un récent appel téléphonique. | appel entre les deux dirigeants."),
    ("fr", "Fin de la dépêche. date 2024-06 La suite.", "Fin de la dépêche. | date 2024-06 La suite."),
]


@pytest.mark.parametrize("lang, text, expected", GOLDEN, ids=[f"{g[0]}-{i}" for i, g in enumerate(GOLDEN)])
def test_golden(lang, text, expected):
    sentences = split_sentences(text, lang)
    assert "".join(sentences) == text
    assert [s.strip() for s in sentences] == expected.split(" | ")


def test_every_language_has_golden_cases():
    assert {"fr", "de", "en", "es", "it", "pt", "nl"} <= {g[0] for g in GOLDEN} <= set(TABLES)


def test_the_language_changes_the_split():
    """The same text splits by the rules of the language it is said to be in."""
    text = "Am 3. Oktober kam er. Die 2. Runde endete."
    assert len(split_sentences(text, "de")) == 2
    assert len(split_sentences(text, "fr")) > 2  # without the German ordinals: « 3. » ends a sentence


def test_generic_fallback_for_a_language_with_no_table():
    assert "xx" not in TABLES and not rules_for("xx").never_end
    assert [s.strip() for s in split_sentences("J. R. R. Tolkien wrote. He went home! Why? Nobody knows.", "xx")] == [
        "J. R. R. Tolkien wrote.", "He went home!", "Why?", "Nobody knows."]
    assert rules_for("de-AT") is rules_for("de") and rules_for("pt_BR") is rules_for("pt")


def test_adding_a_language_is_one_table(monkeypatch):
    monkeypatch.setitem(TABLES, "zz", Table(never_end="Hrr., b. c.", may_end="ecc."))
    segment_rules._compiled.cache_clear()
    try:
        text = "Hrr. Kalo tuli. Se oli b. c. Mutta ecc. Sitten meni."
        assert [s.strip() for s in split_sentences(text, "zz")] == ["Hrr. Kalo tuli.", "Se oli b. c. Mutta ecc.", "Sitten meni."]
    finally:
        segment_rules._compiled.cache_clear()


def test_tables_are_well_formed():
    """Every abbreviation ends with its full stop and is no longer than the window the rules look at."""
    for lang, table in TABLES.items():
        for field in ("never_end", "may_end", "months"):
            for entry in segment_rules._entries(getattr(table, field)):
                assert field == "months" or entry.endswith(".") or "." in entry, (lang, entry)
                assert len(entry) <= segment.LONGEST, (lang, entry)

"""The consistency checks (translate_kit/checks/): golden tables per language pair, each rule on
its own, and the verdict. Pure functions: no model, no files."""

from __future__ import annotations

import pytest

from translate_kit.checks import Check, assess, assess_document
from translate_kit.checks.marks import check_marks
from translate_kit.checks.names import check_names
from translate_kit.checks.numbers import check_numbers, numbers
from translate_kit.checks.untranslated import check_untranslated
from translate_kit.checks.verdict import SCORE_FLOOR, decide

# (src, tgt, source, target, the codes expected; empty: the verdict is ok)
GOLDEN = [
    # French -> English
    ("fr", "en", "Le gouvernement a débloqué 80 millions d'euros le 26 février.",
     "The government released 80 million euros on February 26.", set()),
    ("fr", "en", "Le gouvernement a débloqué 80 millions d'euros le 26 février.",
     "The government released 8 million euros on February 26.", {"number"}),
    ("fr", "en", "Les forces françaises ont déjà formé environ 10 000 soldats, soit 3,5 % de l'armée.",
     "French forces have already trained about 10,000 soldiers, or 3.5% of the army.", set()),
    ("fr", "en", "La réunion aura lieu à 10h30 au siège de l'OTAN, à Bruxelles.",
     "The meeting will take place at 10:30 at NATO headquarters in Brussels.", set()),
    ("fr", "en", "Le commandant en chef Oleksandr Syrsky a reconnu une situation difficile.",
     "The commander-in-chief acknowledged a difficult situation.", {"name"}),
    ("fr", "en", "C'est le 1er sommet de l'UE consacré au XXIe siècle.",
     "It is the 1st EU summit devoted to the 21st century.", set()),
    ("fr", "en", "Le président a affirmé que plusieurs alliés avaient accepté d'envoyer des formateurs.",
     "Le président a affirmé que plusieurs alliés avaient accepté d'envoyer des formateurs.", {"untranslated"}),
    ("fr", "en", "« Nous ne céderons pas », a déclaré le ministre devant les députés.",
     "We will not give in, the minister told MPs.", {"quotes"}),
    ("fr", "en", "La réunion a été reportée à lundi, a précisé la préfecture.",
     "The meeting has been postponed to Monday, the prefecture said.", set()),
    ("fr", "en", "Les habitants manquent d'eau potable depuis plusieurs semaines, selon la préfecture.",
     "Residents have been short of drinking water for several weeks.", {"attribution"}),
    # German -> English
    ("de", "en", "Die Zahl der Arbeitslosen stieg im Januar um 179.000 auf 2,8 Millionen.",
     "The number of unemployed rose by 179,000 to 2.8 million in January.", set()),
    ("de", "en", "Die Zahl der Arbeitslosen stieg im Januar um 179.000 auf 2,8 Millionen.",
     "The number of unemployed rose by 170,000 to 2.8 million in January.", {"number"}),
    ("de", "en", "Der Streik soll am Freitag um 18 Uhr enden, teilte die Gewerkschaft mit.",
     "The strike is due to end on Friday at 6 p.m., the union said.", set()),
    ("de", "en", "Bundeskanzler Olaf Scholz traf sich in Berlin mit Präsident Emmanuel Macron.",
     "Chancellor Olaf Scholz met President Macron in Berlin.", set()),
    ("de", "en", "Außenministerin Annalena Baerbock reiste am Montag nach Kiew.",
     "The foreign minister travelled to Kyiv on Monday.", {"name"}),
    ("de", "en", "Viele Unternehmen klagen über den Mangel an Fachkräften in der Region.",
     "Many companies complain about the shortage of skilled workers in the region.", set()),
    # Spanish -> English
    ("es", "en", "Inditex ganó 5.381 millones de euros en su último ejercicio, un 30 % más.",
     "Inditex earned 5,381 million euros in its last financial year, 30% more.", set()),
    ("es", "en", "La deuda pública superó los 1,5 billones de euros en diciembre.",
     "Public debt exceeded 1.5 trillion euros in December.", set()),
    ("es", "en", "El presidente del Gobierno, Pedro Sánchez, viajó a Bruselas con el ministro.",
     "The Prime Minister travelled to Brussels with the minister.", {"name"}),
    ("es", "en", "La ONU calcula que la inflación subirá, según fuentes diplomáticas.",
     "The UN estimates that inflation will rise, according to diplomatic sources.", set()),
    ("es", "en", "Los vecinos denuncian desde hace años la falta de servicios en el barrio.",
     "Residents have been complaining for years falta de servicios en el barrio.", {"copied"}),
    # Italian -> English
    ("it", "en", "Il governo ha stanziato 2,5 miliardi di euro per la ricostruzione dopo l'alluvione.",
     "The government has allocated 2.5 billion euros for reconstruction after the flood.", set()),
    ("it", "en", "La premier Giorgia Meloni ha incontrato il presidente Sergio Mattarella al Quirinale.",
     "Prime Minister Giorgia Meloni met President Sergio Mattarella at the Quirinale.", set()),
    ("it", "en", "La premier Giorgia Meloni ha incontrato il presidente Sergio Mattarella al Quirinale.",
     "The prime minister met the president at the Quirinale.", {"name"}),
    ("it", "en", "L'inflazione è scesa all'1,8% a novembre, secondo l'Istat.",
     "Inflation fell to 8.1% in November, according to Istat.", {"number"}),
    # Portuguese -> English
    ("pt", "en", "O governo anunciou um investimento de 3,2 mil milhões de euros na ferrovia.",
     "The government announced an investment of 3.2 billion euros in the railway.", set()),
    ("pt", "en", "O presidente Lula da Silva recebeu o chanceler alemão em Brasília.",
     "President Lula da Silva received the German chancellor in Brasília.", set()),
    ("pt", "en", "O presidente Lula da Silva recebeu o chanceler alemão em Brasília na segunda-feira.",
     "O presidente Lula da Silva recebeu o chanceler alemão em Brasília na segunda-feira.", {"untranslated"}),
    # Dutch -> English
    ("nl", "en", "Het kabinet trekt 1,2 miljard euro uit voor de bouw van 100.000 woningen.",
     "The cabinet is setting aside 1.2 billion euros for the construction of 100,000 homes.", set()),
    ("nl", "en", "Premier Mark Rutte sprak dinsdag in Den Haag met de Duitse bondskanselier.",
     "Prime Minister Mark Rutte spoke with the German chancellor in The Hague on Tuesday.", set()),
    ("nl", "en", "Het kabinet trekt 1,2 miljard euro uit voor de bouw van 100.000 woningen.",
     "The cabinet is setting aside 1.2 billion euros for the construction of homes.", {"number"}),
    # English -> French
    ("en", "fr", "The European Central Bank raised rates to 4.5% on Thursday, said Christine Lagarde.",
     "La Banque centrale européenne a relevé ses taux à 4,5 % jeudi, a déclaré Christine Lagarde.", set()),
    ("en", "fr", "More than 12,000 people marched in Paris on May 1.",
     "Plus de 12 000 personnes ont défilé à Paris le 1er mai.", set()),
    ("en", "fr", "More than 12,000 people marched in Paris on May 1.",
     "Plus de 1 200 personnes ont défilé à Paris le 1er mai.", {"number"}),
    ("en", "fr", "NATO Secretary General Jens Stoltenberg arrived in Vilnius on Tuesday.",
     "Le secrétaire général de l'OTAN est arrivé mardi à Vilnius.", {"name"}),
    ("en", "fr", "The minister said the plan would cost five billion dollars over ten years.",
     "Le ministre a déclaré que le plan coûterait cinq milliards de dollars sur dix ans.", set()),
]


@pytest.mark.parametrize("src,tgt,source,target,codes", GOLDEN, ids=[f"{g[0]}-{g[1]}-{i}" for i, g in enumerate(GOLDEN)])
def test_golden(src, tgt, source, target, codes):
    verdict = assess(source, target, src, tgt)
    found = {c.code for c in verdict.checks}
    assert found == codes, [c.detail for c in verdict.checks]
    assert (verdict.verdict == "ok") == (not codes)


@pytest.mark.parametrize("text,lang,values", [
    ("10 000 soldats", "fr", [{10000.0}]),
    ("10.000 Soldaten", "de", [{10000.0}]),
    ("10,000 soldiers", "en", [{10000.0}]),
    ("3,5 %", "fr", [{3.5}]),
    ("1.234,56 Euro", "de", [{1234.56}]),
    ("80 millions", "fr", [{80.0, 80e6}]),
    ("1.500 millones", "es", [{1500.0, 1.5e9}]),
    ("à 10h30", "fr", [{10.0, 22.0}, {30.0}]),
    ("um 15 Uhr", "de", [{15.0, 3.0}]),
    ("le 3 mars", "fr", [{3.0}]),
])
def test_numbers_are_read_with_their_language(text, lang, values):
    assert [v for _, v in numbers(text, lang)] == values


def test_number_rules_details():
    found = check_numbers("80 millions d'euros", "8 million euros", "fr", "en")
    assert found == [Check("number", "number 80 not in the translation (it has 8)")]
    assert check_numbers("Il y a eu 5 morts.", "Five people died.", "fr", "en") == []
    assert check_numbers("au XXe siècle", "in the 20th century", "fr", "en") == []
    assert check_numbers("le 26/02/2024", "on February 26, 2024", "fr", "en") == []
    assert check_numbers("le 5 mai", "on May 8", "fr", "en")  # May is 5, but not a written 5
    assert [c.code for c in check_numbers("Il est parti.", "He left in 2023.", "fr", "en")] == ["number-added"]
    # spelled numbers are carried over too (in digits or words), and idioms for two are two
    assert check_numbers("Il a gagné après onze matchs et deux ans.", "He won after 11 games and two years.", "fr", "en") == []
    assert [c.detail for c in check_numbers("Er gewann nach elf Spielen.", "He won.", "de", "en")] == ["number elf not in the translation"]
    assert check_numbers("Les deux pays ont signé.", "Both countries signed.", "fr", "en") == []
    assert check_numbers("secondo l'Istat", "according to Istat", "it", "en") == []  # not always a number


def test_names_allow_known_renderings_and_close_spellings():
    assert check_names("Les pays de l'OTAN et de l'UE.", "NATO and EU countries.", "fr", "en") == []
    assert check_names("Il s'est rendu en Allemagne et à Moscou.", "He went to Germany and Moscow.", "fr", "en") == []
    assert check_names("Wolodymyr Selenskyj sprach.", "Volodymyr Zelensky spoke.", "de", "en") == []
    assert check_names("Le FMI et la BCE.", "The IMF and the ECB.", "fr", "en") == []
    found = check_names("Voir www.example.org, écrire à a@b.fr ou à @tk_news #MeToo.", "See the site.", "fr", "en")
    assert [c.detail for c in found] == ["name www.example.org missing", "name a@b.fr missing",
                                        "name @tk_news missing", "name #MeToo missing"]


def test_names_take_a_glossary():
    source, target = "Le ministre Dupont a parlé.", "Minister Smith spoke."
    assert check_names(source, target, "fr", "en")
    assert check_names(source, target, "fr", "en", glossary={"Dupont": ["Smith"]}) == []


def test_untranslated_compares_the_two_languages_alone():
    source = "Les négociations salariales se poursuivront la semaine prochaine à Paris."
    assert check_untranslated(source, "Wage negotiations will continue next week in Paris.", "fr", "en") == []
    assert check_untranslated(source, source, "fr", "en")[0].severity == "doubt"
    assert check_untranslated("Emmanuel Macron.", "Emmanuel Macron.", "fr", "en") == []  # names alone


@pytest.mark.parametrize("source,target,codes", [
    ("« Non », a-t-il dit.", '"No," he said.', []),
    ("Il a dit « non ».", "He said no.", ["quotes"]),
    ("„Wir helfen“, sagte er.", '"We will help," he said.', []),
    ("Le rapport (publié mardi) est clair.", "The report published on Tuesday is clear.", ["brackets"]),
    ("« Il viendra, a-t-il dit,", '"He will come," he said,', []),  # opened here, closed in the next sentence
])
def test_quotes_and_brackets(source, target, codes):
    assert [c.code for c in check_marks(source, target)] == codes


def test_degenerate_output_is_quality_problem_reused():
    source = "Le gouvernement a annoncé un plan pour les agriculteurs."
    assert assess(source, "", "fr", "en").verdict == "doubt"
    looped = assess(source, "The government the government the government the government announced.", "fr", "en")
    assert looped.verdict == "doubt" and "repetition" in {c.code for c in looped.checks}


def test_verdict_from_findings_and_score():
    assert decide([]).verdict == "ok"
    assert decide([Check("name", "name X missing")]).verdict == "check"
    assert decide([Check("name", "a"), Check("number", "b")]).verdict == "doubt"
    assert decide([Check("untranslated", "x", "doubt")]).verdict == "doubt"
    low = decide([], score=SCORE_FLOOR - 0.5)
    assert low.verdict == "check" and low.checks[0].code == "score"
    assert decide([], score=-0.2).verdict == "ok"  # None and good scores change nothing
    assert decide([], score=-1.3, median=-0.1).verdict == "check"  # far below its document
    assert decide([], score=-0.9, median=-0.1).verdict == "ok"


def test_document_scores_compare_with_the_median():
    pairs = [("Il est parti hier soir.", "He left last night.")] * 6
    verdicts = assess_document(pairs, "fr", "en", scores=[-0.2, -0.25, -0.2, -0.3, -0.2, -1.4])
    assert [v.verdict for v in verdicts] == ["ok"] * 5 + ["check"]
    assert [v.verdict for v in assess_document(pairs, "fr", "en")] == ["ok"] * 6  # no scores at all


def test_nothing_to_judge():
    assert assess("—", "—", "fr", "en").verdict == "ok"
    assert assess("2024", "2024", "fr", "en").verdict == "ok"

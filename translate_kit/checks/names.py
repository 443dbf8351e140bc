"""Names and other tokens a translation must copy: capitalised words that do not start a sentence,
acronyms, URLs, e-mail addresses, @handles and #hashtags.

Carried over: the same word (accents and case aside), a close spelling (difflib), a known
rendering (RENDERINGS) or a glossary's, an acronym with its letters reordered; a German
capitalised noun is not a name. The rules, and why difflib: docs/design.md#consistency-checks
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from .base import Check, base_lang
from .numbers import MONTHS, word_values

MUST_COPY = re.compile(
    r"(?:https?://|www\.)[^\s<>\"«»]+[^\s<>\"«».,;:!?)]"  # URL
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail address
    r"|(?<![\w@])@\w{2,}|(?<![\w#&])#\w*[^\W\d_]\w*")  # @handle, #hashtag
WORD = re.compile(r"[^\W\d_](?:[^\W_]|['’-](?=[^\W\d_]))*")
ROMAN_NUMERAL = re.compile(r"^[MDCLXVI]+(?:e|er|ème|º)?$")
ACRONYM = re.compile(r"^[A-ZÀ-ÖØ-Þ]{2,}$|^[A-Z]+\d+$|^[A-Z]{2,}(?:-\d+)?$")
# An elided article or preposition is not part of the name after it: l'Élysée, d'Orly, dell'Ucraina.
ELISION = re.compile(r"\b([ldjmnstcLDJMNSTC]|qu|Qu|dell|all|nell|dall|sull|Dell|All|Nell|Dall|Sull)['’](?=[^\W\d_])")
# Words that join the parts of one name: Banco de España, Comisión Nacional de los Mercados y la Competencia.
CONNECTORS = set("""de del della di do da dos das du des la las los le of van von der den al""".split())
SENTENCE_OPENERS = set(".!?:;«\"“„‚‘(—–-[»…")

# Known renderings: each line a group of forms (accents and case removed) that name the same thing.
RENDERINGS = """
nato otan | eu ue | un onu uno vn | who oms | imf fmi iwf | ecb bce ezb | wto omc | unesco | g7 | g20
usa us u.s. eua eeuu ee.uu. vs etats-unis united_states vereinigten_staaten vereinigte_staaten estados_unidos stati_uniti verenigde_staten american americans
uk royaume-uni united_kingdom britain vereinigtes_konigreich reino_unido regno_unito verenigd_koninkrijk grossbritannien grande-bretagne gran_bretana gran_bretagna britannique britanniques british briten britanicos
germany allemagne deutschland alemania germania alemanha duitsland german germans allemand allemands allemande deutschen deutsche alemanes alemana tedesco tedeschi duitse
france frankreich francia frankrijk franca french francais francaise franzosisch franzosen frances franceses francese francesi franse
england angleterre inglaterra inghilterra engeland
middle_east proche-orient moyen-orient nahost oriente_medio medio_oriente | brittany bretagne
normandy normandie | corsica corse korsika corcega | alsace elsass
catalonia catalogne katalonien cataluna catalogna
spain espagne spanien espana spagna espanha spanje spanish espagnol espagnols spanier espanol espanoles spagnolo
italy italie italien italia italie italian italien italiens italiener italiano italiani italianos
russia russie russland russlands rusia rusland russian russians russe russes russen russischen ruso rusos russo russi
ukraine ucrania ucraina oekraine ukrainian ukrainiens ukrainienne ukrainer ukrainischen ucranianos ucraini
moscow moscou moskau moscu mosca moscovo moskou | kyiv kiev kiew kyjiw kiyv | kharkiv kharkov charkiw jarkov
zelensky zelenskyy zelenski selenskyj zelenskiy | london londres londra londen
brussels bruxelles brussel bruselas bruxelas bruessel | beijing pekin peking pechino pequim
china chine chinesisch chinese chinois chino chinos cinese | japan japon giappone japao
poland pologne polen polonia | greece grece griechenland grecia griekenland
switzerland suisse schweiz suiza svizzera suica zwitserland swiss | austria autriche osterreich oostenrijk
netherlands pays-bas niederlande holanda paesi_bassi nederland dutch neerlandais niederlandisch
belgium belgique belgien belgica belgio
europe europa europeenne europeen europeens europaischen european europeans europeos europei
sweden suede schweden suecia svezia zweden | turkey turquie turkei turquia turchia turkije turkish turc turque
warsaw varsovie warschau varsovia varsavia varsovia | vienna vienne wien viena | lisbon lisbonne lissabon lisboa
athens athenes athen atenas atene | geneva geneve genf ginebra ginevra genebra | munich munchen munique monaco
cologne koln colonia keulen | venice venise venedig venecia venezia | rome rom roma | mexico mexique mexiko
egypt egypte agypten egipto egitto | syria syrie syrien siria | gdp pib bip pil
west occident westen occidente ovest | guiana guyane guayana | new_york nueva_york nova_iorque
the_hague den_haag la_haye la_haya l'aia aia | lithuania lituanie litauen lituania
saxony saxe sachsen sajonia sassonia | bavaria baviere bayern baviera | lebanon liban libanon libano | iraq irak
saudi_arabia saudi arabie_saoudite saudi-arabien arabia_saudi arabia_saudita | africa afrique afrika
brazil bresil brasilien brasil brasile | algeria algerie algerien argelia
morocco maroc marokko marruecos marocco | tunisia tunisie tunesien tunez | ireland irlande irland irlanda
scotland ecosse schottland escocia scozia | denmark danemark dinamarca danimarca
norway norvege norwegen noruega norvegia | finland finlande finnland finlandia
hungary hongrie ungarn hungria ungheria | romania roumanie rumanien rumania | czech tcheque tschechien chequia
croatia croatie kroatien croacia | white_house maison_blanche weisse_haus casa_blanca casa_bianca witte_huis
pope pape papst papa paus | elysee elysee-palast | kremlin kreml cremlino | bundestag
congress congres kongress congreso | mediterranean mediterranee mittelmeer mediterraneo
atlantic atlantique atlantik atlantico | south_africa afrique_du_sud sudafrika sudafrica
north_korea coree_du_nord nordkorea corea_del_norte | south_korea coree_du_sud sudkorea corea_del_sur
jerusalem | palestinians palestiniens palastinenser palestinos | australia australie australien
india inde indien | indonesia indonesie indonesien | jordan jordanie jordanien jordania giordania | yemen jemen
libya libye libyen libia | sudan soudan | ethiopia ethiopie athiopien etiopia | chad tchad tschad
colombia colombie kolumbien | peru perou | argentina argentine argentinien | chile chili
cyprus chypre zypern chipre cipro | sicily sicile sizilien sicilia
sardinia sardaigne sardinien cerdena sardegna | belarus bielorussie weissrussland bielorrusia bielorussia
moldova moldavie moldau moldavia | georgia georgie georgien | armenia armenie armenien | estonia estonie estland
latvia lettonie lettland letonia lettonia | slovakia slovaquie slowakei eslovaquia slovacchia
slovenia slovenie slowenien eslovenia | serbia serbie serbien | bosnia bosnie bosnien | albania albanie albanien
bulgaria bulgarie bulgarien | iceland islande islandia | thailand thailande tailandia
philippines philippinen filipinas filippine | singapore singapour singapur
new_zealand nouvelle-zelande neuseeland nueva_zelanda | copenhagen copenhague kopenhagen | prague prag praga
bucharest bucarest bukarest | belgrade belgrad belgrado | edinburgh edimbourg edimburgo | milan mailand milano
naples neapel napoles napoli | florence florenz florencia firenze | turin torino | genoa genes genua genova
seville sevilla | antwerp anvers antwerpen amberes | marseille marseilles marsella marsiglia
strasbourg strassburg estrasburgo strasburgo | nice nizza niza | algiers alger algier argel | cairo caire kairo
tehran teheran | baghdad bagdad | damascus damas damaskus damasco | beirut beyrouth | riyadh riyad riad
tokyo tokio | seoul seoul | st_petersburg saint-petersbourg sankt_petersburg san_petersburgo | odesa odessa
crimea crimee krim | gdansk dantzig danzig | krakow cracovie krakau cracovia | vilnius vilna
vatican vatikan vaticano | portugal | qatar katar | kuwait | oman | afghanistan | pakistan | bangladesh | nepal
vietnam | taiwan | kenya kenia | nigeria | ghana | senegal | mali | niger | somalia somalie | rwanda ruanda
uganda ouganda | tanzania tanzanie tansania | zimbabwe simbabwe | angola | cuba kuba | venezuela | bolivia bolivie bolivien
ecuador equateur | paraguay | uruguay | panama | honduras | nicaragua | guatemala | haiti | jamaica jamaique jamaika
luxembourg luxemburg luxemburgo | liechtenstein | monaco | andorra andorre | malta malte | kosovo | montenegro
israel israeli israelien israeliens israelis israelischen | gaza | iran iranian iranien iraniens
"""

# English words that are capitalised there but not names in the languages it is translated into.
EN_NOT_NAMES = set("""monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december i mr mrs ms dr secretary general president prime
minister chancellor king queen pope foreign defence defense finance interior health senator governor mayor chief
executive director spokesman spokeswoman commander justice court house senate congress parliament ministry
department government state states national central bank union council commission party""".split())
DE_DETERMINERS = set("""der die das den dem des ein eine einer einem einen eines kein keine keinen keiner keinem
keines sein seine seiner seinem seinen seines ihr ihre ihrer ihrem ihren ihres unser unsere unserer unseren
unserem euer eure dieser diese diesem diesen dieses jeder jede jedem jeden jedes alle allen aller viele vielen
vieler mehrere mehreren einige einigen einiger beide beiden wenige wenigen welche welcher welchen manche
im am zum zur vom beim ins ans aufs durchs fürs ums zwei drei vier fünf sechs sieben acht neun zehn zwölf
hundert tausend mehr weniger""".split())
# Suffixes only common nouns have (place names end in -en, -gen, -chen too: Bremen, Tübingen, Gelsenkirchen).
DE_STRONG_NOUN_ENDINGS = ("ung", "ungen", "heit", "heiten", "keit", "keiten", "schaft", "schaften", "tion", "tionen",
                          "tät", "täten", "ismus", "nis", "nisse", "tum", "ment", "ität", "enz", "anz")
DE_PLACE_PREPOSITIONS = {"in", "nach", "aus", "von", "bei", "gegen", "zwischen"}
# Nouns a German name follows ("Kanzler Scholz", "der Autohersteller BMW", "die Stadt Köln"), also as
# the end of a compound (Bundeskanzler, Energieversorger, Grünen-Politikerin); folded.
DE_ROLES = tuple("""kanzler kanzlerin prasident prasidentin minister ministerin chef chefin trainer trainerin sprecher
sprecherin firma konzern hersteller autobauer versorger verein partei gewerkschaft sender zeitung politiker politikerin
sanger sangerin schauspieler schauspielerin autor autorin stadt gemeinde gesellschaft unternehmen gruppe marke team club
klub spieler spielerin sturmer torwart pilot fahrer fahrerin papst konig konigin prinz prinzessin burgermeister
burgermeisterin vorsitzende vorsitzender abgeordnete abgeordneter senator gouverneur general botschafter botschafterin
experte expertin okonom forscher forscherin professor professorin herr frau zulieferer tochter plattform dienst
netzwerk sturm orkan hurrikan institut stiftung bundesland land kreis insel fluss blatt magazin zeitschrift""".split())
DE_NOUN_ENDINGS = ("ung", "ungen", "heit", "heiten", "keit", "keiten", "schaft", "schaften", "tion", "tionen",
                   "tät", "täten", "ismus", "nis", "nisse", "tum", "ment", "chen", "lein", "ling", "linge",
                   "ität", "ik", "ür", "enz", "anz", "ie", "eur", "ler", "ner", "rer", "ter", "ten", "gen",
                   "sten", "ern", "eln", "ste", "stellung", "lage", "zeit", "kraft", "kräfte")
DE_COMMON = set("""januar februar marz april mai juni juli august september oktober november dezember montag
dienstag mittwoch donnerstag freitag samstag sonntag million milliarde hohe richtung form folge zukunft kraft
betrieb gefahr frage sicht hilfe hilfen präsident präsidentin ministerpräsident
ministerpräsidentin jahr jahre jahren jahres prozent euro dollar millionen milliarden menschen uhr woche wochen
tag tage tagen monat monate monaten regierung land länder ländern stadt krieg frieden polizei angaben angriff
angriffe soldaten truppen minister ministerin präsident präsidentin kanzler kanzlerin sprecher sprecherin
chef chefin partei parteien wahl wahlen berichten bericht ende anfang mitte seite teil zeit fall frage
grund ziel weg welt leben haus geld arbeit kinder frauen männer leute opfer tote toten verletzte behörden
experten unternehmen firma bank banken markt preise zahl hilfe waffen armee militär""".split())
# After an article, a capitalised word in French, Spanish, Italian or Portuguese is most often an
# institution's common noun that translations translate ("el Gobierno", "la Fiscalía", "le Conseil"),
# not a name to copy ("Madrid", "Pedro Sánchez" take none).
ARTICLES = set("""le la les l du des au aux un une el los las del al lo il gli i uno della dello delle degli
dei nella nel nei sulla sul o os as do da dos das no na nos nas um uma pelo pela""".split())
# Capitalised words of institutions and titles that translations translate, in the languages read.
INSTITUTIONS = set("""jeux juegos spiele giochi jogos coupe copa pokal coppa taca championnat campeonato
meisterschaft campionato gobierno gouvernement governo regierung ejecutivo executif esecutivo ministerio ministere
ministero ministerium ministro ministra ministre minister ministerin consejo conseil consiglio conselho rat
tribunal cour corte gericht audiencia fiscalia parquet procura staatsanwaltschaft ayuntamiento mairie comune
senado senat senato congreso congres congresso asamblea assemblee assemblea parlamento parlement parlament
banco banque banca bank estado etat stato staat policia police polizia polizei guardia gendarmerie ejercito armee
esercito comision commission commissione kommission comunidad communaute comunita justicia justice giustizia
hacienda sanidad sante sanita trabajo travail lavoro exteriores exterieur esteri interior interieur interno
defensa defense difesa educacion education istruzione presidente president presidenza presidencia primer premier
mundial copa coupe coppa liga ligue republica republique repubblica reino royaume regno constitucion constitution
costituzione universidad universite universita oficina bureau ufficio agencia agence agenzia instituto institut
istituto nacional national nazionale central centrale general generale supremo supreme franja bande striscia
juzgado tribunale nord sud norte sur est ouest oeste este""".split())
# How English renders them: an institution word of the source (folded) is carried over into an
# English translation when one of these starts a word of it ("fiscalia": "prosecutor's office").
# Words without an entry (and every institution word for other target languages) are not checked.
INSTITUTIONS_EN = {
    **dict.fromkeys("gobierno gouvernement governo regierung ejecutivo executif esecutivo".split(),
                    ("government", "executive", "cabinet", "administration", "prime minister", "premier")),
    **dict.fromkeys("ministerio ministere ministero ministerium".split(), ("ministry", "department", "minister")),
    **dict.fromkeys("consejo conseil consiglio conselho rat".split(), ("council", "board", "cabinet")),
    **dict.fromkeys("tribunal cour corte gericht juzgado tribunale audiencia".split(), ("court", "tribunal", "judge")),
    **dict.fromkeys("fiscalia parquet procura staatsanwaltschaft".split(), ("prosecut", "attorney")),
    **dict.fromkeys("ayuntamiento mairie comune".split(), ("council", "city", "town", "municipal", "mayor")),
    **dict.fromkeys("senado senat senato".split(), ("senate", "senator")),
    **dict.fromkeys("congreso congres congresso".split(), ("congress", "parliament", "lower house", "deputies")),
    **dict.fromkeys("asamblea assemblee assemblea".split(), ("assembly", "parliament")),
    **dict.fromkeys("parlamento parlement parlament".split(), ("parliament", "mps", "legislat")),
    **dict.fromkeys("policia police polizia polizei".split(), ("police", "officer")),
    **dict.fromkeys("guardia gendarmerie".split(), ("guard", "gendarm", "police")),
    **dict.fromkeys("ejercito armee esercito".split(), ("army", "armed forces", "military", "troops")),
    **dict.fromkeys("comision commission commissione kommission".split(), ("commission",)),
    **dict.fromkeys("banco banque banca bank".split(), ("bank",)),
    **dict.fromkeys("republica republique repubblica".split(), ("republic",)),
    **dict.fromkeys("constitucion constitution costituzione".split(), ("constitution",)),
    **dict.fromkeys("universidad universite universita".split(), ("university",)),
    **dict.fromkeys("hacienda".split(), ("tax", "treasury", "finance")),
    **dict.fromkeys("sanidad sante sanita".split(), ("health",)),
    **dict.fromkeys("trabajo travail lavoro".split(), ("labour", "labor", "work", "employment")),
    **dict.fromkeys("exteriores esteri".split(), ("foreign",)),
    **dict.fromkeys("justicia justice giustizia".split(), ("justice", "court")),
    **dict.fromkeys("defensa defense difesa".split(), ("defence", "defense", "armed forces")),
    **dict.fromkeys("jeux juegos spiele giochi jogos".split(), ("games", "olympics")),
    **dict.fromkeys("coupe copa pokal coppa taca".split(), ("cup",)),
    **dict.fromkeys("championnat campeonato meisterschaft campionato".split(), ("championship", "league", "title")),
}
MIN_PREFIX = 5
SIMILAR = 0.75


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower case without accents (Pékin -> pekin), ß as ss."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    return "".join(c for c in text if not unicodedata.combining(c))


# Compared with folded words (Höhe -> hohe): the German word lists are folded once here.
DE_COMMON = {fold(w) for w in DE_COMMON}
DE_DETERMINERS = {fold(w) for w in DE_DETERMINERS}
DE_NOUN_ENDINGS = tuple(dict.fromkeys(fold(e) for e in DE_NOUN_ENDINGS))
DE_STRONG_NOUN_ENDINGS = tuple(dict.fromkeys(fold(e) for e in DE_STRONG_NOUN_ENDINGS))


def _groups() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for line in RENDERINGS.strip().splitlines():
        for group in line.split("|"):
            forms = set(_forms(group))
            for form in forms:
                table.setdefault(form, set()).update(forms - {form})
    return table


def _forms(group: str) -> list[str]:
    """The forms of a group: words, and names of several words written with "_" (united_states)."""
    return [form.replace("_", " ") for form in group.split()]


KNOWN = _groups()
LONG_KEYS = sorted((k for k in KNOWN if len(k) >= 5 and k.isalpha()), key=len, reverse=True)
SKELETON_SIMILAR = 0.8


def candidates(source: str, src: str) -> list[str]:
    """The tokens of `source` a translation should carry over, in order, without repeats."""
    src = base_lang(src)
    found = [m.group(0) for m in MUST_COPY.finditer(source)]
    rest = MUST_COPY.sub(" ", source)
    return list(dict.fromkeys(found + [w for run in name_runs(rest, src) for w in run]))


def name_runs(text: str, src: str) -> list[list[str]]:
    """The names of `text` (URLs and the like removed), as runs of name words side by side or
    joined by "de", "von", "of"...: "Jens Stoltenberg" and "Villeroy de Galhau" are each one run,
    which a translation carries over when it has any word of it. An acronym is a run of its own."""
    text = ELISION.sub(r"\1 ", text)
    words = list(WORD.finditer(text))
    runs: list[list[str]] = []
    last, joinable = -2, False
    for i, m in enumerate(words):
        word = m.group(0)
        acronym = bool(ACRONYM.match(word.replace("-", "")))
        if not acronym and not (word[0].isupper() and _not_initial(text, m.start())):
            continue
        if ROMAN_NUMERAL.match(word) or not (acronym or _name_like(word, words, i, src, text)):
            continue
        gap = words[last + 1:i] if last >= 0 else None
        if joinable and not acronym and fold(word) not in INSTITUTIONS_EN and gap is not None and len(gap) <= 2 \
                and all(g.group(0).lower() in CONNECTORS for g in gap) \
                and not re.search(r"[,.;:!?()«»\"“”]", text[words[last].end():m.start()]):
            runs[-1].append(word)
        else:
            runs.append([word])
        last, joinable = i, not acronym and fold(word) not in INSTITUTIONS_EN
    return runs


def _not_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return bool(before) and before[-1] not in SENTENCE_OPENERS


def _name_like(word: str, words: list, i: int, src: str, text: str) -> bool:
    folded = fold(word)
    if _after_number(words, i, text):
        return folded in KNOWN  # "2.500 Stellen", "3,2 Prozentpunkte": a measure, not a name
    if folded in KNOWN or (folded.endswith("s") and folded[:-1] in KNOWN):  # Portugals: a genitive
        return True
    numbers, months = word_values(src), MONTHS.get(src, "").split()
    if all(part in numbers and part not in months for part in word.lower().split("-")):
        return False  # "les Vingt-Sept", "los Veintisiete": a number (numbers.py checks it), not a name
    if src == "en":
        return folded not in EN_NOT_NAMES
    if folded in INSTITUTIONS or folded.rstrip("s") in INSTITUTIONS:
        return folded in INSTITUTIONS_EN  # checked against its English renderings (present), if it has some
    if src == "de":
        return _german_name(words, i, text)
    return True


NUMBER_NOUNS = {"million", "millionen", "milliarde", "milliarden", "dutzend", "hundert", "hunderte", "tausend",
                "tausende", "prozent", "mio", "mrd"}


def _after_number(words: list, i: int, text: str) -> bool:
    """Whether a number comes right before word i ("2.500 Stellen", "eine Million Autos"): a measure."""
    if i and fold(words[i - 1].group(0)) in NUMBER_NOUNS:
        return True
    return any(c.isdigit() for c in text[words[i - 1].end() if i else 0:words[i].start()])


def _capitalised(words: list, i: int) -> bool:
    return 0 <= i < len(words) and words[i].group(0)[:1].isupper()


def _german_bare(words: list, i: int, text: str, suffixes: tuple = DE_NOUN_ENDINGS) -> bool:
    """A German capitalised word that could be a name: no article (or article and adjective) before
    it, no number before it (a measure: "65 Liter"), not a common news noun, no noun suffix."""
    if not _capitalised(words, i) or _after_number(words, i, text):
        return False
    prev = fold(words[i - 1].group(0)) if i else ""
    before = fold(words[i - 2].group(0)) if i > 1 else ""
    if prev in DE_DETERMINERS or (before in DE_DETERMINERS and prev[-1:] in "enrsm" and words[i - 1].group(0).islower()):
        return False
    folded = fold(words[i].group(0))
    if "-" in folded:  # Mercedes-Benz, Sachsen-Anhalt: the suffix test reads the last part only
        folded = folded.rsplit("-", 1)[1]
        return folded not in DE_COMMON and not (len(folded) > 6 and folded.endswith(suffixes))
    return folded not in DE_COMMON and not (len(folded) > 5 and folded.endswith(suffixes))


def _adjective(words: list, i: int) -> bool:
    """A capitalised German word after an article with an adjective's ending: "die Europäische
    (Zentralbank)", "dem Brandenburger (Tor)": what follows is the noun, not a name."""
    word = words[i].group(0)
    return i > 0 and fold(words[i - 1].group(0)) in DE_DETERMINERS and word.endswith(("e", "en", "er", "es", "em"))


def _german_name(words: list, i: int, text: str) -> bool:
    """German capitalises every noun: a name is a bare capitalised word (_german_bare) beside another
    ("Olaf Scholz"), after a role noun (DE_ROLES: "die Stadt Frankfurt", "Trainer Dardai"), listed
    with a name ("Hannover und Würzburg"), or after a preposition that takes place names bare
    ("in Gelsenkirchen", "nach Kiew")."""
    prev = fold(words[i - 1].group(0)) if i else ""
    if prev in DE_PLACE_PREPOSITIONS:
        return _german_bare(words, i, text, DE_STRONG_NOUN_ENDINGS)
    if not _german_bare(words, i, text):
        return False
    apposition = _capitalised(words, i - 1) and fold(words[i - 1].group(0)).endswith(DE_ROLES)
    listed = prev in ("und", "oder") and i > 1 and _german_bare(words, i - 2, text)  # Hannover und Würzburg
    return apposition or listed or _german_bare(words, i - 1, text) or _german_bare(words, i + 1, text)


def present(token: str, folded_target: str, target_words: set[str], glossary: dict | None = None,
            target_names: frozenset[str] = frozenset()) -> bool:
    """Whether `token` (or a rendering of it) is in the translation (`folded_target`: fold(target);
    `target_names`: its capitalised words, folded, for the looser spelling match)."""
    folded = fold(token)
    if folded in folded_target if not folded.isalpha() else folded in target_words:
        return True
    if folded in INSTITUTIONS_EN:  # "el Senado": the Senate, "la Fiscalía": prosecutors
        return any(re.search(rf"(?<!\w){form}", folded_target) for form in INSTITUTIONS_EN[folded]) \
            or folded in target_words or any(_close(folded, w, SequenceMatcher(None, "", folded)) for w in target_words)
    known = KNOWN.get(folded) or (KNOWN.get(folded[:-1]) if folded.endswith("s") else None) or _compound(folded)
    alternatives = set(known or ()) | set((glossary or {}).get(token, ()))
    if any(_has(fold(a), folded_target, target_words) for a in alternatives):
        return True
    if token.isupper() and len(token) >= 2:
        if any(sorted(w) == sorted(folded) for w in target_words):
            return True
    parts = [p for p in re.split(r"[-'’]", folded) if len(p) > 2]
    if len(parts) > 1 and any(p in target_words for p in parts):
        return True  # Koch-Instituts / Koch Institute: a compound name partly carried over
    if any(c.isdigit() for c in folded):
        return False  # a code (A7, IB6251, COVID-19) is copied exactly or not at all
    matcher = SequenceMatcher(None, "", folded)  # difflib caches what it learns about its second string
    if any(_close(folded, w, matcher) for w in target_words):
        return True
    return any(_same_consonants(folded, w) for w in target_names)


def _compound(folded: str) -> set[str] | None:
    """The renderings of a known name that ends or starts a compound (Niederbayern: Bavaria)."""
    for key in LONG_KEYS:
        if len(folded) > len(key) + 2 and (folded.endswith(key) or folded.startswith(key)):
            return KNOWN[key]
    return None


def _skeleton(word: str) -> str:
    word = word.replace("ph", "f").replace("k", "c").replace("v", "w").replace("z", "s").replace("j", "y")
    return re.sub(r"[aeiouy'’-]", "", word)


def _same_consonants(a: str, b: str) -> bool:
    """A name's consonants in the same order as a capitalised word's of the translation, the way
    names cross languages (Pirineo/Pyrenees, Varsovie/Warsaw): same first consonant, close skeletons."""
    sa, sb = _skeleton(a), _skeleton(b)
    if len(sa) < 3 or len(sb) < 3 or a[0] != b[0] or abs(len(sa) - len(sb)) > 2:
        return False
    return SequenceMatcher(None, sa, sb).ratio() >= SKELETON_SIMILAR


def _has(form: str, folded_target: str, target_words: set[str]) -> bool:
    if form.isalpha():
        return form in target_words
    return re.search(rf"(?<!\w){re.escape(form)}(?!\w)", folded_target) is not None


def _close(a: str, b: str, matcher: SequenceMatcher) -> bool:
    """A shared start (Ukrainiens/Ukrainians) or a similar spelling (Selenskyj/Zelensky)."""
    if len(a) >= MIN_PREFIX and len(b) >= MIN_PREFIX and a[:MIN_PREFIX] == b[:MIN_PREFIX]:
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 3:
        return False
    matcher.set_seq1(b)
    return matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR and matcher.ratio() >= SIMILAR


def check_names(source: str, target: str, src: str, tgt: str, glossary: dict | None = None) -> list[Check]:
    """`name`: a name, acronym, URL, address, handle or hashtag of the source missing from the translation."""
    copied = [m.group(0) for m in MUST_COPY.finditer(source)]
    runs = name_runs(MUST_COPY.sub(" ", source), src)
    if not copied and not runs:
        return []
    folded_target = fold(target)
    words = WORD.findall(folded_target)
    target_words = set(words) | {p for w in words for p in re.split(r"['’-]", w)}
    names = frozenset(fold(w) for w in WORD.findall(target) if w[:1].isupper())
    missing = [t for t in copied if not present(t, folded_target, target_words, glossary)]
    for run in runs:
        phrase = [" ".join(run)] if len(run) > 1 else []  # Den Haag / The Hague: a known rendering of the whole
        if not any(present(w, folded_target, target_words, glossary, names) for w in run + phrase):
            missing.append(" ".join(run))
    return [Check("name", f"name {t} missing") for t in dict.fromkeys(missing)]

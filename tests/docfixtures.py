"""Documents the reader tests generate: a news page with real-world boilerplate, Markdown with
every structure, PDFs (fpdf2: running headers, page numbers, hyphenation, a scan, an encrypted
one) and DOCX (python-docx: styles, lists, a table, page header and footer), plus bad inputs.
Each builder writes its file and returns the path; EXPECTED gives the extraction tables."""

from __future__ import annotations

from pathlib import Path

NEWS_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>La ville adopte un plan vélo | Le Quotidien</title>
<link rel="canonical" href="https://www.lequotidien.example/2024/06/plan-velo">
<meta property="og:site_name" content="Le Quotidien">
<meta name="author" content="Marie Dupont">
<meta property="article:published_time" content="2024-06-12T08:00:00+02:00">
<style>body{font-family:serif}</style>
</head><body>
<div id="cookie-banner" class="cookie consent">Nous utilisons des cookies pour améliorer votre expérience. <button>Accepter</button></div>
<header><nav><ul><li><a href="/">Accueil</a></li><li><a href="/politique">Politique</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article>
<h1>La ville adopte un plan vélo ambitieux</h1>
<p class="byline">Par Marie Dupont, publié le 12 juin 2024</p>
<p>Le conseil municipal a voté mardi soir un plan de <strong>50 millions d'euros</strong> pour développer les pistes cyclables. Le maire s'est félicité de ce <a href="https://example.org/vote">vote historique</a> pour la ville.</p>
<h2>Des pistes sécurisées</h2>
<p>Les nouvelles pistes seront séparées de la circulation automobile. Elles relieront les quartiers <em>périphériques</em> au centre-ville d'ici à 2027.</p>
<blockquote><p>« C'est une victoire pour tous les habitants », a déclaré une cycliste rencontrée place de la République.</p></blockquote>
<figure><figcaption>Une piste cyclable en construction dans le quartier nord.</figcaption></figure>
<ul><li>Trente kilomètres de pistes nouvelles seront construites.</li><li>Deux mille places de stationnement pour vélos seront installées.</li></ul>
<p>L'opposition dénonce un coût trop élevé et réclame une consultation publique avant le début des travaux.</p>
</article>
<div class="share">Partager sur Facebook Partager sur Twitter</div>
<aside class="related"><h3>À lire aussi</h3><ul><li><a href="/a">Le tramway prolongé jusqu'à la gare</a></li><li><a href="/b">Les bus gratuits le dimanche</a></li></ul></aside>
<div class="paywall">Abonnez-vous pour lire la suite de nos articles exclusifs.</div>
<section id="comments" class="comments"><h3>Commentaires</h3><p>Jean: Enfin une bonne nouvelle pour les cyclistes de la ville !</p></section>
</main>
<footer><p>© 2024 Le Quotidien. Tous droits réservés. Mentions légales.</p></footer>
</body></html>
"""

BOILERPLATE = ["cookies", "Accueil", "Partager", "lire aussi", "tramway", "Abonnez-vous", "Commentaires",
               "Enfin une bonne nouvelle", "droits réservés", "byline"]

NO_ARTICLE_PAGE = """<!DOCTYPE html><html><head><title>Accueil</title></head><body>
<div class="cookie-banner">Nous utilisons des cookies.</div>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/contact">Contact</a></li></ul></nav>
<footer>© 2024</footer></body></html>
"""

MARKDOWN = """---
title: Le budget de la ville
author: Service communication
---

# Le budget de la ville

Le conseil a adopté le **budget** de l'année, avec une [hausse modérée](https://example.org/budget "Budget") des impôts.

## Les priorités

- La rénovation des *écoles* primaires.
- Un nouveau réseau de `bus-express` pour la banlieue.
1. Premier point numéroté du programme.

> Nous tenons nos promesses, a dit la maire.

![Le nouvel hôtel de ville](images/mairie.png)

```python
print("ne pas traduire")
```

| Poste | Montant |
| --- | --- |
| Écoles primaires | 12 millions |
"""

MARKDOWN_EXPECTED = [
    ("heading", "Le budget de la ville"),
    ("paragraph", "Le conseil a adopté le budget de l'année, avec une hausse modérée des impôts."),
    ("heading", "Les priorités"),
    ("list item", "La rénovation des écoles primaires."),
    ("list item", "Un nouveau réseau de bus-express pour la banlieue."),
    ("list item", "Premier point numéroté du programme."),
    ("quote", "Nous tenons nos promesses, a dit la maire."),
    ("paragraph", "Le nouvel hôtel de ville"),
    ("table cell", "Poste"), ("table cell", "Montant"), ("table cell", "Écoles primaires"), ("table cell", "12 millions"),
]
# Markup that must never reach the model, and must come back in the copy
MARKDOWN_KEPT = ["---\ntitle: Le budget de la ville", "# ", "## ", "**", "](https://example.org/budget \"Budget\")", "- ",
                 "*", "`bus-express`", "1. ", "> ", "![", "](images/mairie.png)", "```python\nprint(\"ne pas traduire\")\n```",
                 "| --- | --- |"]

NEWS_EXPECTED = [
    ("heading", "La ville adopte un plan vélo ambitieux"),
    ("paragraph", "Le conseil municipal a voté mardi soir un plan de 50 millions d'euros pour développer les pistes "
                  "cyclables. Le maire s'est félicité de ce vote historique pour la ville."),
    ("heading", "Des pistes sécurisées"),
    ("paragraph", "Les nouvelles pistes seront séparées de la circulation automobile. Elles relieront les quartiers "
                  "périphériques au centre-ville d'ici à 2027."),
    ("quote", "« C'est une victoire pour tous les habitants », a déclaré une cycliste rencontrée place de la République."),
    ("caption", "Une piste cyclable en construction dans le quartier nord."),
    ("list item", "Trente kilomètres de pistes nouvelles seront construites."),
    ("list item", "Deux mille places de stationnement pour vélos seront installées."),
    ("paragraph", "L'opposition dénonce un coût trop élevé et réclame une consultation publique avant le début des travaux."),
]
NEWS_META = {"title": "La ville adopte un plan vélo ambitieux", "author": "Marie Dupont", "date": "2024-06-12",
             "site": "Le Quotidien", "url": "https://www.lequotidien.example/2024/06/plan-velo"}

# PDF pages: the lines as laid out (a running header, a page number at the foot), with
# end-of-line hyphens: `trans-` + `port` is one word, `au-` + `delà` keeps its hyphen.
PDF_PAGES = [
    ["Rapport annuel 2024 - Région Sud",
     "La région a investi cette année dans les trans-",
     "ports publics et dans la rénovation des lycées de",
     "toutes les villes moyennes du territoire régional.",
     "",
     "Les résultats vont au-",
     "delà des objectifs fixés.",
     "1"],
    ["Rapport annuel 2024 - Région Sud",
     "Le nombre de voyageurs a augmenté de douze pour",
     "cent, ce qui dépasse les prévisions les plus opti-",
     "mistes des services de la région et de l'État.",
     "",
     "La fréquentation reste forte.",
     "2"],
    ["Rapport annuel 2024 - Région Sud",
     "Les prochaines étapes seront présentées au conseil",
     "régional lors de sa séance du mois de septembre.",
     "3"],
]
PDF_EXPECTED = [
    ("paragraph", "La région a investi cette année dans les transports publics et dans la rénovation des lycées de "
                  "toutes les villes moyennes du territoire régional."),
    ("paragraph", "Les résultats vont au-delà des objectifs fixés."),
    ("paragraph", "Le nombre de voyageurs a augmenté de douze pour cent, ce qui dépasse les prévisions les plus "
                  "optimistes des services de la région et de l'État."),
    ("paragraph", "La fréquentation reste forte."),
    ("paragraph", "Les prochaines étapes seront présentées au conseil régional lors de sa séance du mois de septembre."),
]

DOCX_EXPECTED = [
    ("heading", "Note sur la réforme des retraites"),
    ("paragraph", "La réforme entrera en vigueur le premier janvier. Elle concerne tous les salariés."),
    ("list item", "Le départ à soixante-quatre ans."),
    ("list item", "La durée de cotisation allongée."),
    ("quote", "Cette réforme est nécessaire, a dit le ministre."),
    ("table cell", "Année"), ("table cell", "Âge de départ"), ("table cell", "2024"), ("table cell", "Soixante-deux ans"),
    ("caption", "Tableau 1 : calendrier de la réforme."),
    ("paragraph", "Les syndicats appellent à une grève nationale."),
]
DOCX_META = {"title": "Note retraites", "author": "Cellule économie", "page header": "Document interne",
             "page footer": "Confidentiel"}


def news_page(folder: Path, name: str = "article.html") -> Path:
    return _write(folder / name, NEWS_PAGE.encode("utf-8"))


def markdown(folder: Path, name: str = "budget.md") -> Path:
    return _write(folder / name, MARKDOWN.encode("utf-8"))


def pdf(folder: Path, name: str = "rapport.pdf", pages: list[list[str]] | None = None, scan: bool = False,
        password: str | None = None, header: str = "", footer: str = "", aes: bool = False) -> Path:
    """`header` / `footer`: a line at the top / foot of every page, `{n}` and `{total}` filled in;
    `aes`: encrypted with AES-256, an owner password and the empty user password."""
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.set_title("Rapport annuel")
    doc.set_author("Région Sud")
    doc.set_font("Helvetica", size=11)
    pages = pages or PDF_PAGES
    for n, lines in enumerate(pages, 1):
        doc.add_page()
        if header:
            doc.text(20, 14, header.format(n=n, total=len(pages)))  # at the usual line spacing above the text
        if footer:
            doc.text(80, 290, footer.format(n=n, total=len(pages)))
        if scan:  # an image-only page: shapes, no text
            doc.set_fill_color(120, 120, 120)
            doc.rect(20, 20, 170, 250, style="F")
            continue
        y = 20
        for i, line in enumerate(lines):
            if i == len(lines) - 1 and line.isdigit():
                doc.text(105, 285, line)  # the page number, at the foot
                continue
            if not line:  # a paragraph break: a wider gap, as a layout leaves
                y += 5
                continue
            doc.text(20, y, line)
            y += 6 if i else 12
    if password:
        doc.set_encryption(owner_password="owner-" + password, user_password=password)
    if aes:
        from fpdf.enums import EncryptionMethod

        doc.set_encryption(owner_password="owner", user_password="", encryption_method=EncryptionMethod.AES_256)
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    doc.output(str(path))
    return path


def docx(folder: Path, name: str = "note.docx") -> Path:
    import docx as python_docx
    from docx.shared import Pt

    doc = python_docx.Document()
    doc.core_properties.title = DOCX_META["title"]
    doc.core_properties.author = DOCX_META["author"]
    section = doc.sections[0]
    section.header.paragraphs[0].text = DOCX_META["page header"]
    section.footer.paragraphs[0].text = DOCX_META["page footer"]
    doc.add_heading("Note sur la réforme des retraites", level=1)
    p = doc.add_paragraph()
    run = p.add_run("La réforme entrera en vigueur le premier janvier. ")
    run.bold = True
    run.font.size = Pt(13)
    p.add_run("Elle concerne tous les salariés.")
    doc.add_paragraph("Le départ à soixante-quatre ans.", style="List Bullet")
    doc.add_paragraph("La durée de cotisation allongée.", style="List Bullet")
    doc.add_paragraph("Cette réforme est nécessaire, a dit le ministre.", style="Quote")
    table = doc.add_table(rows=2, cols=2)
    for r, row in enumerate([("Année", "Âge de départ"), ("2024", "Soixante-deux ans")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    doc.add_paragraph("Tableau 1 : calendrier de la réforme.", style="Caption")
    doc.add_paragraph("")
    last = doc.add_paragraph("Les syndicats appellent à une ")
    _hyperlink(last, "https://example.org/greve", "grève nationale")
    last.add_run(".")
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _hyperlink(paragraph, url: str, text: str) -> None:
    """A real w:hyperlink (python-docx reads them but has no call to add one)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
    run, words = OxmlElement("w:r"), OxmlElement("w:t")
    words.text = text
    run.append(words)
    link.append(run)
    paragraph._p.append(link)


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- containers: EPUB, zip bombs, members marked encrypted or in an unknown compression ------

def epub(folder: Path, name: str = "livre.epub", manifest: str | None = None, chapters: dict | None = None) -> Path:
    """A small EPUB: a spine of two chapters (or `manifest` / `chapters` as given)."""
    import zipfile

    chapters = chapters if chapters is not None else {
        "a.xhtml": "<h1>Premier chapitre</h1><p>Il était une fois un roi.</p>",
        "b.xhtml": "<h1>Second chapitre</h1><p>Le roi partit en voyage.</p>"}
    manifest = manifest if manifest is not None else "".join(f'<item id="c{i}" href="{n}"/>' for i, n in enumerate(chapters))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                      '<rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>')
        book.writestr("OEBPS/content.opf", '<package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                      f'<metadata><dc:title>Le Livre</dc:title></metadata><manifest>{manifest}</manifest>'
                      f'<spine>{spine}</spine></package>')
        for chapter, body in chapters.items():
            book.writestr(f"OEBPS/{chapter}", f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>')
    return path


def zip_bomb(source: Path, path: Path, member: str, size: int) -> Path:
    """`source` (a DOCX or EPUB) with `member` replaced by `size` bytes of spaces, deflated as it
    is written (a few MB on disk for a GB out)."""
    import zipfile

    block = b" " * (1 << 20)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != member:
                out.writestr(info, src.read(info))
                continue
            bomb = zipfile.ZipInfo(member)
            bomb.compress_type = zipfile.ZIP_DEFLATED
            with out.open(bomb, "w", force_zip64=True) as sink:
                sink.write(src.read(info))
                for _ in range(size // len(block)):
                    sink.write(block)
    return path


def mark_member(path: Path, member: str, encrypted: bool = False, method: int | None = None) -> Path:
    """Mark `member` in the zip's central directory as encrypted, or as compressed with `method`
    (9: deflate64, 99: WinZip AES), as other tools write them and zipfile cannot read."""
    import struct

    data = bytearray(path.read_bytes())
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_len].decode() == member:
            if encrypted:
                data[at + 8] |= 0x1
            if method is not None:
                struct.pack_into("<H", data, at + 10, method)
        at += 4
    path.write_bytes(bytes(data))
    return path


# --- short PDFs with running headers and footers (a press release of 2, 3, 10 pages) --------------

QUARTERS = ["nord", "sud", "est", "ouest", "centre", "port", "gare", "colline", "plaine", "rivière"]


def press_pages(count: int, repeat_title: bool = False) -> list[list[str]]:
    """Pages of a press release: page 1 opens with its title; each page ends its paragraphs
    (`repeat_title`: the title's words come again once, as a line of page 2's body)."""
    pages = []
    for n in range(1, count + 1):
        lines = ["Le plan vélo est adopté"] if n == 1 else [""]
        lines += _press_body(n)
        if repeat_title and n == 2:
            lines[3:3] = ["", "Le plan vélo est adopté"]
        pages.append(lines)
    return pages


def _press_body(n: int) -> list[str]:
    quarter = QUARTERS[(n - 1) % len(QUARTERS)]
    return [f"Le conseil a voté la mesure du quartier {quarter}, qui concerne les pistes",
            f"cyclables de ce quartier et leur entretien pendant les années à venir.",
            "",
            f"La séance consacrée au quartier {quarter} a duré trois heures."]


def press_expected(count: int, repeat_title: bool = False) -> list[str]:
    out = ["Le plan vélo est adopté"]
    for n in range(1, count + 1):
        body = _press_body(n)
        out += [body[0] + " " + body[1], body[3]]
        if repeat_title and n == 2:
            out[-2:-1] = [out[-2], "Le plan vélo est adopté"]
    return out


def nested_pdf(folder: Path, name: str = "imbrique.pdf", depth: int = 50_000) -> Path:
    """A two-page PDF whose first page's content stream opens with `depth` nested arrays."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, StreamObject

    writer = PdfWriter(clone_from=PdfReader(pdf(folder, "plain-" + name, press_pages(2))))
    page = writer.pages[0]
    stream = StreamObject()
    stream.set_data(b"[" * depth + b"]" * depth + b"\n" + page.get_contents().get_data())
    page[NameObject("/Contents")] = writer._add_object(stream)
    path = folder / name
    writer.write(str(path))
    return path

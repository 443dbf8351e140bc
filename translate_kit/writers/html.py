"""`html`: one self-contained page per document, source and translation side by side.

No external assets, no network. A paragraph of several sentences is a row per sentence, each a
focusable <span data-k="para-seg"> that highlights its counterpart; columns stack below 700 px.
Flagged sentences (quality.py) and sentences to check (checks/) are marked, with a switch that
shows only the latter. Every text goes through html.escape. The layout's reasons, and why by
hand: docs/design.md#writers
"""

from __future__ import annotations

from html import escape

from . import FLAG_MEANINGS, FlagLegend, Tally, Writer, header_fields, reasons, title_of, to_check

STYLE = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--hl:#ffe58f}
*{box-sizing:border-box}
body{margin:0;font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff}
header{padding:1rem 1.5rem;border-bottom:1px solid var(--line);background:#f6f8fa}
h1{font-size:1.4rem;line-height:1.3;margin:0 0 .6rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:0;font-size:.85rem;color:var(--muted)}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
main{padding:0 1.5rem 3rem}
.row{display:grid;grid-template-columns:1fr 1fr;gap:0 2.5rem}
.labels{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:.4rem 0;font-size:.8rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:var(--muted)}
.para{padding:.7rem 0;border-bottom:1px solid #eef1f4}
.src,.tgt{white-space:pre-wrap;overflow-wrap:anywhere}
.src{color:#3d444d}
.s{border-radius:3px;cursor:pointer;transition:background-color .1s}
.s.hl,.s:focus{background:var(--hl);outline:none}
.s:focus-visible{box-shadow:0 0 0 2px #bf8700}
.s.empty::after{content:"\\2205";color:var(--muted)}
.s.flagged{text-decoration:underline wavy #cf222e}
.s.flagged::after{content:" \\26A0  " attr(data-flag);display:inline-block;text-decoration:none;font-size:.75em;color:#cf222e;white-space:nowrap}
.para.rows{padding:.35rem 0}.rows>.row{padding:.35rem 0}
.tocheck>.src,.tocheck>.tgt{position:relative}
.tocheck>.src::after,.tocheck>.tgt::after{content:"";position:absolute;left:-.75rem;top:.2em;bottom:.2em;width:5px;border-radius:3px;background:#d4a72c}
.tocheck[data-verdict=doubt]>.src::after,.tocheck[data-verdict=doubt]>.tgt::after{background:#cf222e}
.tally{margin:.6rem 0 0;font-size:.9rem}.tally strong{color:#9a6700}.tally label{margin-left:1rem;cursor:pointer}
body:has(#only-check:checked) main .row:not(.tocheck):not(.labels){display:none}
body:has(#only-check:checked) .para.rows:not(:has(.tocheck)){display:none}
@media (max-width:700px){
 body{font-size:16px}header,main{padding-left:.9rem;padding-right:.9rem}
 .row{grid-template-columns:1fr}.labels{display:none}
 .src::before,.tgt::before{content:attr(lang);display:block;font-size:.7rem;font-weight:600;text-transform:uppercase;color:var(--muted)}
 .tgt{margin-top:.4rem;padding-left:.7rem;border-left:3px solid var(--line)}
 .rows>.row+.row .src::before,.rows>.row+.row .tgt::before{display:none}
}
"""

SCRIPT = """
(function(){
  function mark(event, on){
    var s = event.target.closest ? event.target.closest(".s") : null;
    if (!s) return;
    document.querySelectorAll('.s[data-k="' + s.dataset.k + '"]').forEach(function(x){ x.classList.toggle("hl", on); });
  }
  ["mouseover", "focusin"].forEach(function(t){ document.addEventListener(t, function(e){ mark(e, true); }); });
  ["mouseout", "focusout"].forEach(function(t){ document.addEventListener(t, function(e){ mark(e, false); }); });
  var tally = document.getElementById("tally-count");
  if (tally) {
    var n = document.querySelectorAll(".tgt .s.tocheck").length, m = document.querySelectorAll(".tgt .s").length;
    tally.textContent = n + " of " + m + " sentences to check";
  }
})();
"""


ROW_SENTENCES = 1  # a paragraph of more sentences is written as a row per sentence


def _sentence(s, text: str, with_flag: bool) -> str:
    """One sentence; a flagged translation shows its flag, a sentence to check (both sides) its reasons."""
    classes = "s" + ("" if text else " empty") + (" flagged" if with_flag and s.flag else "") + (" tocheck" if to_check(s) else "")
    attrs = ""
    if with_flag and s.flag:
        attrs = f' data-flag="{escape(s.flag)}"'
    if to_check(s) and reasons(s):
        attrs += f' data-verdict="{escape(s.verdict)}" title="{escape(s.verdict + ": " + reasons(s))}"'
    elif with_flag and s.flag:
        attrs += f' title="{escape(FLAG_MEANINGS.get(s.flag, s.flag))}"'
    return f'<span class="{classes}" data-k="{s.para}-{s.seg}" tabindex="0"{attrs}>{escape(text)}</span>'


def _column(para: list, role: str, lang: str) -> str:
    """One column of one paragraph: sentences with the whitespace that followed them in the source."""
    parts = []
    for i, s in enumerate(para):
        text = s.text if role == "src" else s.target.strip()
        space = s.space_after if i < len(para) - 1 else ""
        parts.append(_sentence(s, text, role == "tgt") + escape(space))
    return f'<div class="{role}" lang="{escape(lang)}">{"".join(parts)}</div>'


def _columns(result, segments: list) -> str:
    return _column(segments, "src", result.src_lang) + _column(segments, "tgt", result.tgt_lang)


def _mark(segments: list) -> tuple[str, str]:
    """The class and attributes that mark a row holding a sentence to check (reasons on hover)."""
    marked = [s for s in segments if to_check(s)]
    if not marked:
        return "", ""
    verdict = "doubt" if any(s.verdict == "doubt" for s in marked) else "check"
    title = "\n".join(f"{s.verdict}: {reasons(s)}" for s in marked)
    return " tocheck", f' data-verdict="{verdict}" title="{escape(title)}"'


def _tally(words: str) -> str:
    if not words:
        return ""
    return (f'<p class="tally"><strong id="tally-count">{escape(words)}</strong>'
            '<label><input type="checkbox" id="only-check"> show only the sentences to check</label></p>')


def _header(result, title: str, legend: str, tally: str = "") -> str:
    fields = header_fields(result) + ([("Flags", legend)] if legend else [])
    rows = "".join(f"<dt>{escape(key)}</dt><dd>{escape(value)}</dd>" for key, value in fields)
    return f"<header><h1>{escape(title)}</h1><dl>{rows}</dl>{_tally(tally)}</header>"


class HtmlWriter(Writer):
    name = "html"
    ext = "html"

    def head(self, result) -> str:
        self.legend, self.tally = FlagLegend(result), Tally(result)
        title = title_of(result)
        src, tgt = result.src_lang, result.tgt_lang
        return "\n".join([
            "<!DOCTYPE html>",
            f'<html lang="{escape(tgt)}">',
            '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="translate_kit"><title>{escape(title)}</title>',
            f"<style>{STYLE}</style></head>",
            "<body>",
            _header(result, title, self.legend.head, self.tally.head),
            f'<main><div class="row labels" aria-hidden="true"><div>{escape(src)}</div><div>{escape(tgt)}</div></div>',
            "",
        ])

    def paragraph(self, result, segments, continued) -> str:
        """A row of two columns, or a row per sentence for a long paragraph; a continued paragraph
        is another section (only the first has the id)."""
        self.legend.note(segments)
        ident = "" if continued else f' id="p{segments[0].para}"'
        if len(segments) <= ROW_SENTENCES:
            mark, attrs = _mark(segments)
            return f'<section class="row para{mark}"{ident}{attrs}>{_columns(result, segments)}</section>\n'
        rows = "".join(f'<div class="row{_mark([s])[0]}"{_mark([s])[1]}>{_columns(result, [s])}</div>' for s in segments)
        return f'<section class="para rows"{ident}>{rows}</section>\n'

    def tail(self, result) -> str:
        late = f"<footer><dl><dt>Flags</dt><dd>{escape(self.legend.rest)}</dd></dl></footer>\n" if self.legend.rest else ""
        return f"</main>\n{late}<script>{SCRIPT}</script>\n</body></html>\n"

"""`html`: one self-contained page per document, source and translation side by side.

No external assets and no network: the style sheet and the few lines of script are inline, the
fonts are the reader's own. Each paragraph is a row of two columns; each sentence is a focusable
<span> carrying its position (`data-k="para-seg"`), and pointing at or tabbing to a sentence
highlights its counterpart in the other column. Below 700 px the columns stack, each block
labelled with its language, so the page reads on a phone.

Every piece of text goes through html.escape (quotes included, since some land in attributes).
Written by hand rather than with a template engine: one page shape, a dozen lines of markup, and
no new dependency.
"""

from __future__ import annotations

from html import escape

from . import Writer, header_fields, title_of

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
@media (max-width:700px){
 body{font-size:16px}header,main{padding-left:.9rem;padding-right:.9rem}
 .row{grid-template-columns:1fr}.labels{display:none}
 .src::before,.tgt::before{content:attr(lang);display:block;font-size:.7rem;font-weight:600;text-transform:uppercase;color:var(--muted)}
 .tgt{margin-top:.4rem;padding-left:.7rem;border-left:3px solid var(--line)}
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
})();
"""


def _sentence(s, text: str, with_flag: bool) -> str:
    classes = "s" + ("" if text else " empty") + (" flagged" if with_flag and s.flag else "")
    title = f' title="{escape(s.flag)}"' if with_flag and s.flag else ""
    return f'<span class="{classes}" data-k="{s.para}-{s.seg}" tabindex="0"{title}>{escape(text)}</span>'


def _column(para: list, role: str, lang: str) -> str:
    """One column of one paragraph: sentences with the whitespace that followed them in the source."""
    parts = []
    for i, s in enumerate(para):
        text = s.text if role == "src" else s.target.strip()
        space = s.space_after if i < len(para) - 1 else ""
        parts.append(_sentence(s, text, role == "tgt") + escape(space))
    return f'<div class="{role}" lang="{escape(lang)}">{"".join(parts)}</div>'


def _header(result, title: str) -> str:
    rows = "".join(f"<dt>{escape(key)}</dt><dd>{escape(value)}</dd>" for key, value in header_fields(result))
    return f"<header><h1>{escape(title)}</h1><dl>{rows}</dl></header>"


class HtmlWriter(Writer):
    name = "html"
    ext = "html"

    def head(self, result) -> str:
        title = title_of(result)
        src, tgt = result.src_lang, result.tgt_lang
        return "\n".join([
            "<!DOCTYPE html>",
            f'<html lang="{escape(tgt)}">',
            '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="translate_kit"><title>{escape(title)}</title>',
            f"<style>{STYLE}</style></head>",
            "<body>",
            _header(result, title),
            f'<main><div class="row labels" aria-hidden="true"><div>{escape(src)}</div><div>{escape(tgt)}</div></div>',
            "",
        ])

    def paragraph(self, result, segments, continued) -> str:
        """A row of two columns; a continued paragraph is another row (only the first has the id)."""
        ident = "" if continued else f' id="p{segments[0].para}"'
        columns = _column(segments, "src", result.src_lang) + _column(segments, "tgt", result.tgt_lang)
        return f'<section class="row para"{ident}>{columns}</section>\n'

    def tail(self, result) -> str:
        return f"</main>\n<script>{SCRIPT}</script>\n</body></html>\n"

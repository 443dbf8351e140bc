"""The page at `/`: paste text, pick languages, read source and translation side by side.

The HTML writer's look (its style sheet and highlight script, writers/html.py): one row per
paragraph, each sentence a focusable span whose counterpart lights up. The page calls the
server's own `/languages` and `/translate_segments`; `/?q=...&source=fr&target=en` fills the
form and translates at once (a link that shares a translation); every piece of text is put in the page with
textContent, never as markup, so nothing a user pastes can run as script.
"""

from __future__ import annotations

from ..writers.html import SCRIPT, STYLE

EXTRA_STYLE = """
form{display:grid;gap:.6rem;padding:1rem 1.5rem;border-bottom:1px solid var(--line)}
textarea{width:100%;min-height:9rem;font:inherit;padding:.5rem;border:1px solid var(--line);border-radius:6px}
.bar{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
select,button,input{font:inherit;padding:.3rem .6rem}
#status{color:var(--muted);font-size:.9rem}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>translate_kit</title><style>{style}</style></head>
<body>
<header><h1>translate_kit</h1></header>
<form id="f">
<textarea id="q" name="q" placeholder="Paste text to translate" aria-label="Text to translate"></textarea>
<div class="bar">
<label>From <select id="source" name="source"><option value="auto">Detect</option></select></label>
<label>To <select id="target" name="target"></select></label>
{key}
<button id="go" type="submit">Translate</button>
<span id="status" role="status"></span>
</div>
</form>
<main id="out"></main>
<script>
(function(){{
  var langs = [];
  var source = document.getElementById("source"), target = document.getElementById("target");
  function option(select, code, name){{ var o = document.createElement("option"); o.value = code; o.textContent = name + " (" + code + ")"; select.appendChild(o); }}
  function targets(){{
    var chosen = source.value, keep = target.value, seen = {{}};
    target.textContent = "";
    langs.forEach(function(l){{ if (chosen === "auto" || l.code === chosen) l.targets.forEach(function(t){{ seen[t] = true; }}); }});
    langs.forEach(function(l){{ if (seen[l.code]) option(target, l.code, l.name); }});
    if (keep && seen[keep]) target.value = keep; else if (seen.en) target.value = "en";
  }}
  var params = new URLSearchParams(location.search);
  fetch("languages").then(function(r){{ return r.json(); }}).then(function(list){{
    langs = list;
    list.forEach(function(l){{ if (l.targets.length) option(source, l.code, l.name); }});
    if (params.get("source")) source.value = params.get("source");
    targets();
    if (params.get("target")) target.value = params.get("target");
    if (params.get("q")) {{ document.getElementById("q").value = params.get("q"); document.getElementById("go").click(); }}
  }});
  source.addEventListener("change", targets);
  function cell(cls, lang, segments, field){{
    var div = document.createElement("div"); div.className = cls; div.lang = lang;
    segments.forEach(function(s, i){{
      var span = document.createElement("span"); span.className = "s"; span.tabIndex = 0;
      span.dataset.k = s.para + "-" + s.index; span.textContent = s[field];
      if (i) div.appendChild(document.createTextNode(" "));
      div.appendChild(span);
    }});
    return div;
  }}
  function show(result){{
    var out = document.getElementById("out"); out.textContent = "";
    var labels = document.createElement("div"); labels.className = "row labels";
    [result.source, result.target].forEach(function(code){{ var d = document.createElement("div"); d.textContent = code; labels.appendChild(d); }});
    out.appendChild(labels);
    var paras = [], byPara = {{}}, counts = {{}};
    result.segments.forEach(function(s){{
      if (!(s.para in byPara)) {{ byPara[s.para] = []; paras.push(s.para); }}
      s.index = counts[s.para] = (counts[s.para] || 0) + 1;
      byPara[s.para].push(s);
    }});
    paras.forEach(function(p){{
      var row = document.createElement("section"); row.className = "row para";
      row.appendChild(cell("src", result.source, byPara[p], "source"));
      row.appendChild(cell("tgt", result.target, byPara[p], "target"));
      out.appendChild(row);
    }});
  }}
  document.getElementById("f").addEventListener("submit", function(e){{
    e.preventDefault();
    var status = document.getElementById("status"); status.textContent = "translating...";
    var body = {{q: document.getElementById("q").value, source: source.value, target: target.value}};
    var key = document.getElementById("api_key"); if (key) body.api_key = key.value;
    fetch("translate_segments", {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: JSON.stringify(body)}})
      .then(function(r){{ return r.json().then(function(j){{ return [r.ok, j]; }}); }})
      .then(function(res){{
        if (!res[0]) {{ status.textContent = res[1].error || "error"; return; }}
        status.textContent = res[1].detectedLanguage ? "detected: " + res[1].detectedLanguage.language : "";
        show(res[1]);
      }}, function(){{ status.textContent = "the server did not answer"; }});
  }});
}})();
{script}
</script>
</body></html>
"""


def page(needs_key: bool) -> str:
    key = '<label>API key <input id="api_key" type="password" autocomplete="off"></label>' if needs_key else ""
    return PAGE.format(style=STYLE + EXTRA_STYLE, script=SCRIPT, key=key)

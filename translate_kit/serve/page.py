"""The page at `/`: paste text, pick languages, read source and translation side by side.

The HTML writer's look (its style sheet and highlight script, writers/html.py): one row per
paragraph, each sentence a focusable span whose counterpart lights up. The page calls the
server's own `/languages`, `/frontend/settings` (the limits), `/translate_segments` and
`/translate_file`; `/?q=...&source=fr&target=en` fills the form and translates at once (a link
that shares a translation). Text already in the target language says so; text over the server's
limit is refused before it is sent, in words; a file (any format the server reads) comes back as
a download link; a button copies the translation. Every piece of text is put in the page with
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
#status.problem{color:#a40000}
.local{color:var(--muted);font-size:.85rem;margin:.2rem 1.5rem}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>translate_kit</title><style>{style}</style></head>
<body>
<header><h1>translate_kit</h1></header>
<p class="local" id="local">Everything runs on this machine: your text and files are translated by local models and sent nowhere else.</p>
<form id="f">
<textarea id="q" name="q" placeholder="Paste text to translate" aria-label="Text to translate"></textarea>
<div class="bar">
<label>From <select id="source" name="source"><option value="auto">Detect</option></select></label>
<label>To <select id="target" name="target"></select></label>
{key}
<button id="go" type="submit">Translate</button>
<button id="copy" type="button" disabled>Copy translation</button>
<span id="count"></span>
</div>
<div class="bar">
<label>Or a file <input id="file" type="file" name="file"></label>
<button id="upload" type="button">Translate file</button>
<a id="download" hidden>Download the translation</a>
</div>
<div class="bar"><span id="status" role="status"></span></div>
</form>
<main id="out"></main>
<script>
(function(){{
  var langs = [], limit = -1, translation = "";
  var source = document.getElementById("source"), target = document.getElementById("target");
  var status = document.getElementById("status"), copy = document.getElementById("copy");
  function say(text, problem){{ status.textContent = text; status.className = problem ? "problem" : ""; }}
  function name(code){{ var found = langs.filter(function(l){{ return l.code === code; }})[0]; return found ? found.name : code; }}
  function number(n){{ return n.toLocaleString("en"); }}
  function problem(status, error){{
    if (status === 413) return "Too long for this server: " + error + ". Shorten the text or split the file, then try again.";
    if (status === 429 || status === 503) return "The server is busy; try again in a moment.";
    if (status === 403) return "This server needs an API key: enter it next to the languages.";
    return error || "error";
  }}
  var ready = fetch("frontend/settings").then(function(r){{ return r.json(); }}).then(function(s){{
    limit = s.charLimit;
    document.getElementById("file").accept = (s.supportedFilesFormat || []).join(",");
  }});
  function option(select, code, name){{ var o = document.createElement("option"); o.value = code; o.textContent = name + " (" + code + ")"; select.appendChild(o); }}
  function targets(){{
    var chosen = source.value, keep = target.value, seen = {{}};
    target.textContent = "";
    langs.forEach(function(l){{ if (chosen === "auto" || l.code === chosen) l.targets.forEach(function(t){{ seen[t] = true; }}); }});
    langs.forEach(function(l){{ if (seen[l.code]) option(target, l.code, l.name); }});
    if (keep && seen[keep]) target.value = keep; else if (seen.en) target.value = "en";
  }}
  var params = new URLSearchParams(location.search);
  ready.then(function(){{ return fetch("languages"); }}).then(function(r){{ return r.json(); }}).then(function(list){{
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
    translation = result.segments.map(function(s){{ return s.target; }}).join(" ");
    copy.disabled = !translation;
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
  document.getElementById("q").addEventListener("input", function(){{
    var n = document.getElementById("q").value.length;
    document.getElementById("count").textContent = limit > 0 ? number(n) + " / " + number(limit) + " characters" : "";
  }});
  copy.addEventListener("click", function(){{
    navigator.clipboard.writeText(translation).then(function(){{ say("Translation copied."); }},
      function(){{ say("Copying is not allowed here: select the translation and copy it by hand.", true); }});
  }});
  function key(){{ var k = document.getElementById("api_key"); return k ? k.value : null; }}
  document.getElementById("f").addEventListener("submit", function(e){{
    e.preventDefault();
    var q = document.getElementById("q").value;
    if (limit > 0 && q.length > limit) {{
      say("The text is " + number(q.length) + " characters long; this server translates at most " + number(limit) +
          " at a time. Shorten it or translate it in parts.", true);
      return;
    }}
    say("translating...");
    var body = {{q: q, source: source.value, target: target.value}};
    if (key() !== null) body.api_key = key();
    fetch("translate_segments", {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: JSON.stringify(body)}})
      .then(function(r){{ return r.json().then(function(j){{ return [r.status, j]; }}); }})
      .then(function(res){{
        if (res[0] !== 200) {{ say(problem(res[0], res[1].error), true); return; }}
        var found = res[1].detectedLanguage;
        show(res[1]);
        if (res[1].note) say(res[1].note);
        else say(found ? "detected: " + name(found.language) : "");
      }}, function(){{ say("The server did not answer.", true); }});
  }});
  document.getElementById("upload").addEventListener("click", function(){{
    var file = document.getElementById("file").files[0], link = document.getElementById("download");
    if (!file) {{ say("Choose a file first.", true); return; }}
    var form = new FormData();
    form.append("file", file); form.append("source", source.value); form.append("target", target.value);
    if (key() !== null) form.append("api_key", key());
    link.hidden = true; say("translating " + file.name + "...");
    fetch("translate_file", {{method: "POST", body: form}})
      .then(function(r){{ return r.json().then(function(j){{ return [r.status, j]; }}); }})
      .then(function(res){{
        if (res[0] !== 200) {{ say(problem(res[0], res[1].error), true); return; }}
        link.href = res[1].translatedFileUrl; link.hidden = false; say(file.name + " is translated (the link works once).");
      }}, function(){{ say("The server did not answer.", true); }});
  }});
}})();
{script}
</script>
</body></html>
"""


def page(needs_key: bool) -> str:
    key = '<label>API key <input id="api_key" type="password" autocomplete="off"></label>' if needs_key else ""
    return PAGE.format(style=STYLE + EXTRA_STYLE, script=SCRIPT, key=key)

"""`md`: Markdown, with its structure kept away from the model and put back in the copy.

Parsed with markdown-it-py (the CommonMark reference port for Python, already installed with
typer's `rich`; tables enabled): each heading, paragraph, list item, quote and table cell is one
Block of plain words. Heading markers, bullets and numbers, emphasis markers, link and image
targets, inline code, fenced and indented code blocks, HTML blocks and YAML/TOML front matter
never reach the model; link texts and image alt texts do. `rebuild()` writes the source file
again, line for line, with each block's lines replaced by its prefix (`## `, `- `, `> `) and its
translation with the markup restored (_inline.restore); every other line is copied as it was.
"""

from __future__ import annotations

import re

from . import Block, Extracted, Reader, Span
from ._inline import restore, say_moved

FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\r?\n.*?^\1[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?(?:\[[ xX]\][ \t]+)?(?:#{1,6}[ \t]+)?")
CELL_SPLIT = re.compile(r"(?<!\\)\|")


class MarkdownReader(Reader):
    name = "md"
    suffixes = (".md", ".markdown", ".mdown", ".mkd")
    libraries = {"markdown_it": "markdown-it-py"}
    native_ext = "md"

    def read(self, data: bytes, name: str) -> Extracted:
        from ..documents import decode

        text, encoding, warnings = decode(data, name)
        return extract_markdown(text, encoding, warnings)

    def rebuild(self, doc, translations, lang: str = "") -> str:
        lines = list(doc.native["lines"])
        rows: dict[int, dict[int, str]] = {}
        moved = [0]
        for para, block in enumerate(doc.blocks):
            if para not in translations or block.anchor is None:
                continue
            out = render(block, translations[para], moved)
            anchor = block.anchor
            if anchor[0] == "cell":
                rows.setdefault(anchor[1], {})[anchor[2]] = out
                continue
            _, start, end, prefix = anchor
            ending = _ending(lines[end - 1])
            indent = " " * len(prefix) if prefix.strip() and not prefix.strip().startswith(">") else prefix
            lines[start] = prefix + out.replace("\n", "\\\n" + indent) + ending
            for i in range(start + 1, end):
                lines[i] = ""
        for line, cells in rows.items():
            lines[line] = _row(lines[line], cells)
        say_moved(doc, moved[0])
        return "".join(lines)


def extract_markdown(text: str, encoding: str = "utf-8", warnings: list | None = None) -> Extracted:
    meta: dict = {"encoding": encoding}
    body = text
    front = FRONT_MATTER.match(text)
    if front:  # blanked, not removed: line numbers stay those of the file
        body = "\n" * front.group().count("\n") + text[front.end():]
        meta.update(_front_matter(front.group()))
    tokens = _parse(body)
    lines = text.splitlines(keepends=True) or [""]
    blocks, context, row, cell = [], [], None, -1
    for i, token in enumerate(tokens):
        if token.nesting == 1:
            context.append(token)
            if token.type == "tr_open":
                row, cell = token.map[0] if token.map else None, -1
            elif token.type in ("th_open", "td_open"):
                cell += 1
        elif token.nesting == -1 and context:
            context.pop()
        if token.type != "inline" or not token.children:
            continue
        plain, spans = inline_text(token.children)
        lead = len(plain) - len(plain.lstrip())
        plain = plain.strip()
        spans = [Span(s.start - lead, s.end - lead, s.open, s.close, s.fixed) for s in spans]
        if not plain:
            continue
        kind, anchor = _kind_and_anchor(context, token, lines, row, cell)
        blocks.append(Block(kind, plain, spans, anchor))
    warnings = list(warnings or [])
    left = _left_out(tokens, re.split(r"\r\n?|\n", body))  # lines as markdown-it counts them
    if left:  # nested past what the parser follows: read line by line, and said
        blocks = _in_line_order(blocks + left)
        first, last = left[0].anchor[1] + 1, left[-1].anchor[1] + 1
        warnings.append(f"{len(left)} line(s) nested deeper than the Markdown parser follows ({MAX_NESTING} levels; "
                        f"lines {first}-{last}): read line by line, their nesting not kept")
    heading = next((b.text for b in blocks if b.kind == "heading"), None)
    if heading and "title" not in meta:
        meta["title"] = heading
    return Extracted(blocks, meta, warnings, native={"lines": lines})


MAX_NESTING = 300  # markdown-it's default (20) stops at 9 levels of lists; each level of nesting is a few Python frames
LEAVES = {"paragraph_open", "heading_open", "fence", "code_block", "html_block", "hr", "table_open"}
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")


def _parse(body: str) -> list:
    """The token stream; past what Python's recursion allows, markdown-it's own nesting limit
    (what it leaves out is read by _left_out)."""
    from markdown_it import MarkdownIt

    try:
        return MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable(["table", "strikethrough"]).parse(body)
    except RecursionError:
        return MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(body)


def _left_out(tokens, lines: list[str]) -> list[Block]:
    """Lines with words that no leaf block covers: what markdown-it skips past its nesting limit
    (it stops reading the rest of a container), each as a block of its own (its markers its prefix)."""
    covered = bytearray(len(lines))
    for token in tokens:
        if token.type in LEAVES and token.map:
            covered[token.map[0]:token.map[1]] = b"\x01" * (token.map[1] - token.map[0])
    found = []
    for i, line in enumerate(lines):
        if covered[i] or not line.strip() or REFERENCE.match(line):
            continue
        prefix = PREFIX.match(line).group()
        words = line[len(prefix):].strip()
        if words:
            kind = "list item" if re.search(r"[-*+]|\d[.)]", prefix) else "quote" if ">" in prefix else "paragraph"
            found.append(Block(kind, words, [], ("lines", i, i + 1, prefix)))
    return found


def _in_line_order(blocks: list[Block]) -> list[Block]:
    keyed, last = [], -1
    for block in blocks:
        if isinstance(block.anchor, tuple) and isinstance(block.anchor[1], int):
            last = block.anchor[1]
        keyed.append((last, block))
    return [b for _, b in sorted(keyed, key=lambda kb: kb[0])]


def _kind_and_anchor(context, token, lines, row, cell):
    types = {t.type for t in context}
    if "th_open" in types or "td_open" in types:
        return "table cell", (("cell", row, cell) if row is not None else None)
    parent = context[-1] if context else None
    if parent is not None and parent.type == "heading_open":
        kind = "heading"
    elif "list_item_open" in types:
        kind = "list item"
    elif "blockquote_open" in types:
        kind = "quote"
    else:
        kind = "paragraph"
    if parent is None or not parent.map:
        return kind, None
    start, end = parent.map
    if kind == "heading" and parent.markup in ("=", "-"):  # a setext heading: its underline stays
        end -= 1
    first = token.content.split("\n", 1)[0]
    line = lines[start] if start < len(lines) else ""
    at = line.find(first) if first else -1
    prefix = line[:at] if at >= 0 else PREFIX.match(line).group()
    return kind, ("lines", start, max(end, start + 1), prefix)


RAW_OPEN = re.compile(r"<(script|style|textarea|title|noscript|template)\b[^>]*(?<!/)>\Z", re.IGNORECASE)


def inline_text(children) -> tuple[str, list[Span]]:
    """The words of an inline token and the markup over them, as Spans. An inline <script> (or
    style, textarea, ...) and everything up to its end tag is one fixed span: its text is code,
    not words for the model."""
    out, spans, stack = [], [], []
    pos = 0
    raw: list[str] | None = None  # inside an inline raw-text element: its source so far
    closing = None

    def add(text: str) -> None:
        nonlocal pos
        out.append(text)
        pos += len(text)

    for child in children:
        kind = child.type
        if raw is not None:
            raw.append("\n" if kind in ("softbreak", "hardbreak") else child.content or child.markup)
            if kind == "html_inline" and closing.match(child.content):
                spans.append(Span(pos, pos, "".join(raw), "", fixed=True))
                raw = None
            continue
        if kind == "html_inline" and (opened := RAW_OPEN.match(child.content)):
            raw, closing = [child.content], re.compile(rf"</{opened.group(1)}\s*>", re.IGNORECASE)
        elif kind == "text":
            add(child.content)
        elif kind == "softbreak":
            add(" ")
        elif kind == "hardbreak":
            add("\n")
        elif kind == "code_inline":
            start = pos
            add(child.content)
            spans.append(Span(start, pos, child.markup, child.markup, fixed=True))
        elif kind == "html_inline":
            spans.append(Span(pos, pos, child.content, "", fixed=True))
        elif kind == "image":
            start = pos
            alt, _ = inline_text(child.children or [])
            add(alt)
            spans.append(Span(start, pos, "![", "](" + _target(child) + ")"))
        elif kind.endswith("_open"):
            stack.append((child, pos))
        elif kind.endswith("_close") and stack:
            opener, start = stack.pop()
            spans.append(_span(opener, start, pos))
    if raw is not None:  # never closed: kept as it was, all of it
        spans.append(Span(pos, pos, "".join(raw), "", fixed=True))
    return "".join(out), spans


def _span(opener, start: int, end: int) -> Span:
    if opener.type == "link_open":
        if opener.markup == "autolink":
            return Span(start, end, "<", ">", fixed=True)
        return Span(start, end, "[", "](" + _target(opener) + ")")
    return Span(start, end, opener.markup, opener.markup)


def _target(token) -> str:
    href = token.attrGet("href") or token.attrGet("src") or ""
    title = token.attrGet("title")
    href = f"<{href}>" if " " in href else href
    return href + (f' "{title}"' if title else "")


def render(block: Block, segments, moved: list[int]) -> str:
    """One block's translation as Markdown: the words, with the spans' markup around them
    (`moved[0]` counts the spans that had to be moved)."""
    pieces, n = restore(block.text, block.spans, segments)
    moved[0] += n
    out = []
    for kind, value in pieces:
        if kind == "text":
            out.append(value)
        elif kind == "fixed":
            out.append(value.open + block.text[value.start:value.end] + value.close)
        else:
            out.append(value.open if kind == "open" else value.close)
    return "".join(out)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):] or "\n"


def _row(line: str, cells: dict[int, str]) -> str:
    ending = _ending(line)
    parts = CELL_SPLIT.split(line.rstrip("\r\n"))
    offset = 1 if parts and not parts[0].strip() else 0
    for index, text in cells.items():
        k = index + offset
        if k < len(parts):
            parts[k] = " " + text.replace("|", "\\|") + " "
    return "|".join(parts) + ending


def _front_matter(text: str) -> dict:
    found = {}
    for key in ("title", "author", "date"):
        match = re.search(rf"^{key}\s*[:=]\s*[\"']?(.*?)[\"']?\s*$", text, re.MULTILINE | re.IGNORECASE)
        if match and match.group(1):
            found[key] = match.group(1)
    return found

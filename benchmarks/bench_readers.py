"""Reading speed and memory of the input readers: a generated 500-page PDF, 1 000 saved HTML pages.

    python benchmarks/bench_readers.py                    # 500 pages, 1 000 pages, 2 rounds
    python benchmarks/bench_readers.py --pages 100 --html 200 --rounds 1

PDF: one report of `--pages` A4 pages (fpdf2, Helvetica 11 pt, seed sentences wrapped into
justified paragraphs, a running header and a page number on every page) is read by each method in
a fresh process; peak RSS is that process's own ru_maxrss, "base" its RSS after the imports and
before the file is opened (so peak - base is what reading the file costs). Methods:
- `tk` = documents.read_document (pypdf in layout mode, page by page, then headers/footers
  dropped, paragraphs and hyphens rejoined: "of which reading") and segmentation into sentences;
- the raw text extraction of pypdf (plain and layout mode), pdfminer.six and pypdfium2, for
  comparison (the last two only when installed: they are not dependencies).
HTML: `--html` pages (the test fixture's boilerplate around 6-14 seed paragraphs each, with
links and emphasis) written to a folder, read in this process: `tk` (read_document: trafilatura,
then each block found again in the page for its markup, then sentences) against trafilatura's
extraction alone; sentences/s counts the sentences tk finds in the extracted text.
Rounds are interleaved (each method once per round); the median is reported. Prints a Markdown
table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

PDF_METHODS = ("tk", "pypdf-plain", "pypdf-layout", "pdfminer", "pypdfium2")
CHILD = r"""
import sys, time
method, path = sys.argv[1], sys.argv[2]
def status(key):  # VmRSS now, VmHWM the peak: this process's own (ru_maxrss survives exec on Linux)
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(key + ":")) / 1e3
def rss_now():
    return status("VmRSS")
if method == "tk":
    from translate_kit.documents import read_document
    from translate_kit.segment import iter_segments
    import pypdf
elif method in ("pypdf-plain", "pypdf-layout"):
    import pypdf
elif method == "pdfminer":
    from pdfminer.high_level import extract_text
elif method == "pypdfium2":
    import pypdfium2
base = rss_now()
t0 = time.perf_counter()
if method == "tk":
    from pathlib import Path
    doc = read_document(Path(path))
    read = time.perf_counter() - t0
    n = sum(1 for s in iter_segments(doc) if s.kind == "text")
elif method in ("pypdf-plain", "pypdf-layout"):
    r = pypdf.PdfReader(path)
    mode = "layout" if method.endswith("layout") else "plain"
    n = sum(len(p.extract_text(extraction_mode=mode)) for p in r.pages)
elif method == "pdfminer":
    n = len(extract_text(path))
else:
    pdf = pypdfium2.PdfDocument(path)
    n = 0
    for i in range(len(pdf)):
        page = pdf[i]
        n += len(page.get_textpage().get_text_range())
        page.close()
seconds = time.perf_counter() - t0
peak = status("VmHWM")
print(f"{seconds} {peak} {base} {n} {read if method == 'tk' else seconds}")
"""


def seed_sentences() -> list[str]:
    from translate_kit.documents import read_document
    from translate_kit.segment import segment_document

    out = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        out += [s.text for s in segment_document(read_document(path)) if s.kind == "text" and len(s.text) > 30]
    return out


def latin1(text: str) -> str:
    text = text.replace("’", "'").replace("œ", "oe").replace("Œ", "OE").replace("…", "...").replace("«", '"').replace("»", '"')
    return text.encode("latin-1", "replace").decode("latin-1")


def make_pdf(path: Path, pages: int, sentences: list[str]) -> None:
    from fpdf import FPDF

    rng = random.Random(7)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.text(20, 12, "Rapport annuel 2024 - Conseil regional")
        pdf.text(103, 290, str(number))
        pdf.set_font("Helvetica", size=11)
        pdf.set_xy(20, 20)
        while pdf.get_y() < 250:
            paragraph = " ".join(latin1(rng.choice(sentences)) for _ in range(rng.randint(2, 5)))
            pdf.multi_cell(170, 5.5, paragraph, align="J")
            pdf.ln(3)
    pdf.output(str(path))


def make_html(folder: Path, count: int, sentences: list[str]) -> list[Path]:
    import docfixtures

    rng = random.Random(11)
    head, _, rest = docfixtures.NEWS_PAGE.partition("<h1>")
    _, _, tail = rest.partition("</article>")
    paths = []
    for i in range(count):
        paragraphs = []
        for _ in range(rng.randint(6, 14)):
            words = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4)))
            cut = words.find(" ", len(words) // 3)
            if cut > 0 and rng.random() < 0.5:
                words = f"{words[:cut]} <a href=\"/n/{i}\">{words[cut + 1:cut + 12]}</a>{words[cut + 12:]}"
            paragraphs.append(f"<p>{words}</p>")
        title = rng.choice(sentences)[:70]
        page = f"{head}<h1>{title}</h1>\n" + "\n".join(paragraphs) + f"\n</article>{tail}"
        path = folder / f"page{i:04d}.html"
        path.write_text(page, encoding="utf-8")
        paths.append(path)
    return paths


def available(method: str) -> bool:
    module = {"pdfminer": "pdfminer", "pypdfium2": "pypdfium2"}.get(method)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run_pdf(path: Path, methods: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, *methods[:1], str(path)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout.split()
    seconds, peak, base, n, read = float(out[0]), float(out[1]), float(out[2]), int(out[3]), float(out[4])
    return {"seconds": seconds, "peak_mb": peak, "base_mb": base, "units": n, "read_seconds": read}


def bench_html(paths: list[Path]) -> dict:
    import trafilatura

    from translate_kit.documents import read_document
    from translate_kit.segment import iter_segments

    t0 = time.perf_counter()
    sentences = 0
    for path in paths:
        doc = read_document(path)
        sentences += sum(1 for s in iter_segments(doc) if s.kind == "text")
    tk_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    for path in paths:
        trafilatura.extract(path.read_text(encoding="utf-8"), output_format="xml", with_metadata=True,
                            include_comments=False, include_tables=True, deduplicate=False)
    raw_seconds = time.perf_counter() - t0
    return {"tk": tk_seconds, "trafilatura": raw_seconds, "sentences": sentences}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--html", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sentences = seed_sentences()
    methods = [m for m in PDF_METHODS if available(m)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pdf = tmp / "report.pdf"
        t0 = time.perf_counter()
        make_pdf(pdf, args.pages, sentences)
        print(f"generated {args.pages} pages ({pdf.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
        pages = make_html(tmp, args.html, sentences)
        pdf_runs = {m: [] for m in methods}
        html_runs = []
        for r in range(args.rounds):
            for m in methods:
                pdf_runs[m].append(run_pdf(pdf, [m]))
                print(f"round {r + 1} {m}: {pdf_runs[m][-1]}", file=sys.stderr)
            html_runs.append(bench_html(pages))
            print(f"round {r + 1} html: {html_runs[-1]}", file=sys.stderr)
    rows = []
    print(f"\nPDF, {args.pages} pages, median of {args.rounds} interleaved rounds, each method in its own process\n")
    print("| method | seconds | of which reading | pages/s | peak RSS MB | base RSS MB | peak - base MB |")
    print("|---|---|---|---|---|---|---|")
    for m in methods:
        sec = statistics.median(x["seconds"] for x in pdf_runs[m])
        read = statistics.median(x["read_seconds"] for x in pdf_runs[m])
        peak = max(x["peak_mb"] for x in pdf_runs[m])
        base = statistics.median(x["base_mb"] for x in pdf_runs[m])
        rows.append({"method": m, "seconds": sec, "read_seconds": read, "pages_per_s": args.pages / sec, "peak_mb": peak, "base_mb": base,
                     "units": pdf_runs[m][0]["units"]})
        print(f"| {m} | {sec:.1f} | {read:.1f} | {args.pages / sec:.1f} | {peak:.0f} | {base:.0f} | {peak - base:.0f} |")
    sent = html_runs[0]["sentences"]
    tk_sec = statistics.median(x["tk"] for x in html_runs)
    raw_sec = statistics.median(x["trafilatura"] for x in html_runs)
    print(f"\nHTML, {args.html} pages, {sent} sentences\n")
    print("| method | seconds | pages/s | sentences/s |\n|---|---|---|---|")
    print(f"| tk read_document + sentences | {tk_sec:.1f} | {args.html / tk_sec:.0f} | {sent / tk_sec:.0f} |")
    print(f"| trafilatura.extract alone | {raw_sec:.1f} | {args.html / raw_sec:.0f} | {sent / raw_sec:.0f} |")
    RESULTS.mkdir(exist_ok=True)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.platform(), "cpus": os.cpu_count(),
        "load": os.getloadavg(), "pages": args.pages, "html_pages": args.html, "rounds": args.rounds,
        "pdf": rows, "pdf_runs": pdf_runs, "html": {"sentences": sent, "tk_seconds": tk_sec, "trafilatura_seconds": raw_sec,
                                                    "runs": html_runs},
    }
    out = RESULTS / f"readers-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"\n{out}")


if __name__ == "__main__":
    main()

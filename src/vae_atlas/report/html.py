"""The report page: one self-contained HTML file (inline CSS, no scripts, no network) that links
the PNG/GIF files next to it, grouped in sections, each with a caption."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from vae_atlas.analysis.diagnostics import Finding
from vae_atlas.report.items import SECTIONS, FigureItem

_CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#e3e6ec; --bg:#f6f7f9; --accent:#3a5ba0; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color:var(--ink); background:var(--bg); }
header { background:#1d2330; color:#fff; padding:22px 32px; }
header h1 { margin:0 0 4px; font-size:24px; }
header p { margin:0; color:#c7cdda; }
nav { position:sticky; top:0; z-index:2; background:#fff; border-bottom:1px solid var(--line);
  padding:8px 32px; display:flex; gap:18px; flex-wrap:wrap; font-size:14px; }
nav a { color:var(--accent); text-decoration:none; }
main { max-width:1280px; margin:0 auto; padding:20px 32px 60px; }
section { scroll-margin-top:48px; }
h2 { margin:34px 0 12px; font-size:20px; border-bottom:2px solid var(--line); padding-bottom:4px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(520px, 1fr)); gap:18px; }
figure { margin:0; background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px;
  display:flex; flex-direction:column; }
figure.wide { grid-column:1 / -1; }
figure h3 { margin:0 0 8px; font-size:16px; }
figure .media { display:flex; gap:10px; flex-wrap:wrap; align-items:flex-start; }
figure img { max-width:100%; height:auto; border-radius:4px; }
figcaption { margin-top:8px; color:var(--muted); font-size:14px; }
table { border-collapse:collapse; background:#fff; border:1px solid var(--line); font-size:14px; }
th, td { padding:6px 12px; border-bottom:1px solid var(--line); text-align:left; }
th { background:#eef1f6; }
.summary { display:flex; gap:24px; flex-wrap:wrap; align-items:flex-start; }
ul.findings { list-style:none; padding:0; margin:0; display:grid; gap:8px; }
ul.findings li { background:#fff; border:1px solid var(--line); border-left:6px solid #9aa3b5;
  border-radius:6px; padding:8px 12px; }
ul.findings li.warning { border-left-color:#d9822b; }
ul.findings li.ok { border-left-color:#3f9c5a; }
ul.findings li.note { border-left-color:#4f7cc4; }
.badge { display:inline-block; min-width:62px; font-size:12px; font-weight:600;
  text-transform:uppercase; color:#fff; border-radius:10px; padding:1px 8px; margin-right:8px;
  text-align:center; background:#9aa3b5; }
li.warning .badge { background:#d9822b; } li.ok .badge { background:#3f9c5a; }
li.note .badge { background:#4f7cc4; }
.detail { color:var(--muted); font-size:14px; }
.advice { font-size:14px; margin-top:2px; }
.notes { color:var(--muted); font-size:13px; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:20px; }
"""

WIDE = {
    "interpolation",
    "traversals",
    "attribute",
    "training-curves",
    "formation",
    "aggregate",
    "anomaly-examples",
    "anomaly-scores",
    "scatter3d",
}


def table(
    rows: Mapping[str, object] | Sequence[Sequence[object]], header: Sequence[str] = ()
) -> str:
    """An HTML table from a mapping (two columns) or rows of cells."""
    body = rows.items() if isinstance(rows, Mapping) else rows
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    lines = ["<table>", f"<tr>{head}</tr>" if head else ""]
    for row in body:
        lines.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>")
    return "\n".join([*lines, "</table>"])


def findings_list(findings: Sequence[Finding]) -> str:
    items = []
    for f in findings:
        items.append(
            f'<li class="{escape(f.severity)}"><span class="badge">{escape(f.severity)}</span>'
            f'<strong>{escape(f.title)}</strong><div class="detail">{escape(f.detail)}</div>'
            + (f'<div class="advice">Try: {escape(f.advice)}</div>' if f.advice else "")
            + "</li>"
        )
    return '<ul class="findings">' + "".join(items) + "</ul>"


def figure_card(item: FigureItem) -> str:
    wide = (
        " wide" if item.key.startswith("cmp-") or any(item.key.startswith(k) for k in WIDE) else ""
    )
    # width/height let the browser reserve each lazy image's box, so anchors land right; the
    # link opens the full-resolution file
    media = "".join(
        f'<a href="{escape(f)}" target="_blank"><img src="{escape(f)}" '
        f'alt="{escape(item.title)}"{_size_attrs(item, i)} loading="lazy"></a>'
        for i, f in enumerate(item.files)
    )
    return (
        f'<figure id="{escape(item.key)}" class="card{wide}"><h3>{escape(item.title)}</h3>'
        f'<div class="media">{media}</div><figcaption>{escape(item.caption)}</figcaption>'
        "</figure>"
    )


def _size_attrs(item: FigureItem, index: int) -> str:
    if index >= len(item.sizes):
        return ""
    width, height = item.sizes[index]
    return f' width="{width}" height="{height}"'


def render_page(
    *,
    title: str,
    subtitle: str,
    intro: str,
    items: Sequence[FigureItem],
    diagnostics_html: str = "",
    notes: Sequence[str] = (),
) -> str:
    """The whole page. ``intro`` and ``diagnostics_html`` are trusted HTML built by this package."""
    sections = [s for s in SECTIONS if any(i.section == s for i in items)]
    anchors = {s: s.lower().replace(" ", "-") for s in sections}
    nav = ['<a href="#summary">Summary</a>']
    if diagnostics_html:
        nav.append('<a href="#diagnostics">Diagnostics</a>')
    nav += [f'<a href="#{anchors[s]}">{escape(s)}</a>' for s in sections]
    body = [f'<section id="summary"><h2>Summary</h2>{intro}</section>']
    if diagnostics_html:
        body.append(f'<section id="diagnostics"><h2>Diagnostics</h2>{diagnostics_html}</section>')
    for s in sections:
        cards = "".join(figure_card(i) for i in items if i.section == s)
        body.append(
            f'<section id="{anchors[s]}"><h2>{escape(s)}</h2>'
            f'<div class="cards">{cards}</div></section>'
        )
    if notes:
        body.append(
            '<section><h2>Not shown</h2><ul class="notes">'
            + "".join(f"<li>{escape(n)}</li>" for n in notes)
            + "</ul></section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>
<nav>{" ".join(nav)}</nav>
<main>
{"".join(body)}
</main>
<footer>Made by vae-atlas. Static files only: this folder opens offline.</footer>
</body>
</html>
"""

"""One report, two pages: `report.md` (read on GitHub or in a terminal) and a self-contained `report.html`
(plots embedded as data URIs, no scripts, no requests: it opens from a mail attachment as well).

A report is a title, a lead paragraph and sections; a section is markdown, with its own HTML where
markdown cannot say it (the summary box, the trace viewer's two columns). Both pages have the same
sections under the same anchors, listed at the top.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path


def slug(title: str) -> str:
    """The anchor of a heading, as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


@dataclass
class Section:
    title: str
    md: str  # the body in markdown, without its heading
    html: str | None = None  # the body in HTML where markdown cannot say it; None: converted from `md`

    @property
    def anchor(self) -> str:
        return slug(self.title)


def _contents(sections: list[Section]) -> list[tuple[str, str]]:
    return [(s.title, s.anchor) for s in sections]


def to_markdown(title: str, lead: str, sections: list[Section]) -> str:
    parts = [f"# {title}", "", lead, "", "Contents: " + " · ".join(f"[{t}](#{a})" for t, a in _contents(sections))]
    for s in sections:
        parts += ["", f"## {s.title}", "", s.md]
    return "\n".join(parts).rstrip() + "\n"


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1d1d1f;line-height:1.45}
h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
nav{font-size:.92em;margin:1em 0}nav a{margin-right:.9em;white-space:nowrap}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f3f3f3}
pre{background:#f7f7f7;padding:.8em;white-space:pre-wrap;word-break:break-word;font-size:.88em}
img{max-width:100%}
.summary{display:grid;grid-template-columns:max-content 1fr;gap:.45em 1.2em;background:#eef5ff;
border:1px solid #9cc1f0;border-radius:8px;padding:1em 1.3em;margin:1em 0}
.summary dt{font-weight:600}.summary dd{margin:0}
.warn{display:inline-block;background:#fff1c2;border:1px solid #e0b400;border-radius:4px;padding:0 .4em;
font-size:.9em;margin-left:.3em}
em{background:#fff1c2;font-style:normal;padding:0 .2em}
.trace{border:1px solid #ddd;border-radius:8px;padding:.3em 1em 1em;margin:1.2em 0}
.columns{display:grid;grid-template-columns:1fr 1fr;gap:1.2em}
@media (max-width:800px){.columns{grid-template-columns:1fr}}
.step{border-left:4px solid #bbb;background:#fafafa;padding:.4em .7em;margin:.6em 0;font-size:.92em}
.step.ok{border-color:#2e9d4a}.step.bad{border-color:#d0453b}
.step-head{font-weight:600}.cot{margin:.3em 0 .3em 1.2em;padding:0}.conclusion{font-style:italic}
.why{background:#fdf0ef;padding:.6em;border-radius:4px}
"""


def _embed_images(body: str, root: Path) -> str:
    """Local PNG images become data URIs, so the page needs no other file."""

    def embed(match: re.Match) -> str:
        path = root / html.unescape(match.group(1))
        if not path.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    return re.sub(r'src="(plots/[^"]+\.png)"', embed, body)


def to_html(title: str, lead: str, sections: list[Section], root: Path) -> str:
    import markdown

    def convert(text: str) -> str:
        return markdown.markdown(text, extensions=["tables", "fenced_code"])

    nav = " ".join(f'<a href="#{a}">{html.escape(t)}</a>' for t, a in _contents(sections))
    body = [f"<h1>{html.escape(title)}</h1>", convert(lead), f"<nav>Contents: {nav}</nav>"]
    for s in sections:
        inner = s.html if s.html is not None else convert(s.md)
        body.append(f'<section id="{s.anchor}"><h2>{html.escape(s.title)}</h2>\n{inner}\n</section>')
    page = "\n".join(body)
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            f"{_embed_images(page, root)}\n</body></html>\n")

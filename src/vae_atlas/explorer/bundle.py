"""The explorer page as one HTML document with one classic script, for hosts without a server.

The served page loads ``static/*.js`` as ES modules. Chromium refuses to load modules from
``file://``, and a notebook widget's frame has no URL to load them from, so the static export
and the notebook widget run the same modules joined into one script: each module becomes a
function scope evaluated once, after the modules it imports, in the order the browser would
evaluate them (depth first, in import order), and its exports become a plain object.

A *host* module (``host-static.js``, ``host-kernel.js``) is evaluated first: it installs the
page's transport (see ``static/api.js``) before the page's own entry points start.

The joining handles what the page's modules use — named imports and ``export``ed functions,
classes and constants; anything else (``export let``, default exports, an import cycle) is
refused with a :class:`BundleError` naming the file, so a change to the page cannot silently
break the export.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

STATIC = Path(__file__).parent / "static"

_IMPORT = re.compile(r'^import\s*(?:\{([^}]*)\}\s*from\s*)?"\./([\w.-]+\.js)";[ \t]*$', re.M)
_EXPORT = re.compile(r"^export\s+((?:async\s+)?function\*?|class|const)\s+([A-Za-z_$][\w$]*)", re.M)
_ANY_IMPORT_EXPORT = re.compile(r"^(import|export)\b.*$", re.M)
_ENTRY = re.compile(r'\s*<script type="module" src="static/([\w.-]+\.js)"></script>')
_BANNER_STYLE = "padding:4px 12px;background:#5a3b00;color:#ffe7b3;font:13px sans-serif"
_STYLE = re.compile(r'<link rel="stylesheet" href="static/style.css">')


class BundleError(ValueError):
    """A page module uses a form the bundler does not join (the message names the file)."""


def page_entries(static_dir: Path = STATIC) -> list[str]:
    """The page's entry modules, in the order ``index.html`` loads them."""
    return _ENTRY.findall((static_dir / "index.html").read_text(encoding="utf-8"))


def _module_var(name: str) -> str:
    return "__va_" + re.sub(r"\W", "_", name.removesuffix(".js"))


def _imported_names(spec: str) -> str:
    """``a, b as c`` -> ``a, b: c`` (a destructuring pattern)."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return ", ".join(p.replace(" as ", ": ") for p in parts)


def _wrap(name: str, text: str) -> tuple[str, list[str]]:
    """One module as ``const __va_x = (() => {...; return {exports}})();`` and its imports."""
    deps: list[str] = []

    def take_import(m: re.Match) -> str:
        deps.append(m.group(2))
        if m.group(1) is None:
            return ""
        return f"const {{ {_imported_names(m.group(1))} }} = {_module_var(m.group(2))};"

    body = _IMPORT.sub(take_import, text)
    exports = [m.group(2) for m in _EXPORT.finditer(body)]
    body = _EXPORT.sub(lambda m: f"{m.group(1)} {m.group(2)}", body)
    leftover = _ANY_IMPORT_EXPORT.search(body)
    if leftover:
        line = text[: text.find(leftover.group(0))].count("\n") + 1
        raise BundleError(
            f"{name}:{line}: the bundler joins only named imports and exported functions, "
            f"classes and constants, not {leftover.group(0).strip()[:60]!r}"
        )
    wrapped = (
        f'const {_module_var(name)} = (() => {{\n"use strict";\n{body}\n'
        f"return {{ {', '.join(exports)} }};\n}})();\n"
    )
    return wrapped, deps


def bundle_script(entries: list[str], static_dir: Path = STATIC) -> str:
    """The modules ``entries`` and everything they import, as one classic script."""
    done: dict[str, str] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name) :], name])
            raise BundleError(f"import cycle {cycle}: the bundler needs modules without cycles")
        path = static_dir / name
        if not path.is_file():
            raise BundleError(f"{path}: imported but missing")
        visiting.append(name)
        wrapped, deps = _wrap(name, path.read_text(encoding="utf-8"))
        for dep in deps:
            visit(dep)
        visiting.pop()
        done[name] = wrapped

    for entry in entries:
        visit(entry)
    return "(() => {\n" + "".join(done.values()) + "})();\n"


def page_html(
    scripts: list[str], *, inline_script: str | None = None, banner: str | None = None
) -> str:
    """``index.html`` with its stylesheet inlined and its module scripts replaced by
    ``scripts`` (classic, deferred: run in order once the page is parsed) or, given
    ``inline_script``, by that script inlined at the end of the body; ``banner`` is a line
    shown above the page (what this host cannot do)."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    page = _STYLE.sub(lambda _: f"<style>\n{css}</style>", page)
    page = _ENTRY.sub("", page)
    page = re.sub(r'\s*<link rel="icon"[^>]*>', "", page)
    tags = "".join(f'\n  <script defer src="{s}"></script>' for s in scripts)
    page = page.replace("</head>", f"{tags}\n</head>", 1)
    if banner:
        text = html.escape(banner)
        note = f'<div id="host-note" role="note" style="{_BANNER_STYLE}">{text}</div>'
        page = page.replace("<body>", f"<body>\n{note}", 1)
    if inline_script is not None:
        safe = inline_script.replace("</", "<\\/")  # never ends the script element early
        page = page.replace("</body>", f"<script>\n{safe}</script>\n</body>", 1)
    return page

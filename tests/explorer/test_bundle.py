"""The page's modules joined into one classic script: the real page joins, and forms the joining
cannot keep (an exported `let`, a default export, an import cycle) are refused by name."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vae_atlas.explorer.bundle import BundleError, bundle_script, page_entries, page_html


def modules(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.js").write_text(text)
    return tmp_path


def test_the_page_joins_from_its_entry_points() -> None:
    assert page_entries()[0] == "app.js"  # index.html loads app.js first
    script = bundle_script(["host-static.js", *page_entries()])
    assert "import " not in "\n".join(
        line for line in script.splitlines() if line.startswith("import")
    )
    # every module once, each after the modules it imports
    assert script.count("const __va_store = ") == 1
    assert script.index("const __va_store = ") < script.index("const __va_app = ")
    assert script.index("const __va_api = ") < script.index("const __va_host_static = ")


def test_the_page_html_has_no_module_scripts_and_inlines_its_style() -> None:
    page = page_html(["data.js", "explorer.js"], banner="a <note>")
    assert 'type="module"' not in page and "static/style.css" not in page
    assert '<script defer src="data.js"></script>' in page
    assert page.index('src="data.js"') < page.index('src="explorer.js"')
    assert "a &lt;note&gt;" in page


def test_modules_run_in_import_order_with_renamed_imports(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    folder = modules(
        tmp_path,
        main='import { seen, add as push } from "./log.js";\nimport "./side.js";\n'
        'push("main");\nconsole.log(seen.join(","));',
        side='import { add } from "./log.js";\nadd("side");',
        log="export const seen = [];\nexport function add(x) { seen.push(x); }",
    )
    out = subprocess.run(
        [node, "-e", bundle_script(["main.js"], folder)], capture_output=True, text=True
    )
    assert out.stdout.strip() == "side,main", out.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("export let count = 0;", "b.js:1"),
        ("const x = 1;\nexport default x;", "b.js:2"),
        ("export { y };\nconst y = 2;", "b.js:1"),
        ('import * as a from "./a.js";', "b.js:1"),
    ],
)
def test_forms_the_bundler_cannot_keep_are_refused(tmp_path: Path, text: str, words: str) -> None:
    folder = modules(tmp_path, a='import { v } from "./b.js";\nexport const w = v;', b=text)
    with pytest.raises(BundleError, match=words):
        bundle_script(["a.js"], folder)


def test_an_import_cycle_is_refused(tmp_path: Path) -> None:
    folder = modules(
        tmp_path,
        a='import { b } from "./b.js";\nexport const a = 1;',
        b='import { a } from "./a.js";\nexport const b = 2;',
    )
    with pytest.raises(BundleError, match=r"import cycle a\.js -> b\.js -> a\.js"):
        bundle_script(["a.js"], folder)

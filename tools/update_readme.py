"""Regenerate the README's layer tables from cim.layers (tests check they agree)."""

from pathlib import Path

from cim.layers import schemas_markdown

readme = Path(__file__).resolve().parents[1] / "README.md"
text = readme.read_text(encoding="utf-8")
start = text.index("\n", text.index("<!-- schemas:start")) + 1
end = text.index("<!-- schemas:end -->")
readme.write_text(
    text[:start] + schemas_markdown() + "\n" + text[end:], encoding="utf-8"
)

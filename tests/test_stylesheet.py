"""The stylesheet's blocks close: an unclosed `@media` swallows every rule after it, silently."""

import re
from pathlib import Path

STYLESHEETS = sorted((Path(__file__).resolve().parent.parent / "static" / "css").glob("*.css"))


def test_every_block_closes_at_the_top_level():
    for path in STYLESHEETS:
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        depth = 0
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith(("@media", "@supports")):
                assert depth == 0, f"{path.name}:{number} opens {line.strip()!r} inside another block"
            depth += line.count("{") - line.count("}")
            assert depth >= 0, f"{path.name}:{number} closes a block that is not open"
        assert depth == 0, f"{path.name} ends with {depth} block(s) open"

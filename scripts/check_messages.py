"""Fail when a translatable string has no Simplified Chinese translation (or is fuzzy).

Runs `makemessages` into the real catalogue (so new strings appear for translators) and then
reads it; the POT-Creation-Date header is kept as it was so the tree only changes for real.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "shequ" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
DATE = re.compile(r'^"POT-Creation-Date: .*\\n"$', re.M)


def entries(text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for every entry, plural forms folded into msgstr."""
    result = []
    for block in text.split("\n\n"):
        fuzzy = "#, fuzzy" in block or re.search(r"^#,.*fuzzy", block, re.M) is not None
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        msgid, msgstr, current = "", "", None
        for line in lines:
            if line.startswith("msgid "):
                current, msgid = "id", line[6:].strip('"')
            elif line.startswith("msgid_plural "):
                current = "plural"
            elif line.startswith("msgstr"):
                current = "str"
                msgstr += line.split(" ", 1)[1].strip('"')
            elif line.startswith('"') and current == "id":
                msgid += line.strip('"')
            elif line.startswith('"') and current == "str":
                msgstr += line.strip('"')
        if msgid:
            result.append((msgid, msgstr, fuzzy))
    return result


def main() -> int:
    before = PO.read_text(encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "--no-obsolete",
            "--no-wrap",
            "-i",
            "node_modules/*",
            "-i",
            ".venv/*",
            "-i",
            "var/*",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    after = PO.read_text(encoding="utf-8")
    old_date = DATE.search(before)
    if old_date:
        after = DATE.sub(lambda _m: old_date.group(0), after, count=1)
        PO.write_text(after, encoding="utf-8")
    missing = [msgid for msgid, msgstr, fuzzy in entries(after) if not msgstr or fuzzy]
    if missing:
        print(f"{len(missing)} string(s) lack a zh_Hans translation in {PO.relative_to(ROOT)}:")
        for msgid in missing[:40]:
            print("  -", msgid)
        return 1
    print(f"translations complete: {len(entries(after))} strings")
    return 0


if __name__ == "__main__":
    sys.exit(main())

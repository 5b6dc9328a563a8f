"""Copy the front-end files shequ serves from node_modules into core's static folder.

Run after ``npm ci``; the copies are git-ignored. Nothing is ever loaded from a CDN.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "shequ" / "core" / "static" / "vendor"

FILES: list[tuple[str, str]] = [
    ("@tabler/core/dist/css/tabler.min.css", "tabler/tabler.min.css"),
    ("@tabler/core/dist/js/tabler.min.js", "tabler/tabler.min.js"),
    ("@tabler/icons-webfont/dist/tabler-icons.min.css", "tabler-icons/tabler-icons.min.css"),
    (
        "@tabler/icons-webfont/dist/fonts/tabler-icons.woff2",
        "tabler-icons/fonts/tabler-icons.woff2",
    ),
    ("@tabler/icons-webfont/dist/fonts/tabler-icons.woff", "tabler-icons/fonts/tabler-icons.woff"),
    ("@tabler/icons-webfont/dist/fonts/tabler-icons.ttf", "tabler-icons/fonts/tabler-icons.ttf"),
    ("echarts/dist/echarts.min.js", "echarts/echarts.min.js"),
    ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet/dist/images/layers.png", "leaflet/images/layers.png"),
    ("leaflet/dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
    ("leaflet/dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    ("leaflet/dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    ("leaflet/dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
]


def main() -> int:
    missing = [src for src, _ in FILES if not (NODE / src).is_file()]
    if missing:
        print("vendor: missing in node_modules (run `npm ci`):", *missing, sep="\n  ")
        return 1
    for src, dest in FILES:
        target = DEST / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE / src, target)
        # Minified files name their source map; the static manifest needs it to exist.
        source_map = NODE / f"{src}.map"
        if source_map.is_file():
            shutil.copyfile(source_map, target.with_name(target.name + ".map"))
    print(f"vendor: {len(FILES)} files copied to {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

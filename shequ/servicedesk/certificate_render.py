"""Rendering certificate PDFs from plain data (WeasyPrint, Chinese fonts, QR code).

This module imports no model: a batch's worker processes import it before Django is set up,
render from `PdfData` and never open the database (the main process reads the rows and writes
the results). Where the time of one PDF goes (about 50 ms of CPU): WeasyPrint's layout about
40 %, drawing and writing the PDF (with the font subset of the characters used, by HarfBuzz)
about 35 %, the QR code about 10 %, HTML and CSS parsing the rest. So each thread keeps one
font configuration and the style sheet parsed against it, and a batch spreads over processes.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.template.loader import render_to_string

FONT_FAMILY = "Noto Serif CJK SC"  # the system font (fontconfig's name)
SUBSET_FAMILY = "Shequ Serif SC"  # its common-character subset, built by `certificates`
_local = threading.local()


@dataclass(frozen=True)
class PdfData:
    """Everything a certificate's PDF shows, as plain data."""

    serial: str
    title: str
    committee: str
    paragraphs: tuple[str, ...]
    issued_on: str
    valid_until: str
    verify_url: str
    code: str  # grouped, as printed
    font_url: str  # the common-character font ("" for the system font only)


def _fetcher(allowed: set[str]) -> Callable[..., dict[str, Any]]:
    """Fetch only inline data and our font: never the network, never another file."""
    from weasyprint import default_url_fetcher

    def fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if url.startswith("data:") or url in allowed:
            result: dict[str, Any] = default_url_fetcher(url, *args, **kwargs)
            return result
        raise ValueError(f"certificates fetch nothing from {url[:80]}")

    return fetch


def qr_data_uri(url: str) -> str:
    """The QR code as a PNG of one pixel per module, printed unsmoothed (crisp at any size;
    WeasyPrint draws an SVG of the same code ten times slower)."""
    import segno

    return str(segno.make(url, error="m").png_data_uri(scale=1, border=0))


def pdf_html(data: PdfData) -> str:
    """The certificate as HTML for WeasyPrint (fixed Chinese wording: an official document).
    Its style sheet is separate (`certificate_pdf.css`), parsed once per renderer."""
    context = {**asdict(data), "qr": qr_data_uri(data.verify_url)}
    return render_to_string("servicedesk/certificate_pdf.html", context)


class _Renderer:
    """One WeasyPrint font configuration and the style sheet parsed against it, kept for the
    thread's life: the fonts are loaded and the CSS (with its @font-face) parsed once, not for
    every PDF."""

    def __init__(self, font_url: str) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self.fetcher = _fetcher({font_url} if font_url else set())
        css = render_to_string(
            "servicedesk/certificate_pdf.css",
            {"font_url": font_url, "font_family": SUBSET_FAMILY, "system_family": FONT_FAMILY},
        )
        self.stylesheet = CSS(string=css, font_config=self.font_config, url_fetcher=self.fetcher)

    def pdf(self, html: str) -> bytes:
        from weasyprint import HTML

        pdf: bytes = HTML(string=html, url_fetcher=self.fetcher).write_pdf(
            stylesheets=[self.stylesheet], font_config=self.font_config
        )
        return pdf


def _renderer(font_url: str) -> _Renderer:
    renderers: dict[str, _Renderer] | None = getattr(_local, "renderers", None)
    if renderers is None:
        renderers = _local.renderers = {}
        if threading.current_thread() is threading.main_thread():
            # Dropped before the interpreter tears its modules down, while WeasyPrint can
            # still remove its font folder (other threads' go with the thread).
            atexit.register(renderers.clear)
    if font_url not in renderers:
        renderers[font_url] = _Renderer(font_url)
    return renderers[font_url]


def render_pdf(data: PdfData) -> bytes:
    """The certificate as an A4 PDF."""
    return _renderer(data.font_url).pdf(pdf_html(data))


# --- Many at once ---------------------------------------------------------------------------

# Below this many PDFs a batch renders in the calling process: starting workers costs more.
POOL_FROM = 100


def _worker_start() -> None:
    """A worker is a fresh interpreter (spawned, never forked: it inherits no database
    connection); Django is set up for the templates only."""
    import django

    django.setup()


def _render_chunk(chunk: list[PdfData]) -> list[bytes]:
    return [render_pdf(data) for data in chunk]


def default_workers() -> int:
    """One worker per CPU this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def render_many(items: Sequence[PdfData], *, workers: int | None = None) -> Iterator[bytes]:
    """The PDFs of `items`, in order, rendered across `workers` processes (default: one per
    CPU), or in this process for a few. A worker that dies fails the batch
    (`BrokenProcessPool`), never hangs it."""
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1 or len(items) < POOL_FROM:
        for data in items:
            yield render_pdf(data)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Chunks small enough that the last ones spread over every worker, large enough that
    # passing them costs nothing next to rendering.
    size = max(1, min(25, len(items) // (workers * 6)))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_start,
    )
    try:
        for pdfs in pool.map(_render_chunk, chunks):
            yield from pdfs
    finally:  # a caller that stops early does not wait for the rest to be rendered
        pool.shutdown(wait=True, cancel_futures=True)

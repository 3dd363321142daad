"""The one PDF renderer: template + context -> HTML -> WeasyPrint -> bytes.

Resources (CSS, images, SVG) are served to WeasyPrint straight from the static files and
media storage; nothing is fetched over HTTP and ``file://`` or remote URLs are refused, so a
report cannot be made to read local files or call out to the network. PDFs are tagged
(PDF/UA-1) with a title and language for screen-reader users.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from time import perf_counter

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from weasyprint.urls import URLFetcher, URLFetcherResponse


class PDFResourceRefused(ValueError):
    """A report asked for a resource outside static or media files."""


class PDFRenderError(RuntimeError):
    """WeasyPrint could not render the document; the message says why."""


class StorageURLFetcher(URLFetcher):
    """Serve /static/... and /media/... from storage and data: URLs; refuse everything else."""

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = url
        for prefix in ("http://pdf.local", "https://pdf.local"):
            if path.startswith(prefix):
                path = path[len(prefix):]
        path = path.split("?", 1)[0].split("#", 1)[0]
        if ".." in path.split("/"):
            raise PDFResourceRefused(f"Refused to fetch {url!r}: path traversal")
        if path.startswith(settings.STATIC_URL):
            data = self._static(path[len(settings.STATIC_URL):])
        elif path.startswith(settings.MEDIA_URL):
            data = self._media(path[len(settings.MEDIA_URL):])
        else:
            raise PDFResourceRefused(f"Refused to fetch {url!r}: only static and media files")
        mime_type, _ = mimetypes.guess_type(path)
        return URLFetcherResponse(
            url, data, {"Content-Type": mime_type or "application/octet-stream"}
        )

    @staticmethod
    def _static(name: str) -> bytes:
        try:
            found = finders.find(name)
        except SuspiciousFileOperation:
            found = None
        if not found:
            raise PDFResourceRefused(f"Static file not found: {name}")
        with open(found, "rb") as handle:
            return handle.read()

    @staticmethod
    def _media(name: str) -> bytes:
        try:
            exists = default_storage.exists(name)
        except SuspiciousFileOperation:
            exists = False
        if not exists:
            raise PDFResourceRefused(f"Media file not found: {name}")
        with default_storage.open(name, "rb") as handle:
            return handle.read()


def url_fetcher() -> StorageURLFetcher:
    # Errors stop the render: a report with a missing resource is a failed report, not a
    # silently incomplete one.
    return StorageURLFetcher(fail_on_errors=True)


@dataclass
class RenderedPDF:
    content: bytes
    html: str
    html_seconds: float
    pdf_seconds: float
    page_count: int


def render_html(template_name: str, context: dict) -> str:
    return render_to_string(template_name, context)


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """WeasyPrint alone: the HTML must carry <title> and <html lang>."""
    from weasyprint import HTML  # imported late: it loads Pango, which web workers rarely need
    from weasyprint.urls import FatalURLFetchingError

    try:
        document = HTML(
            string=html, base_url="http://pdf.local/", url_fetcher=url_fetcher()
        ).render()
        content = document.write_pdf(pdf_variant="pdf/ua-1")
    except FatalURLFetchingError as error:
        # WeasyPrint raises this outside the Exception hierarchy; callers get a plain error.
        cause = error.__cause__ or error
        raise PDFRenderError(str(cause)) from error
    return content, len(document.pages)


def render_pdf(template_name: str, context: dict) -> RenderedPDF:
    """Render a template to a tagged PDF; timings let benchmarks separate our work from
    WeasyPrint's."""
    started = perf_counter()
    html = render_html(template_name, context)
    html_done = perf_counter()
    content, pages = html_to_pdf(html)
    finished = perf_counter()
    return RenderedPDF(content=content, html=html, html_seconds=html_done - started,
                       pdf_seconds=finished - html_done, page_count=pages)

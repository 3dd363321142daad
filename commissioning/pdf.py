"""The one PDF renderer: template + context -> HTML -> WeasyPrint -> bytes.

Resources (CSS, images, SVG) are served to WeasyPrint straight from the static files and
media storage; nothing is fetched over HTTP and ``file://`` or remote URLs are refused, so a
report cannot be made to read local files or call out to the network. PDFs are tagged
(PDF/UA-1) with a title and language for screen-reader users.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import mimetypes
import re
from dataclasses import dataclass
from time import perf_counter
from urllib.parse import unquote

import pikepdf
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse


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
        path = unquote(path.split("?", 1)[0].split("#", 1)[0])
        if ".." in path.split("/") or "\\" in path:
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
        """A static file by the name the template produced with ``{% static %}``.

        That name came from ``staticfiles_storage.url()``, so the storage is where to read it:
        in production (manifest storage after ``collectstatic``) it is the hashed name
        (``pdf/report.<hash>.css``), which exists only in STATIC_ROOT. Without a manifest
        (development) the source folders are the truth and STATIC_ROOT may be stale or empty,
        so the finders are asked first.
        """
        if not isinstance(staticfiles_storage, ManifestFilesMixin):  # LazyObject proxies it
            try:
                found = finders.find(name)
            except SuspiciousFileOperation:
                found = None
            if found:
                with open(found, "rb") as handle:
                    return handle.read()
        try:
            with staticfiles_storage.open(name, "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
            raise PDFResourceRefused(f"Static file not found: {name}") from None

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
    return _weasyprint(html)


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


# --- Long documents, rendered in parts ---------------------------------------------------------
#
# WeasyPrint keeps the whole laid-out document in memory until the PDF is written: about
# 2–4 MB a page of dense tables, so a 350-page monthly report needs well over a gigabyte.
# ``render_pdf_in_parts`` lays out one part at a time (a section, or a slice of a long
# section), keeps only each part's PDF bytes, and joins them with pikepdf into one tagged
# document: one structure tree, one set of named destinations and bookmarks. Running headers
# and "Page X of Y" are drawn last over every page from a small frame document, once the
# total is known, and marked as pagination artifacts (not read out as content). Memory then
# depends on the largest part, not on the length of the report.

_MARKED_CONTENT = re.compile(rb"/[A-Za-z0-9]+\s*<<\s*/MCID\s+\d+\s*>>\s*BDC")


@dataclass
class PDFPart:
    """One part of a long document: extra template context for it, and where its bookmarks
    go (1: under the document's title; 2: under the previous part's last section, for a part
    that continues a section)."""

    context: dict
    outline_depth: int = 1


def _weasyprint(html: str) -> tuple[bytes, int]:
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


def _named_destinations(pdf) -> list[tuple[str, object]]:
    names = pdf.Root.get("/Names")
    dests = names.get("/Dests") if names is not None else None
    if dests is None:
        return []
    pairs = []
    stack = [dests]
    while stack:  # a name tree: leaves hold /Names, inner nodes /Kids
        node = stack.pop()
        flat = node.get("/Names")
        if flat is not None:
            pairs.extend((str(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2))
        stack.extend(node.get("/Kids", []))
    return pairs


def _page_index(pdf, destination) -> int | None:
    """The index of the page a destination array points at."""
    if isinstance(destination, pikepdf.Dictionary):
        destination = destination.get("/D")
    if not isinstance(destination, pikepdf.Array) or not len(destination):
        return None
    target = destination[0]
    if isinstance(target, int):
        return int(target)
    for index, page in enumerate(pdf.pages):
        if page.obj.objgen == target.objgen:
            return index
    return None


def anchor_pages(parts: list[bytes], first_page: int) -> dict[str, int]:
    """The page number (counting from ``first_page``) of every id in the parts."""
    found: dict[str, int] = {}
    page = first_page
    for data in parts:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for name, destination in _named_destinations(pdf):
                index = _page_index(pdf, destination)
                if index is not None:
                    found.setdefault(name, page + index)
            page += len(pdf.pages)
    return found


def merge_tagged_pdfs(parts: list[bytes], outline_depths: list[int]) -> pikepdf.Pdf:
    """Join tagged PDFs into the first one: pages, structure tree (one /Document element),
    parent tree, named destinations and bookmarks."""
    out = pikepdf.open(io.BytesIO(parts[0]))
    tree = out.Root.StructTreeRoot
    document = tree.K[0] if isinstance(tree.K, pikepdf.Array) else tree.K
    if not isinstance(document.K, pikepdf.Array):
        document.K = pikepdf.Array([document.K])
    nums = tree.ParentTree.Nums
    next_key = max((int(nums[i]) + 1 for i in range(0, len(nums), 2)), default=0)
    names = out.Root.get("/Names")
    if names is None:
        out.Root.Names = names = out.make_indirect(pikepdf.Dictionary())
    if names.get("/Dests") is None:
        names.Dests = pikepdf.Dictionary(Names=pikepdf.Array())
    merged_dests = dict(_named_destinations(out))
    with out.open_outline() as outline:
        for data, depth in zip(parts[1:], outline_depths[1:], strict=True):
            source = pikepdf.open(io.BytesIO(data))
            offset = next_key
            source_tree = source.Root.StructTreeRoot
            source_nums = source_tree.ParentTree.Nums
            for page in source.pages:
                if "/StructParents" in page.obj:
                    page.obj.StructParents = int(page.obj.StructParents) + offset
                for annotation in page.obj.get("/Annots", []):
                    if "/StructParent" in annotation:
                        annotation.StructParent = int(annotation.StructParent) + offset
            source_document = source_tree.K[0] if isinstance(source_tree.K, pikepdf.Array) \
                else source_tree.K
            kids = source_document.K if isinstance(source_document.K, pikepdf.Array) \
                else pikepdf.Array([source_document.K])
            for kid in kids:
                if isinstance(kid, pikepdf.Dictionary) and "/P" in kid:
                    del kid["/P"]  # copied under our /Document, not the source's
            first_page = len(out.pages)
            out.pages.extend(source.pages)
            for kid in _copy(out, kids):
                if isinstance(kid, pikepdf.Dictionary):
                    kid.P = document
                document.K.append(kid)
            for i in range(0, len(source_nums), 2):
                key = int(source_nums[i]) + offset
                nums.append(key)
                nums.append(_copy(out, source_nums[i + 1]))
                next_key = max(next_key, key + 1)
            for name, destination in _named_destinations(source):
                # A part's own anchors win over the cover's stand-ins (see the template).
                merged_dests[name] = _copy(out, destination)
            with source.open_outline() as source_outline:
                parent = outline.root
                for _level in range(depth):
                    if not parent:
                        break
                    holder = parent[-1]
                    parent = holder.children
                parent.extend(_copy_outline(item, source, first_page)
                              for item in source_outline.root)
            # Copied streams still read from the source: take their bytes now so the source
            # (a second copy of every object in memory) can be closed.
            _own_streams(out.pages[first_page:])
            source.close()
    tree.ParentTreeNextKey = next_key
    names.Dests = pikepdf.Dictionary(Names=pikepdf.Array(
        [value for name in sorted(merged_dests) for value in
         (pikepdf.String(name), merged_dests[name])]))
    return out


def _own_streams(pages) -> None:
    """Give every stream reachable from these pages its own copy of its (still encoded)
    data, instead of a reference to the PDF it was copied from."""
    seen: set[tuple[int, int]] = set()
    stack = [page.obj for page in pages]
    while stack:
        obj = stack.pop()
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            if obj.is_indirect:
                if obj.objgen in seen:
                    continue
                seen.add(obj.objgen)
            if isinstance(obj, pikepdf.Stream):
                obj.write(obj.read_raw_bytes(), filter=obj.get("/Filter"),
                          decode_parms=obj.get("/DecodeParms"))
            stack.extend(value for key, value in obj.items() if key not in ("/Parent", "/P"))
        elif isinstance(obj, pikepdf.Array):
            stack.extend(obj)


def _copy(out, obj):
    """Copy an object from another PDF: indirect objects through pikepdf (which maps each
    source object, pages included, to one copy), direct arrays and dictionaries by hand."""
    if isinstance(obj, (pikepdf.Array, pikepdf.Dictionary, pikepdf.Stream)):
        if obj.is_indirect:
            return out.copy_foreign(obj)
        if isinstance(obj, pikepdf.Array):
            return pikepdf.Array([_copy(out, item) for item in obj])
        return pikepdf.Dictionary({key: _copy(out, value) for key, value in obj.items()})
    return obj


def _copy_outline(item, source, first_page: int):
    index = _page_index(source, item.destination)
    copied = pikepdf.OutlineItem(item.title, destination=(first_page + index)
                                 if index is not None else None)
    copied.children.extend(_copy_outline(child, source, first_page) for child in item.children)
    return copied


def _as_artifacts(pdf) -> None:
    """Mark every page's content of a frame document as pagination artifacts."""
    for page in pdf.pages:
        content = _MARKED_CONTENT.sub(b"/Artifact <</Type /Pagination>> BDC",
                                      page.obj.Contents.read_bytes()
                                      if isinstance(page.obj.Contents, pikepdf.Stream)
                                      else b"\n".join(s.read_bytes()
                                                      for s in page.obj.Contents))
        page.obj.Contents = pdf.make_stream(content)


def _release_memory() -> None:
    """Return a finished part's memory to the system, not just to Python's and C's free
    lists, so the join that follows starts from a low base (glibc only; a no-op elsewhere)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def render_pdf_in_parts(template_name: str, context: dict, parts: list[PDFPart], *,
                        cover: dict, contents: tuple[str, ...],
                        frame_template: str = "pdf/frame.html") -> RenderedPDF:
    """Render ``template_name`` as a cover (``cover`` context) followed by each part, and
    join them. The cover gets ``section_pages``: the page number of each id in ``contents``
    (its contents list), found in the parts once they are rendered; it must keep its length
    when the numbers are filled in.

    Timings: ``html_seconds`` is template rendering, ``pdf_seconds`` everything else
    (WeasyPrint for each part, the frame and the join)."""
    html_seconds = pdf_seconds = 0.0

    def render(extra: dict) -> tuple[bytes, int]:
        nonlocal html_seconds, pdf_seconds
        started = perf_counter()
        html = render_html(template_name, {**context, **extra, "chunked": True})
        rendered = perf_counter()
        result = _weasyprint(html)
        _release_memory()
        html_seconds += rendered - started
        pdf_seconds += perf_counter() - rendered
        return result

    # The cover's length first (its page numbers are placeholders), then every part.
    _content, cover_pages = render({**cover, "section_pages": dict.fromkeys(contents, "000")})
    rendered_parts = [render(part.context)[0] for part in parts]
    started = perf_counter()
    found = anchor_pages(rendered_parts, first_page=cover_pages + 1)
    pages = {name: found[name] for name in contents if name in found}
    pdf_seconds += perf_counter() - started
    cover_pdf, pages_now = render({**cover, "section_pages": pages})
    if pages_now != cover_pages:
        raise PDFRenderError("The cover changed length once its page numbers were filled in")
    started = perf_counter()
    merged = merge_tagged_pdfs([cover_pdf, *rendered_parts],
                               [0, *(part.outline_depth for part in parts)])
    total = len(merged.pages)
    frame_html = render_html(frame_template, {**context, "pages": range(total)})
    frame_bytes, frame_pages = _weasyprint(frame_html)
    if frame_pages != total:
        raise PDFRenderError(f"The page frame has {frame_pages} pages for {total}")
    with pikepdf.open(io.BytesIO(frame_bytes)) as frame:
        _as_artifacts(frame)
        for page, frame_page in zip(merged.pages, frame.pages, strict=True):
            page.add_overlay(frame_page)
        buffer = io.BytesIO()
        merged.save(buffer, compress_streams=True,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate)
    merged.close()
    pdf_seconds += perf_counter() - started
    return RenderedPDF(content=buffer.getvalue(), html="", html_seconds=html_seconds,
                       pdf_seconds=pdf_seconds, page_count=total)

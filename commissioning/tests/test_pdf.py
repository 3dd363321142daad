import io
import re

import pikepdf
import pytest
from django.core.management import call_command
from django.template import engines
from pypdf import PdfReader

from commissioning import pdf


def test_it_serves_static_files_and_refuses_everything_else():
    fetcher = pdf.url_fetcher()
    css = fetcher.fetch("http://pdf.local/static/pdf/report.css")
    assert b"@page" in css.read() and css.content_type == "text/css"
    for url in ("file:///etc/passwd", "http://example.org/x.css", "http://pdf.local/etc/passwd",
                "http://pdf.local/static/../../etc/passwd"):
        with pytest.raises(pdf.PDFResourceRefused):
            fetcher.fetch(url)


def test_it_renders_a_tagged_pdf_with_title_language_and_page_numbers(tmp_path, settings):
    template_dir = tmp_path / "templates"
    (template_dir / "pdf").mkdir(parents=True)
    rows = "".join(f"<tr><td>Row {i}</td><td class='num'>£{i},000</td></tr>" for i in range(120))
    (template_dir / "pdf" / "sample.html").write_text(
        "{% extends 'pdf/base.html' %}{% block body %}<h1>Bromley Well</h1><table><thead><tr>"
        "<th>Item</th><th class='num'>Value</th></tr></thead><tbody>" + rows +
        "</tbody></table>{% endblock %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0],
                           "DIRS": [template_dir, *settings.TEMPLATES[0]["DIRS"]]}]
    engines._engines = {}
    try:
        rendered = pdf.render_pdf("pdf/sample.html", {"document_title": "Sample report",
                                                      "service_name": "Joint commissioning"})
    finally:
        engines._engines = {}
    reader = PdfReader(io.BytesIO(rendered.content))
    assert rendered.page_count == len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Bromley Well" in text and "Row 119" in text
    assert f"Page 2 of {rendered.page_count}" in text
    assert "Item" in reader.pages[1].extract_text()  # table header repeated on page 2
    catalog = reader.trailer["/Root"]
    assert reader.metadata.title == "Sample report"
    assert catalog["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]


PARTS_TEMPLATE = (
    "{% extends 'pdf/base.html' %}{% block body %}"
    "{% if 'cover' in parts %}<h1>Annual report</h1><ol class='contents'>"
    "{% for name in contents %}<li><a href='#{{ name }}'"
    "{% if section_pages %} data-page='{{ section_pages|get:name }}'{% endif %}>"
    "Section {{ name }}</a></li>{% endfor %}</ol>"
    "{% for name in section_pages %}<span id='{{ name }}'></span>{% endfor %}{% endif %}"
    "{% for name in parts %}{% if name != 'cover' %}<section id='{{ name }}' class='section'>"
    "<h2>Section {{ name }}</h2><table><thead><tr><th>Item</th></tr></thead><tbody>"
    "{% for i in rows %}<tr><td>{{ name }} row {{ i }}</td></tr>{% endfor %}</tbody></table>"
    "</section>{% endif %}{% endfor %}{% endblock %}"
)


@pytest.fixture
def parts_template(tmp_path, settings):
    template_dir = tmp_path / "templates"
    (template_dir / "pdf").mkdir(parents=True)
    (template_dir / "pdf" / "parts.html").write_text(PARTS_TEMPLATE)
    settings.TEMPLATES = [{**settings.TEMPLATES[0],
                           "DIRS": [template_dir, *settings.TEMPLATES[0]["DIRS"]],
                           "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"],
                                       "builtins": ["commissioning.tests.pdf_tags"]}}]
    engines._engines = {}
    yield
    engines._engines = {}


def test_a_document_rendered_in_parts_is_one_tagged_pdf(parts_template):
    names = ("alpha", "beta", "gamma")
    context = {"document_title": "Parts report", "service_name": "Joint commissioning",
               "running_title": "Bromley partnership", "running_period": "May 2026",
               "marking": "OFFICIAL", "rows": range(70), "contents": names}
    rendered = pdf.render_pdf_in_parts(
        "pdf/parts.html", context, [pdf.PDFPart({"parts": (name,)}) for name in names],
        cover={"parts": ("cover",)}, contents=names)
    reader = PdfReader(io.BytesIO(rendered.content))
    total = rendered.page_count
    assert total == len(reader.pages) >= 7  # cover + at least two pages a part
    texts = [page.extract_text() for page in reader.pages]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {total}" in text
        assert "OFFICIAL" in text
        assert ("Bromley partnership" in text) == (number > 1)  # no header on the cover
    starts = {name: next(n for n, t in enumerate(texts, start=1) if f"{name} row 0" in t)
              for name in names}
    assert starts["alpha"] == 2
    with pikepdf.open(io.BytesIO(rendered.content)) as document:
        pages = {page.obj.objgen: index for index, page in enumerate(document.pages)}
        # Named destinations point at each section's first page; the contents says so.
        dests = document.Root.Names.Dests.Names
        found = {str(dests[i]): pages[dests[i + 1][0].objgen] + 1
                 for i in range(0, len(dests), 2)}
        assert {name: found[name] for name in names} == starts
        for name in names:
            assert f"Section {name}" in texts[0] and str(starts[name]) in texts[0]
        # One structure tree: a single /Document whose elements all point at real pages,
        # one parent-tree entry for every page and link.
        tree = document.Root.StructTreeRoot
        root = tree.K[0] if isinstance(tree.K, pikepdf.Array) else tree.K
        assert root.S == "/Document"
        keys = [int(tree.ParentTree.Nums[i]) for i in range(0, len(tree.ParentTree.Nums), 2)]
        assert len(keys) == len(set(keys)) and int(tree.ParentTreeNextKey) == max(keys) + 1
        parent_tree = {int(tree.ParentTree.Nums[i]): tree.ParentTree.Nums[i + 1]
                       for i in range(0, len(tree.ParentTree.Nums), 2)}
        page_keys = [int(page.obj.StructParents) for page in document.pages]
        assert len(set(page_keys)) == len(page_keys)
        for page, key in zip(document.pages, page_keys, strict=True):
            # The page's marked content maps to elements on that very page.
            assert {element.Pg.objgen for element in parent_tree[key]} == {page.obj.objgen}
        headings, stack = [], [root]
        while stack:
            element = stack.pop()
            if isinstance(element, pikepdf.Dictionary):
                if "/Pg" in element:
                    assert element.Pg.objgen in pages
                if element.get("/S") == "/H2":
                    headings.append(element)
                kids = element.get("/K")
                stack.extend(kids if isinstance(kids, pikepdf.Array) else [kids])
        assert len(headings) == 3
        # Bookmarks: the cover's title, each part's section under it.
        with document.open_outline() as outline:
            [title] = outline.root
            assert [item.title for item in title.children] == [f"Section {n}" for n in names]
        # Headers and page numbers are pagination artifacts, not content.
        overlay = document.pages[1].obj.Resources.XObject
        form = next(iter(overlay.values())).read_bytes()
        assert b"/Artifact" in form and b"/MCID" not in form
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en-GB" and catalog["/MarkInfo"]["/Marked"]
    assert reader.metadata.title == "Parts report"


def test_it_reads_hashed_static_files_after_collectstatic_with_the_manifest_storage(
        tmp_path, settings):
    """Production: ``{% static %}`` gives ``pdf/report.<hash>.css``, which only the storage
    (STATIC_ROOT after collectstatic) has; the source folders know only ``report.css``."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    rendered = pdf.render_pdf("pdf/base.html", {"document_title": "Hashed CSS",
                                                "service_name": "Joint commissioning"})
    hashed = re.search(r'href="/static/(pdf/report\.[0-9a-f]{12}\.css)"', rendered.html)
    assert hashed, rendered.html
    fetched = pdf.url_fetcher().fetch(f"http://pdf.local/static/{hashed.group(1)}")
    assert b"@page" in fetched.read()
    assert PdfReader(io.BytesIO(rendered.content)).metadata.title == "Hashed CSS"
    for url in ("file:///etc/passwd", "http://example.org/x.css",
                "http://pdf.local/static/%2e%2e/%2e%2e/etc/passwd"):
        with pytest.raises(pdf.PDFResourceRefused):
            pdf.url_fetcher().fetch(url)

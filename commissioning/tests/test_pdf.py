import io

import pytest
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

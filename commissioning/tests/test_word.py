"""The Word writer, read back with python-docx (as Word or LibreOffice would open it)."""

import io
import zipfile

from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from commissioning.word import WordDocument


def _level(paragraph):
    ppr = paragraph._p.pPr
    if ppr is None or ppr.numPr is None:
        return None
    return ppr.numPr.ilvl.val, ppr.numPr.numId.val


def _document():
    word = WordDocument(title="Contract award", running_title="Care Services PDS Committee",
                        marking="Part 1 (public)")
    word.table([["Decision maker", "Executive"], ["Ward", "Borough-wide"]], row_headers=True)
    word.title("CONTRACT AWARD")
    word.heading("Reason for report", numbered=True)
    word.paragraph("This report recommends a contract award.", numbered=True)
    word.paragraph("Read with the Part 2 report.", numbered=True)
    word.heading("Financial", numbered=True)
    word.table([["Cost of proposal", "£2,700,000 per year"]], header=["Item", "Detail"])
    return Document(io.BytesIO(word.render().content)), word


def test_it_writes_real_headings_numbered_paragraphs_and_tables():
    document, _ = _document()
    shown = [(p.style.name, p.text, _level(p)) for p in document.paragraphs if p.text]
    num_id = shown[1][2][1]
    assert shown == [
        ("Title", "CONTRACT AWARD", None),
        ("Heading 1", "Reason for report", (0, num_id)),
        ("Normal", "This report recommends a contract award.", (1, num_id)),
        ("Normal", "Read with the Part 2 report.", (1, num_id)),
        ("Heading 1", "Financial", (0, num_id)),
    ]
    cover, financial = document.tables
    assert [[c.text for c in row.cells] for row in cover.rows] == [
        ["Decision maker", "Executive"], ["Ward", "Borough-wide"]]
    assert cover.rows[0].cells[0].paragraphs[0].runs[0].bold
    header = financial.rows[0]._tr.trPr.find(qn("w:tblHeader"))
    assert header is not None and [c.text for c in financial.rows[0].cells] == ["Item", "Detail"]


def test_it_numbers_sections_then_paragraphs_as_the_seed_papers_do():
    _, word = _document()
    numbering = word.document.part.numbering_part.element
    num = next(n for n in numbering.findall(qn("w:num")) if int(n.numId) == word._num_id)
    abstract = next(a for a in numbering.findall(qn("w:abstractNum"))
                    if a.get(qn("w:abstractNumId")) == str(num.abstractNumId.val))
    texts = [lvl.find(qn("w:lvlText")).get(qn("w:val")) for lvl in abstract.findall(qn("w:lvl"))]
    assert texts == ["%1.", "%1.%2"]
    # Every abstractNum comes before the first num (Word refuses the file otherwise).
    tags = [etree.QName(child).localname for child in numbering]
    assert tags.index("num") > max(i for i, t in enumerate(tags) if t == "abstractNum")


def test_it_carries_title_language_running_header_and_page_x_of_y():
    document, word = _document()
    assert document.core_properties.title == "Contract award"
    assert document.core_properties.language == "en-GB"
    assert document.sections[0].header.paragraphs[0].text == (
        "Care Services PDS Committee | Part 1 (public)")
    with zipfile.ZipFile(io.BytesIO(word.render().content)) as package:
        footer = b"".join(package.read(n) for n in package.namelist() if "footer" in n)
    assert b'w:instr=" PAGE' in footer and b'w:instr=" NUMPAGES' in footer

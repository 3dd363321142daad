"""The one Word (.docx) writer: the counterpart of ``commissioning/pdf.py`` for documents that
people go on to edit in Word or LibreOffice (committee papers go to Democratic Services as
.docx, and the committee management systems councils use take .docx).

What it writes is real Word structure, not look-alike formatting, so the document edits
cleanly and reads well with a screen reader:

- headings use the built-in "Title", "Heading 1" and "Heading 2" styles (the navigation pane
  and a table of contents find them);
- section headings and their paragraphs are numbered by Word's own multi-level list ("1.",
  then "1.1", "1.2" under it), so a paragraph inserted later renumbers the rest;
- tables are Word tables with a header row that repeats on each page;
- the running header and the "Page X of Y" footer are Word fields.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from docx import Document
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

DOCX_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document")

# Section heading "1." at level 0, its paragraphs "1.1", "1.2" at level 1 (seed papers' shape).
_OUTLINE_LIST = """<w:abstractNum {ns} w:abstractNumId="{id}">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/>
    <w:lvlJc w:val="left"/><w:pPr><w:ind w:left="709" w:hanging="709"/></w:pPr></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/>
    <w:lvlJc w:val="left"/><w:pPr><w:ind w:left="709" w:hanging="709"/></w:pPr></w:lvl>
</w:abstractNum>"""


@dataclass
class RenderedDocx:
    content: bytes
    paragraph_count: int


class WordDocument:
    """Build a .docx from headings, numbered paragraphs and tables; ``render()`` gives bytes."""

    def __init__(self, *, title: str, running_title: str = "", marking: str = "",
                 language: str = "en-GB") -> None:
        self.document = Document()
        self.document.core_properties.title = title[:250]
        self.document.core_properties.language = language
        section = self.document.sections[0]
        section.page_height, section.page_width = Cm(29.7), Cm(21.0)  # A4
        for side in ("left_margin", "right_margin"):
            setattr(section, side, Cm(2.2))
        normal = self.document.styles["Normal"]
        normal.font.name = "Arial"
        normal.font.size = Pt(11)
        self._set_language(language)
        self._num_id = self._add_outline_list()
        self._header_footer(running_title, marking)

    # --- Structure ---------------------------------------------------------------------------

    def title(self, text: str) -> Paragraph:
        return self.document.add_paragraph(text, style="Title")

    def heading(self, text: str, level: int = 1, *, numbered: bool = False) -> Paragraph:
        """A built-in heading; ``numbered`` puts it at the top level of the outline list."""
        paragraph = self.document.add_heading(text, level=level)
        if numbered:
            self._number(paragraph, 0)
        return paragraph

    def paragraph(self, text: str = "", *, numbered: bool = False, bold: bool = False,
                  style: str | None = None) -> Paragraph:
        """A paragraph; ``numbered`` makes it "n.m" under the last numbered heading. A newline
        in ``text`` is a line break inside the paragraph."""
        paragraph = self.document.add_paragraph(style=style)
        lines = text.split("\n") if text else []
        for index, line in enumerate(lines):
            run = paragraph.add_run(line)
            run.bold = bold
            if index < len(lines) - 1:
                run.add_break()
        if numbered:
            self._number(paragraph, 1)
        return paragraph

    def table(self, rows: Sequence[Sequence[str]], *, header: Sequence[str] | None = None,
              row_headers: bool = False, widths_cm: Sequence[float] | None = None) -> Table:
        """A Word table. ``header`` is a repeating header row; ``row_headers`` makes the first
        cell of each row bold (a label column, as in a cover block)."""
        columns = len(header) if header else max((len(row) for row in rows), default=1)
        table = self.document.add_table(rows=0, cols=columns)
        table.style = self.document.styles["Table Grid"]
        if header:
            cells = table.add_row().cells
            for cell, text in zip(cells, header, strict=False):
                cell.paragraphs[0].add_run(str(text)).bold = True
            self._repeat_header(table.rows[0])
        for row in rows:
            cells = table.add_row().cells
            for index, (cell, text) in enumerate(zip(cells, row, strict=False)):
                lines = str(text).split("\n")
                run = cell.paragraphs[0].add_run(lines[0])
                run.bold = row_headers and index == 0
                for line in lines[1:]:
                    cell.add_paragraph(line)
        if widths_cm:
            for row in table.rows:
                for cell, width in zip(row.cells, widths_cm, strict=False):
                    cell.width = Cm(width)
        self.document.add_paragraph()  # Word joins two tables that touch
        return table

    def render(self) -> RenderedDocx:
        buffer = io.BytesIO()
        self.document.save(buffer)
        return RenderedDocx(buffer.getvalue(), len(self.document.paragraphs))

    # --- Word internals ----------------------------------------------------------------------

    def _set_language(self, language: str) -> None:
        rpr = self.document.styles.element.find(qn("w:docDefaults"))
        if rpr is None:
            return
        run_defaults = rpr.find(qn("w:rPrDefault"))
        if run_defaults is None:
            return
        rpr = run_defaults.find(qn("w:rPr"))
        if rpr is None:
            return
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), language)

    def _add_outline_list(self) -> int:
        numbering = self.document.part.numbering_part.element
        abstract_ids = [int(n.get(qn("w:abstractNumId")))
                        for n in numbering.findall(qn("w:abstractNum"))]
        abstract_id = max(abstract_ids, default=-1) + 1
        abstract = parse_xml(_OUTLINE_LIST.format(ns=nsdecls("w"), id=abstract_id))
        first_num = numbering.find(qn("w:num"))
        # The schema puts every abstractNum before the first num.
        if first_num is not None:
            first_num.addprevious(abstract)
        else:
            numbering.append(abstract)
        num = numbering.add_num(abstract_id)
        return int(num.numId)

    def _number(self, paragraph: Paragraph, level: int) -> None:
        num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = level
        num_pr.get_or_add_numId().val = self._num_id

    @staticmethod
    def _repeat_header(row) -> None:
        tr_pr = row._tr.get_or_add_trPr()
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        tr_pr.append(flag)

    def _header_footer(self, running_title: str, marking: str) -> None:
        section = self.document.sections[0]
        if running_title or marking:
            header = section.header.paragraphs[0]
            header.text = " | ".join(t for t in (running_title, marking) if t)
        footer = section.footer.paragraphs[0]
        footer.text = ""
        footer.add_run("Page ")
        self._field(footer, "PAGE", "1")
        footer.add_run(" of ")
        self._field(footer, "NUMPAGES", "1")

    @staticmethod
    def _field(paragraph: Paragraph, instruction: str, placeholder: str) -> None:
        """A simple Word field (PAGE, NUMPAGES) that Word and LibreOffice update on open."""
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), f" {instruction} \\* MERGEFORMAT ")
        inner = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = placeholder
        inner.append(text)
        field.append(inner)
        paragraph._p.append(field)

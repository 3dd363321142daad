"""A committee report as a Word document: the same context, parts and sections as its PDF
(``committee.report_context``), written by the one Word writer (``commissioning.word``).

Part 1 leaves out the body of every exempt section (only the notice that it is in Part 2 is
shown), exactly as the PDF does; Part 2 has everything.
"""

from __future__ import annotations

import re

from commissioning.word import RenderedDocx, WordDocument

EXEMPT_NOTICE = ("This section contains exempt information and is included only in the Part 2 "
                 "report (Local Government Act 1972, Schedule 12A).")
_BLANK_LINES = re.compile(r"\n\s*\n")


def cover_rows(report) -> list[list[str]]:
    """The cover block, in the seed papers' order and wording."""
    contact = "\n".join(line for line in (
        report.contact_name,
        f"Tel: {report.contact_phone}" if report.contact_phone else "",
        f"E-mail: {report.contact_email}" if report.contact_email else "",
    ) if line)
    rows = [
        ["Decision maker", report.get_decision_maker_display()],
        ["Date", f"{report.meeting_name}, {report.meeting_date:%-d %B %Y}"],
        ["Decision type", report.decision_type],
        ["Title", report.title.upper()],
        ["Contact officer", contact],
        ["Chief officer", report.chief_officer],
        ["Ward", report.ward],
    ]
    if report.report_reference:
        rows.append(["Report number", report.report_reference])
    return rows


def paragraphs(body: str) -> list[str]:
    """A section's prose as paragraphs: a blank line starts a new one (as in the PDF)."""
    return [p.strip() for p in _BLANK_LINES.split(body.replace("\r\n", "\n")) if p.strip()]


def render_committee_docx(context: dict) -> RenderedDocx:
    """The .docx of ``committee.report_context(report, part)``."""
    report = context["report"]
    word = WordDocument(title=context["document_title"], running_title=context["running_title"],
                        marking=context["marking"])
    word.paragraph(context["marking"], bold=True)
    word.table(cover_rows(report), row_headers=True, widths_cm=[4.5, 12.1])
    read_with = ""
    if context["part"] == "part1" and report.has_exempt_sections:
        read_with = (". This report should be read together with the Part 2 (exempt) report, "
                     "which contains the information omitted here.")
    word.paragraph(context["part_label"] + read_with, bold=True)
    word.title(report.title)
    for section in context["sections"]:
        word.heading(section["title"], level=1, numbered=True)
        if section["omitted"]:
            word.paragraph(EXEMPT_NOTICE, numbered=True)
            continue
        if section.get("facts"):
            word.table([[label, value] for label, value in section["facts"]],
                       row_headers=True, widths_cm=[6.5, 10.1])
        for text in paragraphs(section.get("body", "")):
            word.paragraph(text, numbered=True)
    return word.render()

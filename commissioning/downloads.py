"""Download headers and worksheet titles: the one place they are built.

File names and sheet titles are made from what people typed (contract references, report
titles, uploaded file names), so they are cleaned here before they reach a header or a
workbook:

- ``Content-Disposition`` follows RFC 6266: an ASCII ``filename="..."`` for every browser,
  with quotes, backslashes, control characters and path separators taken out (a ``"`` in a
  contract reference once ended the quoted name and started a second one), plus
  ``filename*=UTF-8''...`` (RFC 8187) when the name has characters ASCII cannot hold.
- Every download is ``Cache-Control: private, no-store`` and ``nosniff``.
- Worksheet titles: Excel and openpyxl refuse ``* ? : / \\ [ ]``, a leading or trailing
  apostrophe, and more than 31 characters.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.http import HttpResponseBase

# Control characters (C0, DEL, C1), quotes, backslashes, path separators and the characters
# Windows refuses in file names.
_UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f-\x9f"\\/:*?<>|]')
_SPACES = re.compile(r"\s+")
_SHEET_REFUSES = re.compile(r"[*?:/\\\[\]\x00-\x1f]")
MAX_FILENAME = 150
MAX_SHEET_TITLE = 31


def safe_filename(name: str, default: str = "download") -> str:
    """The name with unsafe characters removed and spaces collapsed (Unicode kept)."""
    cleaned = _SPACES.sub(" ", _UNSAFE_IN_FILENAME.sub("", unicodedata.normalize("NFC", name)))
    cleaned = cleaned.strip(" .")
    if len(cleaned) > MAX_FILENAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 5:
            cleaned = stem[:MAX_FILENAME - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            cleaned = cleaned[:MAX_FILENAME].rstrip(" .")
    return cleaned or default


def ascii_filename(name: str) -> str:
    """The closest ASCII spelling (accents dropped: "Café" -> "Cafe", others -> "_")."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return safe_filename("".join(c if c.isascii() else "_" for c in letters))


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """An RFC 6266 ``Content-Disposition`` value for ``filename``."""
    name = safe_filename(filename)
    fallback = ascii_filename(name)
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def as_download(response: HttpResponseBase, filename: str, *,
                inline: bool = False) -> HttpResponseBase:
    """Mark ``response`` as a download called ``filename``, never cached or sniffed."""
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def sheet_title(title: str, default: str = "Sheet1") -> str:
    """A worksheet title Excel and openpyxl accept."""
    cleaned = _SPACES.sub(" ", _SHEET_REFUSES.sub(" ", title)).strip().strip("'").strip()
    return cleaned[:MAX_SHEET_TITLE].rstrip() or default

"""Open Contracting's own checker (libcoveocds), run offline.

libcoveocds reads the OCDS standard from a ZIP of the standard's repository and each declared
extension from its URL. Neither can be reached from the test machines, so:

- the standard (1.1.5 release schema and versioned release validation schema from
  ocdsextensionregistry's release, the release package schema written from the documentation)
  lives in ``contracts/tests/ocds_standard/`` and is given to libcoveocds as the bytes of a ZIP
  (its ``standard_zip`` setting);
- the extensions' files (copied from their repositories: ``contracts/ocds_extensions/README.md``)
  live in ``contracts/ocds_extensions/<repository>/`` and a requests adapter mounted on
  ocdsextensionregistry's session answers the URLs ``contracts.ocds.EXTENSIONS`` declares with
  them (raw files and the GitHub archive), at the declared version only: an undeclared
  extension or version is "not found", and any other URL raises, so nothing is fetched
  silently.

The checker itself is not replaced: schema validation, additional fields, the OCID prefix check
and the empty-field check are libcoveocds' own.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import requests
from libcoveocds.api import ocds_json_output
from libcoveocds.config import LibCoveOCDSConfig
from ocdsextensionregistry import util as registry_util
from requests.adapters import BaseAdapter
from urllib3 import HTTPResponse

from contracts import ocds

STANDARD = Path(__file__).parent / "ocds_standard"
EXTENSIONS = Path(ocds.__file__).parent / "ocds_extensions"
RAW = re.compile(r"^https://raw\.githubusercontent\.com/(?P<owner>[\w-]+)/(?P<repository>[\w.-]+)/"
                 r"(?P<ref>[\w.-]+)/(?P<file>[\w.+/-]+)$")
ZIP = re.compile(r"^https://github\.com/(?P<owner>[\w-]+)/(?P<repository>[\w.-]+)/archive/"
                 r"(?P<ref>[\w.-]+)\.zip$")


def _folder(match: re.Match) -> Path | None:
    """The local copy of a declared extension (``contracts/ocds_extensions/<repository>``), or
    None for a URL the package does not declare at that version."""
    declared = (f"https://raw.githubusercontent.com/{match['owner']}/{match['repository']}/"
                f"{match['ref']}/extension.json")
    if declared not in ocds.EXTENSIONS.values():
        return None
    return EXTENSIONS / match["repository"]


def _zip(folder: Path, top: str, *, under: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{top}/", "")
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{under}{path.relative_to(folder)}")
    return buffer.getvalue()


@cache
def standard_zip() -> bytes:
    return _zip(STANDARD, "standard-1__1__5", under="schema/")


class LocalExtensions(BaseAdapter):
    """Answers the declared extension URLs from ``contracts/ocds_extensions``."""

    def send(self, request, **kwargs):
        response = requests.Response()
        response.url = request.url
        response.request = request
        if match := ZIP.match(request.url):
            folder = _folder(match)
            top = f"{match['repository']}-{match['ref'].removeprefix('v')}"
            body = _zip(folder, top) if folder is not None else None
        elif match := RAW.match(request.url):
            folder = _folder(match)
            path = folder / match["file"] if folder is not None else None
            body = path.read_bytes() if path is not None and path.is_file() else None
        else:
            raise requests.ConnectionError(f"the OCDS checker may not fetch {request.url}")
        response.status_code = 200 if body is not None else 404
        response.reason = "OK" if body is not None else "Not Found"
        response._content = body or b""
        # ocdsextensionregistry's session caches responses and reads them from ``raw``.
        response.raw = HTTPResponse(body=io.BytesIO(response._content), preload_content=False,
                                    status=response.status_code, request_url=request.url)
        return response

    def close(self) -> None:
        pass


def _install_adapter() -> None:
    adapter = LocalExtensions()
    registry_util.session.mount("https://", adapter)
    registry_util.session.mount("http://", adapter)
    registry_util.session.cache.clear()


def check(package: dict[str, Any]) -> dict[str, Any]:
    """libcoveocds' report on a release package, in its API shape."""
    _install_adapter()
    config = LibCoveOCDSConfig({"standard_zip": standard_zip(), "context": "api"})
    # It writes the extended schema to a file in its output directory: keep it out of the tree.
    with tempfile.TemporaryDirectory() as output_dir:
        return ocds_json_output(output_dir, json_data=package, lib_cove_ocds_config=config)


# The UK extension adds codes to two codelists of the extensions it depends on (the bid
# extension's bid statistics, other requirements' reserved participation); libcoveocds 0.17
# applies a "+" codelist to the standard's codelists only, so it reports these two as failed
# for every publisher that declares the UK extension, Find a Tender included.
PATCHES_OF_EXTENSION_CODELISTS = {
    (ocds.EXTENSIONS["uk"], "+bidStatistics.csv"),
    (ocds.EXTENSIONS["uk"], "+reservedParticipation.csv"),
}


def problems(package: dict[str, Any]) -> dict[str, Any]:
    """Everything a publisher must fix, empty when the checker is satisfied: schema errors,
    fields no declared extension defines, extensions that did not load and their codelists
    that did not apply, malformed OCID prefixes, empty fields, codes outside their codelists
    (the standard's 1.1.5 codelists as extended by the declared extensions), and declared
    extensions that were not applied."""
    report = check(package)
    extensions = (report.get("extensions") or {}).get("extensions", [])
    found: dict[str, Any] = {
        "validation_errors": [(e["field"], e["description"]) for e in report["validation_errors"]],
        "additional_fields": [f["path"] + "/" + f["field"] for f in report["additional_fields"]],
        "invalid_extensions": (report.get("extensions") or {}).get("invalid_extensions", []),
        "failed_codelists": [(e["url"], name, message) for e in extensions
                             for name, message in (e.get("failed_codelists") or {}).items()
                             if (e["url"], name) not in PATCHES_OF_EXTENSION_CODELISTS],
        "ocid_prefixes": (report.get("conformance_errors") or {}).get(
            "ocds_prefixes_bad_format", []),
        "empty_fields": list((report.get("additional_checks") or {}).get("empty_field", [])),
        "codes_not_in_codelists": [
            *(report.get("additional_closed_codelist_values") or {}),
            *(report.get("additional_open_codelist_values") or {})],
    }
    if package.get("extensions") and not (report.get("extensions") or {}).get(
            "is_extended_schema"):
        found["extensions_not_applied"] = package["extensions"]
    return {key: value for key, value in found.items() if value}

"""Cursor pagination: stable pages however the data changes, ordered by id, with a bounded
page size. A page size out of range or a cursor that was not issued by the API is a 400."""

from __future__ import annotations

from base64 import b64decode, b64encode
from urllib import parse

from rest_framework import exceptions
from rest_framework.pagination import Cursor as CursorPosition
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import replace_query_param

MAX_POSITION_DIGITS = 18  # a bigint id


class Cursor(CursorPagination):
    ordering = "pk"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Enter a whole number from 1 to {self.max_page_size}."]},
                "invalid_page_size")
        return int(raw)

    def decode_cursor(self, request) -> CursorPosition | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        refused = exceptions.ValidationError(
            {"cursor": ["This cursor was not issued by the API: follow the 'next' and "
                        "'previous' links as given."]}, "invalid_cursor")
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            offset = int(tokens.get("o", ["0"])[0])
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
        except (ValueError, UnicodeError, TypeError):
            raise refused from None
        if set(tokens) - {"o", "r", "p"} or not 0 <= offset <= self.offset_cutoff:
            raise refused
        if position is not None and not (
                position.isdigit() and len(position) <= MAX_POSITION_DIGITS):
            raise refused
        return CursorPosition(offset=offset, reverse=reverse, position=position)

    def encode_cursor(self, cursor) -> str:
        tokens = {}
        if cursor.offset != 0:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        querystring = parse.urlencode(tokens, doseq=True)
        encoded = b64encode(querystring.encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

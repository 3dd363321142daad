"""Reading pages and filling in their forms over plain HTTP, as a person would.

For tests that drive a running server (gunicorn) with an HTTP client instead of a browser:
links are followed by their text and forms are filled in only with the fields the page
renders (a field the page does not show cannot be filled in), starting from the values the
page shows (hidden fields such as the CSRF token, pre-filled inputs, selected options).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


def _text(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    checked: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    id: str = ""


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (text, name, value)
    labels: dict[str, str] = field(default_factory=dict)  # label text -> field id
    filled: dict[str, list[str]] = field(default_factory=dict)

    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def fill(self, name: str, value: str) -> Form:
        """Type into (or choose in) the field called ``name``; it must be on the page."""
        matching = [f for f in self.fields if f.name == name]
        if not matching:
            raise AssertionError(f"The form has no field {name!r}: {sorted(self.names())}")
        first = matching[0]
        if first.kind == "select":
            values = [v for v, label in first.options if value in (v, label)]
            if not values:
                raise AssertionError(f"{name!r} offers no {value!r}: {first.options}")
            value = values[0]
        if first.kind in ("radio", "checkbox"):
            offered = {f.value for f in matching}
            if value not in offered:
                raise AssertionError(f"{name!r} offers no {value!r}: {sorted(offered)}")
        self.filled[name] = [value]
        return self

    def tick(self, name: str, ticked: bool = True) -> Form:
        matching = [f for f in self.fields if f.name == name and f.kind == "checkbox"]
        if not matching:
            raise AssertionError(f"The form has no check box {name!r}")
        self.filled[name] = [matching[0].value or "on"] if ticked else []
        return self

    def data(self, button: str | None = None) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for item in self.fields:
            if item.name in self.filled:
                if item.name not in seen:
                    pairs.extend((item.name, v) for v in self.filled[item.name])
                    seen.add(item.name)
                continue
            if item.kind in ("checkbox", "radio"):
                if item.checked:
                    pairs.append((item.name, item.value or "on"))
            elif item.kind not in ("file", "submit", "button", "image", "reset"):
                pairs.append((item.name, item.value))
        if button is not None:
            for text, name, value in self.buttons:
                if button in text and name:
                    pairs.append((name, value))
                    break
        return pairs


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.forms: list[Form] = []
        self._link: list | None = None
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: list | None = None
        self._textarea: Field | None = None
        self._button: list | None = None
        self._label: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and "href" in a:
            self._link = [a["href"], ""]
        elif tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                self._form.buttons.append((a.get("value", ""), a["name"], a.get("value", "")))
                return
            self._form.fields.append(Field(a["name"], kind, a.get("value", ""),
                                           "checked" in a, id=a.get("id", "")))
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select", id=a.get("id", ""))
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea", id=a.get("id", ""))
            self._form.fields.append(self._textarea)
        elif tag == "button":
            self._button = ["", a.get("name", ""), a.get("value", ""),
                            a.get("type", "submit")]
        elif tag == "label":
            self._label = [a.get("for", ""), ""]

    def handle_data(self, data):
        for holder in (self._link, self._button, self._label):
            if holder is not None:
                holder[1 if holder is not self._button else 0] += data
        if self._option is not None:
            self._option[1] += data
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links.append((_text(self._link[1]), self._link[0]))
            self._link = None
        elif tag == "form":
            self._form = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, label, selected = self._option
            label = _text(label)
            value = label if value is None else value
            self._select.options.append((value, label))
            if selected or (not self._select.value and len(self._select.options) == 1):
                self._select.value = value
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._textarea.value = self._textarea.value.removeprefix("\n")
            self._textarea = None
        elif tag == "button" and self._button is not None:
            text, name, value, kind = self._button
            if self._form is not None and kind == "submit":
                self._form.buttons.append((_text(text), name, value))
            self._button = None
        elif tag == "label" and self._label is not None:
            if self._form is not None:
                self._form.labels[_text(self._label[1])] = self._label[0]
            self._label = None


class Page:
    """A fetched page: its address, status, text and the links and forms it shows."""

    def __init__(self, response) -> None:
        self.response = response
        self.url = response.url
        self.status = response.status_code
        self.html = response.text
        parser = _Parser()
        parser.feed(self.html)
        self.links = parser.links
        self.forms = parser.forms

    @property
    def text(self) -> str:
        return _text(re.sub(r"<[^>]+>", " ", re.sub(
            r"<(script|style)\b.*?</\1>", " ", self.html, flags=re.S)))

    def link(self, text: str, *, exact: bool = False) -> str:
        """The absolute address of the first link whose text contains (or is) ``text``."""
        for label, href in self.links:
            if (label == text) if exact else (text in label):
                return urljoin(self.url, href)
        raise AssertionError(f"No link {text!r} on {self.url}: {[t for t, _ in self.links]}")

    def form(self, button: str) -> Form:
        """The form whose submit button says ``button``."""
        for form in self.forms:
            if any(button in text for text, _name, _value in form.buttons):
                form.action = urljoin(self.url, form.action or self.url)
                return form
        raise AssertionError(f"No form with a {button!r} button on {self.url}: "
                             f"{[b for f in self.forms for b in f.buttons]}")

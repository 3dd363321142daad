"""Read a form the way a person sees it: from the rendered page, not from the form class.

``rendered_form(html)`` finds the page's POST form and returns what a browser would submit as
it stands (every input, select and textarea with its current value) and, for each select and
radio group, the values it offers. A test then changes only what a person could change and
posts the result: a field the page does not render is never posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class PageForm:
    action: str
    data: dict[str, str | list[str]] = field(default_factory=dict)
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # value, label

    def offered(self, name: str) -> list[str]:
        """The labels a select or radio group shows (the empty choice left out)."""
        return [label for value, label in self.options.get(name, []) if value]

    def value_for(self, name: str, label: str) -> str:
        for value, shown in self.options.get(name, []):
            if shown == label:
                return value
        raise KeyError(f"{name} offers no {label!r}: {self.offered(name)}")

    def with_changes(self, **changes: str) -> dict[str, str | list[str]]:
        unknown = set(changes) - set(self.data) - set(self.options)
        assert not unknown, f"the page has no field {sorted(unknown)}"
        return {**self.data, **changes}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._option_text = ""
        self._textarea: str | None = None
        self._label_for: str | None = None
        self._labels: dict[str, str] = {}
        self._label_text = ""
        self._radios: dict[str, list[tuple[str, str]]] = {}

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = PageForm(action=a.get("action", ""))
            self._radios = {}
        if tag == "label" and a.get("for"):
            self._label_for, self._label_text = a["for"], ""
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if kind == "radio":
                    self._radios.setdefault(name, []).append((a.get("value", ""), a.get("id", "")))
                    self._form.options.setdefault(name, [])
                if "checked" in a:
                    if kind == "checkbox" and name in self._form.data:
                        existing = self._form.data[name]
                        self._form.data[name] = [*(existing if isinstance(existing, list)
                                                   else [existing]), a.get("value", "on")]
                    else:
                        self._form.data[name] = a.get("value", "on")
                return
            self._form.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._form.options[name] = []
            self._form.data.setdefault(name, "")
        elif tag == "option" and self._select:
            self._option = (a.get("value", ""), "selected" in a)
            self._option_text = ""
        elif tag == "textarea" and name:
            self._textarea = name
            self._form.data[name] = ""

    def handle_data(self, data):
        if self._option is not None:
            self._option_text += data
        if self._textarea and self._form is not None:
            self._form.data[self._textarea] += data
        if self._label_for:
            self._label_text += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._form is not None:
            value, selected = self._option
            self._form.options[self._select].append((value, self._option_text.strip()))
            if selected:
                self._form.data[self._select] = value
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "label" and self._label_for:
            self._labels[self._label_for] = " ".join(self._label_text.split())
            self._label_for = None
        elif tag == "form" and self._form is not None:
            for name, radios in self._radios.items():
                self._form.options[name] = [(value, self._labels.get(id_, value))
                                            for value, id_ in radios]
            self.forms.append(self._form)
            self._form = None


def rendered_form(html: str, *, index: int = -1) -> PageForm:
    """The page's POST forms in order; by default the last one (the main form comes after
    the header's sign-out form)."""
    parser = _Parser()
    parser.feed(html)
    assert parser.forms, "the page has no POST form"
    return parser.forms[index]

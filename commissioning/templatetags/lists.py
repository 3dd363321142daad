"""The parts every long list shares: GOV.UK numbered pagination, sortable column headers with
``aria-sort``, and the "Selected filters" tags of the MOJ "filter a list" pattern.

Each link keeps the rest of the query string (filters, sort, page), so a person can page,
sort and remove one filter at a time without losing the others. Used by the register, the
performance overview and the review inbox through ``includes/pagination.html``,
``includes/selected_filters.html`` and ``{% sort_header %}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms, template
from django.http import QueryDict
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

# Not filters: removing them is not "clearing a filter".
NOT_FILTERS = frozenset({"page", "sort", "format"})


def _query(params: QueryDict, **changes: str | None) -> str:
    """``?`` plus ``params`` with ``changes`` applied (None removes a key)."""
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


# --- Pagination --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: an ellipsis
    href: str = ""
    current: bool = False


def page_numbers(current: int, last: int) -> list[int | None]:
    """GOV.UK pagination: the first, the last, the current and its neighbours, with None
    (an ellipsis) for each gap. 1 … 4 [5] 6 … 20."""
    wanted = {1, last, current - 1, current, current + 1}
    shown = sorted(n for n in wanted if 1 <= n <= last)
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - numbers[-1] == 2:
            numbers.append(n - 1)  # a gap of one page shows the page, not an ellipsis
        elif numbers and n - numbers[-1] > 2:
            numbers.append(None)
        numbers.append(n)
    return numbers


@register.inclusion_tag("includes/pagination_links.html", takes_context=True)
def pagination(context, page_obj) -> dict:
    params = context["request"].GET
    if page_obj is None or page_obj.paginator.num_pages < 2:
        return {"page_obj": None}
    links = [PageLink(n) if n is None else
             PageLink(n, _query(params, page=str(n)), n == page_obj.number)
             for n in page_numbers(page_obj.number, page_obj.paginator.num_pages)]
    return {
        "page_obj": page_obj, "links": links,
        "previous": (_query(params, page=str(page_obj.previous_page_number()))
                     if page_obj.has_previous() else ""),
        "next": (_query(params, page=str(page_obj.next_page_number()))
                 if page_obj.has_next() else ""),
    }


# --- Sortable headers --------------------------------------------------------------------------

@register.simple_tag(takes_context=True)
def sort_header(context, filterset, key: str, label: str, numeric: bool = False) -> str:
    """A column header that sorts the list by ``key`` using the filterset's own "Sort by"
    choices (``key`` ascending, ``-key`` descending; a column offers only the directions its
    choices have, the first listed first). The sorted column says which way with
    ``aria-sort``; choosing it again turns the order round."""
    field = filterset.form.fields["sort"]
    values = [value for value, _ in field.choices]
    request = context["request"]
    current = request.GET.get("sort") or field.initial or values[0]
    if current not in values:
        current = values[0]
    # In the order the "Sort by" lists them: a column is first sorted the way it lists first
    # (annual value: highest first).
    directions = [v for v in values if v.lstrip("-") == key]
    classes = "govuk-table__header" + (" govuk-table__header--numeric" if numeric else "")
    if current in directions:
        state = "descending" if current.startswith("-") else "ascending"
        others = [v for v in directions if v != current]
        target = others[0] if others else current
    else:
        state, target = "none", directions[0]
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a class="govuk-link app-sort-link" '
        'href="{}">{}</a></th>',
        classes, state, _query(request.GET, sort=target), label)


# --- Selected filters --------------------------------------------------------------------------

@dataclass(frozen=True)
class SelectedFilter:
    label: str
    value: str
    remove_href: str


def _choices(field: forms.Field) -> list[tuple[str, str]] | None:
    """A choice field's (value, label) pairs as strings, worked out once per form (the
    filter panel and the selected-filter tags both read them). A model choice field's
    queryset is read with one plain query, not Django's per-render server-side cursor."""
    cached = getattr(field, "_list_choices", None)
    if cached is not None:
        return cached
    if isinstance(field, forms.ModelChoiceField):
        choices = [("", str(field.empty_label))] if field.empty_label is not None else []
        choices += [(str(field.prepare_value(obj)), str(field.label_from_instance(obj)))
                    for obj in field.queryset]
    elif isinstance(field, forms.ChoiceField):
        choices = [(str(value), str(text)) for value, text in field.choices]
    else:
        return None
    field._list_choices = choices
    return choices


def _shown_value(field: forms.Field, raw: str) -> str:
    for value, text in _choices(field) or ():
        if value == raw:
            return text
    return raw


@register.inclusion_tag("includes/selected_filters.html", takes_context=True)
def selected_filters(context, filterset) -> dict:
    """The MOJ "Selected filters" area: one tag per filter in use, each a link that removes
    just that filter (and goes back to page 1), and "Clear filters"."""
    request = context["request"]
    params = request.GET
    chosen = []
    for name, field in filterset.form.fields.items():
        if name in NOT_FILTERS:
            continue
        raw = params.get(name, "").strip()
        if not raw:
            continue
        # The label the filter panel shows (Django's "Service area" where none is set).
        chosen.append(SelectedFilter(str(filterset.form[name].label), _shown_value(field, raw),
                                     _query(params, **{name: None, "page": None})))
    kept = {k: params.get(k) for k in ("sort",) if params.get(k)}
    clear = QueryDict(mutable=True)
    clear.update(kept)
    return {"chosen": chosen, "clear_href": _query(clear)}


# --- The filter panel's fields --------------------------------------------------------------

def _widget_attrs(widget: forms.Widget, bound, described_by: list[str], error: bool) -> SafeString:
    attrs = {**widget.attrs, "name": bound.html_name, "id": bound.auto_id}
    attrs.pop("type", None)
    if error:
        base = "govuk-select" if isinstance(widget, forms.Select) else "govuk-input"
        attrs["class"] = f"{attrs.get('class', base)} {base}--error"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return format_html_join("", "{}", (
        (format_html(" {}", k) if v is True else format_html(' {}="{}"', k, v),)
        for k, v in attrs.items() if v is not None and v is not False))


def _filter_field(bound) -> SafeString:
    field, widget = bound.field, bound.field.widget
    errors = list(bound.errors)
    hint_id = f"{bound.auto_id}_hint"
    error_ids = [f"{bound.auto_id}_{n}_error" for n in range(1, len(errors) + 1)]
    described_by = ([hint_id] if field.help_text else []) + error_ids
    parts = [format_html('<label for="{}" class="govuk-label">{}</label>',
                         bound.id_for_label, bound.label)]
    if field.help_text:
        parts.append(format_html('<div id="{}" class="govuk-hint">{}</div>', hint_id,
                                 field.help_text))
    parts += [format_html('<p id="{}" class="govuk-error-message"><span '
                          'class="govuk-visually-hidden">Error:</span> {}</p>', error_id, error)
              for error_id, error in zip(error_ids, errors, strict=True)]
    value = bound.value()
    if type(widget) is forms.Select:
        chosen = "" if value is None else str(value)
        options = format_html_join("", '<option value="{}"{}>{}</option>', (
            (option, " selected" if option == chosen else "", text)
            for option, text in _choices(field)))
        parts.append(format_html("<select{}>{}</select>",
                                 _widget_attrs(widget, bound, described_by, bool(errors)),
                                 options))
    elif type(widget) is forms.TextInput:
        shown = "" if value in (None, "") else format_html(' value="{}"', value)
        parts.append(format_html('<input type="{}"{}{}>',
                                 widget.attrs.get("type", widget.input_type),
                                 _widget_attrs(widget, bound, described_by, bool(errors)),
                                 shown))
    else:  # any other widget is rendered by Django itself
        parts.append(conditional_escape(bound.as_widget(attrs=(
            {"aria-describedby": " ".join(described_by)} if described_by else None))))
    return format_html('<div class="govuk-form-group{}">{}</div>',
                       " govuk-form-group--error" if errors else "",
                       format_html_join("", "{}", ((part,) for part in parts)))


@register.simple_tag
def filter_fields(form: forms.Form) -> SafeString:
    """A filter panel's fields as plain GOV.UK form groups (label, hint, error messages,
    input or select), the markup crispy-forms-gds gives them, built here without a template
    per field and per option: on the register this was a third of the page's CPU time
    (bench/RESULTS.md, issue 19). Hidden fields are rendered as they are."""
    return format_html_join("", "{}", (
        (str(bound) if bound.is_hidden else _filter_field(bound),) for bound in form))

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
from django.utils.html import format_html

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


def _shown_value(field: forms.Field, raw: str) -> str:
    choices = getattr(field, "choices", None)
    if choices is not None:
        for value, text in choices:
            if str(value) == raw:
                return str(text)
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

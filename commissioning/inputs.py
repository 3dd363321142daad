"""What people type: the one place that reads money and dates, for every form and import.

A form field here and an import's parser read the same text the same way, so an amount or a
date accepted on a page is accepted in a spreadsheet and refused with the same words.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

PENNY = Decimal("0.01")
# Money columns are DecimalField(max_digits=14, decimal_places=2): under a trillion pounds.
MAX_AMOUNT = Decimal("1000000000000")
DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y", "%Y-%m-%d"]

_AMOUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$|^\.\d{1,2}$")
_SHORTENED = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:k|m|bn|m\.|k\.)$", re.I)


class AmountError(ValueError):
    """Not an amount of money (``reason`` is "format", "shortened" or "too_large")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_money(value: object) -> Decimal:
    """"£1,234.50", "1234.5", "-£12", "(1,234.50)" (a negative, as accountants write it) or a
    number from a spreadsheet cell, to the penny. Raises ``AmountError`` for anything else
    ("12,34x", "£75k", "2.7m", three decimal places) and for a trillion pounds or more."""
    if isinstance(value, bool):
        raise AmountError("format")
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(str(value))
        except InvalidOperation as error:
            raise AmountError("format") from error
        if not amount.is_finite():
            raise AmountError("format")
        amount = amount.quantize(PENNY, rounding=ROUND_HALF_UP)
    else:
        text = str(value).strip().replace(" ", "").replace("\u00a0", "")
        negative = False
        if text.startswith("(") and text.endswith(")"):
            negative, text = True, text[1:-1]
        if text.startswith("-"):
            negative, text = not negative, text[1:]
        elif text.startswith("+"):
            text = text[1:]
        if text.startswith("£"):
            text = text[1:]
        if text.startswith("-") and not negative:
            negative, text = True, text[1:]
        if not _AMOUNT.match(text):
            # "£75k", "2.7m": a person's shorthand, never guessed at (£75k may be rounded).
            raise AmountError("shortened" if _SHORTENED.match(text) else "format")
        amount = Decimal(text.replace(",", ""))
        amount = -amount if negative else amount
    if abs(amount) >= MAX_AMOUNT:
        raise AmountError("too_large")
    return amount


class UKDateField(forms.DateField):
    """A UK date typed as dd/mm/yyyy (a single text input with a hint)."""

    def __init__(self, *, label: str, required: bool = True, noun: str | None = None,
                 **kwargs) -> None:
        noun = noun or label[0].lower() + label[1:]
        kwargs.setdefault("help_text", "For example, 27/03/2026")
        super().__init__(
            label=label, required=required, input_formats=DATE_FORMATS,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                          "class": "govuk-input govuk-input--width-10"}),
            error_messages={"required": f"Enter the {noun}",
                            "invalid": f"Enter the {noun} as a real date, like 27/03/2026"},
            **kwargs,
        )

    def prepare_value(self, value):
        if hasattr(value, "strftime"):
            return value.strftime("%d/%m/%Y")
        return value


class MoneyField(forms.CharField):
    """Pounds and pence typed as text, read by ``parse_money``."""

    def __init__(self, *, label: str, allow_negative: bool = False, noun: str | None = None,
                 **kwargs) -> None:
        self.noun = noun or label[0].lower() + label[1:]
        self.allow_negative = allow_negative
        kwargs.setdefault("help_text", "In pounds, for example £1,234.50")
        super().__init__(
            label=label,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false",
                                          "class": "govuk-input govuk-input--width-10"}),
            error_messages={"required": f"Enter the {self.noun}"},
            **kwargs,
        )

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            amount = parse_money(text)
        except AmountError as error:
            raise ValidationError(money_message(self.noun, error)) from error
        if amount < 0 and not self.allow_negative:
            raise ValidationError(f"The {self.noun} must be £0 or more")
        return amount

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{value:,.2f}"
        return value


# KPI figures are DecimalField(max_digits=14, decimal_places=2): under 10**12.
MAX_FIGURE_WHOLE_DIGITS = 12


class FigureError(ValueError):
    """Not a KPI figure (``reason`` is "format", "places" or "too_large")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_figure(value: object) -> Decimal | None:
    """A figure in a return, typed on the page or in a spreadsheet cell: "1,234.5", "£12",
    "85%" -> Decimal; blank -> None. Raises ``FigureError`` for text, more than 2 decimal
    places, or 10**12 or more (the same limits on the page and in the spreadsheet)."""
    text = "" if value is None else str(value)
    text = text.strip().replace(",", "").removeprefix("£").removesuffix("%").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise FigureError("format") from error
    if not number.is_finite():
        raise FigureError("format")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise FigureError("places")
    if abs(number) >= Decimal(10) ** MAX_FIGURE_WHOLE_DIGITS:
        raise FigureError("too_large")
    return number


def figure_message(label: str, error: FigureError) -> str:
    """The words for a figure that could not be read, the same on pages and in spreadsheets."""
    if error.reason == "places":
        return f"{label} must have no more than 2 decimal places"
    if error.reason == "too_large":
        return f"{label} is too large"
    return f"{label} must be a number, like 42 or 12.5"


def money_message(noun: str, error: AmountError) -> str:
    """The words for an amount that could not be read, the same on pages and in imports."""
    if error.reason == "too_large":
        return f"The {noun} must be less than £1,000,000,000,000"
    if error.reason == "shortened":
        return (f"Enter the {noun} as an amount in pounds written in full, like £75,000: "
                "amounts shortened with k or m (like £75k or £2.7m) are not read")
    return f"Enter the {noun} as an amount in pounds, like £1,234.50"

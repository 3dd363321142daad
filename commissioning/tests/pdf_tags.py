"""A template filter for the PDF tests: ``mapping|get:key``."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    return mapping.get(key, "")

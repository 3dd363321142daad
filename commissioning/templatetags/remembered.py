"""``{% remembered "name" %}…{% endremembered %}``: a part of a page rendered once for everyone
who sees the same data, kept by ``commissioning.datacache`` under the state of the data, who
is looking (``access.visibility_key``), the day and the page's query string.

Only for parts that depend on nothing else: the rows, counts and filter panel of a list, not
the header (the person's name) or anything with a CSRF token or a message in it."""

from __future__ import annotations

from django import template

from commissioning import datacache

register = template.Library()


class RememberedNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: template.base.FilterExpression):
        self.nodelist = nodelist
        self.name = name

    def render(self, context: template.Context) -> str:
        request = context["request"]
        parts = sorted((key, tuple(values)) for key, values in request.GET.lists())
        return datacache.remember(f"fragment:{self.name.resolve(context)}", request.user,
                                  (request.path, *parts),
                                  lambda: self.nodelist.render(context))


@register.tag
def remembered(parser: template.base.Parser, token: template.base.Token) -> RememberedNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% remembered %} takes one argument: a name")
    nodelist = parser.parse(("endremembered",))
    parser.delete_first_token()
    return RememberedNode(nodelist, parser.compile_filter(bits[1]))

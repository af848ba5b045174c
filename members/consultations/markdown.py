"""Staff-written Markdown, shown safely: rendered with ``markdown`` and
then cleaned by ``nh3`` to a short list of tags, so a pasted <script>, an
event handler or a javascript: link never reaches the page."""

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

TAGS = {
    "h2", "h3", "h4", "p", "br", "hr", "ul", "ol", "li", "strong", "em", "a",
    "blockquote", "code", "pre",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}}


def markdown_render(text: str) -> SafeString:
    # Headings start at h2: the page's own title is the h1.
    html = markdown_lib.markdown(text or "", extensions=["sane_lists"], output_format="html")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised just above

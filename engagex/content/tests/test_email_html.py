"""email_ready_html (inlining, preheader, absolute URLs) and html_to_text."""

import re

from engagex.content.email_html import PREHEADER_PADDING, email_ready_html, html_to_text

DOCUMENT = """<!DOCTYPE html><html><head><style>
p { color: #333333; }
.button { background: #2563eb; }
@media (max-width: 600px) { p { font-size: 18px !important; } }
</style></head><body><table><tr><td><p>Hello {{ first_name|default("there") }}</p>
<a class="button" href="{{ unsubscribe_url }}">Unsubscribe</a></td></tr></table></body></html>"""


def preheader_block(html):
    return re.search(r'<div class="engagex-preheader"[^>]*>(.*?)</div>', html, re.S)


def test_css_is_inlined_and_the_style_block_kept_for_media_queries():
    html = email_ready_html(DOCUMENT)
    assert '<p style="color: #333333;">' in html
    assert '<a class="button" href="{{ unsubscribe_url }}" style="background: #2563eb;">' in html
    assert "@media (max-width: 600px)" in html


def test_template_tags_come_through_inlining_unchanged():
    template = (
        "<style>td { padding: 4px; }</style><table>"
        "<tr><td style=\"color: {{ fields.color|default('red') }}\">x</td></tr>"
        "{% if fields.vip and fields.score > 3 %}<tr><td>VIP {{ first_name }}</td></tr>{% endif %}"
        '</table><a href="{{ view_online_url }}">online</a>'
    )
    html = email_ready_html(template, base_url="https://app.example/")
    assert "style=\"padding: 4px;color: {{ fields.color|default('red') }}\"" in html
    assert "{% if fields.vip and fields.score > 3 %}<tr>" in html
    assert "</tr>{% endif %}</tbody></table>" in html
    assert '<a href="{{ view_online_url }}">' in html


def test_preheader_is_hidden_right_after_body_escaped_and_padded():
    html = email_ready_html(DOCUMENT, preheader='Save 20% on <b>"tools"</b>, {{ first_name }}')
    body_at = html.index("<body>") + len("<body>")
    block = preheader_block(html)
    assert block.start() == body_at
    assert "display:none" in block.group(0) and "mso-hide:all" in block.group(0)
    assert block.group(1) == (
        "Save 20% on &lt;b&gt;&quot;tools&quot;&lt;/b&gt;, {{ first_name }}" + PREHEADER_PADDING
    )


def test_a_fragment_becomes_a_document_with_the_preheader_first_in_body():
    html = email_ready_html("<p>x</p>", preheader="Hi")
    assert html.startswith('<html><head></head><body><div class="engagex-preheader"')
    assert html.endswith("</div><p>x</p></body></html>")


def test_relative_urls_become_absolute_and_others_are_left_alone():
    html = email_ready_html(
        '<a href="/offers?a=1&amp;b=2">o</a><img src="img/logo.png"><a href="#top">t</a>'
        '<a href="mailto:x@example.com">m</a><a href="tel:+4912345">t</a>'
        '<a href="https://other.example/x">x</a><a href="{{ unsubscribe_url }}">u</a>'
        '<a href="//cdn.example/y">y</a>',
        base_url="https://app.example/news/",
    )
    assert 'href="https://app.example/offers?a=1&amp;b=2"' in html
    assert 'src="https://app.example/news/img/logo.png"' in html
    for untouched in (
        "#top",
        "mailto:x@example.com",
        "tel:+4912345",
        "https://other.example/x",
        "{{ unsubscribe_url }}",
    ):
        assert f'href="{untouched}"' in html
    assert 'href="https://cdn.example/y"' in html


def test_rendered_html_works_too():
    html = email_ready_html(
        "<style>p{margin:0}</style><p>Hi {{ not a tag }} Ann &amp; Bob</p>", preheader="Hi Ann"
    )
    assert '<p style="margin: 0;">Hi {{ not a tag }} Ann &amp; Bob</p>' in html


def test_plain_text_keeps_links_alt_text_and_no_markdown_escaping():
    text = html_to_text(
        "<h1>News</h1><p>- not a list, 1. not a number, a*b_c [x]</p>"
        '<p><a href="https://example.com/a">Read more</a> or '
        '<a href="https://example.com/b">https://example.com/b</a></p>'
        '<img src="x.png" alt="Our logo"><p><a href="#top">top</a></p>'
        "<table><tr><td>Cell one</td><td>Cell two</td></tr><tr><td>Row two</td></tr></table>"
    )
    assert "- not a list, 1. not a number, a*b_c [x]" in text
    assert "Read more (https://example.com/a) or https://example.com/b" in text
    assert "Our logo" in text and "x.png" not in text and "#top" not in text
    assert "Cell one" in text and "Row two" in text and "|" not in text


def test_plain_text_has_no_line_wrapping():
    sentence = " ".join(["word"] * 60)
    assert sentence in html_to_text(f"<p>{sentence}</p>")


def test_plain_text_leaves_out_styles_and_the_preheader_but_keeps_template_tags():
    html = email_ready_html(
        '<style>p { color: red }</style><p>Hi {{ first_name|default("there") }}</p>'
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
        preheader="Hidden preview text",
    )
    text = html_to_text(html)
    assert "color" not in text and "Hidden preview text" not in text
    assert 'Hi {{ first_name|default("there") }}' in text
    assert "Unsubscribe ({{ unsubscribe_url }})" in text

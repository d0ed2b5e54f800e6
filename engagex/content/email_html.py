"""Email-ready HTML (CSS inlined, hidden preheader, absolute URLs) and its plain text.

When `email_ready_html` runs: once per mailing, on the template, before
`compile_message` — not once per recipient. css-inline costs about as much as a
whole render (see `bench/render.py`: `email_ready_per_sec` vs `renders_per_sec`),
and nothing it does depends on the recipient, so the sender's recipe is::

    html = email_ready_html(template_html, preheader=template_preheader, base_url=site)
    compiled = compile_message(subject=…, preheader=template_preheader, html=html, text=…)
    # per recipient: compiled.render(context, seed=…)

That works because Jinja tags and spintax are protected while css-inline parses the
document (`sanitize.protect_template`): `{{ unsubscribe_url }}` in an `href`, a merge
tag in a `style` value or `{% if %}` between table rows come out as written. The
preheader argument is the preheader *template*: it is HTML-escaped except inside its
Jinja tags, where only `<`, `>` and `&` are escaped (so comparisons with `<`/`>`
don't belong in a preheader); it renders per recipient with the rest of the HTML.

- css-inline keeps the `<style>` blocks (media queries, dark mode) and never fetches
  remote stylesheets; one inliner is shared by all calls.
- The preheader is a hidden `<div class="engagex-preheader">` right after `<body>`,
  padded with `&#847;&zwnj;&nbsp;` so inboxes don't append body text to the snippet.
- Relative `href`/`src`/`background` URLs are made absolute against `base_url`;
  absolute URLs, `mailto:`/`tel:`/`cid:`/`data:`, `#anchors` and URLs that start
  with a merge tag are left alone.

`html_to_text` (html2text) turns HTML into a readable plain-text part: no line
wrapping, no Markdown escaping (`- item` stays `- item`), links as `text (url)`,
images as their alt text, layout tables flattened, the preheader block left out.
"""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urljoin

import css_inline
import html2text

from engagex.content.sanitize import PREHEADER_CLASS, protect_template
from engagex.content.spintax import jinja_tag_spans

# In lines of 15 groups: one 1,600-character line would push the whole HTML part past
# SMTP's 998-octet line limit and into quoted-printable for every recipient. The line
# breaks are whitespace inside a hidden block, so the snippet doesn't change.
PREHEADER_PADDING = "\n".join(["&#847;&zwnj;&nbsp;" * 15] * 6)

_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.I)
_URL_ATTRIBUTE = re.compile(r'(\s(?:href|src|background)=")([^"]*)(")', re.I)
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_PREHEADER_BLOCK = re.compile(
    rf'<div\b[^>]*\bclass="{PREHEADER_CLASS}"[^>]*>.*?</div>', re.S | re.I
)
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]*)\)")
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")


def email_ready_html(html: str, *, preheader: str = "", base_url: str = "") -> str:
    protected = protect_template(html)
    document = _INLINER.inline(protected.text)
    if base_url:
        skip = protected.token_prefix

        def absolute(match: re.Match) -> str:
            url = match.group(2).strip()
            if not url or url.startswith(("#", skip)) or _HAS_SCHEME.match(url):
                return match.group(0)
            return match.group(1) + urljoin(base_url, url) + match.group(3)

        document = _URL_ATTRIBUTE.sub(absolute, document)
    document = protected.restore(document)
    if preheader:
        block = (
            f'<div class="{PREHEADER_CLASS}" style="display:none;font-size:1px;color:#ffffff;'
            "line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;"
            f'mso-hide:all">{_escape_template_text(preheader)}{PREHEADER_PADDING}</div>'
        )
        body = _BODY_TAG.search(document)
        at = body.end() if body else 0
        document = document[:at] + block + document[at:]
    return document


def _escape_template_text(text: str) -> str:
    """HTML-escape a template's text; inside its Jinja tags only <, > and &."""
    out, cursor = [], 0
    for start, end in jinja_tag_spans(text):
        out.append(html_lib.escape(text[cursor:start]))
        tag = text[start:end]
        out.append(tag.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        cursor = end
    out.append(html_lib.escape(text[cursor:]))
    return "".join(out)


class _PlainText(html2text.HTML2Text):
    def handle_data(self, data: str, entity_char: bool = False) -> None:
        # This is a plain-text email, not Markdown: skip html2text's escaping.
        super().handle_data(data, entity_char=True)


def html_to_text(html: str) -> str:
    protected = protect_template(_PREHEADER_BLOCK.sub("", html), comment_placeholders=False)
    converter = _PlainText()
    converter.body_width = 0
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.images_to_alt = True
    converter.unicode_snob = True
    converter.use_automatic_links = False
    converter.skip_internal_links = True
    text = converter.handle(protected.text)
    text = _MARKDOWN_LINK.sub(_link_text, text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return protected.restore(text + "\n") if text else ""


def _link_text(match: re.Match) -> str:
    label, url = match.group(1).strip(), match.group(2)
    if not label or label == url or (url.startswith("mailto:") and label == url[7:]):
        return url
    return f"{label} ({url})"

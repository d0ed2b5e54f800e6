"""Cleaning user-written email HTML with nh3, without breaking its template tags.

`sanitize_html` runs when a template is saved and again inside `compile_message`,
so nothing reaches a recipient or the preview that didn't pass through it.

Kept — what email needs: tables and their layout attributes (width, align, valign,
bgcolor, cellpadding, cellspacing, border, role), inline `style`, `<style>` blocks,
`class`/`id`, images (http(s), relative, `cid:` and `data:image/png|gif|jpeg|webp`
sources), links (http(s), mailto, tel, relative, `#anchors`, and merge tags such as
`href="{{ unsubscribe_url }}"`), `<font>`/`<center>`, and the document shell: when
the HTML has a `<body>`, head and body are cleaned separately (the head keeps
`<style>`, `<title>` and `<meta>` except `http-equiv` other than content-type /
X-UA-Compatible, so no meta refresh) and reassembled as
`<!DOCTYPE …><html lang dir><head>…</head><body …>…</body></html>` (doctype and head
only if the source had them); anything else outside head and body is dropped.
Cleaning cleaned HTML changes nothing, so re-saving a template is a no-op.

Dropped: scripts, event handlers (`on*`), `javascript:`/`vbscript:`/other `data:`
URLs, forms and their controls, iframe/object/embed/frame/base/link, svg and math
(with their content), ordinary comments. In CSS (style blocks and attributes),
comments and backslash escapes become spaces and `@import`, `expression(`,
`javascript:`, `vbscript:`, `behavior:` and `-moz-binding` are disarmed — the CSS
is changed in place, never shortened, so no `</style>` can be assembled from pieces.

Outlook conditional comments (`<!--[if mso]>…<![endif]-->`) are kept when their
content is plain layout markup (table/div/p/span/a/img/font…, `<style>`, `<xml>` and
Office `v:`/`o:`/`w:` tags) with no `--`, no event handler, no script-ish URL or
CSS; otherwise the whole comment is dropped (it's Outlook-only content, so the
message still works elsewhere). The downlevel markers `<!--[if !mso]><!-->` and
`<!--<![endif]-->` are kept; what sits between them is ordinary, sanitized HTML.

Template tags survive: before the HTML parser sees the template, every Jinja tag
and spintax brace is swapped for a placeholder — an HTML comment where it sits
between elements, an opaque word inside attributes, `<style>` or comments — and
swapped back afterwards (`protect_template`, also used by `email_html`). Comments are
the one thing a parser leaves in place inside a table, so `{% if %}`/`{% for %}`
(and spintax) between table rows stay between the rows instead of being
foster-parented above the table. Rule for authors: Jinja *block* tags (`{% … %}`)
must sit between elements — not inside a tag or attribute, `<style>`, or a comment
(`compile_message` rejects them there, because a block that cuts through an
attribute could be used to smuggle markup past this cleaner). Braces that only
appear after cleaning (e.g. written as `&#123;`) are re-escaped so they can never
form a new template tag.
"""

from __future__ import annotations

import html as html_lib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import nh3

from engagex.content.spintax import (
    DATA,
    find_groups,
    may_hold_template_syntax,
    scan_template,
    syntax_positions,
)

PREHEADER_CLASS = "engagex-preheader"

_TAGS = (set(nh3.ALLOWED_TAGS) | {"style", "font", "center", "big", "section", "main"}) - {
    "details",
    "summary",
}
_REMOVED_WITH_CONTENT = {
    "script", "iframe", "object", "embed", "applet", "frame", "frameset", "noframes",
    "noscript", "noembed", "template", "xmp", "plaintext", "svg", "math", "base", "link",
    "select", "textarea", "audio", "video", "canvas", "title", "meta",
}  # fmt: skip
_COMMON_ATTRIBUTES = {
    "style", "class", "id", "align", "valign", "width", "height", "dir", "lang", "title",
    "role", "bgcolor", "border",
}  # fmt: skip
_ATTRIBUTES = {
    "*": _COMMON_ATTRIBUTES,
    "table": {"cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "th": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "a": {"href", "target", "name", "rel"},
    "img": {"src", "alt", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
    "hr": {"size", "noshade"},
    "area": {"href", "alt", "shape", "coords", "target"},
    "map": {"name"},
    "time": {"datetime"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpe?g|webp)[;,]")
_META_HTTP_EQUIV = {"content-type", "x-ua-compatible"}
_URL_NOISE = re.compile(r"[\x00-\x20]+")

_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.S)
_CSS_DANGER = re.compile(
    r"expression\s*\(|(?:java|vb)script\s*:|@import|behavior\s*:|-moz-binding", re.I
)
_STYLE_BLOCK = re.compile(r"(<style>)(.*?)(</style>)", re.S)

_CONDITIONAL_COMMENT = re.compile(
    r"<!--\[if\s[\w\s!()&|]{1,60}\]>(.*)<!\[endif\]-->\Z", re.S | re.I
)
_DOWNLEVEL_MARKERS = re.compile(
    r"<!--\[if\s+!\s*mso[^\]<>-]{0,40}\]><!-->\Z|<!--<!\[endif\]-->\Z", re.I
)
_MSO_TAGS = {
    "table", "tbody", "thead", "tfoot", "tr", "td", "th", "div", "span", "p", "center",
    "a", "img", "br", "hr", "font", "b", "strong", "i", "em", "u", "style", "xml",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
_MSO_NAMESPACES = {"v", "o", "w", "x"}
_MSO_BAD = (
    "javascript:", "vbscript:", "data:", "expression(", "@import", "behavior:",
    "-moz-binding", "srcdoc",
)  # fmt: skip
_TAG_NAME = re.compile(r"</?([A-Za-z][\w:.-]*)")
_EVENT_ATTRIBUTE = re.compile(r"[\s/\"']on[a-z]+\s*=", re.I)

_DOCUMENT_BODY = re.compile(r"<body\b([^>]*)>(.*?)(?:</body\s*>|\Z)", re.I | re.S)
_DOCUMENT_HEAD = re.compile(r"<head\b[^>]*>(.*?)(?:</head\s*>|(?=<body\b)|\Z)", re.I | re.S)
_DOCTYPE = re.compile(r"\s*(<!DOCTYPE[^<>]{0,300}>\s*)", re.I)
_DOCUMENT_HTML = re.compile(r"<html\b([^>]*)>", re.I)
_LANG = re.compile(r"""\blang\s*=\s*["']?([A-Za-z0-9-]{1,40})""", re.I)
_DIR = re.compile(r"""\bdir\s*=\s*["']?(ltr|rtl|auto)\b""", re.I)
_ATTRIBUTE_STRING = re.compile(r'<div((?:\s[^\s=>]+(?:="[^"]*")?)*)>')


def neutralize_css(css: str) -> str:
    css = _CSS_COMMENT.sub(" ", css).replace("\\", " ")
    return _CSS_DANGER.sub(_disarm, css)


def _disarm(match: re.Match) -> str:
    # Same shape, harmless meaning: `@import` → `@blocked` (an unknown at-rule is
    # skipped up to its `;`), `expression(` → `blocked(`, `javascript:` → `blocked:`.
    text = match.group()
    return ("@" if text[0] == "@" else "") + "blocked" + (text[-1] if text[-1] in "(:" else "")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style":
        return neutralize_css(value)
    if attribute in ("href", "src"):
        compact = _URL_NOISE.sub("", value).lower()
        if compact.startswith("data:") and not (
            tag == "img" and attribute == "src" and _DATA_IMAGE.match(compact)
        ):
            return None
    if tag == "meta" and attribute == "http-equiv" and value.lower() not in _META_HTTP_EQUIV:
        return None
    return value


def _cleaner(tags: set[str], attributes: dict[str, set[str]]) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=tags,
        clean_content_tags=_REMOVED_WITH_CONTENT - tags,
        attributes=attributes,
        attribute_filter=_filter_attribute,
        strip_comments=False,  # our placeholders are comments; other comments are gone already
        link_rel=None,
        url_schemes=_URL_SCHEMES,
        generic_attribute_prefixes={"aria-", "data-"},
    )


_BODY_CLEANER = _cleaner(_TAGS, _ATTRIBUTES)
_HEAD_CLEANER = _cleaner(
    {"style", "title", "meta"}, {"meta": {"name", "content", "charset", "http-equiv"}}
)


def keep_comment(comment: str) -> bool:
    """Whether an HTML comment is an Outlook conditional comment we can keep."""
    if _DOWNLEVEL_MARKERS.match(comment):
        return True
    conditional = _CONDITIONAL_COMMENT.match(comment)
    if not conditional:
        return False
    inner = conditional.group(1)
    if "--" in inner or "<!" in inner or "<?" in inner or _EVENT_ATTRIBUTE.search(inner):
        return False
    for name in _TAG_NAME.findall(inner):
        name = name.lower()
        if name not in _MSO_TAGS and name.split(":")[0] not in _MSO_NAMESPACES:
            return False
    plain = _URL_NOISE.sub("", html_lib.unescape(inner)).lower()
    return not any(bad in plain for bad in _MSO_BAD)


@dataclass
class Protected:
    """A template with its Jinja tags and spintax swapped for placeholders."""

    text: str
    originals: list[str]
    nonce: str

    @property
    def token_prefix(self) -> str:
        return f"ejx{self.nonce}"

    def restore(self, text: str) -> str:
        prefix = self.token_prefix
        text = re.sub(f"<!--{prefix}c(\\d+)z-->", self._original, text)
        return re.sub(f"{prefix}t(\\d+)z", self._original, text)

    def _original(self, match: re.Match) -> str:
        return self.originals[int(match.group(1))]


def protect_template(
    source: str,
    *,
    comment_placeholders: bool = True,
    keep: Callable[[str], bool] | None = None,
) -> Protected:
    """Swap Jinja tags and spintax syntax for placeholders an HTML tool leaves alone.

    Between elements the placeholder is an HTML comment (not moved out of tables);
    elsewhere, or with `comment_placeholders=False` (for tools that drop comments),
    a plain word. With `keep`, each HTML comment is either kept whole (protected) or
    removed; without it comments stay and only their template tags are protected.
    """
    nonce = secrets.token_hex(4)
    if keep is None and not may_hold_template_syntax(source):  # e.g. a rendered message
        return Protected(source, [], nonce)
    scan = scan_template(source, html=True)
    groups = find_groups(source, scan, strict=False)
    items: list[tuple[int, int, bool]] = []  # (start, end, as_comment) or a removal
    removals: set[int] = set()
    if keep is not None:
        for start, end in scan.comments:
            if keep(source[start:end]):
                items.append((start, end, True))
            else:
                removals.add(len(items))
                items.append((start, end, False))
        covered = [(start, end) for start, end, _ in items]
    else:
        covered = []
    for (start, end), context in zip(scan.spans, scan.contexts, strict=True):
        if not any(c_start <= start < c_end for c_start, c_end in covered):
            items.append((start, end, comment_placeholders and context == DATA))
    items.extend(
        (position, position + 1, comment_placeholders) for position in syntax_positions(groups)
    )

    order = sorted(range(len(items)), key=lambda index: items[index][0])
    out, originals, cursor = [], [], 0
    for index in order:
        start, end, as_comment = items[index]
        if start < cursor:  # inside a comment we already kept or removed
            continue
        out.append(source[cursor:start])
        cursor = end
        if index in removals:
            continue
        number = len(originals)
        originals.append(source[start:end])
        token = f"ejx{nonce}{'c' if as_comment else 't'}{number}z"
        out.append(f"<!--{token}-->" if as_comment else token)
    out.append(source[cursor:])
    return Protected("".join(out), originals, nonce)


def sanitize_html(html: str) -> str:
    """Clean user-written (template) HTML; see the module docstring for the rules."""
    protected = protect_template(html, keep=keep_comment)
    text = protected.text
    body = _DOCUMENT_BODY.search(text)
    if body is None:
        cleaned = _clean(_BODY_CLEANER, text, protected)
    else:
        head = _DOCUMENT_HEAD.search(text, 0, body.start())
        root = _DOCUMENT_HTML.search(text, 0, body.start())
        head_html = (
            f"<head>{_clean(_HEAD_CLEANER, head.group(1), protected)}</head>" if head else ""
        )
        doctype = _DOCTYPE.match(text)
        cleaned = (
            f"{doctype.group(1) if doctype else ''}"
            f"<html{_root_attributes(root.group(1) if root else '')}>{head_html}"
            f"<body{_body_attributes(body.group(1))}>"
            f"{_clean(_BODY_CLEANER, body.group(2), protected)}</body></html>"
        )
    return protected.restore(cleaned)


def _clean(cleaner: nh3.Cleaner, text: str, protected: Protected) -> str:
    cleaned = cleaner.clean(text)
    cleaned = _STYLE_BLOCK.sub(
        lambda match: match.group(1) + neutralize_css(match.group(2)) + match.group(3), cleaned
    )
    # A brace that only now touches another (an entity decoded, an element removed)
    # must not become a template tag: escape it, outside style blocks.
    opener = re.compile(rf"\{{(?=[{{%#]|(?:<!--)?{protected.token_prefix})")
    pieces = _STYLE_BLOCK.split(cleaned)
    for index in range(0, len(pieces), 4):  # split() yields text, <style>, css, </style>
        pieces[index] = opener.sub("&#123;", pieces[index])
    return "".join(pieces)


def _root_attributes(attributes: str) -> str:
    result = ""
    if lang := _LANG.search(attributes):
        result += f' lang="{lang.group(1)}"'
    if direction := _DIR.search(attributes):
        result += f' dir="{direction.group(1).lower()}"'
    return result


def _body_attributes(attributes: str) -> str:
    cleaned = _BODY_CLEANER.clean(f"<div {attributes}></div>")
    match = _ATTRIBUTE_STRING.match(cleaned)
    return match.group(1) if match else ""

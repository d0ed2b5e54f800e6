"""Spintax (`{Hi|Hello|Hey}`) and the small template-source scanner it needs.

Spintax lets a template vary its wording per recipient. A group is a `{`, options
separated by `|`, and a `}`; groups nest (`{Hi|{Hello|Hey} there}`) and options may
hold merge tags and markup (`{Hi {{ first_name }}|Hello}`; options are taken
literally, spaces included). Each recipient gets one option per group, chosen by a
hash of (seed, group text): the same seed always gets the same wording, different
seeds spread evenly, and a group written identically in two places (the preheader
and its copy in the HTML, say) picks the same option for a given recipient.

Rules for template authors:

- Only text counts. In the HTML part, braces and `|` are spintax only in text
  between tags — never inside a tag or attribute value, `<style>` or other raw-text
  elements (CSS such as `[lang|=en]` stays CSS), or comments. Jinja tags
  (`{{ }}`, `{% %}`, `{# #}`) are never spintax either.
- A brace group without a top-level `|` is plain text (`{this}` stays as written);
  a stray `|` or `}` is plain text too. A `{` that starts a group with a `|` but is
  never closed is an error reported with its line.
- To write a literal `{a|b}`, use `{{ '{' }}a|b}`. Don't glue a spintax brace to a
  merge tag (`{{{ first_name }}|…}` reads as Jinja): put a space or word between.

`compile_message` (rendering.py) rewrites each group into Jinja
(`{% set __sN = __spin(__seed, key, n) %}{% if __sN == 0 %}…{% elif … %}…{% endif %}`)
so options keep their merge tags and rendering does no spintax parsing at all.

The scanner (`scan_template`) is shared with `sanitize.py` and `email_html.py`: it
finds Jinja tag spans the way Jinja's lexer does (strings and bracket nesting
respected, `{% raw %}` content treated as text) and, for HTML, the context each span
sits in, so HTML tools can be run over a template without mangling its tags.
"""

from __future__ import annotations

import bisect
import re
import zlib
from dataclasses import dataclass, field

DATA, TAG, RAWTEXT, COMMENT = "data", "tag", "rawtext", "comment"

_OPENER = re.compile(r"\{[{%#]")
RAW_BEGIN = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_RAW_END = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")
_STRING = re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\"", re.S)
_CLOSING = {"(": ")", "[": "]", "{": "}"}

# One HTML token that is not text; the skeleton has every Jinja span as "\x00".
_HTML_TOKEN = re.compile(
    r"""
      (?P<comment><!--.*?(?:-->|\Z))
    | (?P<end></[A-Za-z][^>]*(?:>|\Z))
    | (?P<bogus><[!?/][^>]*(?:>|\Z))
    | (?P<start><(?P<name>[A-Za-z][^\s/>\x00]*)(?:"[^"]*"|'[^']*'|[^'">])*(?:>|\Z))
    """,
    re.S | re.X,
)
_RAW_ELEMENTS = frozenset(
    {"style", "script", "title", "textarea", "xmp", "iframe", "noembed", "noframes"}
    | {"noscript", "plaintext"}
)
_SYNTAX = re.compile(r"[{|}]")


class SpintaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def line_of(source: str, position: int) -> int:
    return source.count("\n", 0, position) + 1


def may_hold_template_syntax(source: str) -> bool:
    """A cheap pre-check: without a Jinja opener or a `|` there is nothing to find."""
    return "|" in source or _OPENER.search(source) is not None


def jinja_tag_spans(source: str) -> list[tuple[int, int]]:
    """(start, end) of every Jinja tag, expression and comment, in order.

    An unterminated tag ends the scan (Jinja rejects such a template anyway); what
    follows it counts as text.
    """
    spans: list[tuple[int, int]] = []
    position = 0
    while match := _OPENER.search(source, position):
        start = match.start()
        raw = RAW_BEGIN.match(source, start)
        if raw:
            spans.append((start, raw.end()))
            end_raw = _RAW_END.search(source, raw.end())
            if not end_raw:
                break
            spans.append(end_raw.span())
            position = end_raw.end()
            continue
        end = _tag_end(source, start)
        if end < 0:
            break
        spans.append((start, end))
        position = end
    return spans


def _tag_end(source: str, start: int) -> int:
    kind = source[start + 1]
    if kind == "#":
        end = source.find("#}", start + 2)
        return end + 2 if end >= 0 else -1
    closer = "}}" if kind == "{" else "%}"
    stack: list[str] = []
    index, length = start + 2, len(source)
    while index < length:
        char = source[index]
        if not stack and source.startswith(closer, index):
            return index + 2
        if char in "\"'":
            string = _STRING.match(source, index)
            if not string:
                return -1
            index = string.end()
            continue
        if char in _CLOSING:
            stack.append(_CLOSING[char])
        elif char in ")]}" and stack:
            stack.pop()
        index += 1
    return -1


@dataclass
class Scan:
    """Where the Jinja spans are, the HTML context of each, and the stretches of
    plain text where spintax syntax counts (all in source positions)."""

    spans: list[tuple[int, int]]
    contexts: list[str]
    text_ranges: list[tuple[int, int]]
    comments: list[tuple[int, int]] = field(default_factory=list)


def scan_template(source: str, *, html: bool) -> Scan:
    spans = jinja_tag_spans(source)
    if not html:
        return Scan(spans, [DATA] * len(spans), _complement(spans, 0, len(source)))

    # Work on a skeleton where each Jinja span is one opaque character, so a tag
    # inside an attribute (`href="{{ url|default("x") }}"`) can't confuse the HTML scan.
    pieces, skeleton_starts, cursor, skeleton_length = [], [], 0, 0
    for start, end in spans:
        pieces.append(source[cursor:start])
        skeleton_length += start - cursor
        skeleton_starts.append(skeleton_length)
        pieces.append("\x00")
        skeleton_length += 1
        cursor = end
    pieces.append(source[cursor:])
    skeleton = "".join(pieces)

    shifts = [0]  # shifts[i]: how much longer the source is than the skeleton before span i
    for start, end in spans:
        shifts.append(shifts[-1] + end - start - 1)

    def to_source(position: int) -> int:
        return position + shifts[bisect.bisect_left(skeleton_starts, position)]

    regions = _html_regions(skeleton)  # non-text regions, skeleton positions
    region_starts = [start for start, _, _ in regions]
    contexts = []
    for skeleton_position in skeleton_starts:
        index = bisect.bisect_right(region_starts, skeleton_position) - 1
        inside = index >= 0 and skeleton_position < regions[index][1]
        contexts.append(regions[index][2] if inside else DATA)

    text_ranges, comments, cursor = [], [], 0
    for start, end, kind in regions:
        if start > cursor:
            text_ranges.append((to_source(cursor), to_source(start)))
        if kind == COMMENT:
            comments.append((to_source(start), to_source(end)))
        cursor = end
    if cursor < len(skeleton):
        text_ranges.append((to_source(cursor), len(source)))
    text_ranges = [piece for start, end in text_ranges for piece in _complement(spans, start, end)]
    return Scan(spans, contexts, text_ranges, comments)


def _html_regions(skeleton: str) -> list[tuple[int, int, str]]:
    regions: list[tuple[int, int, str]] = []
    position = 0
    while match := _HTML_TOKEN.search(skeleton, position):
        kind = COMMENT if match.lastgroup == "comment" else TAG
        regions.append((match.start(), match.end(), kind))
        position = match.end()
        name = (match.group("name") or "").lower()
        if name in _RAW_ELEMENTS:
            closing = re.compile(rf"</{name}(?=[\s/>])", re.I).search(skeleton, position)
            end = closing.start() if closing else len(skeleton)
            if end > position:
                regions.append((position, end, RAWTEXT))
            position = end
    return regions


def _complement(spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """Parts of [start, end) not covered by spans."""
    result, cursor = [], start
    first = bisect.bisect_left(spans, (start, -1))
    if first and spans[first - 1][1] > start:
        first -= 1
    for span_start, span_end in spans[first:]:
        if span_start >= end:
            break
        if span_start > cursor:
            result.append((cursor, span_start))
        cursor = max(cursor, span_end)
    if cursor < end:
        result.append((cursor, end))
    return result


@dataclass
class Group:
    open: int
    close: int = -1
    pipes: list[int] = field(default_factory=list)


def find_groups(source: str, scan: Scan, *, strict: bool = True) -> list[Group]:
    """Spintax groups in source order (outer before inner).

    With `strict`, a group left open that has a `|` raises SpintaxError; otherwise
    it is treated as plain text (sanitizing must not fail on a half-typed template).
    """
    stack: list[Group] = []
    groups: list[Group] = []
    for start, end in scan.text_ranges:
        for match in _SYNTAX.finditer(source, start, end):
            char, position = match.group(), match.start()
            if char == "{":
                stack.append(Group(position))
            elif char == "|":
                if stack:
                    stack[-1].pipes.append(position)
            elif stack:
                group = stack.pop()
                if group.pipes:
                    group.close = position
                    groups.append(group)
    for group in stack:
        if group.pipes and strict:
            raise SpintaxError(
                line_of(source, group.open),
                "this spintax “{” is never closed — close it with “}” "
                "(or write a literal brace as {{ '{' }})",
            )
    groups.sort(key=lambda group: group.open)
    return groups


def syntax_positions(groups: list[Group]) -> list[int]:
    """Every brace and pipe that belongs to a spintax group."""
    return sorted(p for group in groups for p in (group.open, group.close, *group.pipes))


def to_jinja(source: str, groups: list[Group]) -> str:
    """Rewrite spintax groups into Jinja branches (line numbers are kept)."""
    edits: list[tuple[int, str]] = []
    for number, group in enumerate(groups):
        var = f"__s{number}"
        key = zlib.crc32(source[group.open : group.close + 1].encode())
        options = len(group.pipes) + 1
        edits.append(
            (
                group.open,
                f"{{% set {var} = __spin(__seed, {key}, {options}) %}}{{% if {var} == 0 %}}",
            )
        )
        for index, pipe in enumerate(group.pipes, start=1):
            tag = "{% else %}" if index == options - 1 else f"{{% elif {var} == {index} %}}"
            edits.append((pipe, tag))
        edits.append((group.close, "{% endif %}"))
    edits.sort()
    out, cursor = [], 0
    for position, replacement in edits:
        out.append(source[cursor:position])
        out.append(replacement)
        cursor = position + 1
    out.append(source[cursor:])
    return "".join(out)

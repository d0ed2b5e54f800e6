"""Spintax: which braces count, how groups become Jinja, and how choices spread."""

import re
from collections import Counter

import pytest

from engagex.content.rendering import TemplateProblem, compile_message
from engagex.content.spintax import (
    COMMENT,
    DATA,
    TAG,
    SpintaxError,
    find_groups,
    jinja_tag_spans,
    scan_template,
)


def groups_text(source, *, html=True):
    scan = scan_template(source, html=html)
    return [source[group.open : group.close + 1] for group in find_groups(source, scan)]


def subjects(subject, seeds, **context):
    compiled = compile_message(subject=subject, html="<p>x</p>")
    return [compiled.render(context, seed=str(seed)).subject for seed in seeds]


def test_jinja_spans_respect_strings_and_nested_braces():
    source = """a {{ x|default("}}") }} b {{ {'k': {'v': 1}}['k'] }} {# {{ #} {% if y %}"""
    spans = [source[start:end] for start, end in jinja_tag_spans(source)]
    assert spans == [
        '{{ x|default("}}") }}',
        "{{ {'k': {'v': 1}}['k'] }}",
        "{# {{ #}",
        "{% if y %}",
    ]


def test_unterminated_tag_leaves_the_rest_as_text():
    assert jinja_tag_spans("{{ a }} then {{ oops") == [(0, 7)]


def test_html_context_of_each_tag():
    source = (
        '<a href="{{ url|default("x>y") }}">{{ label }}</a>'
        "<style>p { color: {{ color }} }</style><!-- {{ note }} -->{% if x %}"
    )
    scan = scan_template(source, html=True)
    assert scan.contexts == [TAG, DATA, "rawtext", COMMENT, DATA]


def test_groups_nest_and_may_hold_merge_tags_and_markup():
    source = "<p>{Hi {{ first_name }}|Hello|{Hey|Yo}} — {<b>big</b>|small} news</p>"
    assert groups_text(source) == [
        "{Hi {{ first_name }}|Hello|{Hey|Yo}}",
        "{Hey|Yo}",
        "{<b>big</b>|small}",
    ]


def test_braces_without_a_pipe_and_stray_pipes_are_text():
    assert groups_text("<p>{this} stays | as is }</p>") == []


def test_braces_inside_tags_style_and_comments_are_not_spintax():
    source = (
        '<p title="{a|b}" style="x:{c|d}">ok</p><style>[lang|=en] { color: red }</style>'
        "<!--{e|f}--><p>{g|h}</p>"
    )
    assert groups_text(source) == ["{g|h}"]


def test_plain_text_parts_see_spintax_everywhere_but_jinja():
    assert groups_text("<{a|b}> {{ '{x|y}' }}", html=False) == ["{a|b}"]


def test_unclosed_group_is_an_error_with_its_line():
    with pytest.raises(SpintaxError) as error:
        groups_text("<p>fine</p>\n<p>{Hi|Hello there</p>\n")
    assert error.value.line == 2


def test_unclosed_group_is_a_template_problem_naming_part_and_line():
    with pytest.raises(TemplateProblem) as problem:
        compile_message(subject="ok", html="<p>a</p>\n\n<p>{Hi|Hello</p>")
    assert problem.value.part == "html"
    assert problem.value.line == 3


def test_same_seed_same_choice_and_seeds_spread_over_options():
    chosen = subjects("{Hi|Hello|Hey} there", range(600))
    assert chosen[:50] == subjects("{Hi|Hello|Hey} there", range(50))
    counts = Counter(chosen)
    assert set(counts) == {"Hi there", "Hello there", "Hey there"}
    assert min(counts.values()) > 150  # ~200 each


def test_independent_groups_are_not_locked_together():
    chosen = Counter(subjects("{a|b} {c|d}", range(400)))
    assert set(chosen) == {"a c", "a d", "b c", "b d"}


def test_the_same_group_written_twice_picks_the_same_option():
    for text in subjects("{one|two|three} / {one|two|three}", range(30)):
        left, right = text.split(" / ")
        assert left == right


def test_options_keep_their_merge_tags():
    chosen = set(
        subjects("{Hi {{ first_name }}|Hello {{ first_name }}}", range(40), first_name="Ann")
    )
    assert chosen == {"Hi Ann", "Hello Ann"}


def test_spintax_between_table_rows_picks_whole_rows():
    html = "<table>{<tr><td>A</td></tr>|<tr><td>B</td></tr>}</table>"
    compiled = compile_message(subject="s", html=html)
    rows = [
        re.findall(r"<td>(.)</td>", compiled.render({}, seed=str(seed)).html) for seed in range(30)
    ]
    # One whole row each time, never the braces: they didn't get moved out of the table.
    assert {tuple(found) for found in rows} == {("A",), ("B",)}


def test_css_attribute_selectors_survive_compilation():
    html = "<style>[lang|=en] { color: red }</style><p>{a|b}</p>"
    message = compile_message(subject="s", html=html).render({}, seed="1")
    assert "[lang|=en] { color: red }" in message.html
    assert message.html.endswith(("<p>a</p>", "<p>b</p>"))

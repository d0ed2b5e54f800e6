"""compile_message / render / check_template: what a template author and a recipient see."""

import datetime as dt
import pickle

import pytest

from engagex.content import rendering
from engagex.content.email_html import email_ready_html
from engagex.content.rendering import (
    BUILTIN_TAG_HELP,
    BUILTIN_TAGS,
    MAX_TEMPLATE_CHARS,
    RenderedMessage,
    RenderLimitExceeded,
    TemplateProblem,
    check_template,
    compile_message,
)

CONTEXT = {
    "email": "ann@example.com",
    "first_name": "Ann",
    "last_name": "Lee",
    "full_name": "Ann Lee",
    "fields": {"city": "Paris", "tags": ["a", "b"], "items": "three items", "joined": "2024-03-05"},
    "unsubscribe_url": "https://app.example/u/1?a=1&b=2",
    "preferences_url": "https://app.example/p/1",
    "view_online_url": "https://app.example/v/1",
    "organization_name": "Acme & Co",
    "organization_address": "1 Main St",
}


def html_of(source, context=CONTEXT, seed="1"):
    return compile_message(subject="s", html=source).render(context, seed=seed).html


def test_builtin_tags_are_the_shared_vocabulary_with_help():
    assert BUILTIN_TAGS == (
        "email",
        "first_name",
        "last_name",
        "full_name",
        "fields",
        "unsubscribe_url",
        "preferences_url",
        "view_online_url",
        "organization_name",
        "organization_address",
    )
    assert all(str(BUILTIN_TAG_HELP[tag]) for tag in BUILTIN_TAGS)


def test_render_fills_every_part():
    compiled = compile_message(
        subject="News for {{ first_name }}",
        preheader="From {{ organization_name }}",
        html="<p>Hi {{ first_name }} from {{ fields.city }}</p>",
        text="Hi {{ first_name }}",
    )
    assert compiled.render(CONTEXT, seed="1") == RenderedMessage(
        subject="News for Ann",
        preheader="From Acme & Co",
        html="<p>Hi Ann from Paris</p>",
        text="Hi Ann",
    )


def test_html_is_escaped_and_plain_text_parts_are_not():
    context = {**CONTEXT, "first_name": "<b>Ann</b> & co"}
    message = compile_message(
        subject="Hi {{ first_name }}", html="<p>{{ first_name }}</p>", text="{{ first_name }}"
    ).render(context, seed="1")
    assert message.html == "<p>&lt;b&gt;Ann&lt;/b&gt; &amp; co</p>"
    assert message.subject == "Hi <b>Ann</b> & co"
    assert message.text == "<b>Ann</b> & co"


def test_subject_and_preheader_stay_on_one_line():
    context = {**CONTEXT, "first_name": "Ann\r\nBcc: victim@example.com"}
    message = compile_message(
        subject="Hi {{ first_name }}", preheader="{{ first_name }}\n", html="<p></p>"
    ).render(context, seed="1")
    assert message.subject == "Hi Ann Bcc: victim@example.com"
    assert "\n" not in message.preheader


def test_merge_values_are_never_evaluated_as_template_code():
    context = {**CONTEXT, "first_name": "{{ 7 * 7 }}{% if 1 %}x{% endif %}"}
    assert html_of("{{ first_name }}", context) == "{{ 7 * 7 }}{% if 1 %}x{% endif %}"


def test_undefined_values_print_nothing_even_through_attributes_filters_and_maths():
    source = (
        "[{{ nope }}{{ missing.x|upper }}{{ missing['a'].b }}{{ missing + 1 }}{{ missing|round }}]"
    )
    assert html_of(source) == "[]"
    assert html_of("{% if missing > 3 %}yes{% else %}no{% endif %}") == "no"


def test_custom_fields_win_over_dict_methods():
    assert (
        html_of("{{ fields.items }}|{{ fields.keys }}|{{ fields['city'] }}") == "three items||Paris"
    )


def test_default_fills_missing_empty_and_none_but_keeps_zero():
    context = {**CONTEXT, "first_name": "  ", "last_name": None, "fields": {"count": 0}}
    source = (
        "{{ first_name|default('friend') }} {{ last_name|d('-') }} {{ fields.count|default(5) }}"
    )
    assert html_of(source, context) == "friend - 0"


def test_date_filter_formats_dates_datetimes_and_iso_text():
    context = {**CONTEXT, "fields": {"iso": "2024-03-05T10:30:00", "bad": "soon"}}
    context["fields"]["day"] = dt.date(2025, 12, 24)
    source = "{{ fields.iso|date('%d %B %Y %H:%M') }}|{{ fields.day|date }}|{{ fields.bad|date }}"
    assert html_of(source, context) == "05 March 2024 10:30|2025-12-24|soon"


def test_whitelisted_filters_work():
    source = (
        "{{ first_name|upper }} {{ 'ab cd'|title }} {{ fields.tags|join('+') }} "
        "{{ fields.tags|first }}{{ fields.tags|last }} {{ fields.tags|length }} "
        "{{ 'one two three'|wordcount }} {{ '<i>x</i>'|striptags }} {{ 3.14159|round(2) }} "
        "{{ '12'|int + 1 }} {{ 'abcdefghijklmnop'|truncate(9) }} {{ 'a-b'|replace('-', '+') }}"
    )
    assert html_of(source) == "ANN Ab Cd a+b ab 2 3 x 3.14 13 abcdef... a+b"


def test_unknown_filter_is_a_problem_that_lists_the_available_ones():
    with pytest.raises(TemplateProblem) as problem:
        compile_message(subject="s", html="<p>\n{{ first_name|safe }}</p>")
    assert problem.value.line == 2
    assert "safe" in str(problem.value) and "default" in str(problem.value)


SSTI = [
    ("{{ ''.__class__.__mro__ }}", "problem"),
    ("{{ config }}", ""),
    ("{{ config.items() }}", "problem"),
    ("{{ self.__init__.__globals__ }}", "problem"),
    ("{{ self }}", "problem"),
    ("{{ cycler.__init__.__globals__ }}", "problem"),
    ("{{ lipsum.__globals__ }}", "problem"),
    ("{{ lipsum }}{{ cycler }}{{ joiner }}{{ namespace }}{{ range }}{{ dict }}", ""),
    ("{{ request }}{{ settings }}{{ os }}", ""),
    ("{{ ().__class__.__base__.__subclasses__() }}", "problem"),
    ("{% for x in range(10**9) %}x{% endfor %}", "problem"),
    ("{{ 'a' * 10**9 }}", "limit"),
    ("{{ 2 ** 100000 }}", "limit"),
    ("{{ fields.__class__ }}", "problem"),
    ("{{ fields['__class__'] }}", "problem"),
    ("{% set k = '__cla' ~ 'ss__' %}{{ fields[k] }}{{ first_name[k] }}{{ fields.tags[k] }}", ""),
    ("{{ first_name.upper }}{{ fields.tags.append }}{{ fields.get }}", ""),
    ("{{ fields }}{{ fields.tags|first|length|e }}", "1"),
    ("{% for t in fields.tags %}{{ loop }}{{ loop.cycle }}{% endfor %}", ""),
    ("{{ '{:>99999999}'.format(1) }}", "problem"),
    ("{{ '%99999999s' % 1 }}", "problem"),
    ("{% include 'secrets.html' %}", "problem"),
    ("{% extends 'base.html' %}", "problem"),
    ("{% import 'macros.html' as m %}", "problem"),
    ("{% from 'macros.html' import m %}", "problem"),
    ("{% macro m() %}x{% endmacro %}", "problem"),
    ("{% autoescape false %}{{ '<script>' }}{% endautoescape %}", "problem"),
    ("{% set x %}<b>{% endset %}", "problem"),
    ("{% filter upper %}x{% endfilter %}", "problem"),
    ("{% raw %}{{ x }}{% endraw %}", "problem"),
    ("{{ __spin }}{{ __budget }}", "problem"),
    ("{{ x|attr('__class__') }}", "problem"),
]


@pytest.mark.parametrize(("payload", "outcome"), SSTI)
def test_template_injection_payloads_do_nothing(payload, outcome):
    if outcome == "problem":
        with pytest.raises(TemplateProblem):
            compile_message(subject="s", html=payload)
        with pytest.raises(TemplateProblem):
            compile_message(subject=payload, html="<p></p>")
        return
    compiled = compile_message(subject=payload, html=payload, text=payload)
    if outcome == "limit":
        with pytest.raises(RenderLimitExceeded):
            compiled.render(CONTEXT, seed="1")
        return
    message = compiled.render(CONTEXT, seed="1")
    assert message.html == message.subject == message.text == outcome


def test_loops_are_capped():
    source = (
        "{% set s = 'x' * 1000 %}"
        "{% for a in s %}{% for b in s %}{% for c in s %}{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderLimitExceeded, match="loop"):
        html_of(source)


def test_output_size_is_capped_while_streaming():
    source = "{% set chunk = 'x' * 400000 %}{% for t in 'abcdefgh' %}{{ chunk }}{% endfor %}"
    with pytest.raises(RenderLimitExceeded, match="larger"):
        html_of(source)


def test_text_replacement_bombs_are_refused_before_allocating():
    source = "{% set s = 'a' * 2000 %}{{ s|replace('a', s)|replace('a', s) }}"
    with pytest.raises(RenderLimitExceeded):
        html_of(source)


def test_render_time_is_capped(monkeypatch):
    compiled = compile_message(subject="s", html="<p>{{ first_name }}</p>")
    monkeypatch.setattr(rendering, "MAX_RENDER_SECONDS", -1.0)
    with pytest.raises(RenderLimitExceeded, match="longer"):
        compiled.render(CONTEXT, seed="1")


def test_oversized_template_is_a_problem():
    with pytest.raises(TemplateProblem, match="too large"):
        compile_message(subject="s", html="x" * (MAX_TEMPLATE_CHARS + 1))


def test_syntax_errors_name_the_part_and_line():
    with pytest.raises(TemplateProblem) as problem:
        compile_message(subject="s", html="<p>a</p>\n<p>b</p>\n{% endif %}")
    assert (problem.value.part, problem.value.line) == ("html", 3)
    assert str(problem.value).startswith("HTML, line 3: ")
    assert "endif" in str(problem.value)

    with pytest.raises(TemplateProblem) as problem:
        compile_message(subject="Hi {{ first_name", html="<p></p>")
    assert problem.value.part == "subject"


def test_unclosed_block_hints_at_the_fix():
    with pytest.raises(TemplateProblem, match="not closed"):
        compile_message(subject="s", html="{% if first_name %}\n<p>Hi</p>")


def test_block_tags_inside_html_tags_are_refused():
    with pytest.raises(TemplateProblem, match="between elements") as problem:
        compile_message(subject="s", html='<p>ok</p>\n<img title="{% if 0 %}"> x="{% endif %}">')
    assert problem.value.line == 2
    with pytest.raises(TemplateProblem, match="between elements"):
        compile_message(subject="s", html="<style>{% if x %}p{}{% endif %}</style>")


def test_html_is_sanitized_when_compiled():
    html = html_of('<p onclick="alert(1)">Hi</p><script>alert(2)</script>{{ first_name }}')
    assert html == "<p>Hi</p>Ann"


def test_runtime_errors_for_one_recipients_data_are_problems_with_a_line():
    compiled = compile_message(subject="s", html="<p>\n{% if fields.city > 3 %}x{% endif %}</p>")
    with pytest.raises(TemplateProblem) as problem:
        compiled.render(CONTEXT, seed="1")
    assert (problem.value.part, problem.value.line) == ("html", 2)


def test_text_is_derived_from_the_html_when_empty():
    html = email_ready_html(
        "<style>p { color: red }</style><h1>Hello {{ first_name }}</h1>"
        "<p>{Big|Huge} news from {{ organization_name }}</p>"
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
        preheader="Preview {{ first_name }}",
    )
    compiled = compile_message(subject="s", preheader="Preview {{ first_name }}", html=html)
    words = set()
    for seed in map(str, range(12)):
        message = compiled.render(CONTEXT, seed=seed)
        word = "Big" if ">Big news" in message.html else "Huge"
        words.add(word)
        assert message.text == (
            f"# Hello Ann\n\n{word} news from Acme & Co\n\n"
            "Unsubscribe (https://app.example/u/1?a=1&b=2)\n"
        )
        assert 'href="https://app.example/u/1?a=1&amp;b=2"' in message.html
        assert "Preview Ann" in message.html
    assert words == {"Big", "Huge"}  # the text follows the HTML's choice either way


def test_preheader_part_and_its_hidden_copy_in_the_html_agree():
    preheader = "{Save|Win} big, {{ first_name }}"
    html = email_ready_html("<p>{Save|Win} big</p>", preheader=preheader)
    compiled = compile_message(subject="s", preheader=preheader, html=html)
    seen = set()
    for seed in map(str, range(12)):
        message = compiled.render(CONTEXT, seed=seed)
        seen.add(message.preheader)
        assert f'mso-hide:all">{message.preheader}' in message.html
    assert seen == {"Save big, Ann", "Win big, Ann"}


def test_empty_html_gives_empty_parts():
    message = compile_message(subject="s", html="").render(CONTEXT, seed="1")
    assert (message.html, message.text) == ("", "")


def test_problems_survive_pickling_for_job_queues():
    problem = TemplateProblem("html", 3, "unexpected “endif”")
    copy = pickle.loads(pickle.dumps(problem))  # noqa: S301 (our own bytes)
    assert (copy.part, copy.line, str(copy)) == ("html", 3, str(problem))


def test_literal_braces_in_derived_text_stay_literal():
    message = compile_message(subject="s", html="<p>&#123;{ config }} {x}</p>").render(
        CONTEXT, seed="1"
    )
    assert message.text == "{{ config }} {x}\n"


def test_render_runs_compiled_templates_only(monkeypatch):
    compiled = compile_message(
        subject="{Hi|Hello} {{ first_name }}",
        html="<p>{Hi|Hello} {{ first_name }}</p>",
    )

    def refuse(*args, **kwargs):
        raise AssertionError("parsing during render")

    monkeypatch.setattr(rendering._HTML_ENV, "parse", refuse)
    monkeypatch.setattr(rendering._TEXT_ENV, "parse", refuse)
    monkeypatch.setattr(rendering, "sanitize_html", refuse)
    monkeypatch.setattr(rendering, "html_to_text", refuse)
    message = compiled.render(CONTEXT, seed="7")
    assert message.subject in ("Hi Ann", "Hello Ann")
    assert message.html == f"<p>{message.subject}</p>"


def test_check_template_reports_unknown_tags_and_every_problem():
    check = check_template(
        subject="Hi {{ frist_name }}",
        preheader="{{ fields.city }} {{ fields['age'] }}",
        html=(
            "{% for tag in fields.tags %}{{ tag }}{{ loop.index }}{% endfor %}"
            "{% set greeting = 'hi' %}{{ greeting }} {{ first_name }} {{ fields.plan }}"
        ),
        text="{% if %}",
        known_fields=["city", "tags"],
    )
    assert check.unknown_tags == ["frist_name", "fields.age", "fields.plan"]
    assert [problem.part for problem in check.problems] == ["text"]

    check = check_template(subject="{{ x", preheader="", html="{Hi|Hello", text="")
    assert [problem.part for problem in check.problems] == ["subject", "html"]


def test_check_template_of_a_good_template_is_clean():
    check = check_template(
        subject="Hi {{ first_name|default('there') }}",
        preheader="",
        html='<p>{Hi|Hello}</p><a href="{{ unsubscribe_url }}">u</a>',
        text="",
        known_fields=[],
    )
    assert check.problems == [] and check.unknown_tags == []


# --- the sending form (ascii=True) -----------------------------------------------------


def sent_html_of(source, context=CONTEXT):
    return compile_message(subject="s", html=source, ascii=True).render(context, seed="1").html


def test_sending_breaks_minified_html_into_lines_smtp_accepts_without_changing_the_page():
    cell = (
        '<td class="c{n}" style="padding:0 4px; color:#333"><a href="{{{{ unsubscribe_url }}}}"'
        ' title="Leave, {{{{ first_name }}}}">Cell {n}</a></td>'
    )
    source = "<table><tr>" + "".join(cell.format(n=n) for n in range(80)) + "</tr></table>"
    preview, sent = html_of(source), sent_html_of(source)

    assert max(map(len, preview.split("\n"))) > 998  # one long line as written
    assert max(map(len, sent.split("\n"))) <= 998
    # Only spaces between attributes became line breaks: the same page.
    assert sent.replace("\n", " ") == preview
    assert 'style="padding:0 4px; color:#333"' in sent
    assert 'title="Leave, Ann"' in sent and "https://app.example/u/1?a=1&amp;b=2" in sent


def test_sending_leaves_text_and_styles_of_a_long_line_alone():
    text = "word " * 300
    source = f"<style>td > p {{ color: red }} {'a b ' * 300}</style><p>{text}</p>"
    assert sent_html_of(source) == html_of(source)


def test_the_preheader_padding_keeps_the_html_under_the_smtp_line_limit():
    html = email_ready_html("<p>Hello</p>", preheader="Autumn offers for {{ first_name }}")
    sent = sent_html_of(html)
    assert max(map(len, sent.split("\n"))) <= 998
    assert "Autumn offers for Ann&#847;" in sent

"""The shipped preset templates: complete, safe, sandbox-ready email HTML."""

import re
from html.parser import HTMLParser

import pytest
from jinja2 import StrictUndefined, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from engagex.content.presets import (
    CATEGORIES,
    PRESET_VARIABLES,
    Preset,
    preset_get,
    preset_list,
)

PRESETS = preset_list()
REQUIRED_FILES = {
    "newsletter",
    "announcement",
    "promotion",
    "welcome",
    "re_engagement",
    "event_invitation",
    "product_update",
    "plain_letter",
}
REQUIRED_TAGS = {"unsubscribe_url", "preferences_url", "view_online_url"} | {
    "organization_name",
    "organization_address",
}
ALLOWED_FILTERS = {"default", "upper", "lower", "title"}
SAMPLE = {
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "full_name": "Ada Lovelace",
    "fields": {},
    "unsubscribe_url": "https://example.com/u",
    "preferences_url": "https://example.com/p",
    "view_online_url": "https://example.com/v",
    "organization_name": "Acme Ltd",
    "organization_address": "1 Main St, Springfield",
}
VOID = {"meta", "br", "hr", "img", "link", "input", "col", "area", "base", "source", "wbr"}
TABLE_PARTS = {"table", "tbody", "thead", "tfoot", "tr", "td", "th"}

env = SandboxedEnvironment(autoescape=True)


def by_key(preset: Preset) -> str:
    return preset.key


class _Structure(HTMLParser):
    """Checks tags are properly nested and Jinja block tags sit inside table cells."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def _check_block_tags(self, text: str):
        if "{%" in text:
            table_parts = [tag for tag in self.stack if tag in TABLE_PARTS]
            if table_parts and table_parts[-1] not in {"td", "th"}:
                self.problems.append(f"block tag outside a table cell: {text.strip()[:60]}")

    def handle_starttag(self, tag, attrs):
        for _name, value in attrs:
            self._check_block_tags(value or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        for _name, value in attrs:
            self._check_block_tags(value or "")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close <{self.stack[-1:]}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        self._check_block_tags(data)


def test_there_are_at_least_eight_presets_with_unique_keys():
    keys = [preset.key for preset in PRESETS]
    assert len(keys) >= 8
    assert len(set(keys)) == len(keys)
    assert set(keys) >= REQUIRED_FILES


def test_categories_are_valid():
    assert {preset.category for preset in PRESETS} <= set(CATEGORIES)
    assert CATEGORIES == (
        "newsletter",
        "promotional",
        "transactional",
        "announcement",
        "welcome",
        "other",
    )


def test_preset_get():
    assert preset_get("nope") is None
    assert preset_get("welcome") is preset_get("welcome")  # read once, cached
    assert preset_get("welcome").category == "welcome"
    assert preset_list() == PRESETS


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_metadata_is_filled_in(preset):
    assert str(preset.name).strip()
    assert len(str(preset.description)) > 20
    assert preset.subject.strip()
    assert 20 < len(preset.preheader) < 140
    with pytest.raises(AttributeError):
        preset.key = "changed"  # frozen


def test_some_subjects_are_personalized():
    personal = [preset for preset in PRESETS if "{{" in preset.subject]
    assert len(personal) >= 3
    assert any("first_name" in preset.subject for preset in personal)


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_parses_in_the_sandbox_and_uses_only_allowed_names(preset):
    for source in (preset.html, preset.subject, preset.preheader):
        ast = env.parse(source)
        assert meta.find_undeclared_variables(ast) <= PRESET_VARIABLES
        filters = {node.name for node in ast.find_all(nodes.Filter)}
        assert filters <= ALLOWED_FILTERS
    used = meta.find_undeclared_variables(env.parse(preset.html))
    assert used >= REQUIRED_TAGS
    assert "fields" not in used  # custom fields differ per organization


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_renders_with_sample_data(preset):
    strict = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    html = strict.from_string(preset.html).render(SAMPLE)
    assert "{{" not in html
    assert "{%" not in html
    assert 'href="https://example.com/u"' in html
    assert "Acme Ltd" in html
    assert "1 Main St, Springfield" in html
    assert "Ada" in html
    assert strict.from_string(preset.subject).render(SAMPLE)


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_greets_with_a_default_when_the_first_name_is_unknown(preset):
    strict = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    anonymous = {name: value for name, value in SAMPLE.items() if name != "first_name"}
    assert "first_name" in preset.html
    assert "there" in strict.from_string(preset.html).render(anonymous)
    assert strict.from_string(preset.subject).render(anonymous)


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_footer_links(preset):
    assert re.search(r'<a href="\{\{ unsubscribe_url \}\}"[^>]*>Unsubscribe</a>', preset.html)
    assert 'href="{{ preferences_url }}"' in preset.html
    assert 'href="{{ view_online_url }}"' in preset.html
    assert "View in your browser" in preset.html
    # "View in your browser" comes before the content, the address at the end.
    assert preset.html.index("{{ view_online_url }}") < preset.html.index("{{ first_name")
    assert preset.html.rindex("{{ organization_address }}") > len(preset.html) * 0.6


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_nothing_unsafe_or_external(preset):
    html = preset.html.lower()
    assert "<script" not in html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), "event handler attribute"
    assert "javascript:" not in html
    for tag in ("<form", "<iframe", "<object", "<embed", "<link", "<img", "<input"):
        assert tag not in html
    assert "url(" not in html
    assert "@import" not in html
    assert " src=" not in html
    for href in re.findall(r'href="([^"]*)"', preset.html):
        assert href.startswith(("https://example.com/", "{{ ")), href


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_no_spintax(preset):
    for source in (preset.html, preset.subject, preset.preheader):
        without_jinja = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", source, flags=re.S)
        assert not re.search(r"\{[^{}]*\|[^{}]*\}", without_jinja)


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_is_a_complete_mobile_friendly_email_document(preset):
    html = preset.html
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert re.search(r'<meta charset="utf-8">', html, re.I)
    assert re.search(r'<meta name="viewport" content="width=device-width[^"]*">', html)
    assert "@media (max-width: 600px)" in html
    assert "@media (prefers-color-scheme: dark)" in html
    assert re.search(r'class="container" width="600"[^>]*max-width:600px', html)
    assert 'role="presentation"' in html
    assert "lorem" not in html.lower()


@pytest.mark.parametrize("preset", PRESETS, ids=by_key)
def test_tags_are_balanced_and_block_tags_sit_in_cells(preset):
    parser = _Structure()
    parser.feed(preset.html)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []


def test_block_tag_check_catches_a_tag_between_rows():
    parser = _Structure()
    parser.feed("<table><tr><td>{% if first_name %}x{% endif %}</td></tr></table>")
    assert parser.problems == []
    parser = _Structure()
    parser.feed("<table>{% if first_name %}<tr><td>x</td></tr>{% endif %}</table>")
    assert parser.problems

"""The preset templates in a real browser: what a reader would notice on desktop, on a
phone and in dark mode. Needs no server and no database: each preset is rendered with
plain Jinja2 and loaded with `set_content`. Screenshots land in test-results/presets/.
"""

import re

import pytest
from jinja2.sandbox import SandboxedEnvironment

from engagex.content.presets import Preset, preset_list

pytestmark = pytest.mark.browser

SAMPLE = {
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "full_name": "Ada Lovelace",
    "fields": {},
    "organization_name": "Acme Ltd",
    "organization_address": "1 Main St, Springfield",
    "unsubscribe_url": "https://example.com/u",
    "preferences_url": "https://example.com/p",
    "view_online_url": "https://example.com/v",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
MOBILE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
WITHOUT_BUTTONS = {"plain_letter"}  # a personal letter has links, not buttons

# WCAG contrast of every piece of visible text against the colour behind it
# (the nearest ancestor with a background colour). Returns the worst offenders.
LOW_CONTRAST_JS = """
() => {
  const rgb = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = rgb(getComputedStyle(node).backgroundColor);
      if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) return color;
    }
    return [255, 255, 255];
  };
  const problems = [];
  for (const element of document.body.querySelectorAll("*")) {
    const text = [...element.childNodes]
      .filter((node) => node.nodeType === Node.TEXT_NODE)
      .map((node) => node.textContent.trim())
      .join("");
    if (!text || !element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden") continue;
    const fg = luminance(rgb(style.color));
    const bg = luminance(background(element));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.6 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push(`${text.slice(0, 40)} (${ratio.toFixed(2)})`);
    }
  }
  return problems;
}
"""


def _render(preset: Preset) -> str:
    return SandboxedEnvironment(autoescape=True).from_string(preset.html).render(SAMPLE)


@pytest.fixture
def show(browser):
    """Open rendered HTML in a fresh context; fail if the email loads anything."""
    contexts = []
    requests: list[str] = []

    def show_(html: str, **options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.set_content(html)
        return page

    yield show_
    for context in contexts:
        context.close()
    assert requests == [], "an email must not load anything from the network"


@pytest.fixture
def shots(artifacts):
    folder = artifacts / "presets"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _greeting(page):
    return page.get_by_text(re.compile(r"\bAda\b")).first


def _unsubscribe(page):
    return page.get_by_role("link", name="Unsubscribe", exact=True)


@pytest.mark.parametrize("preset", preset_list(), ids=lambda preset: preset.key)
def test_preset_on_desktop(preset, show, shots):
    page = show(_render(preset), **DESKTOP)
    page.screenshot(path=shots / f"{preset.key}-desktop.png", full_page=True)

    assert _greeting(page).is_visible()
    assert _unsubscribe(page).is_visible()
    assert page.get_by_role("link", name="View in your browser").first.is_visible()
    box = page.locator(".container").first.bounding_box()
    assert box["width"] <= 600
    assert box["width"] >= 560  # uses the width it has, not a narrow column
    left_gap, right_gap = box["x"], 1280 - box["x"] - box["width"]
    assert abs(left_gap - right_gap) <= 2, "the container is centered"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate(LOW_CONTRAST_JS) == []


@pytest.mark.parametrize("preset", preset_list(), ids=lambda preset: preset.key)
def test_preset_on_a_phone(preset, show, shots):
    page = show(_render(preset), **MOBILE)
    page.screenshot(path=shots / f"{preset.key}-mobile.png", full_page=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, "scrolls sideways"
    assert _greeting(page).is_visible()
    assert _unsubscribe(page).is_visible()
    box = page.locator(".container").first.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 375
    buttons = page.locator("a.button")
    if preset.key not in WITHOUT_BUTTONS:
        assert buttons.count() >= 1
    for index in range(buttons.count()):
        button = buttons.nth(index)
        assert button.is_visible()
        height = button.bounding_box()["height"]
        assert height >= 40, f"button {button.inner_text()!r} is {height}px tall"
    # Text keeps a readable size on a small screen.
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll("p, h1, h2, h3, td, a")]
            .filter((e) => e.innerText.trim())
            .map((e) => parseFloat(getComputedStyle(e).fontSize)))"""
    )
    assert smallest >= 11
    assert page.evaluate(LOW_CONTRAST_JS) == []


@pytest.mark.parametrize("preset", preset_list(), ids=lambda preset: preset.key)
def test_preset_in_dark_mode(preset, show, shots):
    page = show(_render(preset), color_scheme="dark", **MOBILE)
    page.screenshot(path=shots / f"{preset.key}-dark.png", full_page=True)

    page_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(part) for part in re.findall(r"\d+", page_background)[:3])
    assert red + green + blue < 150, f"the page stays light in dark mode: {page_background}"
    assert _greeting(page).is_visible()
    assert page.evaluate(LOW_CONTRAST_JS) == []

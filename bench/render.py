"""Template renders per second (DESIGN.md §8).

    .venv/bin/python -m bench.render --messages 100000

Builds a realistic ~30 KB newsletter template — nested layout tables, inline
styles, a `<style>` block with a media query, an Outlook conditional comment, ten
merge tags (one with `default`, a custom field, `unsubscribe_url` …) and one
spintax group — and prepares it the way the sender does, once per mailing:
`email_ready_html` (CSS inlined, preheader, absolute URLs) then `compile_message`
(sanitize, spintax, Jinja compile, plain text derived from the HTML). Then it
renders N messages (subject, preheader, HTML and text) with varying contexts and
seeds on one core: `renders_per_sec`.

For reference it also times `email_ready_html` on rendered messages
(`email_ready_per_sec`, on 500 of them): what it would cost to run that step
per recipient instead of once per mailing. `prepare_ms` is the once-per-mailing
cost. No database is needed. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import random

from bench._support import Timer, emit, peak_rss_mb, rate

FIRST = ["Anna", "Ben", "Chloé", "David", "", "Felix", "Greta", "Hugo", "Ida", "Jonas"]
LAST = ["Berg", "Costa", "Dubois", "Evans", "Fischer", "García", "Huber", "Ito", "Jensen"]
CITIES = ["Berlin", "Lisbon", "Paris", "Cardiff", "Hamburg", "Madrid", "Vienna", "Osaka"]
PLANS = ["free", "starter", "pro", "enterprise"]
SUBJECT = "{{ first_name|default('Hello') }}, your {Weekly|Friday} digest is here"
PREHEADER = "What's new for {{ fields.plan }} customers in {{ fields.city }}"

HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Weekly digest</title>
<style>
  body { margin: 0; padding: 0; background: #f4f5f7; }
  .wrapper { width: 100%; background: #f4f5f7; }
  .container { width: 600px; margin: 0 auto; background: #ffffff; }
  h1 { font-family: Arial, sans-serif; font-size: 26px; color: #111827; margin: 0 0 12px; }
  h2 { font-family: Arial, sans-serif; font-size: 20px; color: #111827; margin: 0 0 8px; }
  p { font-family: Arial, sans-serif; font-size: 15px; line-height: 22px; color: #374151; }
  .button a { background: #2563eb; color: #ffffff; text-decoration: none; }
  .muted { color: #6b7280; font-size: 12px; }
  @media (max-width: 620px) { .container { width: 100% !important; } }
  @media (prefers-color-scheme: dark) { .container { background: #111827 !important; } }
</style>
<!--[if mso]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch>
</o:OfficeDocumentSettings></xml><![endif]-->
</head>
<body>
<table class="wrapper" role="presentation" width="100%" cellpadding="0" cellspacing="0">
<tr><td align="center">
<table class="container" role="presentation" width="600" cellpadding="0" cellspacing="0">
<tr><td style="padding: 12px 24px;" class="muted">
  Trouble reading? <a href="{{ view_online_url }}">View it online</a>
</td></tr>
<tr><td style="padding: 24px;">
  <img src="/static/logo.png" width="120" alt="{{ organization_name }}" style="display:block">
  <h1>{Hi|Hello} {{ first_name|default("there") }},</h1>
  <p>Here is what happened this week for {{ fields.plan }} customers around
  {{ fields.city }}. As always, it's short.</p>
</td></tr>
"""
ARTICLE = """<tr><td style="padding: 16px 24px; border-top: 1px solid #e5e7eb;">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>
  <td width="180" valign="top" style="padding-right: 16px;">
    <img src="/static/articles/{n}.jpg" width="180" height="120" alt="Article {n}"
         style="display:block; border-radius: 6px;">
  </td>
  <td valign="top">
    <h2>Story number {n}: what changed and why it matters</h2>
    <p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. Integer posuere erat a
    ante venenatis dapibus posuere velit aliquet. Cras mattis consectetur purus sit amet
    fermentum. Donec ullamcorper nulla non metus auctor fringilla. Maecenas sed diam eget
    risus varius blandit sit amet non magna. Vestibulum id ligula porta felis euismod
    semper. Nullam quis risus eget urna mollis ornare vel eu leo.</p>
    <p>Aenean lacinia bibendum nulla sed consectetur. Curabitur blandit tempus porttitor.
    Etiam porta sem malesuada magna mollis euismod. Sed posuere consectetur est at
    lobortis. Morbi leo risus, porta ac consectetur ac, vestibulum at eros.</p>
    <table role="presentation" cellpadding="0" cellspacing="0" class="button"><tr>
      <td style="border-radius: 4px;" bgcolor="#2563eb">
        <a href="https://example.com/articles/{n}?utm_source=newsletter&amp;utm_medium=email"
           style="display:inline-block; padding: 10px 18px; font-family: Arial, sans-serif;
                  font-size: 14px; border-radius: 4px;">Read the story</a>
      </td></tr></table>
  </td></tr></table>
</td></tr>
"""
FOOT = """<tr><td style="padding: 24px;" class="muted">
  <p class="muted">You receive this email as {{ email }} because you subscribed to
  {{ organization_name }} news.
  <a href="{{ preferences_url }}">Preferences</a> ·
  <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
  <p class="muted">{{ organization_name }}, {{ organization_address }}</p>
</td></tr>
</table>
</td></tr>
</table>
</body></html>
"""


def newsletter(target_kb: int = 30) -> str:
    articles, n = [], 0
    while len(HEAD) + len(FOOT) + sum(map(len, articles)) < target_kb * 1024:
        n += 1
        articles.append(ARTICLE.replace("{n}", str(n)))
    return HEAD + "".join(articles) + FOOT


def contexts(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    result = []
    for number in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        result.append(
            {
                "email": f"contact{number}@example.com",
                "first_name": first,
                "last_name": last,
                "full_name": f"{first} {last}".strip(),
                "fields": {"city": rng.choice(CITIES), "plan": rng.choice(PLANS)},
                "unsubscribe_url": f"https://app.example.com/u/{number:08x}",
                "preferences_url": f"https://app.example.com/p/{number:08x}",
                "view_online_url": f"https://app.example.com/v/{number:08x}",
                "organization_name": "Acme & Co",
                "organization_address": "1 Main Street, Springfield",
            }
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from django.conf import settings

    if not settings.configured:  # translations only; no database, no app registry
        settings.configure(USE_I18N=False)

    from engagex.content.email_html import email_ready_html
    from engagex.content.rendering import compile_message

    template = newsletter()
    with Timer() as prepare:
        html = email_ready_html(
            template, preheader=PREHEADER, base_url="https://cdn.example.com/newsletter/"
        )
        compiled = compile_message(subject=SUBJECT, preheader=PREHEADER, html=html)

    pool = contexts(min(args.messages, 10_000), args.seed)
    compiled.render(pool[0], seed="warm-up")
    rendered_html, size = [], 0
    with Timer() as render:
        for number in range(args.messages):
            message = compiled.render(pool[number % len(pool)], seed=f"{number}:1")
            size += len(message.html)
            if number < 500:
                rendered_html.append((message.html, message.preheader))

    with Timer() as ready:
        for body, preheader in rendered_html:
            email_ready_html(body, preheader=preheader)

    emit(
        {
            "bench": "render",
            "messages": args.messages,
            "renders_per_sec": rate(args.messages, render.seconds),
            "template_kb": round(len(template) / 1024, 1),
            "html_kb_avg": round(size / max(args.messages, 1) / 1024, 1),
            "prepare_ms": round(prepare.seconds * 1000, 1),
            "email_ready_per_sec": rate(len(rendered_html), ready.seconds),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()

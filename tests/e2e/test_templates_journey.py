"""The templates journey in a real browser: create from a preset, edit the HTML and watch
the preview follow, toggle mobile and dark mode, insert a merge tag, save twice, restore
the first version, send a test and read it in the dev inbox with the tags filled."""

import re

from playwright.sync_api import expect

from engagex.content.models import Template
from tests.e2e.test_accounts_journey import open_email
from tests.e2e.test_team import sign_in


def test_preset_edit_preview_versions_and_test_send(
    open_page, owner, org, smtp_to_dev_inbox, artifacts
):
    org.postal_address = "1 Main Street, Springfield"
    org.save()
    page = sign_in(open_page, owner)

    page.goto("/templates/")
    expect(page.get_by_text("No templates yet")).to_be_visible()
    page.get_by_role("button", name=re.compile("Use “Newsletter”")).click()
    expect(page.locator("#template-form")).to_be_visible()
    template = Template.objects.get(organization=org)
    assert template.version_count == 1

    # Edit the HTML: the preview follows what is typed, before any save.
    html = page.locator("textarea[name=html]")
    original = html.input_value()
    edited = original.replace("<body", '<body data-x="1"', 1).replace(
        "</body>", '<p id="note">Fresh from the editor, {{ first_name }}!</p></body>', 1
    )
    html.fill(edited)
    preview = page.frame_locator("#preview-frame")
    expect(preview.locator("#note")).to_have_text("Fresh from the editor, Jane!")

    # Mobile and dark mode.
    page.get_by_role("button", name="Mobile").click()
    expect(page.locator("#preview-frame")).to_have_css("width", "375px")
    page.get_by_role("button", name="Dark mode").click()
    expect(page.get_by_role("button", name="Dark mode")).to_have_attribute("aria-pressed", "true")
    expect(preview.locator("#note")).to_be_visible()
    page.screenshot(path=str(artifacts / "templates-editor-mobile-dark.png"), full_page=True)
    page.get_by_role("button", name="Desktop").click()

    # Insert a merge tag into the subject, then save (version 2).
    subject = page.get_by_label("Subject")
    subject.fill("Ahoy ")
    subject.press("End")
    page.locator("[data-insert-tag='first_name']").click()
    expect(subject).to_have_value("Ahoy {{ first_name }}")
    expect(page.locator("#editor-check")).to_contain_text("Ahoy Jane")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toasts")).to_contain_text("Saved as version 2")

    # A second save (version 3).
    page.get_by_label("Subject").fill("Second thoughts {{ first_name }}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toasts")).to_contain_text("Saved as version 3")
    page.screenshot(path=str(artifacts / "templates-editor.png"), full_page=True)

    # Restore version 1 from the history (after a confirmation).
    page.get_by_role("button", name="History").click()
    history = page.locator("#history-dialog")
    expect(history).to_contain_text("Version 3")
    history.locator("li", has_text="Version 1").get_by_role("button", name="Restore").click()
    page.locator("#confirm-modal").get_by_role("button", name="Restore").click()
    expect(page.locator("#toasts")).to_contain_text("Version 1 restored as version 4")
    template.refresh_from_db()
    assert template.version_count == 4 and "Fresh from the editor" not in template.html
    expect(page.frame_locator("#preview-frame").locator("#note")).to_have_count(0)

    # Put the note back, save, and send a test.
    page.locator("textarea[name=html]").fill(edited)
    page.get_by_label("Subject").fill("Hello {{ first_name|default('friend') }}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toasts")).to_contain_text("Saved as version 5")
    page.get_by_role("button", name="Send test").first.click()
    dialog = page.locator("#test-dialog")
    dialog.get_by_label("Send to").fill("me@example.com")
    dialog.get_by_role("button", name="Send test").click()
    expect(page.locator("#toasts")).to_contain_text("Test sent to me@example.com")

    text = open_email(page, r"\[Test\] Hello Jane")
    assert "Fresh from the editor, Jane!" in text
    assert "1 Main Street, Springfield" in text
    page.get_by_role("link", name="HTML").click()
    expect(page.frame_locator("iframe.preview-frame").locator("#note")).to_have_text(
        "Fresh from the editor, Jane!"
    )


def test_visual_mode_edits_text_without_html(open_page, owner, org):
    from engagex.content.services import template_create

    template = template_create(
        organization=org,
        actor=owner,
        name="Letter",
        html="<!DOCTYPE html><html><head></head><body><h1>Title</h1>"
        "<p id='body-text'>Dear {{ first_name }},</p></body></html>",
    ).template
    page = sign_in(open_page, owner)
    page.goto(f"/templates/{template.pk}/")

    page.get_by_role("tab", name="Visual").click()
    visual = page.frame_locator("#visual-frame")
    paragraph = visual.locator("#body-text")
    expect(paragraph).to_have_text("Dear {{ first_name }},")
    paragraph.click()
    page.keyboard.press("End")
    page.keyboard.type(" thanks for joining")
    page.get_by_role("button", name="Bold").click()  # toolbar works on the frame's selection
    page.locator("[data-insert-tag='organization_name']").click()

    html = page.locator("textarea[name=html]")
    expect(html).to_have_value(re.compile(r"Dear \{\{ first_name \}\}, thanks for joining"))
    expect(html).to_have_value(re.compile(r"\{\{ organization_name \}\}"))
    expect(page.frame_locator("#preview-frame").locator("#body-text")).to_contain_text(
        "Dear Jane, thanks for joining"
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toasts")).to_contain_text("Saved as version 2")
    template.refresh_from_db()
    assert "thanks for joining" in template.html and "{{ organization_name }}" in template.html

    # Template logic between table rows would be moved by the browser: HTML only.
    page.get_by_role("tab", name="HTML").click()
    page.locator("textarea[name=html]").fill(
        "<table>{% for x in fields.items %}<tr><td>{{ x }}</td></tr>{% endfor %}</table>"
    )
    page.get_by_role("tab", name="Visual").click()
    expect(page.get_by_text("This template uses template logic")).to_be_visible()
    expect(page.locator("#visual-frame")).to_be_hidden()


def test_library_and_editor_fit_a_phone(open_page, owner, org):
    from engagex.content.services import template_create_from_preset

    template = template_create_from_preset(
        organization=org, actor=owner, preset_key="newsletter"
    ).template
    desktop = sign_in(open_page, owner)
    phone = open_page("/", mobile=True)
    phone.context.add_cookies(desktop.context.cookies())
    for path in ("/templates/", f"/templates/{template.pk}/"):
        phone.goto(path)
        expect(phone.locator("h1, .tpl-editor__name").first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 391, path
    expect(phone.get_by_role("button", name="Save", exact=True)).to_be_visible()

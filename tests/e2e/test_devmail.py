"""An email sent over SMTP shows up in the dev inbox, readable and deletable."""

import smtplib
from email.message import EmailMessage

from playwright.sync_api import expect


def test_read_and_delete_a_captured_email(open_page, capture_server):
    message = EmailMessage()
    message["From"] = "Acme <news@acme.test>"
    message["To"] = "jane@example.com"
    message["Subject"] = "Your April newsletter"
    message.set_content("Plain-text April news")
    message.add_alternative("<h1 style='color:#123'>April news</h1>", subtype="html")
    with smtplib.SMTP(capture_server.hostname, capture_server.port) as smtp:
        smtp.send_message(message)

    page = open_page("/devmail/")
    page.get_by_role("link", name="Your April newsletter").click()
    frame = page.frame_locator("iframe.preview-frame")
    expect(frame.get_by_role("heading", name="April news")).to_be_visible()

    page.get_by_role("link", name="Plain text").click()
    expect(page.locator("pre.source")).to_contain_text("Plain-text April news")

    page.get_by_role("button", name="Delete").click()
    page.locator("#confirm-modal").get_by_role("button", name="Delete").click()
    expect(page.locator("#toasts")).to_contain_text("Email deleted")
    expect(page.get_by_text("No emails captured yet")).to_be_visible()

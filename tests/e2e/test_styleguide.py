"""The design system in a real browser: keyboard, modal, toasts, table, mobile, theme."""

import re
import threading

from playwright.sync_api import expect


def test_confirm_modal_by_keyboard_then_toast(open_page):
    page = open_page("/styleguide/")
    modal = page.locator("#confirm-modal")
    trigger = page.locator("#demo-delete")
    trigger.focus()
    page.keyboard.press("Enter")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("Delete “Spring sale #1”?")
    cancel = modal.get_by_role("button", name="Cancel")
    accept = modal.get_by_role("button", name="Delete campaign")
    expect(cancel).to_be_focused()  # the safe choice has focus

    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    expect(trigger).to_be_focused()  # focus returns to where it was

    page.keyboard.press("Enter")
    expect(modal).to_be_visible()
    page.keyboard.press("Tab")
    expect(accept).to_be_focused()
    page.keyboard.press("Tab")
    expect(cancel).to_be_focused()  # Tab is trapped inside the dialog
    page.keyboard.press("Shift+Tab")
    expect(accept).to_be_focused()
    page.keyboard.press("Enter")

    toast = page.locator("#toasts .toast")
    expect(toast).to_contain_text("Demo item deleted")
    expect(modal).to_be_hidden()


def test_client_toasts_can_be_dismissed(open_page):
    page = open_page("/styleguide/")
    page.get_by_role("button", name="Error toast").click()
    toast = page.get_by_role("alert").filter(has_text="Something went wrong")
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Dismiss notification").click()
    expect(toast).to_have_count(0)


def test_submit_button_shows_a_spinner_until_the_server_answers(open_page):
    page = open_page("/styleguide/")
    # Record the button's state while the (deliberately slow) request is in flight; the
    # page navigates afterwards, so the observation is kept in sessionStorage.
    page.evaluate(
        """() => document.querySelector('#demo-save').form.addEventListener('submit', () =>
            setTimeout(() => {
              const b = document.querySelector('#demo-save');
              const state = [b.className, b.getAttribute('aria-busy'), b.disabled];
              sessionStorage.setItem('seen', state);
            }, 100))"""
    )
    page.locator("#demo-save").click()
    expect(page.locator("#toasts")).to_contain_text("Settings saved")
    seen = page.evaluate("sessionStorage.getItem('seen')")
    assert seen == "btn btn--primary is-loading,true,true"
    expect(page.locator("#demo-save")).not_to_have_class(re.compile(r"is-loading"))


def test_table_live_search_filter_sort(open_page):
    page = open_page("/styleguide/")
    results = page.locator("#demo-table-results")
    search = page.get_by_placeholder("Search campaigns")
    search.click()
    search.type("survey", delay=30)
    expect(page).to_have_url(re.compile(r"q=survey"))
    expect(results.locator("tbody tr").first).to_contain_text("Customer survey")
    expect(search).to_be_focused()  # only the results were swapped
    for name in results.locator("tbody tr td:first-child").all_inner_texts():
        assert "Customer survey" in name

    page.get_by_label("Status", exact=True).select_option("draft")
    expect(page).to_have_url(re.compile(r"status=draft"))
    expect(results.locator('[data-status="scheduled"]')).to_have_count(0)
    expect(results.locator('[data-status="draft"]').first).to_be_visible()

    results.get_by_role("link", name="Recipients").click()
    expect(results.locator("th[aria-sort=ascending]")).to_contain_text("Recipients")
    numbers = [
        int(text.replace(",", ""))
        for text in results.locator("td.num:nth-child(3)").all_inner_texts()
    ]
    assert numbers == sorted(numbers)


def test_table_works_without_javascript(browser, live_server, debug_on):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/styleguide/")
    page.get_by_placeholder("Search campaigns").fill("survey")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=survey"))
    expect(page.locator("#demo-table-results tbody tr").first).to_contain_text("Customer survey")
    context.close()


def test_mobile_sidebar_opens_behind_the_menu_button(open_page):
    page = open_page("/styleguide/", mobile=True)
    sidebar = page.locator("#sidebar")
    menu = page.get_by_role("button", name="Open menu")
    expect(sidebar).to_be_hidden()  # slid away and out of the Tab order
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_in_viewport()
    expect(sidebar.get_by_role("link").first).to_be_focused()  # focus moves inside
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_theme_toggle_persists(open_page):
    page = open_page("/")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "dark")
    page.get_by_role("button", name="Switch to light theme").click()
    expect(html).to_have_attribute("data-theme", "light")
    page.reload()
    expect(html).to_have_attribute("data-theme", "light")
    expect(page.get_by_role("button", name="Switch to dark theme")).to_have_attribute(
        "aria-pressed", "true"
    )


def test_background_job_progress_is_polled_live(open_page, run_jobs):
    page = open_page("/styleguide/")
    page.get_by_role("button", name="Run a demo job").click()
    card = page.locator("#demo-job .job-progress")
    expect(card).to_contain_text("Waiting for a worker")
    worker = threading.Thread(target=run_jobs)
    worker.start()
    try:
        expect(card.locator("[data-status=running]")).to_be_visible(timeout=15_000)
        expect(card.locator("[data-status=succeeded]")).to_be_visible(timeout=30_000)
    finally:
        worker.join(timeout=60)
    expect(card).to_contain_text("Finished 20 steps")
    expect(card.locator("progress")).to_have_attribute("value", "100")


def test_styleguide_screenshots(open_page, artifacts):
    """Screenshots for humans (test-results/); the assertions are in the other tests."""
    desktop = open_page("/styleguide/")
    desktop.screenshot(path=artifacts / "styleguide-desktop.png", full_page=True)
    mobile = open_page("/styleguide/", mobile=True)
    mobile.screenshot(path=artifacts / "styleguide-mobile.png", full_page=True)
    assert (artifacts / "styleguide-mobile.png").stat().st_size > 10_000

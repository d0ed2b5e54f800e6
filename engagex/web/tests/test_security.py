import pytest


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_have_no_inline_scripts_or_styles(client, debug_on):
    for url in ("/", "/styleguide/", "/devmail/"):
        page = client.get(url).content.decode()
        assert "<script>" not in page, url  # every script has a src
        assert " style=" not in page and "<style" not in page, url
        assert " on" + "click=" not in page, url

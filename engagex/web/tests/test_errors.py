import pytest
from django.test import Client


@pytest.mark.django_db
def test_404_page_is_styled_and_helpful(client):
    response = client.get("/definitely/not/here/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "We can&#x27;t find that page" in page or "We can't find that page" in page
    assert "Go to the dashboard" in page
    assert "web/css/app.css" in page


@pytest.mark.django_db
def test_htmx_404_is_short_text(client):
    response = client.get("/definitely/not/here/", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.content == b"Not found"


@pytest.mark.django_db
def test_csrf_failure_explains_what_to_do(debug_on):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/styleguide/demo/delete/")
    assert response.status_code == 403
    assert "Your session expired" in response.content.decode()


def test_500_template_renders_without_a_request():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "Something went wrong on our side" in page

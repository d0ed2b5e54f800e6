"""Shared fixtures (DESIGN.md §4): an organization with one user per role, and an
outsider who belongs to a different organization."""

import socket

import pytest
from django.db import connection
from django.test import Client

from engagex.accounts.models import Membership
from engagex.accounts.services.api_keys import api_key_create
from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.accounts.tests.factories import MembershipFactory, OrganizationFactory


def pytest_configure(config):
    from django.conf import settings

    # Tests create thousands of users; at Django's default PBKDF2 cost (~0.3 s each) the
    # hashing alone would take minutes. What tests check is that passwords work, not
    # how costly their hash is, so they use the cheapest hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme Inc")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Outsider Ltd")


def _member(organization, role):
    return MembershipFactory(organization=organization, role=role).user


@pytest.fixture
def owner(org):
    return _member(org, Membership.Role.OWNER)


@pytest.fixture
def editor(org):
    return _member(org, Membership.Role.EDITOR)


@pytest.fixture
def viewer(org):
    return _member(org, Membership.Role.VIEWER)


@pytest.fixture
def outsider(other_org):
    return _member(other_org, Membership.Role.OWNER)


@pytest.fixture
def login(client):
    """Sign a user in, optionally making `organization` their active one."""

    def sign_in(user, organization=None):
        client.force_login(user)
        if organization is not None:
            session = client.session
            session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(organization.pk)
            session.save()
        return client

    return sign_in


@pytest.fixture
def debug_on(settings):
    """Developer-only pages (styleguide, dev inbox) exist only with DEBUG on."""
    settings.DEBUG = True
    return settings


@pytest.fixture
def run_jobs(transactional_db):
    """Run every queued background job on a real procrastinate worker, then return."""
    from procrastinate.contrib.django import app

    def run() -> None:
        with app.replace_connector(app.connector.get_worker_connector()):
            app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)

    yield run
    # Procrastinate's tables are not Django-managed, so the test flush misses them.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_workers CASCADE"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def capture_server(transactional_db):
    """The real dev-mail capture SMTP server on a free port, storing into the test database."""
    from engagex.devmail.smtp import capture_controller

    controller = capture_controller("127.0.0.1", free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def make_key(org, owner):
    """(ApiKey, secret) for `organization` (default: org) with the given scopes."""

    def make(*scopes: str, organization=None, name: str = "Test key"):
        return api_key_create(
            organization=organization or org,
            actor=owner,
            name=name,
            scopes=list(scopes) or ["read"],
        )

    return make


@pytest.fixture
def api():
    """A client that sends JSON and an Authorization header; no session."""

    class ApiClient:
        def __init__(self):
            self.client = Client()

        def request(self, method: str, path: str, key: str | None = None, *, auth=None, json=None):
            headers = {}
            if auth is not None:
                headers["Authorization"] = auth
            elif key is not None:
                headers["Authorization"] = f"Bearer {key}"
            call = getattr(self.client, method.lower())
            if json is not None:
                return call(path, data=json, content_type="application/json", headers=headers)
            return call(path, headers=headers)

        def get(self, path, key=None, **kwargs):
            return self.request("GET", path, key, **kwargs)

        def patch(self, path, key=None, **kwargs):
            return self.request("PATCH", path, key, **kwargs)

        def post(self, path, key=None, **kwargs):
            return self.request("POST", path, key, **kwargs)

        def delete(self, path, key=None, **kwargs):
            return self.request("DELETE", path, key, **kwargs)

    return ApiClient()

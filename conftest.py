"""Shared fixtures (DESIGN.md §4): an organization with one user per role, and an
outsider who belongs to a different organization."""

import socket

import pytest
from django.db import connection

from engagex.accounts.models import Membership
from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.accounts.tests.factories import MembershipFactory, OrganizationFactory


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

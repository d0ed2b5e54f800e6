import pytest
from django.db import IntegrityError

from engagex.accounts.models import Membership, User
from engagex.accounts.tests.factories import MembershipFactory


@pytest.mark.django_db
def test_email_is_the_login_and_is_normalised():
    user = User.objects.create_user("Jane.Doe@Example.COM", "a long passphrase")
    assert user.email == "jane.doe@example.com"
    assert user.check_password("a long passphrase")
    assert user.pk.version == 7  # time-ordered UUID primary keys


@pytest.mark.django_db
def test_email_is_required():
    with pytest.raises(ValueError, match="email address is required"):
        User.objects.create_user("", "x")


@pytest.mark.django_db
def test_one_membership_per_user_and_organization(org, editor):
    with pytest.raises(IntegrityError):
        MembershipFactory(organization=org, user=editor, role=Membership.Role.VIEWER)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "can_write"),
    [("owner", True), ("admin", True), ("editor", True), ("viewer", False)],
)
def test_only_viewers_are_read_only(role, can_write):
    assert MembershipFactory(role=role).can_write is can_write

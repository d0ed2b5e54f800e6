"""The organization's tag names (the `Tag` table feeds pickers and filters)."""

from __future__ import annotations

from collections.abc import Iterable

from engagex.contacts.models import Tag


def tags_ensure(*, organization, names: Iterable[str]) -> None:
    """Make sure every name is a known tag of the organization (idempotent, one query)."""
    unique = sorted(set(names))
    if unique:
        Tag.objects.bulk_create(
            [Tag(organization=organization, name=name) for name in unique],
            ignore_conflicts=True,
        )


def tag_names(*, organization) -> list[str]:
    return list(Tag.objects.filter(organization=organization).values_list("name", flat=True))

"""Time-ordered UUIDv7 primary keys (DESIGN.md §4): index-friendly, unguessable in URLs."""

import uuid

import uuid_utils.compat


def uuid7() -> uuid.UUID:
    return uuid_utils.compat.uuid7()

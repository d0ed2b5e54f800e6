"""The role ladder (PRODUCT.md §A): owner > admin > editor > viewer.

- viewer: reads everything, changes nothing
- editor: creates, edits and sends content and contacts
- admin: everything an editor does, plus members, invitations, API keys, settings, audit log
- owner: everything, including plan/billing, ownership and deleting the organization
"""

from __future__ import annotations

RANK = {"viewer": 0, "editor": 1, "admin": 2, "owner": 3}


def role_at_least(role: str, minimum: str) -> bool:
    return RANK[role] >= RANK[minimum]


def roles_assignable_by(role: str) -> list[str]:
    """Admins can grant up to admin; only an owner can make another owner."""
    if role == "owner":
        return ["owner", "admin", "editor", "viewer"]
    if role == "admin":
        return ["admin", "editor", "viewer"]
    return []

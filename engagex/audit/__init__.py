"""Audit log. Use `from engagex.audit import record` (imported lazily to keep app loading clean)."""


def record(*args, **kwargs):
    from engagex.audit.services import record as _record

    return _record(*args, **kwargs)

"""Segment rule engine: rule types (registry), validation and compilation (engine), and
the builder's field catalog. Selectors in `engagex.contacts.selectors.segments` apply
the compiled rules to an organization's live contacts."""

from engagex.contacts.segments import rules_activity, rules_contact, rules_custom  # noqa: F401
from engagex.contacts.segments.engine import (
    MAX_RULES,
    Problem,
    check_rules,
    compile_rules,
    count_rules,
    describe_rules,
    empty_rules,
    validate_rules,
)
from engagex.contacts.segments.registry import (
    REGISTRY,
    Operator,
    RuleContext,
    RuleError,
    RuleType,
    register,
)

__all__ = [
    "MAX_RULES",
    "REGISTRY",
    "Operator",
    "Problem",
    "RuleContext",
    "RuleError",
    "RuleType",
    "check_rules",
    "compile_rules",
    "count_rules",
    "describe_rules",
    "empty_rules",
    "register",
    "validate_rules",
]

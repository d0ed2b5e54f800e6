"""Delivery: mailings, the outbox (one delivery per recipient), the sender, kill switches."""

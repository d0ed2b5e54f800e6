"""Secret tokens we hand out (API keys, invitation links) are stored only as a digest.

SHA-256 without a salt is right here: the tokens are 256-bit random values, so there is
nothing to brute-force, and an unsalted digest can be looked up through a unique index.
"""

import hashlib


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

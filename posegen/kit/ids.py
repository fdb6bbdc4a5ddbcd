"""Opaque, time-ordered identifiers (26 characters of Crockford base32, like ULIDs).

Time order keeps primary-key indexes append-mostly; the 80 random bits make ids
unguessable, so an id never hints at how many rows exist.
"""

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 26


def new_id() -> str:
    """A new id: 48 bits of milliseconds since the epoch, then 80 random bits."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(ID_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))

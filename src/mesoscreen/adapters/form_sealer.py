"""Kept forms sealed with a key only the browser holds (AES-256-GCM).

A form posted after its session timed out is kept for the browser that posted it. The key
that seals it is derived from a random token in that browser's cookie, which the server never
stores (the row is found by another hash of the token), so the database alone cannot read
what was typed, and a kept form never reaches a log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


def _key(token: str) -> bytes:
    return hashlib.sha256(b"mesoscreen kept form key v1\x00" + token.encode()).digest()


class AesGcmFormSealer:
    """Seals and opens kept forms with a key derived from the browser's token."""

    def seal(self, token: str, plaintext: bytes) -> str:
        """``plaintext`` sealed for ``token`` (base64 of nonce and ciphertext)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(_key(token)).encrypt(nonce, plaintext, b"kept-form")
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, token: str, sealed: str) -> bytes | None:
        """The plaintext, or None when ``sealed`` was not sealed for ``token`` or was altered."""
        try:
            raw = base64.b64decode(sealed.encode("ascii"), validate=True)
            return AESGCM(_key(token)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], b"kept-form")
        except (InvalidTag, ValueError, binascii.Error):
            return None

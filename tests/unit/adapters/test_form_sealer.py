"""Kept forms are sealed for the browser's token: only that token opens them, unaltered."""

from __future__ import annotations

from mesoscreen.adapters.form_sealer import AesGcmFormSealer


def test_a_sealed_form_opens_with_its_token_only() -> None:
    """The same token opens it; another token, or an altered seal, opens nothing."""
    sealer = AesGcmFormSealer()
    sealed = sealer.seal("browser-token", b'{"description": "bruise"}')
    assert b"bruise" not in sealed.encode()
    assert sealer.open("browser-token", sealed) == b'{"description": "bruise"}'
    assert sealer.open("another-token", sealed) is None
    altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    assert sealer.open("browser-token", altered) is None
    assert sealer.open("browser-token", "not base64 !") is None


def test_each_seal_uses_a_fresh_nonce() -> None:
    """Sealing the same form twice gives two different seals."""
    sealer = AesGcmFormSealer()
    assert sealer.seal("t", b"same") != sealer.seal("t", b"same")

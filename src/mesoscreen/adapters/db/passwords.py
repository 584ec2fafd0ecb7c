"""Password hashes as the accounts table stores them: Argon2id via argon2-cffi."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    """Argon2id hashing; the cost parameters come from settings (lower only in tests)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)

    def hash(self, password: str) -> str:
        """A salted Argon2id hash of ``password``."""
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; False for a wrong password or a malformed hash."""
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

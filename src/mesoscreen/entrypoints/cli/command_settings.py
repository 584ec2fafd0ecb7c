"""The settings a command runs with: the environment, with command-line options first."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from mesoscreen.config import Settings
from mesoscreen.domain.errors import ConfigurationError


def settings_for(database: str | None) -> Settings:
    """Settings from the environment, with ``--database`` taking precedence;
    ConfigurationError naming the setting when the environment holds a bad value."""
    try:
        return Settings(database_url=database) if database else Settings()
    except ValidationError as invalid:
        first = invalid.errors()[0]
        name = "_".join(str(part) for part in first.get("loc", ())).upper()
        # The message only, never the value: a setting may hold a password.
        raise ConfigurationError(f"MESOSCREEN_{name}: {first.get('msg')}") from None


def policy_file_for(option: Path | None) -> Path | None:
    """The policy file a command screens with: ``--policy`` when given, else the
    ``policy_file`` setting (MESOSCREEN_POLICY_FILE), else None (the stricter readings)."""
    return option if option is not None else settings_for(None).policy_file

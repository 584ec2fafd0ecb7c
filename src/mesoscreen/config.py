"""Settings of the clinic service, read once from ``MESOSCREEN_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platformdirs import user_data_path
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_DATABASE_NAME = "mesoscreen.sqlite3"
CHECKPOINT_FILE_NAME = "audit-checkpoints.jsonl"


class CdsClient(BaseModel):
    """Where a CDS Hooks client's signing keys come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwks: dict[str, list[dict[str, Any]]] | None = None
    jku: list[str] = Field(default_factory=list)


class Settings(BaseSettings):
    """Where the data lives, how long sessions last, how hard passwords are to guess."""

    model_config = SettingsConfigDict(env_prefix="MESOSCREEN_", extra="ignore", frozen=True)

    # None: the embedded SQLite file in `data_dir`; a postgresql+psycopg:// URL for deployments.
    database_url: str | None = None
    # None: the per-user data folder of the platform (e.g. ~/.local/share/mesoscreen).
    data_dir: Path | None = None
    session_idle_minutes: float = Field(default=15, gt=0)
    session_absolute_hours: float = Field(default=12, gt=0)
    login_free_failures: int = Field(default=3, ge=1)
    login_lock_after: int = Field(default=10, ge=2)
    # Failed sign-ins from one client address (any usernames) per minute before it must wait.
    login_source_failures_per_minute: int = Field(default=10, ge=1)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Worker threads for CPU-heavy work of the HTTP service (photo decoding, Argon2, rendering,
    # the nesting check of large bodies): at most this many run at once, off the event loop.
    heavy_work_threads: int = Field(default=4, ge=1, le=64)
    # Clinical photos: bytes of one upload (the edge lets photo uploads past max_body_bytes up
    # to this), and pixels (width x height), which also guards against decompression bombs.
    max_photo_bytes: int = Field(default=10 * 1_048_576, ge=1024)
    max_photo_pixels: int = Field(default=40_000_000, ge=1)
    # A clinic policy file choosing readings of source conflicts; None: the stricter ones.
    policy_file: Path | None = None
    # A folder of consent templates (all versions) instead of the packaged ones.
    consent_templates_dir: Path | None = None
    # None: cookies are Secure exactly when the request came over TLS.
    cookie_secure: bool | None = None
    # CDS Hooks. Trusted record-system clients by issuer (JSON in MESOSCREEN_CDS_CLIENTS):
    # {"https://ehr.example": {"jwks": {"keys": [...]}}} for keys given here, or
    # {"https://ehr.example": {"jku": ["https://ehr.example/.well-known/jwks.json"]}} for keys
    # fetched from an allow-listed JWK Set URL named in the token header.
    cds_clients: dict[str, CdsClient] = Field(default_factory=dict)
    # Development only: accept requests without a signed token. Off by default; never in use
    # with real patients.
    cds_development_mode: bool = False
    # The codes ("system|code") of orders that are scalp mesotherapy.
    cds_mesotherapy_codes: list[str] = Field(
        default_factory=lambda: [
            "https://mesoscreen.org/fhir/CodeSystem/procedure|scalp-mesotherapy"
        ]
    )
    # A FHIR terminology server (base URL, e.g. https://tx.fhir.org/r4) asked, with a short
    # timeout and a persistent cache in data_dir, whether a SNOMED CT concept the shipped value
    # sets lack descends from one in scope. None (the default): the shipped expansions only.
    terminology_server: str | None = None
    # Base of the absolute link on cards (e.g. https://mesoscreen.clinic.example); None: this
    # server's own address as the request reached it.
    cds_link_base: str | None = None
    # Signed checkpoints of the audit chain head (docs/adr/0010). The Ed25519 private key: a
    # PEM file of mode 0600 outside the database (`mesoscreen audit keygen` makes a pair);
    # None: `serve` writes no checkpoints and says so. Where they are appended (None:
    # audit-checkpoints.jsonl in data_dir), how often `serve` writes one (and once more on
    # shutdown), and the public key `audit verify` checks them with (None: the key + ".pub").
    audit_checkpoint_key: Path | None = None
    audit_checkpoint_file: Path | None = None
    audit_checkpoint_interval_seconds: float = Field(default=300, gt=0)
    audit_checkpoint_public_key: Path | None = None
    # The clinic's logo for the page header and the prints (handout, plan, consent): a PNG or
    # JPEG of at most 200 KB; None: the clinic's name alone.
    clinic_logo: Path | None = None

    def resolved_data_dir(self) -> Path:
        """The folder for the embedded database and its backups."""
        return self.data_dir or user_data_path("mesoscreen", appauthor=False)

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir() / EMBEDDED_DATABASE_NAME}"

    def resolved_checkpoint_file(self) -> Path:
        """The append-only file of signed audit checkpoints."""
        return self.audit_checkpoint_file or self.resolved_data_dir() / CHECKPOINT_FILE_NAME

    def resolved_checkpoint_public_key(self) -> Path | None:
        """The public key that checks the checkpoints, if one is known."""
        if self.audit_checkpoint_public_key:
            return self.audit_checkpoint_public_key
        key = self.audit_checkpoint_key
        return key.with_name(key.name + ".pub") if key else None

    @property
    def embedded(self) -> bool:
        """Whether the embedded SQLite database is in use."""
        return self.resolved_database_url().startswith("sqlite")

"""The HTTP tests' fixtures (an app client, two staffed clinics), for the hardening tests too."""

from tests.integration.api.conftest import client, clinics

__all__ = ["client", "clinics"]

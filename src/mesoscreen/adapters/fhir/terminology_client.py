"""A FHIR terminology server client: ``CodeSystem/$subsumes`` and ``ValueSet/$validate-code``.

Optional and off by default (``MESOSCREEN_TERMINOLOGY_SERVER``). It answers what the shipped
expansions cannot: whether a SNOMED CT concept they lack descends from a concept in scope.
Every definite answer is kept in a small SQLite file, so a concept is asked about once per
installation; a request that fails or takes longer than the short timeout answers None (the
reader then keeps to the shipped expansions) and the server is left alone for a while, so a
server that is down does not slow a bulk run by a timeout per concept. ``httpx``'s transport
is the one I/O seam: tests run an in-process server that answers the real ``Parameters``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

TIMEOUT_SECONDS = 2.0
BACK_OFF_SECONDS = 60.0
CACHE_FILE_NAME = "terminology-cache.sqlite3"
# $subsumes outcomes (http://hl7.org/fhir/concept-subsumption-outcome) that put codeB under
# codeA (the concept itself counts).
_UNDER = frozenset({"equivalent", "subsumes"})
_NOT_UNDER = frozenset({"subsumed-by", "not-subsumed"})


def _parameter(document: object, name: str) -> dict[str, Any] | None:
    """The first parameter called ``name`` of a Parameters resource."""
    if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
        return None
    for parameter in document.get("parameter") or []:
        if isinstance(parameter, dict) and parameter.get("name") == name:
            return parameter
    return None


class FhirTerminologyClient:
    """Asks one FHIR terminology server, through a persistent cache of its answers."""

    def __init__(
        self,
        base_url: str,
        cache_path: Path | None,
        transport: httpx.BaseTransport | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout_seconds,
            headers={"Accept": "application/fhir+json"},
        )
        self._lock = threading.Lock()
        self._quiet_until = 0.0
        self._memory: dict[str, bool] = {}
        self._cache: sqlite3.Connection | None = None
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._cache = sqlite3.connect(cache_path, check_same_thread=False)
            self._cache.execute(
                "CREATE TABLE IF NOT EXISTS answer (question TEXT PRIMARY KEY, yes INTEGER)"
            )
            self._cache.commit()

    def subsumes(self, system: str, ancestor: str, code: str) -> bool | None:
        """Whether ``code`` is ``ancestor`` or a descendant (``CodeSystem/$subsumes``)."""
        if ancestor == code:
            return True
        params = {"system": system, "codeA": ancestor, "codeB": code}
        return self._ask(f"subsumes|{system}|{ancestor}|{code}", "CodeSystem/$subsumes",
                         params, self._outcome)  # fmt: skip

    def validate_code(self, value_set: str, system: str, code: str) -> bool | None:
        """Whether ``system|code`` is in ``value_set`` (``ValueSet/$validate-code``)."""
        params = {"url": value_set, "system": system, "code": code}
        return self._ask(f"validate|{value_set}|{system}|{code}", "ValueSet/$validate-code",
                         params, self._result)  # fmt: skip

    def close(self) -> None:
        """Close the connection pool and the cache."""
        self._client.close()
        if self._cache is not None:
            self._cache.close()

    @staticmethod
    def _outcome(document: object) -> bool | None:
        parameter = _parameter(document, "outcome")
        outcome = parameter.get("valueCode") if parameter else None
        if outcome in _UNDER:
            return True
        return False if outcome in _NOT_UNDER else None

    @staticmethod
    def _result(document: object) -> bool | None:
        parameter = _parameter(document, "result")
        result = parameter.get("valueBoolean") if parameter else None
        return result if isinstance(result, bool) else None

    def _ask(
        self,
        question: str,
        path: str,
        params: dict[str, str],
        read: Callable[[object], bool | None],
    ) -> bool | None:
        with self._lock:
            if question in self._memory:
                return self._memory[question]
            if self._cache is not None:
                row = self._cache.execute(
                    "SELECT yes FROM answer WHERE question = ?", (question,)
                ).fetchone()
                if row is not None:
                    self._memory[question] = bool(row[0])
                    return bool(row[0])
            if time.monotonic() < self._quiet_until:
                return None
            try:
                response = self._client.get(f"{self.base_url}/{path}", params=params)
                answer = read(response.json()) if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                response, answer = None, None
            if answer is None:
                # A refusal of one code (4xx) says nothing of the next; a server that is
                # down, slow or broken is left alone for a while.
                if response is None or response.status_code >= 500:
                    self._quiet_until = time.monotonic() + BACK_OFF_SECONDS
                return None
            self._memory[question] = answer
            if self._cache is not None:
                self._cache.execute(
                    "INSERT OR REPLACE INTO answer VALUES (?, ?)", (question, int(answer))
                )
                self._cache.commit()
            return answer

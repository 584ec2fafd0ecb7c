"""What the /fhir base can answer in: FHIR JSON only; a request for anything else is 406."""

from __future__ import annotations

from fastapi import HTTPException, Request

# _format values (FHIR http.html) and Accept media types that mean JSON.
_JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json", "fhir+json"})
_JSON_MEDIA = frozenset(
    {"*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir"}
)


def _media_types(accept: str) -> list[tuple[str, float]]:
    """(media type, quality) of each part of an Accept header."""
    found = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            found.append((media.lower(), quality))
    return found


async def require_json(request: Request) -> None:
    """Refuse (406) a ``_format`` or an ``Accept`` header that admits no JSON."""
    for value in request.query_params.getlist("_format"):
        if value.split(";")[0].strip().lower() not in _JSON_FORMATS:
            raise HTTPException(406, f"'_format': only JSON is served (got {value[:40]!r})")
    accept = request.headers.get("accept")
    if accept and not any(m in _JSON_MEDIA and q > 0 for m, q in _media_types(accept)):
        raise HTTPException(
            406, f"'Accept': only application/fhir+json is served (got {accept[:60]!r})"
        )

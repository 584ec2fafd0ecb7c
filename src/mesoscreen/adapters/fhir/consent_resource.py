"""A signed consent as a FHIR R4 ``Consent``.

The frozen document travels as ``sourceAttachment`` (JSON, with the SHA-1 hash R4 asks for);
the template's version and SHA-256 are in the ``policy`` URI and the document's SHA-256 is an
identifier, so a receiving system can tell exactly which text was agreed to. Status is ``proposed``
while the clinician has not countersigned, ``active`` once countersigned, and ``inactive``
from the withdrawal on (``provision.period`` then ends there).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from mesoscreen.domain.records import Consent, ConsentWithdrawal, RecordStatus

TEMPLATE_BASE = "https://mesoscreen.org/consent-templates/"
DOCUMENT_HASH_SYSTEM = "https://mesoscreen.org/fhir/NamingSystem/consent-document-sha256"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
COUNTERSIGNED_BY = "https://mesoscreen.org/fhir/StructureDefinition/consent-countersigned-by"
WITHDRAWAL_REASON = "https://mesoscreen.org/fhir/StructureDefinition/consent-withdrawal-reason"


def _sha1(data: bytes) -> bytes:
    """SHA-1 because R4's Attachment.hash is defined as SHA-1; an integrity check for the
    receiver, not security (the SHA-256 travels as an identifier)."""
    return hashlib.sha1(data, usedforsecurity=False).digest()


def _status(consent: Consent, withdrawal: ConsentWithdrawal | None) -> str:
    if withdrawal is not None:
        return "inactive"
    return "active" if consent.status == RecordStatus.SIGNED else "proposed"


def consent_resource(consent: Consent, withdrawal: ConsentWithdrawal | None) -> dict[str, Any]:
    """The FHIR R4 Consent of ``consent`` (and of its withdrawal, if any)."""
    document = json.dumps(consent.document, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")  # fmt: skip
    period: dict[str, str] = {"start": consent.patient_signed_at.isoformat()}
    if withdrawal is not None:
        period["end"] = withdrawal.withdrawn_at.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": consent.id,
        "identifier": [{"system": DOCUMENT_HASH_SYSTEM, "value": consent.document_hash}],
        "status": _status(consent, withdrawal),
        "scope": {
            "coding": [{"system": CONSENT_SCOPE, "code": "treatment", "display": "Treatment"}]
        },
        "category": [
            {
                "coding": [
                    {"system": CONSENT_CATEGORY, "code": "59284-0", "display": "Patient Consent"}
                ]
            }
        ],
        "patient": {"reference": f"Patient/{consent.patient_id}"},
        "dateTime": consent.patient_signed_at.isoformat(),
        "performer": [{"reference": f"Patient/{consent.patient_id}"}],
        "organization": [{"reference": f"Organization/{consent.clinic_id}"}],
        "sourceAttachment": {
            "contentType": "application/json",
            "language": consent.language,
            "data": base64.b64encode(document).decode("ascii"),
            "hash": base64.b64encode(_sha1(document)).decode("ascii"),
            "size": len(document),
            "title": f"{consent.procedure} consent, template version {consent.template_version}",
            "creation": consent.patient_signed_at.isoformat(),
        },
        "policy": [
            {
                "uri": f"{TEMPLATE_BASE}{consent.procedure}/{consent.template_version}"
                f"#{consent.template_hash}"
            }
        ],
        "provision": {
            "type": "permit",
            "period": period,
            "action": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                            "code": "use",
                        }
                    ]
                }
            ],
            "code": [{"text": consent.procedure}],
        },
    }
    extensions = []
    if consent.signed_by is not None and consent.signed_at is not None:
        # R4 lets verification name only the Patient or a RelatedPerson: it says the agreement
        # was checked with the patient; the countersigning clinician travels in an extension.
        resource["verification"] = [{
            "verified": True,
            "verifiedWith": {"reference": f"Patient/{consent.patient_id}"},
            "verificationDate": consent.signed_at.isoformat(),
        }]  # fmt: skip
        extensions.append({
            "url": COUNTERSIGNED_BY,
            "extension": [
                {"url": "practitioner",
                 "valueReference": {"reference": f"Practitioner/{consent.signed_by}"}},
                {"url": "time", "valueDateTime": consent.signed_at.isoformat()},
            ],
        })  # fmt: skip
    if withdrawal is not None and withdrawal.reason:
        extensions.append({"url": WITHDRAWAL_REASON, "valueString": withdrawal.reason})
    if extensions:
        resource["extension"] = extensions
    return resource

"""The OpenAPI 3 description of ``/api/v1``, written by hand.

Hand-written so it reads like documentation; ``tests/unit/web/test_openapi.py``
keeps it honest (every registered route is described and every described path
exists).
"""

from __future__ import annotations

from typing import Any

from screening.db.models import BatchStatus
from web.presenters import DISCLAIMER


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


PROBLEM = {"description": "Problem details (RFC 9457)",
           "content": {"application/problem+json": {"schema": _ref("Problem")}}}
ERRORS = {"400": PROBLEM, "401": PROBLEM, "404": PROBLEM}
PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
]
BATCH_ID = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}
REFERRAL_ID = {"name": "referral_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _sort(keys: str, default: str) -> dict[str, Any]:
    return {"name": "sort", "in": "query", "schema": {"type": "string"},
            "description": f"one of {keys}; prefix '-' for descending (default {default})"}


def _binary(media: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "string", "format": "binary"}}}}


PATHS: dict[str, Any] = {
    "/batches": {
        "post": {
            "summary": "Upload an archive of X-rays (zip, tar, tar.gz) for screening",
            "description": "Answers 202 once the archive is stored and the batch committed; ingest is then "
                           "queued. Staff upload for their own hospital; admins name it with 'hospital'. "
                           "A retry with the same Idempotency-Key and body answers 200 with the first batch; "
                           "the same key with a different body answers 409. 503 with Retry-After: the broker "
                           "is down (when 'batch_id' is given, the batch is stored and will be queued).",
            "parameters": [
                {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 128}},
                {"name": "X-Filename", "in": "header", "schema": {"type": "string"},
                 "description": "archive name for a raw body upload"},
                {"name": "hospital", "in": "query", "schema": {"type": "string"},
                 "description": "hospital code (admins)"},
            ],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["archive"], "properties": {
                    "archive": {"type": "string", "format": "binary"}, "hospital": {"type": "string"}}}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/x-tar": {"schema": {"type": "string", "format": "binary"}},
                "application/gzip": {"schema": {"type": "string", "format": "binary"}},
            }},
            "responses": {"202": _json(_ref("Batch"), "Accepted: stored and queued"),
                          "200": _json(_ref("Batch"), "The batch first created with this Idempotency-Key"),
                          "403": PROBLEM, "409": PROBLEM, "413": PROBLEM, "415": PROBLEM, "429": PROBLEM,
                          "503": PROBLEM, **ERRORS},
        },
        "get": {
            "summary": "Batches you may see, newest first",
            "parameters": [*PAGE, _sort("uploaded, file, hospital, status, files, screened, rejected, "
                                        "not_eligible", "-uploaded"),
                           {"name": "status", "in": "query", "schema": {"type": "string"}},
                           {"name": "hospital", "in": "query", "schema": {"type": "string"}},
                           {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                           {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                           {"name": "q", "in": "query", "schema": {"type": "string"},
                            "description": "part of the archive's file name"}],
            "responses": {"200": _json(_ref("Page"), "A page of batches"), **ERRORS},
        },
    },
    "/screenings": {"post": {
        "summary": "Screen one X-ray (PNG, JPEG or DICOM) with the patient's age and sex: a batch of one",
        "description": "Same authentication, limits, rate limit and Idempotency-Key as an archive upload; the "
                       "batch runs in the express lane (never behind a bulk upload). Age and sex come from the "
                       "fields, else from the DICOM tags; without patient_id (or a DICOM PatientID) the image's "
                       "content names the patient. Answers 202 with a status URL, or with ?wait=SECONDS "
                       "(at most 120) 200 and the result once the batch has finished.",
        "parameters": [
            {"name": "wait", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 120}},
            {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 128}},
            {"name": "X-Filename", "in": "header", "schema": {"type": "string"},
             "description": "image name for a raw body upload (the fields then come as query parameters)"},
            {"name": "hospital", "in": "query", "schema": {"type": "string"}, "description": "hospital code (admins)"},
        ],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {
                "image": {"type": "string", "format": "binary"},
                "age_years": {"type": "number"}, "age_months": {"type": "integer"},
                "sex": {"type": "string", "enum": ["F", "M"]}, "patient_id": {"type": "string"},
                "study_date": {"type": "string", "format": "date"}, "hospital": {"type": "string"}}}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "application/dicom": {"schema": {"type": "string", "format": "binary"}},
        }},
        "responses": {"202": _json(_ref("Screening"), "Accepted: stored and queued; poll status_url"),
                      "200": _json(_ref("Screening"), "Finished within ?wait=, or an Idempotency-Key replay"),
                      "403": PROBLEM, "409": PROBLEM, "413": PROBLEM, "415": PROBLEM, "422": PROBLEM,
                      "429": PROBLEM, "503": PROBLEM, **ERRORS},
    }},
    "/dicomweb/studies": {"post": {
        "summary": "STOW-RS: store DICOM instances; each study becomes one express batch, results go back",
        "description": "multipart/related; type=\"application/dicom\" (PS3.18 10.5), with an API token. "
                       "Answers the DICOM JSON store response: 200 all taken, 202 some not, 409 none; "
                       "Location and X-Osteo-Batches name the batches (GET /screenings/{id} follows them).",
        "parameters": [{"name": "hospital", "in": "query", "schema": {"type": "string"},
                        "description": "hospital code (admins)"}],
        "requestBody": {"required": True, "content": {
            "multipart/related": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"200": {"description": "Every instance taken",
                              "content": {"application/dicom+json": {"schema": {"type": "object"}}}},
                      "202": {"description": "Some instances not taken (FailedSOPSequence)"},
                      "409": {"description": "No instance taken"}, "403": PROBLEM, "415": PROBLEM,
                      "429": PROBLEM, **ERRORS},
    }},
    "/screenings/{batch_id}": {"get": {
        "summary": "A screening's status and, once finished, its result (class, probabilities, referral, links)",
        "parameters": [BATCH_ID, {"name": "wait", "in": "query",
                                  "schema": {"type": "integer", "minimum": 0, "maximum": 120}}],
        "responses": {"200": _json(_ref("Screening"), "The screening"), **ERRORS},
    }},
    "/batches/{batch_id}": {"get": {
        "summary": "Status, progress counters, errors, model version and result deliveries of a batch",
        "parameters": [BATCH_ID],
        "responses": {"200": _json(_ref("Batch"), "The batch"), **ERRORS},
    }},
    "/batches/{batch_id}/deliveries/{delivery_id}/resend": {"post": {
        "summary": "Send the batch's DICOM results (SR, overlay capture, PDF) to one destination again",
        "description": "Starts the delivery again from its first try (staff of the hospital and admins). The "
                       "objects keep their UIDs, so a PACS that already holds some keeps one copy of each.",
        "parameters": [BATCH_ID, {"name": "delivery_id", "in": "path", "required": True,
                                  "schema": {"type": "integer"}}],
        "responses": {"202": _json(_ref("Delivery"), "Queued again"), "403": PROBLEM, "503": PROBLEM, **ERRORS},
    }},
    "/batches/{batch_id}/results": {"get": {
        "summary": "Per-image results: quality, eligibility, class, probabilities, referral, patient, "
                   "metacarpal measurement (measured, cortical_index, cortical_thickness_mm, measurement_reason, "
                   "radiogrammetry_version; per-bone values in 'measurement'), tier (refer, capacity: DXA if "
                   "capacity allows, none) with the thresholds it was judged by, links",
        "parameters": [BATCH_ID, *PAGE, _sort("file, quality, patient, class, risk, referred", "file"),
                       {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}},
                       {"name": "only", "in": "query", "schema": {"type": "string", "enum": [
                           "referred", "rejected", "not_eligible", "failed", "screened"]}},
                       {"name": "class", "in": "query", "schema": {"type": "string"}},
                       {"name": "q", "in": "query", "schema": {"type": "string"},
                        "description": "part of the file name"}],
        "responses": {"200": {"description": "A page of results, or all of them as CSV",
                              "content": {"application/json": {"schema": _ref("Page")},
                                          "text/csv": {"schema": {"type": "string"}}}}, **ERRORS},
    }},
    "/batches/{batch_id}/problems": {"get": {
        "summary": "Every problem of a batch (manifest lines, missing files, failed images and reports), paged",
        "parameters": [BATCH_ID, *PAGE],
        "responses": {"200": _json(_ref("Page"), "A page of {file, message} items"), **ERRORS},
    }},
    "/batches/{batch_id}/summary": {"get": {
        "summary": "The batch's rendered summary report",
        "parameters": [BATCH_ID],
        "responses": {"200": _binary("text/html", "Summary report"), **ERRORS},
    }},
    "/patients": {"get": {
        "summary": "Screened patients you may see with their latest result, filtered, sorted, paged",
        "parameters": [*PAGE, _sort("screened, risk, class, hospital, pseudonym", "-screened"),
                       {"name": "referred", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
                       {"name": "class", "in": "query", "schema": {"type": "string"}},
                       {"name": "sex", "in": "query", "schema": {"type": "string", "enum": ["F", "M"]}},
                       {"name": "hospital", "in": "query", "schema": {"type": "string"}},
                       {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "q", "in": "query", "schema": {"type": "string"},
                        "description": "the start of a pseudonym"}],
        "responses": {"200": _json(_ref("Page"), "A page of patients"), **ERRORS},
    }},
    "/patients/{pseudonym}": {"get": {
        "summary": "A patient's screening history with predictions and report links",
        "parameters": [{"name": "pseudonym", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": _json(_ref("Patient"), "The patient"), **ERRORS},
    }},
    "/patients/{pseudonym}/fhir": {"get": {
        "summary": "A patient's screenings as a FHIR R4 Bundle (DiagnosticReport with the PDF, Observations)",
        "description": "One DiagnosticReport per batch (conclusion, coded class, the PDF report as presentedForm) "
                       "and Observations for the class, the three probabilities and the DXA referral; "
                       "validated with fhir.resources (R4B models). Audited like a report download.",
        "parameters": [{"name": "pseudonym", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "FHIR Bundle",
                              "content": {"application/fhir+json": {"schema": {"type": "object"}}}}, **ERRORS},
    }},
    "/batches/{batch_id}/fhir": {"get": {
        "summary": "A batch's screenings as a FHIR R4 Bundle (one DiagnosticReport per patient)",
        "parameters": [BATCH_ID],
        "responses": {"200": {"description": "FHIR Bundle",
                              "content": {"application/fhir+json": {"schema": {"type": "object"}}}}, **ERRORS},
    }},
    "/patients/lookup": {"post": {
        "summary": "Find a patient by pseudonym, or (hospital staff) by their hospital's own patient id",
        "description": "A POST so the id is never part of a URL or an access log. Only staff can look up by "
                       "their own hospital's patient id; 404 when no patient you can see matches.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["id"], "properties": {"id": {"type": "string", "maxLength": 128}}}}}},
        "responses": {"200": _json(_ref("Patient"), "The patient"), **ERRORS},
    }},
    "/reports/{report_id}.{fmt}": {"get": {
        "summary": "Download a patient report (audited)",
        "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "fmt", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["pdf", "html"]}}],
        "responses": {"200": _binary("application/pdf", "The report"), **ERRORS},
    }},
    "/referrals": {"get": {
        "summary": "The referral worklist: referrals you may see with their follow-up, filtered, sorted, paged",
        "description": "Staff see their hospital's patient id in 'hospital_patient_id' (null for everyone else). "
                       "format=csv gives every matching row (no paging) with the same columns as the page's export.",
        "parameters": [*PAGE, _sort("referred, risk, age, class, state, changed, dxa, t, file, hospital, "
                                    "cortical_index", "-referred"),
                       {"name": "state", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
                        "description": "open, all, to_contact, contacted, dxa_booked, dxa_done, declined, "
                                       "lost_to_follow_up (repeat for several)"},
                       {"name": "class", "in": "query", "schema": {"type": "string"}},
                       {"name": "sex", "in": "query", "schema": {"type": "string", "enum": ["F", "M"]}},
                       {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "age_min", "in": "query", "schema": {"type": "integer"}},
                       {"name": "age_max", "in": "query", "schema": {"type": "integer"}},
                       {"name": "dxa", "in": "query", "schema": {"type": "string", "enum": ["with", "without"]}},
                       {"name": "batch", "in": "query", "schema": {"type": "string"}},
                       {"name": "hospital", "in": "query", "schema": {"type": "string"}},
                       {"name": "q", "in": "query", "schema": {"type": "string"},
                        "description": "a pseudonym, or part of a file name"},
                       {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}],
        "responses": {"200": {"description": "A page of referrals, or all of them as CSV",
                              "content": {"application/json": {"schema": _ref("Page")},
                                          "text/csv": {"schema": {"type": "string"}}}}, **ERRORS},
    }},
    "/referrals/{referral_id}": {"get": {
        "summary": "One referral with its follow-up history",
        "parameters": [REFERRAL_ID],
        "responses": {"200": _json(_ref("Referral"), "The referral"), **ERRORS},
    }},
    "/referrals/{referral_id}/state": {"post": {
        "summary": "Change the follow-up state (hospital staff and admins; audited)",
        "description": "'dxa_done' is reached only by recording the DXA result; 422 says why a move is refused.",
        "parameters": [REFERRAL_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["state"], "properties": {
                "state": {"type": "string", "enum": ["to_contact", "contacted", "dxa_booked", "declined",
                                                     "lost_to_follow_up"]},
                "on": {"type": "string", "format": "date", "description": "when it happened (default today)"},
                "note": {"type": "string", "maxLength": 1000}}}}}},
        "responses": {"200": _json(_ref("Referral"), "The referral, changed"), "403": PROBLEM, "422": PROBLEM,
                      **ERRORS},
    }},
    "/referrals/{referral_id}/dxa": {"put": {
        "summary": "Record or correct the DXA result (hospital staff and admins; audited)",
        "parameters": [REFERRAL_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("DxaResult")}}},
        "responses": {"200": _json(_ref("Referral"), "The referral, now 'dxa_done'"), "403": PROBLEM,
                      "422": PROBLEM, **ERRORS},
    }},
    "/referrals/dxa-import": {"post": {
        "summary": "Import DXA results from CSV: every row, or none (hospital staff and admins; audited)",
        "description": "Columns: referral_id or patient (pseudonym, or for staff their hospital's patient id), "
                       "dxa_date, device, t_femoral_neck, t_total_hip, t_lumbar_spine, note. A 422 lists every "
                       "problem with its line, and nothing is recorded. Importing the same file again changes "
                       "nothing.",
        "requestBody": {"required": True, "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}}}}}},
        "responses": {"200": _json({"type": "object", "properties": {
            "recorded": {"type": "integer"}, "unchanged": {"type": "integer"},
            "referrals": {"type": "array", "items": {"type": "integer"}}}}, "Imported"),
            "403": PROBLEM, "422": PROBLEM, **ERRORS},
    }},
    "/images/{image_id}/overlay/{colormap}": {"get": {
        "summary": "Grad-CAM overlay (jet, hot, viridis) or the CLAHE image of a screened X-ray, or the lines of "
                   "its metacarpal measurement (measurement; any measured hand, screened or not) (audited)",
        "parameters": [{"name": "image_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "colormap", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["jet", "hot", "viridis", "clahe", "measurement"]}}],
        "responses": {"200": _binary("image/png", "PNG image"), **ERRORS},
    }},
    "/summary": {"get": {
        "summary": "Figures by people (screened, referred, DXA done, PPV, days to DXA) and image counts",
        "description": "Top level: the scope (hospitals), the period and the people figures of the whole scope "
                       "(people_screened, people_referred, dxa_done, ppv_osteoporosis: DXA T <= -2.5, "
                       "ppv_low_bone_mass: T <= -1.0). 'groups' and 'total' hold, per place, the people figures "
                       "(people_*, dxa_*, ppv_* with 95 % intervals, median_days_to_dxa) beside the image counts "
                       "(screened, referred, classes, rejected, not_eligible: images and files); 'by_sex', "
                       "'by_age_band' (10-year bands at screening) and 'weekly' (ISO weeks) the people figures. "
                       "Each person counts once in the period (once a week in 'weekly').",
        "parameters": [
            {"name": "level", "in": "query", "schema": {"type": "string", "enum": ["hospital", "district", "region"]}},
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
            {"name": "district", "in": "query", "schema": {"type": "string"}},
            {"name": "region", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": _json(_ref("Summary"), "Aggregates per group, totals and a daily trend"), **ERRORS},
    }},
    "/openapi.json": {"get": {"summary": "This description", "security": [],
                              "responses": {"200": {"description": "OpenAPI 3 document"}}}},
    "/docs": {"get": {"summary": "Human-readable rendering of this description", "security": [],
                      "responses": {"200": {"description": "HTML page"}}}},
}

_COMMON = {"model_versions": {"type": "array", "items": {"type": "string"}},
           "disclaimer": {"type": "string", "example": DISCLAIMER}}

SCHEMAS: dict[str, Any] = {
    "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}}},
    "Batch": {"type": "object", "properties": {
        "id": {"type": "string"}, "status": {"type": "string", "enum": [s.value for s in BatchStatus]},
        "progress": {"type": "number"}, "finished": {"type": "boolean"},
        "hospital": {"type": "object"}, "filename": {"type": "string"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "errors": {"type": "array", "items": {"type": "string"}},
        "model_version": {"type": "object", "nullable": True},
        "deliveries": {"type": "array", "items": _ref("Delivery"),
                       "description": "results back to the hospital's DICOM destinations (single batch only)"},
        "links": {"type": "object", "additionalProperties": {"type": "string"}}, **_COMMON}},
    "Screening": {"type": "object", "properties": {
        "id": {"type": "string"}, "status": {"type": "string", "enum": [s.value for s in BatchStatus]},
        "finished": {"type": "boolean"}, "status_url": {"type": "string"}, "batch": _ref("Batch"),
        "result": {"type": "object", "nullable": True,
                   "description": "the image's quality, eligibility, class, probabilities, referral, model "
                                  "version, metacarpal measurement (when measured) and links (overlays, "
                                  "report PDF/HTML, patient)"},
        "results": {"type": "array", "items": {"type": "object"}}, **_COMMON}},
    "Delivery": {"type": "object", "properties": {
        "id": {"type": "integer"}, "destination": {"type": "object"},
        "state": {"type": "string", "enum": ["pending", "sending", "sent", "failed"]},
        "attempts": {"type": "integer"}, "objects": {"type": "integer"},
        "reason": {"type": "string", "nullable": True}, "next_attempt_at": {"type": "string", "nullable": True},
        "sent_at": {"type": "string", "nullable": True}, "links": {"type": "object"}, **_COMMON}},
    "Page": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"},
        "limit": {"type": "integer"}, "offset": {"type": "integer"},
        "next_offset": {"type": "integer", "nullable": True}, **_COMMON},
        "description": "One page of a list: 'total' counts every row the filters select; 'next_offset' asks for "
                       "the next page (null on the last)."},
    "Patient": {"type": "object", "properties": {
        "pseudonym": {"type": "string"},
        "hospital_patient_id": {"type": "string", "nullable": True,
                                "description": "the hospital's own patient id: only for that hospital's staff"},
        "latest": {"type": "object"},
        "history": {"type": "array", "items": {"type": "object"}}, **_COMMON}},
    "Referral": {"type": "object", "properties": {
        "id": {"type": "integer"}, "hospital": {"type": "object"}, "patient": {"type": "string"},
        "hospital_patient_id": {"type": "string", "nullable": True}, "age_years": {"type": "number"},
        "sex": {"type": "string"}, "file": {"type": "string"}, "batch": {"type": "object"},
        "referred_on": {"type": "string", "format": "date"}, "class": {"type": "string"},
        "p_osteoporosis": {"type": "number"}, "model_version": {"type": "string"},
        "cortical_index": {"type": "number", "nullable": True,
                           "description": "metacarpal cortical index measured on the image (no category)"},
        "refer_threshold": {"type": "number", "nullable": True}, "state": {"type": "string"},
        "state_on": {"type": "string", "format": "date"}, "state_changed_by": {"type": "string", "nullable": True},
        "dxa": {"type": "object", "nullable": True}, "history": {"type": "array", "items": {"type": "object"}},
        **_COMMON}},
    "DxaResult": {"type": "object", "required": ["dxa_date"], "properties": {
        "dxa_date": {"type": "string", "format": "date"}, "device": {"type": "string", "maxLength": 100},
        "t_femoral_neck": {"type": "number", "minimum": -8, "maximum": 6},
        "t_total_hip": {"type": "number", "minimum": -8, "maximum": 6},
        "t_lumbar_spine": {"type": "number", "minimum": -8, "maximum": 6},
        "note": {"type": "string", "maxLength": 1000}},
        "description": "At least one T-score; the lowest decides the WHO category."},
    "Summary": {"type": "object", "properties": {
        "scope": {"type": "object"}, "period": {"type": "object"},
        "people_screened": {"type": "integer"}, "people_referred": {"type": "integer"},
        "dxa_done": {"type": "integer"}, "ppv_osteoporosis": {"type": "number", "nullable": True},
        "ppv_low_bone_mass": {"type": "number", "nullable": True},
        "by_sex": {"type": "array", "items": {"type": "object"}},
        "by_age_band": {"type": "array", "items": {"type": "object"}},
        "weekly": {"type": "array", "items": {"type": "object"}},
        "level": {"type": "string"}, "from": {"type": "string", "nullable": True},
        "to": {"type": "string", "nullable": True}, "total": {"type": "object"},
        "groups": {"type": "array", "items": {"type": "object"}},
        "trend": {"type": "array", "items": {"type": "object"}}, **_COMMON}},
}


def spec(server_url: str = "/api/v1") -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "OSTEO AI screening API", "version": "1",
                 "description": f"Population osteoporosis screening from hand/wrist X-rays. {DISCLAIMER}"},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "osteo_... API token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "osteo_session"},
            },
        },
    }

"""Database layer: models, engine/session helpers and schema management."""

from screening.db.models import (
    ApiToken,
    AuditEvent,
    Base,
    Batch,
    BatchProblem,
    BatchStatus,
    DailyHospitalSummary,
    Hospital,
    Image,
    ModelVersion,
    Patient,
    Prediction,
    Quality,
    Report,
    RiskClass,
    Role,
    User,
)
from screening.db.session import DatabaseUnavailable, check_connection, get_engine, session_scope

__all__ = [
    "ApiToken", "AuditEvent", "Base", "Batch", "BatchProblem", "BatchStatus", "DailyHospitalSummary", "Hospital",
    "Image", "ModelVersion", "Patient", "Prediction", "Quality", "Report", "RiskClass", "Role", "User",
    "DatabaseUnavailable", "check_connection", "get_engine", "session_scope",
]

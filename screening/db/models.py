"""SQLAlchemy 2.0 models for the whole product.

The schema is laid out once here so later work adds little: hospitals and the
people who use the system, the batches they upload, the images in them, the
model's predictions, the reports, per-patient and per-hospital roll-ups, and
an audit trail. Column types are portable (PostgreSQL in production, SQLite in
the embedded default). Patient identifiers only ever appear as pseudonyms.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names keep Alembic migrations identical on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Opaque, unguessable ids for objects that appear in URLs (batches)."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Role(str, enum.Enum):
    STAFF = "staff"  # hospital staff: upload and read for their one hospital
    OFFICIAL = "official"  # health official: aggregates for a district or region
    ADMIN = "admin"


class BatchStatus(str, enum.Enum):
    QUEUED = "queued"
    INGESTING = "ingesting"
    SCREENING = "screening"
    REPORTING = "reporting"
    COMPLETE = "complete"
    COMPLETE_WITH_ERRORS = "complete_with_errors"
    NEEDS_ATTENTION = "needs_attention"  # finished, but nothing in it could be screened: see its problems
    FAILED = "failed"


class Quality(str, enum.Enum):
    ACCEPTED = "accepted"
    WARNING = "warning"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class DeliveryState(str, enum.Enum):
    PENDING = "pending"  # waiting for its next try (the first, or after a failure with tries left)
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # every try failed: ``reason`` says why; a resend starts it again


class DestinationKind(str, enum.Enum):
    DIMSE = "dimse"  # C-STORE to host:port, called AE title
    STOW = "stow"  # STOW-RS (DICOMweb) to a base URL


class RiskClass(str, enum.Enum):
    NORMAL = "normal"
    OSTEOPENIA = "osteopenia"
    OSTEOPOROSIS = "osteoporosis"


class FollowUpState(str, enum.Enum):
    """Where a referral stands (screening.followup.states says which moves are allowed)."""

    TO_CONTACT = "to_contact"
    CONTACTED = "contacted"
    DXA_BOOKED = "dxa_booked"
    DXA_DONE = "dxa_done"
    DECLINED = "declined"
    LOST = "lost_to_follow_up"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable and readable in SQL.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda members: [m.value for m in members])


class Hospital(Base):
    __tablename__ = "hospitals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(100), index=True)
    region: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role != 'staff') OR (hospital_id IS NOT NULL)", name="staff_has_hospital"
        ),
        CheckConstraint(
            "(role != 'official') OR (district IS NOT NULL OR region IS NOT NULL)",
            name="official_has_area",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"), index=True)
    district: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Login sessions carry the generation they were issued in; bumping it (logout,
    # password change) ends every session of the user on the server side.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    hospital: Mapped[Hospital | None] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # sha256 of the secret; the secret itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class ModelVersion(Base):
    __tablename__ = "model_versions"

    # Content-derived version id from the model bundle's card.
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    bundle_key: Mapped[str | None] = mapped_column(String(1024))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OperatingPoint(Base):
    """A district's referral thresholds on P(osteoporosis), set by an admin with a reason.

    At or above ``refer_threshold``: refer for DXA. From ``capacity_threshold`` (when set) up
    to the referral threshold: DXA if capacity allows. Below: no action. One row per setting;
    the district's current one is ``active`` (older ones stay as the record of who set what,
    when and why). Districts without one use the model card's referral threshold.
    """

    __tablename__ = "operating_points"
    __table_args__ = (
        CheckConstraint("refer_threshold > 0 AND refer_threshold < 1", name="refer_in_range"),
        CheckConstraint("capacity_threshold IS NULL OR (capacity_threshold > 0 AND "
                        "capacity_threshold < refer_threshold)", name="capacity_below_refer"),
        Index("ix_operating_points_district_active", "district", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district: Mapped[str] = mapped_column(String(100))
    refer_threshold: Mapped[float] = mapped_column(Float)
    capacity_threshold: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    setter: Mapped[User | None] = relationship()


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("hospital_id", "idempotency_key"),
        Index("ix_batches_hospital_created", "hospital_id", "created_at"),
        Index("ix_batches_model_version_created", "model_version_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "batch_status"), default=BatchStatus.QUEUED)
    # The raw upload; None once dropped (after ingest, or after OSTEO_UPLOAD_RETENTION_HOURS).
    archive_key: Mapped[str | None] = mapped_column(String(1024))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    # The express lane: a one-study call or a PACS study; its steps run on queues that a
    # 2,000-image upload does not fill (screening.pipeline.names).
    express: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # sha256 of the uploaded bytes: a replayed Idempotency-Key must come with the same body.
    upload_sha256: Mapped[str | None] = mapped_column(String(64))
    model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    files_total: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    # Readable images of patients outside the screening population: never screened, never "negative".
    not_eligible: Mapped[int] = mapped_column(Integer, default=0)
    screened: Mapped[int] = mapped_column(Integer, default=0)
    reported: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    reports_total: Mapped[int] = mapped_column(Integer, default=0)
    # A bounded summary of what went wrong; every problem is a BatchProblem row.
    error: Mapped[str | None] = mapped_column(Text)
    problems_total: Mapped[int] = mapped_column(Integer, default=0)
    summary_key: Mapped[str | None] = mapped_column(String(1024))
    # The operating point every image of the batch is judged by, fixed when screening starts
    # (like model_version_id), so a change mid-batch never splits a batch between two.
    refer_threshold: Mapped[float | None] = mapped_column(Float)
    capacity_threshold: Mapped[float | None] = mapped_column(Float)
    operating_point_id: Mapped[int | None] = mapped_column(ForeignKey("operating_points.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Touched by every step that moves the batch on: the recovery sweep's lease.
    progress_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    hospital: Mapped[Hospital] = relationship()


class BatchProblem(Base):
    """One problem of a batch (a manifest line, a missing file, a failed image or report), paginated by the API."""

    __tablename__ = "batch_problems"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    filename: Mapped[str | None] = mapped_column(String(512))
    message: Mapped[str] = mapped_column(Text)


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("hospital_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    # Keyed hash of the hospital's patient id: the only name shared beyond the hospital.
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    # The hospital's own patient id as a Fernet token (screening.identity): decrypted only for
    # that hospital's staff; searched by pseudonym, never by decrypting. None for rows ingested
    # before identifiers were kept.
    identifier: Mapped[str | None] = mapped_column(Text)
    sex: Mapped[str | None] = mapped_column(String(1))
    latest_class: Mapped[RiskClass | None] = mapped_column(_enum(RiskClass, "latest_class"))
    latest_risk: Mapped[float | None] = mapped_column(Float)  # P(osteoporosis)
    latest_referred: Mapped[bool | None] = mapped_column(Boolean)
    latest_screened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latest_model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))

    hospital: Mapped[Hospital] = relationship()


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("batch_id", "filename"),
        Index("ix_images_hospital_sha256", "hospital_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    filename: Mapped[str] = mapped_column(String(512))
    age_months: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    study_date: Mapped[date | None] = mapped_column(Date)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(1024))
    source_format: Mapped[str | None] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    quality: Mapped[Quality] = mapped_column(_enum(Quality, "quality"))
    quality_reason: Mapped[str] = mapped_column(Text, default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    # Screening population (screening.population): None when the image was turned away before
    # its patient was judged; False keeps it out of the model, with the reason shown to staff.
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    eligibility_reason: Mapped[str | None] = mapped_column(Text)
    # The hand/wrist gate's judgement (screening.anatomy.gate); hand_box is [x0, y0, x1, y1]
    # in the uploaded file's own pixel coordinates, and the stored image is that region.
    gate_version: Mapped[str | None] = mapped_column(String(40))
    body_part: Mapped[str | None] = mapped_column(String(32))
    gate_score: Mapped[float | None] = mapped_column(Float)
    hand_box: Mapped[list[int] | None] = mapped_column(JSON)
    # Metacarpal radiogrammetry (screening.measurement), for every readable hand, eligible or not:
    # measured None = not attempted (rejected, duplicate, or ingested before it existed); False = refused,
    # with measurement["reason"]. cortical_thickness_mm only with a known pixel spacing. measurement holds
    # reason, index_name, index_value, pixel_spacing_mm and the per-bone list (lines in the file's pixels).
    radiogrammetry_version: Mapped[str | None] = mapped_column(String(40))
    measured: Mapped[bool | None] = mapped_column(Boolean)
    cortical_index: Mapped[float | None] = mapped_column(Float)
    cortical_thickness_mm: Mapped[float | None] = mapped_column(Float)
    measurement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    measurement_overlay_key: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    batch: Mapped[Batch] = relationship()
    patient: Mapped[Patient | None] = relationship()


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("image_id", "model_version_id"),
        Index("ix_predictions_hospital_created", "hospital_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    predicted_class: Mapped[RiskClass] = mapped_column(_enum(RiskClass, "predicted_class"))
    p_normal: Mapped[float] = mapped_column(Float)
    p_osteopenia: Mapped[float] = mapped_column(Float)
    p_osteoporosis: Mapped[float] = mapped_column(Float)
    referred: Mapped[bool] = mapped_column(Boolean, default=False)
    # The operating point the result was judged by (screening.followup.operating_points): refer at
    # P(osteoporosis) >= refer_threshold; "DXA if capacity allows" from capacity_threshold up; else
    # no action. Kept on every result, so changing a district's operating point changes no result.
    tier: Mapped[str | None] = mapped_column(String(16))
    refer_threshold: Mapped[float | None] = mapped_column(Float)
    capacity_threshold: Mapped[float | None] = mapped_column(Float)
    operating_point_id: Mapped[int | None] = mapped_column(ForeignKey("operating_points.id"))
    clahe_key: Mapped[str | None] = mapped_column(String(1024))
    # {"jet": key, "hot": key, "viridis": key}
    overlay_keys: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    image: Mapped[Image] = relationship()


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("patient_id", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    html_key: Mapped[str | None] = mapped_column(String(1024))
    pdf_key: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DailyHospitalSummary(Base):
    """Pre-aggregated counts per hospital and day, so dashboards never scan predictions."""

    __tablename__ = "daily_hospital_summaries"
    __table_args__ = (Index("ix_daily_summaries_day", "day"),)

    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    screened: Mapped[int] = mapped_column(Integer, default=0)
    normal: Mapped[int] = mapped_column(Integer, default=0)
    osteopenia: Mapped[int] = mapped_column(Integer, default=0)
    osteoporosis: Mapped[int] = mapped_column(Integer, default=0)
    referred: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    not_eligible: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)


class DicomAeTitle(Base):
    """A calling AE title the DICOM listener accepts, and the hospital its studies belong to."""

    __tablename__ = "dicom_ae_titles"

    ae_title: Mapped[str] = mapped_column(String(16), primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    hospital: Mapped[Hospital] = relationship()


class DicomSource(Base):
    """What a received DICOM image's results must carry back (patient, study, image ids), encrypted.

    One row per image file of a batch that came in over DICOM (the listener or STOW-RS);
    ``sealed`` is a Fernet token (screening.sealing), opened only when results are sent.
    """

    __tablename__ = "dicom_sources"
    __table_args__ = (UniqueConstraint("batch_id", "filename"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    filename: Mapped[str] = mapped_column(String(512))
    sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DicomDestination(Base):
    """Where a hospital's results go back: a DICOM node (C-STORE) or a DICOMweb STOW-RS endpoint."""

    __tablename__ = "dicom_destinations"
    __table_args__ = (UniqueConstraint("hospital_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[DestinationKind] = mapped_column(_enum(DestinationKind, "destination_kind"))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    ae_title: Mapped[str | None] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(1024))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    hospital: Mapped[Hospital] = relationship()

    @property
    def address(self) -> str:
        """Where it is, for pages and logs (no credentials are ever part of it)."""
        if self.kind is DestinationKind.DIMSE:
            return f"{self.ae_title}@{self.host}:{self.port}"
        return self.url or ""


class DicomDelivery(Base):
    """Sending one batch's results to one destination: its state, tries and last reason."""

    __tablename__ = "dicom_deliveries"
    __table_args__ = (UniqueConstraint("batch_id", "destination_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("dicom_destinations.id"))
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"),
                                                 default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    objects: Mapped[int] = mapped_column(Integer, default=0)  # DICOM objects sent by the last success
    reason: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    destination: Mapped[DicomDestination] = relationship()


class Referral(Base):
    """One referral for DXA: opened when finalize finds a referred patient with no open referral.

    The screening that opened it is kept (batch, the image whose result is the patient's
    overall result, its class and P(osteoporosis), the model version and the referral
    threshold it was judged by); the follow-up state and the DXA result are added by
    hospital staff (screening.followup.referrals), every change also a ReferralEvent.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("patient_id", "batch_id"),
        Index("ix_referrals_hospital_referred", "hospital_id", "referred_on"),
        Index("ix_referrals_referred_on", "referred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"))
    model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    refer_threshold: Mapped[float | None] = mapped_column(Float)
    # The batch's upload time and its UTC day (the day every figure counts it on).
    referred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    referred_on: Mapped[date] = mapped_column(Date)
    predicted_class: Mapped[RiskClass] = mapped_column(_enum(RiskClass, "referral_class"))
    p_osteoporosis: Mapped[float] = mapped_column(Float)
    age_months: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    state: Mapped[FollowUpState] = mapped_column(_enum(FollowUpState, "follow_up_state"),
                                                 default=FollowUpState.TO_CONTACT, index=True)
    state_on: Mapped[date] = mapped_column(Date)  # the day the state was reached (as told by staff)
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    state_changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The DXA result (WHO: the lowest of the T-scores decides), recorded by staff.
    dxa_date: Mapped[date | None] = mapped_column(Date)
    dxa_device: Mapped[str | None] = mapped_column(String(100))
    t_femoral_neck: Mapped[float | None] = mapped_column(Float)
    t_total_hip: Mapped[float | None] = mapped_column(Float)
    t_lumbar_spine: Mapped[float | None] = mapped_column(Float)
    t_lowest: Mapped[float | None] = mapped_column(Float)
    dxa_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dxa_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    patient: Mapped[Patient] = relationship()
    batch: Mapped[Batch] = relationship()
    image: Mapped[Image] = relationship()
    changed_by: Mapped[User | None] = relationship(foreign_keys=[state_changed_by])


class ReferralEvent(Base):
    """The history of a referral: each state change and each DXA result recorded, by whom and when."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # "opened", "state", "dxa"
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    happened_on: Mapped[date | None] = mapped_column(Date)  # the day it happened, as told by staff
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()


class PatientScreening(Base):
    """One person screened in one batch: the overall result of their images, for figures counted by people.

    ``prev_day`` is the day of the same patient's previous screening (None for the first),
    so "people screened from S to E" counts each person once: the screenings in the period
    whose previous one was before S (screening.followup.rollups keeps it right when batches
    arrive out of order).
    """

    __tablename__ = "patient_screenings"
    __table_args__ = (
        UniqueConstraint("patient_id", "batch_id"),
        Index("ix_patient_screenings_hospital_day", "hospital_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    screened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    day: Mapped[date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    age_band: Mapped[str] = mapped_column(String(8))
    predicted_class: Mapped[RiskClass] = mapped_column(_enum(RiskClass, "screening_class"))
    referred: Mapped[bool] = mapped_column(Boolean)
    prev_day: Mapped[date | None] = mapped_column(Date)


# Figures by people are kept per hospital and day in wide tables (one column per count and
# breakdown cell), so a year of a nation's figures is one scan of ~18k narrow rows.
# Cells beside the total: by sex, and by 10-year age band at screening (screening.followup.bands).
SEX_CELLS = ("f", "m")
BAND_CELLS = ("lt50", "50", "60", "70", "80", "90", "unknown")
CELLS = SEX_CELLS + BAND_CELLS
PEOPLE_COUNTS = ("screened", "normal", "osteopenia", "osteoporosis", *(f"screened_{c}" for c in CELLS))
REFERRAL_MEASURES = ("referred", "dxa_done", "t_osteoporosis", "t_low_bone_mass")
REFERRAL_COUNTS = (*REFERRAL_MEASURES, "declined", "lost",
                   *(f"{m}_{c}" for m in REFERRAL_MEASURES for c in CELLS))
WAIT_COUNTS = ("waited", *(f"waited_{c}" for c in CELLS))


def _counts(names: tuple[str, ...]) -> list[Column[int]]:
    return [Column(name, Integer, nullable=False, default=0) for name in names]


# People screened per hospital and day (each person once per day).
people_daily = Table(
    "people_daily_summaries", Base.metadata,
    Column("hospital_id", ForeignKey("hospitals.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("week", Date, nullable=False),  # the Monday of ``day``: weekly figures group by it
    *_counts(PEOPLE_COUNTS),
    Index("ix_people_daily_day", "day"),
)
# The same counts for people screened again, by the day of their previous screening: subtracted
# from people_daily for previous screenings inside the period, so nobody counts twice.
people_rescreens = Table(
    "people_rescreens", Base.metadata,
    Column("hospital_id", ForeignKey("hospitals.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("prev_day", Date, primary_key=True),
    Column("week", Date, nullable=False),
    *_counts(PEOPLE_COUNTS),
    Index("ix_people_rescreens_day", "day"),
)
# The same per hospital and ISO week (Monday): a year is 53 rows a hospital instead of 365. Figures read
# whole weeks here and the days at a period's ragged ends from the day table.
people_weekly = Table(
    "people_weekly_summaries", Base.metadata,
    Column("hospital_id", ForeignKey("hospitals.id"), primary_key=True),
    Column("week", Date, primary_key=True),
    *_counts(PEOPLE_COUNTS),
    Index("ix_people_weekly_week", "week"),
)
# Referrals by the hospital and day they were opened: how many, and what became of them.
referral_daily = Table(
    "referral_daily_summaries", Base.metadata,
    Column("hospital_id", ForeignKey("hospitals.id"), primary_key=True),
    Column("referred_on", Date, primary_key=True),
    Column("week", Date, nullable=False),
    *_counts(REFERRAL_COUNTS),
    Index("ix_referral_daily_referred_on", "referred_on"),
)
referral_weekly = Table(
    "referral_weekly_summaries", Base.metadata,
    Column("hospital_id", ForeignKey("hospitals.id"), primary_key=True),
    Column("week", Date, primary_key=True),
    *_counts(REFERRAL_COUNTS),
    Index("ix_referral_weekly_week", "week"),
)
# Days from referral to DXA, as counts per number of days (exact medians without reading referrals).
dxa_waits = Table(
    "dxa_waits", Base.metadata,
    Column("hospital_id", ForeignKey("hospitals.id"), primary_key=True),
    Column("referred_on", Date, primary_key=True),
    Column("days", Integer, primary_key=True),
    *_counts(WAIT_COUNTS),
    Index("ix_dxa_waits_referred_on", "referred_on"),
)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))

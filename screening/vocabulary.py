"""The product's vocabulary: the words every page, report, API answer and CLI line uses.

One home for the class names and how they read, the screening-aid disclaimer, the
names of batch and image states and which of them mean "finished", the overlay
colour maps and which image qualities get screened. Importing this module pulls in
no TensorFlow, Flask or Celery, so the web process, the CLI, the model card and the
reports all read the same definitions (a wording change is one edit, here).
"""

from __future__ import annotations

from screening.db.models import BatchStatus, Quality, RiskClass

# -- classes ---------------------------------------------------------------------------

# The model's output order (index i of the softmax is CLASS_NAMES[i]) and the WHO order.
CLASS_NAMES: tuple[str, ...] = tuple(risk.value for risk in RiskClass)

# Severity: the higher the rank, the worse the finding (used to pick a patient's overall result).
CLASS_RANK: dict[RiskClass, int] = {RiskClass.NORMAL: 0, RiskClass.OSTEOPENIA: 1, RiskClass.OSTEOPOROSIS: 2}

# How a class reads in reports (full WHO wording) and in dashboard badges (short).
CLASS_LABELS: dict[RiskClass, str] = {
    RiskClass.NORMAL: "Normal",
    RiskClass.OSTEOPENIA: "Low bone mass (osteopenia)",
    RiskClass.OSTEOPOROSIS: "Osteoporosis",
}
CLASS_SHORT_LABELS: dict[RiskClass, str] = {
    RiskClass.NORMAL: "Normal",
    RiskClass.OSTEOPENIA: "Osteopenia",
    RiskClass.OSTEOPOROSIS: "Osteoporosis",
}
NOT_SCREENED_LABEL = "Not screened"

# -- the screening-aid disclaimer ------------------------------------------------------

SCREENING_AID = "This is a screening aid, not a diagnosis."
CANNOT_RULE_OUT = "The software cannot rule out low bone density."
DXA_REFERENCE = "DXA (dual-energy X-ray absorptiometry) is the reference standard for bone density."
# What every report prints in full.
REPORT_DISCLAIMER = f"{SCREENING_AID} {CANNOT_RULE_OUT} {DXA_REFERENCE}"
# The one line every page, API result, CSV export and CLI summary carries.
DISCLAIMER = "Screening aid, not a diagnosis; DXA is the reference standard."

# -- batch and image states ------------------------------------------------------------

BATCH_STATUS_LABELS: dict[BatchStatus, str] = {status: status.value.replace("_", " ") for status in BatchStatus}
# A batch in one of these states will not change any more: polling can stop.
# NEEDS_ATTENTION: finished, but nothing in the batch could be screened (its problems say why).
FINISHED_STATUSES: frozenset[BatchStatus] = frozenset(
    {BatchStatus.COMPLETE, BatchStatus.COMPLETE_WITH_ERRORS, BatchStatus.NEEDS_ATTENTION, BatchStatus.FAILED})
# Finished with results (possibly with some files failed); FAILED batches have none.
COMPLETED_STATUSES: frozenset[BatchStatus] = frozenset({BatchStatus.COMPLETE, BatchStatus.COMPLETE_WITH_ERRORS})

QUALITY_LABELS: dict[Quality, str] = {
    Quality.ACCEPTED: "accepted",
    Quality.WARNING: "accepted with a warning",
    Quality.REJECTED: "rejected",
    Quality.DUPLICATE: "duplicate",
}
# Image qualities that go to the model (a warning is shown beside the result, not a refusal).
SCREENABLE: tuple[Quality, ...] = (Quality.ACCEPTED, Quality.WARNING)

# -- overlays --------------------------------------------------------------------------

# Grad-CAM overlays stored for every screened image, by colour-map name; the first is the default.
OVERLAY_COLORMAPS: tuple[str, ...] = ("jet", "hot", "viridis")
DEFAULT_OVERLAY_COLORMAP = OVERLAY_COLORMAPS[0]
# The CLAHE-enhanced image without a heatmap, downloadable beside the overlays.
CLAHE_VIEW = "clahe"
# The metacarpal measurement drawn on the hand (axes, mid-shaft bands, cortical edges), made at
# ingest for every measured hand, screened or not.
MEASUREMENT_VIEW = "measurement"
# What pages say beside a measured value (the patient report says it in full, with its sources).
MEASUREMENT_NOTE = ("Measured bone: the combined cortical index (D − d)/D of the 2nd–4th metacarpals, "
                    "measured by software on the X-ray (T: mean cortical thickness, only with a known pixel "
                    "spacing). Shown without a category: it is not yet calibrated against DXA. "
                    "Check the drawn lines; a screening aid, not a diagnosis.")


def is_finished(status: BatchStatus) -> bool:
    """True when a batch in ``status`` has reached a final state."""
    return status in FINISHED_STATUSES


def batch_status_label(status: BatchStatus | str) -> str:
    """How a batch state reads on a page ("complete with errors")."""
    return BATCH_STATUS_LABELS[BatchStatus(status)]


def class_short_label(risk: RiskClass | str | None) -> str:
    """A class's badge text; empty when there is no class."""
    return CLASS_SHORT_LABELS[RiskClass(risk)] if risk else ""

"""The coded concepts OSTEO AI's DICOM results use, in one place.

Standard codes where one fits (SNOMED CT for the findings and yes/no, DCM for
report structure, UCUM for units); the product's own concepts (the three class
probabilities, the screening class and the DXA referral) in a private coding
scheme, ``99OSTEO``, declared in every SR (PS3.16 8.2: designators starting with
"99" are for local use).
"""

from __future__ import annotations

from pydicom.sr.coding import Code

from screening.db.models import RiskClass

SCHEME = "99OSTEO"
SCHEME_NAME = "OSTEO AI screening concepts"

PROCEDURE = Code("363680008", "SCT", "Radiographic imaging procedure")
HAND = Code("85562004", "SCT", "Hand structure")
NO_UNITS = Code("1", "UCUM", "no units")
QUALITATIVE_EVALUATIONS = Code("126010", "DCM", "Qualitative Evaluations")
COMMENT = Code("121106", "DCM", "Comment")
YES = Code("373066001", "SCT", "Yes")
NO = Code("373067005", "SCT", "No")

SCREENING_CLASS = Code("OSTEO-CLASS", SCHEME, "Bone density screening class")
REFER_FOR_DXA = Code("OSTEO-REFER", SCHEME, "Refer for DXA")
PROBABILITY = {
    RiskClass.NORMAL: Code("OSTEO-P-NORMAL", SCHEME, "Probability of normal bone density"),
    RiskClass.OSTEOPENIA: Code("OSTEO-P-OSTEOPENIA", SCHEME, "Probability of low bone mass (osteopenia)"),
    RiskClass.OSTEOPOROSIS: Code("OSTEO-P-OSTEOPOROSIS", SCHEME, "Probability of osteoporosis"),
}
MILLIMETRE = Code("mm", "UCUM", "millimeter")
CORTICAL_INDEX = Code("OSTEO-CI", SCHEME, "Metacarpal cortical index (MC2-MC4, combined)")
CORTICAL_THICKNESS = Code("OSTEO-CT", SCHEME, "Metacarpal cortical thickness (MC2-MC4, mean)")
RADIOGRAMMETRY = "OSTEO AI metacarpal radiogrammetry"
CLASS_FINDING = {
    RiskClass.NORMAL: Code("17621005", "SCT", "Normal"),
    RiskClass.OSTEOPENIA: Code("312894000", "SCT", "Osteopenia"),
    RiskClass.OSTEOPOROSIS: Code("64859006", "SCT", "Osteoporosis"),
}

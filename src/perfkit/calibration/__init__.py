"""Calibration: from scores to grades that are comparable across managers, with a trail.

The pipeline (see ``docs/calibration.md``)::

    allocation = perfkit.calibrate(evaluation, policy, roster=roster)   # proposed grades per pool
    session = CalibrationSession.start(evaluation, policy)             # a meeting, logged
    result = session.override(...).finalise(actor="HRBP")             # final grades, head hash
    bonuses(result.grades(), base, scale)                              # outcomes

Public here: grade scales, policies, the allocation and its results, sessions, rater bias,
outcomes, fairness diagnostics and the 9-box grid.
"""

from perfkit.calibration.allocation import Allocation, Limit, Placement, PoolResult, QuotaStatus, TieCut
from perfkit.calibration.distribution import allocate, quota_status
from perfkit.calibration.fairness import AdverseImpact, Distribution, adverse_impact, grade_distribution
from perfkit.calibration.ninebox import NineBox, nine_box
from perfkit.calibration.normalize import RaterEffects, Standardized, rater_effects, standardize
from perfkit.calibration.outcomes import BonusLine, BonusResult, bonuses, pool_bonuses
from perfkit.calibration.policy import Policy, Quota, compile_policy, load_policy
from perfkit.calibration.raters import RaterReport, Rating, rater_report, ratings_from_evaluation
from perfkit.calibration.result import BoundaryCase, CalibratedGrade, CalibrationResult, Override
from perfkit.calibration.scale import Grade, GradeScale
from perfkit.calibration.session import CalibrationSession

__all__ = [
    "AdverseImpact",
    "Allocation",
    "BonusLine",
    "BonusResult",
    "BoundaryCase",
    "CalibratedGrade",
    "CalibrationResult",
    "CalibrationSession",
    "Distribution",
    "Grade",
    "GradeScale",
    "Limit",
    "NineBox",
    "Override",
    "Placement",
    "Policy",
    "PoolResult",
    "Quota",
    "QuotaStatus",
    "RaterEffects",
    "RaterReport",
    "Rating",
    "Standardized",
    "TieCut",
    "adverse_impact",
    "allocate",
    "bonuses",
    "compile_policy",
    "grade_distribution",
    "load_policy",
    "nine_box",
    "pool_bonuses",
    "quota_status",
    "rater_effects",
    "rater_report",
    "ratings_from_evaluation",
    "standardize",
]

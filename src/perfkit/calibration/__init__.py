"""Grades and calibration. Public here: :class:`GradeScale`."""

from perfkit.calibration.scale import Grade, GradeScale

__all__ = ["Grade", "GradeScale"]

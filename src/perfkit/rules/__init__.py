"""The formula language and the scoring engine.

Public here: :class:`Formula` (parse, check and compile one formula, for notebooks and
for other stages that reuse the language) and :data:`FUNCTIONS` (the function library,
with a summary and examples for each function).
"""

from perfkit.rules.formula import Formula
from perfkit.rules.functions import FUNCTIONS

__all__ = ["FUNCTIONS", "Formula"]

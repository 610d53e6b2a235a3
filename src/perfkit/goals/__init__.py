"""Goal graphs: strategy → team → person, cascaded exactly, rolled up, revised with a trail.

See ``docs/goals.md``. The public names:

- declarations (what a goal file says): :class:`Goal`, :class:`Contribution`,
  :class:`CheckIn`, :class:`CheckinSchedule`, :class:`Revision`, :class:`Owner`;
- :class:`GoalGraph` and :func:`load_goals` / :func:`validate_goals` / :func:`dump_goals`;
- :class:`Rollup` and :class:`GoalProgress` (``graph.rollup(as_of)``), :func:`attainment`.
"""

from perfkit.goals.files import dump_goals, load_goals, validate_goals
from perfkit.goals.graph import GoalGraph
from perfkit.goals.measures import Attainment, GoalTrace, metric_values, personal_attainment
from perfkit.goals.model import CheckIn, CheckinSchedule, Contribution, Goal, Owner, Revision
from perfkit.goals.rollup import GoalProgress, Rollup, attainment
from perfkit.goals.scoring import GoalEvaluation, GoalExplanation, GoalInput, evaluate_goals

__all__ = [
    "Attainment",
    "CheckIn",
    "CheckinSchedule",
    "Contribution",
    "Goal",
    "GoalEvaluation",
    "GoalExplanation",
    "GoalGraph",
    "GoalInput",
    "GoalProgress",
    "GoalTrace",
    "Owner",
    "Revision",
    "Rollup",
    "attainment",
    "dump_goals",
    "evaluate_goals",
    "load_goals",
    "metric_values",
    "personal_attainment",
    "validate_goals",
]

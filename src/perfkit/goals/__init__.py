"""Goal graphs: strategy → team → person, cascaded exactly, rolled up, revised with a trail.

See ``docs/goals.md`` and the pages it links. The public names:

- declarations (what a goal file says): :class:`Goal`, :class:`Contribution`,
  :class:`CheckIn`, :class:`CheckinSchedule`, :class:`Revision`, :class:`Owner`;
- :class:`GoalGraph`, read with :func:`load_goals` (:func:`validate_goals`,
  :func:`dump_goals`);
- rollup as of a date: :class:`Rollup`, :class:`GoalProgress`, :func:`attainment`;
- cascades and bulk assignment: :func:`cascade`, :func:`cascade_tree`, :func:`assign`,
  :func:`matching`;
- check-ins: :func:`checkin_report`, :func:`on_time_rates`;
- :func:`alignment_report`;
- scoring from goals: :func:`evaluate_goals`, :func:`personal_attainment`,
  :func:`metric_values`.

The views (Mermaid, Graphviz DOT, JSON, text tree) are in :mod:`perfkit.goals.views`.
"""

from perfkit.goals.alignment import AlignmentReport, alignment_report
from perfkit.goals.cascade import Cascade, CascadeTree, cascade, cascade_tree
from perfkit.goals.checkins import CheckinReport, OnTimeRate, checkin_report, on_time_rates
from perfkit.goals.files import dump_goals, load_goals, validate_goals
from perfkit.goals.graph import GoalGraph
from perfkit.goals.measures import Attainment, GoalTrace, metric_values, personal_attainment
from perfkit.goals.model import CheckIn, CheckinSchedule, Contribution, Goal, Owner, Revision
from perfkit.goals.rollup import GoalProgress, Rollup, attainment
from perfkit.goals.scoring import GoalEvaluation, GoalExplanation, GoalInput, evaluate_goals
from perfkit.goals.templates import assign, matching

__all__ = [
    "AlignmentReport",
    "Attainment",
    "Cascade",
    "CascadeTree",
    "CheckIn",
    "CheckinReport",
    "CheckinSchedule",
    "Contribution",
    "Goal",
    "GoalEvaluation",
    "GoalExplanation",
    "GoalGraph",
    "GoalInput",
    "GoalProgress",
    "GoalTrace",
    "OnTimeRate",
    "Owner",
    "Revision",
    "Rollup",
    "alignment_report",
    "assign",
    "attainment",
    "cascade",
    "cascade_tree",
    "checkin_report",
    "dump_goals",
    "evaluate_goals",
    "load_goals",
    "matching",
    "metric_values",
    "on_time_rates",
    "personal_attainment",
    "validate_goals",
]

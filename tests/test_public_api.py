"""The public surface is a decision: this test pins it."""

import perfkit
import perfkit.apportion
import perfkit.audit
import perfkit.calibration
import perfkit.goals
import perfkit.goals.views
import perfkit.metrics
import perfkit.org
import perfkit.periods
import perfkit.rules


class TestExports:
    def test_root_all_is_pinned(self) -> None:
        assert perfkit.__all__ == [
            "AuditError",
            "CalibrationError",
            "CompiledScheme",
            "DataError",
            "Evaluation",
            "Explanation",
            "FormulaError",
            "GoalGraphError",
            "PerfkitError",
            "Scheme",
            "SchemeError",
            "ScoreCard",
            "__version__",
            "calibrate",
            "evaluate",
            "example_path",
            "load_scheme",
            "validate_scheme",
        ]

    def test_root_all_is_sorted_and_importable(self) -> None:
        assert perfkit.__all__ == sorted(perfkit.__all__)
        for name in perfkit.__all__:
            assert hasattr(perfkit, name), name

    def test_documented_subpackages(self) -> None:
        assert perfkit.rules.__all__ == ["FUNCTIONS", "Formula"]
        assert perfkit.calibration.__all__ == [
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
        assert perfkit.org.__all__ == ["Employee", "OrgUnit", "Roster"]
        assert perfkit.goals.__all__ == [
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
        assert perfkit.goals.views.__all__ == ["JSON_FORMAT", "to_dot", "to_json", "to_mermaid", "to_text"]
        assert perfkit.periods.__all__ == ["Calendar", "Period", "PeriodKind", "parse_period", "require_aware"]
        assert perfkit.metrics.__all__ == [
            "Attribution",
            "Contribution",
            "MetricDefinitions",
            "MetricResults",
            "MetricValue",
            "RecordStore",
            "Reconciliation",
            "SourceRecord",
            "TracedEvaluation",
            "attribute",
            "compute",
            "correction",
            "evaluate_records",
            "load_metrics",
            "manual_entry",
            "reconcile",
            "validate_metrics",
        ]
        assert perfkit.audit.__all__ == ["FORMAT", "FORMAT_VERSION", "AuditLog", "Event", "genesis_hash", "verify"]
        assert perfkit.apportion.__all__ == ["Method", "apportion", "split_amount"]

    def test_package_is_typed(self) -> None:
        from importlib import resources

        assert (resources.files("perfkit") / "py.typed").is_file()


class TestErrorTree:
    def test_subclasses_inherit_the_builtin_they_resemble(self) -> None:
        assert issubclass(perfkit.SchemeError, perfkit.PerfkitError)
        assert issubclass(perfkit.SchemeError, ValueError)
        assert issubclass(perfkit.FormulaError, perfkit.SchemeError)
        assert issubclass(perfkit.DataError, perfkit.PerfkitError)
        assert issubclass(perfkit.DataError, ValueError)
        assert issubclass(perfkit.GoalGraphError, perfkit.PerfkitError)
        assert issubclass(perfkit.GoalGraphError, ValueError)

    def test_problems_default_to_the_error_itself(self) -> None:
        error = perfkit.DataError("bad", employee_id="E1", column="csat")
        assert error.problems == (error,)
        assert str(error) == "employee 'E1', column 'csat': bad"
        assert error.to_dict() == {"type": "DataError", "message": "bad", "employee_id": "E1", "column": "csat"}

    def test_scheme_error_names_file_line_and_path(self) -> None:
        error = perfkit.SchemeError("wrong", path="kpis[1].weight", source="s.yaml", line=12)
        assert str(error) == "s.yaml:12: kpis[1].weight: wrong"
        assert perfkit.SchemeError("wrong", path="id", line=3).where() == "line 3: id"

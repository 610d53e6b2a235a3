"""Multi-rater (360) metrics: role weights, missing-role policies, the anonymity threshold,
and explanations filtered by audience (HR, manager, employee)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from perfkit.errors import DataError, SchemeError
from perfkit.metrics.multirater import (
    AUDIENCES,
    MultiRaterMetric,
    MultiRaterResult,
    Rating,
    ratings_from_records,
    score,
)
from perfkit.metrics.records import SourceRecord
from perfkit.numbers import CONTEXT
from perfkit.periods import parse_period

AT = datetime(2026, 5, 6, 9, tzinfo=timezone.utc)
ROLES = {"self": "10%", "manager": "60%", "peer": "30%"}


def metric(**changes: Any) -> MultiRaterMetric:
    data: dict[str, Any] = {"id": "lead-360", "roles": ROLES}
    data.update(changes)
    return MultiRaterMetric(**data)


def rating(rater: str, role: str, value: object, *, ratee: str = "E1", item: str | None = None) -> Rating:
    return Rating(rater=rater, ratee=ratee, role=role, value=value, item=item)  # type: ignore[arg-type]


def record(
    rid: str, rater: str, role: str, value: object, *, ratee: str = "E1", item: str | None = "q1", at: datetime = AT
) -> SourceRecord:
    fields = {"rater": rater, "ratee": ratee, "rater_role": role, "value": value}
    if item is not None:
        fields["item"] = item
    return SourceRecord.create(source="survey", record_id=rid, entity="rating", occurred_at=at, fields=fields)


def fraction(value: Fraction) -> Decimal:
    """The reference rounding: one division in CONTEXT."""
    return CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def full_set(*, peers: tuple[object, ...] = (3, 4, 5), ratee: str = "E1") -> list[Rating]:
    ratings = [rating(ratee, "self", 5, ratee=ratee), rating("M1", "manager", 4, ratee=ratee)]
    ratings += [rating(f"P{i}", "peer", v, ratee=ratee) for i, v in enumerate(peers, 1)]
    return ratings


class TestMultiRaterMetric:
    def test_weights_are_read_as_exact_fractions_and_roles_get_specs(self) -> None:
        m = metric(roles={"self": "10%", "manager": 0.6, "peer": {"weight": "30%", "label": "同事"}})
        assert [spec.weight for spec in m.roles.values()] == [Decimal("0.10"), Decimal("0.6"), Decimal("0.30")]
        assert m.label("peer") == "同事" and m.label("self") == "self"

    def test_role_weights_must_sum_to_exactly_100_percent(self) -> None:
        with pytest.raises(SchemeError, match="add up to 99%, not 100%"):
            metric(roles={"self": "10%", "manager": "60%", "peer": "29%"})

    def test_item_weights_must_sum_to_100_percent_and_be_positive(self) -> None:
        with pytest.raises(SchemeError, match="item weights add up to 90%"):
            metric(items={"a": "50%", "b": "40%"})
        with pytest.raises(SchemeError, match="above 0%"):
            metric(items={"a": "100%", "b": "0%"})
        with pytest.raises(SchemeError, match="distinct"):
            metric(items=["a", "a"])

    def test_pydantic_errors_become_scheme_errors_naming_the_field(self) -> None:
        with pytest.raises(SchemeError) as caught:
            metric(missing_role="ignore")
        assert not isinstance(caught.value, ValidationError)
        assert caught.value.path == "missing_role" and "lead-360" in str(caught.value)

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(SchemeError, match="unknown field 'min_rater'"):
            metric(min_rater=3)

    def test_several_problems_are_reported_together(self) -> None:
        with pytest.raises(SchemeError) as caught:
            MultiRaterMetric.from_dict({"id": "x", "roles": {"peer": "100%"}, "min_raters": 0, "places": -1})
        assert {p.path for p in caught.value.problems} == {"min_raters", "places"}

    def test_from_dict_refuses_what_is_not_a_mapping(self) -> None:
        with pytest.raises(SchemeError, match="mapping"):
            MultiRaterMetric.from_dict(["id"])  # type: ignore[arg-type]

    def test_self_and_manager_are_unprotected_by_default_everything_else_protected(self) -> None:
        m = metric(roles={"self": "10%", "manager": "50%", "peer": "20%", "同事": "20%"})
        assert [m.is_protected(r) for r in m.roles] == [False, False, True, True]
        assert [m.threshold(r) for r in m.roles] == [1, 1, 3, 3]

    def test_protection_and_threshold_can_be_set_per_role(self) -> None:
        m = metric(
            roles={
                "self": {"weight": "10%", "protected": True, "min_raters": 1},
                "manager": "60%",
                "peer": {"weight": "30%", "min_raters": 5},
            },
            min_raters=4,
        )
        assert m.is_protected("self") and m.threshold("self") == 1 and m.threshold("peer") == 5

    def test_a_threshold_on_an_unprotected_role_is_refused(self) -> None:
        with pytest.raises(SchemeError, match="not protected"):
            metric(roles={"self": "10%", "manager": {"weight": "60%", "min_raters": 2}, "peer": "30%"})


class TestRatingsFromRecords:
    def test_default_fields_are_read(self) -> None:
        (r,) = ratings_from_records([record("s1", "P1", "peer", 4.5, item="沟通")])
        assert (r.rater, r.ratee, r.role, r.item, r.value) == ("P1", "E1", "peer", "沟通", Decimal("4.5"))
        assert r.record == ("survey", "s1") and r.occurred_at == AT

    def test_fields_can_be_mapped_and_item_left_out(self) -> None:
        rec = SourceRecord.create(
            source="hr",
            record_id="9",
            entity="rating",
            occurred_at=AT,
            fields={"评价人": 1001, "被评价人": "1002", "角色": "peer", "分数": "88"},
        )
        (r,) = ratings_from_records(
            [rec], fields={"rater": "评价人", "ratee": "被评价人", "role": "角色", "value": "分数", "item": None}
        )
        assert (r.rater, r.ratee, r.item, r.value) == ("1001", "1002", None, Decimal(88))

    def test_a_missing_field_names_the_record_and_the_field(self) -> None:
        rec = SourceRecord.create(
            source="survey",
            record_id="s7",
            entity="rating",
            occurred_at=AT,
            fields={"rater": "P1", "ratee": "E1", "value": 3},
        )
        with pytest.raises(DataError) as caught:
            ratings_from_records([rec])
        assert "survey:s7" in str(caught.value) and "rater_role" in str(caught.value)

    @pytest.mark.parametrize("value", ["good", None, True])
    def test_a_value_that_is_not_a_number_names_the_record(self, value: object) -> None:
        with pytest.raises(DataError) as caught:
            ratings_from_records([record("s3", "P1", "peer", value)])
        assert "survey:s3" in str(caught.value) and caught.value.column == "value"

    def test_an_empty_id_is_refused(self) -> None:
        with pytest.raises(DataError, match="non-empty text id"):
            ratings_from_records([record("s4", " ", "peer", 3)])

    def test_a_record_of_another_entity_is_refused(self) -> None:
        rec = SourceRecord.create(source="erp", record_id="r1", entity="receipt", occurred_at=AT, fields={})
        with pytest.raises(DataError, match="'receipt' record, not a 'rating'"):
            ratings_from_records([rec])

    def test_unknown_parts_in_fields_are_refused(self) -> None:
        with pytest.raises(DataError, match="unknown rating part 'score'"):
            ratings_from_records([], fields={"score": "value"})
        with pytest.raises(DataError, match="only item can be None"):
            ratings_from_records([], fields={"rater": None})

    def test_a_rating_checks_its_own_values(self) -> None:
        with pytest.raises(DataError, match="not a number") as caught:
            rating("P1", "peer", "n/a")
        assert caught.value.employee_id == "E1"


class TestScore:
    def test_role_means_are_weighted(self) -> None:
        result = score(metric(), full_set())
        entry = result["E1"]
        assert entry.value == Decimal("0.1") * 5 + Decimal("0.6") * 4 + Decimal("0.3") * 4
        assert [(r.role, r.raters, r.mean) for r in entry.roles] == [
            ("self", 1, Decimal(5)),
            ("manager", 1, Decimal(4)),
            ("peer", 3, Decimal(4)),
        ]

    def test_item_weights_make_the_role_mean(self) -> None:
        m = metric(roles={"peer": "100%"}, items={"a": "75%", "b": "25%"})
        ratings = [rating(p, "peer", v, item=i) for p in ("P1", "P2", "P3") for i, v in (("a", 4), ("b", 2))]
        ratings.append(rating("P4", "peer", 1, item="a"))  # item a: mean of 4, 4, 4, 1 = 13/4
        expected = Fraction(3, 4) * Fraction(13, 4) + Fraction(1, 4) * 2
        assert score(m, ratings)["E1"].value == fraction(expected)

    def test_items_a_role_did_not_rate_are_left_out_of_its_mean(self) -> None:
        m = metric(roles={"peer": "100%"}, items={"a": "75%", "b": "25%"})
        ratings = [rating(p, "peer", 2, item="b") for p in ("P1", "P2", "P3")]
        assert score(m, ratings)["E1"].value == 2

    def test_undeclared_items_weigh_the_same(self) -> None:
        m = metric(roles={"peer": "100%"})
        ratings = [rating(p, "peer", 3, item="a") for p in ("P1", "P2", "P3")] + [rating("P1", "peer", 5, item="b")]
        assert score(m, ratings)["E1"].value == 4

    def test_a_missing_role_is_renormalized_by_default(self) -> None:
        entry = score(metric(), full_set(peers=()))["E1"]
        assert entry.value == fraction(Fraction(29, 10) / Fraction(7, 10))
        assert [r.effective_weight for r in entry.roles] == [Fraction(1, 7), Fraction(6, 7), 0]
        assert entry.role("peer").status == "missing"

    def test_fail_names_the_ratee_and_the_role(self) -> None:
        with pytest.raises(DataError) as caught:
            score(metric(missing_role="fail"), full_set(peers=()))
        assert caught.value.employee_id == "E1" and caught.value.column == "peer"

    def test_fail_also_applies_to_a_role_dropped_below_the_threshold(self) -> None:
        with pytest.raises(DataError, match="2 rater.*fewer than the 3"):
            score(metric(missing_role="fail"), full_set(peers=(3, 4)))

    def test_zero_counts_a_missing_role_as_zero_at_its_weight(self) -> None:
        entry = score(metric(missing_role="zero"), full_set(peers=()))["E1"]
        assert entry.value == Decimal("2.9")
        assert entry.role("peer").effective_weight == Fraction(3, 10)

    def test_below_the_threshold_a_role_is_dropped_by_default(self) -> None:
        dropped = score(metric(), full_set(peers=(1, 1)))["E1"]
        missing = score(metric(), full_set(peers=()))["E1"]
        assert dropped.value == missing.value
        peer = dropped.role("peer")
        assert (peer.status, peer.counted, peer.raters, peer.mean) == ("below_threshold", False, 2, Decimal(1))

    def test_hide_keeps_a_role_below_the_threshold_in_the_value(self) -> None:
        entry = score(metric(below_threshold="hide"), full_set(peers=(1, 2)))["E1"]
        assert entry.value == Decimal("0.5") + Decimal("2.4") + Decimal("0.3") * Decimal("1.5")
        assert entry.role("peer").counted

    def test_a_role_threshold_overrides_the_metric_threshold(self) -> None:
        m = metric(roles={**ROLES, "peer": {"weight": "30%", "min_raters": 2}})
        assert score(m, full_set(peers=(1, 2)))["E1"].role("peer").status == "ok"

    def test_lineage_lists_the_records_of_counted_ratings_only(self) -> None:
        records = [
            record("s1", "E1", "self", 5),
            record("s2", "M1", "manager", 4),
            record("s3", "P1", "peer", 1),
            record("s4", "P2", "peer", 2),
        ]
        entry = score(metric(), records)["E1"]
        assert entry.lineage == (("survey", "s1"), ("survey", "s2"))

    def test_a_zero_weight_role_is_shown_but_changes_nothing(self) -> None:
        m = metric(roles={"self": "0%", "manager": "100%"})
        entry = score(m, [rating("E1", "self", 1), rating("M1", "manager", 4)])["E1"]
        assert entry.value == 4 and entry.role("self").mean == 1

    def test_ratees_without_ratings_follow_the_missing_role_policy(self) -> None:
        assert score(metric(), full_set(), ratees=["E2"])["E2"].value is None
        assert score(metric(), full_set(), ratees=["E2"])["E2"].note
        assert score(metric(missing_role="zero"), [], ratees=["E2"])["E2"].value == 0
        with pytest.raises(DataError) as caught:
            score(metric(missing_role="fail"), full_set(), ratees=["E2"])
        assert caught.value.employee_id == "E2"

    def test_places_round_the_exact_value_half_up(self) -> None:
        m = metric(roles={"peer": "100%"}, places=1)
        ratings = [rating(p, "peer", v) for p, v in (("P1", 1), ("P2", 1), ("P3", "1.1"), ("P4", "1.1"))]
        assert score(m, ratings)["E1"].value == Decimal("1.1")  # 1.05 exactly, half-up
        ratings = [rating(p, "peer", v) for p, v in (("P1", 1), ("P2", 1), ("P3", 2))]
        assert score(m, ratings)["E1"].value == Decimal("1.3")  # 4/3

    def test_a_period_keeps_the_ratings_given_in_it_and_lists_the_others(self) -> None:
        late = datetime(2026, 7, 2, tzinfo=timezone.utc)
        records = [
            record("s1", "E1", "self", 5),
            record("s2", "M1", "manager", 4),
            record("s9", "M1", "manager", 1, item="q2", at=late),
        ]
        result = score(metric(), records, parse_period("2026-Q2"))
        assert result["E1"].value == fraction(Fraction(29, 10) / Fraction(7, 10))
        assert [r.record for r in result.outside_period] == [("survey", "s9")]

    def test_a_period_needs_rating_times(self) -> None:
        with pytest.raises(DataError, match="no occurred_at"):
            score(metric(), full_set(), parse_period("2026-Q2"))

    def test_an_undeclared_role_is_refused(self) -> None:
        with pytest.raises(DataError, match="role 'customer'.*self, manager, peer"):
            score(metric(), [rating("C1", "customer", 3)])

    def test_an_undeclared_item_is_refused(self) -> None:
        with pytest.raises(DataError, match="item 'q9'.*rates a, b") as caught:
            score(metric(items=["a", "b"]), [record("s5", "M1", "manager", 4, item="q9")])
        assert "survey:s5" in str(caught.value)

    def test_a_rater_rating_the_same_item_twice_is_refused(self) -> None:
        with pytest.raises(
            DataError, match="rated this person twice on item 'q1' \\(records survey:s1 and survey:s2\\)"
        ):
            score(metric(), [record("s1", "P1", "peer", 4), record("s2", "P1", "peer", 5)])

    def test_a_rater_in_two_roles_is_refused(self) -> None:
        with pytest.raises(DataError, match="both as 'manager' and as 'peer'"):
            score(metric(), [rating("M1", "manager", 4, item="a"), rating("M1", "peer", 4, item="b")])

    def test_other_inputs_are_refused(self) -> None:
        with pytest.raises(DataError, match="Rating or a SourceRecord"):
            score(metric(), [{"rater": "P1"}])  # type: ignore[list-item]
        with pytest.raises(DataError, match="MultiRaterMetric"):
            score({"id": "x"}, [])  # type: ignore[arg-type]

    def test_results_are_sorted_by_ratee(self) -> None:
        result = score(metric(), full_set(ratee="E2") + full_set(ratee="E1"))
        assert list(result.values) == ["E1", "E2"] and len(result) == 2 and "E2" in result
        with pytest.raises(KeyError, match="E3"):
            result["E3"]


# -- anonymity -----------------------------------------------------------------------------

SECRET_PEERS = {"peer-张秘密": Decimal("3.7173"), "peer-李秘密": Decimal("1.2929")}
"""Two peers (below k = 3) whose ids and values must never reach the employee."""


def anonymity_case(**changes: Any) -> MultiRaterResult:
    m = metric(
        roles={
            "self": {"weight": "10%", "label": "自评"},
            "manager": {"weight": "60%", "label": "上级"},
            "peer": {"weight": "30%", "label": "同事"},
        },
        **changes,
    )
    ratings = [rating("E1", "self", 4), rating("mgr-王", "manager", "4.5")]
    ratings += [rating(rater, "peer", value) for rater, value in SECRET_PEERS.items()]
    return score(m, ratings)


def everything(result: MultiRaterResult, audience: str) -> str:
    return result.explain("E1", audience=audience) + result.to_json(audience=audience)  # type: ignore[arg-type]


class TestAnonymity:
    @pytest.mark.parametrize("policy", ["drop", "hide"])
    @pytest.mark.parametrize("audience", ["employee", "manager"])
    def test_protected_ratings_below_k_never_reach_employee_or_manager(self, policy: str, audience: str) -> None:
        shown = everything(anonymity_case(below_threshold=policy), audience)
        for rater, value in SECRET_PEERS.items():
            assert rater not in shown and str(value) not in shown
        assert "2.5051" not in shown  # the peers' mean (3.7173 + 1.2929) / 2

    def test_the_employee_sees_no_rater_id_at_all(self) -> None:
        shown = everything(anonymity_case(), "employee")
        assert "mgr-王" not in shown and "E1 on" not in shown
        assert "not enough raters" in shown and "上级" in shown

    def test_the_employee_sees_the_manager_rating_as_the_role_mean(self) -> None:
        view = anonymity_case().view("E1", audience="employee")
        manager = next(r for r in view["roles"] if r["role"] == "manager")
        assert manager["mean"] == Decimal("4.5") and "ratings" not in manager
        assert "lineage" not in view

    def test_the_employee_is_not_told_how_many_raters_a_hidden_role_had(self) -> None:
        view = anonymity_case().view("E1", audience="employee")
        peer = next(r for r in view["roles"] if r["role"] == "peer")
        assert peer == {
            "role": "peer",
            "label": "同事",
            "weight": "30%",
            "effective_weight": Decimal(0),
            "counted": False,
            "status": "not_enough_raters",
            "min_raters": 3,
        }

    def test_the_manager_sees_unprotected_ratings_and_the_count_of_a_hidden_role(self) -> None:
        view = anonymity_case().view("E1", audience="manager")
        manager = next(r for r in view["roles"] if r["role"] == "manager")
        peer = next(r for r in view["roles"] if r["role"] == "peer")
        assert [r["rater"] for r in manager["ratings"]] == ["mgr-王"]
        assert peer["raters"] == 2 and "mean" not in peer

    def test_the_manager_never_sees_protected_rater_ids_even_above_k(self) -> None:
        result = score(metric(), full_set(peers=(3, 4, 5)))
        shown = everything(result, "manager")
        assert "M1" in shown and not any(p in shown for p in ("P1", "P2", "P3"))
        peer = result.view("E1", audience="manager")["roles"][2]
        assert peer["mean"] == 4 and peer["raters"] == 3 and "ratings" not in peer

    def test_hr_sees_every_rating_and_rater(self) -> None:
        shown = everything(anonymity_case(), "hr")
        for rater, value in SECRET_PEERS.items():
            assert rater in shown and str(value) in shown

    def test_the_value_is_withheld_when_hidden_roles_counting_in_it_have_fewer_than_k_raters(self) -> None:
        result = anonymity_case(below_threshold="hide")
        assert result["E1"].value is not None
        assert result.view("E1", audience="hr")["value"] == result["E1"].value
        for audience in ("manager", "employee"):
            view = result.view("E1", audience=audience)  # type: ignore[arg-type]
            assert view["value"] is None and view["note"].startswith("withheld")
            assert str(result["E1"].value) not in everything(result, audience)

    def test_the_value_is_shown_when_hidden_roles_have_k_raters_together(self) -> None:
        m = metric(roles={"manager": "50%", "peer": "25%", "report": "25%"}, below_threshold="hide")
        ratings = [
            rating("M1", "manager", 4),
            rating("P1", "peer", 3),
            rating("P2", "peer", 5),
            rating("R1", "report", 2),
            rating("R2", "report", 4),
        ]
        result = score(m, ratings)
        view = result.view("E1", audience="employee")
        assert view["value"] == Decimal("3.75") and all(r["status"] == "not_enough_raters" for r in view["roles"][1:])

    def test_item_means_of_a_protected_role_are_hidden_when_an_item_has_fewer_than_k_raters(self) -> None:
        ratings = [rating("M1", "manager", 4, item="a")]
        ratings += [rating(p, "peer", 4, item="a") for p in ("P1", "P2", "P3")]
        ratings.append(rating("P1", "peer", "2.3456", item="b"))  # one peer answered b
        result = score(metric(roles={"manager": "50%", "peer": "50%"}), ratings)
        view = result.view("E1", audience="employee")
        peer = view["roles"][1]
        assert peer["status"] == "ok" and "items" not in peer
        assert "2.3456" not in everything(result, "employee")
        assert "items" in result.view("E1", audience="hr")["roles"][1]

    def test_an_unknown_audience_is_refused(self) -> None:
        with pytest.raises(DataError, match="unknown audience 'ceo'"):
            anonymity_case().explain("E1", audience="ceo")  # type: ignore[arg-type]

    def test_to_json_covers_every_ratee_or_one(self) -> None:
        result = score(metric(), full_set(ratee="E1") + full_set(ratee="E2"))
        assert [v["ratee"] for v in json.loads(result.to_json(audience="hr"))] == ["E1", "E2"]
        one = json.loads(result.to_json(audience="employee", ratee="E2"))
        assert one["ratee"] == "E2" and one["value"] == "4.1" and one["audience"] == "employee"

    def test_the_text_states_the_score_and_each_role(self) -> None:
        text = score(
            metric(),
            full_set(peers=()),
        ).explain("E1", audience="employee")
        assert "score: 4.14" in text
        assert "manager: mean 4 (1 rater); weight 60%, counted at 85.71%" in text
        assert "peer: no ratings; weight 30%, not counted" in text


# -- properties ----------------------------------------------------------------------------

ROLE_IDS = ("self", "manager", "peer", "report")


@st.composite
def metrics_and_ratings(draw: st.DrawFn) -> tuple[MultiRaterMetric, list[Rating]]:
    units = draw(st.lists(st.integers(0, 10), min_size=4, max_size=4).filter(lambda u: sum(u) > 0))
    total = sum(units)
    # Exact percentages summing to 100%: the last role takes the remainder.
    cents = [u * 10000 // total for u in units[:-1]]
    cents.append(10000 - sum(cents))
    roles = {role: f"{Decimal(c) / 100}%" for role, c in zip(ROLE_IDS, cents, strict=True)}
    m = MultiRaterMetric(
        id="p360",
        roles=roles,
        below_threshold=draw(st.sampled_from(["drop", "hide"])),
        min_raters=draw(st.integers(1, 4)),
    )
    ratings = []
    for ratee in draw(st.lists(st.sampled_from(["E1", "E2", "E3"]), min_size=1, max_size=3, unique=True)):
        for role in ROLE_IDS:
            raters = 1 if role in ("self", "manager") else draw(st.integers(0, 5))
            for index in range(raters if role != "self" else draw(st.integers(0, 1))):
                rater = ratee if role == "self" else f"{ratee}-{role}-{index}"
                for item in draw(st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=2, unique=True)):
                    ratings.append(rating(rater, role, draw(st.integers(1, 50)) / Decimal(10), ratee=ratee, item=item))
    return m, ratings


class TestProperties:
    @settings(max_examples=150, deadline=None)
    @given(metrics_and_ratings())
    def test_effective_weights_sum_to_exactly_one_when_anything_counts(
        self, case: tuple[MultiRaterMetric, list[Rating]]
    ) -> None:
        m, ratings = case
        for entry in score(m, ratings):
            weights = [role.effective_weight for role in entry.roles]
            if entry.value is None:
                assert sum(weights) == 0
            else:
                assert sum(weights) == 1
                assert all(w == 0 for w, r in zip(weights, entry.roles, strict=True) if not r.counted)

    @settings(max_examples=100, deadline=None)
    @given(metrics_and_ratings(), st.randoms(use_true_random=False))
    def test_the_result_does_not_depend_on_the_order_of_ratings(
        self, case: tuple[MultiRaterMetric, list[Rating]], rng: random.Random
    ) -> None:
        m, ratings = case
        shuffled = list(ratings)
        rng.shuffle(shuffled)
        first, second = score(m, ratings), score(m, shuffled)
        assert first == second
        for audience in AUDIENCES:
            assert first.to_json(audience=audience) == second.to_json(audience=audience)

    @settings(max_examples=100, deadline=None)
    @given(st.integers(1, 60), st.integers(1, 6), st.sampled_from(["renormalize", "zero"]))
    def test_equal_ratings_give_that_value(self, tenths: int, peers: int, policy: str) -> None:
        value = Decimal(tenths) / 10
        m = metric(min_raters=1, missing_role=policy)
        ratings = [rating("E1", "self", value), rating("M1", "manager", value)]
        ratings += [rating(f"P{i}", "peer", value, item=item) for i in range(peers) for item in ("a", "b")]
        entry = score(m, ratings)["E1"]
        assert all(role.mean == value for role in entry.roles)
        assert entry.value == value

    @settings(max_examples=150, deadline=None)
    @given(metrics_and_ratings())
    def test_no_protected_rating_below_k_reaches_the_employee(
        self, case: tuple[MultiRaterMetric, list[Rating]]
    ) -> None:
        m, ratings = case
        # Give every protected rating a value no other figure can spell: 7 distinctive digits.
        marked = [
            r
            if not m.is_protected(r.role)
            else rating(r.rater, r.role, Decimal(f"{i % 5 + 1}.7313{i:03d}1"), ratee=r.ratee, item=r.item)
            for i, r in enumerate(ratings)
        ]
        result = score(m, marked)
        for entry in result:
            shown = result.explain(entry.ratee, audience="employee") + result.to_json(
                audience="employee", ratee=entry.ratee
            )
            for role in entry.roles:
                if m.is_protected(role.role) and role.raters < role.min_raters:
                    for r in role.ratings:
                        assert r.rater not in shown
                        assert str(r.value) not in shown
            assert not any(r.rater in shown for role in entry.roles for r in role.ratings if r.rater != entry.ratee)

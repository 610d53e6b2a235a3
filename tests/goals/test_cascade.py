"""Cascading a parent's target to its children: exact sums, shares, ties, applying."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.errors import GoalGraphError
from perfkit.goals import GoalGraph
from perfkit.goals.cascade import Cascade, cascade, cascade_tree

REGIONS = ("east", "north", "south")


def region(goal_id: str, *, target: object = 1, weight: object = None, **extra: Any) -> dict[str, Any]:
    link: dict[str, Any] = {"goal": "revenue"} if weight is None else {"goal": "revenue", "weight": weight}
    return {
        "id": goal_id, "title": goal_id, "kind": "key_result", "owner": f"team:{goal_id}", "period": "2026",
        "target": target, "contributes_to": [link], **extra,
    }


def revenue(**extra: Any) -> dict[str, Any]:
    data = {"id": "revenue", "title": "收入 5000 万", "owner": "org", "period": "2026", "rollup": "sum",
            "target": 50_000_000}
    return {**data, **extra}


def graph_of(*goals: dict[str, Any]) -> GoalGraph:
    return GoalGraph.from_dict({"perfkit_goals": 1, "calendar": {"tz": "Asia/Shanghai"}, "goals": list(goals)})


@pytest.fixture
def regions() -> GoalGraph:
    return graph_of(revenue(), *(region(r) for r in REGIONS))


# -- strategies ---------------------------------------------------------------------------------

UNITS = st.sampled_from([Decimal(1), Decimal(10_000), Decimal("0.01"), Decimal(500), Decimal(3)])
CHILD_IDS = [f"kr{n}" for n in range(8)]
WIDE = graph_of(revenue(), *(region(c) for c in CHILD_IDS))


@st.composite
def splits(draw: st.DrawFn) -> tuple[list[str], dict[str, int], Decimal, Decimal]:
    """Some children of WIDE, non-negative actuals (not all 0), a unit and a whole amount of it."""
    kids = draw(st.lists(st.sampled_from(CHILD_IDS), min_size=1, max_size=8, unique=True))
    actuals = {k: draw(st.integers(0, 10**9)) for k in kids}
    if not any(actuals.values()):
        actuals[kids[0]] = 1
    unit = draw(UNITS)
    amount = unit * draw(st.integers(0, 10**9))
    return kids, actuals, unit, amount


@st.composite
def percentages(draw: st.DrawFn, kids: list[str]) -> dict[str, Decimal]:
    """Shares in basis points summing to exactly 100%."""
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=len(kids) - 1, max_size=len(kids) - 1)))
    bounds = [0, *cuts, 10_000]
    return {k: Decimal(bounds[n + 1] - bounds[n]) / 10_000 for n, k in enumerate(kids)}


class TestCascadeIsExact:
    """The children's targets sum to the parent's exactly, in whole units, whatever the order."""

    @settings(max_examples=150, deadline=None)
    @given(splits(), st.randoms(use_true_random=False))
    def test_targets_sum_to_the_amount_in_whole_units(self, case: Any, random: Any) -> None:
        kids, actuals, unit, amount = case
        result = cascade(WIDE, "revenue", children=kids, actuals=actuals, unit=unit, amount=amount)
        assert sum(result.targets.values()) == amount
        assert all(t % unit == 0 and t >= 0 for t in result.targets.values())
        assert set(result.targets) == set(kids)
        exact = result.fractions()
        for kid, target in result.targets.items():
            assert abs(Fraction(target) - exact[kid] * Fraction(amount)) < Fraction(unit)
        shuffled = list(kids)
        random.shuffle(shuffled)
        again = cascade(
            WIDE, "revenue", children=shuffled, actuals={k: actuals[k] for k in shuffled}, unit=unit, amount=amount
        )
        assert dict(again.targets) == dict(result.targets)

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.sampled_from(CHILD_IDS), min_size=1, max_size=8, unique=True), st.integers(1, 10**6), st.data())
    def test_file_order_does_not_matter(self, kids: list[str], units: int, data: st.DataObject) -> None:
        shares = data.draw(percentages(kids))
        order = data.draw(st.permutations(kids))
        first = graph_of(revenue(target=units * 10_000), *(region(k) for k in kids))
        second = graph_of(*(region(k) for k in order), revenue(target=units * 10_000))
        one = cascade(first, "revenue", shares=shares, unit=10_000)
        two = cascade(second, "revenue", shares={k: shares[k] for k in order}, unit=10_000)
        assert dict(one.targets) == dict(two.targets)
        assert sum(one.targets.values()) == units * 10_000


class TestEqualShares:
    def test_5000_units_over_3_regions_give_the_extra_unit_to_the_earlier_ids(self, regions: GoalGraph) -> None:
        """5,000 units / 3 = 1,666⅔ each: two units are left over, every remainder is equal."""
        result = cascade(regions, "revenue", unit=10_000)
        assert result.basis == "equal"
        assert dict(result.targets) == {
            "east": Decimal(1667 * 10_000), "north": Decimal(1667 * 10_000), "south": Decimal(1666 * 10_000)
        }

    def test_a_tie_goes_to_the_earlier_id_whatever_the_file_order(self) -> None:
        graph = graph_of(region("b"), region("a"), revenue(target=3))
        result = cascade(graph, "revenue", children=["b", "a"], unit=2, amount=2)
        assert dict(result.targets) == {"a": Decimal(2), "b": Decimal(0)}

    def test_the_children_come_ordered_by_id(self) -> None:
        graph = graph_of(revenue(), region("south"), region("east"), region("north"))
        assert cascade(graph, "revenue", unit=10_000).children == ("east", "north", "south")

    def test_archived_children_are_left_out(self) -> None:
        graph = graph_of(revenue(), region("east"), region("north", status="archived"), region("south"))
        result = cascade(graph, "revenue", unit=10_000)
        assert result.children == ("east", "south")
        assert result.targets["east"] == Decimal(25_000_000)


class TestExplicitShares:
    def test_percent_text_floats_and_decimals_are_read_exactly(self, regions: GoalGraph) -> None:
        result = cascade(regions, "revenue", shares={"east": "40%", "north": 0.35, "south": Decimal("0.25")},
                         unit=10_000)
        assert result.basis == "shares"
        assert dict(result.targets) == {
            "east": Decimal(20_000_000), "north": Decimal(17_500_000), "south": Decimal(12_500_000)
        }

    def test_shares_that_do_not_sum_to_one_name_the_goals_and_the_sum(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as caught:
            cascade(regions, "revenue", shares={"east": "40%", "north": "35%", "south": "20%"})
        assert caught.value.goals == ("revenue", "east", "north", "south")
        assert "sum to 95%" in caught.value.message
        assert "east 40%, north 35%, south 20%" in caught.value.message

    def test_float_noise_is_not_forgiven(self, regions: GoalGraph) -> None:
        """0.1 + 0.2 + 0.7 is exactly 1 as written, and 0.3333 × 3 is not."""
        assert cascade(regions, "revenue", shares={"east": 0.1, "north": 0.2, "south": 0.7}).amount == 50_000_000
        with pytest.raises(GoalGraphError, match="99.99%"):
            cascade(regions, "revenue", shares=dict.fromkeys(REGIONS, "0.3333"))

    def test_every_child_needs_a_share_and_no_stranger_gets_one(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as caught:
            cascade(regions, "revenue", shares={"east": "50%", "north": "50%", "west": "0%"})
        text = str(caught.value)
        assert "no share is given for 'south'" in text
        assert "not cascaded from 'revenue': west" in text

    def test_a_negative_or_non_numeric_share_is_refused(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="share of 'east' is negative"):
            cascade(regions, "revenue", shares={"east": "-10%", "north": "60%", "south": "50%"})
        with pytest.raises(GoalGraphError, match="share of 'east' is not a number"):
            cascade(regions, "revenue", shares={"east": "lots", "north": "60%", "south": "40%"})

    def test_shares_and_actuals_together_are_ambiguous(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="not both"):
            cascade(regions, "revenue", shares={"east": 1, "north": 0, "south": 0}, actuals=dict.fromkeys(REGIONS, 1))


class TestWeightShares:
    def test_the_contributes_edge_weights_are_the_shares(self) -> None:
        graph = graph_of(revenue(), region("east", weight="50%"), region("north", weight="30%"),
                         region("south", weight="20%"))
        result = cascade(graph, "revenue", shares="weights", unit=10_000)
        assert dict(result.shares) == {"east": Decimal("0.5"), "north": Decimal("0.3"), "south": Decimal("0.2")}
        assert dict(result.targets) == {
            "east": Decimal(25_000_000), "north": Decimal(15_000_000), "south": Decimal(10_000_000)
        }

    def test_children_without_weights_are_an_error(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="carry no weights") as caught:
            cascade(regions, "revenue", shares="weights")
        assert caught.value.goals == ("revenue", *REGIONS)

    def test_an_unknown_mode_is_named(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="unknown shares 'weight'"):
            cascade(regions, "revenue", shares="weight")  # type: ignore[arg-type]


class TestActualShares:
    def test_last_periods_actuals_split_proportionally(self, regions: GoalGraph) -> None:
        """Actuals 30M/15M/5M are 60%/30%/10% of 50M."""
        result = cascade(regions, "revenue", actuals={"east": 30e6, "north": "15000000", "south": 5_000_000},
                         unit=10_000)
        assert result.basis == "actuals"
        assert dict(result.targets) == {
            "east": Decimal(30_000_000), "north": Decimal(15_000_000), "south": Decimal(5_000_000)
        }

    def test_all_zero_actuals_give_no_proportion(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="every actual .* is 0"):
            cascade(regions, "revenue", actuals=dict.fromkeys(REGIONS, 0))

    def test_actuals_mode_needs_actuals(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="needs actuals"):
            cascade(regions, "revenue", shares="actuals")
        with pytest.raises(GoalGraphError, match="only read with shares='actuals'"):
            cascade(regions, "revenue", shares="equal", actuals=dict.fromkeys(REGIONS, 1))

    def test_a_missing_or_negative_actual_is_named(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError) as caught:
            cascade(regions, "revenue", actuals={"east": 5, "north": -1})
        assert [p.goals for p in caught.value.problems] == [("revenue", "north"), ("revenue", "south")]


class TestTheAmount:
    def test_a_target_that_is_not_whole_units_names_the_nearest_valid_amounts(self) -> None:
        graph = graph_of(revenue(target=50_003_000), *(region(r) for r in REGIONS))
        with pytest.raises(GoalGraphError) as caught:
            cascade(graph, "revenue", unit=10_000)
        assert caught.value.goals == ("revenue",)
        assert "50,000,000 and 50,010,000" in caught.value.message

    def test_the_target_in_force_on_as_of_is_split(self) -> None:
        revision = {"effective": "2026-07-01", "target": 60_000_000, "reason": "市场变化", "proposed_by": "2001",
                    "state": "approved", "decided_by": "1001", "decided_at": "2026-06-20"}
        graph = graph_of(revenue(revisions=[revision]), *(region(r) for r in REGIONS))
        assert cascade(graph, "revenue", as_of="2026-06-30").amount == 50_000_000
        assert cascade(graph, "revenue", as_of=datetime.date(2026, 7, 1)).amount == 60_000_000
        assert cascade(graph, "revenue").amount == 50_000_000

    def test_an_explicit_amount_overrides_the_target(self, regions: GoalGraph) -> None:
        assert sum(cascade(regions, "revenue", amount="300", unit=100).targets.values()) == 300

    def test_a_parent_without_target_is_an_error(self) -> None:
        graph = graph_of({"id": "revenue", "title": "t", "owner": "org", "period": "2026"}, region("east"))
        with pytest.raises(GoalGraphError, match="no target to cascade"):
            cascade(graph, "revenue")

    def test_bad_units_and_negative_amounts_are_refused(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="must be positive"):
            cascade(regions, "revenue", unit=0)
        with pytest.raises(GoalGraphError, match="not a number"):
            cascade(regions, "revenue", unit="ten")
        with pytest.raises(GoalGraphError, match="negative"):
            cascade(regions, "revenue", amount=-10)

    def test_a_highest_averages_method_is_passed_through(self, regions: GoalGraph) -> None:
        result = cascade(regions, "revenue", unit=10_000, method="dhondt", shares={"east": "50%", "north": "30%",
                                                                                  "south": "20%"})
        assert result.method == "dhondt"
        assert sum(result.targets.values()) == 50_000_000


class TestChildren:
    def test_an_explicit_child_must_contribute_to_the_parent(self) -> None:
        graph = graph_of(revenue(), region("east"), {**region("west"), "contributes_to": []})
        with pytest.raises(GoalGraphError, match="'west' does not contribute to 'revenue'"):
            cascade(graph, "revenue", children=["east", "west"])

    def test_unknown_goals_get_a_did_you_mean(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="did you mean 'revenue'"):
            cascade(regions, "revenu")
        with pytest.raises(GoalGraphError, match="did you mean 'east'"):
            cascade(regions, "revenue", children=["eats"])

    def test_a_child_listed_twice_is_an_error(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="listed twice"):
            cascade(regions, "revenue", children=["east", "east"])

    def test_a_goal_without_children_has_nothing_to_cascade(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="nothing to cascade"):
            cascade(regions, "east")


class TestApply:
    def test_without_effective_the_targets_are_set(self, regions: GoalGraph) -> None:
        result = cascade(regions, "revenue", unit=10_000, shares={"east": "60%", "north": "25%", "south": "15%"})
        applied = result.apply(regions, replace=True)
        assert {r: applied[r].target for r in REGIONS} == dict(result.targets)
        assert regions["east"].target == 1, "the input graph is left as it was"
        assert applied.rollup("2026-12-31")["revenue"].target == 50_000_000

    def test_a_different_existing_target_needs_replace(self, regions: GoalGraph) -> None:
        result = cascade(regions, "revenue", unit=10_000)
        with pytest.raises(GoalGraphError) as caught:
            result.apply(regions)
        assert [p.goals for p in caught.value.problems] == [("east",), ("north",), ("south",)]
        assert "replace=True" in caught.value.problems[0].message

    def test_children_without_a_target_get_one(self) -> None:
        objective = {"id": "east", "title": "East", "owner": "team:east", "period": "2026",
                     "contributes_to": ["revenue"]}
        kr = {"id": "east-kr", "title": "k", "kind": "key_result", "owner": "team:east", "period": "2026",
              "target": 5, "contributes_to": ["east"]}
        graph = graph_of(revenue(rollup="weighted_average"), objective, kr)
        assert graph["east"].target is None
        applied = cascade(graph, "revenue").apply(graph)
        assert applied["east"].target == 50_000_000

    def test_with_effective_each_changed_child_gets_a_proposed_revision(self) -> None:
        graph = graph_of(revenue(), region("east", target=30_000_000), region("south", target=20_000_000))
        result = cascade(graph, "revenue", shares={"east": "70%", "south": "30%"}, unit=10_000)
        proposed = result.apply(graph, effective="2026-07-01", reason="市场变化", proposed_by="2001")
        (revision,) = proposed["east"].revisions
        assert (revision.state, revision.target, revision.reason) == ("proposed", Decimal(35_000_000), "市场变化")
        assert proposed.rollup("2026-08-01")["east"].target == 30_000_000, "a proposal does not apply"
        approved = proposed.approve("east", by="1001", at="2026-06-25").approve("south", by="1001", at="2026-06-25")
        assert approved.rollup("2026-08-01")["east"].target == 35_000_000
        assert approved.rollup("2026-08-01")["south"].target == 15_000_000

    def test_children_whose_target_does_not_change_get_no_revision(self) -> None:
        graph = graph_of(revenue(), region("east", target=25_000_000), region("south", target=20_000_000))
        proposed = cascade(graph, "revenue").apply(graph, effective="2026-07-01", reason="r", proposed_by="2001")
        assert proposed["east"].revisions == ()
        assert len(proposed["south"].revisions) == 1

    def test_a_revision_says_why_and_who(self, regions: GoalGraph) -> None:
        result = cascade(regions, "revenue")
        with pytest.raises(GoalGraphError, match="give reason and proposed_by"):
            result.apply(regions, effective="2026-07-01")
        with pytest.raises(GoalGraphError, match="give effective= too"):
            result.apply(regions, reason="r", replace=True)

    def test_a_revision_before_the_goal_exists_is_refused_by_the_graph(self, regions: GoalGraph) -> None:
        with pytest.raises(GoalGraphError, match="before the goal exists"):
            cascade(regions, "revenue").apply(regions, effective="2025-12-01", reason="r", proposed_by="2001")

    def test_applying_to_a_graph_without_the_children_is_an_error(self, regions: GoalGraph) -> None:
        result = cascade(regions, "revenue")
        other = graph_of(revenue(), region("east"))
        with pytest.raises(GoalGraphError, match="no goal 'north'"):
            result.apply(other, replace=True)


class TestCascadeTree:
    @pytest.fixture
    def tree(self) -> GoalGraph:
        people = [
            {"id": f"{r}-{n}", "title": "p", "kind": "key_result", "owner": f"person:{r}{n}", "period": "2026",
             "target": 1, "contributes_to": [r]}
            for r in ("east", "south") for n in (1, 2, 3)
        ]
        return graph_of(revenue(), region("east", target=1), region("south", target=1), *people)

    def test_each_level_sums_to_the_target_the_level_above_got(self, tree: GoalGraph) -> None:
        result = cascade_tree(tree, "revenue", unit=[10_000, 1_000])
        assert [step.parent for step in result.cascades] == ["revenue", "east", "south"]
        targets = result.targets
        assert targets["east"] + targets["south"] == 50_000_000
        for top in ("east", "south"):
            assert sum(targets[f"{top}-{n}"] for n in (1, 2, 3)) == targets[top]
            assert all(targets[f"{top}-{n}"] % 1_000 == 0 for n in (1, 2, 3))
        applied = result.apply(tree, replace=True)
        assert applied.rollup("2026-12-31")["east"].target == targets["east"]

    def test_a_shorter_unit_list_stops_early(self, tree: GoalGraph) -> None:
        result = cascade_tree(tree, "revenue", unit=["10000"])
        assert [step.parent for step in result.cascades] == ["revenue"]

    def test_a_goal_under_two_cascaded_parents_is_refused(self, tree: GoalGraph) -> None:
        shared = tree.link("east-1", "south")
        with pytest.raises(GoalGraphError, match="two targets") as caught:
            cascade_tree(shared, "revenue", unit=[10_000, 1_000])
        assert caught.value.goals == ("east-1", "east", "south")

    def test_actuals_cover_every_level(self, tree: GoalGraph) -> None:
        actuals = {"east": 3, "south": 1, **{f"{r}-{n}": n for r in ("east", "south") for n in (1, 2, 3)}}
        result = cascade_tree(tree, "revenue", unit=[10_000, 1_000], shares="actuals", actuals=actuals)
        assert result.targets["east"] == 37_500_000
        with pytest.raises(GoalGraphError, match="no actual is given for 'south-3'"):
            cascade_tree(tree, "revenue", unit=[10_000, 1_000], shares="actuals",
                         actuals={k: v for k, v in actuals.items() if k != "south-3"})


class TestViews:
    def test_text_shows_each_child_its_share_and_the_total(self, regions: GoalGraph) -> None:
        text = cascade(regions, "revenue", unit=10_000, shares={"east": "50%", "north": "30%", "south": "20%"}).to_text()
        lines = text.splitlines()
        assert lines[0] == "revenue: 50,000,000 split by shares at a unit of 10,000 (largest remainder)"
        assert lines[1].split() == ["east", "50.0%", "25,000,000"]
        assert lines[-1].split() == ["total", "50,000,000"]

    def test_the_heading_says_how_the_amount_was_split(self, regions: GoalGraph) -> None:
        heading = cascade(regions, "revenue", unit=10_000).to_text().splitlines()[0]
        assert heading == "revenue: 50,000,000 split equally at a unit of 10,000 (largest remainder)"

    def test_to_dict_is_plain_text_data(self, regions: GoalGraph) -> None:
        data = cascade(regions, "revenue", unit="0.5", amount="1.5").to_dict()
        assert data["targets"] == {"east": "0.5", "north": "0.5", "south": "0.5"}
        assert (data["amount"], data["unit"], data["basis"]) == ("1.5", "0.5", "equal")

    def test_a_cascade_is_frozen(self, regions: GoalGraph) -> None:
        result = cascade(regions, "revenue")
        assert isinstance(result, Cascade)
        with pytest.raises(TypeError):
            result.targets["east"] = Decimal(0)  # type: ignore[index]

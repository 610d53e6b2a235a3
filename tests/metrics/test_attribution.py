"""Attribution: owners, exact split shares, and roll-ups through the org roster."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from perfkit.errors import DataError, SchemeError
from perfkit.metrics.attribution import Attribution, attribute
from perfkit.metrics.records import SourceRecord
from perfkit.org import Roster

WHEN = datetime(2026, 5, 6, 10, 0, tzinfo=timezone.utc)

# 销售中心 (sales) ⊃ 华东销售部 (east) ⊃ 上海组 (shanghai); 华南销售部 (south) sits directly under sales.
ROSTER = Roster.from_records(
    employees=[
        {"id": "2001", "name": "赵总", "unit": "sales", "role": "director"},
        {"id": "1000", "name": "王芳", "manager": "2001", "unit": "east", "role": "manager"},
        {"id": "1001", "name": "李雷", "manager": "1000", "unit": "shanghai", "role": "sales"},
        {"id": "1002", "name": "韩梅梅", "manager": "1000", "unit": "east", "role": "sales"},
        {"id": "1003", "name": "张伟", "manager": "2001", "unit": "south", "role": "sales"},
    ],
    units=[
        {"id": "sales", "name": "销售中心"},
        {"id": "east", "name": "华东销售部", "parent": "sales"},
        {"id": "shanghai", "name": "上海组", "parent": "east"},
        {"id": "south", "name": "华南销售部", "parent": "sales"},
    ],
)


def record(**fields: Any) -> SourceRecord:
    return SourceRecord.create(source="crm", record_id="OPP-7", entity="opportunity", occurred_at=WHEN, fields=fields)


def split_of(*pairs: tuple[str, object]) -> SourceRecord:
    return record(Splits=[{"employee": who, "share": share} for who, share in pairs])


OWNER = Attribution(owner="OwnerId")
SPLIT = Attribution(split="Splits")


class TestDeclaration:
    def test_exactly_one_of_owner_and_split(self) -> None:
        with pytest.raises(ValidationError, match="exactly one of owner"):
            Attribution()
        with pytest.raises(ValidationError, match="exactly one of owner"):
            Attribution(owner="a", split="b")

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"owner": "o", "up": 1}, "give team: unit or team: manager"),
            ({"owner": "o", "team": "role", "up": 1}, "not 'role'"),
            ({"owner": "o", "team": "manager", "level": 1}, "use it with team: unit"),
            ({"owner": "o", "team": "unit", "level": 1, "up": 1}, "not both"),
        ],
    )
    def test_climbing_options_fit_the_roll_up(self, data: dict[str, Any], message: str) -> None:
        with pytest.raises(SchemeError, match=message):
            Attribution.parse(data)

    def test_parse_names_the_field_of_an_unknown_key(self) -> None:
        with pytest.raises(SchemeError) as raised:
            Attribution.parse({"owner": "OwnerId", "tema": "unit"}, path="metrics.sales.attribution")
        assert raised.value.path == "metrics.sales.attribution.tema"

    def test_parse_reports_every_problem(self) -> None:
        with pytest.raises(SchemeError, match="2 problems") as raised:
            Attribution.parse({"owner": "", "up": -1})
        assert len(raised.value.problems) == 2

    def test_declarations_are_frozen(self) -> None:
        with pytest.raises(ValidationError):
            OWNER.owner = "x"  # type: ignore[misc]


class TestOwner:
    def test_the_owner_gets_the_whole_record(self) -> None:
        assert attribute(record(OwnerId="1001"), OWNER) == (("1001", Decimal(1)),)

    def test_a_whole_number_id_is_read_as_text(self) -> None:
        assert attribute(record(OwnerId=1001), OWNER) == (("1001", Decimal(1)),)

    @pytest.mark.parametrize("value", [1001.0, "1001.0", "1.001e3"])
    def test_a_float_looking_id_is_refused(self, value: object) -> None:
        with pytest.raises(DataError, match="looks like a number read as a float") as raised:
            attribute(record(OwnerId=value), OWNER)
        assert (raised.value.path, raised.value.column) == ("record crm:OPP-7", "OwnerId")

    @pytest.mark.parametrize("value", [None, " ", True])
    def test_an_empty_or_odd_owner_is_refused(self, value: object) -> None:
        with pytest.raises(DataError, match="employee id") as raised:
            attribute(record(OwnerId=value), OWNER)
        assert raised.value.column == "OwnerId"

    def test_a_missing_owner_field_names_the_record_and_field(self) -> None:
        with pytest.raises(DataError, match="is missing") as raised:
            attribute(record(Owner="1001"), OWNER)
        assert (raised.value.path, raised.value.column) == ("record crm:OPP-7", "OwnerId")

    def test_an_owner_not_in_the_roster_is_named(self) -> None:
        with pytest.raises(DataError, match="employee '9999' is not in the org roster") as raised:
            attribute(record(OwnerId="9999"), OWNER, ROSTER)
        assert raised.value.path == "record crm:OPP-7"


class TestSplit:
    def test_a_sixty_forty_split(self) -> None:
        assert attribute(split_of(("1002", 0.4), ("1001", 0.6)), SPLIT) == (
            ("1001", Decimal("0.6")),
            ("1002", Decimal("0.4")),
        )

    def test_percentages_and_a_mapping(self) -> None:
        shares = attribute(record(Splits={"1001": "60%", "1002": "40%"}), SPLIT)
        assert shares == (("1001", Decimal("0.6")), ("1002", Decimal("0.4")))

    def test_custom_keys(self) -> None:
        declared = Attribution(split="Team", employee_key="OwnerId", share_key="SplitPercentage")
        data = record(
            Team=[{"OwnerId": "1001", "SplitPercentage": "75%"}, {"OwnerId": "1003", "SplitPercentage": "25%"}]
        )
        assert attribute(data, declared) == (("1001", Decimal("0.75")), ("1003", Decimal("0.25")))

    @pytest.mark.parametrize(
        "pairs",
        [(("1001", 0.6), ("1002", 0.3)), (("1001", "1/3"), ("1002", "2/3")), (("1001", 0.5), ("1002", 0.5000001))],
    )
    def test_shares_that_do_not_sum_to_exactly_one_name_the_record(self, pairs: tuple[tuple[str, object], ...]) -> None:
        with pytest.raises(DataError, match="record crm:OPP-7") as raised:
            attribute(split_of(*pairs), SPLIT)
        assert raised.value.column == "Splits"

    def test_the_sum_is_given_in_the_message(self) -> None:
        with pytest.raises(DataError, match=r"sum to 0\.9, not exactly 1 \(1001 0\.6, 1002 0\.3\)"):
            attribute(split_of(("1001", 0.6), ("1002", 0.3)), SPLIT)

    def test_thirds_cannot_be_written_exactly(self) -> None:
        with pytest.raises(DataError, match="sum to 0.9999"):
            attribute(split_of(("1001", "0.3333"), ("1002", "0.3333"), ("1003", "0.3333")), SPLIT)

    @pytest.mark.parametrize(
        ("splits", "message"),
        [
            ([{"employee": "1001", "share": 1.2}, {"employee": "1002", "share": -0.2}], "between 0 and 1"),
            ([{"employee": "1001", "share": 0.5}, {"employee": "1001", "share": 0.5}], "appears twice"),
            ([{"employee": "1001"}], "no 'share'"),
            (["1001"], "a split line is a mapping"),
            ([], "the split is empty"),
            ("1001", "a split is a list"),
            ([{"employee": "1001", "share": "lots"}], "not a number"),
        ],
    )
    def test_bad_splits_say_what_is_wrong(self, splits: object, message: str) -> None:
        with pytest.raises(DataError, match=message) as raised:
            attribute(record(Splits=splits), SPLIT)
        assert raised.value.path == "record crm:OPP-7"

    @given(st.lists(st.integers(1, 1000), min_size=1, max_size=6))
    def test_exact_shares_come_back_summing_to_one(self, weights: list[int]) -> None:
        """Shares in basis points (the last one takes the remainder) always sum to exactly 1."""
        total = sum(weights)
        points = [w * 10000 // total for w in weights[:-1]]
        points.append(10000 - sum(points))
        shares = [Decimal(p).scaleb(-4) for p in points]
        pairs = {f"E{i:02d}": share for i, share in enumerate(shares)}
        result = attribute(record(Splits=pairs), SPLIT)
        assert sum((share for _, share in result), Decimal(0)) == 1
        assert [who for who, _ in result] == sorted(pairs)
        assert dict(result) == pairs


class TestTeamRollUp:
    def test_team_unit_attributes_to_the_owners_unit(self) -> None:
        assert attribute(record(OwnerId="1001"), Attribution(owner="OwnerId", team="unit"), ROSTER) == (
            ("shanghai", Decimal(1)),
        )
        assert attribute(record(OwnerId="1001"), Attribution(owner="OwnerId", team="department"), ROSTER) == (
            ("shanghai", Decimal(1)),
        )

    @pytest.mark.parametrize(("up", "unit"), [(0, "shanghai"), (1, "east"), (2, "sales")])
    def test_up_climbs_the_unit_tree(self, up: int, unit: str) -> None:
        declared = Attribution(owner="OwnerId", team="unit", up=up)
        assert attribute(record(OwnerId="1001"), declared, ROSTER) == ((unit, Decimal(1)),)

    def test_climbing_past_the_top_is_an_error(self) -> None:
        with pytest.raises(DataError, match="nothing 2 step") as raised:
            attribute(record(OwnerId="1003"), Attribution(owner="OwnerId", team="unit", up=2), ROSTER)
        assert raised.value.path == "record crm:OPP-7"

    @pytest.mark.parametrize(("owner", "unit"), [("1001", "east"), ("1002", "east"), ("1003", "south")])
    def test_level_counts_from_the_top(self, owner: str, unit: str) -> None:
        """level 1: the department under 销售中心, whatever depth the person's team sits at."""
        declared = Attribution(owner="OwnerId", team="unit", level=1)
        assert attribute(record(OwnerId=owner), declared, ROSTER) == ((unit, Decimal(1)),)

    def test_a_level_below_the_persons_unit_is_an_error(self) -> None:
        with pytest.raises(DataError, match="at level 0 of the unit tree, above level 1"):
            attribute(record(OwnerId="2001"), Attribution(owner="OwnerId", team="unit", level=1), ROSTER)

    def test_team_manager(self) -> None:
        assert attribute(record(OwnerId="1001"), Attribution(owner="OwnerId", team="manager"), ROSTER) == (
            ("1000", Decimal(1)),
        )
        assert attribute(record(OwnerId="1001"), Attribution(owner="OwnerId", team="manager", up=1), ROSTER) == (
            ("2001", Decimal(1)),
        )
        with pytest.raises(DataError, match="has 0 manager"):
            attribute(record(OwnerId="2001"), Attribution(owner="OwnerId", team="manager"), ROSTER)

    def test_team_by_a_roster_column(self) -> None:
        assert attribute(record(OwnerId="1000"), Attribution(owner="OwnerId", team="role"), ROSTER) == (
            ("manager", Decimal(1)),
        )
        with pytest.raises(DataError, match="has no 'region' in the roster"):
            attribute(record(OwnerId="1000"), Attribution(owner="OwnerId", team="region"), ROSTER)

    def test_split_shares_of_one_unit_are_added(self) -> None:
        """1001 (上海组, in 华东) and 1002 (华东) both count for 华东; 1003 for 华南."""
        declared = Attribution(split="Splits", team="unit", level=1)
        data = split_of(("1001", "50%"), ("1002", "30%"), ("1003", "20%"))
        assert attribute(data, declared, ROSTER) == (("east", Decimal("0.8")), ("south", Decimal("0.2")))

    def test_a_split_member_not_in_the_roster_is_named(self) -> None:
        with pytest.raises(DataError, match="employee '4242' is not in the org roster") as raised:
            attribute(split_of(("1001", 0.5), ("4242", 0.5)), SPLIT, ROSTER)
        assert (raised.value.path, raised.value.value) == ("record crm:OPP-7", "4242")

    def test_a_roll_up_needs_a_roster(self) -> None:
        with pytest.raises(DataError, match="needs an org roster"):
            attribute(record(OwnerId="1001"), Attribution(owner="OwnerId", team="unit"))

    def test_bind_fixes_the_roster(self) -> None:
        attribute_to_unit = Attribution(owner="OwnerId", team="unit").bind(ROSTER)
        assert attribute_to_unit(record(OwnerId="1003")) == (("south", Decimal(1)),)

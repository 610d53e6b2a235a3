"""Source records, their versions and duplicates, manual entries, corrections, as-of views."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfkit.errors import DataError
from perfkit.metrics.records import ImportReport, RecordStore, SourceRecord, correction, manual_entry

UTC = timezone.utc
DAY1 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def deal(record_id: str = "OPP-1", *, loaded: int = 0, **fields: Any) -> SourceRecord:
    """A CRM opportunity loaded ``loaded`` days after DAY1."""
    return SourceRecord.create(
        source="crm",
        record_id=record_id,
        entity="opportunity",
        occurred_at=DAY1,
        loaded_at=DAY1 + timedelta(days=loaded),
        fields=fields or {"owner": "1001", "amount": 120000},
    )


class TestSourceRecord:
    def test_floats_become_the_decimal_their_author_wrote(self) -> None:
        record = deal(amount=0.1, rate=[0.2, 1.5])
        assert record.field("amount") == Decimal("0.1")
        assert record.field("rate") == (Decimal("0.2"), Decimal("1.5"))

    def test_fields_are_read_only_and_copied(self) -> None:
        given_fields: dict[str, Any] = {"owner": "1001", "lines": [{"sku": "A"}]}
        record = deal(**given_fields)
        given_fields["owner"] = "9999"
        assert record.field("owner") == "1001"
        with pytest.raises(TypeError):
            record.fields["owner"] = "2"  # type: ignore[index]
        with pytest.raises(TypeError):
            record.field("lines")[0]["sku"] = "B"

    def test_the_key_and_ref(self) -> None:
        record = deal()
        assert (record.key, record.ref) == (("crm", "OPP-1"), "crm:OPP-1")

    def test_a_missing_field_names_the_record_and_the_field(self) -> None:
        with pytest.raises(DataError, match="record crm:OPP-1: is missing .*amount, owner") as raised:
            deal().field("Amount")
        assert raised.value.column == "Amount"

    def test_require_lists_every_missing_field(self) -> None:
        with pytest.raises(DataError, match="'stage', 'region' are missing") as raised:
            deal(owner="1001", region=None).require("owner", "stage", "region")
        assert raised.value.path == "record crm:OPP-1"

    @pytest.mark.parametrize("field", ["occurred_at", "loaded_at"])
    def test_naive_timestamps_are_refused(self, field: str) -> None:
        values = {"occurred_at": DAY1, "loaded_at": DAY1, field: datetime(2026, 4, 1, 9)}
        with pytest.raises(DataError, match="has no time zone") as raised:
            SourceRecord(source="crm", record_id="OPP-1", entity="opportunity", **values)
        assert (raised.value.column, raised.value.path) == (field, "record crm:OPP-1")

    def test_a_naive_datetime_inside_the_fields_is_refused(self) -> None:
        with pytest.raises(DataError, match="has no time zone") as raised:
            deal(lines=[{"closed": datetime(2026, 4, 1)}])
        assert raised.value.column == "lines[0].closed"

    @pytest.mark.parametrize("ident", [10023.0, "10023.0", "1.0023e+04"])
    def test_float_looking_ids_are_refused(self, ident: object) -> None:
        with pytest.raises(DataError, match="read the") as raised:
            SourceRecord.create(source="erp", record_id=ident, entity="receipt", occurred_at=DAY1)  # type: ignore[arg-type]
        assert raised.value.column == "record_id"

    def test_integer_ids_become_text(self) -> None:
        record = SourceRecord.create(source="erp", record_id=10023, entity="receipt", occurred_at=DAY1)
        assert record.record_id == "10023"

    @pytest.mark.parametrize("name", ["source", "record_id", "entity"])
    def test_identity_fields_must_be_text(self, name: str) -> None:
        values: dict[str, Any] = {"source": "crm", "record_id": "OPP-1", "entity": "opportunity", name: " "}
        with pytest.raises(DataError, match="must be non-empty text") as raised:
            SourceRecord(occurred_at=DAY1, loaded_at=DAY1, **values)
        assert raised.value.column == name

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (float("nan"), "not a number"),
            (Decimal("Infinity"), "not a number"),
            ({1, 2}, "has a set value"),
            (b"x", "has a bytes value"),
        ],
    )
    def test_values_perfkit_cannot_hold_are_refused(self, value: object, message: str) -> None:
        with pytest.raises(DataError, match=message) as raised:
            deal(amount=value)
        assert raised.value.column == "amount"

    def test_numpy_scalars_become_plain_numbers(self) -> None:
        record = deal(count=np.int64(3), rate=np.float64(0.1))
        assert (type(record.field("count")), record.field("count")) == (int, 3)
        assert (type(record.field("rate")), record.field("rate")) == (Decimal, Decimal("0.1"))

    def test_loaded_at_defaults_to_now(self) -> None:
        before = datetime.now(UTC)
        record = SourceRecord.create(source="crm", record_id="OPP-1", entity="opportunity", occurred_at=DAY1)
        assert before <= record.loaded_at <= datetime.now(UTC)

    def test_to_dict_is_plain_data(self) -> None:
        record = deal(amount=Decimal("1.50"), closed=date(2026, 4, 1))
        data = record.to_dict()
        assert data["fields"] == {"amount": "1.50", "closed": "2026-04-01"}
        assert data["content_hash"] == record.content_hash
        assert data["occurred_at"] == "2026-04-01T09:00:00+00:00"


class TestContentHash:
    def test_the_same_content_loaded_later_has_the_same_hash(self) -> None:
        assert deal(loaded=0).content_hash == deal(loaded=3).content_hash
        assert len(deal().content_hash) == 64

    def test_any_change_of_content_changes_the_hash(self) -> None:
        base = deal(owner="1001", amount=1)
        assert deal(owner="1001", amount=2).content_hash != base.content_hash
        assert deal(owner="1002", amount=1).content_hash != base.content_hash
        assert deal("OPP-2", owner="1001", amount=1).content_hash != base.content_hash
        assert deal(owner="1001", amount="1").content_hash != base.content_hash

    def test_equal_values_hash_alike(self) -> None:
        """1.50 and 1.5 are the same amount; the same instant in two zones is the same time."""
        assert deal(amount=Decimal("1.50")).content_hash == deal(amount=Decimal("1.5")).content_hash
        assert deal(amount=Decimal("100.00")).content_hash == deal(amount=100).content_hash
        shanghai = DAY1.astimezone(ZoneInfo("Asia/Shanghai"))
        moved = SourceRecord.create(
            source="crm", record_id="OPP-1", entity="opportunity", occurred_at=shanghai, fields=deal().fields
        )
        assert moved.content_hash == deal().content_hash

    def test_field_order_does_not_matter(self) -> None:
        assert deal(a=1, b=2).content_hash == deal(b=2, a=1).content_hash

    @given(st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5) | st.integers(), max_size=4))
    def test_hash_equality_is_content_equality(self, fields: dict[str, Any]) -> None:
        other = dict(fields, extra="x")
        assert deal(**fields, extra="x").content_hash == deal(**other).content_hash
        assert deal(**fields, extra="x").content_hash != deal(**fields, extra="y").content_hash


class TestManualEntries:
    def test_a_manual_entry_has_an_actor_and_a_reason(self) -> None:
        entry = manual_entry(
            record_id="adj-7",
            occurred_at=DAY1,
            fields={"employee": "1001", "output": 35},
            actor="王芳",
            reason="线下签约,CRM 未录入",
        )
        assert (entry.source, entry.entity, entry.actor, entry.reason) == (
            "manual",
            "manual_entry",
            "王芳",
            "线下签约,CRM 未录入",
        )

    def test_a_manual_entry_without_a_reason_is_refused(self) -> None:
        with pytest.raises(DataError, match="non-empty text") as raised:
            manual_entry(record_id="adj-7", occurred_at=DAY1, fields={}, actor="王芳", reason="")
        assert (raised.value.column, raised.value.path) == ("reason", "record manual:adj-7")

    def test_a_correction_is_a_new_version_that_keeps_the_original(self) -> None:
        original = deal(owner="1001", amount=120000)
        fixed = correction(original, fields={"amount": 150000}, actor="王芳", reason="CRM missed the add-on")
        assert fixed.key == original.key
        assert fixed.corrects == original.key
        assert fixed.fields == {"owner": "1001", "amount": 150000}
        assert fixed.original is original
        assert fixed.occurred_at == original.occurred_at
        assert fixed.content_hash != original.content_hash

    def test_correcting_a_correction_keeps_the_first_original(self) -> None:
        original = deal(amount=1)
        first = correction(original, fields={"amount": 2}, actor="a", reason="r")
        second = correction(first, fields={"amount": 3}, actor="b", reason="s")
        assert second.original is original
        assert second.field("amount") == 3

    def test_a_correction_names_its_changes_actor_and_reason(self) -> None:
        with pytest.raises(DataError, match="names the fields it changes"):
            correction(deal(), fields={}, actor="a", reason="r")
        with pytest.raises(DataError, match="needs an actor and a reason"):
            SourceRecord.create(
                source="crm", record_id="OPP-1", entity="opportunity", occurred_at=DAY1, corrects=("crm", "OPP-1")
            )

    def test_a_correction_corrects_its_own_key(self) -> None:
        with pytest.raises(DataError, match="must be its own key"):
            SourceRecord.create(
                source="crm",
                record_id="OPP-1",
                entity="opportunity",
                occurred_at=DAY1,
                actor="a",
                reason="r",
                corrects=("crm", "OPP-2"),
            )


class TestRecordStore:
    def test_an_import_reports_added_duplicates_and_new_versions(self) -> None:
        store, first = RecordStore.empty().add([deal("OPP-1"), deal("OPP-2")])
        assert [r.ref for r in first.added] == ["crm:OPP-1", "crm:OPP-2"]
        store, second = store.add([deal("OPP-1", loaded=1), deal("OPP-2", loaded=1, owner="1001", amount=99)])
        assert [r.ref for r in second.duplicates] == ["crm:OPP-1"]
        assert [r.ref for r in second.new_versions] == ["crm:OPP-2"]
        assert second.added == ()
        assert (len(store), store.version_count) == (2, 3)
        assert str(second) == "0 added, 1 new versions, 1 duplicates ignored"

    def test_a_new_version_keeps_the_old_one_in_the_history(self) -> None:
        old, new = deal(amount=1), deal(loaded=1, amount=2)
        store, _ = RecordStore.empty().add([old, new])
        assert store.history(("crm", "OPP-1")) == (old, new)
        assert store[("crm", "OPP-1")] is new
        assert store.original_of(("crm", "OPP-1")) is None

    def test_re_importing_an_old_version_is_a_duplicate(self) -> None:
        old, new = deal(amount=1), deal(loaded=1, amount=2)
        store, _ = RecordStore.empty().add([old, new])
        store, report = store.add([deal(loaded=2, amount=1)])
        assert len(report.duplicates) == 1
        assert store.get(("crm", "OPP-1")) is new

    def test_a_version_loaded_earlier_does_not_become_current(self) -> None:
        late, early = deal(loaded=5, amount=5), deal(loaded=1, amount=1)
        store, _ = RecordStore.empty().add([late, early])
        assert store.history(("crm", "OPP-1")) == (early, late)
        assert store.get(("crm", "OPP-1")) is late

    def test_adding_makes_a_new_store(self) -> None:
        empty = RecordStore.empty()
        one, _ = empty.add([deal()])
        two, _ = one.add([deal(loaded=1, amount=2), deal("OPP-2")])
        assert (len(empty), len(one), len(two)) == (0, 1, 2)
        assert one.get(("crm", "OPP-1")) == deal()

    def test_current_records_are_sorted_by_key(self) -> None:
        records = [deal("B"), deal("A")] + [
            SourceRecord.create(source="erp", record_id="A", entity="r", occurred_at=DAY1)
        ]
        store, _ = RecordStore.empty().add(records)
        assert [r.ref for r in store] == ["crm:A", "crm:B", "erp:A"]
        assert [r.ref for r in store.current()] == ["crm:A", "crm:B", "erp:A"]
        assert ("crm", "A") in store and ("crm", "C") not in store

    def test_a_corrected_record_keeps_its_original(self) -> None:
        original = deal(amount=120000)
        fixed = correction(
            original, fields={"amount": 150000}, actor="王芳", reason="add-on", loaded_at=DAY1 + timedelta(1)
        )
        store, report = RecordStore.empty().add([original, fixed])
        assert report.new_versions == (fixed,)
        assert store[("crm", "OPP-1")].field("amount") == 150000
        assert store.original_of(("crm", "OPP-1")) == original

    def test_re_importing_the_source_after_a_correction_keeps_the_correction(self) -> None:
        original = deal(amount=120000)
        fixed = correction(
            original, fields={"amount": 150000}, actor="王芳", reason="add-on", loaded_at=DAY1 + timedelta(1)
        )
        store, _ = RecordStore.empty().add([original, fixed])
        store, report = store.add([deal(loaded=2, amount=120000)])
        assert len(report.duplicates) == 1
        assert store[("crm", "OPP-1")] is fixed

    def test_a_newer_source_version_replacing_a_correction_is_reported(self) -> None:
        original = deal(amount=120000)
        fixed = correction(
            original, fields={"amount": 150000}, actor="王芳", reason="add-on", loaded_at=DAY1 + timedelta(1)
        )
        store, _ = RecordStore.empty().add([original, fixed])
        store, report = store.add([deal(loaded=2, owner="1001", amount=160000)])
        assert report.superseded_corrections == (fixed,)
        assert "corrections replaced by newer source versions: crm:OPP-1" in str(report)
        assert store.original_of(("crm", "OPP-1")) is None

    def test_original_of_without_the_original_on_the_record(self) -> None:
        """A correction read back from a file has no .original; the store finds it in the history."""
        original = deal(amount=1)
        loose = SourceRecord.create(
            source="crm",
            record_id="OPP-1",
            entity="opportunity",
            occurred_at=DAY1,
            loaded_at=DAY1 + timedelta(1),
            fields={"owner": "1001", "amount": 2},
            actor="a",
            reason="r",
            corrects=("crm", "OPP-1"),
        )
        store, _ = RecordStore.empty().add([original, loose])
        assert store.original_of(("crm", "OPP-1")) is original

    def test_an_unknown_key_is_named(self) -> None:
        with pytest.raises(DataError, match="no record crm:OPP-9"):
            RecordStore.empty().history(("crm", "OPP-9"))
        assert RecordStore.empty().get(("crm", "OPP-9")) is None

    def test_only_records_can_be_added(self) -> None:
        with pytest.raises(DataError, match="takes SourceRecords, got dict") as raised:
            RecordStore.empty().add([deal(), {"source": "crm"}])  # type: ignore[list-item]
        assert raised.value.row == 1

    def test_report_to_dict(self) -> None:
        _, report = RecordStore.empty().add([deal(), deal()])
        assert report.to_dict() == {
            "added": ["crm:OPP-1"],
            "new_versions": [],
            "duplicates": ["crm:OPP-1"],
            "superseded_corrections": [],
        }
        assert isinstance(report, ImportReport)

    @given(st.permutations(range(6)))
    def test_the_store_does_not_depend_on_arrival_order(self, order: list[int]) -> None:
        """Versions with distinct load times: any arrival order gives the same history."""
        records = [deal(f"OPP-{i % 2}", loaded=i, owner="1001", amount=i) for i in range(6)]
        reference, _ = RecordStore.empty().add(records)
        shuffled, _ = RecordStore.empty().add([records[i] for i in order])
        assert shuffled.current() == reference.current()
        assert list(shuffled.versions()) == list(reference.versions())


class TestAsOf:
    def test_records_loaded_after_the_cut_off_are_excluded_and_listed(self) -> None:
        first, changed, late = deal("OPP-1", amount=1), deal("OPP-1", loaded=10, amount=2), deal("OPP-2", loaded=10)
        store, _ = RecordStore.empty().add([first, changed, late])
        view = store.as_of(DAY1 + timedelta(days=5))
        assert view.records == (first,)
        assert view.excluded == (changed, late)
        assert (len(view), list(view)) == (1, [first])

    def test_the_cut_off_itself_is_included(self) -> None:
        store, _ = RecordStore.empty().add([deal(loaded=1)])
        assert len(store.as_of(DAY1 + timedelta(days=1))) == 1
        assert len(store.as_of(DAY1 + timedelta(days=1) - timedelta(microseconds=1))) == 0

    def test_the_cut_off_is_an_instant(self) -> None:
        store, _ = RecordStore.empty().add([deal(loaded=1)])
        cutoff = (DAY1 + timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai"))
        assert len(store.as_of(cutoff)) == 1

    def test_a_naive_cut_off_is_refused(self) -> None:
        with pytest.raises(DataError, match="aware datetime"):
            RecordStore.empty().as_of(datetime(2026, 4, 1))

    @given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=12), st.integers(-1, 12))
    def test_as_of_reproduces_the_store_as_it_stood(self, loads: list[tuple[int, int]], cut: int) -> None:
        """Load batches day by day; as_of(day N) of the final store is the store after day N."""
        store = RecordStore.empty()
        snapshots = {}
        for day, (record, amount) in enumerate(loads):
            store, _ = store.add([deal(f"OPP-{record}", loaded=day, owner="1001", amount=amount)])
            snapshots[day] = store
        cutoff = DAY1 + timedelta(days=cut)
        view = store.as_of(cutoff)
        expected = snapshots.get(min(cut, len(loads) - 1), RecordStore.empty())
        assert view.records == expected.current()
        assert list(view.store.versions()) == list(expected.versions())
        assert all(r.loaded_at > cutoff for r in view.excluded)
        assert len(view.excluded) + expected.version_count == store.version_count

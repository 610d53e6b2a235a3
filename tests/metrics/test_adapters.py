"""Adapters: Jira, Zendesk, Salesforce and generic CSV exports → SourceRecords.

The fixtures in ``fixtures/`` are written to the vendors' published field names (Jira issue
search, Zendesk Tickets API, Salesforce REST query and CSV export, a Chinese ERP CSV).
"""

from __future__ import annotations

import copy
import json
import random
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.errors import DataError, SchemeError
from perfkit.metrics.adapters import (
    ADAPTERS,
    JIRA_MAPPING,
    SALESFORCE_MAPPING,
    ZENDESK_MAPPING,
    FieldMapping,
    FieldSpec,
    from_csv,
    from_jira,
    from_salesforce,
    from_zendesk,
    resolve_mapping,
)
from perfkit.metrics.adapters._convert import convert, record_id_text, to_date, to_datetime
from perfkit.metrics.adapters._paths import ABSENT, Each, Found, Index, Key, Match, ShapeProblem, lookup, parse_path
from perfkit.metrics.records import SourceRecord

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
LOADED = datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc)
SHANGHAI = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))
RECEIPTS = {
    "source": "erp",
    "entity": "receipt",
    "record_id": "单号",
    "occurred_at": "日期",
    "fields": {"amount": {"path": "金额", "type": "number"}, "seller": "销售员"},
}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def jira_issues(**changes: Any) -> dict[str, Any]:
    """The Jira fixture, parsed, with ``changes`` applied to the fields of the first issue."""
    data = load("jira_search.json")
    data["issues"][0]["fields"].update(changes)
    return data


def by_id(records: tuple[SourceRecord, ...]) -> dict[str, SourceRecord]:
    return {record.record_id: record for record in records}


def raised(call: Any) -> DataError:
    with pytest.raises(DataError) as info:
        call()
    return info.value


class TestJira:
    """Jira issue search results with the default mapping."""

    def test_every_default_field(self) -> None:
        records = from_jira(FIXTURES / "jira_search.json", loaded_at=LOADED)
        assert [r.record_id for r in records] == ["PAY-42", "PAY-43", "PAY-44"]
        first = records[0]
        assert (first.source, first.entity, first.loaded_at) == ("jira", "issue", LOADED)
        assert first.occurred_at == datetime(2026, 4, 1, 10, 0, tzinfo=CST)
        assert dict(first.fields) == {
            "issue_id": "10042",
            "summary": "支付回调超时重试",
            "status": "Done",
            "issue_type": "Story",
            "priority": "Medium",
            "assignee": "5b10a2844c20165700ede21g",
            "assignee_name": "王芳",
            "story_points": Decimal("5.0"),
            "created": datetime(2026, 3, 20, 9, 15, 30, 123000, tzinfo=CST),
            "updated": datetime(2026, 4, 1, 10, 0, 5, tzinfo=CST),
            "resolved": datetime(2026, 4, 1, 10, 0, tzinfo=CST),
        }

    def test_unassigned_issue_has_empty_values_not_an_error(self) -> None:
        """``"assignee": null`` and ``"priority": null`` are missing values, not missing keys."""
        record = by_id(from_jira(FIXTURES / "jira_search.json"))["PAY-44"]
        assert record.field("assignee") is None
        assert record.field("assignee_name") is None
        assert record.field("priority") is None
        assert record.field("story_points") is None

    def test_story_points_are_exact(self) -> None:
        """0.1 in the JSON is Decimal('0.1'), not the binary float 0.1000000000000000055…"""
        record = by_id(from_jira(FIXTURES / "jira_search.json"))["PAY-43"]
        assert record.field("story_points") == Decimal("0.1")
        assert str(record.field("story_points")) == "0.1"

    def test_offsets_are_kept(self) -> None:
        records = by_id(from_jira(FIXTURES / "jira_search.json"))
        assert records["PAY-43"].occurred_at.utcoffset() == timedelta(0)
        assert records["PAY-43"].occurred_at.microsecond == 999000
        assert records["PAY-44"].occurred_at.utcoffset() == timedelta(hours=-4)

    def test_text_bytes_path_and_parsed_data_give_the_same_records(self) -> None:
        path = FIXTURES / "jira_search.json"
        text = path.read_text(encoding="utf-8")
        hashes = {
            tuple(r.content_hash for r in from_jira(payload, loaded_at=LOADED))
            for payload in (path, text, text.encode("utf-8"), json.loads(text))
        }
        assert len(hashes) == 1

    def test_parsed_data_with_floats_is_read_through_shortest_repr(self) -> None:
        data = json.loads((FIXTURES / "jira_search.json").read_text(encoding="utf-8"))
        assert isinstance(data["issues"][1]["fields"]["customfield_10016"], float)
        assert by_id(from_jira(data))["PAY-43"].field("story_points") == Decimal("0.1")

    def test_a_single_issue_and_a_list_of_issues(self) -> None:
        issue = load("jira_search.json")["issues"][0]
        (single,) = from_jira(issue, loaded_at=LOADED)
        listed = from_jira(load("jira_search.json")["issues"], loaded_at=LOADED)
        assert single.record_id == "PAY-42"
        assert single.content_hash == listed[0].content_hash

    def test_an_empty_page_has_no_records(self) -> None:
        assert from_jira({"startAt": 0, "maxResults": 50, "total": 0, "issues": []}) == ()

    def test_output_does_not_depend_on_payload_order(self) -> None:
        data = load("jira_search.json")
        reordered = copy.deepcopy(data)
        reordered["issues"].reverse()
        assert from_jira(data, loaded_at=LOADED) == from_jira(reordered, loaded_at=LOADED)


class TestJiraErrors:
    """Malformed Jira payloads: every problem names the issue and the field."""

    def test_missing_resolution_date_names_the_issue_and_field(self) -> None:
        error = raised(lambda: from_jira(jira_issues(resolutiondate=None)))
        assert error.column == "fields.resolutiondate"
        assert "PAY-42" in str(error)
        assert "issues[0]" in str(error)
        assert "occurred_at" in str(error)

    def test_a_fallback_path_is_used_only_when_asked(self) -> None:
        data = jira_issues(resolutiondate=None)
        records = by_id(from_jira(data, mapping={"occurred_at": ["fields.resolutiondate", "fields.updated"]}))
        assert records["PAY-42"].occurred_at == datetime(2026, 4, 1, 10, 0, 5, tzinfo=CST)
        assert records["PAY-43"].occurred_at == datetime(2026, 6, 30, 23, 59, 59, 999000, tzinfo=timezone.utc)

    def test_all_problems_are_collected(self) -> None:
        data = jira_issues(customfield_10016="five")
        data["issues"][2]["fields"]["resolutiondate"] = "yesterday"
        error = raised(lambda: from_jira(data))
        first, *others = error.problems
        assert isinstance(first, DataError)
        assert "PAY-42" in str(first) and first.column == "fields.customfield_10016" and "story_points" in str(first)
        assert str(first).endswith("field 'story_points': 'five' is not a number")
        # resolutiondate feeds both occurred_at and the field 'resolved': each reports it
        assert [(p.column, "PAY-44" in str(p)) for p in others if isinstance(p, DataError)] == [
            ("fields.resolutiondate", True),
            ("fields.resolutiondate", True),
        ]
        assert "3 problems" in str(error)

    def test_an_issue_without_a_key_is_named_by_position(self) -> None:
        data = load("jira_search.json")
        del data["issues"][1]["key"]
        error = raised(lambda: from_jira(data))
        assert error.column == "key"
        assert str(error).startswith("column 'key', issues[1]:")
        assert "record id" in str(error)

    def test_an_item_that_is_not_an_object(self) -> None:
        data = load("jira_search.json")
        data["issues"].append("PAY-45")
        error = raised(lambda: from_jira(data))
        assert "issues[3]" in str(error) and "text 'PAY-45'" in str(error)

    def test_wrong_shape_on_the_way(self) -> None:
        """``status`` should be an object with a name; text there is reported, not read as None."""
        error = raised(lambda: from_jira(jira_issues(status="Done")))
        assert error.column == "fields.status.name"
        assert "expected an object at 'fields.status', found text 'Done'" in str(error)

    def test_a_path_no_issue_has_is_reported_once(self) -> None:
        error = raised(
            lambda: from_jira(FIXTURES / "jira_search.json", mapping={"fields": {"sp": "fields.customfield_10061"}})
        )
        assert error.column == "fields.customfield_10061"
        assert "no jira issue in the payload has this path" in str(error)
        assert "{'fields': {'sp': None}}" in str(error)
        assert len(error.problems) == 1

    def test_a_zendesk_payload_is_recognised(self) -> None:
        error = raised(lambda: from_jira(FIXTURES / "zendesk_tickets.json"))
        assert "it looks like Zendesk tickets: use from_zendesk" in str(error)
        assert "zendesk_tickets.json" in str(error)

    def test_a_jira_error_response_shows_its_messages(self) -> None:
        payload = {"errorMessages": ["The value 'XYZ' does not exist for the field 'project'."], "errors": {}}
        error = raised(lambda: from_jira(payload))
        assert "Jira error response" in str(error) and "'XYZ' does not exist" in str(error)

    def test_issues_must_be_a_list(self) -> None:
        error = raised(lambda: from_jira({"issues": {"PAY-1": {}}}))
        assert "an object with an 'issues' list" in str(error)

    def test_duplicate_issues_are_reported(self) -> None:
        data = load("jira_search.json")
        data["issues"].append(copy.deepcopy(data["issues"][0]))
        error = raised(lambda: from_jira(data))
        assert "'PAY-42' appears 2 times in the payload (issues[0], issues[3])" in str(error)

    def test_invalid_json_names_the_line(self) -> None:
        error = raised(lambda: from_jira('{"issues": [\n  {"key": "PAY-1",}\n]}'))
        assert str(error).startswith("line 2: the jira payload is not valid JSON")

    def test_a_file_name_given_as_text_gets_a_hint(self) -> None:
        assert "pass a pathlib.Path" in str(raised(lambda: from_jira("jira_search.json")))

    def test_nan_is_refused(self) -> None:
        error = raised(lambda: from_jira('{"issues": [{"key": "PAY-1", "fields": {"customfield_10016": NaN}}]}'))
        assert "NaN" in str(error)

    def test_a_problem_in_a_file_names_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "page-3.json"
        path.write_text(json.dumps(jira_issues(resolutiondate=None), default=str), encoding="utf-8")
        error = raised(lambda: from_jira(path))
        assert error.path == f"{path}, issues[0] (jira issue 'PAY-42')"

    def test_a_missing_file(self, tmp_path: Path) -> None:
        assert "file not found" in str(raised(lambda: from_jira(tmp_path / "nope.json")))

    def test_many_problems_are_listed_and_counted(self) -> None:
        issue = load("jira_search.json")["issues"][0]
        issues = []
        for n in range(25):
            item = copy.deepcopy(issue)
            item["key"] = f"PAY-{n}"
            item["fields"]["resolutiondate"] = None
            issues.append(item)
        error = raised(lambda: from_jira({"issues": issues}))
        assert len(error.problems) == 25
        assert "... and 5 more (see .problems)" in str(error)

    def test_naive_loaded_at_is_refused(self) -> None:
        error = raised(lambda: from_jira(FIXTURES / "jira_search.json", loaded_at=datetime(2026, 7, 1)))
        assert error.column == "loaded_at"


class TestZendesk:
    """Zendesk tickets with the default mapping."""

    def test_every_default_field(self) -> None:
        records = from_zendesk(FIXTURES / "zendesk_tickets.json", loaded_at=LOADED)
        assert [r.record_id for r in records] == ["35436", "35437"]
        first = records[0]
        assert (first.source, first.entity) == ("zendesk", "ticket")
        assert first.occurred_at == datetime(2026, 4, 1, 10, 0, tzinfo=timezone.utc)
        assert dict(first.fields) == {
            "subject": "发票抬头填错了",
            "status": "solved",
            "priority": "high",
            "assignee": "235323",
            "requester": "20978392",
            "satisfaction": "good",
            "tags": ("billing", "发票"),
            "created": datetime(2026, 4, 1, 10, 0, tzinfo=timezone.utc),
            "updated": datetime(2026, 4, 3, 8, 12, 45, tzinfo=timezone.utc),
        }

    def test_an_unassigned_ticket(self) -> None:
        record = by_id(from_zendesk(FIXTURES / "zendesk_tickets.json"))["35437"]
        assert record.field("assignee") is None
        assert record.field("satisfaction") == "unoffered"
        assert record.field("tags") == ()

    def test_a_single_ticket_is_the_same_record(self) -> None:
        (single,) = from_zendesk(FIXTURES / "zendesk_ticket.json", loaded_at=LOADED)
        listed = by_id(from_zendesk(FIXTURES / "zendesk_tickets.json", loaded_at=LOADED))["35436"]
        assert single.content_hash == listed.content_hash

    def test_custom_fields_by_id(self) -> None:
        mapping = {
            "fields": {"order_no": "custom_fields[id=27642].value", "group": {"path": "group_id", "type": "text"}}
        }
        records = by_id(from_zendesk(FIXTURES / "zendesk_tickets.json", mapping=mapping))
        assert records["35436"].field("order_no") == "745"
        assert records["35437"].field("order_no") is None
        assert records["35437"].field("group") == "98738"

    def test_search_results(self) -> None:
        tickets = load("zendesk_tickets.json")["tickets"]
        results = [dict(t, result_type="ticket") for t in tickets]
        assert [r.record_id for r in from_zendesk({"results": results, "count": 2})] == ["35436", "35437"]

    def test_a_search_result_that_is_not_a_ticket(self) -> None:
        tickets = load("zendesk_tickets.json")["tickets"]
        results = [dict(tickets[0], result_type="ticket"), {"id": 7, "result_type": "user", "name": "王芳"}]
        error = raised(lambda: from_zendesk({"results": results}))
        assert "results[1]" in str(error) and "'user' is not a ticket" in str(error)

    def test_a_jira_payload_is_recognised(self) -> None:
        assert "Jira issue search results: use from_jira" in str(raised(lambda: from_zendesk(load("jira_search.json"))))

    def test_a_zendesk_error_response(self) -> None:
        error = raised(lambda: from_zendesk({"error": "RecordNotFound", "description": "Not found"}))
        assert "RecordNotFound (Not found)" in str(error)

    def test_a_ticket_id_that_is_not_whole(self) -> None:
        data = load("zendesk_tickets.json")
        data["tickets"][0]["id"] = Decimal("35436.5")
        error = raised(lambda: from_zendesk(data))
        assert error.column == "id" and "tickets[0]" in str(error) and "whole number" in str(error)


class TestSalesforce:
    """Salesforce opportunities from REST JSON and from CSV exports."""

    def test_every_default_field(self) -> None:
        records = from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="Asia/Shanghai", loaded_at=LOADED)
        first = by_id(records)["0065g00000AbCdEAAV"]
        assert (first.source, first.entity) == ("salesforce", "opportunity")
        assert first.occurred_at == datetime(2026, 5, 15, tzinfo=SHANGHAI)
        assert dict(first.fields) == {
            "owner": "0055g00000XyZ12AAB",
            "name": "华东区年度框架协议",
            "amount": Decimal("150000.0"),
            "stage": "Closed Won",
            "is_won": True,
            "is_closed": True,
            "account": "0015g00000QwErTAAZ",
            "close_date": date(2026, 5, 15),
        }

    def test_amount_is_exact(self) -> None:
        record = by_id(from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="UTC"))["0065g00000AbCdFAAV"]
        assert record.field("amount") == Decimal("0.1")
        assert str(record.field("amount")) == "0.1"

    def test_a_lost_deal_has_no_amount(self) -> None:
        record = by_id(from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="UTC"))["0065g00000AbCdGAAV"]
        assert record.field("amount") is None and record.field("is_won") is False and record.field("account") is None

    @pytest.mark.parametrize("name", ["salesforce_opportunities.csv", "salesforce_dataloader.csv"])
    def test_csv_exports_give_the_same_records_as_json(self, name: str) -> None:
        from_json = from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="Asia/Shanghai", loaded_at=LOADED)
        from_file = from_salesforce(FIXTURES / name, tz="Asia/Shanghai", loaded_at=LOADED)
        assert [r.content_hash for r in from_file] == [r.content_hash for r in from_json]
        assert from_file == from_json

    def test_csv_text_is_recognised(self) -> None:
        text = (FIXTURES / "salesforce_opportunities.csv").read_text(encoding="utf-8")
        assert len(from_salesforce(text, tz="UTC")) == 3
        assert len(from_salesforce(text.encode("utf-8-sig"), tz="UTC")) == 3

    def test_close_date_midnight_depends_on_the_timezone(self) -> None:
        """The same CloseDate is a different instant in Shanghai and New York: tz is the caller's."""
        east = by_id(from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="Asia/Shanghai"))
        west = by_id(from_salesforce(FIXTURES / "salesforce_opportunities.json", tz=ZoneInfo("America/New_York")))
        deal = "0065g00000AbCdFAAV"
        assert east[deal].occurred_at.isoformat() == "2026-03-31T00:00:00+08:00"
        assert west[deal].occurred_at.isoformat() == "2026-03-31T00:00:00-04:00"

    def test_a_close_date_without_tz_is_refused_once(self) -> None:
        with pytest.raises(SchemeError) as info:
            from_salesforce(FIXTURES / "salesforce_opportunities.json")
        assert info.value.path == "tz" and "CloseDate" in str(info.value) and "midnight" in str(info.value)

    def test_the_mapping_timezone_also_serves(self) -> None:
        records = from_salesforce(FIXTURES / "salesforce_opportunities.json", mapping={"timezone": "Asia/Shanghai"})
        assert records[0].occurred_at.utcoffset() == timedelta(hours=8)

    def test_relationship_fields_in_json_and_csv(self) -> None:
        mapping = {"fields": {"owner_name": "Owner.Name"}}
        from_json = by_id(from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="UTC", mapping=mapping))
        from_csv_ = by_id(from_salesforce(FIXTURES / "salesforce_opportunities.csv", tz="UTC", mapping=mapping))
        assert from_json["0065g00000AbCdEAAV"].field("owner_name") == "王芳"
        assert from_csv_["0065g00000AbCdEAAV"].field("owner_name") == "王芳"

    def test_another_sobject_is_a_problem(self) -> None:
        data = load("salesforce_opportunities.json")
        data["records"][1]["attributes"]["type"] = "Account"
        error = raised(lambda: from_salesforce(data, tz="UTC"))
        assert error.column == "attributes.type"
        assert "0065g00000AbCdFAAV" in str(error) and "is a Account, not a Opportunity" in str(error)
        assert len(from_salesforce(data, tz="UTC", sobject=None)) == 3

    def test_a_bad_boolean_in_csv_names_line_and_column(self) -> None:
        text = (
            (FIXTURES / "salesforce_opportunities.csv")
            .read_text(encoding="utf-8")
            .replace(",true,true,", ",maybe,true,", 1)
        )
        error = raised(lambda: from_salesforce(text, tz="UTC"))
        assert error.column == "IsWon"
        assert (
            "line 2" in str(error) and "0065g00000AbCdEAAV" in str(error) and "'maybe' is not true/false" in str(error)
        )

    def test_a_bad_amount_in_csv(self) -> None:
        text = (FIXTURES / "salesforce_opportunities.csv").read_text(encoding="utf-8").replace("150000.0", "15万", 1)
        error = raised(lambda: from_salesforce(text, tz="UTC"))
        assert error.column == "Amount"
        assert str(error).endswith("field 'amount': '15万' is not a number")

    def test_a_missing_column(self) -> None:
        text = "Id,OwnerId,Name,Amount,CloseDate,StageName,IsWon,IsClosed\n006A,005X,Deal,1,2026-05-15,Won,true,true\n"
        error = raised(lambda: from_salesforce(text, tz="UTC"))
        assert error.column == "AccountId" and "the CSV has no such column" in str(error)

    def test_a_salesforce_error_response(self) -> None:
        payload = [{"message": "No such column 'Amont' on entity 'Opportunity'", "errorCode": "INVALID_FIELD"}]
        assert "Salesforce error response: No such column" in str(raised(lambda: from_salesforce(payload, tz="UTC")))

    def test_the_crm_can_be_called_crm(self) -> None:
        """A scheme's input says ``source: crm``: the mapping renames the source."""
        records = from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="UTC", mapping={"source": "crm"})
        assert {r.key[0] for r in records} == {"crm"}


class TestGenericCsv:
    """Any CSV: the caller names the columns."""

    def test_chinese_columns_number_and_unmapped(self) -> None:
        records = from_csv(FIXTURES / "erp_receipts.csv", mapping=RECEIPTS, tz="Asia/Shanghai", loaded_at=LOADED)
        assert [r.key for r in records] == [("erp", "R-2026-0001"), ("erp", "R-2026-0002"), ("erp", "R-2026-0003")]
        first, second, third = records
        assert first.entity == "receipt"
        assert first.occurred_at == datetime(2026, 4, 3, 9, 30, tzinfo=SHANGHAI)
        assert dict(first.fields) == {
            "amount": Decimal("12000.50"),
            "seller": "1001",
            "客户": "华东电子",
            "备注": "首付款",
        }
        assert second.field("amount") == Decimal("0.1") and second.field("客户") == "Acme, Inc."
        assert second.field("备注") is None
        assert third.field("备注") == "分两行\n的备注"

    def test_columns_stay_text_unless_typed(self) -> None:
        mapping = dict(RECEIPTS, fields={})
        record = from_csv(FIXTURES / "erp_receipts.csv", mapping=mapping, tz="Asia/Shanghai")[0]
        assert record.field("金额") == "12000.50"

    def test_only_mapped_fields(self) -> None:
        mapping = dict(RECEIPTS, keep_unmapped=False)
        record = from_csv(FIXTURES / "erp_receipts.csv", mapping=mapping, tz="Asia/Shanghai")[0]
        assert set(record.fields) == {"amount", "seller"}

    def test_a_time_format_and_offset_in_the_text(self) -> None:
        text = "no,when,qty\nA,03/04/2026 09:30 +0800,3\n"
        mapping = {
            "source": "wms",
            "entity": "shipment",
            "record_id": "no",
            "occurred_at": {"path": "when", "format": "%d/%m/%Y %H:%M %z"},
            "fields": {"qty": {"path": "qty", "type": "integer"}},
        }
        (record,) = from_csv(text, mapping=mapping)
        assert record.occurred_at == datetime(2026, 4, 3, 9, 30, tzinfo=CST)
        assert record.field("qty") == 3

    def test_a_date_column_needs_tz(self) -> None:
        mapping = {"source": "s", "entity": "e", "record_id": "no", "occurred_at": {"path": "day", "type": "date"}}
        with pytest.raises(SchemeError):
            from_csv("no,day\nA,2026-04-03\n", mapping=mapping)
        (record,) = from_csv("no,day\nA,2026-04-03\n", mapping=mapping, tz="Asia/Shanghai")
        assert record.occurred_at == datetime(2026, 4, 3, tzinfo=SHANGHAI)

    def test_naive_times_without_tz_name_each_row(self) -> None:
        error = raised(lambda: from_csv(FIXTURES / "erp_receipts.csv", mapping=RECEIPTS))
        assert len(error.problems) == 3
        assert all(p.column == "日期" and "no UTC offset" in str(p) for p in error.problems if isinstance(p, DataError))
        assert "line 2 (erp receipt 'R-2026-0001')" in str(error.problems[0])

    def test_a_misspelt_column_gets_a_suggestion(self) -> None:
        mapping = dict(RECEIPTS, fields={"amount": {"path": "金 额", "type": "number"}})
        error = raised(lambda: from_csv(FIXTURES / "erp_receipts.csv", mapping=mapping, tz="Asia/Shanghai"))
        assert error.column == "金 额" and "did you mean '金额'?" in str(error)

    def test_a_short_row_names_its_line(self) -> None:
        text = "单号,日期,销售员,金额\nR-1,2026-04-03T09:30+08:00,1001,5\nR-2,2026-04-04T09:30+08:00\n"
        error = raised(lambda: from_csv(text, mapping=RECEIPTS))
        assert "line 3: 2 cells, but the header has 4 columns" in str(error)

    def test_a_missing_id_names_the_line(self) -> None:
        text = "单号,日期,销售员,金额\n,2026-04-03T09:30+08:00,1001,5\n"
        error = raised(lambda: from_csv(text, mapping=RECEIPTS))
        assert error.column == "单号" and str(error).startswith("column '单号', line 2:")

    def test_a_mapping_is_required(self) -> None:
        with pytest.raises(SchemeError, match="needs a mapping"):
            from_csv(FIXTURES / "erp_receipts.csv")

    def test_an_incomplete_mapping_lists_what_is_missing(self) -> None:
        with pytest.raises(SchemeError) as info:
            from_csv(FIXTURES / "erp_receipts.csv", mapping={"source": "erp"})
        paths = {p.path for p in info.value.problems if isinstance(p, SchemeError)}
        assert paths == {"mapping.entity", "mapping.record_id", "mapping.occurred_at"}

    def test_rows_already_read_and_a_dataframe(self) -> None:
        rows = [{"单号": "R-1", "日期": "2026-04-03T09:30:00+08:00", "销售员": "1001", "金额": 0.1}]
        (from_rows,) = from_csv(rows, mapping=RECEIPTS, loaded_at=LOADED)
        (from_frame,) = from_csv(pd.DataFrame(rows), mapping=RECEIPTS, loaded_at=LOADED)
        assert from_rows.field("amount") == Decimal("0.1")
        assert from_rows == from_frame

    def test_semicolons_and_gbk(self) -> None:
        """Excel in a Chinese locale saves GBK; in much of Europe it separates with semicolons."""
        text = "单号;日期;销售员;金额\nR-1;2026-04-03T09:30:00+08:00;1001;12,5\n"
        mapping = dict(RECEIPTS, fields={"amount": "金额"})
        (record,) = from_csv(text.encode("gbk"), mapping=mapping, delimiter=";", encoding="gbk")
        assert record.field("amount") == "12,5"
        assert record.field("销售员") == "1001"

    def test_undecodable_bytes(self) -> None:
        error = raised(lambda: from_csv("单号\n".encode("gbk"), mapping=RECEIPTS))
        assert "cannot decode the payload as utf-8-sig" in str(error)

    def test_a_header_with_a_column_twice(self) -> None:
        error = raised(lambda: from_csv("单号,单号\nA,B\n", mapping=RECEIPTS))
        assert "the column '单号' twice" in str(error)


class TestFieldMapping:
    """Adjusting a default mapping: add, rename, drop, retype; mistakes are SchemeErrors."""

    def test_a_dict_is_merged_over_the_default(self) -> None:
        mapping = resolve_mapping(JIRA_MAPPING, {"fields": {"points": "fields.customfield_10016"}})
        assert mapping.fields["points"].path == "fields.customfield_10016"
        assert set(JIRA_MAPPING.fields) < set(mapping.fields)
        assert mapping.record_id == JIRA_MAPPING.record_id

    def test_rename_is_add_and_drop(self) -> None:
        mapping = {"fields": {"points": {"path": "fields.customfield_10016", "type": "number"}, "story_points": None}}
        record = by_id(from_jira(FIXTURES / "jira_search.json", mapping=mapping))["PAY-43"]
        assert record.field("points") == Decimal("0.1")
        assert "story_points" not in record.fields

    def test_a_partial_spec_changes_only_what_it_says(self) -> None:
        mapping = resolve_mapping(SALESFORCE_MAPPING, {"fields": {"amount": {"required": True}}})
        assert mapping.fields["amount"] == FieldSpec(path="Amount", type="number", required=True)

    def test_a_required_field_without_a_value(self) -> None:
        mapping = {"fields": {"amount": {"required": True}}}
        error = raised(lambda: from_salesforce(FIXTURES / "salesforce_opportunities.json", tz="UTC", mapping=mapping))
        assert error.column == "Amount" and "0065g00000AbCdGAAV" in str(error) and "required" in str(error)

    def test_record_id_can_be_the_stable_numeric_id(self) -> None:
        records = from_jira(FIXTURES / "jira_search.json", mapping={"record_id": "id"})
        assert [r.record_id for r in records] == ["10042", "10043", "10044"]

    def test_a_whole_field_mapping_replaces_the_default(self) -> None:
        mapping = FieldMapping(
            source="jira",
            entity="story",
            record_id="key",
            occurred_at="fields.created",
            fields={"who": "fields.assignee.accountId"},
        )
        record = from_jira(FIXTURES / "jira_search.json", mapping=mapping)[0]
        assert record.entity == "story" and set(record.fields) == {"who"}

    def test_keep_unmapped_in_json(self) -> None:
        mapping = {"keep_unmapped": True}
        record = from_zendesk(FIXTURES / "zendesk_ticket.json", mapping=mapping)[0]
        assert record.field("group_id") == 98738
        assert record.field("custom_fields")[0]["value"] == "745"
        assert "id" not in record.fields

    def test_dropping_an_unknown_field(self) -> None:
        with pytest.raises(SchemeError) as info:
            resolve_mapping(JIRA_MAPPING, {"fields": {"story_point": None}})
        assert info.value.path == "mapping.fields.story_point" and "'story_points'" in str(info.value)

    def test_a_new_field_needs_a_path(self) -> None:
        with pytest.raises(SchemeError, match="needs a path"):
            resolve_mapping(JIRA_MAPPING, {"fields": {"team": {"type": "text"}}})

    @pytest.mark.parametrize(
        ("changes", "path", "words"),
        [
            ({"entty": "x"}, "mapping.entty", "is not a mapping setting"),
            ({"fields": {"x": {"path": "a", "type": "money"}}}, "mapping.fields.x.type", "'auto'"),
            ({"fields": {"x": {"path": "a", "type": "number", "format": "%Y"}}}, "mapping.fields.x", "format applies"),
            ({"timezone": "Asia/Shangai"}, "mapping.timezone", "unknown timezone"),
            ({"record_id": {"type": "number"}}, "mapping.record_id", "a record id is text"),
            ({"occurred_at": {"type": "boolean"}}, "mapping.occurred_at", "a datetime or a date"),
            ({"fields": {"x": ""}}, "mapping.fields.x.path", "cannot be empty"),
            ({"fields": {"x": []}}, "mapping.fields.x.path", "at least one path"),
            ({"source": ""}, "mapping.source", "at least 1 character"),
        ],
    )
    def test_mistakes_name_the_setting(self, changes: dict[str, Any], path: str, words: str) -> None:
        with pytest.raises(SchemeError) as info:
            resolve_mapping(JIRA_MAPPING, changes)
        assert info.value.path == path
        assert words in str(info.value)

    def test_several_mistakes_at_once(self) -> None:
        with pytest.raises(SchemeError) as info:
            resolve_mapping(JIRA_MAPPING, {"entty": "x", "timezone": "Mars/Base"})
        assert {p.path for p in info.value.problems if isinstance(p, SchemeError)} == {
            "mapping.entty",
            "mapping.timezone",
        }

    def test_a_bad_path_is_found_before_reading(self) -> None:
        with pytest.raises(SchemeError) as info:
            from_jira(FIXTURES / "jira_search.json", mapping={"fields": {"x": "fields..summary"}})
        assert info.value.path == "mapping.fields.x.path"

    def test_an_unknown_tz(self) -> None:
        with pytest.raises(SchemeError) as info:
            from_jira(FIXTURES / "jira_search.json", tz="Asia/Shangai")
        assert info.value.path == "tz"

    def test_a_mapping_of_the_wrong_type(self) -> None:
        with pytest.raises(SchemeError, match="a FieldMapping or a dict"):
            from_jira(FIXTURES / "jira_search.json", mapping=["key"])  # type: ignore[arg-type]

    def test_defaults_are_not_changed_by_overrides(self) -> None:
        before = JIRA_MAPPING.model_dump()
        JIRA_MAPPING.override({"fields": {"story_points": None}, "source": "x"})
        assert JIRA_MAPPING.model_dump() == before


class TestPaths:
    """Dotted paths into nested JSON."""

    def test_parse(self) -> None:
        assert parse_path("fields.components[*].name") == (Key("fields"), Key("components"), Each(), Key("name"))
        assert parse_path("custom_fields[id=27642].value") == (Key("custom_fields"), Match("id", "27642"), Key("value"))
        assert parse_path("tags[-1]") == (Key("tags"), Index(-1))

    @pytest.mark.parametrize("text", ["", " a", "a.", "a[b", "a[]", "a[=1]", "a]b"])
    def test_bad_paths(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_path(text)

    def test_lookup_outcomes(self) -> None:
        issue = {"fields": {"components": [{"name": "支付"}, {"id": 2}], "assignee": None, "labels": ["a", "b"]}}
        assert lookup(issue, parse_path("fields.components[*].name")) == Found(("支付", None))
        assert lookup(issue, parse_path("fields.labels[1]")) == Found("b")
        assert lookup(issue, parse_path("fields.labels[5]")) is ABSENT
        assert lookup(issue, parse_path("fields.assignee.accountId")) == Found(None)
        assert lookup(issue, parse_path("fields.reporter")) is ABSENT

    def test_wrong_shapes(self) -> None:
        with pytest.raises(ShapeProblem, match="expected a list at 'tags', found text"):
            lookup({"tags": "a,b"}, parse_path("tags[0]"))
        with pytest.raises(ShapeProblem, match="2 items match"):
            lookup({"cf": [{"id": 1}, {"id": 1}]}, parse_path("cf[id=1]"))


class TestConvert:
    """Reading values as the types a mapping asks for."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-04-01T10:00:00.000+0800", datetime(2026, 4, 1, 10, tzinfo=CST)),
            ("2026-04-01T10:00:00Z", datetime(2026, 4, 1, 10, tzinfo=timezone.utc)),
            ("2026-04-01T10:00:00+08:00", datetime(2026, 4, 1, 10, tzinfo=CST)),
            ("2026-04-01 10:00+08", datetime(2026, 4, 1, 10, tzinfo=CST)),
            (
                "2026-04-01T10:00:00.1234567-05:30",
                datetime(2026, 4, 1, 10, 0, 0, 123456, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
            ),
        ],
    )
    def test_iso_times(self, text: str, expected: datetime) -> None:
        parsed = to_datetime(text, None, None)
        assert parsed == expected and parsed.utcoffset() == expected.utcoffset()

    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("2026-02-30T10:00Z", "not a valid date"),
            ("2026-04-01T25:00Z", "not a valid time of day"),
            ("2026-04-01T10:00+2500", "impossible UTC offset"),
            ("01/04/2026", "not an ISO 8601"),
            ("2026-04-01T10:00", "no UTC offset"),
            ("2026-04-01", "date without a time"),
        ],
    )
    def test_bad_times(self, text: str, words: str) -> None:
        with pytest.raises(ValueError, match=words):
            to_datetime(text, None, None)

    def test_naive_values_take_the_zone(self) -> None:
        assert to_datetime("2026-04-01T10:00", None, SHANGHAI) == datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)
        assert to_datetime(datetime(2026, 4, 1, 10), None, SHANGHAI) == datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)
        assert to_datetime(date(2026, 4, 1), None, SHANGHAI) == datetime(2026, 4, 1, tzinfo=SHANGHAI)

    def test_dates(self) -> None:
        assert to_date("2026-05-15", None) == date(2026, 5, 15)
        assert to_date("15.05.2026", "%d.%m.%Y") == date(2026, 5, 15)
        with pytest.raises(ValueError, match="not a date like"):
            to_date("2026-05-15T10:00Z", None)
        with pytest.raises(ValueError, match="does not match the format"):
            to_date("2026-05-15", "%d.%m.%Y")

    @pytest.mark.parametrize(
        ("value", "expected"), [("true", True), ("FALSE", False), ("1", True), (0, False), ("yes", True)]
    )
    def test_booleans(self, value: Any, expected: bool) -> None:
        assert convert(value, "boolean", None, None) is expected

    def test_numbers(self) -> None:
        assert convert("12000.50", "number", None, None) == Decimal("12000.50")
        assert convert(0.1, "number", None, None) == Decimal("0.1")
        assert convert(Decimal("5.0"), "integer", None, None) == 5
        for bad in ("1,234", True, float("nan"), "abc"):
            with pytest.raises(ValueError):
                convert(bad, "number", None, None)
        with pytest.raises(ValueError, match="not a whole number"):
            convert("2.5", "integer", None, None)

    def test_text_and_auto(self) -> None:
        assert convert(235323, "text", None, None) == "235323"
        assert convert([1, 2], "text", None, None) == ("1", "2")
        assert convert({"a": [0.1]}, "auto", None, None) == {"a": (Decimal("0.1"),)}
        with pytest.raises(ValueError, match="expected text"):
            convert({"a": 1}, "text", None, None)

    def test_record_ids(self) -> None:
        assert record_id_text(35436) == "35436"
        assert record_id_text(Decimal("10042")) == "10042"
        for bad in ("  ", True, Decimal("1.5"), None):
            with pytest.raises(ValueError):
                record_id_text(bad)


class TestRegistry:
    def test_the_public_surface_is_pinned(self) -> None:
        import perfkit.metrics.adapters as adapters

        assert adapters.__all__ == [
            "ADAPTERS",
            "CSV_DEFAULTS",
            "JIRA_MAPPING",
            "SALESFORCE_MAPPING",
            "ZENDESK_MAPPING",
            "Adapter",
            "FieldMapping",
            "FieldSpec",
            "FieldType",
            "from_csv",
            "from_jira",
            "from_salesforce",
            "from_zendesk",
            "resolve_mapping",
        ]
        assert all(hasattr(adapters, name) for name in adapters.__all__)

    def test_every_adapter_by_name(self) -> None:
        assert sorted(ADAPTERS) == ["csv", "jira", "salesforce", "zendesk"]
        assert ADAPTERS["jira"](FIXTURES / "jira_search.json")[0].record_id == "PAY-42"
        assert ADAPTERS["zendesk"](FIXTURES / "zendesk_ticket.json")[0].record_id == "35436"
        assert len(ADAPTERS["salesforce"](FIXTURES / "salesforce_opportunities.csv", tz="UTC")) == 3
        assert len(ADAPTERS["csv"](FIXTURES / "erp_receipts.csv", mapping=RECEIPTS, tz="UTC")) == 3


class TestDocs:
    """docs/adapters.md shows each default mapping as a table; the tables match the code."""

    @pytest.mark.parametrize(
        "mapping", [JIRA_MAPPING, ZENDESK_MAPPING, SALESFORCE_MAPPING], ids=["jira", "zendesk", "sf"]
    )
    def test_default_mapping_tables(self, mapping: FieldMapping) -> None:
        page = DOCS.read_text(encoding="utf-8")
        rows = {
            ("record_id", mapping.record_id),
            ("occurred_at", mapping.occurred_at),
            *((name, spec) for name, spec in mapping.fields.items()),
        }
        for name, spec in rows:
            row = re.compile(
                rf"^\|\s*`{re.escape(name)}`\s*\|\s*`{re.escape(str(spec.path))}`\s*\|\s*{spec.type}\s*\|", re.MULTILINE
            )
            assert row.search(page), (
                f"adapters.md lacks the row for {mapping.source} {name} ← {spec.path} ({spec.type})"
            )


# -- properties ----------------------------------------------------------------------------

amounts = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12)


class TestProperties:
    @settings(max_examples=60, deadline=None)
    @given(amount=amounts)
    def test_an_amount_is_read_exactly_from_json_and_csv(self, amount: Decimal) -> None:
        literal = format(amount, "f")
        record = load("salesforce_opportunities.json")["records"][0]
        record["Amount"] = "AMOUNT"
        text = json.dumps({"totalSize": 1, "done": True, "records": [record]}).replace('"AMOUNT"', literal)
        header = "Id,OwnerId,Name,Amount,CloseDate,StageName,IsWon,IsClosed,AccountId"
        csv_text = f"{header}\n006A,005X,D,{literal},2026-05-15,Won,true,true,\n"
        (from_json,) = from_salesforce(text, tz="UTC")
        (from_csv_,) = from_salesforce(csv_text, tz="UTC")
        assert from_json.field("amount") == amount and str(from_json.field("amount")) == literal
        assert from_csv_.field("amount") == amount and str(from_csv_.field("amount")) == literal

    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 10**6))
    def test_records_do_not_depend_on_payload_order(self, seed: int) -> None:
        expected = from_zendesk(FIXTURES / "zendesk_tickets.json", loaded_at=LOADED)
        data = load("zendesk_tickets.json")
        data["tickets"] += [dict(t, id=t["id"] + 10) for t in data["tickets"]]
        random.Random(seed).shuffle(data["tickets"])
        records = from_zendesk(data, loaded_at=LOADED)
        assert [r.record_id for r in records] == ["35436", "35437", "35446", "35447"]
        assert [r for r in records if r.record_id in ("35436", "35437")] == list(expected)

"""Parsing a list's items CSV in pieces: subsets, properties, and the read/write columns of a
list under selective access."""

from __future__ import annotations

from anaplan_tasks._core.lists import ItemRows

CSV = (
    b"id,name,code,parent,parentId,listId,listName,read,write,Active,Owner\n"
    b'205000000001,Red,RED,,,,,bo@example.com,"ann@example.com, bo@example.com",true,Kim\n'
)


def test_selective_access_columns_are_read_and_write_not_subsets() -> None:
    rows = ItemRows(["Owner"], selective_access=True)
    items = rows.feed(CSV[:90]) + rows.feed(CSV[90:], final=True)
    assert len(items) == 1
    item = items[0]
    assert (item.read, item.write) == ("bo@example.com", "ann@example.com, bo@example.com")
    assert (item.subsets, item.properties) == ({"Active": True}, {"Owner": "Kim"})


def test_without_selective_access_every_other_column_is_a_subset_or_a_property() -> None:
    items = ItemRows(["Owner"]).feed(CSV, final=True)
    assert items[0].read is None
    assert items[0].subsets == {"read": False, "write": False, "Active": True}

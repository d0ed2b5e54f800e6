from django.test import RequestFactory

from engagex.web.tables import MAX_SEARCH_LENGTH, Column, Filter, table_state

COLUMNS = [
    Column("name", "Name", sortable=True),
    Column("size", "Size", sortable=True),
    Column("x", "X"),
]
FILTERS = [Filter("status", "Status", [("", "All"), ("sent", "Sent")])]


def _state(**params):
    request = RequestFactory().get("/", params)
    return table_state(
        request, table_id="t", columns=COLUMNS, filters=FILTERS, default_sort="-size"
    )


def test_defaults():
    state = _state()
    assert (state.search, state.sort_key, state.descending) == ("", "size", True)
    assert state.ordering == ["-size"]
    assert state.filter_values == {"status": ""}
    assert not state.is_filtered


def test_valid_parameters_are_used():
    state = _state(q="  spring ", sort="name", status="sent", page="2")
    assert (state.search, state.ordering, state.filter_values["status"]) == (
        "spring",
        ["name"],
        "sent",
    )
    assert state.is_filtered
    assert state.paginate(list(range(60))).number == 2


def test_hand_edited_urls_fall_back_to_defaults():
    state = _state(sort="password", status="'; DROP", page="last-ish")
    assert state.ordering == ["-size"]  # unknown or unsortable columns are ignored
    assert _state(sort="x").ordering == ["-size"]
    assert state.filter_values["status"] == ""
    assert state.paginate(list(range(60))).number == 1


def test_out_of_range_page_shows_the_last_page():
    assert _state(page="999").paginate(list(range(60))).number == 3


def test_search_is_capped():
    assert len(_state(q="a" * 5000).search) == MAX_SEARCH_LENGTH

"""Server-side data tables: search, filters, sorting and pagination from the query string.

A view declares its columns and filters, reads a `TableState` from the request,
asks its selector for rows with that state, and hands the page to the
`components/data_table.html` template. Works as plain links and forms without
JavaScript; with htmx only the results region is swapped (see `render_table`).
Unknown sort keys, filter values or page numbers fall back to defaults: a
hand-edited URL never produces an error page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.shortcuts import render

MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sortable: bool = False
    numeric: bool = False
    # What to order by when this column is sorted (defaults to the key).
    order_field: str | None = None


@dataclass(frozen=True)
class Filter:
    name: str
    label: str
    # (value, label) pairs; the empty value means "all".
    choices: Sequence[tuple[str, str]]


@dataclass
class TableState:
    table_id: str
    columns: Sequence[Column]
    filters: Sequence[Filter]
    search: str = ""
    sort_key: str = ""
    descending: bool = False
    filter_values: dict[str, str] = field(default_factory=dict)
    page_number: str = "1"
    per_page: int = 25
    search_placeholder: str = "Search"

    @property
    def ordering(self) -> list[str]:
        column = next(c for c in self.columns if c.key == self.sort_key)
        field_name = column.order_field or column.key
        return [f"-{field_name}" if self.descending else field_name]

    @property
    def is_filtered(self) -> bool:
        return bool(self.search or any(self.filter_values.values()))

    @property
    def results_id(self) -> str:
        return f"{self.table_id}-results"

    def paginate(self, rows: Any) -> Page:
        return Paginator(rows, self.per_page).get_page(self.page_number)


def table_state(
    request,
    *,
    table_id: str,
    columns: Sequence[Column],
    default_sort: str,
    filters: Sequence[Filter] = (),
    per_page: int = 25,
    search_placeholder: str = "Search",
) -> TableState:
    params = request.GET
    sortable = {column.key for column in columns if column.sortable}
    sort = params.get("sort", default_sort)
    descending = sort.startswith("-")
    if sort.lstrip("-") not in sortable:
        sort, descending = default_sort, default_sort.startswith("-")
    filter_values = {}
    for table_filter in filters:
        value = params.get(table_filter.name, "")
        allowed = {choice for choice, _ in table_filter.choices}
        filter_values[table_filter.name] = value if value in allowed else ""
    return TableState(
        table_id=table_id,
        columns=columns,
        filters=filters,
        search=params.get("q", "").strip()[:MAX_SEARCH_LENGTH],
        sort_key=sort.lstrip("-"),
        descending=descending,
        filter_values=filter_values,
        page_number=params.get("page", "1"),
        per_page=per_page,
        search_placeholder=search_placeholder,
    )


def render_table(request, template_name: str, context: dict, *, state: TableState):
    """Full page normally; only the results region when htmx asks for it."""
    if request.htmx and request.htmx.target == state.results_id:
        return render(request, "components/_data_table_results.html", context)
    return render(request, template_name, context)

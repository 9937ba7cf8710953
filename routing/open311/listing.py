"""The SQL of ``GET requests``: lean columns by scope, times formatted by the database, keyset order.

A list of 1,000 requests was mostly Python work on the rows, not the query (on 1,000,000 cases
the query plan reads 1,000 index entries): building 2,000 aware datetimes and formatting them
again as W3C strings, reading the narrative for readers who may not see it, and joining the API
meta for readers without the ``geo`` or ``personal`` scope. Here:

- the narrative is selected only for the ``personal`` scope; ``api_case_meta`` is joined only
  for ``geo`` (lat/long) or ``personal`` (media_url); otherwise those places are NULL;
- ``requested_datetime`` and ``updated_datetime`` come out of the database as the W3C text in
  China Standard Time (``to_char`` on PostgreSQL, ``strftime`` on SQLite);
- rows come newest first by ``(created_at, id)`` from ``ix_cases_created``, or, for
  ``status=open``, from the partial index of open cases ``ix_cases_open_created`` (migration
  0015), so the database never sorts the window.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, String, null, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from routing.open311.fields import COLUMNS
from routing.persistence.case_tables import Case
from routing.persistence.open311_tables import ApiCaseMeta

META = ("lat", "long", "media_url")
SORT = ("sort_at", "sort_id")  # trailing columns of every row, for the order only


class w3c_cst(FunctionElement[str]):  # noqa: N801 - an SQL function's name
    """A timestamp column as a W3C datetime in China Standard Time (``2026-04-27T09:30:00+08:00``)."""

    type = String()
    name = "w3c_cst"
    inherit_cache = True


@compiles(w3c_cst, "postgresql")
def _w3c_postgresql(element: w3c_cst, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return (f"to_char(({column} AT TIME ZONE 'UTC') + interval '8 hours', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')")


@compiles(w3c_cst, "sqlite")
def _w3c_sqlite(element: w3c_cst, compiler: SQLCompiler, **kw: Any) -> str:
    # the store writes UTC; SQLite keeps it as text without a zone
    return f"strftime('%Y-%m-%dT%H:%M:%S+08:00', {compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(w3c_cst)
def _w3c_other(element: w3c_cst, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)  # a datetime: ``fields.w3c`` formats it in Python


def lean_select(geo: bool, personal: bool) -> Select[Any]:
    """The ``COLUMNS`` of a request record as this reader may see them, then ``SORT``."""
    columns: list[ColumnElement[Any]] = []
    for name in COLUMNS:
        if name in ("created_at", "updated_at"):
            columns.append(w3c_cst(getattr(Case, name)).label(name))
        elif name == "narrative_original":
            columns.append(Case.narrative_original.expression if personal else null().label(name))
        elif name in META:
            wanted = geo if name in ("lat", "long") else personal
            columns.append(getattr(ApiCaseMeta, name).expression if wanted else null().label(name))
        else:
            columns.append(getattr(Case, name).expression)
    query = select(*columns, Case.created_at.label(SORT[0]), Case.id.label(SORT[1]))
    if geo or personal:
        query = query.outerjoin(ApiCaseMeta, ApiCaseMeta.case_id == Case.id)
    return query

"""Handing a batch to PostgreSQL cheaply: rows by COPY, a list as one array parameter.

The ballot box, its tallies and a device's stored log write thousands of rows a batch;
the ORM and psycopg's adapters, working row by row and element by element in Python,
cost more than the database's own work for them. Elsewhere (SQLite) the plain ways.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import JSON, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.db import bulk_insert


def array_literal(values: Iterable[str | int]) -> str:
    """PostgreSQL's text form of an array, for a parameter the statement casts once
    (CAST(:keys AS bigint[])): psycopg's own list adapter spends about 10 microseconds
    per element in Python, this well under one. Not for a comparison in a WHERE clause:
    there the planner cannot see into the cast, may filter instead of using an index,
    and then parses the text again for every row (a 50 s lookup, measured)."""
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Insert `rows` (values in the order of `columns`; a JSON column's value as its
    JSON text) in the session's transaction.

    On PostgreSQL by COPY on the session's own connection: against one INSERT from
    json_populate_recordset (server.db.bulk_insert) it spares encoding the rows as JSON
    and the database reading them back (psycopg writes each value as PostgreSQL reads
    it; a JSON column takes the text as it is). A violated constraint (a vote id
    inserted at the same moment by another transaction) raises the IntegrityError an
    INSERT would, and the transaction must be rolled back as after one. Elsewhere
    bulk_insert.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        decode = [isinstance(table.c[c].type, JSON) for c in columns]
        bulk_insert(
            session,
            table,
            [
                {
                    c: json.loads(v) if d and v is not None else v
                    for c, v, d in zip(columns, row, decode, strict=True)
                }
                for row in rows
            ],
        )
        return
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    import psycopg  # PostgreSQL only: SQLite took the branch above

    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection), type(driver)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as error:
        # As SQLAlchemy wraps the driver's errors for an execute: IntegrityError,
        # OperationalError (a deadlock, a cancelled statement)...
        raise DBAPIError.instance(statement, None, error, psycopg.Error) from error

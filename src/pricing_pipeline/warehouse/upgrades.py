"""Upgrades of a warehouse written by version 1.1.0 of this project, each applied by the next run
where it is needed. Delete them once no warehouse of 1.1.0 is left.

* raw.responses.body: 1.1.0 kept every landed body in the table; the next landing writes each to its
  file and drops the column (move_bodies_out).
* marts.product_prices: a table in 1.1.0, a view since; the next load drops the table, in its
  transaction, before the model creates the view (drop_tables_now_views).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pricing_pipeline.common.files import write_whole
from pricing_pipeline.warehouse.connection import user_tables

# Relations that a warehouse of 1.1.0 holds as tables and the models now create as views.
NOW_VIEWS = ("marts.product_prices",)


def drop_tables_now_views(con: duckdb.DuckDBPyConnection) -> None:
    """Drop each table that the models now create as a view; inside the load's transaction."""
    stored = user_tables(con)
    for relation in NOW_VIEWS:
        if relation in stored:
            con.execute(f"DROP TABLE {relation}")


def move_bodies_out(con: duckdb.DuckDBPyConnection, data_dir: Path) -> int:
    """A warehouse from before bodies were kept as files holds them in raw.responses.body: each is
    written to its file (unless a file with its digest is there), then the column is replaced by
    the file's path and size, in one transaction. Returns the bodies moved."""
    columns = (
        {row[0] for row in con.execute("DESCRIBE raw.responses").fetchall()}
        if "raw.responses" in user_tables(con)
        else set()
    )
    if "body" not in columns:
        return 0
    rows = con.execute("SELECT rowid, run_id, name, body_sha256 FROM raw.responses").fetchall()
    files = {}
    for rowid, run_id, name, digest in rows:
        [(body,)] = con.execute("SELECT body FROM raw.responses WHERE rowid = ?", [rowid]).fetchall()
        path = data_dir / "raw" / run_id / f"{name}.{digest[:16]}.body"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_whole(path, bytes(body))
        files[rowid] = (path.relative_to(data_dir).as_posix(), len(body))
    con.execute("BEGIN TRANSACTION")
    con.execute("ALTER TABLE raw.responses ADD COLUMN body_bytes BIGINT")
    con.execute("ALTER TABLE raw.responses ADD COLUMN body_file VARCHAR")
    for rowid, (path, size) in files.items():
        con.execute("UPDATE raw.responses SET body_file = ?, body_bytes = ? WHERE rowid = ?", [path, size, rowid])
    con.execute("ALTER TABLE raw.responses DROP COLUMN body")
    con.execute("COMMIT")
    return len(files)

"""`spilno ballots commit`: every ready sheet recorded as one paper vote in the device log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from paper.messages import message
from support_point.cli_common import (
    SHEETS_OPTION,
    STORE_OPTION,
    fail,
    open_sheets,
    open_support_point,
    package_refused,
)
from support_point.texts import both

__all__ = ["commit_command"]


def _form(form_id: int) -> dict[str, int]:
    """A ballot sheet's cycle, or a poll sheet's poll (kept under minus its id)."""
    return {"poll_id": -form_id} if form_id < 0 else {"cycle_id": form_id}


def _record(form_id: int, record_id: str) -> dict[str, str]:
    return {"answer_id": record_id} if form_id < 0 else {"vote_id": record_id}


@click.command("commit")
@STORE_OPTION
@SHEETS_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per sheet, then a summary.")
def commit_command(store_path: Path, sheets_path: Path | None, as_json: bool) -> None:
    """Record every ready sheet as ONE paper vote in the device log (all its pages
    together, checked against the cycle's rules first), and every ready poll sheet as
    ONE poll answer; `spilno device sync` sends them. Sheets that break the rules stay
    in review with the reason. Safe to run again."""
    from support_point.commit import CommitError, commit_ready_sheets
    from sync.clock import system_clock_ms
    from sync.store_file import StoreError
    from sync.wire import ProtocolError

    device_store, _identity = open_support_point(store_path)
    try:
        stored = device_store.package()
    except ProtocolError as exc:  # a stored package this release cannot read: nothing is touched
        device_store.close()
        raise package_refused(exc) from None
    except StoreError as exc:
        device_store.close()
        raise click.ClickException(both("Помилка пристрою") + f": {exc}") from None
    sheets = open_sheets(store_path, sheets_path)
    try:
        now_ms = system_clock_ms() - device_store.clock_offset_ms()
        result = commit_ready_sheets(sheets, device_store, stored.content if stored else None, now_ms=now_ms)
    except CommitError as exc:
        raise fail(exc.code, exc.detail) from None
    except StoreError as exc:
        raise click.ClickException(both("Помилка пристрою") + f": {exc}") from None
    finally:
        sheets.close()
        device_store.close()
    lines: list[dict[str, Any]] = [
        {**_form(c), "serial": s, "outcome": "committed", **_record(c, v)} for c, s, v in result.committed
    ]
    lines += [{**_form(c), "serial": s, "outcome": "committed", **_record(c, v), "recovered": True}
              for c, s, v in result.recovered]  # fmt: skip
    lines += [{**_form(c), "serial": s, "outcome": "needs_review", "reasons": r} for c, s, r in result.held]
    committed = len(result.committed) + len(result.recovered)
    if as_json:
        for line in lines:
            click.echo(json.dumps(line, ensure_ascii=False))
        click.echo(json.dumps({"summary": True, "committed": committed, "needs_review": len(result.held)}))
        return
    for line in lines:
        why = "; ".join(f"{message(c, 'uk')} / {message(c, 'en')}" for c in line.get("reasons", []))
        done = both("відповідь записано") if "answer_id" in line else both("голос записано")
        state = done if line["outcome"] == "committed" else both("на перевірці")
        click.echo(f"{line['serial']}: {state}{' — ' + why if why else ''}")
    click.echo(
        both("Записано голосів {committed}, на перевірці {held}", committed=committed, held=len(result.held))
    )

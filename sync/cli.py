"""`spilno device ...`: enrol a terminal or support point, sync it, look at it.

The commands only parse options, call sync/ and print; messages are Ukrainian first,
English after " / ". With --json a command prints one JSON object per line.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import threading
from pathlib import Path
from typing import Any

import click

from sync.client import SyncClient
from sync.clock import datetime_from_ms, skewed_clock
from sync.clock_guard import ClockGuard
from sync.device_store import DeviceStore
from sync.simulated_votes import simulated_vote
from sync.store_file import StoreError, disk_problem
from sync.sync_errors import SyncError, SyncRefused
from sync.texts import both, both_counted
from sync.wire import ProtocolError
from sync.worker import RoundOutcome, SyncWorker

device_group = click.Group(
    "device", help="A terminal or support point: enrol it, sync its vote log, check it."
)

_store_option = click.option(
    "--store",
    "store_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The device's SQLite file (created on enrolment).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
_skew_option = click.option(
    "--clock-skew-ms",
    default=0,
    envvar="SPILNO_DEVICE_CLOCK_SKEW_MS",
    show_default=True,
    help="Run the device clock this many ms ahead (negative: behind), to rehearse a wrong clock.",
)


def _open_store(path: Path, *, must_exist: bool = True) -> DeviceStore:
    if must_exist and not path.exists():
        raise click.ClickException(both("Файлу пристрою немає: {path}", path=path))
    try:
        store = DeviceStore(path)
        enrolled = store.enrolled()
    except sqlite3.Error as exc:  # a full disk, a read-only mount, a file that is not SQLite
        raise click.ClickException(disk_problem(path, exc)) from None
    if must_exist and not enrolled:
        raise click.ClickException(both("Пристрій не зареєстровано: {path}", path=path))
    return store


def _fail(exc: Exception) -> click.ClickException:
    if isinstance(exc, SyncRefused):
        text = both("Сервер відмовив ({code})", code=exc.code) + f": {exc}"
    elif isinstance(exc, SyncError):
        text = both("Немає зв'язку з сервером") + f": {exc}"
    else:
        text = both("Помилка пристрою") + f": {exc}"
    return click.ClickException(text)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, sort_keys=True))


@device_group.command("enrol")
@_store_option
@click.option("--server", required=True, help="The server's base URL, e.g. https://spilno.example.ua")
@click.option("--code", required=True, help="The one-time enrolment code from the moderator console.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for the server.")
def enrol(store_path: Path, server: str, code: str, timeout: float) -> None:
    """Enrol this device with a one-time code; its signing key is made here and never leaves."""
    store = _open_store(store_path, must_exist=False)
    try:
        identity = SyncClient(store, server, timeout=timeout).enrol(code)
    except (SyncError, StoreError, ProtocolError) as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    click.echo(
        both(
            "Пристрій {device} зареєстровано в громаді «{community_name}»",
            device=identity.device,
            community_name=identity.community_name,
        )
    )


def _round_line(outcome: RoundOutcome) -> dict[str, object]:
    if outcome.result is None:
        return {"ok": False, "error": outcome.error, "next_try_s": round(outcome.next_wait_s, 1)}
    push = outcome.result.push
    return {
        "ok": not push.gap,
        "package_version": outcome.result.package_version,
        "sent": push.sent,
        "acked_seq": push.acked_seq,
        "backlog": push.backlog,
        "gap": push.gap,
        "statuses": outcome.result.statuses,
    }


def _print_round(outcome: RoundOutcome, as_json: bool) -> None:
    line = _round_line(outcome)
    if as_json:
        _echo_json(line)
    elif line["ok"]:
        click.echo(
            both(
                "Надіслано {sent}, у черзі {backlog}, підтверджено до №{acked_seq}",
                sent=line["sent"],
                backlog=line["backlog"],
                acked_seq=line["acked_seq"],
            )
        )
    else:
        error = line.get("error") or "sync.gap"
        click.echo(both("Синхронізація не вдалася") + f": {error}", err=True)


@device_group.command("sync")
@_store_option
@click.option("--once", is_flag=True, help="Run one round and exit (exit code 1 if it failed).")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between rounds.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for the server.")
@_skew_option
@_json_option
def sync_command(
    store_path: Path, once: bool, interval: float, timeout: float, clock_skew_ms: int, as_json: bool
) -> None:
    """Pull the newest package, push every pending vote, learn statuses; with --once one
    round, otherwise every INTERVAL seconds until Ctrl+C or SIGTERM."""
    store = _open_store(store_path)
    clock = skewed_clock(clock_skew_ms)
    try:
        if once:
            outcome = SyncWorker(store, interval_s=interval, timeout=timeout, clock=clock).run_once()
            _print_round(outcome, as_json)
            if not _round_line(outcome)["ok"]:
                raise SystemExit(1)
            return
        finished = threading.Event()
        worker = SyncWorker(
            store,
            interval_s=interval,
            timeout=timeout,
            clock=clock,
            on_round=lambda outcome: _print_round(outcome, as_json),
        )
        # SIGTERM (systemd, a test harness) stops as cleanly as Ctrl+C does.
        previous = signal.signal(signal.SIGTERM, lambda *_: finished.set())
        worker.start()
        try:
            while not finished.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            worker.stop(timeout + 1)
    finally:
        store.close()


@device_group.command("status")
@_store_option
@_json_option
def status(store_path: Path, as_json: bool) -> None:
    """Show what the maintenance screen shows: device, package, backlog, last sync, clock."""
    store = _open_store(store_path)
    try:
        summary = store.summary()
    finally:
        store.close()
    if as_json:
        _echo_json(summary)
        return
    lines: list[tuple[str, object]] = [
        (both("Пристрій"), summary["device"]),
        (both("Вид"), summary["kind"]),
        (both("Громада"), summary["community"]),
        (both("Сервер"), summary["server"]),
        (both("Версія пакета"), summary["package_version"]),
        (both("Не надіслано"), summary["backlog"]),
        (both("Підтверджено до"), summary["acked_seq"]),
        (both("Остання синхронізація"), summary["last_sync_at"]),
        (both("Результат"), summary["last_sync_result"]),
        (both("Остання помилка"), summary["last_error"]),
        (both("Зсув годинника, мс"), summary["clock_offset_ms"]),
        (both("Статуси голосів"), summary["statuses"]),
    ]
    for label, value in lines:
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        click.echo(f"{label}: {'—' if value is None else value}")
    for alarm in summary["alarms"]:
        click.echo(
            both("Сигнал") + f": {alarm['kind']} ×{alarm['repeats']}, {alarm['last_at']}: {alarm['message']}"
        )


@device_group.command("verify")
@_store_option
@_json_option
def verify(store_path: Path, as_json: bool) -> None:
    """Re-check the whole hash chain of the vote log; exit code 1 if it is broken."""
    store = _open_store(store_path)
    try:
        bad_seq, last_seq = store.verify_log(), store.last_seq()
    finally:
        store.close()
    if as_json:
        _echo_json({"ok": bad_seq is None, "first_bad_seq": bad_seq, "entries": last_seq})
    elif bad_seq is None:
        click.echo(both_counted("Журнал цілий: {n} запис", "Журнал цілий: {n} записів", last_seq))
    else:
        click.echo(both("Журнал пошкоджено з запису №{seq}", seq=bad_seq), err=True)
    if bad_seq is not None:
        raise SystemExit(1)


# Fabricated votes, signed with a real device's key, would count as residents' votes:
# the command is not listed, and runs only where SIMULATION_VARIABLE is set (demos,
# benches and the fault drills set it; a terminal in the field never does).
SIMULATION_VARIABLE = "SPILNO_SIMULATION"


@device_group.command("simulate-votes", hidden=True)
@_store_option
@click.option("--count", required=True, type=click.IntRange(min=1), help="How many votes to cast.")
@click.option("--seed", type=int, default=None, help="Seed for the random residents and choices.")
@_skew_option
@_json_option
def simulate_votes(store_path: Path, count: int, seed: int | None, clock_skew_ms: int, as_json: bool) -> None:
    """Cast COUNT valid votes for the package's open cycle as this device would: random
    residents with valid taxpayer numbers, choices that obey the ballot rule (for demos
    and fault tests; only with SPILNO_SIMULATION=1 set)."""
    if os.environ.get(SIMULATION_VARIABLE) != "1":
        raise click.ClickException(
            both(
                "Вигадані голоси, підписані ключем цього пристрою, рахувалися б як голоси мешканців: "
                "команда працює лише на тестовій або демо-машині, з {variable}=1. Нічого не записано.",
                variable=SIMULATION_VARIABLE,
            )
        )
    store = _open_store(store_path)
    clock = skewed_clock(clock_skew_ms)
    try:
        identity, stored = store.require_identity(), store.package()
        if store.revoked():  # as the kiosk: a revoked device takes no more votes
            raise click.ClickException(both("Пристрій виведено з роботи: голоси не приймаються"))
        if stored is None:
            raise click.ClickException(both("Немає пакета: спершу синхронізуйте пристрій"))
        guard = ClockGuard(store, clock)
        # Whether voting is open is judged on the server's time line, so a terminal with
        # a wrong clock still opens and closes with everyone else; the guard catches a
        # clock set back since the newest vote (sync.clock_guard).
        cycles = stored.content.open_cycles(datetime_from_ms(guard.server_now_ms()))
        if not cycles:
            raise click.ClickException(both("Зараз немає відкритого голосування"))
        rng = random.Random(seed)
        cycle = cycles[0]
        for _ in range(count):
            record = simulated_vote(
                stored.content,
                cycle,
                device=identity.device,
                kind=identity.kind,
                rng=rng,
                cast_at=datetime_from_ms(guard.server_now_ms()),
            )
            entry = store.append_vote(record)  # one durable transaction per vote, like a terminal
            if as_json:
                _echo_json(
                    {"seq": entry.seq, "vote_id": record.vote_id, "selections": list(record.selections)}
                )
    except (StoreError, ValueError) as exc:
        raise _fail(exc) from None
    finally:
        store.close()
    if not as_json:
        click.echo(
            both_counted(
                "Подано {n} голос за «{title}»",
                "Подано {n} голосів за «{title}»",
                count,
                title=cycle.title,
            )
        )


@device_group.command("export-bundle")
@_store_option
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The bundle file to write, e.g. on a USB stick: /media/usb/T-0001.spilno",
)
@_json_option
def export_bundle_command(store_path: Path, out_path: Path, as_json: bool) -> None:
    """Write every vote the server has not acknowledged into a signed bundle file, for a
    terminal with no network: staff carry it on a USB stick and import it in the console."""
    from sync.bundle import BundleError, export_bundle

    store = _open_store(store_path)
    try:
        exported = export_bundle(store, out_path)
    except BundleError as exc:
        if exc.code == "bundle.nothing_to_export":
            raise click.ClickException(both("Усі голоси вже отримано сервером: переносити нічого")) from None
        raise _fail(exc) from None
    except OSError as exc:
        raise click.ClickException(
            both("Не вдалося записати файл {path}: {reason}", path=out_path, reason=exc.strerror)
        ) from None
    finally:
        store.close()
    meta = exported.meta
    if as_json:
        _echo_json(
            {
                "file": str(exported.path),
                "device": meta.device,
                "first_seq": meta.first_seq,
                "last_seq": meta.last_seq,
                "entries": meta.entry_count,
                "batches": exported.batch_count,
                "size_bytes": exported.size_bytes,
                "created_at": meta.created_at,
            }
        )
        return
    click.echo(
        both_counted(
            "Записано {n} запис (№{first}–{last}) у {path}",
            "Записано {n} записів (№{first}–{last}) у {path}",
            meta.entry_count,
            first=meta.first_seq,
            last=meta.last_seq,
            path=exported.path,
        )
    )

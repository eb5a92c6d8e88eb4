"""`spilno server demo`: build the demo community on SQLite and serve it, with a terminal
that enrols, votes and syncs while you watch.

The order matters, and every step before the build may refuse without changing
anything: take the instance folder's lock (a second run stops here), take the port, then
build the database aside and swap it in, then serve. See server.demo_guard.
"""

from __future__ import annotations

import json
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.demo_guard import (
    DemoLock,
    DemoPaths,
    PortBusy,
    building_path,
    log_to_file,
    reserve_port,
    settle_sqlite,
    swap_in,
    write_private,
)
from server.i18n import both, both_counted

DEMO_TERMINAL = "T-0001"
DEMO_KIOSK = "T-0002"  # the kiosk to try in a browser (spilno.demo_kiosk)
# The kiosk's screen answers on loopback only, as on a real terminal (kiosk.cli).
KIOSK_HOST = "127.0.0.1"
# The service PIN the README's kiosk steps set (spilno kiosk hash-pin --pin 2468).
README_KIOSK_PIN = "2468"


@dataclass(frozen=True)
class BuiltDemo:
    sign_in: list[str]  # the lines to print and keep in the sign-in file
    enrolment_code: str  # for the demo terminal
    kiosk_code: str  # for the demo's kiosk (spilno.demo_kiosk)


def demo_config(instance: Path) -> dict[str, Any]:
    """The demo's secrets, made once and kept in instance/demo-secrets.json, so sessions
    and voter keys survive a rebuild."""
    from sync.signing import generate_private_key, private_key_to_pem

    secrets_file = instance / "demo-secrets.json"
    config = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
    generated: dict[str, Callable[[], str]] = {
        "SECRET_KEY": lambda: secrets.token_hex(32),
        "VOTER_KEY_SECRET": lambda: secrets.token_hex(32),
        "SIGNING_KEY": lambda: private_key_to_pem(generate_private_key()).decode(),
    }
    if not generated.keys() <= config.keys():
        for name, make in generated.items():
            config.setdefault(name, make())
        write_private(secrets_file, json.dumps(config))
    return config | {"SESSION_COOKIE_SECURE": False}


def _code_cards_pdf(summary, url: str, instance: Path) -> Path:
    """The demo's unused code cards as a PDF a moderator would print."""
    from qr_codes.cards import CodeCard, cards_pdf
    from qr_codes.codes import code_url

    cards = [
        CodeCard(
            card.code,
            code_url(url, card.code),
            contest.school.name,
            card.class_name,
            contest.programme.title,
            card.number,
        )
        for contest, unused in summary.schools.cards
        for card in unused
    ]
    path = (instance / "demo-school-cards.pdf").resolve()
    with open(path, "wb") as f:
        cards_pdf(cards, f, layout="10")
    path.chmod(0o600)  # live codes
    return path


def sign_in_lines(summary, url: str, cards_pdf: Path, receipt: str | None) -> list[str]:
    """Everything a person needs to try the demo: addresses, sign-ins, codes, the token;
    `receipt`: the receipt code of a terminal vote, to try «Перевірити свій голос»."""
    published, current = summary.cycles[0], summary.cycles[1]
    voters = summary.voters
    results = f"{url}/results/{summary.community.slug}/{published.slug}"
    lines = [
        f"{both('Демо готове')}: {summary.community.name}, "
        + both_counted("{n} голос", "{n} голосів", summary.votes_stored),
        f"  {both('Консоль')}:         {url}/login",
        f"  {both('Публічні результати')}: {results}",
        f"  {both('Перевірити свій голос')}: {url}/check"
        + (f" ({both('код для спроби')}: {receipt})" if receipt else ""),
    ]
    for login, role, password in summary.users:
        lines.append(f"  {role:<22} {both('логін')}: {login:<10} {both('пароль')}: {password}")
    contest, unused = summary.schools.cards[0]
    lines.append(f"  {both('Шкільний бюджет')}: {contest.programme.title}")
    lines.append(f"    {both('картки з кодами')}: {cards_pdf}")
    for card in unused[:2]:
        lines.append(f"    {both('голосувати кодом')} ({card.class_name}): {url}/s/{card.code}")
    lines += [
        "  "
        + both_counted(
            "Список виборців увімкнено, голосувати з {n} року",
            "Список виборців увімкнено, голосувати з {n} років",
            voters.min_age,
        )
        + ":",
        f"    {both('картки a, b на /fake-card у списку, c — ні')}",
        f"    {both('РНОКПП з працівником')}: {voters.adult_rnokpp} ({both('у списку')}),",
        f"    {voters.young_rnokpp} ({both('молодше {age}', age=voters.min_age)})",
        f"  {both('Ще один кіоск на цій машині')}: README.md, PIN {README_KIOSK_PIN}",
        f"  API (Bearer {summary.api_token}):",
        f"    curl -H 'Authorization: Bearer {summary.api_token}' {url}/api/v1/cycles/{current.id}/results",
        f"    curl -H 'Authorization: Bearer {summary.api_token}' {url}/api/v1/polls",
        f"  {both('Опитування')}: {url}/console/polls ({both('модератор')})",
        f"  {both('Результати опитувань')}: {url}/polls/{summary.community.slug}",
    ]
    return lines


def build_demo(paths: DemoPaths, config: dict[str, Any], url: str, votes: int) -> BuiltDemo:
    """Build the demo database aside, then swap it in whole. Call under the demo lock."""
    from sqlalchemy import select

    from qr_codes.receipt_codes import receipt_code
    from server import create_app, db
    from server.demo import seed_demo
    from server.models import Device, Vote
    from server.sync.enrolment import issue_enrolment_code

    building = building_path(paths.database)
    app = create_app(config | {"DATABASE_URL": f"sqlite:///{building}"})
    with app.app_context():
        db.upgrade(db.engine())
        summary = seed_demo(db.session(), app.config["VOTER_KEY_SECRET_BYTES"], votes_per_cycle=votes)
        terminal = db.session().scalar(select(Device).where(Device.code == DEMO_TERMINAL))
        assert terminal is not None  # seed_demo made it
        code = issue_enrolment_code(db.session(), terminal).code
        kiosk = db.session().scalar(select(Device).where(Device.code == DEMO_KIOSK))
        assert kiosk is not None
        kiosk_code = issue_enrolment_code(db.session(), kiosk).code
        db.session().commit()
        kiosk_votes = select(Vote.id).where(Vote.channel == "kiosk", Vote.status == "counted")
        a_terminal_vote = db.session().scalar(kiosk_votes.order_by(Vote.id).limit(1))
    app.extensions["spilno.engine"].dispose()
    settle_sqlite(building)
    swap_in(building, paths.database)
    cards_pdf = _code_cards_pdf(summary, url, paths.instance)
    receipt = receipt_code(a_terminal_vote) if a_terminal_vote else None
    return BuiltDemo(sign_in_lines(summary, url, cards_pdf, receipt), code, kiosk_code)


def run_demo(
    instance: Path,
    host: str,
    port: int,
    *,
    serve: bool,
    votes: int,
    echo: Callable[[str], None],
    kiosk_port: int | None = None,
) -> None:
    """The whole demo: lock, ports, build, serve until interrupted. Raises
    DemoAlreadyRunning or PortBusy before touching anything. `kiosk_port`: where the
    demo's kiosk serves (on 127.0.0.1, as a terminal's screen does); None: no kiosk."""
    instance.mkdir(exist_ok=True)
    paths = DemoPaths(instance)
    url = f"http://{host}:{port}"
    lock = DemoLock(instance)
    lock.acquire()
    try:
        lock.describe(url=url if serve else None, sign_in=str(paths.sign_in))
        listener = reserve_port(host, port) if serve else None
        kiosk_listener = None
        if serve and kiosk_port is not None:
            try:
                kiosk_listener = reserve_port(KIOSK_HOST, kiosk_port, option="kiosk-port")
            except PortBusy:
                assert listener is not None
                listener.close()
                raise
        echo(both("Збираю демо…"))
        built = build_demo(paths, demo_config(instance), url, votes)
        write_private(paths.sign_in, "\n".join(built.sign_in) + "\n")
        if listener is None:
            _echo_block(echo, built.sign_in, paths, serving=False)
            return
        _serve(paths, host, port, listener, built, echo, kiosk_listener)
    finally:
        lock.release()


def _echo_block(echo: Callable[[str], None], lines: list[str], paths: DemoPaths, *, serving: bool) -> None:
    echo("")
    for line in lines:
        echo(line)
    echo(f"  {both('Ці входи також у файлі')}: {paths.sign_in}")
    if serving:
        echo(f"  {both('Журнал сервера й термінала')}: {paths.log}")
        echo(f"  {both('Ctrl+C зупиняє демо')}")
    echo("")


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _serve(paths: DemoPaths, host: str, port: int, listener, built: BuiltDemo, echo, kiosk_listener) -> None:
    from werkzeug.serving import make_server

    from server import create_app
    from spilno.demo_kiosk import DemoKiosk
    from spilno.demo_terminal import DemoTerminal

    log_to_file(paths.log)
    app = create_app(demo_config(paths.instance) | {"DATABASE_URL": f"sqlite:///{paths.database}"})
    server = make_server(host, port, app, threaded=True, fd=listener.fileno())
    listener.close()  # the server holds its own copy of the socket
    store = paths.instance / f"terminal-{DEMO_TERMINAL}.db"
    for leftover in (store, Path(f"{store}-wal"), Path(f"{store}-shm")):
        leftover.unlink(missing_ok=True)
    terminal = DemoTerminal(store, host, port, built.enrolment_code)
    terminal.start()
    # The demo's jobs (scan uploads, voter lists) run in this process, on its SQLite queue.
    from server.jobs.worker import InProcessWorker

    jobs = InProcessWorker(app)
    jobs.start()
    lines = [
        *built.sign_in,
        f"  {both('Термінал {terminal} голосує й синхронізується', terminal=DEMO_TERMINAL)}: "
        f"http://{host}:{port}/console/fleet",
    ]
    kiosk = None
    if kiosk_listener is not None:
        kiosk_url = "http://{}:{}".format(*kiosk_listener.getsockname()[:2])
        kiosk = DemoKiosk(
            paths.instance / f"terminal-{DEMO_KIOSK}.db",
            f"http://{host}:{port}",
            host,
            port,
            built.kiosk_code,
            kiosk_listener,
            README_KIOSK_PIN,
            paths.instance / "demo-receipts",
        )
        kiosk.start()
        lines += [
            f"  {both('Кіоск {kiosk}', kiosk=DEMO_KIOSK)}: {kiosk_url}"
            f" ({both('сервісний PIN')} {README_KIOSK_PIN});",
            f"    {both('картку на зчитувач')}: {kiosk_url}/fake-card;"
            f" {both('квитанції')}: {paths.instance / 'demo-receipts'}",
        ]
    _echo_block(echo, lines, paths, serving=True)
    # `kill` stops the demo as Ctrl+C does: the lock is released and its note cleared.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()  # returns on Ctrl+C (the web server catches it)
    except KeyboardInterrupt:
        pass  # one that arrived outside its loop
    finally:
        terminal.stopping.set()
        jobs.stopped.set()
        if kiosk is not None:
            kiosk.stop()
        server.server_close()
    echo(both("Демо зупинено"))

"""`spilno server demo`: the whole system on one machine, a server with a terminal that
votes by itself and a kiosk to try. It composes the server and the kiosk, so it lives
here, above every app (no app imports another); the server's own commands are in
server/cli.py."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli import server_group


@server_group.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on (make demo PORT=...); checked before anything is built.",
)
@click.option(
    "--kiosk-port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port of the demo's kiosk on 127.0.0.1 (make demo KIOSK_PORT=...; 0: no kiosk).",
)
@click.option("--no-serve", is_flag=True, help="Only build the demo database, do not start the server.")
@click.option("--votes", default=3000, show_default=True, type=int, help="Generated votes per cycle.")
def demo(host: str, port: int, kiosk_port: int, no_serve: bool, votes: int) -> None:
    """Build a fresh demo community on SQLite (instance/demo.db) and serve the console,
    with a terminal that votes and syncs by itself and a kiosk to try in a browser
    (the fake card reader at /fake-card), both enrolled with the demo server.

    Refuses, changing nothing, while another demo runs from this folder or when a
    port is taken. Sign-ins are kept in instance/demo-sign-in.txt; the server's and
    the demo terminal's log in instance/demo.log."""
    from server.demo_guard import DemoAlreadyRunning, PortBusy
    from spilno.demo_run import run_demo

    try:
        run_demo(
            Path("instance"),
            host,
            port,
            serve=not no_serve,
            votes=votes,
            echo=click.echo,
            kiosk_port=kiosk_port or None,
        )
    except (DemoAlreadyRunning, PortBusy) as refused:
        click.echo(refused.message(), err=True)
        raise SystemExit(1) from None

"""`spilno ballots review`: the review page served on this machine, behind the
operator's PIN (support_point.review_app).
"""

from __future__ import annotations

from pathlib import Path

import click

from support_point.cli_common import (
    SHEETS_OPTION,
    STORE_OPTION,
    fail,
    open_sheets,
    open_support_point,
    package_refused,
)
from support_point.texts import both

__all__ = ["review_command"]


@click.command("review")
@STORE_OPTION
@SHEETS_OPTION
@click.option("--port", default=8010, show_default=True, type=click.IntRange(1024, 65535), help="Local port.")
@click.option(
    "--pin-hash",
    envvar="SPILNO_SUPPORT_PIN_HASH",
    default=None,
    help="The operator PIN's hash (`spilno kiosk hash-pin`); or env SPILNO_SUPPORT_PIN_HASH.",
)
@click.option(
    "--reader",
    type=click.Choice(["none", "pcsc", "fake"]),
    default="none",
    show_default=True,
    help="The card reader for issuing sheets by card on «Видати бюлетень» (none: documents only).",
)
def review_command(
    store_path: Path, sheets_path: Path | None, port: int, pin_hash: str | None, reader: str
) -> None:
    """Serve the review page on http://127.0.0.1:PORT (this machine only), behind the
    operator's PIN: the sheets needing a person, oldest first, with every box to decide
    or correct (the unclear ones first, zoomed in), the whole page, and the button that
    records ready sheets as votes; and «Видати бюлетень», which issues personal sheets by
    card (--reader) or document."""
    from werkzeug.serving import run_simple

    from support_point.review_app import create_review_app, pin_hash_looks_valid
    from sync.wire import ProtocolError

    if not pin_hash_looks_valid(pin_hash):
        raise fail("review.no_pin_hash")
    device_store, _identity = open_support_point(store_path)
    try:
        device_store.package()  # a package this release cannot read is refused before serving
    except ProtocolError as exc:
        raise package_refused(exc) from None
    finally:
        device_store.close()
    open_sheets(store_path, sheets_path).close()
    app = create_review_app(
        {"STORE_PATH": str(store_path), "SHEETS_PATH": sheets_path, "PIN_HASH": pin_hash, "READER": reader}
    )
    click.echo(both("Сторінка перевірки") + f": http://127.0.0.1:{port}/")
    run_simple("127.0.0.1", port, app, threaded=True)

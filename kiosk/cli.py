"""`spilno kiosk ...`: what staff do at a terminal itself.

`export-bundle` is the very command `spilno device export-bundle` is (sync/cli.py): a
terminal is a device, and staff at the terminal look for it under "kiosk". `run`
serves the touch UI to the terminal's own browser; `load-package` brings a signed
package on a USB stick to a terminal with no network; `hash-pin` makes the service
PIN setting. Messages are Ukrainian first, English after " / ".
"""

from __future__ import annotations

import ipaddress
import json
import signal
from pathlib import Path
from typing import Any

import click

from kiosk.i18n import both
from sync.cli import export_bundle_command
from sync.packages import PACKAGE_REFUSALS

kiosk_group = click.Group("kiosk", help="A voting terminal: what staff do at the terminal itself.")
kiosk_group.add_command(export_bundle_command)

_store_option = click.option(
    "--store",
    "store_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The terminal's device file (made by `spilno device enrol`).",
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@kiosk_group.command("run")
@_store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to serve on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--reader", default=None, help="Card reader: pcsc (default) or fake.")
@click.option("--camera", default=None, help="QR camera: none (default), fake, a camera index (0) or a file.")
@click.option("--printer", default=None, help="Receipt printer: none (default), fake, file:DIR or lp:NAME.")
@click.option(
    "--school",
    "school_id",
    default=None,
    type=click.IntRange(1),
    help="A school's own terminal: take only this school's student codes (the school's id on the server).",
)
def run_command(
    store_path: Path,
    host: str,
    port: int,
    reader: str | None,
    camera: str | None,
    printer: str | None,
    school_id: int | None,
) -> None:
    """Serve the terminal's touch UI for its browser in kiosk mode (loopback only).
    Settings not given here come from SPILNO_KIOSK_* variables, e.g. the service PIN
    in SPILNO_KIOSK_SERVICE_PIN_HASH (see `spilno kiosk hash-pin`)."""
    from werkzeug.serving import make_server

    from kiosk.app import create_kiosk_app
    from kiosk.devices import DeviceConfigError

    if not _is_loopback(host):
        # The UI takes votes from whoever can reach it: only the terminal's own screen.
        raise click.ClickException(
            both("Термінал обслуговує лише власний екран: {host} не є локальною адресою", host=host)
        )
    config: dict[str, Any] = {"STORE_PATH": str(store_path)}
    for key, value in (
        ("CARD_READER", reader),
        ("CAMERA", camera),
        ("PRINTER", printer),
        ("SCHOOL_ID", school_id),
    ):
        if value is not None:
            config[key] = value
    try:
        app = create_kiosk_app(config)
    except (RuntimeError, DeviceConfigError) as exc:
        raise click.ClickException(both("Термінал не запущено") + f": {exc}") from None
    # threaded: the page's /state long poll waits in a thread of its own
    server = make_server(host, port, app, threaded=True)

    def stop(*_args: object) -> None:
        raise KeyboardInterrupt  # systemd's SIGTERM ends it as cleanly as Ctrl+C

    previous = signal.signal(signal.SIGTERM, stop)
    click.echo(both("Термінал працює на http://{host}:{port}", host=host, port=port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        app.extensions["spilno.kiosk"].close()


@kiosk_group.command("load-package")
@_store_option
@click.argument("package_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--server-key",
    default=None,
    help="The server's public key (base64) to check the signature with, when staff have it on paper;"
    " it must be the key the terminal was enrolled with.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def load_package_command(store_path: Path, package_file: Path, server_key: str | None, as_json: bool) -> None:
    """Load a signed cycle package (the envelope JSON) from a file, e.g. a USB stick, for
    a terminal with no network. Refuses a bad signature or another community's package."""
    from sync import package_envelope
    from sync.clock import datetime_from_ms, system_clock_ms
    from sync.device_store import DeviceStore
    from sync.package_fields import PackageError
    from sync.store_file import StoreError
    from sync.wire import ProtocolError

    try:
        envelope = json.loads(package_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(both("Файл пакета не прочитано") + f": {exc}") from None
    if not store_path.exists():
        raise click.ClickException(both("Файлу пристрою немає: {path}", path=store_path))
    store = DeviceStore(store_path)
    try:
        enrolled_key = store.require_identity().server_key
        if server_key is not None:
            package_envelope.open_package(envelope, server_key.strip())
            if server_key.strip() != enrolled_key:
                raise click.ClickException(both("Ключ не той, з яким термінал зареєстровано"))
        stored = store.store_package(envelope)
    except ProtocolError as exc:
        # A malformed package says where and what, in both languages, in its detail.
        reason = exc.detail if isinstance(exc, PackageError) else PACKAGE_REFUSALS.get(exc.code, exc.code)
        raise click.ClickException(both("Пакет не прийнято") + f": {reason}") from None
    except StoreError as exc:
        raise click.ClickException(both("Помилка пристрою") + f": {exc}") from None
    finally:
        store.close()
    now = datetime_from_ms(system_clock_ms())
    open_now = stored.content.open_cycles(now) + stored.content.open_school_contests(now)
    titles = [c.title for c in open_now]
    if as_json:
        line = {"package_version": stored.version, "open_cycles": titles}
        click.echo(json.dumps(line, ensure_ascii=False, sort_keys=True))
        return
    click.echo(
        both(
            "Пакет версії {version} збережено; відкрито: {titles}",
            version=stored.version,
            titles=", ".join(titles) or "—",
        )
    )


@kiosk_group.command("hash-pin")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True, help="The PIN (4-12 digits).")
def hash_pin_command(pin: str) -> None:
    """Print the hash of a service PIN for SPILNO_KIOSK_SERVICE_PIN_HASH (the PIN itself
    is never stored on the terminal)."""
    from appkit.service_pin import hash_pin

    try:
        click.echo(hash_pin(pin))
    except ValueError:
        raise click.ClickException(both("PIN має бути з 4–12 цифр")) from None

"""`spilno kiosk ...`: what staff do at a terminal itself.

`export-bundle` is the very command `spilno device export-bundle` is (sync/cli.py): a
terminal is a device, and staff at the terminal look for it under "kiosk".
"""

from __future__ import annotations

import click

from sync.cli import export_bundle_command

kiosk_group = click.Group("kiosk", help="A voting terminal: what staff do at the terminal itself.")
kiosk_group.add_command(export_bundle_command)

"""`spilno ballots ...`: paper ballots at a support point.

`print` makes the PDF of blank ballot sheets for one cycle, numbered with the support
point's own serials, and optionally the layout JSON that lets any tool check a reader
against the form. `import` reads scanned or photographed sheets (PNG, JPEG, TIFF, PDF,
or a folder of them) and reports each page: outcome, reasons, and each project's box as
marked, unmarked or marginal. The cycle comes from a signed package: normally the one the device
store holds (`--store`, verified when it was stored), or an envelope file checked with
the server's key, exactly as `spilno kiosk load-package` checks one. Messages are
Ukrainian first, English after " / ".

This module only gathers the group: each command lives in its own module (print_cli,
import_cli, review_cli, commit_cli, issue_cli), what they share in cli_common.
"""

from __future__ import annotations

import click

from support_point.commit_cli import commit_command
from support_point.import_cli import import_command
from support_point.issue_cli import cancel_command, issue_command
from support_point.print_cli import print_command
from support_point.review_cli import review_command

__all__ = ["ballots_group"]

ballots_group = click.Group(
    "ballots",
    help="Paper ballots and poll sheets at a support point: print blank sheets, read scanned ones.",
)
# One module per command (what they share is in cli_common); click lists them by name,
# whatever the order they are added in.
ballots_group.add_command(print_command)
ballots_group.add_command(import_command)
ballots_group.add_command(review_command)
ballots_group.add_command(commit_command)
ballots_group.add_command(issue_command)
ballots_group.add_command(cancel_command)

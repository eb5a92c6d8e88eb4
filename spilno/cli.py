"""`spilno`: one command for every part. Subcommand groups live beside the code they
drive (server/cli.py, ...); this module only gathers them."""

from __future__ import annotations

import click

from ballot_import.cli import ballots_group
from hardware.cli import hardware_group
from kiosk.cli import kiosk_group
from school_budget.cli import school_group
from server.cli import server_group
from sync.cli import device_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spilno-kiosk")
def main() -> None:
    """Spilno: public-budget voting on terminals, paper and school codes."""


main.add_command(server_group)
main.add_command(device_group)
main.add_command(kiosk_group)
main.add_command(hardware_group)
main.add_command(school_group)
main.add_command(ballots_group)

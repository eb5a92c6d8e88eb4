"""`spilno`: one command for every part. Subcommand groups live beside the code they
drive (server/cli.py, ...); this module only names them.

A group is imported when it is run, not before: every `spilno device sync` a terminal's
sync service starts would otherwise load the server, the paper reader and the school
code printer too (1.2 s of imports against ~0.3 s for the device commands alone)."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of its click group
GROUPS = {
    "server": "spilno.demo_cli:server_group",  # the server's commands and its demo
    "device": "sync.cli:device_group",
    "kiosk": "kiosk.cli:kiosk_group",
    "hardware": "hardware.cli:hardware_group",
    "school": "server.school.cli:school_group",
    "ballots": "support_point.cli:ballots_group",
    "count": "spilno.count:count_group",
}


class LazyGroup(click.Group):
    """A group whose subcommand groups are imported on first use."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._lazy, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module, _, attribute = self._lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=GROUPS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spilno-kiosk")
def main() -> None:
    """Spilno: public-budget voting on terminals, paper and school codes."""

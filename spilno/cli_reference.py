"""The command-line reference (docs/cli.md), written from the commands themselves.

`python -m spilno.cli_reference > docs/cli.md` writes it again; tests/test_cli_reference.py
fails when the file and the commands disagree, so the reference cannot go stale. Every
command, its usage, its help and each option's names, value, default and help come from
click: a command's docstring is its documentation.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator

import click

from spilno.cli import main

HEADER = """# Command-line reference

Every `spilno` command, written from the commands themselves by
`python -m spilno.cli_reference > docs/cli.md`; a test fails when this file and the
commands disagree. `spilno COMMAND --help` prints the same on a terminal.
"""


def _commands(command: click.Command, path: list[str], parent: click.Context | None) -> Iterator[tuple]:
    # With the command's own context settings (the root's -h), as click's own make_context
    # applies them: click caches a command's help option from the first context it sees.
    ctx = click.Context(command, info_name=path[-1], parent=parent, **command.context_settings)
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _commands(sub, [*path, name], ctx)


def _text(text: str) -> str:
    # "<store>" in a help text is a placeholder, not HTML.
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return _text(" ".join(text.split())).replace("|", "\\|")


def _default(param: click.Option) -> str:
    # A default worked out when the command runs (a callable, a path from the
    # environment) is not written down: the reference must read the same everywhere.
    unset = param.default is None or type(param.default).__name__ == "Sentinel"  # click's UNSET
    if param.is_flag or unset or callable(param.default) or param.show_default is False:
        return ""
    value = param.default
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    text = str(value)
    return "" if text in ("", "()") else f"`{text}`"


def _options(command: click.Command, ctx: click.Context) -> list[str]:
    rows = []
    for param in command.params:  # not get_params: click caches the help option per command
        if not isinstance(param, click.Option) or param.hidden:
            continue
        names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
        value = "" if param.is_flag else f"`{param.make_metavar(ctx)}`".replace("|", "\\|")
        rows.append(f"| {names} | {value} | {_default(param)} | {_cell(param.help or '')} |")
    if command.add_help_option and ctx.help_option_names:
        # Written from the context's names (the root's -h is inherited): click builds its
        # help option once per command and keeps the first context's names.
        names = ", ".join(f"`{n}`" for n in ctx.help_option_names)
        rows.append(f"| {names} |  |  | Show this message and exit. |")
    if not rows:
        return []
    return ["| option | value | default | what it does |", "| --- | --- | --- | --- |", *rows, ""]


def reference() -> str:
    lines = [HEADER]
    for path, command, ctx in _commands(main, ["spilno"], None):
        lines.append(f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`")
        lines.append("")
        lines += ["```", command.get_usage(ctx).strip(), "```", ""]
        help_text = inspect.cleandoc(command.help or "")
        if help_text:
            lines += [_text(help_text.replace("\b\n", "")), ""]
        lines += _options(command, ctx)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())

"""`spilno server recount CYCLE_ID`: verify every device chain of a cycle and recount it
from the raw records (server.sync.recount). Exit status 1 on any disagreement."""

from __future__ import annotations

import json

import click

from appkit.progress import VOTES, progress_bar
from server import db
from server.cli_context import app_context
from server.i18n import both

from .recount import RecountReport, UnknownCycle, recount_cycle


def _print_text(report: RecountReport) -> None:
    for chain in report.chains:
        state = both("ланцюжок цілий") if chain.ok else both("ЛАНЦЮЖОК ПОРУШЕНО")
        click.echo(f"{chain.device}\t{chain.entries}\t{chain.verified_up_to}\t{state}")
        for problem in chain.problems:
            click.echo(f"  {problem}")
        if chain.damaged:
            shown = ", ".join(str(seq) for seq in chain.damaged[:20])
            click.echo(f"  {both('пошкоджені записи, не враховані')}: {shown}")
    for problem in report.record_problems:
        click.echo(f"record: {problem}")
    for difference in report.funding:
        click.echo(
            f"funding: {difference.name}: published {list(difference.published)},"
            f" recounted {list(difference.recounted)}"
        )
    for m in report.status_mismatches:
        click.echo(f"status: {m.vote_id} stored {m.stored} recomputed {m.recomputed}")
    for project_id in sorted(report.tally.keys() | report.running_tally.keys()):
        click.echo(
            f"{project_id}\t{report.tally.get(project_id, 0)}\t{report.running_tally.get(project_id, 0)}"
        )
    click.echo(
        both("голосів") + f": {report.votes}; " + (both("збігається") if report.ok else both("НЕ збігається"))
    )


@click.command("recount")
@click.argument("cycle_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def recount_command(cycle_id: int, as_json: bool) -> None:
    """Verify every device chain and checkpoint of a cycle, recount it from the raw votes,
    and compare with the stored statuses and the running tally (exit 1 on any mismatch)."""
    with app_context(), progress_bar(VOTES, quiet=as_json) as bar:
        try:
            report = recount_cycle(db.session(), cycle_id, on_progress=bar.on_progress)
        except UnknownCycle:
            raise click.ClickException(both("Циклу {cycle} немає", cycle=cycle_id)) from None
    if as_json:
        for line in report.json_lines():
            click.echo(json.dumps(line, ensure_ascii=False))
    else:
        _print_text(report)
    if not report.ok:
        raise SystemExit(1)

"""`spilno count`: count and fund elections from files, by the project's own rules.

The library (voting.pabulib) reads and counts; this only opens the file and prints."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import click

from voting import TieBreak, explain
from voting.pabulib import PabulibError, count_pabulib, read_pabulib, report


@click.group("count")
def count_group() -> None:
    """Count votes and fund projects from election files (Pabulib)."""


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8-sig")


@count_group.command("pabulib")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tie-break",
    type=click.Choice([t.value for t in TieBreak]),
    default=TieBreak.CHEAPER.value,
    show_default=True,
    help="Who wins equal votes: the cheaper project, the lower number (registered earlier), or a lot.",
)
@click.option("--seed", default="", help="The published seed of the lot (with --tie-break lot).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: funded ids and every decision.")
@click.option("--lang", type=click.Choice(["uk", "en"]), default="uk", show_default=True)
def pabulib_command(file: Path, tie_break: str, seed: str, as_json: bool, lang: str) -> None:
    """Count a Pabulib .pb file (or .pb.gz) and fund it under the rule, budget and
    threshold its META names: greedy, greedy-threshold, greedy-no-skip,
    equalshares/add1, equalshares/add1-comparison."""
    from server.i18n import both, gettext_in  # the server's catalog holds the CLIs' texts

    if tie_break == TieBreak.LOT and not seed:
        raise click.UsageError(both("Для жеребу потрібне --seed"))
    try:
        election = read_pabulib(_read_text(file))
        funding = count_pabulib(election, tie_break, seed=seed)
    except (PabulibError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise click.ClickException(both("Файл не пораховано") + f": {exc}") from None
    data = report(election, funding)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    names = {p.project.project_id: p.name for p in election.projects}

    def money(amount: float) -> str:  # Pabulib amounts are in the file's currency; shares in cents
        return str(amount) if float(amount).is_integer() else f"{amount:.2f}"

    for line in funding.lines:
        reason = explain(line, lang, number=lambda i: names.get(i, i), money=money)
        click.echo(f"{line.rank}\t{names[line.project_id]}\t{line.votes}\t{line.cost}\t{reason}")
    click.echo(
        gettext_in(lang, "Профінансовано")
        + f": {', '.join(data['funded'])} ({data['spent']} / {data['budget']})"
    )


@count_group.command("cycle")
@click.argument("cycle_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: each project's decision.")
@click.option("--lang", type=click.Choice(["uk", "en"]), default="uk", show_default=True)
def cycle_command(cycle_id: int, as_json: bool, lang: str) -> None:
    """Fund a cycle on the server by each category's rule, from the running tallies and
    again from the raw vote records; exit 1 when the two fund different projects."""
    from server import db  # the server only when this command runs (see spilno.cli)
    from server.cli_context import app_context
    from server.i18n import both
    from server.models import Cycle
    from server.services.funding_recount import recount_funding
    from server.services.results import cycle_results
    from server.services.tally import recount_with_paper_tallies

    with app_context():
        session = db.session()
        cycle = session.get(Cycle, cycle_id) if 0 < cycle_id <= 2**31 - 1 else None
        if cycle is None:
            raise click.ClickException(both("Циклу {cycle} немає", cycle=cycle_id))
        results = cycle_results(session, cycle)
        differences = recount_funding(session, cycle, recount_with_paper_tallies(session, cycle_id))
    for category in results.categories:
        for p in category.projects:
            if p.line is None:
                continue
            text = explain(
                p.line, lang, number=category.number_of, money=lambda amount: f"{amount / 100:.2f}"
            )
            if as_json:
                reason = category.reason(p)
                line: dict[str, Any] = {
                    "category_id": category.category_id,
                    "project_id": p.project_id,
                    "number": p.number,
                }
                line |= {"votes": p.votes, "cost": p.cost, "outcome": p.outcome.value}
                line |= {"reason": {"code": reason[0], **reason[1]} if reason else None, "text": text}
                click.echo(json.dumps(line, ensure_ascii=False))
            else:
                click.echo(f"{category.name}\t{p.rank}\t{p.number}\t{p.votes}\t{text}")
    for difference in differences:
        if as_json:
            click.echo(json.dumps(difference.as_dict(), ensure_ascii=False))
        else:
            click.echo(
                f"«{difference.name}»: {list(difference.published)} ≠ {list(difference.recounted)} "
                f"({both('підсумки')} ≠ {both('перерахунок')})"
            )
    agrees = not differences
    if as_json:
        click.echo(json.dumps({"cycle_id": cycle_id, "agrees": agrees}))
    else:
        click.echo(both("збігається") if agrees else both("НЕ збігається"))
    if not agrees:
        raise SystemExit(1)

"""`spilno school ...`: schools and their code cards from the command line (for a
moderator with server access, or a script printing a whole school at once)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from appkit.progress import CARDS, progress_bar
from server import db
from server.cli_context import app_context
from server.i18n import both
from server.models import School, SchoolContest, utcnow
from server.services.validation import Refused
from server.texts import Readable, _l

from .codes import IssuedCode, issue_codes, printable_codes
from .contests import Contest, contests_of_school, load_contest
from .keys import app_code_keys


@click.group("school")
def school_group() -> None:
    """School budgets: schools, contests, per-student code cards."""


def _fail(text: Readable) -> click.ClickException:
    """The CLI's refusal: Ukrainian, then English after " / "."""
    return click.ClickException(f"{text.render('uk')} / {text.render('en')}")


def _contest(school_id: int, contest_id: int | None) -> Contest:
    s = db.session()
    school = s.get(School, school_id)
    if school is None:
        raise _fail(_l("Школи {school} немає.", school=school_id))
    if contest_id is not None:
        row = s.get(SchoolContest, contest_id)
        if row is None or row.school_id != school.id:
            raise _fail(
                _l("У школи {school} немає конкурсу {contest}.", school=school_id, contest=contest_id)
            )
        return load_contest(s, row)
    now = utcnow()
    open_ones = [c for c in contests_of_school(s, school.id) if c.cycle.voting_ends_at > now]
    if len(open_ones) != 1:
        ids = ", ".join(str(c.id) for c in open_ones) or "—"
        raise _fail(_l("Оберіть конкурс (--contest): незавершених конкурсів школи: {ids}.", ids=ids))
    return open_ones[0]


@school_group.command("codes")
@click.option("--school", "school_id", type=int, required=True, help="School id (see `spilno school list`).")
@click.option("--class", "class_name", required=True, help='Class, e.g. "6-А".')
@click.option("--count", type=int, help="How many new codes (one per student). Omit with --reprint.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF of cards.")
@click.option("--contest", "contest_id", type=int, help="Contest id, when the school has several open.")
@click.option(
    "--layout", type=click.Choice(["8", "10"]), default="10", show_default=True, help="Cards per A4."
)
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Also a CSV of codes."
)
@click.option("--png-dir", type=click.Path(file_okay=False, path_type=Path), help="Also a PNG per code.")
@click.option("--base-url", help="Address in the QR codes (default: PUBLIC_URL of the server's config).")
@click.option("--reprint", is_flag=True, help="Print the class's unused codes again instead of new ones.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object as the result.")
def codes_command(
    school_id: int,
    class_name: str,
    count: int | None,
    out: Path,
    contest_id: int | None,
    layout: str,
    csv_path: Path | None,
    png_dir: Path | None,
    base_url: str | None,
    reprint: bool,
    as_json: bool,
) -> None:
    """Make voting codes for a class and write their cards as a PDF.

    The codes exist in plain form only in the files written here: keep them like exam
    papers, and hand one card to each student."""
    from qr_codes.card_address import CardAddressError, check_card_address
    from qr_codes.cards import CodeCard, cards_pdf, code_png, codes_csv
    from qr_codes.codes import code_url

    if reprint == (count is not None):
        raise _fail(_l("Вкажіть --count або --reprint."))
    with app_context():
        base = base_url or current_app.config.get("PUBLIC_URL")
        if not base:
            raise _fail(_l("Вкажіть адресу сайту: --base-url або SPILNO_PUBLIC_URL."))
        # Before any code is made: an address too long for a readable card must not
        # leave a class with codes and no cards.
        try:
            address = check_card_address(base, layout)
        except CardAddressError as exc:
            raise click.ClickException(f"{exc.message('uk')} / {exc.message('en')}") from None
        if address.smaller_than_designed:
            click.echo(f"{address.notice('uk')} / {address.notice('en')}", err=True)
        s = db.session()
        contest = _contest(school_id, contest_id)
        keys = app_code_keys(current_app)
        try:
            if reprint:
                from .classes import normalise_class_name

                name, _grade = normalise_class_name(class_name)
                issued: list[IssuedCode] = printable_codes(s, contest, keys, class_name=name)
            else:
                issued = issue_codes(s, contest, class_name, count, keys)
        except Refused as exc:
            s.rollback()
            raise _fail(exc.text) from None
        if not issued:
            raise _fail(_l("У класу немає невикористаних кодів, щоб надрукувати."))
        cards = [
            CodeCard(
                code=c.code,
                url=code_url(base, c.code),
                school=contest.school.name,
                class_name=c.class_name,
                contest=contest.programme.title,
                number=c.number,
            )
            for c in issued
        ]
        written: list[Path] = []
        # The bar counts cards drawn: once in the PDF, once more as PNGs when asked.
        total = len(cards) * (2 if png_dir is not None else 1)
        try:
            with progress_bar(CARDS, quiet=as_json) as bar:
                shown = bar.on_progress
                with open(out, "wb") as f:
                    written.append(out)
                    pages = cards_pdf(
                        cards,
                        f,
                        layout=layout,
                        title=f"{contest.school.name}, {class_name}",
                        on_progress=None if shown is None else lambda drawn, _cards: shown(drawn, total),
                    )
                if csv_path is not None:
                    with open(csv_path, "w", encoding="utf-8", newline="") as f:
                        written.append(csv_path)
                        codes_csv(cards, f)
                if png_dir is not None:
                    png_dir.mkdir(parents=True, exist_ok=True)
                    for drawn, card in enumerate(cards, len(cards) + 1):
                        path = png_dir / f"{card.class_name}-{card.number:03d}.png"
                        written.append(path)
                        path.write_bytes(code_png(card.url))
                        bar.update(drawn, total)
            s.commit()  # the codes exist only once their cards are on disk
        except BaseException:
            s.rollback()
            for path in written if not reprint else []:
                path.unlink(missing_ok=True)
            raise
    result = {
        "school_id": school_id,
        "contest_id": contest.id,
        "class": cards[0].class_name if cards else class_name,
        "codes": len(cards),
        "pages": pages,
        "pdf": os.fspath(out),
        "reprint": reprint,
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        made = {"n": len(cards), "name": result["class"], "out": out, "pages": pages}
        if reprint:
            click.echo(both("Коди надруковано знову: {n} для класу {name} → {out} ({pages} арк.)", **made))
        else:
            click.echo(both("Коди створено: {n} для класу {name} → {out} ({pages} арк.)", **made))


@school_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per school.")
def list_command(as_json: bool) -> None:
    """Schools with their contests (ids for `spilno school codes`)."""
    with app_context():
        s = db.session()
        for school in s.scalars(select(School).order_by(School.community_id, School.name)):
            contests = contests_of_school(s, school.id)
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "id": school.id,
                            "community_id": school.community_id,
                            "name": school.name,
                            "contests": [
                                {"id": c.id, "cycle_id": c.cycle.id, "programme": c.programme.title}
                                for c in contests
                            ],
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                listed = (
                    "; ".join(f"конкурс {c.id}: {c.programme.title}" for c in contests) or "без конкурсів"
                )
                click.echo(f"{school.id}\t{school.name}\t{listed}")

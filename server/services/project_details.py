"""What residents decide with besides a project's title and cost: its address, what the
cost is made of (a budget breakdown), and its photos with their descriptions.

A breakdown is a few lines of item and amount (kopiykas) that sum to the project's
cost exactly: a breakdown that does not add up is refused, never shown. Photos are
re-encoded on upload (services.photo_images) and kept in order; a project has at most
MAX_PHOTOS of them and PROJECT_PHOTO_BYTES in all, so its share of a terminal's
package stays small (server.sync.packages caps the package as a whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Project, ProjectPhoto
from server.services import audit
from server.services.photo_images import PhotoRefused, encode_photo
from server.services.validation import MAX_MONEY, Refused, clean_text
from server.texts import Text, _l, _nl

MAX_ADDRESS = 300
MAX_BUDGET_LINES = 30
MAX_BUDGET_ITEM = 200
MAX_PHOTOS = 6
PROJECT_PHOTO_BYTES = 1536 * 1024  # six photos of ~250 KB each
MAX_ALT = 300

# "Лавки; 12 000,50": the amount is after the last semicolon, in hryvnias.
_AMOUNT = re.compile(r"([0-9]+)(?:[.,]([0-9]{1,2}))?")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f']")


@dataclass(frozen=True, slots=True)
class BudgetLine:
    item: str
    amount: int  # kopiykas

    def as_dict(self) -> dict:
        return {"item": self.item, "amount": self.amount}


def clean_address(value: str) -> str:
    return clean_text(value, field="address", max_length=MAX_ADDRESS, required=False)


def parse_budget_lines(text: str) -> list[BudgetLine]:
    """A breakdown typed one line per item, "item; amount in hryvnias" (Refused naming
    the line otherwise). Empty lines are skipped; no lines is no breakdown."""
    lines = []
    for number, raw in enumerate((text or "").replace("\r\n", "\n").split("\n"), start=1):
        if not raw.strip():
            continue
        item, separator, amount_text = raw.rpartition(";")
        amount_text = _GROUP_SPACES.sub("", amount_text.strip())
        match = _AMOUNT.fullmatch(amount_text) if separator else None
        if match is None or len(match.group(1)) > 15:
            raise Refused(
                _l(
                    "Рядок {number}: напишіть статтю й суму в гривнях через крапку з комою, "
                    "наприклад «Лавки; 12000».",
                    number=number,
                ),
                field="budget",
            )
        hryvnias, kopiykas = match.groups()
        amount = int(hryvnias) * 100 + int((kopiykas or "0").ljust(2, "0"))
        lines.append(BudgetLine(item.strip(), amount))
        if len(lines) > MAX_BUDGET_LINES:
            raise Refused(_too_many_lines(), field="budget")
    return lines


def _too_many_lines() -> Text:
    return _nl("Не більше {n} рядка кошторису.", "Не більше {n} рядків кошторису.", MAX_BUDGET_LINES)


def budget_text(lines: list[dict]) -> str:
    """A stored breakdown as the form shows it for editing."""
    out = []
    for line in lines:
        hryvnias, kopiykas = divmod(int(line["amount"]), 100)
        out.append(f"{line['item']}; {hryvnias}" + (f",{kopiykas:02d}" if kopiykas else ""))
    return "\n".join(out)


def clean_budget_lines(lines: list[BudgetLine], cost: int) -> list[BudgetLine]:
    """The breakdown if every line is sound and they sum to `cost` (kopiykas)."""
    if len(lines) > MAX_BUDGET_LINES:
        raise Refused(_too_many_lines(), field="budget")
    cleaned = []
    for number, line in enumerate(lines, start=1):
        try:
            item = clean_text(line.item, field="budget", max_length=MAX_BUDGET_ITEM)
        except Refused as exc:
            raise Refused(
                _l("Рядок {number}: {problem}", number=number, problem=exc.text), field="budget"
            ) from None
        if (
            isinstance(line.amount, bool)
            or not isinstance(line.amount, int)
            or not 0 < line.amount <= MAX_MONEY
        ):
            raise Refused(
                _l("Рядок {number}: сума має бути більшою за нуль.", number=number),
                field="budget",
            )
        cleaned.append(BudgetLine(item, line.amount))
    total = sum(line.amount for line in cleaned)
    if cleaned and total != cost:
        raise Refused(
            _l(
                "Сума рядків кошторису ({total} грн) не дорівнює вартості проєкту ({cost} грн).",
                total=_hryvnias(total),
                cost=_hryvnias(cost),
            ),
            field="budget",
        )
    return cleaned


def _hryvnias(kopiykas: int) -> str:
    hryvnias, rest = divmod(kopiykas, 100)
    return f"{hryvnias:,}".replace(",", " ") + (f",{rest:02d}" if rest else "")


def photos_of(session: Session, project_id: int) -> list[ProjectPhoto]:
    return list(
        session.scalars(
            select(ProjectPhoto)
            .where(ProjectPhoto.project_id == project_id)
            .order_by(ProjectPhoto.position, ProjectPhoto.id)
        )
    )


def _photos_left(session: Session, project: Project) -> int:
    """The bytes the project's photos take; Refused when it has MAX_PHOTOS already."""
    count, stored = session.execute(
        select(func.count(ProjectPhoto.id), func.coalesce(func.sum(ProjectPhoto.size), 0)).where(
            ProjectPhoto.project_id == project.id
        )
    ).one()
    if count >= MAX_PHOTOS:
        raise Refused(
            _l("У проєкту вже {most} фотографій: видаліть одну, щоб додати іншу.", most=MAX_PHOTOS),
            field="photo",
        )
    return int(stored)


def add_photo(session: Session, project: Project, upload: bytes, alt_uk: str, alt_en: str) -> ProjectPhoto:
    """The upload, re-encoded, as the project's last photo; Refused (nothing saved) when
    the file is not a usable photo, the description is missing or a limit is reached."""
    alt_uk = clean_text(alt_uk, field="alt_uk", max_length=MAX_ALT)
    alt_en = clean_text(alt_en, field="alt_en", max_length=MAX_ALT, required=False)
    _photos_left(session, project)  # a full project refuses before any decoding
    try:
        photo = encode_photo(upload)
    except PhotoRefused as exc:
        raise Refused(exc.text, field="photo") from None
    # Checked again under the project's row lock (taken after the slow part): two
    # uploads at once must not both fit into the last place or the last kilobytes.
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    stored = _photos_left(session, project)
    if stored + len(photo.data) > PROJECT_PHOTO_BYTES:
        raise Refused(
            _l("Фотографії проєкту разом не можуть займати більше {kb} КБ.", kb=PROJECT_PHOTO_BYTES // 1024),
            field="photo",
        )
    if session.scalar(
        select(ProjectPhoto.id).where(
            ProjectPhoto.project_id == project.id, ProjectPhoto.sha256 == photo.sha256
        )
    ):
        raise Refused(_l("Ця фотографія в проєкті вже є."), field="photo")
    last = session.scalar(
        select(func.max(ProjectPhoto.position)).where(ProjectPhoto.project_id == project.id)
    )
    row = ProjectPhoto(
        community_id=project.community_id,
        project_id=project.id,
        position=(last + 1) if last is not None else 0,
        sha256=photo.sha256,
        size=len(photo.data),
        width=photo.width,
        height=photo.height,
        alt_uk=alt_uk,
        alt_en=alt_en,
        data=photo.data,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "project.photo_add",
        community_id=project.community_id,
        target=("project", project.id),
        details={"photo": row.id, "sha256": photo.sha256, "alt": alt_uk},
    )
    return row


def remove_photo(session: Session, project: Project, photo_id: int) -> None:
    photo = session.get(ProjectPhoto, photo_id)
    if photo is None or photo.project_id != project.id:
        raise Refused(_l("Такої фотографії в проєкті немає."), field="photo")
    session.delete(photo)
    session.flush()
    audit.record(
        session,
        "project.photo_remove",
        community_id=project.community_id,
        target=("project", project.id),
        details={"photo": photo_id, "sha256": photo.sha256, "alt": photo.alt_uk},
    )

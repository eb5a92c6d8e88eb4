"""A project's address, budget breakdown and photos: what moderators may enter, and
what is refused (with a message in both languages, changing nothing): breakdowns that
do not add up, files that are not photos, image bombs, too many or too large photos."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.models import AuditEvent, Project, ProjectPhoto, Role
from server.services import photo_images
from server.services.photo_images import OUTPUT_BYTES, OUTPUT_SIDE, PhotoRefused, encode_photo
from server.services.project_details import (
    MAX_PHOTOS,
    BudgetLine,
    add_photo,
    clean_budget_lines,
    parse_budget_lines,
)
from server.services.validation import Refused
from tests.factories import post, sign_in


def jpeg(width: int = 64, height: int = 48, **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG", **save)
    return out.getvalue()


def png(width: int = 64, height: int = 48, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims width × height pixels: an image bomb."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


# --- budget breakdown ----------------------------------------------------------------


def test_a_breakdown_is_read_one_item_a_line_in_hryvnias():
    lines = parse_budget_lines("Лавки; 120 000\n\nУрни; 30000,50\r\nМонтаж; зелені насадження; 49 999,5")
    assert lines == [
        BudgetLine("Лавки", 120_000_00),
        BudgetLine("Урни", 30_000_50),
        BudgetLine("Монтаж; зелені насадження", 49_999_50),  # the amount is after the last ";"
    ]
    assert clean_budget_lines(lines, 200_000_00) == lines


@pytest.mark.parametrize(
    ("text", "cost", "message"),
    [
        ("Лавки 120000", 120_000_00, "Рядок 1"),  # no separator
        ("Лавки; сто тисяч", 120_000_00, "Рядок 1"),
        ("Лавки; -5", 120_000_00, "Рядок 1"),
        ("Лавки; 1e9", 120_000_00, "Рядок 1"),
        ("Лавки; 9999999999999999999", 120_000_00, "Рядок 1"),
        ("Лавки; 100000\nУрни; 0", 100_000_00, "Рядок 2: сума має бути більшою за нуль"),
        ("; 100000", 100_000_00, "Рядок 1: Заповніть"),
        ("Лавки\u202e; 100000", 100_000_00, "службові символи"),  # a bidi override
        ("Лавки; 100000\nУрни; 20000", 100_000_00, "не дорівнює вартості"),
        ("Лавки; 99999,99", 100_000_00, "не дорівнює вартості"),
        ("\n".join(f"Стаття {i}; 1" for i in range(31)), 31_00, "Не більше 30"),
        ("Л" * 201 + "; 100000", 100_000_00, "Не більше 200"),
    ],
)
def test_a_bad_breakdown_is_refused_naming_the_line(text, cost, message):
    with pytest.raises(Refused) as refused:
        clean_budget_lines(parse_budget_lines(text), cost)
    assert message in refused.value.message_uk and refused.value.message_en
    assert refused.value.field == "budget"


# --- photos --------------------------------------------------------------------------


def test_a_phone_photo_becomes_a_bounded_jpeg_without_metadata():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90°": the phone was held upright
    exif[0x010F] = "Phone maker"
    original = jpeg(3000, 2000, exif=exif.tobytes(), quality=95)
    photo = encode_photo(original)
    assert photo.data.startswith(b"\xff\xd8\xff") and len(photo.data) <= OUTPUT_BYTES
    assert (photo.width, photo.height) == (OUTPUT_SIDE * 2 // 3, OUTPUT_SIDE)  # turned upright
    again = Image.open(io.BytesIO(photo.data))
    assert again.format == "JPEG" and not again.getexif() and "icc_profile" not in again.info


def test_a_transparent_png_is_flattened_on_white():
    photo = encode_photo(png(40, 30))
    assert Image.open(io.BytesIO(photo.data)).getpixel((5, 5)) >= (250, 250, 250)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "photo.format"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "photo.format"),
        (b"%PDF-1.7\n" + b"0" * 100, "photo.format"),
        (b"GIF89a" + b"\0" * 100, "photo.format"),
        (b"II*\x00" + b"\0" * 100, "photo.format"),  # TIFF: not taken
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "photo.unreadable"),  # no IHDR
        (b"\xff\xd8\xff\xe0" + b"\0" * 40, "photo.unreadable"),  # no frame header
        (jpeg()[:300], "photo.unreadable"),  # cut short
        (png_claiming(100_000, 100_000), "photo.too_many_pixels"),  # 10 gigapixels, 300 bytes
        (png_claiming(12_001, 10), "photo.too_many_pixels"),  # too wide however thin
        (png_claiming(64, 48), "photo.unreadable"),  # pixels do not match the header
    ],
    ids=[
        "empty",
        "svg",
        "pdf",
        "gif",
        "tiff",
        "png-without-header",
        "jpeg-without-frame",
        "truncated-jpeg",
        "png-bomb",
        "too-wide",
        "png-short-pixels",
    ],
)
def test_files_that_are_not_usable_photos_are_refused_unread(data, code):
    with pytest.raises(PhotoRefused) as refused:
        encode_photo(data)
    assert refused.value.code == code and refused.value.message_uk and refused.value.message_en


def test_a_jpeg_bomb_is_refused_from_its_header(monkeypatch):
    # A JPEG frame header claiming 65 000 × 65 000 pixels, then nothing.
    frame = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 65_000, 65_000) + b"\x03" + b"\x01\x22\x00" * 3
    bomb = b"\xff\xd8" + frame + b"\xff\xda\x00\x02" + b"\0" * 64
    decoded = []
    monkeypatch.setattr(photo_images, "_decoded", lambda *a: decoded.append(a))
    with pytest.raises(PhotoRefused, match="too large"):
        encode_photo(bomb)
    assert decoded == []  # never handed to the decoder


def test_a_jpeg_of_thousands_of_scans_is_refused_undecoded(monkeypatch):
    # Each scan is a pass over the whole picture: a CPU bomb in a few kilobytes.
    assert encode_photo(jpeg(progressive=True)).width == 64  # an ordinary progressive one is fine
    many_scans = jpeg(progressive=True) + b"\xff\xda\x00\x02" * 500
    decoded = []
    monkeypatch.setattr(photo_images, "_decoded", lambda *a: decoded.append(a))
    with pytest.raises(PhotoRefused):
        encode_photo(many_scans)
    assert decoded == []


def test_an_oversized_upload_is_refused_before_reading_its_header():
    with pytest.raises(PhotoRefused) as refused:
        encode_photo(jpeg() + b"\0" * photo_images.UPLOAD_BYTES)
    assert refused.value.code == "photo.too_large"


# --- in the console --------------------------------------------------------------------


@pytest.fixture
def project(make, session):
    community = make.community()
    cycle = make.cycle(community, open_now=False)
    category = make.category(cycle, budget=1_000_000_00)
    project = make.project(category, cost=150_000_00)
    moderator = make.user(Role.COMMUNITY_MODERATOR, community)
    session.commit()
    return project, moderator


def edit_form(project, **change):
    return {
        "number": str(project.number),
        "title": project.title,
        "description": "",
        "cost": "150000",
        "district": "",
        "category_id": str(project.category_id),
        "address": "вул. Шевченка, 12",
        "budget": "Лавки; 100000\nМонтаж; 50000",
    } | change


def test_a_moderator_gives_a_project_its_address_breakdown_and_photos(client, session, project):
    project, moderator = project
    sign_in(client, moderator)
    assert post(client, f"/console/projects/{project.id}/edit", edit_form(project)).status_code == 302
    session.refresh(project)
    assert project.address == "вул. Шевченка, 12"
    assert project.budget_lines == [
        {"item": "Лавки", "amount": 100_000_00},
        {"item": "Монтаж", "amount": 50_000_00},
    ]

    answer = post(
        client,
        f"/console/projects/{project.id}/photos",
        {
            "photo": (io.BytesIO(jpeg(2000, 1500)), "IMG_0001.JPG"),
            "alt_uk": "Сквер зараз",
            "alt_en": "The square now",
        },
    )
    assert answer.status_code == 302
    [photo] = session.scalars(select(ProjectPhoto)).all()
    assert (photo.alt_uk, photo.alt_en, photo.width, photo.height) == (
        "Сквер зараз",
        "The square now",
        1280,
        960,
    )
    page = client.get(f"/console/projects/{project.id}/edit").get_data(as_text=True)
    assert 'alt="Сквер зараз"' in page and "Лавки; 100000" in page
    assert client.get(f"/console/projects/{project.id}/photos/{photo.id}.jpg").data == photo.data

    removed = post(client, f"/console/projects/{project.id}/photos/{photo.id}/remove", {"confirm": "yes"})
    assert removed.status_code == 302
    assert session.scalar(select(func.count()).select_from(ProjectPhoto)) == 0
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("project.photo%"))).all()
    assert sorted(actions) == ["project.photo_add", "project.photo_remove"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"photo": (io.BytesIO(b"MZ\x90\x00 not a photo"), "photo.jpg"), "alt_uk": "Сквер"}, "JPEG або PNG"),
        ({"photo": (io.BytesIO(png_claiming(40_000, 40_000)), "bomb.png"), "alt_uk": "Сквер"}, "завелике"),
        ({"photo": (io.BytesIO(jpeg()), "ok.jpg"), "alt_uk": ""}, "Заповніть це поле"),
        ({"alt_uk": "Сквер"}, "Оберіть файл фотографії"),
    ],
    ids=["not-an-image", "image-bomb", "no-description", "no-file"],
)
def test_a_refused_photo_says_why_and_changes_nothing(client, session, project, fields, message):
    project, moderator = project
    sign_in(client, moderator)
    answer = post(client, f"/console/projects/{project.id}/photos", fields)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ProjectPhoto)) == 0


def test_a_breakdown_that_does_not_add_up_changes_nothing(client, session, project):
    project, moderator = project
    sign_in(client, moderator)
    answer = post(client, f"/console/projects/{project.id}/edit", edit_form(project, budget="Лавки; 100000"))
    assert answer.status_code == 422
    assert "не дорівнює вартості проєкту" in answer.get_data(as_text=True)
    session.expire_all()
    assert (
        session.get(Project, project.id).budget_lines == [] and session.get(Project, project.id).address == ""
    )


def test_a_project_takes_at_most_six_photos(session, project):
    project, _moderator = project
    for shade in range(MAX_PHOTOS):
        out = io.BytesIO()
        Image.new("RGB", (80, 60), (shade * 40, 0, 0)).save(out, "JPEG")
        add_photo(session, project, out.getvalue(), f"Фото {shade}", "")
    with pytest.raises(Refused, match="вже 6 фотографій"):
        add_photo(session, project, jpeg(), "Ще одне", "")


def test_a_photo_upload_larger_than_the_limit_is_refused_unread(client, session, project, monkeypatch):
    project, moderator = project
    sign_in(client, moderator)
    monkeypatch.setattr("server.console.project_photos.UPLOAD_BYTES", 1000)
    big = {"photo": (io.BytesIO(jpeg() + b"\0" * 70_000), "big.jpg"), "alt_uk": "Сквер"}
    answer = post(client, f"/console/projects/{project.id}/photos", big)
    assert answer.status_code == 413
    assert session.scalar(select(func.count()).select_from(ProjectPhoto)) == 0


def test_two_uploads_at_once_never_take_a_project_past_its_photo_limit(app, session, project):
    """Both decode at the same time; the project's row lock lets one take the last place
    and tells the other it is full."""
    import threading

    from sqlalchemy.orm import Session

    from server.services.project_details import add_photo

    project, _moderator = project
    for n in range(MAX_PHOTOS - 1):
        add_photo(session, project, jpeg(80 + n, 60), f"Фото {n}", "")
    session.commit()
    engine = app.extensions["spilno.engine"]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def upload(width: int) -> None:
        with Session(engine) as own:
            mine = own.get(Project, project.id)
            start.wait()
            try:
                add_photo(own, mine, jpeg(width, 90), "Ще одне", "")
                own.commit()
                outcomes.append("added")
            except Refused:
                own.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=upload, args=(w,)) for w in (640, 700)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    session.expire_all()
    assert sorted(outcomes) == ["added", "refused"]
    assert session.scalar(select(func.count()).where(ProjectPhoto.project_id == project.id)) == MAX_PHOTOS

# ruff: noqa: F811 - the fixtures imported from test_paper_scans are parameters here
"""The documented upload: 300 pages in one request (a page a file, or multi-page files),
stored at once and read by the job, every page counted once; one file more is refused
with a message and stores nothing."""

from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np
from sqlalchemy import func, select

from server.models import Job, JobFile, PaperScanPage
from server.paper import scans
from tests.paper.corpus import MarkKind
from tests.server.test_jobs import actions, post_scans, signed_in
from tests.server.test_paper_scans import png, setup, sheet_key  # noqa: F401 - fixtures


def tiny_page(n: int) -> bytes:
    """A valid 16 x 16 picture, a different one for each n < 512: no sheet, read in
    ~0.5 ms (and once a picture under 24 px stopped the reader: a job ended in error)."""
    image = np.full((16, 16), 255, np.uint8)
    image.flat[n % 256] = 100 * (n // 256)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def tiff_of(pages: list[np.ndarray]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "feeder.tiff")
        assert cv2.imwritemulti(path, pages)
        with open(path, "rb") as handle:
            return handle.read()


def test_a_300_page_upload_in_one_request_reads_every_page_once(client, session, setup):
    assert scans.MAX_UPLOAD_PAGES == 300 and scans.MAX_UPLOAD_FILES == 300
    signed_in(client, setup["user"])
    small = setup["small"]
    # 299 files, 300 pages: two ballot sheets, a feeder's two-page TIFF, 296 single pages.
    files = [
        ("one.png", png(setup, {small[0]: MarkKind.TICK}, serial="S0042-000001")),
        ("two.png", png(setup, {small[1]: MarkKind.TICK}, serial="S0042-000002")),
        ("feeder.tiff", tiff_of([np.full((16, 16), 255 - n, np.uint8) for n in (1, 2)])),
    ]
    files += [(f"page-{n:03d}.png", tiny_page(n)) for n in range(296)]
    answer = post_scans(client, setup, files)
    assert answer.status_code == 303
    job = session.get(Job, int(answer.headers["Location"].rsplit("/", 1)[1]))
    assert (job.state, job.progress_done, job.progress_total, job.attempts) == ("done", 300, 300, 1)
    assert job.summary["accepted"] == 2 and job.summary["rejected"] == 298
    assert job.summary["truncated"] is False
    assert session.scalar(select(func.count()).select_from(PaperScanPage)) == 300
    assert session.scalar(select(func.count()).select_from(JobFile)) == 299
    assert actions(session).count("paper_scans.upload") == 1 and actions(session)[-1] == "job.done"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    # The job keeps the first 200 pages' reasons; the page says how many there were.
    assert page.count('data-outcome="rejected"') == 200
    assert "Показано 200 з 298 сторінок" in page

    # One file more than the limit: refused before anything is stored.
    too_many = [(f"more-{n:03d}.png", tiny_page(n)) for n in range(301)]
    refused = post_scans(client, setup, too_many)
    assert refused.status_code == 422
    assert "Не більше 300 файлів за одне завантаження." in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Job)) == 1

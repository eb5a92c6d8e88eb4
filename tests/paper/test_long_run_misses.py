"""The three marks the 300 000-position accuracy run read as empty (a faint pencil tick on
a blurred, noisy photo), made again exactly as the run made them (bench.ballots_bench):
each now goes to a person, none is silently lost."""

from __future__ import annotations

import pytest

from bench.ballots_bench import _hostile_reader, long_run_sheets
from paper.inputs import pages_from_bytes
from paper.reading import ACCEPTED, MARGINAL

# (batch, sheet, box) from the run's silent_error_boxes
MISSES = [(8450, 8457, 506), (11250, 11268, 514), (12125, 12135, 517)]


@pytest.mark.parametrize(("batch", "sheet", "box"), MISSES)
def test_a_faint_tick_on_a_blurred_photo_goes_to_a_person(batch, sheet, box):
    [(number, capture, _dpi, data, answer)] = list(long_run_sheets(batch, 25, only=sheet))
    assert (number, capture, answer.boxes[box].kind) == (sheet, "photo", "faint")
    [page] = pages_from_bytes(f"long-{number}", data)
    reading = _hostile_reader().read(page)
    verdicts = {b.project_id: b.verdict for b in reading.boxes}
    assert verdicts[box] == MARGINAL and reading.outcome != ACCEPTED
    assert all(verdicts[p] in a.acceptable for p, a in answer.boxes.items())

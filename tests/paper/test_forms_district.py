"""A printed ballot says which categories only one district's residents vote in."""

from __future__ import annotations

import io
import subprocess

from paper.forms import print_forms

from .corpus import TEST_FORM_KEY, packaged, sample_cycle


def test_a_district_categorys_heading_names_its_district_and_the_boxes_stay_put(tmp_path):
    plain = sample_cycle()
    cycle = sample_cycle()
    cycle["categories"][-1]["district"] = "Шевченківський"
    out = io.BytesIO()
    layout = print_forms(packaged(cycle), ["S0001-000042"], TEST_FORM_KEY, out)
    before = print_forms(packaged(plain), ["S0001-000042"], TEST_FORM_KEY, io.BytesIO())
    assert layout.pages == before.pages, "the boxes stay where they were"
    assert layout.printed_sha256 != before.printed_sha256, (
        "a sheet printed before the district was set differs"
    )
    (tmp_path / "f.pdf").write_bytes(out.getvalue())
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "f.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "лише для мешканців району «Шевченківський»" in " ".join(text.split())

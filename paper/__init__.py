"""Paper ballots, the library: printable forms planned from the typed cycle, with their
layout JSON and keyed sheet serials (forms, sheet_plan, layout, layout_json, serials),
reading scanned or photographed sheets (inputs, image_headers, png_inflate, scan_files,
reader, reading) with their imaging (opencv_settings, image_codec, overview,
corner_marks, paper_map, page_warp, ink_pixels, qr_decoders) and ink measuring
(ink_measure), the sheet store with its records and serial ledger (sheet_store,
sheet_records, issue_store) and the review core (sheet_state, review); poll sheets
(poll_layout, poll_forms, poll_answers, sheet_answer; docs/paper-polls.md). Plain Python: no
Flask, no SQLAlchemy, no app. The support point (support_point/) and the server
(server/paper/) are built on it; docs/paper-reading.md says how a mark is judged."""

from paper.layout import Layout, LayoutError
from paper.messages import MESSAGES, message
from paper.serials import QrFields, SerialError, form_key, make_qr_text, parse_qr_text, serial_range
from paper.sheet_plan import build_layout

__all__ = [
    "MESSAGES",
    "Layout",
    "LayoutError",
    "QrFields",
    "SerialError",
    "build_layout",
    "form_key",
    "make_qr_text",
    "message",
    "parse_qr_text",
    "serial_range",
]

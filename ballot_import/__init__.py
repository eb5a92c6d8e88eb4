"""Paper ballots at a support point: printable forms with their layout JSON and sheet
serials, and reading scanned or photographed sheets (marked / unmarked / marginal per
box, outcomes per sheet), every reading kept in a sheet store, a review page where the
operator decides unclear marks, and ready sheets committed to the device log as paper
votes that sync sends like a terminal's. The CLI is `spilno ballots`."""

from .layout import Layout, LayoutError, build_layout
from .messages import MESSAGES, message
from .serials import QrFields, SerialError, form_key, make_qr_text, parse_qr_text, serial_range

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

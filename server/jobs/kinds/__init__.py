"""What each kind of job does: a module per kind, registering its handler."""

from . import (
    bundle_import,
    code_cards,
    paper_votes,
    results_verify,
    scan_commit,
    scan_upload,
    tally_sheet,
    voter_list,
)

__all__ = [
    "bundle_import",
    "code_cards",
    "paper_votes",
    "results_verify",
    "scan_commit",
    "scan_upload",
    "tally_sheet",
    "voter_list",
]

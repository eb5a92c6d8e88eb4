"""What each kind of job does: a module per kind, registering its handler."""

from . import scan_upload, voter_list

__all__ = ["scan_upload", "voter_list"]

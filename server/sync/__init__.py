"""Server side of sync: terminals and support points enrol, pull signed packages, push
their signed, hash-chained logs exactly once, and the server can recount from them.

The wire protocol itself lives in the top-level `sync` package (sync.wire, sync.signing,
sync.log_entries, sync.log_batches, sync.signed_requests, sync.signed_answers,
sync.package_envelope), shared with devices.
"""

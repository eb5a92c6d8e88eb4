"""Server side of sync: terminals and support points enrol, pull signed packages, push
their signed, hash-chained logs exactly once, and the server can recount from them.

The wire protocol itself lives in the top-level `sync.protocol`, shared with devices.
"""

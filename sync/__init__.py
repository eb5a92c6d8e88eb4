"""Signed, exactly-once synchronisation between devices and the server. Built in its own issue."""

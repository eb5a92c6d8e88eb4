"""Paper ballot forms and the import of scanned sheets. Built in its own issue."""

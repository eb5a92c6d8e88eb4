"""Card readers (PC/SC), cameras and printers behind Protocols. Built in its own issue."""

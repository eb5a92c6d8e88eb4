"""What every app's shell shares, since no app imports another: progress bars for long
commands (progress) and the staff PIN guard of a device (service_pin). Plain Python.
(The translation catalogs are read by voting/po_catalog.py, below every layer, because
the domain's own messages live in catalogs too.)"""

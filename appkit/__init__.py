"""What every app's shell shares, since no app imports another: the translation
catalogs with their plural forms (po_catalog), progress bars for long commands
(progress), and the staff PIN guard of a device (service_pin). Plain Python."""

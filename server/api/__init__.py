"""The integration API for the online e-democracy platform (JSON, bearer tokens)."""

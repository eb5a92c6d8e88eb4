"""Plain-Python services over a SQLAlchemy session: what the views and CLI call."""

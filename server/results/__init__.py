"""Results: ranked tables, funding, channels, turnout, charts, exports, public pages."""

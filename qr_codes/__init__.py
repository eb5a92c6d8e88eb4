"""Per-student QR voting codes and printable code cards. Built in its own issue."""

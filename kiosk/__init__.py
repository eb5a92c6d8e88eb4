"""The self-service terminal (Flask on localhost, Chromium kiosk mode). Built in its own issue."""

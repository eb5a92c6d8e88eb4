"""The self-service terminal: a touch UI (Flask on localhost, shown by Chromium in kiosk
mode) that takes one resident's vote at a time and keeps it in the device store, with
or without a network. See kiosk/README.md."""

from kiosk.app import create_kiosk_app

__all__ = ["create_kiosk_app"]

"""The package's boundaries."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import qr_codes

PACKAGE = Path(qr_codes.__file__).parent


def test_the_qr_code_library_never_imports_opencv():
    # cv2 belongs to hardware/ (the camera) and the tests; printing must not need it
    for module in PACKAGE.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+cv2\b", module.read_text(), re.MULTILINE), module.name


def test_checking_codes_does_not_load_the_printing_stack():
    # server.school checks codes on every vote: it must not pay for reportlab and Pillow
    script = "import sys, qr_codes.codes; print([m for m in ('reportlab', 'PIL') if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"

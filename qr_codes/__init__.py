"""Per-student QR voting codes and printable code cards (pure Python: no database, no Flask).

- `qr_codes.codes`: the code format: new_code, normalise, CodeError, code_url, verifier.
- `qr_codes.matrix`: a fast QR encoder, qr_matrix(text, level) -> bool array.
- `qr_codes.drawing`: draw_qr(canvas, matrix, x, y, size) on a reportlab canvas
  (shared with the paper-ballot forms).
- `qr_codes.cards`: CodeCard, cards_pdf, code_png, codes_csv; `qr_codes.layouts` holds
  the card geometry (LAYOUTS) that printing and its tests share.

Importing the package imports none of them, so the code checks stay free of reportlab.
"""

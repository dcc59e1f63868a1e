"""Uploaded materials and the licence's pictures: pure, storage-independent building blocks.

- `sniff`: what a file is, from its bytes only.
- `imaging`: validate and normalise an upload (JPEG out, metadata gone, thumbnail, quality checks).
- `storage`: content-addressed files on disk, with a size cap enforced while streaming.
- `tokens`: HMAC-signed licence verification tokens and expiring file-download tokens.
- `render`: the one-time notice (PNG + text), the licence card PNG, the QR code, the verification page.

Everything here is synchronous; Pillow work blocks, so the API runs it in an executor.
"""

"""Signed webhooks: HMAC-SHA256 over `<timestamp>.<body>`, sent with the timestamp.

A receiver recomputes the signature with the shared key and refuses a stale timestamp (a
replayed request), as Stripe and Slack do.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Huiyin-Signature"
TIMESTAMP_HEADER = "X-Huiyin-Timestamp"
ID_HEADER = "Idempotency-Key"


def sign(key: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    key: str, timestamp: int, body: bytes, signature: str, *, now: int, tolerance: int = 300
) -> bool:
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(key, timestamp, body).encode(), signature.encode())

"""A request's fingerprint: what an `Idempotency-Key` is bound to. Pure."""

import hashlib
import json
from typing import Any


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()

"""Personal data at the front door: pseudonyms for events, encryption at rest, hashed secrets.

A reporter's phone number and name never leave intake in clear: events carry a stable
pseudonymous id (a keyed hash of the phone number), intake's store keeps the contact
encrypted, and credentials (tokens, API keys, receipt codes) are stored as hashes only.
"""

import base64
import hashlib
import hmac
import json
import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Receipt codes avoid 0/O and 1/I: they are read aloud on the phone."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Privacy:
    def __init__(self, secret: str) -> None:
        root = secret.encode()
        self._pseudonym_key = _derive(root, b"huiyin pseudonym")
        self._receipt_key = _derive(root, b"huiyin receipt")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(root, b"huiyin contact")))

    def pseudonym(self, phone: str) -> str:
        """The same phone number always gives the same reporter id, which never gives the number."""
        digits = "".join(ch for ch in phone if ch.isdigit())
        return hmac.new(self._pseudonym_key, digits.encode(), hashlib.sha256).hexdigest()[:24]

    def receipt_code(self, issue_id: str) -> str:
        """The reporter's code for an issue: deterministic, so a retried request gets the same."""
        digest = hmac.new(self._receipt_key, issue_id.encode(), hashlib.sha256).digest()
        return "".join(RECEIPT_ALPHABET[b % len(RECEIPT_ALPHABET)] for b in digest[:10])

    def seal(self, contact: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(contact, ensure_ascii=False).encode()).decode()

    def unseal(self, token: str) -> dict[str, str]:
        opened: dict[str, str] = json.loads(self._fernet.decrypt(token.encode()))
        return opened


def secret_hash(credential: str) -> str:
    """How a token, API key or receipt code is stored: its SHA-256, never the credential."""
    return hashlib.sha256(credential.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)

"""The intake tokens the console acts with are kept sealed (Fernet, a key derived from the
console's secret): a copy of its database alone acts as no one."""

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class TokenSeal:
    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"huiyin console token")
        self._fernet = Fernet(base64.urlsafe_b64encode(key.derive(secret.encode())))

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def unseal(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()

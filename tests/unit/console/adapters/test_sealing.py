import pytest
from cryptography.fernet import InvalidToken

from services.console.adapters.passwords import Passwords
from services.console.adapters.sealing import TokenSeal


def test_a_sealed_token_opens_only_with_the_same_secret() -> None:
    sealed = TokenSeal("one secret").seal("intake-token")
    assert "intake-token" not in sealed
    assert TokenSeal("one secret").unseal(sealed) == "intake-token"
    with pytest.raises(InvalidToken):
        TokenSeal("another secret").unseal(sealed)


def test_passwords_are_argon2id_and_a_bad_hash_is_no_match() -> None:
    passwords = Passwords()
    hashed = passwords.hash("long enough")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "long enough") and not passwords.verify(hashed, "other")
    assert not passwords.verify("not a hash", "long enough")

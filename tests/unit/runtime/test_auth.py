"""Comparing a secret a client sent (runtime.auth.same_secret): constant time, any text."""

from services.runtime.auth import same_secret


def test_only_the_configured_secret_matches() -> None:
    assert same_secret("s3cret", "s3cret")
    assert not same_secret("s3cre", "s3cret") and not same_secret(None, "s3cret")


def test_nothing_matches_when_no_secret_is_configured() -> None:
    assert not same_secret("", "") and not same_secret("anything", "")


def test_text_that_is_not_ascii_is_compared_not_refused_with_a_type_error() -> None:
    """`hmac.compare_digest` raises TypeError on str that is not ASCII: a 500 for a client who
    sends `csrf=é` or `Authorization: Bearer 令牌`."""
    assert not same_secret("令牌", "s3cret") and not same_secret("é", "e")
    assert same_secret("令牌", "令牌")

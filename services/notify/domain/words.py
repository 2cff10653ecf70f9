"""The words of a message: templates filled, one SMS long, e-mail in Chinese and English."""

from dataclasses import dataclass
from string import Formatter

from services.notify.domain.config import MessageRule

SMS_LIMIT = 70
"""Characters of one SMS in Chinese (UCS-2): a longer text is split and billed as several."""


class TemplateError(ValueError):
    """A template names a value the message does not have, or is too long for one SMS."""


@dataclass(frozen=True)
class Words:
    subject: str
    zh: str
    en: str

    @property
    def sms(self) -> str:
        return self.zh

    @property
    def email(self) -> str:
        return f"{self.zh}\n\n{self.en}\n"


class _Strict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise TemplateError(f"the template asks for {{{key}}}, which this message does not have")


def fill(template: str, values: dict[str, str]) -> str:
    return Formatter().vformat(template, (), _Strict(values))


def words(rule: MessageRule, values: dict[str, str]) -> Words:
    return Words(fill(rule.subject, values), fill(rule.zh, values), fill(rule.en, values))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def check_sms_length(rule: MessageRule, longest: dict[str, str]) -> None:
    """Raise when the Chinese text, filled with the longest values, exceeds one SMS."""
    text = fill(rule.zh, longest)
    if len(text) > SMS_LIMIT:
        raise TemplateError(f"{len(text)} characters, more than one SMS ({SMS_LIMIT}): {text}")

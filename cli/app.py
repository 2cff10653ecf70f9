"""The `huiyin` command's root: global options and error handling (`cli/main.py` adds the
command groups).

Every option has an environment variable (HUIYIN_INTAKE_URL, HUIYIN_REPORTING_URL,
HUIYIN_CLI_TOKEN, HUIYIN_REPORTING_ADMIN_TOKEN, HUIYIN_KAFKA_BOOTSTRAP, HUIYIN_TOPIC_PREFIX).
A refusal of an API prints its status, field and reason and exits with 1; a service that
does not answer exits with 3.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from cli.http import UNREACHABLE, ApiError, Service, Unreachable
from services.runtime.kafka_access import KafkaAccess
from services.runtime.settings import PlatformSettings

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="huiyin",
    help="Huiyin (回音) for operators: report, look up, act, count, rebuild, replay.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@dataclass(frozen=True)
class Config:
    intake_url: str
    reporting_url: str
    token: str | None
    admin_token: str | None
    kafka: str
    topic_prefix: str
    json: bool

    @property
    def kafka_access(self) -> KafkaAccess:
        """The broker at --kafka, signed in as HUIYIN_KAFKA_USERNAME etc. when they are set
        (compose: SASL/SCRAM), as the services sign in."""
        return PlatformSettings(kafka_bootstrap=self.kafka).kafka

    @property
    def intake(self) -> Service:
        return Service("intake", self.intake_url, self.token)

    @property
    def reporting(self) -> Service:
        return Service("reporting", self.reporting_url)

    @property
    def reporting_admin(self) -> Service:
        return Service("reporting", self.reporting_url, self.admin_token)


def config(ctx: typer.Context) -> Config:
    found = ctx.find_object(Config)
    assert found is not None, "the root callback sets the configuration"
    return found


def out() -> Console:
    return Console(soft_wrap=False)


def guarded(command: F) -> F:
    """Turn an API's refusal into a readable message and a non-zero exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        errors = Console(stderr=True)
        try:
            return command(*args, **kwargs)
        except ApiError as refused:
            errors.print(f"[red]error:[/] {refused.render()}", highlight=False)
            raise typer.Exit(1) from None
        except Unreachable as down:
            errors.print(f"[red]error:[/] {down}", highlight=False)
            raise typer.Exit(UNREACHABLE) from None

    return run  # type: ignore[return-value]


@app.callback()
def root(
    ctx: typer.Context,
    intake_url: Annotated[
        str, typer.Option(envvar="HUIYIN_INTAKE_URL", help="intake's API")
    ] = "http://127.0.0.1:8101",
    reporting_url: Annotated[
        str, typer.Option(envvar="HUIYIN_REPORTING_URL", help="reporting's API")
    ] = "http://127.0.0.1:8104",
    token: Annotated[
        str | None,
        typer.Option(envvar="HUIYIN_CLI_TOKEN", help="your bearer token for intake"),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(envvar="HUIYIN_REPORTING_ADMIN_TOKEN", help="reporting's admin token"),
    ] = None,
    kafka: Annotated[
        str, typer.Option(envvar="HUIYIN_KAFKA_BOOTSTRAP", help="Kafka, for `dlq`")
    ] = "127.0.0.1:19092",
    topic_prefix: Annotated[
        str, typer.Option(envvar="HUIYIN_TOPIC_PREFIX", help="the topics' namespace")
    ] = "",
    json: Annotated[bool, typer.Option("--json", help="print the API's JSON as it is")] = False,
) -> None:
    ctx.obj = Config(intake_url, reporting_url, token, admin_token, kafka, topic_prefix, json)

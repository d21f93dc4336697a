"""The campaign's grouped options, checked when the DAG is parsed and again, rendered, when the run plans.

A value may be a Jinja template (``"{{ params.max_credits }}"``): it is checked once rendered, by the run's
``plan`` task, before anything is submitted. Every other value is checked when the DAG file is parsed, and a
bad one names its option and its limit (``CampaignOptionError``). Pure: pydantic only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

#: Re-render rounds are tasks (a review, a decision, a re-render per round), fixed when the DAG is parsed.
MAX_ROUNDS = 5
#: Creates, polls and saves a batch task keeps in flight at once: its default, and the most a campaign asks.
BATCH_CONCURRENCY, MAX_BATCH_CONCURRENCY = 8, 64


class CampaignOptionError(ValueError):
    """An option of ``SeedanceCampaign`` that cannot work; the message names it and its limit."""


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _number(
    value: Any,
    info: ValidationInfo,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    integer: bool = False,
    optional: bool = False,
) -> Any:
    """A number within its limits; a template passes until it is rendered; a rendered ``None``/empty means
    not given where the option is optional."""
    if is_template(value) and not (info.context or {}).get("rendered"):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "None", "null"):
            value = None
        else:
            try:
                value = int(text) if integer else float(text)
            except ValueError:
                raise ValueError(f"must be a {'whole ' if integer else ''}number, got {value!r}") from None
    if value is None:
        if optional:
            return None
        raise ValueError("must be given")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, got {value!r}")
    if integer and value != int(value):
        raise ValueError(f"must be a whole number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"must be at least {minimum:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise ValueError(f"must be at most {maximum:g}, got {value:g}")
    if above is not None and value <= above:
        raise ValueError(f"must be more than {above:g}, got {value:g}")
    return int(value) if integer else float(value)


def _flag(value: Any, info: ValidationInfo) -> Any:
    if is_template(value) and not (info.context or {}).get("rendered"):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off", "", "none"):
            return False
        raise ValueError(f"must be true or false, got {value!r}")
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {value!r}")
    return value


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Output(_Options):
    """Where videos, posters, the gallery and the manifest go: ``<root>/<prefix>/<campaign>/<run time>/``.

    :param root: a local folder, ``file://...`` or any object store Airflow reaches (``s3://bucket/x``);
        empty: the Variable ``seedance_output_root``, else ``~/seedance_output`` (templated).
    :param prefix: the folder under the root; earlier runs' manifests under it price later runs.
    """

    root: str | None = None
    prefix: str = "campaigns"

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.strip("/") or ".." in value.split("/"):
            raise ValueError(f"must be a folder name under the root, got {value!r}")
        return value.strip("/")


class Budget(_Options):
    """The run's credit budget.

    :param max_credits: refuse the run whose estimate passes it, and skip renders once what was spent plus
        what is still planned would pass it; None: no budget (templated).
    :param credits_per_second: the price of renders with no earlier run of the same model, duration and
        quality (templated). With a budget and no known price the run is refused before any render.
    """

    max_credits: float | str | None = None
    credits_per_second: float | str | None = None

    @field_validator("max_credits", "credits_per_second", mode="before")
    @classmethod
    def _credits(cls, value: Any, info: ValidationInfo) -> Any:
        return _number(value, info, minimum=0, optional=True)


class Review(_Options):
    """Human review in Airflow's Required Actions, one review per slot.

    :param rounds: re-render rounds built into the DAG (0 to 5): each adds a review, a decision and a
        re-render; fixed when the DAG is parsed.
    :param max_rerenders: re-render rounds a reviewer may ask in a run, at most ``rounds`` (templated;
        default ``rounds``).
    :param hours: how long each review waits (templated); then its default, Reject: the slot counts as timed
        out and nothing of it is published.
    """

    rounds: int = 1
    max_rerenders: int | str | None = None
    hours: float | str = 72.0

    @field_validator("rounds", mode="before")
    @classmethod
    def _rounds(cls, value: Any, info: ValidationInfo) -> Any:
        if is_template(value):
            raise ValueError("is fixed when the DAG is parsed: give a number, not a template")
        return _number(value, info, minimum=0, maximum=MAX_ROUNDS, integer=True)

    @field_validator("max_rerenders", mode="before")
    @classmethod
    def _max_rerenders(cls, value: Any, info: ValidationInfo) -> Any:
        found = _number(value, info, minimum=0, maximum=MAX_ROUNDS, integer=True, optional=True)
        rounds = info.data.get("rounds")
        if isinstance(found, int) and isinstance(rounds, int) and found > rounds:
            raise ValueError(f"must be at most review.rounds ({rounds}), got {found}")
        return found

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any, info: ValidationInfo) -> Any:
        return _number(value, info, above=0)

    @property
    def allowed_rerenders(self) -> int:
        return self.rounds if self.max_rerenders is None else int(self.max_rerenders)

    @property
    def timeout(self) -> timedelta:
        return timedelta(hours=float(self.hours))


class Render(_Options):
    """How the render tasks run (``SeedanceGenerateVideoOperator`` arguments; with ``batch``,
    ``SeedanceBatchGenerateVideosOperator``'s).

    :param seedance_conn_id: the connection every take renders on (templated).
    :param pool: the Airflow pool of the renders; create it with ``--include-deferred``.
    :param retries: retries of a render (a retry reattaches to its generation: never pays twice); with ``batch``,
        retries of the batch task, each rendering again only the items that failed and can be.
    :param retry_delay: seconds between retries.
    :param timeout: seconds a render may take from its submit.
    :param deferrable: wait in the triggerer (default True: a campaign's renders take minutes).
    :param batch: render each step's takes (the first renders, each round's re-renders, the finals) in one batch
        task instead of one mapped task per take: two worker steps per step instead of two per video; fixed when
        the DAG is parsed.
    :param max_concurrency: with ``batch``: creates, polls and saves in flight at once (1 to 64, default 8);
        fixed when the DAG is parsed.
    """

    seedance_conn_id: str = "seedance_default"
    pool: str | None = None
    retries: int = 2
    retry_delay: float = 30.0
    timeout: float = 1800.0
    deferrable: bool = True
    batch: bool = False
    max_concurrency: int | None = None

    @field_validator("retries", mode="before")
    @classmethod
    def _retries(cls, value: Any, info: ValidationInfo) -> Any:
        return _number(value, info, minimum=0, maximum=20, integer=True)

    @field_validator("retry_delay", "timeout", mode="before")
    @classmethod
    def _seconds(cls, value: Any, info: ValidationInfo) -> Any:
        return _number(value, info, above=0)

    @field_validator("batch", mode="before")
    @classmethod
    def _batch(cls, value: Any, info: ValidationInfo) -> Any:
        if is_template(value):
            raise ValueError("is fixed when the DAG is parsed: give true or false, not a template")
        return _flag(value, info)

    @field_validator("max_concurrency", mode="before")
    @classmethod
    def _max_concurrency(cls, value: Any, info: ValidationInfo) -> Any:
        if is_template(value):
            raise ValueError("is fixed when the DAG is parsed: give a number, not a template")
        found = _number(value, info, minimum=1, maximum=MAX_BATCH_CONCURRENCY, integer=True, optional=True)
        if found is not None and info.data.get("batch") is not True:
            raise ValueError("applies to batch renders only: set render.batch=True too, or leave it out")
        return found

    def operator_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"retries": self.retries, "retry_delay": timedelta(seconds=self.retry_delay)}
        args.update(timeout=self.timeout, deferrable=self.deferrable)
        return {**args, "pool": self.pool} if self.pool else args

    def batch_args(self) -> dict[str, Any]:
        """The batch task's arguments: the renders' and ``max_concurrency``."""
        return {**self.operator_args(), "max_concurrency": self.max_concurrency or BATCH_CONCURRENCY}


class TakeOptions(_Options):
    """How the takes are rendered.

    :param variants: renders of each take with different seeds (1 to 4, templated); the reviewer approves at
        most one per slot.
    :param drafts: where the model renders drafts (BytePlus ModelArk, Seedance 1.5 pro), review cheap 480p
        drafts first and render the final of each approved draft only (templated).
    """

    variants: int | str = 1
    drafts: bool | str = True

    @field_validator("variants", mode="before")
    @classmethod
    def _variants(cls, value: Any, info: ValidationInfo) -> Any:
        return _number(value, info, minimum=1, maximum=4, integer=True)

    @field_validator("drafts", mode="before")
    @classmethod
    def _drafts(cls, value: Any, info: ValidationInfo) -> Any:
        return _flag(value, info)


def checked(kind: type[_Options], value: Any, name: str, *, rendered: bool = False) -> Any:
    """``value`` (an options object, a dict of its fields, or None) as ``kind``, or a
    ``CampaignOptionError`` naming ``name.field`` and the limit."""
    if value is None:
        value = {}
    if isinstance(value, kind) and not rendered:
        return value
    data = value.model_dump() if isinstance(value, BaseModel) else value
    if not isinstance(data, dict):
        raise CampaignOptionError(f"{name}: must be {kind.__name__}(...) or a dict of its fields, got {value!r}")
    try:
        return kind.model_validate(data, context={"rendered": rendered})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise CampaignOptionError(f"{name}.{field} {message}" if field else f"{name}: {message}") from None

"""panel.toml: who sits on the panel, provider settings, limits, prices, quorum.

Every setting has a default, so panel runs with no config file at all; an
address such as ``openai/gpt-4o-mini`` needs no entry. Secrets never live
here: a provider names the environment variable that holds its key.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from panel.errors import PanelError, UnknownNameError, describe_error
from panel.inputs.fetch import Allowed, FetchPolicy
from panel.providers import registry
from panel.providers.base import Limits, ProviderSettings, Sampling, StructuredMode
from panel.providers.registry import DEFAULT_PROVIDER, parse_spec
from panel.safeio import read_regular
from panel.scoring.rules import Quorum, Recusal
from panel.urls import form_origin

MAX_CONFIG_BYTES = 1024 * 1024
SOURCE_NAME = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderEntry(_Strict):
    """[providers.<name>]: a named provider (with ``kind``) or settings for an address."""

    kind: str | None = None
    model: str | None = None
    base_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    api_key_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$|^$")] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, Field(ge=16, le=32_768)] | None = None
    seed: int | None = None
    timeout: Annotated[float, Field(gt=0, le=3_600)] | None = None
    structured: StructuredMode | None = None
    json_object_schema: bool | None = None
    max_in_flight: Annotated[int, Field(ge=1, le=1_024)] | None = None
    requests_per_minute: Annotated[int, Field(ge=0)] | None = None
    tokens_per_minute: Annotated[int, Field(ge=0)] | None = None
    vendor: Annotated[str, Field(max_length=100)] | None = None  # the model's maker
    batch: bool | None = None  # through the Batch API (OpenAI-compatible servers opt in)
    batch_discount: Annotated[float, Field(gt=0, le=1)] | None = None  # batch price / list price
    prompt_cache_key: bool | None = None  # send prompt_cache_key (default: to the kind's server)


class Price(_Strict):
    """USD per million tokens; ``cached``: cached input tokens (left out: billed as input)."""

    input: Annotated[float, Field(ge=0)]
    output: Annotated[float, Field(ge=0)]
    cached: Annotated[float, Field(ge=0)] | None = None

    def listed(self) -> tuple[float, float] | tuple[float, float, float]:
        if self.cached is None:
            return (self.input, self.output)
        return (self.input, self.output, self.cached)


class PanelSection(_Strict):
    providers: list[str] = Field(default_factory=lambda: [DEFAULT_PROVIDER], min_length=1)
    assign: dict[str, list[str]] = Field(default_factory=dict)
    quorum: Quorum = Quorum.EVERY_PERSONA
    max_cost: Annotated[float, Field(gt=0)] | None = None
    retry_attempts: Annotated[int, Field(ge=1, le=10)] = 4
    max_retry_after: Annotated[float, Field(ge=0)] = 60.0
    max_reasks: Annotated[int, Field(ge=0, le=5)] = 2
    head_to_head: bool = True  # ask "which one?" per persona and provider, in both orders
    recusal: Recusal = Recusal.RECUSE  # a model reviewing its own vendor's tool
    batch: bool = False  # the nightly sends through Batch APIs where a provider has one
    retry_nights: Annotated[int, Field(ge=1, le=365)] = 3  # nights a failed call is retried on
    batch_poll: Annotated[float, Field(gt=0, le=3_600)] = 30.0  # seconds between checks (--wait)
    # a batch output or error file over this size is not read: its batch is closed here
    batch_max_file_mb: Annotated[int, Field(ge=1, le=100_000)] = 1_024
    # a call whose batch line came back without a result this many times tonight fails
    batch_resends: Annotated[int, Field(ge=1, le=100)] = 3
    # `panel seats` thresholds the nightly summary warns under (issue 30); None: not checked
    seat_min_valid_share: Annotated[float, Field(ge=0, le=1)] | None = 0.8
    seat_max_overridden_share: Annotated[float, Field(ge=0, le=1)] | None = None
    seat_min_calls: Annotated[int, Field(ge=1)] = 10  # fewer calls: too few to judge a seat
    seat_window_days: Annotated[int, Field(ge=1, le=3_650)] = 30  # records looked at
    # A provider that checks each valid quote's claims against its tool's sources (issue 26);
    # never the quote's own author. None: the deterministic grounding check alone.
    fact_check: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class SiteSection(_Strict):
    """[site]: the published site and the editorial gate."""

    title: Annotated[str, Field(min_length=1, max_length=200)] = "AI tool comparisons"
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")] | None = None
    auto_approve: bool = False  # complete records skip the editor (fully automatic sites)
    index_size: Annotated[int, Field(ge=1, le=10_000)] = 50
    feed_size: Annotated[int, Field(ge=1, le=10_000)] = 50
    # The email provider's signup form action: pages get a signup form posting there.
    newsletter_action: Annotated[str, Field(max_length=2_000)] | None = None
    newsletter_field: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\[\]-]{1,64}$")] = "email"

    @field_validator("newsletter_action")
    @classmethod
    def _form_action(cls, value: str | None) -> str | None:
        if value is not None and not form_origin(value):
            raise ValueError(
                "not a plain http(s) URL with a host name (no spaces, quotes or user:password@)"
            )
        return value


class IntakeSource(_Strict):
    """[intake.sources.<name>]: a feed, CSV or JSON Lines file the catalog is fed from."""

    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2_000)] | None = None
    path: Annotated[str, Field(min_length=1, max_length=4_096)] | None = None  # local file
    # Entries this source added may be updated by it; no source ever changes other entries.
    may_update: bool = False
    deny_private: bool | None = None  # default: [intake] deny_private

    @model_validator(mode="after")
    def _one_location(self) -> IntakeSource:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of url or path")
        return self

    @property
    def location(self) -> str:
        return self.url or self.path or ""


class IntakeSection(_Strict):
    """[intake]: catalog intake from feeds, CSV and JSON Lines (the nightly and `tools import`)."""

    timeout: Annotated[float, Field(gt=0, le=3_600)] = 60.0  # seconds per download, overall
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    # Refuse loopback/private/reserved addresses for configured sources (hand-typed URLs:
    # `panel tools import --deny-private`).
    deny_private: bool = True
    allow: list[str] = Field(default_factory=list, max_length=100)  # exceptions to deny_private
    sources: dict[Annotated[str, Field(pattern=SOURCE_NAME)], IntakeSource] = Field(
        default_factory=dict
    )

    @field_validator("allow")
    @classmethod
    def _allow_parses(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                Allowed.parse(entry)
            except PanelError as exc:
                raise ValueError(str(exc)) from None
        return value

    def policy(self, deny_private: bool) -> FetchPolicy:
        return FetchPolicy(
            deadline=self.timeout,
            max_redirects=self.max_redirects,
            deny_private=deny_private,
            allow=tuple(Allowed.parse(entry) for entry in self.allow),
        )


class DeskSection(_Strict):
    """[desk]: the editor's desk (`panel serve`)."""

    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto the desk believes: addresses
    # or networks. Empty (the default): the client is the address that connected, always.
    trusted_proxies: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"[desk] trusted_proxies: {entry!r} is not an IP address or network "
                    "such as 127.0.0.1 or 10.0.0.0/8"
                ) from None
        return [entry.strip() for entry in value]


HttpBase = Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$", max_length=500)]


class EvidenceSection(_Strict):
    """[evidence]: fetching each tool's sources (`panel evidence fetch`, the nightly).

    Addresses are checked with [intake] deny_private and allow, as feeds are.
    """

    contact: Annotated[str, Field(pattern=r"^(https?://|mailto:)\S+$", max_length=300)] | None = (
        None  # in the User-Agent; default: [site] base_url
    )
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0  # seconds per download, overall
    max_bytes: Annotated[int, Field(ge=1_000, le=100_000_000)] = 5_000_000  # per download
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    host_interval: Annotated[float, Field(ge=1.0, le=3_600)] = 1.0  # seconds between requests
    workers: Annotated[int, Field(ge=1, le=256)] = 64  # hosts fetched at once
    max_source_tokens: Annotated[int, Field(ge=50, le=100_000)] = 1_500
    max_tool_tokens: Annotated[int, Field(ge=50, le=500_000)] = 6_000
    repository_api: HttpBase = "https://api.github.com"
    # The environment variable holding a token for the repository API (GitHub allows 60
    # requests an hour without one); sent only to repository_api, never stored or logged.
    repository_token_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    pypi_api: HttpBase = "https://pypi.org"
    npm_api: HttpBase = "https://registry.npmjs.org"
    refresh_hours: Annotated[float, Field(ge=0, le=8_760)] = 20.0  # the nightly's re-fetch age
    nightly_seconds: Annotated[float, Field(gt=0, le=86_400)] = 300.0  # the nightly's budget
    nightly_bytes: Annotated[int, Field(ge=1_000, le=10_000_000_000)] = 200_000_000

    def policy(self, intake: IntakeSection) -> FetchPolicy:
        return FetchPolicy(
            deadline=self.timeout,
            max_bytes=self.max_bytes,
            max_redirects=self.max_redirects,
            deny_private=intake.deny_private,
            allow=tuple(Allowed.parse(entry) for entry in intake.allow),
            timeout_setting="[evidence] timeout",
        )


class Config(_Strict):
    panel: PanelSection = Field(default_factory=PanelSection)
    site: SiteSection = Field(default_factory=SiteSection)
    intake: IntakeSection = Field(default_factory=IntakeSection)
    desk: DeskSection = Field(default_factory=DeskSection)
    evidence: EvidenceSection = Field(default_factory=EvidenceSection)
    providers: dict[str, ProviderEntry] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Config:
        if not path.exists() and not path.is_symlink():
            return cls()
        raw = read_regular(path, MAX_CONFIG_BYTES, "panel.toml")  # never a FIFO or a device
        try:
            return cls.model_validate(tomllib.loads(raw.decode("utf-8")))
        except RecursionError:
            raise PanelError(f"{path}: nested too deeply to be a panel file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PanelError(f"{path}: not valid TOML ({exc})") from None
        except ValidationError as exc:
            raise PanelError(f"{path}: {describe_error(exc)}; see panel.example.toml") from None

    def settings(self, name: str) -> ProviderSettings:
        """Settings for a config name (``ollama``) or an address (``openai/gpt-4o-mini``)."""
        entry = self.providers.get(name)
        if entry is not None and entry.kind is not None:
            if entry.model is None:
                raise PanelError(f"panel.toml: [providers.{name}] needs a model")
            kind, model = entry.kind, entry.model
        elif "/" not in name and ":" not in name:
            known = [*sorted(self.providers), *registry.hints()]
            raise UnknownNameError("provider", name, known, "see `panel providers list`")
        else:
            kind, model = parse_spec(name)
        if kind not in registry.KINDS:
            raise UnknownNameError(
                "provider kind",
                kind,
                sorted(registry.KINDS),
                f"in {name!r}; an address is kind/model with kind one of "
                f"{', '.join(sorted(registry.KINDS))}, e.g. {DEFAULT_PROVIDER}; "
                "see `panel providers list`",
            )
        return apply(ProviderSettings(name=name, kind=kind, model=model), entry)

    def panel_for(self, persona: str, override: list[str]) -> list[str]:
        """Provider names for one persona: --provider flags, else its assignment, else the panel."""
        names = override or self.panel.assign.get(persona) or self.panel.providers
        return list(dict.fromkeys(names))


def apply(settings: ProviderSettings, entry: ProviderEntry | None) -> ProviderSettings:
    if entry is None:
        return settings
    sampling = Sampling(
        temperature=(
            entry.temperature if entry.temperature is not None else settings.sampling.temperature
        ),
        max_tokens=entry.max_tokens or settings.sampling.max_tokens,
        seed=entry.seed if entry.seed is not None else settings.sampling.seed,
    )
    limits = Limits(
        max_in_flight=entry.max_in_flight or settings.limits.max_in_flight,
        requests_per_minute=entry.requests_per_minute or 0,
        tokens_per_minute=entry.tokens_per_minute or 0,
    )
    return replace(
        settings,
        base_url=entry.base_url or settings.base_url,
        api_key_env=entry.api_key_env if entry.api_key_env is not None else settings.api_key_env,
        sampling=sampling,
        limits=limits,
        timeout=entry.timeout or settings.timeout,
        structured=entry.structured or settings.structured,
        json_object_schema=(
            entry.json_object_schema
            if entry.json_object_schema is not None
            else settings.json_object_schema
        ),
        vendor=entry.vendor,
        batch=entry.batch,
        batch_discount=entry.batch_discount
        if entry.batch_discount is not None
        else settings.batch_discount,
        prompt_cache_key=entry.prompt_cache_key,
    )

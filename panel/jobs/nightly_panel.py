"""Who reviews tonight: the nightly's panel, named, and the guard against the default.

The nightly runs unattended, so what it runs on must be visible (dry run, summary,
log) and deliberate: with no panel named, the panel is the embedded test model,
whose reviews are close to noise and cost nothing, so no budget would catch them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from panel.config import Config
from panel.providers.registry import DEFAULT_PROVIDER, describe


def embedded_refusal(defaulted: Sequence[str], personas: int) -> str:
    """Why a nightly on the built-in default panel stops, and the three ways on."""
    who = (
        "no panel is configured, so this nightly"
        if len(defaulted) == personas
        else f"persona(s) {', '.join(defaulted)} have no providers configured, so they"
    )
    return (
        f"{who} would review on the embedded default model {DEFAULT_PROVIDER} (135M parameters, "
        "for offline tests; its verdicts are close to noise and cost $0, so no cost cap would "
        "stop it); name the panel in panel.toml ([panel] providers) or with --provider, or pass "
        "--allow-embedded to run on it anyway"
    )


@dataclass(frozen=True)
class PanelUsed:
    """Who reviews tonight: every provider with its model, per persona, and where it came from."""

    providers: dict[str, str]  # provider name -> kind/model
    personas: dict[str, list[str]]  # persona -> provider names
    source: str  # "--provider", "panel.toml" or "built-in default"
    defaulted: list[str]  # personas on the built-in default panel (the embedded model)

    def line(self) -> str:
        """One line for logs: ``panel oa = openai/gpt-4o-mini, ... (panel.toml); personas ...``."""
        names = ", ".join(
            name if name == model else f"{name} = {model}" for name, model in self.providers.items()
        )
        embedded = ": the embedded model" if self.defaulted else ""
        return f"panel {names} ({self.source}{embedded}); personas {', '.join(self.personas)}"


def describe_panel(config: Config, personas: Sequence[str], override: Sequence[str]) -> PanelUsed:
    """The panel tonight's comparisons run on (no provider is contacted)."""
    chosen = {p: config.panel_for(p, list(override)) for p in personas}
    names = list(dict.fromkeys(n for ns in chosen.values() for n in ns))
    models = {}
    for name in names:
        settings = config.settings(name)
        models[name] = f"{settings.kind}/{settings.model}"
    configured = "providers" in config.panel.model_fields_set
    defaulted = [
        p for p in personas if not override and not configured and p not in config.panel.assign
    ]
    source = "--provider" if override else "built-in default" if defaulted else "panel.toml"
    return PanelUsed(models, chosen, source, defaulted)


def require_keys(config: Config, providers: Sequence[str]) -> None:
    """Every provider on tonight's panel has its API key in the environment, or a one-line
    error naming the variable. Checked on every run, even one with nothing to do, so a cron
    line without keys fails on its first night rather than on the first night with work."""
    for name in providers:
        settings = config.settings(name)
        describe(settings.kind).api_key(settings)


def not_batched(config: Config, providers: Sequence[str], forced: bool) -> dict[str, str]:
    """Providers on the panel that were asked to batch (``forced``: ``--batch`` or ``[panel]
    batch``; else the provider's own ``batch = true``) but run synchronously, and why."""
    out: dict[str, str] = {}
    for name in providers:
        settings = config.settings(name)
        if forced or settings.batch is True:
            reason = describe(settings.kind).batch_refusal(settings)
            if reason is not None:
                out[name] = reason
    return out


def batch_refusal(refused: dict[str, str], providers: Sequence[str]) -> str | None:
    """The one-line error for an explicit ``--batch`` where no provider can batch, else None."""
    if not providers or len(refused) < len(providers):
        return None
    why = "; ".join(f"{name}: {reason}" for name, reason in refused.items())
    return f"--batch: no provider on tonight's panel can batch ({why}); or drop --batch"

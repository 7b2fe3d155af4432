"""One way to build a run: ``RunSession`` owns what review, nightly and rerun share.

    with RunSession(home, max_cost=cap, fresh=fresh, progress=hook) as session:
        plan = plan_review(home, a, b, [], [], config=session.config, clients=session.clients)
        session.check_estimate(plan.calls)  # --max-cost, before anything is sent
        results = session.run(session.runner.run(plan.calls))

A session is built from the project (panel.toml's ``[panel]`` settings) and the command's
options, and owns:

- the **runner**, built once, keyword-only, from the **retry policy** (``retry_attempts``,
  ``max_retry_after``), the **judge** (``max_reasks``), the **budget** (``--max-cost`` or
  ``max_cost``, ``--max-calls``), the store, ``fresh``, the progress hook and the model claim
  checker (``fact_check``, a client like the others);
- the **store** (runs/panel.db), opened on first use and closed with the session;
- the **provider clients** (``clients``): one per provider name, shared by every plan made
  in the session, and closed in one place (:meth:`aclose_providers`). A client lives as long
  as the event loop it ran on: to the end of :meth:`run`, or of ``async with session``;
  clients that never ran are closed when the session ends;
- the **--max-cost price check** (:meth:`require_prices`, :meth:`check_estimate`).

Leaving the session closes the providers, then the store, whatever happened. It is
what later work (batch mode, the editor's desk) builds runs with: ``async with`` from
inside a running event loop, ``with`` and :meth:`run` from synchronous code.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Self, TypeVar

from panel.config import Config, PanelSection
from panel.defences.fence_key import fence_key
from panel.errors import PanelError
from panel.paths import Home
from panel.pipeline.batch_path import BatchPath
from panel.pipeline.budget import Budget
from panel.pipeline.calls import Call, estimated_cost, unpriced
from panel.pipeline.factcheck import FactChecker
from panel.pipeline.judge import Judge
from panel.pipeline.pricing import PriceBook
from panel.pipeline.retry import RetryPolicy
from panel.pipeline.runner import Progress, Runner
from panel.providers import registry
from panel.providers.base import Provider
from panel.records.store import Store

T = TypeVar("T")


class RunSession:
    """The settings, runner, store and provider clients of one run (or several in a row)."""

    def __init__(
        self,
        home: Home,
        *,
        config: Config | None = None,
        max_cost: float | None = None,
        max_calls: int | None = None,
        fresh: bool = False,
        progress: Progress | None = None,
    ) -> None:
        """``config``: already loaded (else panel.toml, on first use); ``max_cost`` overrides
        ``[panel] max_cost``; ``fresh`` ignores cached answers; ``progress`` sees every call."""
        self.home = home
        self._config = config
        self.max_cost = max_cost
        self.max_calls = max_calls
        self.fresh = fresh
        self.progress = progress
        self.clients: dict[str, Provider] = {}  # provider name -> client, for plan_review & co.
        self._store: Store | None = None

    # -- what the session is built from --------------------------------------
    @functools.cached_property
    def config(self) -> Config:
        return self._config if self._config is not None else Config.load(self.home.config_file)

    @property
    def settings(self) -> PanelSection:
        return self.config.panel

    @property
    def cap(self) -> float | None:
        """The run's USD cap: ``--max-cost``, else panel.toml's ``max_cost``; None: no cap."""
        return self.max_cost if self.max_cost is not None else self.settings.max_cost

    @functools.cached_property
    def policy(self) -> RetryPolicy:
        settings = self.settings
        return RetryPolicy(
            attempts=settings.retry_attempts, retry_after_cap=settings.max_retry_after
        )

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.home.runs)
        return self._store

    @functools.cached_property
    def runner(self) -> Runner:
        return Runner(
            policy=self.policy,
            judge=Judge(max_reasks=self.settings.max_reasks),
            budget=Budget(self.cap, self.max_calls),
            store=self.store,
            fresh=self.fresh,
            progress=self.progress,
            checker=self._checker(),
        )

    def _checker(self) -> FactChecker | None:
        """``[panel] fact_check``: the provider that checks quotes' claims (issue 26)."""
        name = self.settings.fact_check
        if name is None:
            return None
        settings = self.config.settings(name)
        if name not in self.clients:
            self.clients[name] = registry.create(settings)
        rate = PriceBook({k: (v.input, v.output) for k, v in self.config.prices.items()})
        return FactChecker(self.clients[name], fence_key(self.home.runs), rate.rate(settings))

    def batch_path(self, run_id: str, log: Callable[[str], None] = lambda m: None) -> BatchPath:
        """The batch side of a run (``pipeline/batch_path.py``), sharing the runner's judge and
        budget, the retry policy, the store and the provider clients."""
        config = self.config
        return BatchPath(
            store=self.store,
            clients=self.clients,
            make=lambda name: registry.create(config.settings(name)),
            policy=self.policy,
            judge=self.runner.judge,
            budget=self.runner.budget,
            prices=PriceBook.of(config.prices),
            run_id=run_id,
            log=log,
            poll=self.settings.batch_poll,
            file_cap=self.settings.batch_max_file_mb * 1_000_000,
            resends=self.settings.batch_resends,
        )

    # -- the --max-cost check ------------------------------------------------
    def require_prices(self, calls: Iterable[Call]) -> None:
        """Under a cost cap, every call's price must be known (else the cap means nothing)."""
        if self.cap is None:
            return
        unknown = unpriced(calls)
        if unknown:
            raise PanelError(
                f"--max-cost needs prices, and none are known for {', '.join(unknown)}; "
                'add [prices."kind/model"] to panel.toml'
            )

    def check_estimate(self, calls: Iterable[Call]) -> None:
        """``require_prices``, and refuse to start if one send of every call is over the cap."""
        calls = list(calls)
        self.require_prices(calls)
        if self.cap is None:
            return
        estimate = estimated_cost(calls) or 0.0
        if estimate > self.cap:
            raise PanelError(
                f"estimated cost ${estimate:.4f} exceeds --max-cost ${self.cap:.4f}; "
                "raise the cap or use fewer providers or personas"
            )

    # -- running and closing -------------------------------------------------
    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` (say ``session.runner.run(calls)``) on a new event loop.

        However it ends, whatever it left running is cancelled and then the providers
        are closed, on that loop: their connections belong to it.
        """

        async def main() -> T:
            try:
                return await work
            finally:
                await _cancel_the_rest()
                await self.aclose_providers()

        return asyncio.run(main())

    async def aclose_providers(self) -> None:
        """Close every provider client of the session (the only place clients are closed)."""
        providers = list(self.clients.values())
        self.clients.clear()
        await asyncio.gather(*(p.aclose() for p in providers), return_exceptions=True)

    def close(self) -> None:
        """Close providers that never ran, then the store."""
        try:
            if self.clients:
                asyncio.run(self.aclose_providers())
        finally:
            runner = self.__dict__.get("runner")  # the cached property, if it was made
            if runner is not None:
                runner.close()
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.aclose_providers()
        finally:
            self.close()


async def _cancel_the_rest() -> None:
    """Cancel the loop's other tasks (say, the siblings of a failed one) and wait for them."""
    current = asyncio.current_task()
    rest = [task for task in asyncio.all_tasks() if task is not current]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)

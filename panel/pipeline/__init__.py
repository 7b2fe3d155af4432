"""Plan, send and judge calls: the session that builds a run, the runner (transport), the
judge (validation, flags, re-asks), prompts, retries, limits, budget and prices."""

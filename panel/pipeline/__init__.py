"""Plan, send and validate calls: prompts, the runner, retries, limits and prices."""

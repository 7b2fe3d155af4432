"""Evidence behind verdicts (issue 26): sources per tool, fetched snapshots, the pack a
reviewer sees (``pack``), and the grounding check of the quotes that cite it."""

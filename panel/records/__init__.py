"""Comparison records: the schema, files on disk, the store and the editorial gate."""

"""`panel schema`: the JSON Schema of the comparison record."""

from __future__ import annotations

import json
import sys

from panel.records.schema import SCHEMA_VERSION, ComparisonRecord


def schema_command() -> None:
    """Print the JSON Schema of the comparison record (the contract the site reads)."""
    schema = ComparisonRecord.model_json_schema(mode="serialization")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://panel.invalid/schema/comparison-record-v{SCHEMA_VERSION}.json",
        **schema,
    }
    json.dump(schema, sys.stdout, indent=2)
    sys.stdout.write("\n")

"""Output formats for comparison records: one module per format."""

"""What panel reads from outside: the catalog and its intake, personas, votes."""

"""Domain: tables per schema, state enums with transition tables, value types, id formats."""

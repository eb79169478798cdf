"""Derived tables: pure polars functions over staged records (no Dagster), e.g. the group
membership timeline the group clauses read."""

"""Queries and transactions: the desk's operations as plain functions that views and the CLI call."""

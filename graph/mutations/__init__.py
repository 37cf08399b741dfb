"""Mutations, one module per domain; each defines a type merged into Mutation."""

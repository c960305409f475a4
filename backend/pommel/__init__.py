"""Pommel: projects, tasks and containerised workflows behind one GraphQL API."""

__version__ = "0.1.0"

"""CLI command modules: each lists its click commands in a module-level ``COMMANDS``."""

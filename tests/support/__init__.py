"""Helpers shared by test modules (importable as ``support.*``: tests/ is on pytest's path)."""

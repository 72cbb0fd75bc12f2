"""Stream Lines: the shared core (settings, event schemas, CLI, local stack control)."""

__version__ = "0.1.0"

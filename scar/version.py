"""The version of scar (the client and the supervisor it ships)."""

__version__ = "0.1.0"

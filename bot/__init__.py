"""Parole help bot: answers questions about the end of US humanitarian parole (CHNV)."""

__version__ = "0.1.0"

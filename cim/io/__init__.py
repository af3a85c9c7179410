"""Readers and writers of external formats; the only code that touches files."""

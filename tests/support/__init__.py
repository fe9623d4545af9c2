"""Helpers shared by several test files (imported as ``support.*``; tests/ is on the path)."""

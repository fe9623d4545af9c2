"""procsearch: full-text search over medical procedure pages."""

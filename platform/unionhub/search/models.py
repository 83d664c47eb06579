"""Search tables (filled in by the search service)."""

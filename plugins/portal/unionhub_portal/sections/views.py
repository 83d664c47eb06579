"""Section management in the back office (being built)."""

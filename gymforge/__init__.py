"""gymforge package."""

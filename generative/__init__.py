"""generative package."""

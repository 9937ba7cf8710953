"""The project's own complaint training data (see README.md)."""

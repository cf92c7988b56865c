"""recnas.data."""

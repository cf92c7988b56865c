"""recnas.search."""

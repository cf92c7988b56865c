"""recnas.train."""

"""recnas.nn."""

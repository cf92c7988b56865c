"""recnas.cli."""

"""recnas.hardware."""

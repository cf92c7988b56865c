"""recnas.nn.ops."""

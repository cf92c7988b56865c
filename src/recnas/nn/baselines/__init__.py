"""recnas.nn.baselines."""

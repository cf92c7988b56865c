"""recnas: NASRec neural architecture search for CTR models, with ReRAM PIM co-design."""

__version__ = "0.1.0"

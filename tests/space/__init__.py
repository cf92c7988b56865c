"""Tests of recnas.space (a package so that test basenames may repeat across areas)."""

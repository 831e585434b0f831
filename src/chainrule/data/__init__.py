"""Data: bundled and generated datasets, batching helpers, preprocessing."""

from .datasets import load_digits, make_xor
from .preprocessing import Standardizer, train_test_split

__all__ = ["load_digits", "make_xor", "Standardizer", "train_test_split"]

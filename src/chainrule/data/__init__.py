"""Data: bundled and generated datasets, MNIST-family files, CSV tables, image folders, labels, preprocessing."""

from .csv import load_csv
from .datasets import GENERATED, load_digits, make_blobs, make_circles, make_moons, make_sine, make_spirals, make_xor
from .idx import DataFileError, read_idx
from .images import load_image_folder, read_image
from .labels import decide_task, encode_labels
from .mnist import load_fashion_mnist, load_mnist
from .packed import PackedDataset, pack
from .preprocessing import ConstantScaler, MinMaxScaler, Standardizer, flatten, one_hot, train_test_split

__all__ = [
    "GENERATED",
    "load_digits", "load_mnist", "load_fashion_mnist", "load_csv", "read_idx", "DataFileError",
    "load_image_folder", "read_image", "decide_task", "encode_labels",
    "pack", "PackedDataset",
    "make_xor", "make_spirals", "make_moons", "make_circles", "make_blobs", "make_sine",
    "Standardizer", "MinMaxScaler", "ConstantScaler", "flatten", "one_hot", "train_test_split",
]

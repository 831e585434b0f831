"""The data of a recipe: its splits, its task (classes or numbers) and its class labels."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .. import data as datasets
from ..data.images import describe_images, load_image_folder
from ..data.labels import decide_task, encode_labels


def _generated(d, seed):
    """The generated dataset a recipe names, with the recipe's size and noise."""
    extra = {"spirals": {"arms": d.arms}, "blobs": {"centers": d.arms, "spread": d.noise}}
    options = extra.get(d.dataset, {"noise": d.noise})
    return datasets.GENERATED[d.dataset](n=d.n_samples, rng=seed, **options)


def _source(d, seed, data_dir):
    """(X, y, X_test or None, y_test or None, classes or None, input_image or None) before any split."""
    if d.dataset in ("mnist", "fashion-mnist"):
        (X, y), (X_test, y_test) = datasets.load_mnist(d.dataset, data_dir or d.data_dir or None)
        names = datasets.mnist.CLASS_NAMES[d.dataset]
        classes = np.arange(10) if d.dataset == "mnist" else np.array(names)
        return X, y, X_test, y_test, classes, describe_images(X[:1000], 255)
    if d.dataset == "digits":
        X, y = datasets.load_digits()
        return X, y, None, None, np.arange(10), describe_images(X[:1000].reshape(-1, 8, 8), 16)
    if d.dataset == "csv":
        X, y = datasets.load_csv(d.path, label=d.label, header={"auto": None, "yes": True, "no": False}[d.header])
        return X, y, None, None, None, None
    if d.dataset == "images":
        return _image_folders(d)
    X, y = _generated(d, seed)
    return X, y, None, None, None, None


def _image_folders(d):
    root, size = Path(d.path), d.image_size or None
    train = root / "train" if (root / "train").is_dir() else root
    X, y, classes = load_image_folder(train, size, d.color)
    X_test, y_test = None, None
    if (root / "test").is_dir():
        X_test, y_test, _ = load_image_folder(root / "test", size, d.color, classes=classes)
        if X_test.shape[1:] != X.shape[1:]:
            raise ValueError(f"{root / 'test'}: images of {X_test.shape[1:]} but the training images are "
                             f"{X.shape[1:]}; pass --image-size H W to resize both")
    return X, y, X_test, y_test, np.array(classes), describe_images(X, 255)


def load_data(config, data_dir=None):
    """The splits of the recipe's dataset: a dict with X_train, y_train, X_val, y_val, X_test,
    y_test (raw, unscaled; class labels as indices into ``classes``), image_shape (or None),
    class_names (or None), classes (the original labels, or None), input_image (or None),
    task ("classification" or "regression") and task_reason (one line of why)."""
    d, seed = config.data, config.train.seed
    X, y, X_test, y_test, classes, input_image = _source(d, seed, data_dir)
    image_shape = tuple(input_image["shape"]) if input_image else None
    task, reason = decide_task(y, d.task)
    if task == "classification":
        if classes is None:
            y, classes = encode_labels(y)
    else:
        y = np.asarray(y, dtype=np.float32)
        y_test = None if y_test is None else np.asarray(y_test, dtype=np.float32)
        classes = None
    X = X.reshape(len(X), -1).astype(np.float32, copy=False)
    if X_test is None:
        classify = task == "classification"
        X, X_test, y, y_test = _split(X, y, d.test_size, classify, seed, "test_size", "rows")
    X_test = X_test.reshape(len(X_test), -1).astype(np.float32, copy=False)
    rng = np.random.default_rng(seed)
    if d.samples and d.samples < len(X):
        keep = np.sort(rng.permutation(len(X))[:d.samples])
        X, y = X[keep], y[keep]
    X_val, y_val = None, None
    if d.validation_split:
        X, X_val, y, y_val = _split(X, y, d.validation_split, task == "classification", seed + 1,
                                    "validation_split", "training rows")
    digest = hashlib.sha256(np.ascontiguousarray(X).tobytes() + np.ascontiguousarray(y).tobytes())
    return {"X_train": X, "y_train": y, "X_val": X_val, "y_val": y_val, "X_test": X_test, "y_test": y_test,
            "image_shape": image_shape, "input_image": input_image,
            "classes": classes, "class_names": None if classes is None else [str(c) for c in classes],
            "task": task, "task_reason": reason, "train_sha256": digest.hexdigest()}


def _split(X, y, share, classify, seed, key, rows):
    """train_test_split, with an error that names the recipe key whose share left a part empty."""
    try:
        return datasets.train_test_split(X, y, share, stratify=classify, rng=seed)
    except ValueError as err:
        if "leaves" not in str(err):
            raise
        raise ValueError(f"config [data] {key} = {share} of {len(X)} {rows} leaves too few for both parts "
                         f"({err}); expected some of each: use more rows, or change {key}"
                         + ("" if not classify else "; with many classes of one or two rows each, is the "
                            "target a number? pass --task regression")) from None

"""MNIST and Fashion-MNIST from their original IDX files, checksum-verified.

Where the files are looked for, in order:

1. the directory the caller names (``data_dir``; ``--data-dir`` on the command line);
2. the directory in the ``CHAINRULE_DATA`` environment variable;
3. the cache directory (``CHAINRULE_CACHE``, else ``$XDG_CACHE_HOME/chainrule``,
   else ``~/.cache/chainrule``);
4. a download from the canonical mirrors into the cache (when ``download=True``).

In each directory the four files may sit directly or in a sub-folder named
after the dataset (``mnist/``, ``fashion-mnist/``), gzip-compressed or raw.
Every file found is verified against the published SHA-256 before use.
"""

from __future__ import annotations

import os
from pathlib import Path

from .download import download as fetch
from .download import sha256_of, text_progress
from .idx import DataFileError, read_idx

PARTS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# SHA-256 of each file, compressed (.gz) and raw, as published.
DATASETS = {
    "mnist": {
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/"],
        "gz": {
            "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        "raw": {
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
    },
    "fashion-mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "gz": {
            "train-images-idx3-ubyte": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        "raw": {
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
    },
}

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                      "Bag", "Ankle boot"],
}


def cache_dir():
    """Where downloads are kept: CHAINRULE_CACHE, else $XDG_CACHE_HOME/chainrule, else ~/.cache/chainrule."""
    if os.environ.get("CHAINRULE_CACHE"):
        return Path(os.environ["CHAINRULE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chainrule"


def _spec(name):
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[name]


def candidate_dirs(name, data_dir=None):
    """The directories searched for ``name``, in order (existing or not)."""
    roots = [Path(d) for d in (data_dir, os.environ.get("CHAINRULE_DATA")) if d]
    roots.append(cache_dir())
    return [d for root in roots for d in (root, root / name)]


def find_file(name, stem, data_dir=None):
    """The first copy of one of the dataset's files (``.gz`` or raw) in the search path, or None."""
    for folder in candidate_dirs(name, data_dir):
        for path in (folder / (stem + ".gz"), folder / stem):
            if path.is_file():
                return path
    return None


def verify(name, path):
    """Check a file's SHA-256 against the published one; raise DataFileError naming the file if it differs."""
    kind = "gz" if path.suffix == ".gz" else "raw"
    stem = path.name[:-3] if kind == "gz" else path.name
    expected = _spec(name)[kind][stem]
    actual = sha256_of(path)
    if actual != expected:
        raise DataFileError(f"{path}: checksum mismatch (sha256 {actual}, expected {expected}); "
                            "the file is corrupt or not the published one: delete it to fetch it again")
    return path


def locate(name="mnist", data_dir=None, download=True, mirrors=None, progress=None):
    """The verified paths of the dataset's four files, by part name, downloading missing ones if allowed."""
    spec = _spec(name)
    paths = {}
    for part, stem in PARTS.items():
        path = find_file(name, stem, data_dir)
        if path is None:
            if not download:
                searched = ", ".join(str(d) for d in candidate_dirs(name, data_dir))
                raise DataFileError(f"{name}: {stem}(.gz) not found in {searched}; name a folder that holds it "
                                    "(--data-dir or CHAINRULE_DATA) or allow the download")
            target = cache_dir() / name / (stem + ".gz")
            try:
                path = fetch([m + stem + ".gz" for m in (mirrors or spec["mirrors"])], target, spec["gz"][stem],
                             progress if progress is not None else text_progress(f"{name}/{stem}.gz"))
            except DataFileError as err:
                raise DataFileError(f"{err}\nNo network, or the files are elsewhere? Pass --data-dir DIR (API: "
                                    f"data_dir=DIR) or set CHAINRULE_DATA to a folder holding {stem}.gz") from None
        paths[part] = verify(name, path)
    return paths


def load_mnist(name="mnist", data_dir=None, download=True, mirrors=None, progress=None):
    """MNIST (``name="mnist"``) or Fashion-MNIST (``"fashion-mnist"``) as uint8 arrays.

    Returns ``(X_train, y_train), (X_test, y_test)``: images of shape
    (60000, 28, 28) and (10000, 28, 28) with pixels 0..255, labels 0..9.
    A download reports its progress on stderr, or to ``progress(done, total)``.
    """
    paths = locate(name, data_dir, download, mirrors, progress)
    arrays = {part: read_idx(path) for part, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataFileError(f"{name}: {split} images {images.shape} and labels {labels.shape} do not match")
    return (arrays["train_images"], arrays["train_labels"]), (arrays["test_images"], arrays["test_labels"])


def load_fashion_mnist(data_dir=None, download=True, mirrors=None, progress=None):
    """Fashion-MNIST; see load_mnist."""
    return load_mnist("fashion-mnist", data_dir, download, mirrors, progress)

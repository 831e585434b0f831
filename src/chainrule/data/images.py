"""Image files: a folder of class folders for training, single files for predict (needs Pillow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .idx import DataFileError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('reading images needs Pillow: pip install "chainrule[image]"') from None
    return Image


def read_image(path, image_size=None, color=False):
    """One image file as a float32 array 0..255: (H, W), or (H, W, 3) with ``color``;
    resized to ``image_size`` = (H, W) if given. A file that is not an image names itself."""
    Image = _pillow()
    try:
        with Image.open(path) as image:
            image = image.convert("RGB" if color else "L")
            if image_size is not None:
                height, width = image_size
                image = image.resize((int(width), int(height)))
            return np.asarray(image, dtype=np.float32)
    except (OSError, ValueError) as err:  # Pillow's UnidentifiedImageError is an OSError
        raise DataFileError(f"{path}: not a readable image ({err})") from None


def image_files(folder):
    """The image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def load_image_folder(path, image_size=None, color=False, classes=None):
    """``path/<class>/*.png|jpg`` as (X, y, classes).

    X is float32 (m, H, W) with pixels 0..255 (or (m, H, W, 3) with ``color``),
    y the class index of each image (m,), and classes the folder names in
    sorted order (pass ``classes`` to use a training set's). Every image must
    have one size unless ``image_size`` = (H, W) resizes them; a file of
    another size, or not an image, is an error naming it.
    """
    files, y, classes = image_folder_files(path, classes)
    return np.stack(list(iter_images(files, image_size, color))), y, classes


def image_folder_files(path, classes=None):
    """The files of ``path/<class>/*.png|jpg`` (class by class), their class indices (int64) and the classes."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no image folder at {path}")
    found = sorted(p.name for p in path.iterdir() if p.is_dir())
    if classes is None:
        classes = found
    elif set(found) - set(classes):
        raise DataFileError(f"{path}: class folders {sorted(set(found) - set(classes))} are not among the "
                            f"training classes {list(classes)}")
    if not classes:
        raise DataFileError(f"{path}: no class folders; expected {path}/<class>/*.png (or .jpg)")
    files, labels = [], []
    for index, name in enumerate(classes):
        in_class = image_files(path / name) if (path / name).is_dir() else []
        files += in_class
        labels += [index] * len(in_class)
    if not files:
        raise DataFileError(f"{path}: no images ({', '.join(SUFFIXES)}) in the class folders {classes}")
    return files, np.array(labels, dtype=np.int64), list(classes)


def iter_images(files, image_size=None, color=False):
    """The images of ``files`` one by one (as ``read_image``), each of the first one's size or an error naming both."""
    first = None
    for file in files:
        image = read_image(file, image_size, color)
        if first is None:
            first = (file, image.shape)
        elif image.shape != first[1]:
            raise DataFileError(f"{file}: an image of {size_text(image.shape)}, but {first[0]} is {size_text(first[1])}; "
                                "pass image_size=(H, W) (--image-size H W) to resize them all")
        yield image


def size_text(shape):
    """An image's size as people write it: 28x28, or 32x32 colour."""
    return f"{shape[0]}x{shape[1]}" + (" colour" if len(shape) == 3 else "")


def describe_images(images, max_value):
    """What predict needs to know of the training images: shape, background and pixel range.

    The background is "dark" or "light" by the median border pixel of the
    training images (MNIST: dark; a drawing on paper: light).
    """
    images = np.asarray(images)
    border = np.concatenate([images[:, 0].ravel(), images[:, -1].ravel(), images[:, :, 0].ravel(),
                             images[:, :, -1].ravel()])
    background = "dark" if np.median(border) < max_value / 2 else "light"
    return {"shape": list(images.shape[1:]), "background": background, "max": float(max_value)}

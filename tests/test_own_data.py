"""Your own data through the API: strict CSV reading, the task, labels of any kind, image folders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataFileError, decide_task

README = Path(__file__).resolve().parents[1] / "README.md"


def write(tmp_path, text, name="table.csv", mode="w"):
    path = tmp_path / name
    (path.write_bytes if mode == "wb" else path.write_text)(text)
    return path


def test_text_labels_and_a_header(tmp_path):
    path = write(tmp_path, "width,height,species\n1.5,2,setosa\n3,4, virginica\n\n5,6,setosa\n")
    X, y = cr.data.load_csv(path)
    assert X.dtype == np.float32 and X.tolist() == [[1.5, 2], [3, 4], [5, 6]]
    assert y.tolist() == ["setosa", "virginica", "setosa"]


def test_text_labels_without_a_header_and_minus_one_plus_one(tmp_path):
    X, y = cr.data.load_csv(write(tmp_path, "5.1,3,setosa\n4,2,versicolor\n"))
    assert X.shape == (2, 2) and y.tolist() == ["setosa", "versicolor"]
    X, y = cr.data.load_csv(write(tmp_path, "1,2,-1\n3,4,1\n", "pm.csv"))
    assert y.dtype == np.int64 and y.tolist() == [-1, 1] and X.tolist() == [[1, 2], [3, 4]]


def test_utf8_with_a_bom_and_a_line_of_spaces(tmp_path):
    X, y = cr.data.load_csv(write(tmp_path, b"\xef\xbb\xbfx,y\n1,2\n   \n3,4\n", mode="wb"))
    assert X.tolist() == [[1], [3]] and y.tolist() == [2, 4]


@pytest.mark.parametrize("text, expected", [
    ("1,O,3\n4,5,6\n", ["line 1, column 2", "'O' is not a number", "header=True"]),  # a typo in row 1 is no header
    ("a,b,c\n1,2,3\n4,5,6\n7,x,9\n", ["line 4, column 2 ('b')", "'x' is not a number"]),
    ("a,b,c\n1,,3\n", ["line 2, column 2", "'' is empty"]),
    ("1,2,3\n4,5\n", ["line 2", "2 cells; expected 3"]),
    ("a,b,c\n", ["header but no data rows"]),
    ("", ["holds no rows"]),
    ("\n  \n", ["holds no rows"]),
])
def test_bad_csv_files_name_file_line_column_and_cell(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(DataFileError) as err:
        cr.data.load_csv(path)
    assert str(path) in str(err.value) and all(part in str(err.value) for part in expected), str(err.value)


def test_latin1_bytes_name_the_file_and_utf8(tmp_path):
    path = write(tmp_path, "name,value\ncaf\xe9,1\n".encode("latin-1"), mode="wb")
    with pytest.raises(DataFileError, match=r"line 2: byte 0xe9 is not UTF-8; expected a UTF-8 file") as err:
        cr.data.load_csv(path)
    assert str(path) in str(err.value)


def test_header_can_be_forced(tmp_path):
    path = write(tmp_path, "1,2,3\n4,5,6\n")
    X, y = cr.data.load_csv(path, header=True)
    assert X.tolist() == [[4, 5]] and y.tolist() == [6]


def test_the_fast_path_parses_whole_tables_not_cells(tmp_path, monkeypatch):
    """No Python float() per cell: a 2,000 x 50 table goes through NumPy's parser."""
    table = np.arange(100_000).reshape(2000, 50) % 7
    path = tmp_path / "big.csv"
    np.savetxt(path, table, fmt="%d", delimiter=",")
    import chainrule.data.csv as module

    calls = []
    real = module._is_number
    monkeypatch.setattr(module, "_is_number", lambda cell: calls.append(cell) or real(cell))
    X, y = cr.data.load_csv(path)
    assert np.array_equal(X, table[:, :-1]) and np.array_equal(y, table[:, -1])
    assert len(calls) <= 51  # the first row only, to decide on a header


@pytest.mark.parametrize("y, task, reason", [
    (np.array([151.0, 75.0, 141.0] * 20) + np.arange(60), "regression", "60 distinct values (more than 50)"),
    (np.array([0.5, 1.25, 3.0]), "regression", "real numbers"),
    (np.array([3, 7, 9, 7]), "classification", "3 distinct values (at most 50)"),
    (np.array(["setosa", "virginica"]), "classification", "text"),
])
def test_the_task_and_its_reason(y, task, reason):
    found, why = decide_task(y)
    assert found == task and reason in why


def test_an_asked_task_is_checked():
    assert decide_task(np.array([1, 2, 3]), "regression")[0] == "regression"
    with pytest.raises(ValueError, match="text labels"):
        decide_task(np.array(["a", "b"]), "regression")


def test_text_labels_are_kept_in_the_model_and_its_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "right", "left")
    model = cr.Sequential([cr.Dense(2, 8), cr.ReLU(), cr.Dense(8, 2)], rng=0)
    model.fit(X, y, loss="cross_entropy", optimizer=cr.optim.Adam(lr=0.05), epochs=30, verbose=0,
              validation_data=(X[:10], y[:10]))
    assert model.classes_.tolist() == ["left", "right"]
    predicted = model.predict(X)
    assert set(predicted.tolist()) <= {"left", "right"} and np.mean(predicted == y) > 0.9
    proba = model.predict_proba(X)
    assert np.array_equal(model.classes_[proba.argmax(axis=1)], predicted)  # columns follow classes_
    assert model.evaluate(X, y)["accuracy"] > 0.9
    model.save(tmp_path / "m.chainrule")
    again = cr.load(tmp_path / "m.chainrule")
    assert again.classes_.tolist() == ["left", "right"] and np.array_equal(again.predict(X), predicted)


def test_numeric_labels_map_through_classes(tmp_path):
    X = np.array([[0.0], [1.0], [2.0]] * 20, np.float32)
    y = np.array([3, 7, 9] * 20)
    model = cr.Sequential([cr.Dense(1, 16), cr.Tanh(), cr.Dense(16, 3)], rng=0)
    model.classes_ = np.array([3, 7, 9])
    model.fit(X, y, loss="cross_entropy", optimizer=cr.optim.Adam(lr=0.05), epochs=60, verbose=0)
    assert model.predict(X).tolist() == y.tolist()
    with pytest.raises(ValueError, match="label 5, which is not one of the model's classes_"):
        model.evaluate(X[:1], [5])


def image_folder(root, sizes, seed=0):
    """root/<class>/*.png: dark images with a light square (class 'square') or bar ('bar')."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for k, name in enumerate(("bar", "square")):
        (root / name).mkdir(parents=True)
        for i in range(12):
            size = sizes[(i + k) % len(sizes)]
            image = rng.integers(0, 30, (size, size)).astype(np.uint8)
            if name == "square":
                image[2:6, 2:6] = 250
            else:
                image[:, size // 2] = 250
            Image.fromarray(image).save(root / name / f"{name}{i}.png")
    return root


def test_an_image_folder_and_its_errors(tmp_path):
    pytest.importorskip("PIL")
    root = image_folder(tmp_path / "one", [8])
    X, y, classes = cr.data.load_image_folder(root)
    assert X.shape == (24, 8, 8) and classes == ["bar", "square"] and sorted(set(y.tolist())) == [0, 1]
    mixed = image_folder(tmp_path / "two", [8, 10])
    with pytest.raises(DataFileError, match=r"\.png: an image of 10x10, but .* is 8x8; pass image_size"):
        cr.data.load_image_folder(mixed)
    X, _, _ = cr.data.load_image_folder(mixed, image_size=(6, 7), color=True)
    assert X.shape == (24, 6, 7, 3)
    (mixed / "bar" / "broken.png").write_text("not an image")
    with pytest.raises(DataFileError, match=r"broken\.png: not a readable image"):
        cr.data.load_image_folder(mixed, image_size=(6, 6))


def test_the_readme_example_saves_a_model_that_takes_raw_inputs(tmp_path, monkeypatch):
    """The README's first example, run as written: the loaded model predicts on raw pixels as the original."""
    monkeypatch.chdir(tmp_path)
    block = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[0]
    namespace = {}
    exec(compile(block.replace("epochs=40", "epochs=2"), str(README), "exec"), namespace)
    X_raw = namespace["X_test"]
    assert X_raw.max() > 1  # raw pixels 0..16, not standardised
    loaded = cr.load(tmp_path / "digits.chainrule")
    assert np.array_equal(loaded.predict(X_raw), namespace["model"].predict(X_raw))
    assert np.mean(loaded.predict(X_raw) == namespace["y_test"]) > 0.8


def test_rows_all_shorter_than_the_header_are_refused_naming_the_file(tmp_path):
    """NumPy reads such a body as a narrower table; the reader says so instead of failing on an index."""
    path = tmp_path / "short.csv"
    path.write_text("a,b,label\n1,2\n3,4\n")
    with pytest.raises(DataFileError, match=re.escape(str(path))):
        cr.data.load_csv(path)

"""Packed datasets (chainrule.data.packed): the shards equal the source, the chunked shuffle visits
every row once per epoch and is reproducible, bad files are named, and training from shards
equals training in memory."""

import gzip
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.main import main
from chainrule.data import DataFileError, PackedDataset, pack
from chainrule.layers import Dense, ReLU
from chainrule.training.stream import fit_scaler


def table(rows=1000, features=3, seed=0):
    """X whose first column is the row's number, so a batch says which rows it holds; y = row mod 4."""
    X = np.random.default_rng(seed).normal(size=(rows, features)).astype(np.float32)
    X[:, 0] = np.arange(rows)
    return X, np.arange(rows) % 4


def idx_bytes(array):
    array = np.asarray(array, np.uint8)
    return bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()


@pytest.fixture
def packed(tmp_path):
    X, y = table()
    pack((X, y), tmp_path / "p", shard_rows=300)
    return tmp_path / "p", X, y


# -- pack ------------------------------------------------------------------------------------------


def test_pack_round_trip_from_arrays_shard_by_shard(packed):
    path, X, y = packed
    index = json.loads((path / "index.json").read_text())
    assert (index["format"], index["version"]) == ("chainrule-packed", 1)
    shards = index["splits"]["train"]["shards"]
    assert [s["rows"] for s in shards] == [300, 300, 300, 100]
    assert np.array_equal(np.concatenate([np.load(path / s["X"]) for s in shards]), X)
    assert np.array_equal(np.concatenate([np.load(path / s["y"]) for s in shards]), y)
    X2, y2 = PackedDataset(path).verify().arrays()
    assert X2.dtype == X.dtype and np.array_equal(X2, X) and np.array_equal(y2, y)


def test_pack_reads_a_folder_of_idx_files_into_train_and_test_splits(tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "fashion-mnist"
    src.mkdir()
    parts = {"train-images-idx3-ubyte": rng.integers(0, 256, (50, 4, 4)), "train-labels-idx1-ubyte": np.arange(50) % 10,
             "t10k-images-idx3-ubyte": rng.integers(0, 256, (20, 4, 4)), "t10k-labels-idx1-ubyte": np.arange(20) % 10}
    for stem, array in parts.items():
        (src / (stem + ".gz")).write_bytes(gzip.compress(idx_bytes(array)))
    pack(src, tmp_path / "out", shard_rows=16)
    train, test = PackedDataset(tmp_path / "out"), PackedDataset(tmp_path / "out", "test")
    X, y = train.arrays()
    assert X.dtype == np.uint8 and np.array_equal(X, parts["train-images-idx3-ubyte"])
    assert np.array_equal(y, parts["train-labels-idx1-ubyte"])
    assert np.array_equal(test.arrays()[0], parts["t10k-images-idx3-ubyte"])
    assert train.class_names[-1] == "Ankle boot"


def test_pack_reads_an_image_folder_with_its_class_names(tmp_path):
    Image = pytest.importorskip("PIL.Image")  # the image extra, in the test extra
    rng = np.random.default_rng(1)
    expected = {}
    for split, count in (("train", 3), ("test", 2)):
        for name in ("cat", "dog"):
            folder = tmp_path / "pets" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (5, 4), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
                expected.setdefault(split, []).append((name, pixels))
    pack(tmp_path / "pets", tmp_path / "out")
    train, test = PackedDataset(tmp_path / "out"), PackedDataset(tmp_path / "out", "test")
    assert train.class_names == ["cat", "dog"]
    for dataset, split in ((train, "train"), (test, "test")):
        X, y = dataset.arrays()
        assert X.dtype == np.uint8 and X.shape == (len(expected[split]), 5, 4)
        assert np.array_equal(X, np.stack([p for _, p in expected[split]]))
        assert [train.class_names[i] for i in y] == [n for n, _ in expected[split]]


def test_pack_reads_a_csv_and_the_command_line_packs_and_trains(tmp_path, capsys):
    X, y = table(200, 3)
    rows = "\n".join(",".join([f"{v:.6g}" for v in x] + [str(label)]) for x, label in zip(X, y))
    (tmp_path / "t.csv").write_text("a,b,c,label\n" + rows + "\n")
    assert main(["data", "pack", str(tmp_path / "t.csv"), str(tmp_path / "out"), "--label", "label"]) == 0
    X2, y2 = PackedDataset(tmp_path / "out").arrays()
    assert np.allclose(X2, X, rtol=1e-5) and np.array_equal(y2, y)
    assert main(["train", "--packed", str(tmp_path / "out"), "--memory-budget", "0.01", "--epochs", "2",
                 "--hidden", "8", "--quiet", "--out", str(tmp_path / "run")]) == 0
    card = json.loads((tmp_path / "run" / "run.json").read_text())
    assert card["epochs_run"] == 2 and card["train_rows"] == 200 and card["memory_budget_mib"] == 0.01
    assert (tmp_path / "run" / "model.chainrule").is_file()
    assert main(["data", "pack", str(tmp_path / "t.csv"), str(tmp_path / "out")]) == 1
    assert "already holds a packed dataset" in capsys.readouterr().err


# -- the chunked shuffle ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, window", [(64, 2), (7, 1), (1000, 3), (2048, 2)])
def test_every_row_exactly_once_per_epoch_in_full_batches(packed, batch_size, window):
    path, X, y = packed
    data = PackedDataset(path, chunk_mib=40 * 20 / 2**20, window=window, rng=0)  # chunks of 40 rows (12 bytes of X and 8 of y each)
    for _ in range(2):
        batches = [(Xb.copy(), yb.copy()) for Xb, yb in data.batches(batch_size)]
        assert all(len(b[0]) == batch_size for b in batches[:-1]) and 0 < len(batches[-1][0]) <= batch_size
        rows = np.concatenate([b[0][:, 0] for b in batches]).astype(int)
        assert sorted(rows) == list(range(len(X)))
        assert np.array_equal(np.concatenate([b[1] for b in batches]), y[rows])  # labels travel with their rows
        assert not np.array_equal(rows, np.arange(len(X)))


def test_the_shuffle_keeps_rows_within_a_window_of_chunks(packed):
    path, X, _ = packed
    data = PackedDataset(path, chunk_mib=40 * 20 / 2**20, window=2, rng=1)
    first = next(data.batches(20))[0][:, 0].astype(int)  # the smallest chunk has 20 rows (300 = 7 x 40 + 20)
    chunks = set(zip(first // 300, first % 300 // 40))
    assert len(chunks) == 2  # from the first window's two chunks, mixed


def test_the_order_is_reproducible_with_a_seed_and_differs_between_epochs_and_seeds(packed):
    path, *_ = packed

    def epochs(seed):
        data = PackedDataset(path, chunk_mib=0.001, rng=seed)
        return [np.concatenate([Xb[:, 0].copy() for Xb, _ in data.batches(32)]) for _ in range(2)]

    a, b, c = epochs(3), epochs(3), epochs(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[0], c[0])


def test_the_budget_caps_the_window_and_too_small_a_budget_is_named(packed):
    path, *_ = packed
    data = PackedDataset(path, memory_budget_mib=0.01, window=4)
    assert data.window_bytes <= 0.01 * 2**20 and data.chunk_rows == int(0.002 * 2**20 // 20)
    with pytest.raises(ValueError, match="memory_budget_mib=1e-05 leaves chunks .* less than one row"):
        PackedDataset(path, memory_budget_mib=1e-5)
    with pytest.raises(ValueError, match="PackedDataset: window must be"):
        PackedDataset(path, window=0)


# -- bad files -------------------------------------------------------------------------------------


def damage_index(path, change):
    index = json.loads((path / "index.json").read_text())
    change(index)
    (path / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / "index.json").unlink(), r"p: no index.json, so not a packed dataset"),
    (lambda p: (p / "index.json").write_text("{not json"), r"index.json: not valid JSON"),
    (lambda p: damage_index(p, lambda i: i.update(format="other")), r"index.json: not a chainrule-packed index"),
    (lambda p: damage_index(p, lambda i: i.update(version=9)), r"index.json: chainrule-packed version 9"),
    (lambda p: (p / "train-00002-X.npy").unlink(), r"train-00002-X.npy: shard missing"),
    (lambda p: (p / "train-00001-y.npy").write_bytes((p / "train-00001-y.npy").read_bytes()[:200]),
     r"train-00001-y.npy: not a readable .npy shard"),
    (lambda p: np.save(p / "train-00003-X.npy", np.zeros((100, 4), np.float32)),
     r"train-00003-X.npy: holds float32 \(100, 4\); .*index.json expects float32 \(100, 3\)"),
])
def test_bad_index_or_shards_are_named(packed, damage, message):
    path, *_ = packed
    damage(path)
    with pytest.raises(DataFileError, match=message):
        PackedDataset(path)


def test_verify_names_a_shard_whose_bytes_changed(packed):
    path, *_ = packed
    shard = path / "train-00001-X.npy"
    raw = bytearray(shard.read_bytes())
    raw[-1] ^= 1
    shard.write_bytes(bytes(raw))
    data = PackedDataset(path)  # the header is still right
    with pytest.raises(DataFileError, match=r"train-00001-X.npy: checksum mismatch"):
        data.verify()


# -- training from shards --------------------------------------------------------------------------


def network(seed=0):
    return cr.Sequential([Dense(3, 16), ReLU(), Dense(16, 4)], rng=seed, dtype="float64")


def test_training_from_shards_in_file_order_equals_training_in_memory(packed):
    path, X, y = packed
    in_memory, streamed = network(), network()
    in_memory.fit(X, y, loss="cross_entropy", epochs=2, batch_size=64, shuffle=False, verbose=0)
    data = PackedDataset(path, chunk_mib=40 * 20 / 2**20, window=2)
    history = data.fit(streamed, loss="cross_entropy", epochs=2, batch_size=64, shuffle=False, verbose=0,
                       validation_data=PackedDataset(path))
    assert np.array_equal(streamed.params_, in_memory.params_)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_training_with_the_chunked_shuffle_learns(packed):
    path, X, y = packed
    model = network()
    model.preprocessor = fit_scaler(cr.data.Standardizer(), PackedDataset(path, chunk_mib=0.001))
    history = PackedDataset(path, chunk_mib=0.001, rng=0).fit(model, loss="cross_entropy", epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("scaler", [cr.data.Standardizer, cr.data.MinMaxScaler])
def test_fit_scaler_on_chunks_equals_fit_on_the_whole_array(packed, scaler):
    path, X, _ = packed
    streamed = fit_scaler(scaler(), PackedDataset(path, chunk_mib=0.001))
    whole = scaler().fit(X)
    assert np.allclose(streamed.offset_, whole.offset_, rtol=1e-12) and np.allclose(streamed.scale_, whole.scale_, rtol=1e-12)

"""pack streams its source (chainrule.data.pack_sources): IDX files, CSVs and image folders give the
same shards as packing the arrays their loaders read whole, bad files raise the loaders' errors, and
packing a source far larger than a shard holds about one shard in memory (peak RSS, fresh process)."""

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import DataFileError, load_csv, load_image_folder, pack, read_idx
from chainrule.data import pack_sources

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20


def idx_bytes(array):
    array = np.asarray(array, np.uint8)
    return bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()


def write_idx(path, array):
    path.write_bytes(gzip.compress(idx_bytes(array)) if path.suffix == ".gz" else idx_bytes(array))
    return path


def index_of(path):
    return json.loads((Path(path) / "index.json").read_text())


def same_shards(a, b):
    """Two splits' shards hold the same bytes (their names differ by split)."""
    return [(s["rows"], s["sha256"]) for s in a["shards"]] == [(s["rows"], s["sha256"]) for s in b["shards"]]


def same_pack(streamed, in_memory, class_names=None):
    """The two folders' indexes are equal (shards: rows, names, SHA-256; dtypes, row shapes), the
    streamed one's test split aside (returned whole, for same_shards)."""
    a, b = index_of(streamed), index_of(in_memory)
    b["class_names"] = class_names
    test = a["splits"].pop("test", None)
    assert a == b
    a["splits"]["test"] = test
    return a


# -- the same shards as from arrays ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_an_idx_folder_streams_into_the_shards_of_its_arrays(tmp_path, suffix):
    rng = np.random.default_rng(0)
    src = tmp_path / "digits"
    src.mkdir()
    parts = {"train-images-idx3-ubyte": rng.integers(0, 256, (1003, 7, 5)), "train-labels-idx1-ubyte": np.arange(1003) % 10,
             "t10k-images-idx3-ubyte": rng.integers(0, 256, (250, 7, 5)), "t10k-labels-idx1-ubyte": np.arange(250) % 10}
    files = {stem: write_idx(src / (stem + suffix), array) for stem, array in parts.items()}
    pack(src, tmp_path / "streamed", shard_rows=100)
    pack((read_idx(files["train-images-idx3-ubyte"]), read_idx(files["train-labels-idx1-ubyte"])), tmp_path / "whole",
         shard_rows=100)
    index = same_pack(tmp_path / "streamed", tmp_path / "whole")
    assert [s["rows"] for s in index["splits"]["train"]["shards"]] == [100] * 10 + [3]
    assert index["dtype"] == {"X": "|u1", "y": "|u1"}
    pack((read_idx(files["t10k-images-idx3-ubyte"]), read_idx(files["t10k-labels-idx1-ubyte"])), tmp_path / "test",
         shard_rows=100)
    assert same_shards(index["splits"]["test"], index_of(tmp_path / "test")["splits"]["train"])


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_one_idx_file_with_and_without_labels(tmp_path, suffix):
    images = np.random.default_rng(1).integers(0, 256, (77, 3, 4))
    path = write_idx(tmp_path / ("x-images-idx3-ubyte" + suffix), images)
    pack(path, tmp_path / "alone", shard_rows=10)
    pack((images.astype(np.uint8), None), tmp_path / "whole", shard_rows=10)
    same_pack(tmp_path / "alone", tmp_path / "whole")
    write_idx(tmp_path / ("x-labels-idx1-ubyte" + suffix), np.arange(77) % 3)
    pack(path, tmp_path / "labelled", shard_rows=10)
    pack((images.astype(np.uint8), (np.arange(77) % 3).astype(np.uint8)), tmp_path / "whole", shard_rows=10,
         overwrite=True)
    same_pack(tmp_path / "labelled", tmp_path / "whole")
    pack(path, tmp_path / "one shard")  # the default: about 256 MiB a shard
    pack((images.astype(np.uint8), (np.arange(77) % 3).astype(np.uint8)), tmp_path / "whole", overwrite=True)
    assert [s["rows"] for s in same_pack(tmp_path / "one shard", tmp_path / "whole")["splits"]["train"]["shards"]] == [77]


def csv_text(rows, labels, header=True):
    X = np.random.default_rng(2).normal(size=(rows, 3))
    body = [",".join([f"{v:.5g}" for v in x] + [str(label)]) for x, label in zip(X, labels)]
    body[5] = "\n  , ,\n" + body[5]  # blank lines and a line of empty cells, skipped as load_csv does
    return ("a,b,c,label\n" if header else "") + "\n".join(body) + "\n"


@pytest.mark.parametrize("labels, dtype", [
    (np.arange(1003) % 4, "<i8"),                              # whole numbers: int64
    ([*range(999), 2.5, 1, 2, 3], "<f4"),                      # one real number, late: float32 for all
    (["cat"] * 500 + ["dog"] * 500 + ["giraffe"] * 3, "<U7"),  # text, its longest label late
])
@pytest.mark.parametrize("header", [True, False])
def test_a_csv_streams_into_the_shards_of_load_csv(tmp_path, monkeypatch, labels, dtype, header):
    monkeypatch.setattr(pack_sources, "CSV_BLOCK_CELLS", 4 * 37)  # blocks of 37 rows, across shard edges
    (tmp_path / "t.csv").write_text(csv_text(1003, labels, header))
    pack(tmp_path / "t.csv", tmp_path / "streamed", shard_rows=100)
    pack(load_csv(tmp_path / "t.csv"), tmp_path / "whole", shard_rows=100)
    index = same_pack(tmp_path / "streamed", tmp_path / "whole")
    assert index["dtype"]["y"] == dtype and index["splits"]["train"]["rows"] == 1003
    pack(tmp_path / "t.csv", tmp_path / "one shard")  # the default: about 256 MiB a shard
    pack(load_csv(tmp_path / "t.csv"), tmp_path / "whole", overwrite=True)
    assert len(same_pack(tmp_path / "one shard", tmp_path / "whole")["splits"]["train"]["shards"]) == 1
    if dtype != "<U7":  # features only (label=None): every column
        pack(tmp_path / "t.csv", tmp_path / "features", shard_rows=100, label=None)
        pack(load_csv(tmp_path / "t.csv", label=None), tmp_path / "whole", shard_rows=100, overwrite=True)
        same_pack(tmp_path / "features", tmp_path / "whole")


def test_an_image_folder_streams_into_the_shards_of_its_arrays(tmp_path):
    Image = pytest.importorskip("PIL.Image")  # the image extra, in the test extra
    rng = np.random.default_rng(3)
    for split, count in (("train", 9), ("test", 4)):
        for name in ("ant", "bee", "cow"):
            (tmp_path / "pics" / split / name).mkdir(parents=True)
            for i in range(count - (name == "bee")):
                Image.fromarray(rng.integers(0, 256, (6, 5), dtype=np.uint8)).save(tmp_path / "pics" / split / name / f"{i}.png")
    pack(tmp_path / "pics", tmp_path / "streamed", shard_rows=4)
    X, y, classes = load_image_folder(tmp_path / "pics" / "train")
    pack((X.astype(np.uint8), y), tmp_path / "whole", shard_rows=4)
    index = same_pack(tmp_path / "streamed", tmp_path / "whole", class_names=classes)
    assert index["splits"]["train"]["rows"] == 26 and index["dtype"]["X"] == "|u1"
    X, y, _ = load_image_folder(tmp_path / "pics" / "test", classes=classes)
    pack((X.astype(np.uint8), y), tmp_path / "test", shard_rows=4)
    assert same_shards(index["splits"]["test"], index_of(tmp_path / "test")["splits"]["train"])


# -- bad files: the loaders' errors, and nothing left behind --------------------------------------


# (suffix, the damage, whether pack finds it before writing: then an old pack stays as it was)
IDX_DAMAGE = {
    "raw, cut short": ("", lambda data: data[:-7], True),
    "raw, bytes past the promise": ("", lambda data: data + b"\0" * 9, True),
    "raw, not IDX": ("", lambda data: b"\1\2\3\4" + data[4:], True),
    "gz, not gzip": (".gz", lambda data: b"not gzip at all" + data, True),
    "gz, data cut short": (".gz", lambda data: gzip.compress(gzip.decompress(data)[:-700]), False),
    "gz, bytes past the promise": (".gz", lambda data: gzip.compress(gzip.decompress(data) + b"\0" * 9), False),
    "gz, stream cut short": (".gz", lambda data: data[:len(data) * 3 // 4], False),
}


@pytest.mark.parametrize("damage", IDX_DAMAGE)
def test_a_bad_idx_file_raises_read_idx_s_error_and_leaves_no_pack(tmp_path, damage):
    suffix, spoil, up_front = IDX_DAMAGE[damage]
    path = write_idx(tmp_path / ("x-images-idx3-ubyte" + suffix), np.random.default_rng(4).integers(0, 256, (300, 4, 4)))
    path.write_bytes(spoil(path.read_bytes()))
    with pytest.raises(DataFileError) as expected:
        read_idx(path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "index.json").write_text("{}")  # an old pack, replaced
    with pytest.raises(DataFileError) as raised:
        pack(path, tmp_path / "out", shard_rows=64, overwrite=True)
    assert str(raised.value) == str(expected.value)
    left = {p.name: p.read_text() for p in (tmp_path / "out").iterdir()}
    assert left == ({"index.json": "{}"} if up_front else {})  # else the shards written are removed, and no index


def test_labels_that_do_not_match_the_images_are_named(tmp_path):
    path = write_idx(tmp_path / "x-images-idx3-ubyte", np.zeros((30, 2, 2)))
    write_idx(tmp_path / "x-labels-idx1-ubyte", np.zeros(29))
    with pytest.raises(DataFileError, match="x-labels-idx1-ubyte: 29 labels, but .* holds 30 images"):
        pack(path, tmp_path / "out")


CSV_DAMAGE = {
    "a bad cell, late": lambda lines: lines[:900] + ["1,2,x,3"] + lines[900:],
    "a ragged row, late": lambda lines: lines[:900] + ["1,2,3"] + lines[900:],
    "an empty cell, late": lambda lines: lines[:900] + ["1,,2,3"] + lines[900:],
    "a text label among numbers, late": lambda lines: lines[:900] + ["1,2,3,cat"] + lines[900:],
}


def assert_pack_raises_what_load_csv_raises(tmp_path, monkeypatch, data, words):
    """pack streams the CSV in small blocks, fails with load_csv's own message, and leaves no pack."""
    monkeypatch.setattr(pack_sources, "CSV_BLOCK_CELLS", 4 * 37)
    (tmp_path / "t.csv").write_bytes(data)
    with pytest.raises(DataFileError) as expected:
        load_csv(tmp_path / "t.csv")
    with pytest.raises(DataFileError) as raised:
        pack(tmp_path / "t.csv", tmp_path / "out", shard_rows=100)
    assert str(raised.value) == str(expected.value) and words in str(raised.value)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("damage", CSV_DAMAGE)
def test_a_bad_csv_raises_load_csv_s_error_and_leaves_no_pack(tmp_path, monkeypatch, damage):
    lines = csv_text(1000, np.arange(1000) % 4).splitlines()
    data = ("\n".join(CSV_DAMAGE[damage](lines)) + "\n").encode()
    assert_pack_raises_what_load_csv_raises(tmp_path, monkeypatch, data, "line 901")


def test_a_non_utf8_byte_late_in_a_csv_is_named_as_load_csv_names_it(tmp_path, monkeypatch):
    text = csv_text(1000, np.arange(1000) % 4).encode()
    data = text[:-200] + b"\xe9" + text[-200:]
    assert_pack_raises_what_load_csv_raises(tmp_path, monkeypatch, data, "is not UTF-8")


# -- memory: about one shard, whatever the source's size ------------------------------------------

PACK = """
import json, sys
import chainrule.data.csv, chainrule.data.pack_sources, gzip  # imported before the baseline
from chainrule.data import pack

def status(key):  # kB in /proc/self/status
    return int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith(key))) * 1024

baseline = status("VmRSS:")  # resident now, after the imports (their peak may lie higher and hide growth)
pack(sys.argv[1], sys.argv[2], shard_rows=int(sys.argv[3]))
print(json.dumps({"growth": status("VmHWM:") - baseline}))
"""


def peak_growth(source, out, shard_rows):
    """Bytes by which packing ``source`` raised the peak resident memory of a fresh process."""
    result = subprocess.run([sys.executable, "-c", PACK, str(source), str(out), str(shard_rows)], capture_output=True,
                            text=True, timeout=120, env={"PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
                                                         "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["growth"]


def big_idx(path, rows=16384, side=64):
    """An IDX images file of rows x side x side bytes (64 MiB), written a block at a time."""
    rng = np.random.default_rng(5)
    header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (rows, side, side))
    with gzip.open(path, "wb", compresslevel=1) if path.suffix == ".gz" else open(path, "wb") as f:
        f.write(header)
        for _ in range(0, rows, 1024):
            f.write(rng.integers(0, 4, (1024, side, side), dtype=np.uint8).tobytes())
    return path


LIMIT_MIB = 16  # a 4 MiB shard and slack; the sources: 64 MiB (IDX), ~60 MiB of float32 features (CSV)

# Peak resident memory from /proc/self/status (VmHWM), not getrusage's ru_maxrss: a child started by
# vfork (subprocess does) inherits in ru_maxrss the parent's peak at exec, here pytest's, torch and all.
linux = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc (Linux)")


@linux
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_packing_a_64_mib_idx_file_holds_about_one_4_mib_shard(tmp_path, suffix):
    path = big_idx(tmp_path / ("big-images-idx3-ubyte" + suffix))
    growth = peak_growth(path, tmp_path / "out", shard_rows=1024)  # 4 MiB shards
    index = index_of(tmp_path / "out")
    assert index["splits"]["train"]["rows"] == 16384 and len(index["splits"]["train"]["shards"]) == 16
    assert growth < LIMIT_MIB * MIB, f"peak resident memory grew by {growth / MIB:.1f} MiB"


def big_csv(path, rows=157_000, columns=100):
    """A CSV of one-digit cells (the last one the label), ~30 MiB: ~60 MiB of float32 features."""
    rng = np.random.default_rng(6)
    with open(path, "wb") as f:
        for start in range(0, rows, 10_000):
            n = min(10_000, rows - start)
            text = np.full((n, 2 * columns), ord(","), np.uint8)
            text[:, 0::2] = rng.integers(ord("0"), ord("9") + 1, (n, columns))
            text[:, -1] = ord("\n")
            f.write(text.tobytes())
    return path


@linux
def test_packing_a_30_mib_csv_holds_about_one_4_mib_shard(tmp_path):
    path = big_csv(tmp_path / "big.csv")
    growth = peak_growth(path, tmp_path / "out", shard_rows=10_600)  # 99 float32 features a row: 4 MiB shards
    index = index_of(tmp_path / "out")
    assert index["splits"]["train"]["rows"] == 157_000 and index["dtype"] == {"X": "<f4", "y": "<i8"}
    assert growth < LIMIT_MIB * MIB, f"peak resident memory grew by {growth / MIB:.1f} MiB"

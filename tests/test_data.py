"""Data: IDX files, MNIST-family loading and downloads (against a local server), CSV, toy sets, preprocessing."""

import contextlib
import functools
import gzip
import http.server
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from datafolder import shared_data
import chainrule as cr
from chainrule.data import (ConstantScaler, DataFileError, MinMaxScaler, Standardizer, flatten, load_csv,
                            load_fashion_mnist, load_mnist, make_blobs, make_circles, make_moons, make_sine,
                            make_spirals, make_xor, one_hot, read_idx, train_test_split)
from chainrule.data import mnist as mnist_module
from chainrule.data.download import download

SHARED = shared_data()  # CHAINRULE_DATA or ../shared/data
needs_shared = pytest.mark.skipif(not (SHARED / "mnist").is_dir() or not (SHARED / "fashion-mnist").is_dir(),
                                  reason=f"the shared MNIST/Fashion-MNIST folder {SHARED} is absent")

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
PROXY_VARS = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No test sees the user's data folders, cache or proxies; the cache is an empty folder in tmp_path."""
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "cache"))
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


def files_under(folder):
    folder = Path(folder)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def idx_bytes(array, magic=None):
    """The IDX encoding of a uint8 array (or a custom 4-byte magic number)."""
    array = np.asarray(array, np.uint8)
    head = magic if magic is not None else bytes([0, 0, 8, array.ndim])
    return head + b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()


def link_dataset(folder, name="mnist", stems=STEMS):
    """A folder whose files are symbolic links to (or copies of) the shared dataset's files."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        source = SHARED / name / (stem + ".gz")
        try:
            (folder / source.name).symlink_to(source)
        except OSError:  # pragma: no cover - no symlinks (Windows without privileges)
            shutil.copyfile(source, folder / source.name)
    return folder


@contextlib.contextmanager
def serving(folder, handler=None):
    """An HTTP server on 127.0.0.1 (ephemeral port) serving ``folder`` from a background thread."""

    class Quiet(handler or http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    factory = Quiet if handler else functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def dead_url():
    """A URL on a local port with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# -- read_idx ------------------------------------------------------------------------------------


@needs_shared
def test_read_idx_reads_the_real_mnist_gz_files():
    images = read_idx(SHARED / "mnist" / "train-images-idx3-ubyte.gz")
    labels = read_idx(SHARED / "mnist" / "train-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS
    assert images.max() == 255 and images.min() == 0


@needs_shared
def test_read_idx_reads_a_raw_gunzipped_copy_identically(tmp_path):
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        source = SHARED / "mnist" / (stem + ".gz")
        raw = tmp_path / stem
        raw.write_bytes(gzip.decompress(source.read_bytes()))
        assert np.array_equal(read_idx(raw), read_idx(source))
    assert read_idx(tmp_path / "t10k-images-idx3-ubyte").shape == (10000, 28, 28)
    assert np.bincount(read_idx(tmp_path / "t10k-labels-idx1-ubyte")).tolist() == MNIST_TEST_COUNTS


def test_read_idx_round_trips_small_synthetic_files(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    (tmp_path / "images").write_bytes(idx_bytes(images))
    (tmp_path / "labels.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    assert np.array_equal(read_idx(tmp_path / "images"), images)
    assert np.array_equal(read_idx(tmp_path / "labels.gz"), labels)


@pytest.mark.parametrize("case", ["wrong magic", "not IDX at all", "empty", "truncated data", "truncated header",
                                  "header promises more", "trailing bytes"])
@pytest.mark.parametrize("gzipped", [False, True])
def test_read_idx_rejects_bad_files_naming_them(tmp_path, case, gzipped):
    good = idx_bytes(np.arange(60, dtype=np.uint8).reshape(5, 3, 4))
    content = {
        "wrong magic": idx_bytes(np.zeros((5, 3, 4)), magic=bytes([0, 0, 0x0D, 3])),
        "not IDX at all": b"PK\x03\x04 this is a zip, not an IDX file",
        "empty": b"",
        "truncated data": good[:-7],
        "truncated header": good[:9],
        "header promises more": bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (50, 3, 4)) + bytes(60),
        "trailing bytes": good + b"\x00\x01",
    }[case]
    path = tmp_path / ("bad-file-idx3-ubyte" + (".gz" if gzipped else ""))
    path.write_bytes(gzip.compress(content) if gzipped else content)
    with pytest.raises(DataFileError) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    if case == "wrong magic":
        assert "magic" in str(info.value) and "00000d03" in str(info.value)
    if case in ("truncated data", "header promises more"):
        assert "truncated" in str(info.value)


@pytest.mark.parametrize("damage", ["not gzip", "cut bytes", "flipped compressed byte", "flipped crc"])
def test_read_idx_rejects_a_broken_gz_file_naming_it(tmp_path, damage):
    compressed = gzip.compress(idx_bytes(np.arange(2000, dtype=np.uint32).astype(np.uint8).reshape(20, 10, 10)))
    broken = bytearray(compressed)
    if damage == "not gzip":
        broken = bytearray(idx_bytes(np.zeros((2, 2, 2))))  # a raw IDX file misnamed .gz
    elif damage == "cut bytes":
        broken = broken[:len(broken) // 2]
    elif damage == "flipped compressed byte":
        broken[15] ^= 0xFF  # inside the deflate stream: zlib reports it, not gzip
    else:
        broken[-5] ^= 0xFF  # the CRC-32 trailer
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(bytes(broken))
    with pytest.raises(DataFileError, match="cannot read") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_names_a_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="nothing-here.gz"):
        read_idx(tmp_path / "nothing-here.gz")


# -- load_mnist / load_fashion_mnist from folders --------------------------------------------------


@needs_shared
def test_load_mnist_from_the_parent_folder_of_the_datasets():
    (X_train, y_train), (X_test, y_test) = load_mnist(data_dir=SHARED, download=False)
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert X_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS


@needs_shared
def test_load_fashion_mnist_from_the_dataset_folder_itself():
    (X_train, y_train), (X_test, y_test) = load_fashion_mnist(data_dir=SHARED / "fashion-mnist", download=False)
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    # not MNIST under another name
    assert not np.array_equal(X_test[:100], read_idx(SHARED / "mnist" / "t10k-images-idx3-ubyte.gz")[:100])


@needs_shared
def test_locate_accepts_the_dataset_folder_and_its_parent_for_both_datasets():
    for name in ("mnist", "fashion-mnist"):
        for data_dir in (SHARED, SHARED / name, str(SHARED)):
            paths = mnist_module.locate(name, data_dir=data_dir, download=False)
            assert sorted(paths) == sorted(mnist_module.PARTS)
            assert all(p.parent == SHARED / name for p in paths.values())


@needs_shared
def test_load_mnist_uses_chainrule_data_when_no_data_dir_is_given(monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA", str(SHARED))
    (X_train, y_train), (X_test, _) = load_mnist(download=False)
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS


@needs_shared
def test_search_order_is_data_dir_then_chainrule_data_then_the_cache(tmp_path, monkeypatch):
    given = link_dataset(tmp_path / "given")                  # files directly in the folder
    env = link_dataset(tmp_path / "env" / "mnist")            # files in the dataset sub-folder
    cached = link_dataset(tmp_path / "cache" / "mnist")       # CHAINRULE_CACHE is tmp_path / "cache"
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "env"))

    def folders(**kwargs):
        return {p.parent for p in mnist_module.locate("mnist", download=False, **kwargs).values()}

    assert folders(data_dir=given) == {given}
    assert folders() == {env}
    monkeypatch.delenv("CHAINRULE_DATA")
    assert folders() == {cached}
    assert mnist_module.candidate_dirs("mnist", given)[:2] == [given, given / "mnist"]


@needs_shared
def test_a_file_with_a_wrong_checksum_is_refused_not_skipped(tmp_path, monkeypatch):
    folder = link_dataset(tmp_path / "flipped", stems=[s for s in STEMS if s != "train-labels-idx1-ubyte"])
    data = bytearray(gzip.decompress((SHARED / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes()))
    data[100] ^= 0x01  # still a valid IDX file: only the checksum can tell
    (folder / "train-labels-idx1-ubyte").write_bytes(bytes(data))
    monkeypatch.setenv("CHAINRULE_DATA", str(SHARED))  # a good copy further down the search path is not used
    with pytest.raises(DataFileError, match="checksum") as info:
        load_mnist(data_dir=folder, download=False)
    assert str(folder / "train-labels-idx1-ubyte") in str(info.value)


@needs_shared
def test_a_gz_file_with_a_flipped_byte_fails_its_checksum(tmp_path):
    folder = link_dataset(tmp_path / "d", stems=STEMS[1:])
    data = bytearray((SHARED / "mnist" / "train-images-idx3-ubyte.gz").read_bytes())
    data[len(data) // 2] ^= 0x40
    (folder / "train-images-idx3-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(DataFileError, match="checksum"):
        load_mnist(data_dir=folder, download=False)


def test_missing_files_without_download_list_every_folder_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "env"))
    given = tmp_path / "given"
    given.mkdir()
    with pytest.raises(DataFileError) as info:
        load_fashion_mnist(data_dir=given, download=False)
    message = str(info.value)
    assert "fashion-mnist" in message and "not found" in message and "download" in message
    for folder in (given, given / "fashion-mnist", tmp_path / "env", tmp_path / "cache" / "fashion-mnist"):
        assert str(folder) in message
    assert files_under(tmp_path / "cache") == []


def test_an_unknown_dataset_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        load_mnist("cifar10", download=False)


def test_cache_dir_follows_chainrule_cache_then_xdg(tmp_path, monkeypatch):
    assert mnist_module.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("CHAINRULE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_module.cache_dir() == tmp_path / "xdg" / "chainrule"


# -- downloads from a local HTTP server ----------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path):
    """A folder of copies of the shared MNIST files, to be served over HTTP."""
    if not (SHARED / "mnist").is_dir():
        pytest.skip(f"the shared MNIST folder {SHARED / 'mnist'} is absent")
    folder = tmp_path / "mirror"
    folder.mkdir()
    for stem in STEMS:
        shutil.copyfile(SHARED / "mnist" / (stem + ".gz"), folder / (stem + ".gz"))
    return folder


def test_load_mnist_downloads_into_the_cache_then_needs_no_server(tmp_path, mirror):
    cache = tmp_path / "cache"
    calls = []
    with serving(mirror) as url:
        (X_train, y_train), (X_test, y_test) = load_mnist(download=True, mirrors=[url],
                                                         progress=lambda done, total: calls.append((done, total)))
    assert files_under(cache) == sorted(f"mnist/{stem}.gz" for stem in STEMS)
    for stem in STEMS:
        assert (cache / "mnist" / (stem + ".gz")).read_bytes() == (mirror / (stem + ".gz")).read_bytes()
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS

    # progress: for each file, byte counts that increase up to the file's size
    sizes = sorted((mirror / (stem + ".gz")).stat().st_size for stem in STEMS)
    assert sorted({total for _, total in calls}) == sizes
    for size in sizes:
        done = [d for d, total in calls if total == size]
        assert all(a < b for a, b in zip(done, done[1:])) and done[-1] == size
    assert len([d for d, total in calls if total == sizes[-1]]) > 10  # the 9.9 MB file arrives in many blocks

    # a second call finds the cache: the mirror is gone and nothing else is asked
    (X2, y2), (X3, y3) = load_mnist(download=True, mirrors=[dead_url()])
    assert np.array_equal(X2, X_train) and np.array_equal(y3, y_test)
    assert files_under(cache) == sorted(f"mnist/{stem}.gz" for stem in STEMS)


def test_download_falls_back_to_the_next_mirror(tmp_path, mirror):
    stem = "t10k-labels-idx1-ubyte"
    target = tmp_path / "cache" / "mnist" / (stem + ".gz")
    with serving(mirror) as url:
        download([dead_url() + stem + ".gz", url + "missing/" + stem + ".gz", url + stem + ".gz"], target,
                 mnist_module.DATASETS["mnist"]["gz"][stem], timeout=5)
    assert target.read_bytes() == (mirror / (stem + ".gz")).read_bytes()
    assert files_under(tmp_path / "cache") == [f"mnist/{stem}.gz"]


@pytest.mark.parametrize("damage", ["truncated", "modified"])
def test_download_of_a_corrupt_file_fails_its_checksum_and_caches_nothing(tmp_path, mirror, damage):
    stem = "train-labels-idx1-ubyte"
    served = mirror / (stem + ".gz")
    data = bytearray(served.read_bytes())
    if damage == "truncated":
        data = data[:len(data) // 3]
    else:
        data[len(data) // 2] ^= 0x01
    served.write_bytes(bytes(data))
    target = tmp_path / "cache" / "mnist" / (stem + ".gz")
    with serving(mirror) as url, pytest.raises(DataFileError, match="checksum") as info:
        download([url + stem + ".gz"], target, mnist_module.DATASETS["mnist"]["gz"][stem], timeout=5)
    assert url + stem + ".gz" in str(info.value)
    assert files_under(tmp_path / "cache") == []


class CutShort(http.server.BaseHTTPRequestHandler):
    """Promises a whole file (Content-Length, or chunked) and hangs up half-way."""

    protocol_version = "HTTP/1.1"
    payload = bytes(range(256)) * 400

    def do_GET(self):
        self.send_response(200)
        if "chunked" in self.path:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = self.payload[:len(self.payload) // 2]
            self.wfile.write(f"{len(self.payload):x}\r\n".encode() + half)
        else:
            self.send_header("Content-Length", str(len(self.payload)))
            self.end_headers()
            self.wfile.write(self.payload[:len(self.payload) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.mark.parametrize("path", ["plain.gz", "chunked.gz"])
def test_a_transfer_cut_short_is_a_data_file_error_and_caches_nothing(tmp_path, path):
    target = tmp_path / "cache" / "mnist" / "train-labels-idx1-ubyte.gz"
    with serving(tmp_path, CutShort) as url, pytest.raises(DataFileError) as info:
        download([url + path], target, "0" * 64, timeout=5)
    assert url + path in str(info.value)
    if path == "plain.gz":  # the connection just ends: only the checksum can tell
        assert "checksum" in str(info.value)
    assert files_under(tmp_path / "cache") == []


def test_load_mnist_with_a_corrupt_mirror_file_caches_nothing(tmp_path, mirror):
    served = mirror / "train-images-idx3-ubyte.gz"
    served.write_bytes(served.read_bytes()[:-1000])
    with serving(mirror) as url, pytest.raises(DataFileError, match="checksum"):
        load_mnist(download=True, mirrors=[url])
    assert files_under(tmp_path / "cache") == []


def test_an_unreachable_server_is_a_data_file_error_naming_the_url(tmp_path):
    url = dead_url() + "train-labels-idx1-ubyte.gz"
    target = tmp_path / "cache" / "mnist" / "train-labels-idx1-ubyte.gz"
    with pytest.raises(DataFileError) as info:
        download([url], target, "0" * 64, timeout=2)
    assert url in str(info.value) and "train-labels-idx1-ubyte.gz" in str(info.value)
    assert files_under(tmp_path / "cache") == []


def test_load_mnist_with_an_unreachable_mirror_names_the_url_and_caches_nothing(tmp_path):
    mirror = dead_url()
    with pytest.raises(DataFileError) as info:
        load_mnist(download=True, mirrors=[mirror])
    assert mirror + "train-images-idx3-ubyte.gz" in str(info.value)
    assert files_under(tmp_path / "cache") == []


def test_a_server_that_never_answers_times_out(tmp_path):
    with socket.socket() as listener:  # accepts connections (the backlog) but never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/train-labels-idx1-ubyte.gz"
        with pytest.raises(DataFileError) as info:
            download([url], tmp_path / "cache" / "x.gz", "0" * 64, timeout=0.3)
    assert url in str(info.value)
    assert files_under(tmp_path / "cache") == []


def test_a_missing_file_on_the_server_names_the_url(tmp_path):
    (tmp_path / "empty").mkdir()
    with serving(tmp_path / "empty") as url, pytest.raises(DataFileError) as info:
        download([url + "t10k-labels-idx1-ubyte.gz"], tmp_path / "cache" / "x.gz", "0" * 64, timeout=5)
    assert url + "t10k-labels-idx1-ubyte.gz" in str(info.value) and "not found" in str(info.value).lower()
    assert files_under(tmp_path / "cache") == []


# -- load_csv ------------------------------------------------------------------------------------


def write(path, text):
    path.write_text(text)
    return path


def test_load_csv_detects_a_header_and_finds_the_label_by_name(tmp_path):
    path = write(tmp_path / "t.csv", "a, b ,label\n1,2,0\n3.5,-4,1\n\n5,6e1,2\n")
    X, y = load_csv(path, label="label")
    assert X.dtype == np.float32 and X.shape == (3, 2)
    assert np.array_equal(X, np.array([[1, 2], [3.5, -4], [5, 60]], np.float32))
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2]
    X_b, y_b = load_csv(path, label="b")  # names are stripped of spaces
    assert X_b.tolist() == [[1, 0], [3.5, 1], [5, 2]] and y_b.tolist() == [2, -4, 60]


def test_load_csv_without_a_header(tmp_path):
    path = write(tmp_path / "t.csv", "1,2,0\n3,4,1\n")
    X, y = load_csv(path)
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1] and y.dtype == np.int64
    X, y = load_csv(path, header=True)  # forced: the first row is names
    assert X.tolist() == [[3, 4]] and y.tolist() == [1]


@pytest.mark.parametrize("label, column", [(0, 0), (1, 1), (-1, 2), (-2, 1), (-3, 0), ("-1", 2), ("0", 0)])
def test_load_csv_label_by_index(tmp_path, label, column):
    table = np.array([[1, 20, 300], [2, 10, 100], [3, 30, 200]])
    path = write(tmp_path / "t.csv", "\n".join(",".join(map(str, row)) for row in table) + "\n")
    X, y = load_csv(path, label=label)
    assert np.array_equal(y, table[:, column]) and y.dtype == np.int64
    assert np.array_equal(X, np.delete(table, column, axis=1).astype(np.float32))


def test_load_csv_label_none_and_dtype_and_real_valued_targets(tmp_path):
    path = write(tmp_path / "t.csv", "x,y\n0.5,1.25\n1.5,2.75\n")
    X, y = load_csv(path, label=None, dtype=np.float64)
    assert y is None and X.dtype == np.float64 and X.tolist() == [[0.5, 1.25], [1.5, 2.75]]
    X, y = load_csv(path, label="y")
    assert y.dtype == np.float32 and y.tolist() == [1.25, 2.75]


def test_load_csv_reads_a_utf8_file_with_a_byte_order_mark(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeff1,2,0\n3,4,1\n".encode())
    X, y = load_csv(tmp_path / "bom.csv")
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1]
    (tmp_path / "bom-header.csv").write_bytes("\ufeffx,label\n1,0\n".encode())
    assert load_csv(tmp_path / "bom-header.csv", label="x")[1].tolist() == [1]


def test_load_csv_names_the_line_and_column_of_a_non_numeric_cell(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,label\n1,2,0\n3,oops,1\n")
    with pytest.raises(DataFileError) as info:
        load_csv(path, label="label")
    message = str(info.value)
    assert str(path) in message and "line 3" in message and "column 2" in message and "'b'" in message
    assert "'oops'" in message


def test_load_csv_names_the_line_of_a_ragged_row(tmp_path):
    path = write(tmp_path / "t.csv", "1,2,0\n3,4,1\n5,6\n")
    with pytest.raises(DataFileError, match=r"line 3: 2 cells; expected 3") as info:
        load_csv(path)
    assert str(path) in str(info.value)


def test_load_csv_lists_the_columns_when_the_label_name_is_missing(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,label\n1,2,0\n")
    with pytest.raises(DataFileError, match=r"no column named 'target'; the columns are \['a', 'b', 'label'\]"):
        load_csv(path, label="target")
    with pytest.raises(DataFileError, match="out of range for 3 columns"):
        load_csv(path, label=3)
    with pytest.raises(DataFileError, match="no header row"):
        load_csv(write(tmp_path / "n.csv", "1,2\n"), label="target")


def test_load_csv_empty_and_header_only_files(tmp_path):
    with pytest.raises(DataFileError, match="no rows"):
        load_csv(write(tmp_path / "empty.csv", ""))
    with pytest.raises(DataFileError, match="no rows"):
        load_csv(write(tmp_path / "blank.csv", "\n , \n\n"))
    with pytest.raises(DataFileError, match="header but no data rows"):
        load_csv(write(tmp_path / "header.csv", "a,b,label\n"))
    with pytest.raises(FileNotFoundError, match="no CSV file"):
        load_csv(tmp_path / "absent.csv")


# -- toy datasets ----------------------------------------------------------------------------------


def test_make_xor_is_the_four_corners():
    X, y = make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    assert X.dtype == np.float32
    X, y = make_xor(n=10, noise=0.1, rng=0, dtype=np.float64)
    assert X.shape == (10, 2) and X.dtype == np.float64 and y.tolist() == [0, 1, 1, 0] * 2 + [0, 1]


@pytest.mark.parametrize("arms", [2, 3, 5])
def test_make_spirals_has_one_balanced_class_per_arm(arms):
    X, y = make_spirals(n=100 * arms, arms=arms, rng=0)
    assert X.shape == (100 * arms, 2) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [100] * arms
    assert np.all(np.linalg.norm(X, axis=1) <= 1 + 1e-6)  # radius t in [0, 1]


GENERATORS = {
    "xor": lambda **kw: make_xor(n=40, noise=0.2, **kw),
    "spirals": lambda **kw: make_spirals(n=90, arms=3, **kw),
    "moons": lambda **kw: make_moons(n=80, **kw),
    "circles": lambda **kw: make_circles(n=80, **kw),
    "blobs": lambda **kw: make_blobs(n=90, centers=3, features=4, **kw),
    "sine": lambda **kw: make_sine(n=70, **kw),
}
SHAPES = {"xor": ((40, 2), (40,)), "spirals": ((90, 2), (90,)), "moons": ((80, 2), (80,)),
          "circles": ((80, 2), (80,)), "blobs": ((90, 4), (90,)), "sine": ((70, 1), (70, 1))}
CLASSES = {"xor": 2, "spirals": 3, "moons": 2, "circles": 2, "blobs": 3}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_shapes_dtypes_and_reproducibility(name):
    make = GENERATORS[name]
    X, y = make(rng=1)
    assert (X.shape, y.shape) == SHAPES[name]
    assert X.dtype == np.float32 and np.all(np.isfinite(X))
    if name == "sine":
        assert y.dtype == np.float32
    else:
        assert y.dtype.kind == "i" and sorted(set(y.tolist())) == list(range(CLASSES[name]))
        assert np.ptp(np.bincount(y)) <= 1  # balanced
    X64, y64 = make(rng=1, dtype=np.float64)
    assert X64.dtype == np.float64 and np.allclose(X64, X, atol=1e-6)
    X_again, y_again = make(rng=np.random.default_rng(1))
    assert np.array_equal(X_again, X) and np.array_equal(y_again, y)
    X_other, _ = make(rng=2)
    assert not np.array_equal(X_other, X)


def test_make_circles_and_moons_have_the_promised_geometry():
    X, y = make_circles(n=400, noise=0.0, factor=0.3, rng=0)
    radius = np.linalg.norm(X.astype(np.float64), axis=1)
    assert np.allclose(radius[y == 0], 1.0, atol=1e-6) and np.allclose(radius[y == 1], 0.3, atol=1e-6)
    X, y = make_moons(n=400, noise=0.0, rng=0)
    assert np.all(X[y == 0, 1] >= -1e-6) and np.all(X[y == 1, 1] <= 0.5 + 1e-6)


# -- preprocessing --------------------------------------------------------------------------------------


X_TRAIN = np.array([[0.0, 10.0, 1.0], [2.0, 10.0, 3.0], [4.0, 10.0, 8.0]])
X_TEST = np.array([[2.0, 10.0, 0.0], [6.0, 12.0, 8.0]])


def test_standardizer_uses_the_training_statistics_only():
    scaler = Standardizer().fit(X_TRAIN)
    std0, std2 = np.std([0.0, 2.0, 4.0]), np.std([1.0, 3.0, 8.0])
    assert np.allclose(scaler.offset_, [2.0, 10.0, 4.0]) and np.allclose(scaler.scale_, [std0, 1.0, std2])
    out = scaler.transform(X_TEST)
    expected = [[0.0, 0.0, -4.0 / std2], [4.0 / std0, 2.0, 4.0 / std2]]  # the constant feature is only shifted
    assert np.allclose(out, expected) and out.dtype == np.float64
    train = scaler.transform(X_TRAIN)
    assert np.allclose(train.mean(axis=0), 0) and np.allclose(train.std(axis=0), [1, 0, 1])


def test_minmax_scaler_uses_the_training_range_only():
    scaler = MinMaxScaler().fit(X_TRAIN)
    out = scaler.transform(X_TEST)
    assert np.allclose(out, [[0.5, 0.0, -1 / 7], [1.5, 2.0, 1.0]])
    assert np.allclose(scaler.transform(X_TRAIN)[:, [0, 2]].min(axis=0), 0)
    assert np.allclose(scaler.transform(X_TRAIN)[:, [0, 2]].max(axis=0), 1)


def test_constant_scaler_divides_and_images_become_float32():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    scaler = ConstantScaler(255).fit(images)
    out = scaler.transform(images)
    assert out.dtype == np.float32 and out.shape == (1, 2, 2)
    assert np.allclose(out, [[[0, 1], [0.2, 0.4]]])
    assert np.allclose(ConstantScaler(2).fit(X_TRAIN).transform(X_TEST), X_TEST / 2)
    with pytest.raises(ValueError, match=r"ConstantScaler: value must be a finite number > 0; received 0"):
        ConstantScaler(0)


@pytest.mark.parametrize("cls", [Standardizer, MinMaxScaler, ConstantScaler])
def test_scalers_constant_features_transform_before_fit_and_wrong_width(cls):
    constant = np.full((5, 3), 7.0)
    out = cls().fit(constant).transform(constant)
    assert np.all(np.isfinite(out))
    with pytest.raises(ValueError, match="before fit"):
        cls().transform(X_TEST)
    scaler = cls().fit(X_TRAIN)
    with pytest.raises(ValueError, match=r"fitted on 3 features; received 2"):
        scaler.transform(X_TEST[:, :2])
    float32 = scaler.transform(X_TEST.astype(np.float32))
    assert float32.dtype == np.float32
    images = np.arange(24, dtype=np.uint8).reshape(3, 2, 4)
    assert cls().fit(images).transform(images).shape == (3, 2, 4)


def test_one_hot():
    out = one_hot([0, 2, 1, 2])
    assert out.dtype == np.float32 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    assert one_hot(np.array([1]), num_classes=4, dtype=np.float64).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(ValueError, match="labels must lie in"):
        one_hot([0, 5], num_classes=3)
    with pytest.raises(TypeError):
        one_hot([0.5, 1.0])


def test_flatten():
    X = np.arange(30).reshape(5, 2, 3)
    assert flatten(X).shape == (5, 6) and np.array_equal(flatten(X)[1], np.arange(6, 12))
    assert flatten(np.zeros((4, 7))).shape == (4, 7)


def test_train_test_split_is_stratified_disjoint_and_reproducible():
    y = np.repeat([0, 1, 2], [100, 50, 30])
    X = np.arange(len(y))[:, None] * np.ones((1, 2))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, rng=0)
    assert np.bincount(y_test).tolist() == [20, 10, 6] and np.bincount(y_train).tolist() == [80, 40, 24]
    ids_train, ids_test = X_train[:, 0].astype(int), X_test[:, 0].astype(int)
    assert sorted(np.concatenate([ids_train, ids_test]).tolist()) == list(range(len(y)))
    assert np.array_equal(y[ids_train], y_train) and np.array_equal(y[ids_test], y_test)
    again = train_test_split(X, y, test_size=0.2, rng=0)
    assert all(np.array_equal(a, b) for a, b in zip(again, (X_train, X_test, y_train, y_test)))
    other = train_test_split(X, y, test_size=0.2, rng=1)
    assert not np.array_equal(other[1], X_test)
    plain = train_test_split(X, y, test_size=0.25, stratify=False, rng=0)
    assert len(plain[1]) == 45 and len(plain[0]) == 135
    onehot = train_test_split(X, one_hot(y), test_size=0.2, rng=0)
    assert onehot[3].sum(axis=0).tolist() == [20, 10, 6]


def test_train_test_split_rejects_bad_arguments():
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_size=1.0)
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))


# -- a model keeps its preprocessor through save and load ------------------------------------------------


@pytest.mark.parametrize("scaler", [Standardizer(), MinMaxScaler(), ConstantScaler(255)])
def test_a_saved_model_keeps_its_preprocessor(tmp_path, scaler):
    rng = np.random.default_rng(0)
    X = rng.normal(50.0, 20.0, (40, 5)).astype(np.float32)
    X[:, 3] = 4.0  # a constant feature
    model = cr.Sequential([cr.Dense(5, 8), cr.Tanh(), cr.Dense(8, 3)], rng=0)
    model.preprocessor = scaler.fit(X)
    before_output, before = model.predict_output(X), model.predict(X)
    path = tmp_path / "model.chainrule"
    model.save(path)
    loaded = cr.load(path)
    assert type(loaded.preprocessor) is type(scaler)
    assert np.array_equal(loaded.preprocessor.offset_, scaler.offset_)
    assert np.array_equal(loaded.preprocessor.scale_, scaler.scale_)
    assert np.array_equal(loaded.predict_output(X), before_output)  # bit-identical on raw inputs
    assert np.array_equal(loaded.predict(X), before)
    assert not np.array_equal(loaded.forward(X), before_output)  # the preprocessing really is in use


def test_text_progress_draws_one_line_per_file():
    import io

    from chainrule.data.download import text_progress

    out = io.StringIO()
    report = text_progress("mnist/t10k-labels-idx1-ubyte.gz", out)
    for done in (1000, 3000, 5148):
        report(done, 5148)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("100% of 0.0 MB\n")
    assert "downloading mnist/t10k-labels-idx1-ubyte.gz:  19%" in text

"""A side-by-side speed benchmark: chainrule against PyTorch and scikit-learn on the CPU.

Every system trains the same network (Dense + ReLU hidden layers, a linear
output, softmax cross-entropy) with Adam at lr 1e-3, the same batch size and
one shuffling permutation per epoch, in float32, on the same data::

    from chainrule.benchmark import run_benchmark
    results = run_benchmark(data_dir="path/to/mnist")   # prints tables, returns a dict

or ``python benchmarks/run.py --data-dir path/to/mnist --json out.json``.

PyTorch and scikit-learn are imported only inside the functions that use
them; a peer that is not installed is reported as ``"missing"``, never faked.

What is timed, and what is not:

* training: only the training itself (``Sequential.fit``, the PyTorch epoch
  loop, ``MLPClassifier.fit``), after one warm-up batch; not building the
  model nor converting the data to float32 / tensors. ``fit`` does check its
  inputs (finite values, the one-hot targets) and ``MLPClassifier.fit``
  validates its inputs and initialises its weights: that is part of their
  training and is timed.
* inference: the raw network outputs for every row, in batches of 1024
  (scikit-learn has no logits-only predict and applies its softmax).

The machine is shared and noisy, so every throughput is measured in
``repeats`` rounds with the systems interleaved (their order rotated each
round); the best run is reported next to the median, and each ratio to a peer
both as the ratio of the bests and as the median of the ratios round by round
(the runs of one round share the machine's load at that moment, so their
ratio moves less than either speed).

The FLOP lower bound of a training epoch is 6 x parameters x samples / peak,
with peak the float32 GEMM speed NumPy reaches here (``gemm_peak``): 2 FLOPs
per parameter and sample forward, 4 backward (the weight and the input
gradients). ``bound/measured`` is how close a system comes to it; the peak is
measured again at the start of every round, and each run is set against the
peak of its own round.

Peak memory (``peak_training_memory``) is measured in a fresh process: the
increase of its maximum resident set size (``ru_maxrss``) while it builds the
model and trains one epoch, after its data are loaded. See there.
"""

from __future__ import annotations

import datetime
import gc
import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

from .validation import is_whole

SYSTEMS = ("chainrule", "pytorch", "sklearn")
HEADLINE = (784, 256, 128, 10)
WIDE = (784, 1024, 1024, 10)

#: the module each peer needs
PEER_MODULES = {"pytorch": "torch", "sklearn": "sklearn.neural_network"}

#: batch buffers in the memory budget: batch x sum of layer widths x 4 bytes x this factor.
#: 4 arrays per layer width: forward keeps the pre-activation Z and the activation A,
#: backward makes dA and dZ of the same shape.
BATCH_BUFFER_FACTOR = 4

LEARNING_RATE = 1e-3
_CHILD_MARK = "CHAINRULE-BENCHMARK-MEMORY "


class PeerMissing(ImportError):
    """A peer library (PyTorch, scikit-learn) is not installed."""


# -- the machine ----------------------------------------------------------------


def cpu_count():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or platform.processor(), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def blas_info():
    """NumPy's BLAS libraries as threadpoolctl sees them ([] if threadpoolctl is not installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "threading_layer", "architecture", "filepath")
    return [{k: info.get(k) for k in keys} for info in threadpool_info() if info.get("user_api") == "blas"]


def blas_threads():
    """The number of threads NumPy's BLAS uses (threadpoolctl), else the number of cores."""
    libs = blas_info()
    numpy_libs = [lib for lib in libs if "numpy" in str(lib.get("filepath") or "")]
    for lib in numpy_libs or libs:
        if lib.get("num_threads"):
            return int(lib["num_threads"])
    return cpu_count()


def _version(module_name):
    try:
        return importlib.import_module(module_name).__version__
    except ImportError:
        return "missing"


def machine_info():
    """Cores, CPU, BLAS, library versions, date and load: what a reader needs to weigh the numbers."""
    from . import __version__

    info = {
        "cores": cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "blas": blas_info(),
        "blas_threads": blas_threads(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "chainrule": __version__,
                     "torch": _version("torch"), "sklearn": _version("sklearn"),
                     "threadpoolctl": _version("threadpoolctl"), "numba": _version("numba")},
        "chainrule_adam": adam_path(),
    }
    if hasattr(os, "getloadavg"):
        info["load_average"] = list(os.getloadavg())
    return info


def adam_path():
    """How chainrule's Adam runs here: one fused pass (the `fast` extra) or NumPy's ten passes."""
    from .optim import FUSED_MIN_SIZE

    if _findable("numba"):
        return f"one fused pass (numba) for models from {FUSED_MIN_SIZE:,} parameters on, NumPy below"
    return 'NumPy passes (pip install "chainrule[fast]" for the fused one)'


def gemm_peak(n=1024, repeats=5):
    """Measured float32 GEMM speed of NumPy in GFLOP/s: C = A @ B with n x n matrices, best of repeats."""
    rng = np.random.default_rng(0)
    A = rng.random((n, n), dtype=np.float32)
    B = rng.random((n, n), dtype=np.float32)
    C = np.empty((n, n), np.float32)
    np.matmul(A, B, out=C)  # warm up: threads started, pages touched
    best = math.inf
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        np.matmul(A, B, out=C)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9


# -- data -----------------------------------------------------------------------


def load_data(data_dir=None, samples=20000, test=False, seed=0, features=784, classes=10):
    """Training rows (and the test set if ``test``): MNIST pixels/255 as float32, labels as int64.

    MNIST is looked for in ``data_dir``, then ``CHAINRULE_DATA``, then the
    cache; it is never downloaded. Without it: synthetic random data of the
    same shape (uniform pixels, every class present), and ``"synthetic"``
    is True. ``samples=None`` takes every training row.
    """
    from .data.idx import DataFileError
    from .data.mnist import find_file, load_mnist

    try:
        (X_tr, y_tr), (X_te, y_te) = load_mnist(data_dir=data_dir, download=False)
        folder = find_file("mnist", "train-images-idx3-ubyte", data_dir).parent
        n = len(X_tr) if samples is None else min(int(samples), len(X_tr))
        out = {"source": f"MNIST from {folder}", "synthetic": False, "requested": samples,
               "X": _pixels(X_tr[:n]), "y": y_tr[:n].astype(np.int64)}  # slice before converting: less memory
        del X_tr
        if test:
            out["X_test"], out["y_test"] = _pixels(X_te), y_te.astype(np.int64)
        return out
    except (DataFileError, OSError, ValueError) as exc:
        reason = str(exc).split(";")[0]
    n = 20000 if samples is None else int(samples)
    rng = np.random.default_rng(seed)
    out = {"source": f"synthetic random data (MNIST unavailable: {reason})", "synthetic": True,
           "requested": samples, "X": rng.random((n, features), dtype=np.float32),
           "y": rng.permutation(np.arange(n) % classes).astype(np.int64)}
    if test:
        n_test = max(classes, min(10000, n // 5))
        out["X_test"] = rng.random((n_test, features), dtype=np.float32)
        out["y_test"] = rng.permutation(np.arange(n_test) % classes).astype(np.int64)
    return out


def _pixels(images):
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    return X


# -- the systems -------------------------------------------------------------------


def _import(system):
    """The peer's module (torch, sklearn.neural_network); PeerMissing if it is not installed."""
    try:
        return importlib.import_module(PEER_MODULES[system])
    except ImportError as exc:
        raise PeerMissing(f"{system} is not installed ({exc})") from exc


def _findable(module_name):
    """Whether a top-level module can be imported, without importing it."""
    import importlib.util

    try:
        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        return False


def peer_status(system):
    """'ok' if the system can be benchmarked here, else 'missing'."""
    _check_system(system)
    if system == "chainrule":
        return "ok"
    try:
        _import(system)
    except PeerMissing:
        return "missing"
    return "ok"


def _check_system(system):
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")


def _check_sizes(sizes):
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least the input and output widths, all >= 1; received {sizes}")
    return sizes


def count_parameters(sizes):
    """Weights and biases of the Dense stack ``sizes`` (784-256-128-10: 235,146)."""
    sizes = _check_sizes(sizes)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def _chainrule_model(sizes, seed):
    from .layers import Dense, ReLU
    from .model import Sequential

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(ReLU())
        layers.append(Dense(a, b))
    return Sequential(layers, rng=seed, dtype="float32")


def _torch_model(torch, sizes, seed):
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(a, b))
    return torch.nn.Sequential(*layers).float()


class _TorchThreads:
    """torch.set_num_threads(<NumPy's BLAS threads>) for the duration of a block."""

    def __init__(self, torch):
        self.torch = torch

    def __enter__(self):
        self.previous = self.torch.get_num_threads()
        self.torch.set_num_threads(blas_threads())
        return self

    def __exit__(self, *exc):
        self.torch.set_num_threads(self.previous)


def _sklearn_model(sizes, batch_size, max_iter, seed):
    nn = _import("sklearn")
    return nn.MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="adam", alpha=0.0,
                            batch_size=batch_size, learning_rate_init=LEARNING_RATE, max_iter=max_iter,
                            shuffle=True, tol=0, n_iter_no_change=10**9, random_state=seed)


def _sklearn_fit(clf, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def _layer_shapes(system, model):
    """(n_in, n_out) of every dense layer of a built model, and its parameter count."""
    if system == "chainrule":
        shapes = [tuple(layer.W.shape) for layer in model.layers if "W" in layer.param_names]
        return shapes, int(model.num_params)
    if system == "pytorch":
        shapes = [(m.in_features, m.out_features) for m in model if hasattr(m, "in_features")]
        return shapes, int(sum(p.numel() for p in model.parameters()))
    shapes = [tuple(W.shape) for W in model.coefs_]
    return shapes, int(sum(W.size for W in model.coefs_) + sum(b.size for b in model.intercepts_))


def _as_float32(X, y=None):
    X = np.ascontiguousarray(X, dtype=np.float32)
    return X if y is None else (X, np.asarray(y, dtype=np.int64))


def _check_outputs(system, sizes, shapes):
    if shapes[-1][1] != sizes[-1]:
        raise ValueError(f"{system} built an output layer of {shapes[-1][1]} units for sizes {sizes}: "
                         f"the labels must cover all {sizes[-1]} classes")


def train_throughput(system, sizes, batch_size, X, y, epochs=1, seed=0, info=None):
    """Training speed in samples/s of ``system`` on (X, y): ``epochs`` x len(X) / seconds.

    The network is ``sizes`` (e.g. (784, 256, 128, 10)): Dense + ReLU hidden
    layers, a linear output, softmax cross-entropy on integer labels; Adam
    (lr 1e-3), ``batch_size`` rows per step, one shuffling permutation per
    epoch, float32. One warm-up batch is trained first; building the model
    and converting the data are not timed. If ``info`` is a dict it receives
    the parameter count, the layer shapes and the seconds.
    """
    _check_system(system)
    sizes = _check_sizes(sizes)
    X, y = _as_float32(X, y)
    n, warm = len(X), min(batch_size, len(X))
    if system == "chainrule":
        from .optim import Adam

        model = _chainrule_model(sizes, seed)
        kwargs = {"loss": "cross_entropy", "optimizer": Adam(LEARNING_RATE), "batch_size": batch_size,
                  "shuffle": True, "verbose": 0, "metrics": []}
        model.fit(X[:warm], y[:warm], epochs=1, **kwargs)
        start = time.perf_counter()
        model.fit(X, y, epochs=epochs, **kwargs)
        seconds = time.perf_counter() - start
    elif system == "pytorch":
        torch = _import("pytorch")
        with _TorchThreads(torch):
            model = _torch_model(torch, sizes, seed)
            optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
            loss_fn = torch.nn.CrossEntropyLoss()
            Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
            gen = torch.Generator().manual_seed(seed)

            def step(xb, yb):
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()

            step(Xt[:warm], yt[:warm])
            start = time.perf_counter()
            for _ in range(epochs):
                order = torch.randperm(n, generator=gen)
                for i in range(0, n, batch_size):
                    idx = order[i:i + batch_size]
                    step(Xt[idx], yt[idx])
            seconds = time.perf_counter() - start
    else:
        _sklearn_fit(_sklearn_model(sizes, batch_size, 1, seed), X[:warm], y[:warm])
        model = _sklearn_model(sizes, batch_size, epochs, seed)
        start = time.perf_counter()
        _sklearn_fit(model, X, y)
        seconds = time.perf_counter() - start
    shapes, params = _layer_shapes(system, model)
    _check_outputs(system, sizes, shapes)
    if info is not None:
        info.update(system=system, parameters=params, layer_shapes=[list(s) for s in shapes], seconds=seconds,
                    samples=n, epochs=epochs, batch_size=batch_size)
    return epochs * n / seconds


def inference_throughput(system, sizes, X, batch_size=1024, seed=0, info=None):
    """Inference speed in samples/s: the network outputs for every row of X, ``batch_size`` rows at a time.

    chainrule: ``predict_output`` (logits); PyTorch: the model under
    ``inference_mode`` (logits); scikit-learn: ``predict_proba`` (it has no
    logits-only predict). The weights do not matter for the speed; the
    scikit-learn model is fitted for one epoch on a few rows so that it can predict.
    """
    _check_system(system)
    sizes = _check_sizes(sizes)
    X = _as_float32(X)
    n = len(X)
    warm = X[:min(batch_size, n)]
    if system == "chainrule":
        model = _chainrule_model(sizes, seed)
        model.compile("cross_entropy")
        model.predict_output(warm, batch_size)
        start = time.perf_counter()
        model.predict_output(X, batch_size)
        seconds = time.perf_counter() - start
    elif system == "pytorch":
        torch = _import("pytorch")
        with _TorchThreads(torch):
            model = _torch_model(torch, sizes, seed).eval()
            Xt = torch.from_numpy(X)
            with torch.inference_mode():
                model(Xt[:len(warm)])
                start = time.perf_counter()
                torch.cat([model(Xt[i:i + batch_size]) for i in range(0, n, batch_size)])
                seconds = time.perf_counter() - start
    else:
        k = min(n, max(sizes[-1], 64))
        labels = np.arange(k) % sizes[-1]
        model = _sklearn_fit(_sklearn_model(sizes, min(k, 200), 1, seed), X[:k], labels)
        model.predict_proba(warm)
        start = time.perf_counter()
        np.concatenate([model.predict_proba(X[i:i + batch_size]) for i in range(0, n, batch_size)])
        seconds = time.perf_counter() - start
    shapes, params = _layer_shapes(system, model)
    _check_outputs(system, sizes, shapes)
    if info is not None:
        info.update(system=system, parameters=params, layer_shapes=[list(s) for s in shapes], seconds=seconds,
                    samples=n, batch_size=batch_size)
    return n / seconds


# -- memory -----------------------------------------------------------------------------


def memory_budget(sizes, batch_size, n_samples):
    """The budget 'data + 3 x parameters + batch buffers' in bytes, each part and the total.

    data: the float32 X and y of the training set, n x (inputs + 1) x 4;
    parameters: float32, 4 bytes each; batch buffers: batch x (sum of all
    layer widths, input and output included) x 4 bytes x BATCH_BUFFER_FACTOR (4:
    Z and A forward, dA and dZ backward). Note that Adam alone holds the
    weights, the gradients and two moments: 4 x parameters at the least.
    """
    sizes = _check_sizes(sizes)
    parts = {"data": int(n_samples) * (sizes[0] + 1) * 4,
             "parameters_x3": 3 * count_parameters(sizes) * 4,
             "batch_buffers": int(batch_size) * sum(sizes) * 4 * BATCH_BUFFER_FACTOR}
    parts["total"] = sum(parts.values())
    return parts


def _maxrss_bytes():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _reset_peak_rss():
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_parts():
    """Current anonymous and file-backed resident memory in bytes (Linux /proc/self/status), or {}."""
    parts = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("RssAnon", "RssFile"):
                    parts[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return {}
    return parts


def _memory_main(arg):
    """The entry point of the process that peak_training_memory starts; prints one JSON line."""
    spec = json.loads(arg)
    system = spec["system"]
    out = {"system": system}
    try:
        if system != "chainrule":
            _import(system)  # the library's own footprint is not the training's
        data = load_data(spec["data_dir"], spec["n_samples"], seed=spec["seed"])
        X, y = data["X"], data["y"]
        out.update(data_source=data["source"], synthetic=data["synthetic"])
        del data
        gc.collect()
        out["peak_reset"] = _reset_peak_rss()
        out["baseline_maxrss_bytes"] = _maxrss_bytes()
        before = _rss_parts()
        info = {}
        train_throughput(system, spec["sizes"], spec["batch_size"], X, y, epochs=1, seed=spec["seed"], info=info)
        out["peak_maxrss_bytes"] = _maxrss_bytes()
        out["extra_peak_bytes"] = out["peak_maxrss_bytes"] - out["baseline_maxrss_bytes"]
        after = _rss_parts()
        if before and after:  # still resident after training: code pages the library loaded on first use
            out["file_backed_increase_bytes"] = max(0, after["RssFile"] - before["RssFile"])
        out.update(status="ok", parameters=info["parameters"], samples=info["samples"])
    except PeerMissing as exc:
        out.update(status="missing", reason=str(exc))
    print(_CHILD_MARK + json.dumps(out), flush=True)


def peak_training_memory(system, sizes, batch_size, n_samples, data_dir=None, seed=0, timeout=1800):
    """The extra peak memory of training one epoch, measured in a fresh process.

    The process loads (or makes) its data first, then records ``ru_maxrss``,
    builds the model, trains one epoch (``train_throughput``) and records
    ``ru_maxrss`` again: ``extra_peak_bytes`` is the increase, the memory
    that training needs beyond the data. Two details keep it honest on Linux:
    the process is started through ``/bin/sh`` (which forks it from a small
    process: started directly, a child inherits the parent's peak RSS in its
    ``ru_maxrss``), and the peak is reset to the current RSS once the data are
    loaded (``/proc/self/clear_refs``), so that loading does not hide training.
    ``peak_reset`` and ``isolated`` say whether these were possible.
    ``file_backed_increase_bytes`` is the part of the increase that is the
    library's code and data files paged in on first use (RssFile), not arrays.

    Returns a dict with ``status`` ("ok" or "missing"), the measurements and
    ``budget`` (``memory_budget``) for comparison.
    """
    return _finish_memory(_start_memory(system, sizes, batch_size, n_samples, data_dir, seed), timeout)


def _start_memory(system, sizes, batch_size, n_samples, data_dir=None, seed=0):
    _check_system(system)
    sizes = _check_sizes(sizes)
    result = {"system": system, "budget": memory_budget(sizes, batch_size, n_samples)}
    if system != "chainrule" and not _findable(PEER_MODULES[system].split(".")[0]):
        result.update(status="missing", reason=f"{system} is not installed")
        return result, None  # (an installed peer that fails to import is reported missing by the process)
    spec = json.dumps({"system": system, "sizes": list(sizes), "batch_size": int(batch_size),
                       "n_samples": int(n_samples), "data_dir": None if data_dir is None else str(data_dir),
                       "seed": int(seed)})
    code = "import sys; from chainrule.benchmark import _memory_main; _memory_main(sys.argv[1])"
    command = [sys.executable, "-c", code, spec]
    result["isolated"] = os.name == "posix" and os.path.exists("/bin/sh")
    if result["isolated"]:
        command = ["/bin/sh", "-c", '"$0" "$@"; exit $?', *command]
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return result, proc


def _finish_memory(started, timeout=1800):
    result, proc = started
    if proc is None:
        return result
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    lines = [line for line in stdout.splitlines() if line.startswith(_CHILD_MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the memory benchmark process for {result['system']} failed "
                           f"(exit {proc.returncode}):\n{stderr[-2000:]}")
    result.update(json.loads(lines[-1][len(_CHILD_MARK):]))
    return result


# -- time to accuracy -------------------------------------------------------------------


def time_to_accuracy(system, sizes=HEADLINE, target=0.98, max_epochs=20, batch_size=128, data=None,
                     data_dir=None, seed=0, info=None):
    """Seconds of training until the test accuracy first reaches ``target``, and the epochs it took.

    chainrule and PyTorch follow the same recipe (``sizes`` with ReLU, Adam
    lr 1e-3, ``batch_size``, MNIST pixels/255, each library's default
    initialisation) and are evaluated on the test set after every epoch; the
    evaluation is not timed. ``data`` is ``load_data(..., test=True)``'s dict
    (default: all of MNIST from ``data_dir``). Returns ``(seconds, epochs)``,
    or None if ``max_epochs`` epochs do not reach the target. ``info`` (a
    dict) receives the accuracy after every epoch.
    """
    _check_system(system)
    if system == "sklearn":
        raise ValueError("time_to_accuracy compares chainrule and pytorch")
    sizes = _check_sizes(sizes)
    data = data if data is not None else load_data(data_dir, samples=None, test=True, seed=seed)
    X, y = _as_float32(data["X"], data["y"])
    X_test, y_test = _as_float32(data["X_test"], data["y_test"])
    history = []
    reached = None
    if system == "chainrule":
        from .optim import Adam
        from .training.callbacks import Callback

        _chainrule_model(sizes, seed).fit(X[:batch_size], y[:batch_size], loss="cross_entropy", epochs=1,
                                          batch_size=batch_size, verbose=0, metrics=[])  # warm up
        model = _chainrule_model(sizes, seed)
        clock = {"eval": 0.0}

        class Evaluate(Callback):
            def on_epoch_end(self, epoch, logs=None):
                nonlocal reached
                now = time.perf_counter()
                trained = now - clock["start"] - clock["eval"]
                accuracy = float(np.mean(self.model.predict(X_test) == y_test))
                history.append({"epoch": epoch + 1, "test_accuracy": accuracy, "train_seconds": trained})
                if accuracy >= target:
                    reached = (trained, epoch + 1)
                    self.model.stop_training = True
                clock["eval"] += time.perf_counter() - now

        clock["start"] = time.perf_counter()
        model.fit(X, y, loss="cross_entropy", optimizer=Adam(LEARNING_RATE), epochs=max_epochs,
                  batch_size=batch_size, shuffle=True, verbose=0, metrics=[], callbacks=[Evaluate()])
    else:
        torch = _import("pytorch")
        with _TorchThreads(torch):
            Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
            Xt_test, yt_test = torch.from_numpy(X_test), torch.from_numpy(y_test)
            loss_fn = torch.nn.CrossEntropyLoss()
            warm = _torch_model(torch, sizes, seed)  # warm up
            loss_fn(warm(Xt[:batch_size]), yt[:batch_size]).backward()
            model = _torch_model(torch, sizes, seed)
            optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
            gen = torch.Generator().manual_seed(seed)
            trained = 0.0
            for epoch in range(max_epochs):
                start = time.perf_counter()
                model.train()
                order = torch.randperm(len(Xt), generator=gen)
                for i in range(0, len(Xt), batch_size):
                    idx = order[i:i + batch_size]
                    optimizer.zero_grad(set_to_none=True)
                    loss_fn(model(Xt[idx]), yt[idx]).backward()
                    optimizer.step()
                trained += time.perf_counter() - start
                model.eval()
                with torch.inference_mode():
                    accuracy = float((model(Xt_test).argmax(1) == yt_test).float().mean())
                history.append({"epoch": epoch + 1, "test_accuracy": accuracy, "train_seconds": trained})
                if accuracy >= target:
                    reached = (trained, epoch + 1)
                    break
    if info is not None:
        info.update(system=system, target=target, history=history, data_source=data.get("source"))
    return reached


_time_to_accuracy = time_to_accuracy  # run_benchmark's argument of the same name hides it


# -- the benchmark ----------------------------------------------------------------------


def _configs(quick):
    """(name, kind, sizes, batch_size) of every configuration run_benchmark measures."""
    head, wide = ((784, 32, 16, 10), (784, 64, 64, 10)) if quick else (HEADLINE, WIDE)
    return [("headline", "train", head, 128), ("batch32", "train", head, 32), ("batch512", "train", head, 512),
            ("wide", "train", wide, 128), ("inference", "inference", head, 1024), ("memory", "memory", head, 128)]


def _measure(fn, system, repeat_results, errors):
    try:
        repeat_results.append(fn())
    except PeerMissing as exc:
        errors[system] = ("missing", str(exc))
    except Exception as exc:  # report, and go on with the other systems
        errors[system] = ("error", f"{type(exc).__name__}: {exc}")


def _rounds(include, repeats, make_fn, gemm_fn=None):
    """Run make_fn(system)() ``repeats`` times for every system, interleaved, order rotated each round.

    With ``gemm_fn``, the GEMM speed is measured at the start of every round too (returned
    per round), so that each run can be set against the peak of its own moment.
    """
    runs = {s: [] for s in include}
    errors = {}
    peaks = []
    for r in range(repeats):
        if gemm_fn is not None:
            peaks.append(gemm_fn())
        k = r % len(include)
        for system in include[k:] + include[:k]:
            if system not in errors:
                _measure(make_fn(system), system, runs[system], errors)
    return runs, errors, peaks


def _speed_entries(include, runs, errors, flops=None, peaks=None, samples=None):
    """Per system: best and median samples/s; against chainrule: the ratio of the bests and the
    median of the ratios round by round (runs of one round share the machine's load). With the
    FLOPs of one sample (``flops``) and the GEMM speed of each round (``peaks``): the share of the
    FLOP lower bound, round by round (best and median)."""
    entries = {}
    for system in include:
        if system in errors:
            status, reason = errors[system]
            entries[system] = {"status": status, "reason": reason}
            continue
        values = runs[system]
        entry = {"status": "ok", "samples_per_s": max(values), "median_samples_per_s": statistics.median(values),
                 "runs": values, "seconds": samples / max(values)}
        if flops is not None:
            shares = [rate * flops / (peak * 1e9) for rate, peak in zip(values, peaks)]
            entry.update(fraction_of_bound=max(shares), median_fraction_of_bound=statistics.median(shares),
                         fraction_of_bound_runs=shares)
        entries[system] = entry
    ours = entries.get("chainrule", {})
    for entry in entries.values():
        if entry["status"] == "ok" and ours.get("status") == "ok":
            paired = [a / b for a, b in zip(ours["runs"], entry["runs"])]
            entry.update(chainrule_ratio=ours["samples_per_s"] / entry["samples_per_s"],
                         paired_ratio=statistics.median(paired), paired_ratio_range=[min(paired), max(paired)])
    return entries


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def _table(rows, stream):
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(str(v).ljust(w) if c == 0 else str(v).rjust(w) for c, (v, w) in enumerate(zip(row, widths))),
              file=stream)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=stream)


def _status_row(name, entry, width):
    return [name, f"{entry['status']}: {entry['reason']}"[:60]] + [""] * (width - 2)


def _print_speed(entries, stream, training):
    head = ["system", "samples/s (best)", "median", "chainrule/peer (best)", "(paired median, range)"]
    head += ["bound/measured (best, median)"] if training else []
    rows = [head]
    for system, e in entries.items():
        if e["status"] != "ok":
            rows.append(_status_row(system, e, len(head)))
            continue
        low, high = e.get("paired_ratio_range", (None, None))
        row = [system, f"{e['samples_per_s']:,.0f}", f"{e['median_samples_per_s']:,.0f}",
               _fmt(e.get("chainrule_ratio"), ".2f"),
               f"{_fmt(e.get('paired_ratio'), '.2f')} ({_fmt(low, '.2f')}-{_fmt(high, '.2f')})"]
        if training:
            row.append(f"{100 * e['fraction_of_bound']:.1f}%, {100 * e['median_fraction_of_bound']:.1f}%")
        rows.append(row)
    _table(rows, stream)


def _print_memory(entries, budget, stream):
    rows = [["system", "extra peak MiB", "of it code pages", "budget MiB", "extra/budget", "chainrule/peer"]]
    ours = entries.get("chainrule", {}).get("extra_peak_bytes")
    for system, e in entries.items():
        if e["status"] != "ok":
            rows.append(_status_row(system, e, len(rows[0])))
            continue
        extra = e["extra_peak_bytes"]
        ratio = ours / extra if ours is not None and extra > 0 else None
        code = e.get("file_backed_increase_bytes")
        rows.append([system, f"{extra / 2**20:,.1f}", "-" if code is None else f"{code / 2**20:,.1f}",
                     f"{budget['total'] / 2**20:,.1f}", f"{extra / budget['total']:.2f}", _fmt(ratio, ".2f")])
    _table(rows, stream)
    print("(code pages: library files paged in on first use, still resident after training (RssFile))",
          file=stream)
    mib = {k: f"{v / 2**20:.1f}" for k, v in budget.items()}
    print(f"budget = data {mib['data']} + 3 x parameters {mib['parameters_x3']} + batch buffers "
          f"{mib['batch_buffers']} (batch x sum of widths x 4 B x {BATCH_BUFFER_FACTOR}) = {mib['total']} MiB",
          file=stream)


def _summary(results, include, stream):
    """One table of every configuration: median samples/s, the round-by-round (paired) median
    ratios, and the median share of the FLOP lower bound (each run against its round's GEMM speed)."""
    say = lambda *a: print(*a, file=stream, flush=True)  # noqa: E731
    peers = [s for s in include if s != "chainrule"]
    head = ["config"] + [f"{s} samples/s" for s in include] + [f"chainrule/{p}" for p in peers]
    head += ["bound/measured " + "/".join(include)]
    rows = [head]
    for name, config in results["configs"].items():
        if config["kind"] not in ("train", "inference"):
            continue
        entries = config["systems"]
        ok = lambda s: entries[s]["status"] == "ok"  # noqa: E731
        row = [name] + [f"{entries[s]['median_samples_per_s']:,.0f}" if ok(s) else entries[s]["status"]
                        for s in include]
        row += [_fmt(entries[p].get("paired_ratio"), ".2f") if ok(p) else "-" for p in peers]
        row.append("-" if config["kind"] != "train" else
                   " / ".join(f"{100 * entries[s]['median_fraction_of_bound']:.0f}%" if ok(s) else "-"
                              for s in include))
        rows.append(row)
    say("")
    say(f"== summary: medians of {results['settings']['repeats']} interleaved rounds; ratios round by round; "
        "bounds with the GEMM speed measured at the start of each round ==")
    _table(rows, stream)


def run_benchmark(data_dir=None, samples=20000, epochs=1, quick=False, include=SYSTEMS, time_to_accuracy=False,
                  stream=sys.stdout, repeats=None, target=0.98, max_epochs=20):
    """Run every configuration, print a table for each to ``stream``, and return the results as a dict.

    Configurations: 784-256-128-10 at batch 128 (the headline), at batch 32
    and 512; 784-1024-1024-10 at batch 128; inference; peak training memory;
    and, with ``time_to_accuracy=True``, seconds to ``target`` test accuracy
    on MNIST. Data: ``samples`` rows of MNIST (``data_dir``, else
    ``CHAINRULE_DATA``, else the cache), or synthetic random data of the same
    shape if MNIST is unavailable (said in the output and in ``results["data"]``).
    Throughputs: best and median of ``repeats`` (default 3) interleaved rounds; ratios to the peers also
    as the median of the round-by-round ratios.
    ``quick=True`` uses tiny networks and data: a smoke test of a few seconds.
    """
    include = tuple(include)
    for system in include:
        _check_system(system)
    for name, value in (("repeats", repeats), ("samples", samples), ("epochs", epochs)):
        if value is not None and not is_whole(value, 1):
            raise ValueError(f"{name} must be a whole number >= 1; received {value!r}")
    stream = stream if stream is not None else open(os.devnull, "w")
    if quick:
        samples, repeats = min(samples, 512), repeats or 1
        max_epochs = min(max_epochs, 2)
    repeats = repeats or 3
    say = lambda *a: print(*a, file=stream, flush=True)  # noqa: E731

    data = load_data(data_dir, samples, test=time_to_accuracy and quick)
    X, y, n = data["X"], data["y"], len(data["X"])
    early = {}
    if quick:  # a smoke test: start the memory processes now, to run beside the rest (memory is no timing)
        for name, kind, sizes, batch in _configs(quick):
            if kind == "memory":
                for system in include:
                    try:
                        early[system] = _start_memory(system, sizes, batch, n, data_dir)
                    except Exception:
                        pass  # started again, and its error reported, in its turn
    machine = machine_info()
    gemm_n = 512 if quick else 1024
    peak = gemm_peak(gemm_n, 10)
    gemm_runs = [peak]
    status = {s: peer_status(s) for s in include}
    results = {"machine": machine, "data": {k: data[k] for k in ("source", "synthetic", "requested")} | {"samples": n},
               "settings": {"epochs": epochs, "repeats": repeats, "quick": quick, "include": list(include),
                            "learning_rate": LEARNING_RATE, "dtype": "float32"},
               "gemm_gflops": peak, "peer_status": status, "configs": {}}

    v = machine["versions"]
    say(f"chainrule benchmark, {machine['date']}")
    say(f"machine: {machine['cores']} cores, {machine['cpu_model'] or 'CPU model unknown'}; {machine['platform']}")
    blas = machine["blas"]
    say("BLAS: " + ("; ".join(f"{b['internal_api']} {b['version']} ({b['num_threads']} threads, "
                             f"{b['architecture']}, {b['threading_layer']})" for b in blas)
                    if blas else "unknown (threadpoolctl not installed)")
        + f"; PyTorch set to {machine['blas_threads']} threads")
    say("versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    say(f"chainrule's Adam: {machine['chainrule_adam']}")
    if "load_average" in machine:
        say("load average at start: " + ", ".join(f"{x:.2f}" for x in machine["load_average"])
            + " (the machine is shared: best and median of interleaved runs are shown)")
    say(f"data: {data['source']}; {n:,} training rows x {epochs} epoch(s)"
        + ("  ** SYNTHETIC: speeds only, no accuracy **" if data["synthetic"] else ""))
    if data["requested"] is not None and n < data["requested"]:
        say(f"      ({data['requested']:,} rows asked for, {n:,} available)")
    say(f"float32 GEMM peak (NumPy, measured): {peak:.1f} GFLOP/s (measured again at the start of every round "
        f"of a training configuration: each run is set against the peak of its round); {repeats} round(s), "
        "the systems interleaved")
    for system, st in status.items():
        if st != "ok":
            say(f"{system}: missing (not installed), reported as missing")

    for name, kind, sizes, batch in _configs(quick):
        params = count_parameters(sizes)
        arch = "-".join(map(str, sizes))
        config = {"kind": kind, "sizes": list(sizes), "batch_size": batch, "parameters": params, "samples": n}
        say("")
        if kind == "train":
            say(f"== {name}: training {arch} ({params:,} parameters), batch {batch}, {n:,} samples x {epochs} "
                f"epoch(s); FLOP lower bound 6 x params x samples / peak = {6.0 * params * n * epochs / 1e9:.2f} "
                f"GFLOP / peak ==")

            def make(system, sizes=sizes, batch=batch):
                return lambda: train_throughput(system, sizes, batch, X, y, epochs=epochs)

            runs, errors, peaks = _rounds(include, repeats, make, gemm_fn=lambda: gemm_peak(gemm_n, 5))
            gemm_runs.extend(peaks)
            config.update(epochs=epochs, gemm_gflops_rounds=peaks,
                          lower_bound_seconds=6.0 * params * n * epochs / (statistics.median(peaks) * 1e9),
                          systems=_speed_entries(include, runs, errors, 6.0 * params, peaks, n * epochs))
            say(f"GEMM peak at the start of each round: {', '.join(f'{p:.1f}' for p in peaks)} GFLOP/s")
            _print_speed(config["systems"], stream, training=True)
        elif kind == "inference":
            say(f"== {name}: {arch}, outputs for {n:,} rows in batches of {batch} ==")

            def make(system, sizes=sizes, batch=batch):
                return lambda: inference_throughput(system, sizes, X, batch_size=batch)

            runs, errors, _ = _rounds(include, repeats, make)
            config["systems"] = _speed_entries(include, runs, errors, samples=n)
            _print_speed(config["systems"], stream, training=False)
        else:
            say(f"== {name}: extra peak RSS of training {arch} one epoch, batch {batch}, {n:,} samples "
                "(fresh process each; ru_maxrss after the data are loaded -> after training) ==")
            entries = {}
            for system in include:
                try:
                    started = early.pop(system, None) or _start_memory(system, sizes, batch, n, data_dir)
                    entries[system] = _finish_memory(started)
                except Exception as exc:
                    entries[system] = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
            entries = {s: entries[s] for s in include}
            config["budget"] = memory_budget(sizes, batch, n)
            config["systems"] = entries
            _print_memory(entries, config["budget"], stream)
        results["configs"][name] = config

    if time_to_accuracy:
        sizes = (784, 32, 16, 10) if quick else HEADLINE
        say("")
        say(f"== time to {100 * target:g}% test accuracy: {'-'.join(map(str, sizes))}, Adam 1e-3, batch 128, "
            f"at most {max_epochs} epochs (evaluation not timed) ==")
        tta_data = data if quick else load_data(data_dir, samples=None, test=True)
        if tta_data["synthetic"]:
            say("   (synthetic data: the target cannot be reached; this only exercises the code)")
        entries = {}
        for system in [s for s in include if s != "sklearn"]:
            info = {}
            try:
                reached = _time_to_accuracy(system, sizes, target=target, max_epochs=max_epochs, batch_size=128,
                                            data=tta_data, info=info)
                entries[system] = {"status": "ok", "reached": reached is not None,
                                   "seconds": None if reached is None else reached[0],
                                   "epochs": None if reached is None else reached[1], "history": info["history"]}
            except PeerMissing as exc:
                entries[system] = {"status": "missing", "reason": str(exc)}
        rows = [["system", "seconds", "epochs", "best test accuracy"]]
        for system, e in entries.items():
            if e["status"] != "ok":
                rows.append(_status_row(system, e, 4))
                continue
            best = max(h["test_accuracy"] for h in e["history"])
            rows.append([system, _fmt(e["seconds"], ".1f") if e["reached"] else "not reached",
                         _fmt(e["epochs"], "d"), f"{best:.4f}"])
        _table(rows, stream)
        results["configs"]["time_to_accuracy"] = {"kind": "time_to_accuracy", "sizes": list(sizes), "target": target,
                                                  "max_epochs": max_epochs, "batch_size": 128,
                                                  "data_source": tta_data["source"], "systems": entries}

    results["gemm_gflops"] = max(gemm_runs)
    results["gemm_gflops_runs"] = gemm_runs
    _summary(results, include, stream)
    if hasattr(os, "getloadavg"):
        results["machine"]["load_average_end"] = list(os.getloadavg())
        say("load average at end: " + ", ".join(f"{x:.2f}" for x in results["machine"]["load_average_end"]))
    return results

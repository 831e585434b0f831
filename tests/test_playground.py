"""The playground's server, through Starlette's test client: every endpoint, bad inputs, caps;
the drawing-to-MNIST conversion; and the command (its errors, and a clean stop on Ctrl-C)."""

import base64
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():  # newer Starlette prefers httpx2 for its test client; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from chainrule import Dense, Sequential
from chainrule.cli.main import main
from chainrule.playground import create_app
from chainrule.playground import session as session_module
from chainrule.playground.digits import area_weights, digits_style, mnist_style, resize
from chainrule.playground.trace import matrix_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def client():
    with TestClient(create_app(train_mnist=False)) as c:
        yield c


def new_session(client, **config):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 200, r.text
    return r.json()["id"], r.json()["frame"]


def drawing(side=200):
    """A thick diagonal stroke on black, as the page sends it."""
    image = np.zeros((side, side), np.uint8)
    for i in range(40, 160):
        image[i, i - 12:i + 12] = 255
    return {"width": side, "height": side, "pixels": base64.b64encode(image.tobytes()).decode()}


# -- pages and sessions -------------------------------------------------------------------

def test_the_page_and_its_assets_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="boundary"' in page.text
    for asset in ("playground.css", "draw.js", "train.js", "digits.js"):
        assert f"/static/{asset}" in page.text
        assert client.get(f"/static/{asset}").status_code == 200
    assert "http" not in page.text.replace("http://www.w3.org", "")  # nothing from the network


def test_options_name_the_choices_and_caps(client):
    options = client.get("/api/options").json()
    assert options["datasets"] == ["xor", "circles", "moons", "spirals", "blobs", "gaussian"]
    assert "tanh" in options["activations"] and "softmax" not in options["activations"]
    assert options["caps"]["width"] == session_module.MAX_WIDTH


@pytest.mark.parametrize("dataset", session_module.DATASETS)
def test_every_dataset_gives_two_classes_in_the_square(client, dataset):
    _, frame = new_session(client, dataset=dataset, samples=100, test_fraction=0.25)
    points = np.array(frame["train"]["x"] + frame["test"]["x"])
    assert points.shape == (100, 2) and np.abs(points).max() <= 1.0 + 1e-9
    assert sorted(set(frame["train"]["y"])) == [0, 1] and abs(len(frame["test"]["y"]) - 25) <= 1  # stratified


def test_a_frame_holds_the_pictures(client):
    _, frame = new_session(client, hidden=[3, 5])
    side = frame["grid"]
    assert frame["widths"] == [2, 3, 5, 1]
    assert len(base64.b64decode(frame["boundary"])) == side * side
    assert len(frame["neurons"]) == 8 and all(len(base64.b64decode(n)) == side * side for n in frame["neurons"])
    assert [np.shape(w["W"]) for w in frame["weights"]] == [(2, 3), (3, 5), (5, 1)]


def test_step_takes_one_batch_and_training_lowers_the_loss(client):
    key, frame = new_session(client, dataset="xor", batch_size=8)
    stepped = client.post(f"/api/sessions/{key}/step").json()
    assert stepped["step"] == 1 and len(stepped["batch"]) == 8 and "train" not in stepped
    s = client.app.state.sessions.items[key]
    s.step(300)
    assert s.history["train"][-1] < 0.5 * frame["loss"]["train"]


def test_reset_applies_new_settings_and_refuses_bad_ones(client):
    key, _ = new_session(client)
    client.post(f"/api/sessions/{key}/step")
    frame = client.post(f"/api/sessions/{key}/reset", json={"hidden": [4], "dataset": "moons"}).json()
    assert frame["step"] == 0 and frame["widths"] == [2, 4, 1] and frame["config"]["dataset"] == "moons"
    bad = client.post(f"/api/sessions/{key}/reset", json={"activation": "softmax"})
    assert bad.status_code == 400 and "activation must be one of" in bad.json()["error"]
    assert client.app.state.sessions.items[key].config["dataset"] == "moons"


@pytest.mark.parametrize("config, words", [
    ({"hidden": [8] * 7}, "number of hidden layers must be"),
    ({"hidden": [17]}, "width must be an integer from 1 to 16"),
    ({"hidden": "8,8"}, "hidden must be a list"),
    ({"batch_size": 1000}, "batch_size must be"),
    ({"samples": 100000}, "samples must be"),
    ({"lr": "fast"}, "lr must be a finite number"),
    ({"lr": 0}, "lr must be"),
    ({"noise": 2}, "noise must be"),
    ({"dataset": "mnist"}, "dataset must be one of"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"layers": 3}, "unknown setting 'layers'"),
])
def test_settings_out_of_bounds_get_400_with_a_message(client, config, words):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 400 and words in r.json()["error"], r.text


def test_nan_and_bad_bodies_are_refused(client):
    assert client.post("/api/sessions", content='{"lr": NaN}').status_code == 400
    r = client.post("/api/sessions", content="{nonsense")
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    assert client.post("/api/sessions", content="[1, 2]").status_code == 400
    r = client.post("/api/sessions", content=b"x" * (2 << 20))
    assert r.status_code == 413


@pytest.mark.parametrize("method, path", [("POST", "step"), ("POST", "reset"), ("POST", "play"), ("GET", "explain"),
                                          ("GET", "stream"), ("DELETE", "")])
def test_an_unknown_session_gets_404(client, method, path):
    r = client.request(method, f"/api/sessions/nobody/{path}".rstrip("/"))
    assert r.status_code == 404 and "reload the page" in r.json()["error"]


def test_sessions_are_separate_capped_and_released():
    with TestClient(create_app(train_mnist=False, max_sessions=2, idle_seconds=0.3)) as c:
        a, _ = new_session(c)
        b, _ = new_session(c)
        c.post(f"/api/sessions/{a}/step")
        assert c.app.state.sessions.items[a].step_count == 1 and c.app.state.sessions.items[b].step_count == 0
        r = c.post("/api/sessions", json={})
        assert r.status_code == 429 and "2 sessions" in r.json()["error"]
        assert c.delete(f"/api/sessions/{b}").status_code == 200
        time.sleep(0.5)  # a left alone: released
        assert c.post(f"/api/sessions/{a}/step").status_code == 404
        assert c.post("/api/sessions", json={}).status_code == 200


def test_play_streams_frames_fast_enough_and_pause_stops(client):
    key, _ = new_session(client, hidden=[8, 8], steps_per_frame=1)
    assert client.post(f"/api/sessions/{key}/play").json() == {"playing": True}
    frames, started = [], time.monotonic()
    with client.stream("GET", f"/api/sessions/{key}/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
            if len(frames) == 20:
                client.app.state.close()
                break
    rate = len(frames) / (time.monotonic() - started)
    assert [f["step"] for f in frames] == list(range(1, 21))
    assert rate >= 10, f"{rate:.1f} frames a second for a 2-8-8-1 network"
    assert client.post(f"/api/sessions/{key}/pause").json() == {"playing": False}


def test_a_diverging_step_is_a_409_with_advice(client):
    key, _ = new_session(client, hidden=[16, 16, 16], activation="identity", optimizer="sgd", lr=10, samples=1000)
    codes = {client.post(f"/api/sessions/{key}/step").status_code for _ in range(30)}
    assert 409 in codes
    r = client.post(f"/api/sessions/{key}/step")
    assert r.status_code == 409 and "lower it and press reset" in r.json()["error"]


# -- explain -------------------------------------------------------------------------------

def test_explain_shows_the_pass_on_the_next_batch(client):
    key, _ = new_session(client, hidden=[3], batch_size=4, regularization="l2", reg_rate=0.01)
    data = client.get(f"/api/sessions/{key}/explain").json()
    titles = [s["title"] for s in data["sections"]]
    assert titles == ["The numbers before the pass", "Forward pass", "Cost", "Backward pass",
                      "Update (plain gradient descent)"]
    equations = [step["equation"] for s in data["sections"] for step in s["steps"]]
    assert "Z[1] = A[0] @ W[1] + b[1]" in equations and "dW[2] = A[1].T @ dZ[2]" in equations
    assert all(step["error"] < 1e-5 for s in data["sections"] for step in s["steps"] if step["error"] is not None)
    s = client.app.state.sessions.items[key]
    rows = s.batch
    expected = s.model.evaluate(s.X_train[rows], s.y_train[rows])["loss"]  # BCE + 0.01 sum(W^2)
    assert math.isclose(data["cost"], expected, rel_tol=1e-9)
    assert "4 samples" in data["note"] and "adam" in data["note"]


def test_large_matrices_are_summarised_small_ones_whole():
    small = matrix_text(np.arange(6.0).reshape(2, 3), 1)
    assert small == "[0.0 1.0 2.0]\n[3.0 4.0 5.0]"
    big = matrix_text(np.arange(160.0).reshape(16, 10), 1).splitlines()
    assert len(big) == 6 and big[0].endswith("...]") and big[4] == "... 12 more rows"
    assert big[5] == "(shape (16, 10): min 0.0, max 159.0)"


# -- the digit pad -------------------------------------------------------------------------

def test_area_resizing_keeps_the_mean():
    assert np.allclose(area_weights(7, 3).sum(axis=1), 1)
    image = np.random.default_rng(0).random((37, 23))
    assert np.isclose(resize(image, 20, 11).mean(), image.mean())


def test_a_drawing_becomes_an_mnist_input():
    image = np.zeros((100, 60))
    image[10:90, 5:25] = 1  # a tall bar in the top-left
    seen = mnist_style(image)
    rows, cols = np.nonzero(seen)
    assert seen.shape == (28, 28) and seen.max() == 255
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 5  # the box into 20x20
    r, c = np.indices(seen.shape)
    assert abs((r * seen).sum() / seen.sum() - 13.5) <= 0.5 and abs((c * seen).sum() / seen.sum() - 13.5) <= 0.5
    assert not mnist_style(np.zeros((50, 50))).any()
    small = digits_style(image)
    assert small.shape == (8, 8) and 0 < small.max() <= 16


def test_the_digit_pad_reads_a_stroke_with_the_bundled_digits(client):
    status = client.get("/api/digits").json()
    assert status["side"] == 8 and "bundled 8x8 digits" in status["source"] and not status["training"]
    r = client.post("/api/digits", json=drawing()).json()
    assert len(r["probabilities"]) == 10 and math.isclose(sum(r["probabilities"]), 1, rel_tol=1e-4)
    assert r["prediction"] == int(np.argmax(r["probabilities"])) and np.shape(r["input"]) == (8, 8)
    empty = dict(drawing(), pixels=base64.b64encode(bytes(200 * 200)).decode())
    assert client.post("/api/digits", json=empty).json()["empty"] is True


def test_a_given_mnist_model_sees_28x28():
    model = Sequential([Dense(784, 10)], rng=0)
    with TestClient(create_app(model, "runs/test")) as c:
        r = c.post("/api/digits", json=drawing()).json()
        assert np.shape(r["input"]) == (28, 28) and r["source"] == "runs/test" and len(r["probabilities"]) == 10


@pytest.mark.parametrize("change, words", [
    ({"width": "200"}, "width must be an integer"),
    ({"height": 5000}, "height must be an integer in [8, 400]"),
    ({"pixels": "%%%"}, "pixels must be base64"),
    ({"pixels": base64.b64encode(b"abc").decode()}, "the drawing has 3 pixels"),
])
def test_bad_drawings_get_400(client, change, words):
    r = client.post("/api/digits", json=dict(drawing(), **change))
    assert r.status_code == 400 and words in r.json()["error"], r.text
    assert "a drawing is" in client.post("/api/digits", json={"width": 10}).json()["error"]


# -- the command ---------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_command_refuses_a_taken_port_and_a_wrong_model(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        assert main(["playground", "--no-browser", "--port", str(port)]) == 1
    assert f"--port {port}: the port is in use on 127.0.0.1" in capsys.readouterr().err
    assert main(["playground", "--no-browser", "--port", "0"]) == 1
    assert "--port must be an integer from 1 to 65535" in capsys.readouterr().err
    Sequential([Dense(3, 2)], rng=0).save(tmp_path / "m.chainrule")
    assert main(["playground", "--no-browser", "--model", str(tmp_path / "m.chainrule")]) == 1
    assert "needs a model of 784 (28x28) or 64 (8x8) inputs and 10 outputs" in capsys.readouterr().err


def test_the_server_binds_localhost_and_stops_cleanly_on_ctrl_c():
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "chainrule", "playground", "--no-browser", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout.readline().strip() == f"chainrule playground: http://127.0.0.1:{port}/  (Ctrl-C stops it)"
        import httpx

        for _ in range(100):
            try:
                key = httpx.post(f"http://127.0.0.1:{port}/api/sessions", json={}).json()["id"]
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        httpx.post(f"http://127.0.0.1:{port}/api/sessions/{key}/play")
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/sessions/{key}/stream") as stream:
            next(stream.iter_lines())  # a stream is open while Ctrl-C arrives
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "chainrule playground: stopped" in out and "Traceback" not in err, err


def test_explain_counts_in_english(client):
    key, _ = new_session(client, hidden=[1], batch_size=1)
    notation = {row[0]: row[2] for row in client.get(f"/api/sessions/{key}/explain").json()["notation"]}
    assert notation["A[0]"] == "the input X: 1 sample (one per row) of 2 features"
    assert notation["W[2]"] == "weights of layer 2: n[1] = 1 input to n[2] = 1 neuron"

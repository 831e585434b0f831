"""The playground end to end in headless Chromium (Debian's package, driven by Playwright for
Python): the page loads with no request leaving 127.0.0.1, training lowers the shown loss,
"step" and "explain" show the trace, and a stroke on the digit pad gets ten probabilities."""

import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright

from chainrule.playground import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ensure_chromium():
    """Debian's Chromium, installed when missing (Playwright's own browser download is not used)."""
    if CHROMIUM.exists():
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        subprocess.run(sudo + command, check=True, env=env, stdout=subprocess.DEVNULL, timeout=900)
    assert CHROMIUM.exists(), f"apt-get installed chromium but {CHROMIUM} is missing"


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(train_mnist=False)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    app.state.close()
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    ensure_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.requests, page.errors = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server)
    expect(page.get_by_test_id("loss-train")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    yield page
    page.close()
    assert page.errors == []


def shown(page, testid):
    return float(page.get_by_test_id(testid).inner_text())


def test_the_page_loads_with_nothing_from_the_network(page):
    for testid in ("dataset", "train", "step", "reset", "loss-train", "loss-test", "boundary", "explain"):
        expect(page.get_by_test_id(testid)).to_be_visible()
    assert page.requests and all(urlparse(u).hostname == "127.0.0.1" or u.startswith("data:")
                                 for u in page.requests), page.requests
    assert page.get_by_test_id("dataset").input_value() == "circles"


def test_training_lowers_the_shown_train_loss(page):
    before = shown(page, "loss-train")
    page.get_by_test_id("train").click()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=loss-train]').textContent) < "
                           f"{0.5 * before}", timeout=20000)
    page.get_by_test_id("train").click()
    assert shown(page, "loss-train") < 0.5 * before
    assert int(page.locator("#step-count").inner_text()) > 10


def test_step_and_explain_show_the_trace(page):
    page.get_by_test_id("step").click()
    expect(page.locator("#step-count")).to_have_text("1")
    page.get_by_test_id("explain").click()
    trace = page.get_by_test_id("explain-trace")
    expect(trace).to_contain_text("Z[1] = A[0] @ W[1] + b[1]")
    for text in ("dW[1] = A[0].T @ dZ[1]", "C = BinaryCrossEntropy(A[3], Y)", "W[1] := W[1] - alpha dW[1]",
                 "finite differences"):
        expect(trace).to_contain_text(text)
    page.get_by_test_id("dataset").select_option("xor")  # a new dataset: the trace follows
    expect(page.locator("#step-count")).to_have_text("0")
    expect(trace).to_contain_text("Z[1] = A[0] @ W[1] + b[1]")


def test_a_stroke_on_the_digit_pad_gets_ten_probabilities(page):
    page.get_by_test_id("tab-digits").click()
    canvas = page.get_by_test_id("digit-canvas")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 90, box["y"] + 60)
    page.mouse.down()
    for x, y in [(190, 60), (120, 230)]:  # a 7
        page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
    page.mouse.up()
    expect(page.get_by_test_id("digit-prediction")).to_have_text(re.compile(r"^[0-9]$"))
    values = page.locator("[data-testid=digit-probabilities] .value").all_inner_texts()
    assert len(values) == 10 and abs(sum(float(v.rstrip("%")) for v in values) - 100) < 1
    page.get_by_test_id("digit-clear").click()
    expect(page.get_by_test_id("digit-prediction")).to_have_text("?")

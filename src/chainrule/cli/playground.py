"""chainrule playground: the page in the browser where a network learns while you watch."""

from __future__ import annotations

import socket
import threading
import webbrowser

from .common import CommandError

HOST = "127.0.0.1"  # the playground is for this machine only


def add_parser(sub):
    parser = sub.add_parser("playground", help="open the playground in the browser: watch a network learn, "
                                               "step through one pass, draw a digit")
    parser.add_argument("--port", type=int, default=8000, help="the port on 127.0.0.1")
    parser.add_argument("--no-browser", action="store_true", help="print the address; do not open a browser")
    parser.add_argument("--model", metavar="RUN", help="a run directory or model file for the digit pad "
                                                       "(default: trained on MNIST here if found, else the 8x8 digits)")
    parser.add_argument("--data-dir", help="where the MNIST files are (for the digit pad's own model)")
    return parser


def run(args):
    try:
        import uvicorn
    except ImportError:
        raise CommandError('the playground needs Starlette and uvicorn: pip install "chainrule[playground]"') from None
    from ..playground import create_app
    from ..validation import check_int

    check_int(args.port, "--port", "chainrule playground", low=1, high=65535)
    model, source = None, None
    if args.model:
        from .common import load_model_or_run

        model, _ = load_model_or_run(args.model)
        if model.n_inputs not in (784, 64) or model.n_outputs != 10:
            raise CommandError(f"--model {args.model}: the digit pad needs a model of 784 (28x28) or 64 (8x8) "
                               f"inputs and 10 outputs; this one has {model.n_inputs} inputs and {model.n_outputs} outputs")
        source = f"{args.model}"
    with socket.socket() as probe:  # a clear message, not a traceback, when the port is taken
        try:
            probe.bind((HOST, args.port))
        except OSError:
            raise CommandError(f"--port {args.port}: the port is in use on {HOST}; pass another, "
                               "e.g. --port 8001") from None
    app = create_app(model, source, data_dir=args.data_dir)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # Ctrl-C: end the open event streams first
            app.state.close()
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(app, host=HOST, port=args.port, log_level="warning",
                                   timeout_graceful_shutdown=3))
    url = f"http://{HOST}:{args.port}/"
    print(f"chainrule playground: {url}  (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        def open_when_up():
            for _ in range(100):
                if server.started:
                    webbrowser.open(url)
                    return
                threading.Event().wait(0.1)
        threading.Thread(target=open_when_up, daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C after it has shut down cleanly
        pass
    print("chainrule playground: stopped")
    return 0

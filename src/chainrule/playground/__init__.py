"""The playground: a page in the browser where chainrule trains a small network on a 2-D
dataset while you watch, shows every number of one step, and reads a digit you draw.

    chainrule playground            (pip install "chainrule[playground]")

``create_app()`` builds the ASGI app (Starlette); the command serves it with uvicorn on
127.0.0.1. Everything the page needs ships in ``static/``: it works with no network.
"""


def create_app(*args, **kwargs):
    """The playground's ASGI app; see ``chainrule.playground.app.create_app``."""
    try:
        from .app import create_app as create
    except ImportError as err:
        if getattr(err, "name", None) in ("starlette", "anyio"):
            raise ImportError('the playground needs Starlette and uvicorn: pip install "chainrule[playground]"') from err
        raise
    return create(*args, **kwargs)


__all__ = ["create_app"]

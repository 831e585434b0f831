"""argparse ``type=`` functions built on validation.py: a flag's bad value is refused by argparse
with the flag named and what was expected (``--samples must be an integer >= 1; received 0``)."""

from __future__ import annotations

import argparse

from ..validation import check_int, check_number


def integer(low=None, high=None):
    """An integer flag in [low, high]."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; received {text!r}") from None
        return _checked(check_int, value, low=low, high=high)
    parse.__name__ = "integer"
    return parse


def number(low=None, high=None, low_open=False):
    """A finite number flag in the interval given (NaN and infinity refused)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number; received {text!r}") from None
        return _checked(check_number, value, low=low, high=high, low_open=low_open)
    parse.__name__ = "number"
    return parse


def _checked(check, value, **bounds):
    try:
        return check(value, "value", "flag", **bounds)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(str(err).split("value ", 1)[1]) from None

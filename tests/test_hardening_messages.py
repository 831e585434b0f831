"""Every error a sentence naming the user's flag or file."""

import errno
import os

import pytest

from chainrule.cli.main import main
from chainrule.io.atomic import atomic_write


@pytest.mark.parametrize("argv, words", [
    (["explain", "--samples", "0"], "argument --samples: must be an integer from 1 to 16; received 0"),
    (["explain", "--decimals", "-5"], "argument --decimals: must be an integer from 0 to 12; received -5"),
    (["explain", "--lr", "nan"], "argument --lr: must be a finite number > 0; received nan"),
    (["gradcheck", "--samples", "-3"], "argument --samples: must be an integer from 1 to 10000; received -3"),
    (["gradcheck", "--tolerance", "nan"], "argument --tolerance: must be a finite number > 0; received nan"),
    (["gradcheck", "--samples", "many"], "argument --samples: must be an integer; received 'many'"),
])
def test_bad_flags_are_refused_naming_the_flag(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and words in capsys.readouterr().err


def test_bench_with_a_missing_data_dir_does_not_fall_back_silently(tmp_path, capsys):
    assert main(["bench", "--quick", "--data-dir", str(tmp_path / "missing")]) == 1
    assert f"--data-dir {tmp_path / 'missing'} is not a folder" in capsys.readouterr().err


def test_a_failed_atomic_write_names_the_users_file(tmp_path, monkeypatch):
    target = tmp_path / "model.chainrule"

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        with atomic_write(target) as f:
            f.write(b"x")
    assert f"cannot write {target}" in str(info.value) and "No space left" in str(info.value)
    assert list(tmp_path.iterdir()) == []

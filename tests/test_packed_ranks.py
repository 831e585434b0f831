"""A packed dataset shared by MPI ranks: each rank reads its own chunks, and across the ranks every
row is seen exactly once per epoch (simulated here: one PackedDataset per rank, same seed)."""

import numpy as np
import pytest

from chainrule.data import PackedDataset, pack

from test_packed import table

CHUNK_MIB = 40 * 20 / 2**20  # chunks of 40 rows (12 bytes of X and 8 of y each)


@pytest.fixture
def packed(tmp_path):
    X, y = table()
    pack((X, y), tmp_path / "p", shard_rows=300)
    return tmp_path / "p", X, y


def epoch_rows(data, batch_size):
    batches = [(Xb.copy(), yb.copy()) for Xb, yb in data.batches(batch_size)]
    rows = np.concatenate([Xb[:, 0] for Xb, _ in batches]).astype(int)
    return rows, np.concatenate([yb for _, yb in batches])


@pytest.mark.parametrize("ranks, window", [(2, 2), (3, 1)])
def test_across_the_ranks_every_row_exactly_once_per_epoch(packed, ranks, window):
    path, X, y = packed
    datasets = [PackedDataset(path, chunk_mib=CHUNK_MIB, window=window, rng=5, rank=r, ranks=ranks) for r in range(ranks)]
    parts_per_epoch = []
    for _ in range(3):
        parts = [epoch_rows(data, 32) for data in datasets]
        rows = np.concatenate([r for r, _ in parts])
        assert sorted(rows) == list(range(len(X)))
        assert all(np.array_equal(labels, y[r]) for r, labels in parts)  # labels travel with their rows
        assert all(len(r) < len(X) for r, _ in parts)  # each rank reads only its share
        parts_per_epoch.append([frozenset(r) for r, _ in parts])
    assert parts_per_epoch[0] != parts_per_epoch[1]  # the chunks go to other ranks in the next epoch


def test_one_rank_of_one_reads_what_the_dataset_alone_reads(packed):
    path, *_ = packed
    alone = PackedDataset(path, chunk_mib=CHUNK_MIB, rng=2)
    one = PackedDataset(path, chunk_mib=CHUNK_MIB, rng=2, rank=0, ranks=1)
    assert all(np.array_equal(epoch_rows(alone, 64)[0], epoch_rows(one, 64)[0]) for _ in range(2))


@pytest.mark.parametrize("rank, ranks, error", [(2, 2, ValueError), (-1, 2, ValueError), (0, 0, ValueError),
                                                (0, 1.5, TypeError)])
def test_a_rank_outside_the_ranks_is_named(packed, rank, ranks, error):
    with pytest.raises(error, match="PackedDataset: (rank|ranks) must be"):
        PackedDataset(packed[0], rank=rank, ranks=ranks)

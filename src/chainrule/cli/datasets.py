"""chainrule datasets: the datasets chainrule knows, where they are, and their checksums."""

from __future__ import annotations


def add_parser(sub):
    parser = sub.add_parser("datasets", help="the datasets chainrule knows, where they are, and their checksums")
    parser.add_argument("--data-dir", help="look here first for the MNIST-family files (as train --data-dir)")
    return parser


def run(args):
    from ..data import GENERATED, mnist
    from ..data.idx import DataFileError

    print(f"{'dataset':<15}{'kind':<12}status")
    print(f"{'digits':<15}{'bundled':<12}ok (1,797 8x8 images inside the package)")
    for name in GENERATED:
        print(f"{name:<15}{'generated':<12}ok (made on demand from the seed)")
    for name in mnist.DATASETS:
        found, problems = [], []
        for stem in mnist.PARTS.values():
            path = mnist.find_file(name, stem, args.data_dir)
            if path is None:
                problems.append(f"{stem} missing")
                continue
            try:
                mnist.verify(name, path)
                found.append(path)
            except DataFileError:
                problems.append(f"{path} checksum mismatch")
        if problems:
            status = "; ".join(problems) + " (downloaded into the cache on first use)"
        else:
            status = f"ok, checksums verified, in {found[0].parent}"
        print(f"{name:<15}{'IDX files':<12}{status}")
    print(f"{'csv':<15}{'your file':<12}chainrule train --csv FILE (features, then a label column)")
    print(f"{'images':<15}{'your folder':<12}chainrule train --images DIR (DIR/train/<class>/*.png)")
    print(f"search order: --data-dir, CHAINRULE_DATA, the cache ({mnist.cache_dir()}), then a download")
    return 0

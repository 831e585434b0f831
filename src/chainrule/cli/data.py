"""chainrule data pack: a dataset (IDX files, a CSV, an image folder), streamed into .npy shards and an index,
to train larger-than-memory."""

from __future__ import annotations


def add_parser(sub):
    parser = sub.add_parser("data", help="prepare datasets: data pack SRC OUT (shards for datasets larger than memory)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    pack = actions.add_parser("pack", help="SRC (a folder of MNIST-family IDX files, an IDX images file, an image "
                                          "folder DIR/train/<class>/, or a CSV) into OUT: .npy shards and index.json, "
                                          "for chainrule train --packed OUT; SRC is streamed, one shard in memory")
    pack.add_argument("source", metavar="SRC")
    pack.add_argument("out", metavar="OUT")
    pack.add_argument("--shard-rows", type=int,
                      help="rows per shard (default: about 256 MiB of inputs each; packing holds one shard)")
    pack.add_argument("--label", default="-1", help="the CSV label column (name or index; default -1, the last)")
    pack.add_argument("--overwrite", action="store_true", help="replace a packed dataset already in OUT")
    return parser


def run(args):
    from ..data.packed import pack

    label = int(args.label) if args.label.lstrip("-").isdigit() else args.label
    index = pack(args.source, args.out, shard_rows=args.shard_rows, label=label, overwrite=args.overwrite)
    for split, info in index["splits"].items():
        print(f"{split}: {info['rows']:,} rows in {len(info['shards'])} shard{'s' if len(info['shards']) != 1 else ''}")
    print(f"-> {args.out} (train from it: chainrule train --packed {args.out})")
    return 0

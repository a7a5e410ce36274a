"""The ``semcom`` command-line tool.

``semcom <command> --help`` describes each command. ``main(argv)`` returns an exit status
instead of exiting, so tests call it directly.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

__all__ = ["main"]


def _add_common(p: argparse.ArgumentParser, dataset=True):
    if dataset:
        p.add_argument("--dataset", choices=["mnist", "cifar10"], default="mnist")
    p.add_argument("--data", metavar="DIR", default=None,
                   help="dataset root (default: $SEMCOM_DATA, else ~/.cache/semcom)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")


def _add_training(p: argparse.ArgumentParser, epochs: int, patience: int):
    p.add_argument("--epochs", type=int, default=epochs, help=f"maximum epochs (default {epochs})")
    p.add_argument("--patience", type=int, default=patience,
                   help=f"stop after this many epochs without a better validation loss (default {patience})")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-size", type=int, default=5000, help="images held out for validation")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file written every epoch; an existing one is resumed")
    p.add_argument("--out", required=True, help="where to write the trained model (.pt)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semcom", description="gr-semcom: AESC-I semantic communication of images")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("download", help="download a dataset (needs internet; checksums verified)")
    p.add_argument("dataset", choices=["mnist", "cifar10"])
    p.add_argument("--data", metavar="DIR", default=None)

    p = sub.add_parser("train-classifier", help="train the classifier M of a dataset")
    _add_common(p)
    _add_training(p, epochs=15, patience=4)

    p = sub.add_parser("train", help="train an AESC-I encoder/decoder with the semantic loss")
    _add_common(p)
    p.add_argument("--zdim", type=int, required=True, help="latent size (MNIST: Cr = 784/zdim)")
    p.add_argument("--gamma", type=float, default=None,
                   help="semantic-loss weight γ (default 0.5 MNIST, 0.1 CIFAR-10)")
    p.add_argument("--classifier", default=None, help="classifier .pt (default: the shipped one)")
    p.add_argument("--init-from", default=None, metavar="MODEL",
                   help="warm-start from a trained AESC-I .pt (tensors of matching shape)")
    _add_training(p, epochs=60, patience=5)

    p = sub.add_parser("evaluate", help="noiseless-link figures on the full test set")
    _add_common(p)
    p.add_argument("--zdim", type=int, default=40)
    p.add_argument("--model", default=None, help="AESC-I .pt (default: the shipped one)")
    p.add_argument("--classifier", default=None, help="classifier .pt (default: the shipped one)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")

    p = sub.add_parser("blob", help="write or inspect a decoder model blob")
    p.add_argument("--dataset", choices=["mnist", "cifar10"], default="mnist")
    p.add_argument("--zdim", type=int, default=40)
    p.add_argument("--model", default=None, help="AESC-I .pt (default: the shipped one)")
    p.add_argument("--out", default=None, help="write the blob here")
    p.add_argument("--inspect", metavar="FILE", default=None, help="parse and describe a blob file")

    p = sub.add_parser("demo", help="shipped sample through the model; writes images and metrics")
    p.add_argument("--zdim", type=int, default=40)
    p.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    return parser


def _threads(args):
    import torch

    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)


def _train_config(args):
    from .train import TrainConfig

    return TrainConfig(
        dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, patience=args.patience, val_size=args.val_size, device=args.device,
        data_root=args.data, max_steps=args.max_steps, progress=not args.quiet,
    )


def _cmd_download(args):
    from . import datasets as ds

    root = ds.download(args.dataset, args.data)
    print(f"{args.dataset} is in {root}")
    return 0


def _cmd_train_classifier(args):
    from .evaluate import classify
    from . import datasets as ds
    from .train import train_classifier

    model, history = train_classifier(_train_config(args), out=args.out, checkpoint=args.checkpoint)
    test = ds.load(args.dataset, "test", root=args.data)
    acc = float((classify(model, test.images) == test.labels).mean())
    print(json.dumps({"out": args.out, "epochs": len(history), "test_accuracy": acc}))
    return 0


def _cmd_train(args):
    from .train import train_aesc
    from .zoo import load_aesc, load_classifier

    classifier = load_classifier(args.dataset, args.classifier)
    init = load_aesc(args.dataset, path=args.init_from).state_dict() if args.init_from else None
    _, history = train_aesc(_train_config(args), args.zdim, classifier, gamma=args.gamma,
                            out=args.out, checkpoint=args.checkpoint, init_from=init)
    best = min(history, key=lambda r: r["val_loss"]) if history else {}
    print(json.dumps({"out": args.out, "epochs": len(history), "best": best}))
    return 0


def _cmd_evaluate(args):
    from . import datasets as ds
    from .evaluate import evaluate_model
    from .zoo import load_aesc, load_classifier

    model = load_aesc(args.dataset, args.zdim, args.model)
    classifier = load_classifier(args.dataset, args.classifier)
    test = ds.load(args.dataset, "test", root=args.data)
    images, labels = test.images, test.labels
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
    result = evaluate_model(model, classifier, images, labels)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:32s} {value}")
    return 0


def _cmd_blob(args):
    from .blob import blob_from_aesc, describe, parse_blob
    from .zoo import load_aesc

    if args.inspect:
        print(describe(parse_blob(Path(args.inspect).read_bytes())))
        return 0
    blob = blob_from_aesc(load_aesc(args.dataset, args.zdim, args.model))
    if args.out:
        Path(args.out).write_bytes(blob)
        print(f"wrote {len(blob)} bytes to {args.out}")
    print(describe(parse_blob(blob)))
    return 0


def _cmd_demo(args):
    from .demo import run_demo

    summary = run_demo(args.zdim, args.out)
    print(json.dumps(summary, indent=2))
    return 0


COMMANDS = {
    "download": _cmd_download,
    "train-classifier": _cmd_train_classifier,
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "blob": _cmd_blob,
    "demo": _cmd_demo,
}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    _threads(args)
    from .blob import BlobError
    from .datasets import DatasetError
    from .zoo import ModelFileError

    try:
        return COMMANDS[args.command](args)
    except (DatasetError, ModelFileError, BlobError, ValueError) as exc:
        print(f"semcom {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

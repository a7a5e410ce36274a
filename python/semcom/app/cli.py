# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``semcom`` command-line tool.

``semcom <command> --help`` describes each command. ``main(argv)`` returns an exit status
instead of exiting, so tests call it directly. The choices of every option come from
:mod:`gnuradio.semcom.core.registry`. ``semcom sweep`` is the one command that needs GNU
Radio (its flowgraphs with ``--engine gnuradio``, its LDPC alist files with either engine),
imported when a point runs, so the other commands work where GNU Radio is not installed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ..core import registry
from ..core.uep import parse_packet_codes

__all__ = ["main"]

_DATASETS = registry.keys(registry.DATASETS)
_SCHEMES = registry.keys(registry.SCHEMES)
_CHANNELS = registry.keys(registry.CHANNELS)


def _add_common(p: argparse.ArgumentParser, dataset=True):
    if dataset:
        p.add_argument("--dataset", choices=_DATASETS, default="mnist")
    p.add_argument("--data", metavar="DIR", default=None,
                   help="dataset root (default: $SEMCOM_DATA, else ~/.cache/semcom)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: cpu)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")


def _add_training(p: argparse.ArgumentParser, epochs: int, patience: int):
    p.add_argument("--epochs", type=int, default=epochs, help=f"maximum epochs (default {epochs})")
    p.add_argument("--patience", type=int, default=patience,
                   help="stop after this many epochs without a better validation loss "
                        f"(default {patience})")
    p.add_argument("--batch-size", type=int, default=None,
                   help="images per step (default 256; 128 for CIFAR-10 AESC-I, as the paper)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: Adam 1e-3; CIFAR-10 classifier: one-cycle SGD "
                        "peak 0.2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-size", type=int, default=5000, help="images held out for validation")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop after this many optimiser steps")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file written every --checkpoint-every steps and each epoch; "
                        "an existing one is resumed")
    p.add_argument("--checkpoint-every", type=int, default=200, metavar="STEPS",
                   help="optimiser steps between checkpoints (default 200)")
    p.add_argument("--out", required=True, help="where to write the trained model (.pt)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semcom", description="gr-semcom: AESC-I semantic communication of images")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("download", help="download a dataset (needs internet; checksums verified)")
    p.add_argument("dataset", choices=_DATASETS)
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

    p = sub.add_parser("export-model",
                       help="copy a trained model file for shipping (float16 storage)")
    p.add_argument("model", help="a .pt file written by train or train-classifier")
    p.add_argument("--out", required=True, help="where to write the compact copy")
    p.add_argument("--float32", action="store_true", help="keep float32 storage")

    p = sub.add_parser("evaluate", help="noiseless-link figures on the full test set")
    _add_common(p)
    p.add_argument("--zdim", type=int, default=40)
    p.add_argument("--model", default=None, help="AESC-I .pt (default: the shipped one)")
    p.add_argument("--classifier", default=None, help="classifier .pt (default: the shipped one)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--lpips-backbone", default=None, metavar="FILE",
                   help="ImageNet AlexNet checkpoint for LPIPS (default: $SEMCOM_LPIPS_BACKBONE, "
                        "else torch hub's cache)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")

    p = sub.add_parser("blob", help="write or inspect a decoder model blob")
    p.add_argument("--dataset", choices=_DATASETS, default="mnist")
    p.add_argument("--zdim", type=int, default=40)
    p.add_argument("--model", default=None, help="AESC-I .pt (default: the shipped one)")
    p.add_argument("--out", default=None, help="write the blob here")
    p.add_argument("--inspect", metavar="FILE", default=None,
                   help="parse and describe a blob file (blob, update, signed or not)")
    p.add_argument("--sign", metavar="PRIVATE_KEY_FILE", default=None,
                   help="sign the blob (or update) with this Ed25519 key (semcom keygen)")
    p.add_argument("--trust", metavar="PUBLIC_KEY", action="append", default=[],
                   help="with --inspect: exit 1 unless the file is signed by this key "
                        "(PEM file or 64 hex digits; repeatable)")
    p.add_argument("--update-from", metavar="BASE_FILE", default=None,
                   help="write an update against this base blob instead of the full blob")

    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing decoder blobs")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for semcom-ed25519.key (private) and semcom-ed25519.pub")

    p = sub.add_parser("sweep", help="the paper's evaluation grid through the link "
                                     "(resumable; one results JSON)")
    p.add_argument("--out", required=True, help="results JSON (resumed when it exists)")
    p.add_argument("--name", default=None, help="name stored in the results (default: file stem)")
    p.add_argument("--description", default="")
    p.add_argument("--dataset", choices=_DATASETS, default="mnist")
    p.add_argument("--data", metavar="DIR", default=None,
                   help="dataset root (default: $SEMCOM_DATA, else ~/.cache/semcom)")
    p.add_argument("--schemes", default=",".join(_SCHEMES),
                   help=f"comma list of {', '.join(_SCHEMES)} (default: all)")
    p.add_argument("--cr", default="20", help="comma list of compression ratios (default 20)")
    p.add_argument("--channel", default="awgn",
                   help=f"comma list of {', '.join(_CHANNELS)} (default awgn)")
    p.add_argument("--snr", default="-3,-2,-1,0,2", help="comma list of Es/N0 values in dB")
    p.add_argument("--num-images", type=int, default=2000,
                   help="first N test images (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="noise/fading seed of the sweep")
    p.add_argument("--workers", type=int, default=1, help="points run in parallel processes")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the points on this Dask distributed scheduler's workers instead "
                        "of local processes (README: Sweeping on a cluster)")
    p.add_argument("--engine", choices=registry.keys(registry.ENGINES), default="fast",
                   help="fast: the batched array engine (default); gnuradio: the GNU Radio "
                        "flowgraph, the reference (needed for --waveform full)")
    p.add_argument("--decoder", choices=registry.keys(registry.DECODERS), default="numba",
                   help="fast engine's LDPC decoder: numba (CPU, default) or torch")
    p.add_argument("--device", default="cpu",
                   help="fast engine, torch decoder: cpu or cuda[:N] (default cpu)")
    p.add_argument("--waveform", choices=registry.keys(registry.WAVEFORMS), default="symbol",
                   help="symbol-level link (default) or the full burst waveform (gnuradio "
                        "engine only)")
    p.add_argument("--modulation", choices=registry.keys(registry.MODULATIONS), default="bpsk")
    p.add_argument("--code", choices=registry.keys(registry.LDPC_CODES),
                   default=registry.DEFAULT_CODE,
                   help=f"stock LDPC code (default {registry.DEFAULT_CODE})")
    p.add_argument("--packet-code", action="append", default=[], metavar="KIND=CODE",
                   help="unequal error protection: send this packet kind ("
                        f"{', '.join(registry.keys(registry.PACKET_KINDS))}) with this LDPC "
                        "code instead of --code, e.g. model_segment=n0500_r025 (repeatable)")
    p.add_argument("--carousel-every", type=int, default=500,
                   help="AESC-I: send the decoder blob again every N codes (default 500)")
    p.add_argument("--segment-size", type=int, default=1024,
                   help="AESC-I: model-blob bytes per packet (default 1024)")
    p.add_argument("--taps", default="1.0", help="multipath taps, comma list of complex numbers")
    p.add_argument("--freq-offset", type=float, default=0.0, help="full waveform: cycles/sample")
    p.add_argument("--timing-offset", type=float, default=1.0,
                   help="full waveform: resampling ratio")
    p.add_argument("--examples-per-class", type=int, default=1,
                   help="received images kept per class for the image grids")
    p.add_argument("--lpips-backbone", default=None, metavar="FILE",
                   help="torchvision AlexNet checkpoint for LPIPS "
                        "(default: $SEMCOM_LPIPS_BACKBONE, else torch hub's cache)")
    p.add_argument("--model", action="append", default=[], metavar="ZDIM=PATH",
                   help="use this AESC-I .pt for a zdim instead of the shipped one (repeatable)")
    p.add_argument("--limit-points", type=int, default=None, help="run at most N new points")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("plot", help="the paper's figures from sweep results (PNG)")
    p.add_argument("results", nargs="+", help="results JSON files from `semcom sweep`")
    p.add_argument("--out", default="figures", help="output folder (default figures)")
    p.add_argument("--figures", default="all",
                   help="comma list of fig4, fig5, fig6, fig7, fig8, waterfall, fig5_waveforms "
                        "(default all: these), cost (the decoder's cost, from a sweep made "
                        "for it: scripts/reproduce-mnist) and uep (unequal error protection)")

    p = sub.add_parser("table", help="a Markdown table of one metric from sweep results")
    p.add_argument("results", nargs="+", help="results JSON files from `semcom sweep`")
    p.add_argument("--metric", default="ratio",
                   help="ratio (default), psnr-ssim, lpips, lost (images lost + failed) or all")
    p.add_argument("--by", choices=("scheme", "cr"), default="scheme",
                   help="columns: the schemes at one Cr (default) or the ratios")
    p.add_argument("--channel", default=None, help="the channel, when the files hold several")
    p.add_argument("--cr", type=float, default=None,
                   help="the compression ratio, when the files hold several (--by scheme)")

    p = sub.add_parser("demo", help="shipped sample through the model; writes images and metrics")
    p.add_argument("--zdim", type=int, default=40)
    p.add_argument("--out", default="demo-output", help="output folder (default demo-output)")

    _add_zmq_clients(sub)
    return parser


def _add_zmq_clients(sub):
    from .zmqclients import DEFAULT_RX_ADDRESS, DEFAULT_TX_ADDRESS, FIRST_ID

    p = sub.add_parser("listen", help="save or show the images a running receiver flowgraph "
                                      "publishes over ZMQ (zmq_rx, sigmf_rx --image-address)")
    p.add_argument("address", nargs="?", default=DEFAULT_RX_ADDRESS,
                   help=f"the receiver's --image-address (default {DEFAULT_RX_ADDRESS})")
    p.add_argument("--out-dir", default=None, help="write image_<id>.png files here")
    p.add_argument("--show", action="store_true", help="show each image in a window")
    p.add_argument("--json", action="store_true", help="print each image's metadata as JSON")
    p.add_argument("--count", type=int, default=0, help="stop after N images (default 0: no "
                                                        "limit, Ctrl-C ends)")
    p.add_argument("--timeout", type=float, default=0.0,
                   help="stop after this many seconds without an image (default 0: never)")

    p = sub.add_parser("send", help="send image files to a running transmitter flowgraph over "
                                    "ZMQ (zmq_tx --image-address)")
    p.add_argument("address", help=f"the transmitter's --image-address (zmq_tx default "
                                   f"{DEFAULT_TX_ADDRESS})")
    p.add_argument("files", nargs="+", help="image files (PNG or any format Pillow reads; a "
                                            "name ending in _label<d> gives the label)")
    p.add_argument("--dataset", choices=_DATASETS, default=None,
                   help="convert the images to this dataset's shape (gray 28x28 for mnist, "
                        "RGB 32x32 for cifar10); default: send them as they are")
    p.add_argument("--first-id", type=int, default=FIRST_ID,
                   help=f"image_id of the first image (default {FIRST_ID}, above the ids of "
                        "the transmitter's own image source)")
    p.add_argument("--interval", type=float, default=0.0, help="seconds between images")
    p.add_argument("--connect-timeout", type=float, default=10.0,
                   help="seconds to wait for the transmitter (default 10)")


def _floats(text, what):
    try:
        return [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{what} must be a comma list of numbers, got {text!r}") from None


def _threads(args):
    import torch

    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)


def _train_config(args):
    from ..core.train import TrainConfig

    return TrainConfig(
        dataset=args.dataset, epochs=args.epochs, lr=args.lr,
        batch_size=args.batch_size or (
            128 if args.dataset == "cifar10" and args.command == "train" else 256),
        seed=args.seed, patience=args.patience, val_size=args.val_size, device=args.device,
        data_root=args.data, max_steps=args.max_steps, checkpoint_every=args.checkpoint_every,
        progress=not args.quiet,
    )


def _cmd_download(args):
    from ..core import datasets as ds

    root = ds.download(args.dataset, args.data)
    print(f"{args.dataset} is in {root}")
    return 0


def _cmd_train_classifier(args):
    from ..core.evaluate import classify
    from ..core import datasets as ds
    from ..core.train import train_classifier

    model, history = train_classifier(_train_config(args), out=args.out, checkpoint=args.checkpoint)
    test = ds.load(args.dataset, "test", root=args.data)
    acc = float((classify(model, test.images) == test.labels).mean())
    print(json.dumps({"out": args.out, "epochs": len(history), "test_accuracy": acc}))
    return 0


def _cmd_train(args):
    from ..core.train import train_aesc
    from ..core.zoo import load_aesc, load_classifier

    classifier = load_classifier(args.dataset, args.classifier)
    init = load_aesc(args.dataset, path=args.init_from).state_dict() if args.init_from else None
    _, history = train_aesc(_train_config(args), args.zdim, classifier, gamma=args.gamma,
                            out=args.out, checkpoint=args.checkpoint, init_from=init)
    best = min(history, key=lambda r: r["val_loss"]) if history else {}
    print(json.dumps({"out": args.out, "epochs": len(history), "best": best}))
    return 0


def _cmd_evaluate(args):
    from ..core import datasets as ds
    from ..core.evaluate import evaluate_model
    from ..core.scoring import load_scorer
    from ..core.zoo import load_aesc, load_classifier

    model = load_aesc(args.dataset, args.zdim, args.model)
    classifier = load_classifier(args.dataset, args.classifier)
    test = ds.load(args.dataset, "test", root=args.data)
    images, labels = test.images, test.labels
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
    scorer, reason = load_scorer(args.lpips_backbone)
    result = evaluate_model(model, classifier, images, labels, lpips=scorer, lpips_reason=reason)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:32s} {value}")
    return 0


def _cmd_blob(args):
    from .blobtool import cmd_blob

    return cmd_blob(args)


def _cmd_keygen(args):
    from .blobtool import cmd_keygen

    return cmd_keygen(args)


def _cmd_sweep(args):
    from ..core.grid import SweepConfig
    from .sweep import run_sweep

    models = {}
    for item in args.model:
        zdim, sep, path = item.partition("=")
        if not sep or not zdim.isdigit():
            raise ValueError(f"--model takes ZDIM=PATH, got {item!r}")
        models[zdim] = path
    crs = [int(c) if c == int(c) else c for c in _floats(args.cr, "--cr")]
    cfg = SweepConfig(
        name=args.name or Path(args.out).stem, description=args.description, dataset=args.dataset,
        schemes=[s.strip() for s in args.schemes.split(",") if s.strip()], crs=crs,
        channels=[c.strip() for c in args.channel.split(",") if c.strip()],
        snrs=_floats(args.snr, "--snr"), num_images=args.num_images, seed=args.seed,
        engine=args.engine, decoder=args.decoder, device=args.device, waveform=args.waveform,
        modulation=args.modulation, code=args.code,
        packet_codes=parse_packet_codes(",".join(args.packet_code)),
        carousel_every=args.carousel_every, segment_size=args.segment_size,
        taps=[complex(t.replace(" ", "")) if "j" in t else float(t) for t in args.taps.split(",")],
        freq_offset=args.freq_offset, timing_offset=args.timing_offset,
        examples_per_class=args.examples_per_class, lpips_backbone=args.lpips_backbone,
        models=models, data_root=args.data)
    if any(isinstance(t, complex) for t in cfg.taps):
        cfg.taps = [[t.real, t.imag] if isinstance(t, complex) else t for t in cfg.taps]
    results = run_sweep(cfg, args.out, workers=args.workers, progress=not args.quiet,
                        limit_points=args.limit_points, scheduler=args.scheduler)
    wall = sum(p["wall_s"] for p in results["points"])
    bits = sum(p["packet_bits"] for p in results["points"])
    link_s = sum(p["link"]["wall_s"] for p in results["points"])
    print(json.dumps({"out": args.out, "points": len(results["points"]),
                      "point_seconds": round(wall, 1),
                      "link_info_bits_per_s": round(bits / link_s) if link_s else None,
                      "lpips": results["lpips"]}))
    return 0


def _cmd_plot(args):
    from .plots import plot_results

    written = plot_results(args.results, args.out,
                           [f.strip() for f in args.figures.split(",") if f.strip()])
    for path in written:
        print(path)
    return 0


def _cmd_export_model(args):
    from ..core.zoo import export_model

    meta = export_model(args.model, args.out, half=not args.float32)
    size = Path(args.out).stat().st_size
    print(json.dumps({"out": args.out, "bytes": size, "meta": meta}))
    return 0


def _cmd_demo(args):
    from .demo import run_demo

    summary = run_demo(args.zdim, args.out)
    print(json.dumps(summary, indent=2))
    return 0


def _cmd_table(args):
    from .tables import table

    print(table(args.results, metric=args.metric, by=args.by, channel=args.channel, cr=args.cr),
          end="")
    return 0


def _cmd_listen(args):
    from .zmqclients import listen

    summary = listen(args.address, out_dir=args.out_dir, count=args.count,
                     timeout_s=args.timeout, show=args.show, json_lines=args.json)
    print(json.dumps({k: v for k, v in summary.items() if k != "files"}), file=sys.stderr)
    return 0


def _cmd_send(args):
    from .zmqclients import send

    summary = send(args.address, args.files, dataset=args.dataset, first_id=args.first_id,
                   interval_s=args.interval, connect_timeout_s=args.connect_timeout)
    print(json.dumps(summary))
    return 0


COMMANDS = {
    "download": _cmd_download,
    "train-classifier": _cmd_train_classifier,
    "train": _cmd_train,
    "export-model": _cmd_export_model,
    "evaluate": _cmd_evaluate,
    "blob": _cmd_blob,
    "keygen": _cmd_keygen,
    "demo": _cmd_demo,
    "sweep": _cmd_sweep,
    "plot": _cmd_plot,
    "table": _cmd_table,
    "listen": _cmd_listen,
    "send": _cmd_send,
}


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    _threads(args)
    from ..core.blob import BlobError
    from ..core.datasets import DatasetError
    from ..core.zoo import ModelFileError

    try:
        return COMMANDS[args.command](args)
    except (DatasetError, ModelFileError, BlobError, ValueError, OSError) as exc:
        print(f"semcom {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

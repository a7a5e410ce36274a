# Copyright 2026 The gr-semcom authors
# SPDX-License-Identifier: GPL-3.0-or-later

"""Training of the classifiers M and of the AESC-I encoder/decoder.

AESC-I loss (paper eq. 10 / 14)::

    L = γ · L_SE + (1 − γ) · L_pixel
    L_SE = MSE(M(S).features, M(Ŝ).features)       (penultimate layer of the classifier)
    L_pixel = BCE(Ŝ, S) for MNIST (γ = 0.5), MSE(Ŝ, S) for CIFAR-10 (γ = 0.1)

The latent is quantized to 8 bits in the forward pass (straight-through), as on the link.
A validation split is held out of the training set; training stops when the validation
loss has not improved for ``patience`` epochs, and the best epoch's weights are kept.
The learning rate drops by 0.3× after two epochs without improvement.
A checkpoint is written after each epoch; passing the same ``checkpoint`` path again
resumes from it.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import datasets as ds
from .models import AESC, Classifier

log = logging.getLogger(__name__)

__all__ = ["TrainConfig", "semantic_loss", "aesc_loss", "train_classifier", "train_aesc",
           "warm_start"]

DEFAULT_GAMMA = {"mnist": 0.5, "cifar10": 0.1}


@dataclass
class TrainConfig:
    """Options shared by both trainers (the CLI exposes each one)."""

    dataset: str = "mnist"
    epochs: int = 50
    batch_size: int = 256
    lr: float | None = None  # None: the recipe's own (Adam 1e-3; one-cycle SGD 0.2)
    seed: int = 0
    patience: int = 4
    val_size: int = 5000
    device: str = "cpu"
    data_root: str | None = None
    max_steps: int | None = None  # stop after this many optimiser steps (tests, smoke runs)
    checkpoint_every: int = 200  # optimiser steps between checkpoints (and at each epoch end)
    progress: bool = True  # progress bars
    report_epochs: bool = True  # one line per epoch on stderr, also without progress bars
    extra: dict = field(default_factory=dict)


def semantic_loss(classifier: Classifier, recon: torch.Tensor, target_features: torch.Tensor):
    """L_SE: MSE between M's penultimate features of the reconstruction and of the original."""
    return F.mse_loss(classifier(recon)["features"], target_features)


def aesc_loss(dataset, classifier, recon, images, target_features, gamma):
    """Full AESC-I loss; returns ``(total, semantic, pixel)``."""
    l_se = semantic_loss(classifier, recon, target_features)
    if dataset == "mnist":
        l_pix = F.binary_cross_entropy(recon.clamp(1e-6, 1 - 1e-6), images)
    else:
        l_pix = F.mse_loss(recon, images)
    return gamma * l_se + (1 - gamma) * l_pix, l_se, l_pix


def _device(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available on this machine; use cpu")
    if not (name == "cpu" or name.startswith("cuda")):
        raise ValueError(f"--device must be cpu or cuda[:N], got {name!r}")
    return torch.device(name)


def _split(cfg: TrainConfig):
    train = ds.load(cfg.dataset, "train", root=cfg.data_root)
    if not 0 < cfg.val_size < len(train):
        raise ValueError(f"val_size must be in (0, {len(train)}), got {cfg.val_size}")
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(train))
    val_idx, train_idx = order[: cfg.val_size], order[cfg.val_size:]
    return (train.images[train_idx], train.labels[train_idx],
            train.images[val_idx], train.labels[val_idx])


def _batches(n, batch_size, rng=None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def _progress(iterable, enabled, **kw):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, leave=False, dynamic_ncols=True, **kw)


def _random_shift(x: torch.Tensor, generator: torch.Generator, max_shift: int = 2):
    """Augmentation for the classifier: translate each image by up to ``max_shift`` pixels."""
    n = x.shape[0]
    padded = F.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    h, w = x.shape[-2:]
    rows = (dy[:, None] + torch.arange(h)[None]).to(x.device)
    cols = (dx[:, None] + torch.arange(w)[None]).to(x.device)
    idx_n = torch.arange(n, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[idx_n, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


class _Checkpoint:
    """Per-epoch checkpoint: model, optimiser, epoch, best weights, history."""

    def __init__(self, path):
        self.path = Path(path) if path else None

    def load(self):
        if self.path and self.path.is_file():
            return torch.load(self.path, map_location="cpu", weights_only=True)
        return None

    def save(self, state):
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            torch.save(state, tmp)
            tmp.replace(self.path)


class Recipe:
    """Optimiser and learning-rate schedule of one training run.

    The default, for the AESC-I models and the MNIST classifier, is the paper's Adam at
    ``cfg.lr`` with the learning rate dropped 0.3× when the validation loss stalls (stepped
    once per epoch). :class:`OneCycleRecipe` steps its schedule after every batch.
    """

    per_step = False
    early_stop = True
    default_lr = 1e-3

    def lr(self, cfg):
        return self.default_lr if cfg.lr is None else float(cfg.lr)

    def make(self, cfg, params, steps_per_epoch):
        opt = torch.optim.Adam(params, lr=self.lr(cfg))
        return opt, torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.3, patience=1)

    def epoch_end(self, sched, val_loss):
        sched.step(val_loss)


class OneCycleRecipe(Recipe):
    """Nesterov SGD with a one-cycle learning rate (fast training of the CIFAR-10 classifier).

    The learning rate rises linearly from ``lr / 25`` to ``lr`` (default 0.2) over the first
    ``warmup`` of the run, then falls linearly to almost zero at the last step of
    ``cfg.epochs``; early stopping is off (the schedule fixes the length of the run).
    """

    per_step = True
    early_stop = False
    default_lr = 0.2

    def __init__(self, momentum=0.9, weight_decay=5e-4, warmup=0.25):
        self.momentum, self.weight_decay, self.warmup = momentum, weight_decay, warmup

    def make(self, cfg, params, steps_per_epoch):
        params = [p for p in params if p.requires_grad]
        opt = torch.optim.SGD(params, lr=self.lr(cfg), momentum=self.momentum, nesterov=True,
                              weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.lr(cfg), total_steps=cfg.epochs * steps_per_epoch,
            pct_start=self.warmup, anneal_strategy="linear", cycle_momentum=False)
        return opt, sched

    def epoch_end(self, sched, val_loss):
        pass


def _epoch_order(cfg, epoch):
    """Batch order of one epoch: a function of the seed and the epoch only, so that a run
    resumed from a checkpoint in the middle of an epoch sees the same batches."""
    return np.random.default_rng([cfg.seed, epoch])


def _fit(cfg, model, step_fn, val_fn, checkpoint, describe, recipe=None):
    """Generic loop: epochs of ``step_fn`` with validation, early stopping and checkpoints.

    A checkpoint is written every ``cfg.checkpoint_every`` steps and at the end of each
    epoch; a run started with an existing checkpoint resumes at the step it recorded.
    """
    recipe = recipe or Recipe()
    device = _device(cfg.device)
    model.to(device)
    steps_per_epoch = step_fn.steps_per_epoch()
    opt, sched = recipe.make(cfg, model.parameters(), steps_per_epoch)
    ckpt = _Checkpoint(checkpoint)
    state = ckpt.load()
    epoch, best, best_state, history, bad_epochs, steps = 0, math.inf, None, [], 0, 0
    done_in_epoch, partial = 0, (0.0, 0, 0.0)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        epoch, best, history = state["epoch"], state["best"], state["history"]
        best_state, bad_epochs, steps = state["best_model"], state["bad_epochs"], state["steps"]
        done_in_epoch = state.get("done_in_epoch", 0)
        partial = tuple(state.get("partial", partial))
        log.info("resumed %s from %s at epoch %d, step %d", describe, checkpoint, epoch, steps)

    def save():
        ckpt.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                   "scheduler": sched.state_dict(), "epoch": epoch,
                   "best": best, "history": history, "best_model": best_state,
                   "bad_epochs": bad_epochs, "steps": steps, "done_in_epoch": done_in_epoch,
                   "partial": list(partial), "config": asdict(cfg)})

    while epoch < cfg.epochs and (bad_epochs < cfg.patience or not recipe.early_stop):
        if cfg.max_steps is not None and steps >= cfg.max_steps:
            break
        model.train()
        total, count, seconds = partial
        batches = list(step_fn.batches(_epoch_order(cfg, epoch)))[done_in_epoch:]
        bar = _progress(batches, cfg.progress, desc=f"{describe} epoch {epoch + 1}")
        t0 = time.time()
        for batch in bar:
            # Augmentation and dropout draw from seeds of the step number: a resumed run
            # takes exactly the steps that an uninterrupted one would have.
            gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + steps)
            torch.manual_seed(cfg.seed * 1_000_003 + steps + 1)
            loss = step_fn(batch, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if recipe.per_step:
                sched.step()
            total += loss.item() * len(batch)
            count += len(batch)
            steps += 1
            done_in_epoch += 1
            if cfg.progress:
                bar.set_postfix(loss=f"{total / count:.4f}")
            if cfg.checkpoint_every and steps % cfg.checkpoint_every == 0:
                partial = (total, count, seconds + time.time() - t0)
                save()
            if cfg.max_steps is not None and steps >= cfg.max_steps:
                break
        seconds += time.time() - t0
        if done_in_epoch < steps_per_epoch:  # stopped by max_steps in the middle of an epoch
            partial = (total, count, seconds)
            save()
            break
        model.eval()
        with torch.no_grad():
            val = val_fn()
        epoch += 1
        done_in_epoch, partial = 0, (0.0, 0, 0.0)
        record = {"epoch": epoch, "train_loss": total / max(count, 1), **val,
                  "lr": opt.param_groups[0]["lr"], "seconds": round(seconds, 1)}
        recipe.epoch_end(sched, val["val_loss"])
        history.append(record)
        log.info("%s %s", describe, record)
        if cfg.progress or cfg.report_epochs:
            print(f"{describe} epoch {epoch}: " + ", ".join(
                f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()
                if k != "epoch"), file=sys.stderr, flush=True)  # stdout is for results
        if val["val_loss"] < best - 1e-6:
            best, bad_epochs = val["val_loss"], 0
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        else:
            bad_epochs += 1
        save()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.to("cpu").eval()
    return history


def _random_flip(x: torch.Tensor, generator: torch.Generator):
    """Augmentation: mirror each image left-right with probability 1/2."""
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    return torch.where(flip[:, None, None, None].to(x.device), x.flip(3), x)


class _ClassifierSteps:
    """One classifier step: shifts (MNIST), or flips and ±2-pixel shifts with label
    smoothing 0.2 (CIFAR-10)."""

    def __init__(self, cfg, model, x, y, device):
        self.cfg, self.model, self.x, self.y, self.device = cfg, model, x, y, device
        self.smoothing = 0.2 if cfg.dataset == "cifar10" else 0.0

    def steps_per_epoch(self):
        return math.ceil(len(self.y) / self.cfg.batch_size)

    def batches(self, rng):
        return _batches(len(self.y), self.cfg.batch_size, rng)

    def __call__(self, idx, gen):
        x = _random_shift(ds.to_tensor(self.x[idx]), gen)
        if self.cfg.dataset == "cifar10":
            x = _random_flip(x, gen)
        x = x.to(self.device)
        y = torch.from_numpy(self.y[idx]).to(self.device)
        return F.cross_entropy(self.model(x)["logits"], y, label_smoothing=self.smoothing)


def train_classifier(cfg: TrainConfig, out=None, checkpoint=None) -> tuple[Classifier, list]:
    """Train the classifier M for ``cfg.dataset``; save its ``state_dict`` to ``out``."""
    torch.manual_seed(cfg.seed)
    device = _device(cfg.device)
    xtr, ytr, xva, yva = _split(cfg)
    model = Classifier(cfg.dataset)
    recipe = Recipe()
    if cfg.dataset == "cifar10":
        model.init_whitening(ds.to_tensor(xtr[:5000]))
        recipe = OneCycleRecipe()

    def validate():
        logits = _predict(model, xva, device)
        yv = torch.from_numpy(yva)
        return {"val_loss": float(F.cross_entropy(logits, yv)),
                "val_accuracy": float((logits.argmax(1) == yv).float().mean())}

    history = _fit(cfg, model, _ClassifierSteps(cfg, model, xtr, ytr, device), validate,
                   checkpoint, f"classifier[{cfg.dataset}]", recipe)
    if out:
        _save(model, out, {"kind": "classifier", "dataset": cfg.dataset})
    return model, history


@torch.no_grad()
def _predict(model, images_u8, device, batch=1000):
    out = []
    for start in range(0, len(images_u8), batch):
        x = ds.to_tensor(images_u8[start:start + batch]).to(device)
        out.append(model(x)["logits"].cpu())
    return torch.cat(out)


@torch.no_grad()
def _features(classifier, images_u8, device, batch=1000):
    out = []
    for start in range(0, len(images_u8), batch):
        x = ds.to_tensor(images_u8[start:start + batch]).to(device)
        out.append(classifier(x)["features"])
    return torch.cat(out)


class _AescSteps:
    def __init__(self, cfg, model, classifier, x, feats, gamma, device):
        self.cfg, self.model, self.classifier = cfg, model, classifier
        self.x, self.feats, self.gamma, self.device = x, feats, gamma, device

    def steps_per_epoch(self):
        return math.ceil(len(self.x) / self.cfg.batch_size)

    def batches(self, rng):
        return _batches(len(self.x), self.cfg.batch_size, rng)

    def __call__(self, idx, gen):
        x = ds.to_tensor(self.x[idx]).to(self.device, memory_format=_MEMORY_FORMAT)
        recon = self.model(x)["recon"]
        loss, _, _ = aesc_loss(self.cfg.dataset, self.classifier, recon, x,
                               self.feats[torch.from_numpy(idx).to(self.device)], self.gamma)
        return loss


# Channels-last tensors let oneDNN's convolutions skip layout conversions: measured 7 %
# faster per CIFAR-10 AESC-I step on the CPU, same results (the state dict is unchanged).
_MEMORY_FORMAT = torch.channels_last


def warm_start(model: torch.nn.Module, state_dict: dict) -> list[str]:
    """Copy every tensor of ``state_dict`` whose name and shape match into ``model``.

    Lets a model of another zdim start from a trained one's convolutional layers (only
    the linear layers around the code differ). Returns the names copied.
    """
    own = model.state_dict()
    copied = [k for k, v in state_dict.items() if k in own and own[k].shape == v.shape]
    own.update({k: state_dict[k] for k in copied})
    model.load_state_dict(own)
    return copied


def train_aesc(cfg: TrainConfig, zdim: int, classifier: Classifier, gamma=None, out=None,
               checkpoint=None, init_from: dict | None = None) -> tuple[AESC, list]:
    """Train AESC-I for ``cfg.dataset`` at ``zdim`` with the semantic loss of ``classifier``.

    ``init_from``: a state dict to warm-start from (see :func:`warm_start`).
    """
    gamma = DEFAULT_GAMMA[cfg.dataset] if gamma is None else float(gamma)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    torch.manual_seed(cfg.seed)
    device = _device(cfg.device)
    xtr, _, xva, yva = _split(cfg)
    classifier = classifier.to(device).eval()
    for p in classifier.parameters():
        p.requires_grad_(False)
    # The originals' features do not change during training: compute them once.
    ftr = _features(classifier, xtr, device)
    fva = _features(classifier, xva, device)
    model = AESC(cfg.dataset, zdim)
    if init_from is not None:
        copied = warm_start(model, init_from)
        log.info("warm start: %d tensors copied (%s)", len(copied), ", ".join(copied))
    model.to(memory_format=_MEMORY_FORMAT)
    classifier.to(memory_format=_MEMORY_FORMAT)

    # Recognition on the validation originals, for the ratio reported each epoch.
    correct_orig = float((_predict(classifier, xva, device).argmax(1).numpy() == yva).sum())

    def validate():
        tot = se = pix = correct = 0.0
        for start in range(0, len(xva), 1000):
            x = ds.to_tensor(xva[start:start + 1000]).to(device)
            recon = model(x)["recon"]
            loss, s, p = aesc_loss(cfg.dataset, classifier, recon, x, fva[start:start + 1000],
                                   gamma)
            n = len(x)
            tot, se, pix = tot + float(loss) * n, se + float(s) * n, pix + float(p) * n
            pred = classifier(recon)["logits"].argmax(1).cpu().numpy()
            correct += float((pred == yva[start:start + 1000]).sum())
        n = len(xva)
        return {"val_loss": tot / n, "val_semantic": se / n, "val_pixel": pix / n,
                "val_recognition_ratio": correct / max(correct_orig, 1.0)}

    history = _fit(cfg, model, _AescSteps(cfg, model, classifier, xtr, ftr, gamma, device),
                   validate, checkpoint, f"aesc[{cfg.dataset}, zdim={zdim}]")
    if out:
        _save(model, out, {"kind": "aesc", "dataset": cfg.dataset, "zdim": zdim, "gamma": gamma})
    return model, history


def _save(model, path, meta):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta": meta, "state_dict": model.state_dict()}, path)

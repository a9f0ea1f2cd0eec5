"""The plain way to train one network: ``nn.Module`` + ``torch.optim.Adam``, one batch at a time.

The reference the batched trainer is tested against, and the baseline of its benchmark.
It draws the same initial weights and batch order (``ffmatch.paper.nn.init``) as ``train_many``,
so for one job both give the same numbers up to float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from ffmatch.paper.nn.init import batch_orders, init_weights
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.nn.train import N_OUT, History, TrainJob, TrainResult


def build_module(weights: MLPWeights) -> nn.Sequential:
    """An ``nn.Sequential`` of Linear and ReLU layers holding ``weights``."""
    layers: list[nn.Module] = []
    for k, (w, b) in enumerate(zip(weights.weights, weights.biases, strict=True)):
        linear = nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(w.T))  # nn.Linear holds (out, in)
            linear.bias.copy_(torch.as_tensor(b))
        layers.append(linear)
        if k < len(weights.weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def module_weights(module: nn.Sequential) -> MLPWeights:
    """The weights of a module built by ``build_module``, as plain arrays."""
    linears = [m for m in module if isinstance(m, nn.Linear)]
    return MLPWeights(
        weights=tuple(m.weight.detach().cpu().numpy().T.copy() for m in linears),
        biases=tuple(m.bias.detach().cpu().numpy().copy() for m in linears),
    )


def train_sequential(
    job: TrainJob,
    *,
    device: str = "cpu",
    evaluate: Literal["every_epoch", "last_epoch"] = "every_epoch",
) -> TrainResult:
    """Train one job the plain way; same init, batch order and history as ``train_many``."""
    n, d = np.shape(job.x_train)
    init = job.init if job.init is not None else init_weights((d, *job.hidden, N_OUT), job.seed)
    model = build_module(init).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=job.lr)
    x = torch.as_tensor(np.asarray(job.x_train, np.float32), device=device)
    y = torch.as_tensor(np.asarray(job.y_train, np.int64), device=device)
    has_val = job.x_val is not None and job.y_val is not None and len(job.y_val) > 0
    xv = torch.as_tensor(np.asarray(job.x_val, np.float32), device=device) if has_val else x
    yv = torch.as_tensor(np.asarray(job.y_val, np.int64), device=device) if has_val else y
    stats = np.full((job.epochs, 4), np.nan)
    val_proba = None
    for epoch, order in enumerate(batch_orders(n, job.epochs, job.seed)):
        for start in range(0, n, job.batch_size):
            idx = torch.as_tensor(order[start : start + job.batch_size], device=device)
            loss = functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            torch.autograd.backward(loss)
            opt.step()
        if evaluate == "last_epoch" and epoch + 1 < job.epochs:
            continue
        with torch.inference_mode():
            stats[epoch, :2] = _loss_acc(model(x), y)
            if has_val:
                zv = model(xv)
                stats[epoch, 2:] = _loss_acc(zv, yv)
                val_proba = torch.softmax(zv, dim=1)[:, 1].cpu().numpy()
    if job.y_val is not None and not has_val:
        val_proba = np.zeros(0, np.float32)
    return TrainResult(
        weights=module_weights(model),
        history=History(
            train_loss=stats[:, 0].copy(),
            train_acc=stats[:, 1].copy(),
            val_loss=stats[:, 2].copy(),
            val_acc=stats[:, 3].copy(),
        ),
        val_proba=val_proba,
    )


def train_sequential_many(
    jobs: Sequence[TrainJob],
    *,
    device: str = "cpu",
    evaluate: Literal["every_epoch", "last_epoch"] = "every_epoch",
) -> list[TrainResult]:
    """``train_sequential`` over jobs, one after another (the benchmark's baseline)."""
    return [train_sequential(job, device=device, evaluate=evaluate) for job in jobs]


def _loss_acc(z: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (argmax; a tie goes to class 0)."""
    loss = functional.cross_entropy(z, y).item()
    acc = (z.argmax(dim=1) == y).float().mean().item()
    return loss, acc

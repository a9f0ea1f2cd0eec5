"""Benchmark the GA: ffmatch vs sklearn-genetic-opt's GASearchCV vs a sequential PyTorch loop.

Every contender searches hidden neurons (1-100, second layer half of it), epochs (10-100) and
learning rate (1e-4 to 1e-2, log scale) with population 10 and 10 generations; fitness is the
mean validation accuracy over the same 10 folds of the paper's 36 rows (paper protocol:
shuffled KFold, Min-Max on all rows), seeded.

- ``ffmatch``: ``ffmatch.paper.search.evolve`` (paper preset); each generation's new individuals x
  10 folds are one ``train_many`` call, accuracy read from the validation probabilities.
- ``ffmatch-stacked``: the same with ``engine="stacked"``: all networks as one tensor program,
  the only engine of ffmatch 0.1 (the reference the compiled CPU engine is measured against).
- ``ffmatch-cv``: the same GA through the pipeline's fitness, ``evaluation.cv.evaluate_configs``
  (the same training, plus full per-fold metrics and majority baselines).
- ``peer``: ``GASearchCV`` (eaSimple, roulette, crossover 0.9, mutation 0.1) over
  ``MLPClassifier(solver="adam", batch_size=12, alpha=0)``; ``max_iter`` is the epochs gene
  and its default early stopping (no improvement for 10 epochs) may end a fit sooner.
- ``sequential``: the GA and networks of ``ffmatch``, each network trained alone with an
  ``nn.Module`` and ``torch.optim.Adam`` (``ffmatch.paper.nn.sequential``); by default only the
  first ``--sequential-generations`` generations, as its throughput is what is compared.

The GAs train different numbers of networks (the peer caches and mutates whole individuals,
its early stopping cuts epochs), so beside wall time the table compares throughput:
network-epochs trained per second of compute (CPU seconds of the process, all threads).
Each contender runs in a fresh Python process, so "process" times include imports.

Usage::

    .venv/bin/python benchmarks/bench_ga.py                  # all four, markdown table
    .venv/bin/python benchmarks/bench_ga.py --only ffmatch --only peer
    .venv/bin/python benchmarks/bench_ga.py --device cuda    # ffmatch's trainers on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

CONTENDERS = ("ffmatch", "ffmatch-stacked", "ffmatch-cv", "peer", "sequential")


# --------------------------------------------------------------------------- child process


def _paper_data(seed: int) -> tuple[Any, Any, Any, Any]:
    """The paper's 36 rows as FFM pair features, labels, groups and its 10 folds."""
    from importlib.resources import files

    import numpy as np

    from ffmatch.core.io.wide import read_wide_ffms
    from ffmatch.core.splits import make_folds
    from ffmatch.paper.representations import pair_features

    pairs = read_wide_ffms(str(files("ffmatch.core.datasets") / "files" / "paper_ffms.csv"))
    x = pair_features(pairs, "ffms")
    y = np.asarray(pairs.label, dtype=np.int64)
    folds = make_folds(y, pairs.group, protocol="paper", n_splits=10, seed=seed)
    return x, y, pairs.group, folds


def _run_ffmatch(seed: int, mode: str, generations: int, device: str = "cpu") -> dict[str, Any]:
    """ffmatch's GA; ``mode`` picks how each generation's networks are trained and scored.

    ``batched`` (``stacked``: with that engine): all new individuals x folds in one
    ``train_many`` call, accuracy from the validation probabilities. ``cv``: the pipeline's
    ``evaluate_configs`` (the same training, plus its full per-fold metrics and baselines).
    ``sequential``: the same jobs as ``batched``, trained one at a time by
    ``train_sequential_many``.
    """
    import numpy as np

    from ffmatch.core.serial import to_mapping
    from ffmatch.core.splits import PaperSplitter, fold_data
    from ffmatch.paper.evaluation.cv import evaluate_configs, fold_job, network_seed
    from ffmatch.paper.nn.config import MLPConfig
    from ffmatch.paper.nn.train import train_many, training_threads
    from ffmatch.paper.search import GAConfig, Genes, evolve

    x, y, groups, folds = _paper_data(seed)
    config = GAConfig(generations=generations)
    layout = config.layout
    parts = [fold_data(x, y, f, splitter=PaperSplitter()) for f in folds]
    seeds = [network_seed(seed, f.repeat, f.index) for f in folds]
    k = len(folds)

    def to_mlp(g: Genes) -> MLPConfig:
        return MLPConfig(hidden=layout.hidden_sizes(g), epochs=g.epochs, lr=g.learning_rate)

    def through_cv(population: Sequence[Genes]) -> list[float]:
        configs = [to_mlp(g) for g in population]
        results = evaluate_configs(
            x,
            y,
            groups,
            configs,
            splitter=PaperSplitter(),
            folds=folds,
            seed=seed,
            device=device,
            history=False,  # as ffmatch evolve: fitness needs only the last epoch
        )
        return [float(np.mean([f.val.accuracy for f in cv.folds])) for cv in results]

    def direct(population: Sequence[Genes]) -> list[float]:
        jobs = [
            fold_job(p, c, seed=s)
            for c in (to_mlp(g) for g in population)
            for p, s in zip(parts, seeds, strict=True)
        ]
        if mode == "sequential":
            # imported here: it imports torch, which the compiled engine does not need
            from ffmatch.paper.nn.sequential import train_sequential_many

            results = train_sequential_many(jobs, device=device, evaluate="last_epoch")
        else:
            engine = "stacked" if mode == "stacked" else "auto"
            results = train_many(jobs, device=device, evaluate="last_epoch", engine=engine)
        # accuracy per network: P(match) > 0.5 is a match (argmax, a tie goes to class 0)
        acc = [
            float(np.mean((np.asarray(r.val_proba) > 0.5) == p.y_val))
            for r, p in zip(results, parts * len(population), strict=True)
        ]
        return [float(np.mean(acc[i * k : (i + 1) * k])) for i in range(len(population))]

    evaluate = through_cv if mode == "cv" else direct
    wall, cpu = time.perf_counter(), time.process_time()
    result = evolve(evaluate, config=config, seed=seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n_folds = len(folds)
    return {
        "search_wall_s": wall,
        "search_cpu_s": cpu,
        "networks": result.n_evaluated * n_folds,
        "network_epochs": result.epochs_per_fold * n_folds,
        "best_fitness": result.best.fitness,
        "best": to_mapping(result.best.genes),
        "generations": generations,
        "device": device,
        "mode": mode,
        "threads": (
            training_threads()
            if mode in ("batched", "cv") and device == "cpu"
            else __import__("torch").get_num_threads()
        ),
    }


def _run_peer(seed: int) -> dict[str, Any]:
    """sklearn-genetic-opt's GASearchCV over MLPClassifier on the same folds."""
    import random
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import MinMaxScaler
    from sklearn_genetic import GASearchCV
    from sklearn_genetic.space import Categorical, Continuous, Integer

    epochs_trained: list[int] = []

    class CountingMLP(MLPClassifier):  # type: ignore[misc]
        """MLPClassifier recording how many epochs each fit ran (n_iter_)."""

        def fit(self, X: Any, y: Any) -> CountingMLP:
            super().fit(X, y)
            epochs_trained.append(int(self.n_iter_))
            return self

    x, y, _, folds = _paper_data(seed)
    x = MinMaxScaler().fit_transform(x)  # the paper protocol: scaler fitted on all rows
    cv = [(f.train, f.val) for f in folds]
    hidden = [(h, max(1, int(h * 0.5 + 0.5))) for h in range(1, 101)]
    grid = {
        "hidden_layer_sizes": Categorical(hidden, random_state=seed),
        "max_iter": Integer(10, 100, random_state=seed),
        "learning_rate_init": Continuous(1e-4, 1e-2, distribution="log-uniform", random_state=seed),
    }
    search = GASearchCV(
        estimator=CountingMLP(solver="adam", batch_size=12, alpha=0.0, random_state=seed),
        cv=cv,
        param_grid=grid,
        scoring="accuracy",
        population_size=10,
        generations=10,
        crossover_probability=0.9,
        mutation_probability=0.1,
        elitism=False,  # roulette selection, as the paper
        algorithm="eaSimple",
        refit=False,
        n_jobs=1,
        verbose=False,
    )
    random.seed(seed)  # the peer draws from the global generators; this is a script
    np.random.seed(seed)  # noqa: NPY002 (the peer's samplers use the legacy global state)
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(x, y)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    scores = np.asarray(search.cv_results_["mean_test_score"], dtype=float)
    params = search.cv_results_["params"]
    return {
        "search_wall_s": wall,
        "search_cpu_s": cpu,
        "networks": len(epochs_trained),
        "network_epochs": int(sum(epochs_trained)),
        "best_fitness": float(np.max(scores)),
        "best": {k: str(v) for k, v in params[int(np.argmax(scores))].items()},
        "generations": 10,
        "device": "cpu",
    }


def _child(which: str, seed: int, sequential_generations: int, device: str) -> None:
    """Run one contender in this process and print its measurements as one JSON line."""
    if which == "ffmatch":
        out = _run_ffmatch(seed, "batched", generations=10, device=device)
    elif which == "ffmatch-stacked":
        out = _run_ffmatch(seed, "stacked", generations=10, device=device)
    elif which == "ffmatch-cv":
        out = _run_ffmatch(seed, "cv", generations=10, device=device)
    elif which == "sequential":
        out = _run_ffmatch(seed, "sequential", generations=sequential_generations, device=device)
    else:
        out = _run_peer(seed)
    print(json.dumps(out))


# --------------------------------------------------------------------------- parent process


def _measure(which: str, seed: int, sequential_generations: int, device: str) -> dict[str, Any]:
    """Run one contender in a fresh process; add its whole-process wall and CPU time."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        which,
        "--seed",
        str(seed),
        "--sequential-generations",
        str(sequential_generations),
        "--device",
        device,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{which} failed:\n{proc.stderr}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    out["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out["epochs_per_cpu_s"] = out["network_epochs"] / out["search_cpu_s"]
    out["epochs_per_wall_s"] = out["network_epochs"] / out["search_wall_s"]
    return out


def _table(results: dict[str, dict[str, Any]]) -> str:
    """Markdown table of the measurements, with ratios against ffmatch."""
    rows = [
        ("search wall time (s)", "search_wall_s", "{:.2f}"),
        ("search CPU time (s)", "search_cpu_s", "{:.2f}"),
        ("whole process wall time, imports included (s)", "process_wall_s", "{:.2f}"),
        ("device", "device", "{}"),
        ("generations run", "generations", "{}"),
        ("networks trained", "networks", "{}"),
        ("network-epochs trained", "network_epochs", "{}"),
        ("network-epochs per CPU second", "epochs_per_cpu_s", "{:.0f}"),
        ("network-epochs per wall second", "epochs_per_wall_s", "{:.0f}"),
        ("best fitness (mean CV accuracy)", "best_fitness", "{:.3f}"),
    ]
    names = list(results)
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, key, fmt in rows:
        lines.append(
            f"| {label} | " + " | ".join(fmt.format(results[n][key]) for n in names) + " |"
        )
    if "ffmatch" in results:
        ours = results["ffmatch"]
        for n in names:
            if n == "ffmatch":
                continue
            other = results[n]
            lines.append("")
            lines.append(
                f"ffmatch vs {n}: {ours['epochs_per_cpu_s'] / other['epochs_per_cpu_s']:.1f}x "
                f"network-epochs per CPU second, "
                f"{ours['epochs_per_wall_s'] / other['epochs_per_wall_s']:.1f}x per wall second"
                + (
                    f", {other['process_wall_s'] / ours['process_wall_s']:.1f}x faster whole "
                    f"process, {other['search_wall_s'] / ours['search_wall_s']:.1f}x faster search"
                    if other["generations"] == ours["generations"]
                    else ""
                )
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=CONTENDERS, action="append")
    parser.add_argument(
        "--sequential-generations",
        type=int,
        default=1,
        help="generations for the sequential baseline (0: initial population only)",
    )
    parser.add_argument("--device", default="cpu", help="torch device for ffmatch and sequential")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.seed, args.sequential_generations, args.device)
        return
    results = {
        which: _measure(which, args.seed, args.sequential_generations, args.device)
        for which in (args.only or CONTENDERS)
    }
    print(f"cpu count {os.cpu_count()}, python {sys.version.split()[0]}, seed {args.seed}")
    print(_table(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()

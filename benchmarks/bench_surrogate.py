"""Time one surrogate prediction: model load + predict in-process, and the whole `constrict predict` call.

Usage (after `make run`, which trains results/surrogate/models/)::

    python benchmarks/bench_surrogate.py [--voltage 4] [--models DIR] [--repeat 5]

Prints the median wall and CPU time of each step (seconds). The training
time of the stage is in results/benchmarks/surrogate_*.tsv (Snakemake's
benchmark files, one per rule).
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMPOSITION = "Li0.364P0.110S0.388I0.138"


def timed(function):
    """(result, wall s, cpu s) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voltage", type=float, default=4.0)
    parser.add_argument("--models", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    _, import_wall, import_cpu = timed(lambda: __import__("constrict.surrogate"))
    from constrict.surrogate import find_model, load_model

    path = find_model(args.voltage, args.models)
    loads, predicts, explains = [], [], []
    for _ in range(args.repeat):
        model, wall, cpu = timed(lambda: load_model(path))
        loads.append((wall, cpu))
        _, wall, cpu = timed(lambda model=model: model.predict(COMPOSITION))
        predicts.append((wall, cpu))
    model.explain(COMPOSITION)  # builds the explainer once
    for _ in range(args.repeat):
        _, wall, cpu = timed(lambda: model.explain(COMPOSITION))
        explains.append((wall, cpu))
    executable = str(Path(sys.executable).with_name("constrict"))
    command = [executable, "predict", COMPOSITION, "--voltage", f"{args.voltage:g}"]
    if args.models:
        command += ["--models", args.models]
    cli = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        cli.append(time.perf_counter() - start)

    def median(pairs, i):
        return statistics.median(p[i] for p in pairs)

    print(f"model {path} ({path.stat().st_size / 1e6:.0f} MB, largest tree {model.max_tree_nodes_} nodes)")
    print(f"import constrict.surrogate: wall {import_wall:.2f} s, cpu {import_cpu:.2f} s (once)")
    print(f"load: wall {median(loads, 0):.3f} s, cpu {median(loads, 1):.3f} s")
    print(f"predict one composition: wall {median(predicts, 0):.4f} s, cpu {median(predicts, 1):.4f} s")
    print(f"load + predict: wall {median(loads, 0) + median(predicts, 0):.3f} s")
    print(f"explain one composition (explainer built): wall {median(explains, 0):.3f} s")
    print(f"`constrict predict` (new process, imports included): wall {statistics.median(cli):.2f} s")


if __name__ == "__main__":
    main()

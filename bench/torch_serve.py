"""The --serve loop of the PyTorch bench scripts (bench/torch_train.py, bench/torch_gpt.py),
driven by bench/torch.ts's torchServer.

Protocol (one line per request on stdin, one line per answer on stdout):
  "ready" is printed once every model is built and warmed up;
  "run <model index> <steps>"  -> runs the steps, answers "ok <seconds>";
  "check <model index>"        -> 30 steps of a fresh model, answers "check <first loss> <last loss>".
"""
import sys
import time


def warm(makes, seconds):
    """One step function per maker, each run for `seconds` first (allocations, thread pools)."""
    steps = [make() for make in makes]
    for step in steps:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            step()
    return steps


def serve(makes, steps):
    """Answers requests until stdin closes, then exits; `makes` builds fresh models for "check"."""
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        i = int(parts[1])
        if parts[0] == "run":
            n = int(parts[2])
            t0 = time.perf_counter()
            for _ in range(n):
                steps[i]()
            print(f"ok {time.perf_counter() - t0}", flush=True)
        elif parts[0] == "check":
            fresh = makes[i]()  # a fresh model: the served one has trained already
            first = fresh().item()
            for _ in range(29):
                last = fresh()
            print(f"check {first} {last.item()}", flush=True)
    sys.exit(0)

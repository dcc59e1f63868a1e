"""Policy search latency: the index's build time (once per process, at start-up) and the time of one
search, over every question of tests/backend/policy_eval.yaml (in-scope and out-of-scope), repeated.
The budget is p95 under 10 ms per search; exit status 1 when it is not met.

    .venv/bin/python scripts/bench_policies.py [--rounds N]
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.policies.evaluation import EvalSet  # noqa: E402
from backend.policies.search import PolicyIndex  # noqa: E402

BUDGET_P95_MS = 10.0


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20, help="passes over the question set (default 20)")
    args = parser.parse_args()

    started = time.perf_counter()
    index = PolicyIndex.load(ROOT / "config" / "policies")
    load_ms = (time.perf_counter() - started) * 1000
    eval_set = EvalSet.load(ROOT / "tests" / "backend" / "policy_eval.yaml")
    questions = [q.q for q in eval_set.questions] + [q for q, _ in eval_set.out_of_scope]
    passages = sum(len(d.passages) for d in index.documents.values())

    # The first pass meets every word for the first time (each word's BM25 vector is then cached: the
    # corpus never changes); later passes are what a running server mostly sees.
    passes: list[list[float]] = []
    for _ in range(args.rounds):
        timings = []
        for question in questions:
            t0 = time.perf_counter()
            index.search(question, limit=3)
            timings.append((time.perf_counter() - t0) * 1000)
        passes.append(sorted(timings))
    cold = passes[0]
    warm = sorted(t for timings in passes[1:] for t in timings) or cold
    everything = sorted(cold + warm)
    p95 = percentile(everything, 0.95)

    print(f"policy search benchmark — one core, Python {sys.version.split()[0]}")
    print(
        f"{'index build (documents, FAQ, jieba, vectors)':<44} {load_ms:7.1f} ms   ({passages} passages, "
        f"{len(index.faq)} FAQ entries)"
    )
    for label, timings in (
        ("first pass (new words)", cold),
        ("later passes", warm),
        ("all searches", everything),
    ):
        p50_, p95_, p99_ = (percentile(timings, share) for share in (0.5, 0.95, 0.99))
        print(
            f"{'search, ' + label:<44} p50 {p50_:5.2f} ms   p95 {p95_:5.2f} ms   p99 {p99_:5.2f} ms"
            f"   ({len(timings)} searches)"
        )
    verdict = "ok" if p95 < BUDGET_P95_MS else "OVER BUDGET"
    print(f"{'budget p95 < ' + str(BUDGET_P95_MS) + ' ms':<44} {verdict}")
    return 0 if p95 < BUDGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())

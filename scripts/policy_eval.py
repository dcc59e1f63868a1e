"""Score the policy search on the labelled set tests/backend/policy_eval.yaml.

    .venv/bin/python scripts/policy_eval.py            # top-1, top-3, out-of-scope rejection
    .venv/bin/python scripts/policy_eval.py --misses   # and every question it gets wrong
    .venv/bin/python scripts/policy_eval.py --sweep    # the same figures over a range of thresholds
    .venv/bin/python scripts/policy_eval.py --routes var/eval/policy_routes.json   # and the product's

--routes takes the trained Rasa model's reading of every question (scripts/policy_routes.py; `make eval`
writes it) and adds the figures an applicant meets: only questions NLU reads as ask_policy (or an unsure
reading of a question) reach the search, out_of_scope / nlu_fallback are turned away before it, other
intents go to other skills. One of them answers from the documents too: the list of an industry's
licences cites the industry's row of Annex 1, and counts as right when that row is a labelled answer.

Figures are printed for the whole set and separately for the part the search was tuned on and each
held-out block (holdout-1, holdout-2 …; see the file's header); --part NAME limits --misses to one of
them. Exit status 1 when --min-top1/--min-top3/--min-rejected is given and not met.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.catalog import load_catalog  # noqa: E402
from backend.policies.evaluation import EvalSet, Routes, evaluate, evaluate_product  # noqa: E402
from backend.policies.search import PolicyIndex  # noqa: E402

SWEEP = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-set", type=Path, default=ROOT / "tests" / "backend" / "policy_eval.yaml")
    parser.add_argument("--policies", type=Path, default=ROOT / "config" / "policies")
    parser.add_argument("--catalog", type=Path, default=ROOT / "config" / "catalog", help="catalog directory")
    parser.add_argument("--threshold", type=float, help="override the calibrated threshold")
    parser.add_argument("--misses", action="store_true", help="list wrong answers and answered out-of-scope")
    parser.add_argument("--sweep", action="store_true", help="print the figures over a range of thresholds")
    parser.add_argument(
        "--routes", type=Path, help="NLU readings (scripts/policy_routes.py): product figures"
    )
    parser.add_argument("--part", help="list misses of this part only (tuned, holdout-1, holdout-2 …)")
    parser.add_argument("--min-top1", type=float)
    parser.add_argument("--min-top3", type=float)
    parser.add_argument("--min-rejected", type=float)
    args = parser.parse_args()

    index = PolicyIndex.load(args.policies)
    eval_set = EvalSet.load(args.eval_set)
    parts = {"all": eval_set, **{name: eval_set.part(name) for name in eval_set.parts}}

    if args.sweep:
        print("threshold  " + "  ".join(f"{name:>22}" for name in parts))
        for threshold in SWEEP:
            cells = []
            for part in parts.values():
                r = evaluate(index, part, threshold)
                cells.append(f"{r.top1:.3f} / {r.top3:.3f} / {r.rejected:.3f}")
            print(f"{threshold:9.2f}  " + "  ".join(f"{cell:>22}" for cell in cells))
        print("(top-1 / top-3 / out-of-scope rejected)")
        return 0

    report = evaluate(index, eval_set, args.threshold)
    width = max(len(name) for name in parts)
    for name, part in parts.items():
        print(f"{name:>{width}}: {evaluate(index, part, args.threshold).summary()}")
    if args.routes:
        routes = Routes.load(args.routes)
        catalog = load_catalog(args.catalog)
        cited = {package_id: catalog.annex_ref(package_id) for package_id in catalog.packages}
        print("\nThe product (NLU routes the question, then the search or the catalog answers):")
        for name, part in parts.items():
            product = evaluate_product(index, part, routes, args.threshold, cited)
            print(f"{name:>{width}}: {product.summary()}")
        if routes.in_training_data:
            fresh = routes.without_trained(eval_set)
            print(f"without the {len(routes.in_training_data)} questions that are NLU training examples:")
            product = evaluate_product(index, fresh, routes, args.threshold, cited)
            print(f"{'all':>{width}}: {product.summary()}")
    if args.misses:
        shown = report if args.part is None else evaluate(index, eval_set.part(args.part), args.threshold)
        print()
        print("\n".join(shown.misses))
    failed = [
        f"{label} {value:.3f} < {floor}"
        for label, value, floor in (
            ("top-1", report.top1, args.min_top1),
            ("top-3", report.top3, args.min_top3),
            ("out-of-scope rejected", report.rejected, args.min_rejected),
        )
        if floor is not None and value < floor
    ]
    for line in failed:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

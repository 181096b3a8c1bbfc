"""Few-shot classification benchmark on the shared sample data (miclib technique groups; crystals smoke test).

Builds (once, cached in --work) a project over ../shared/data/miclib with the library's labels, embeds it
with each model id, and prints 5-fold cross-validation and k-shot learning-curve tables in the layout of the
reference texts. Usage::

    python scripts/bench_classify.py                                   # both feature variants, k = 1,5,10,20
    python scripts/bench_classify.py --models effnet-lite0+texture --repeats 20 --report /tmp/report
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from micview.core.csv_io import import_labels
from micview.core.importer import add_folder
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.classify import cross_validate, learning_curve, task_view, write_report
from micview.ml.classify.report import CURVE_HEADER, curve_rows, markdown_table, summary_rows
from micview.ml.classify.service import labelled_rows, load_vectors
from micview.ml.embedding import embed_project
from micview.ml.features import load_feature_embedder

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def build(work: Path, data: Path, name: str, tasks: list[str]) -> Project:
    path = work / f"{name}.micview"
    if path.exists():
        return Project.open(path)
    project = Project.create(path)
    run_task(add_folder(project, data / "images", workers=2))
    import_labels(project, data / "manifest.csv", tasks=tasks)
    return project


def embed(project: Project, model_id: str) -> float:
    start = time.perf_counter()
    s = run_task(embed_project(project, model_id, embedder=_Lazy(model_id), workers=2))
    took = time.perf_counter() - start
    if s.embedded:
        print(f"  embedded {s.embedded} images with {model_id} in {took:.0f} s ({s.images_per_s:.1f} img/s)")
    return took


class _Lazy:
    """Loads the model only if embed_project finds work (it reads attributes only then)."""

    def __init__(self, model_id: str) -> None:
        self.model_id, self._e = model_id, None

    def __getattr__(self, name: str):
        if self._e is None:
            self._e = load_feature_embedder(self.model_id)
        return getattr(self._e, name)


def bench_miclib(args: argparse.Namespace) -> None:
    project = build(args.work, args.data / "miclib", "miclib", ["technique", "category"])
    view = task_view(project, "technique", grouped=True, exclude=["other"])
    evs, curves, lines = [], {}, []
    for model_id in args.models:
        embed(project, model_id)
        ids, X = load_vectors(project, model_id)
        rows, y = labelled_rows(ids, view.labels(project))
        t = time.perf_counter()
        ev = cross_validate(X[rows], y, folds=5, method=args.method, task=f"technique_group [{model_id}]")
        ev.model = f"5-fold CV, {args.method}"
        curve = learning_curve(X[rows], y, args.k, repeats=args.repeats, method=args.method)
        print(f"  {model_id}: CV + curve in {time.perf_counter() - t:.0f} s")
        evs.append(ev)
        curves[ev.task] = curve
        lines.append(markdown_table(CURVE_HEADER, curve_rows(ev.task, curve)))
    print("\n### miclib technique (4 groups; 'other' = photography excluded), 5-fold cross-validation\n")
    print(markdown_table(["Task", "Accuracy", "Balanced Accuracy", "Macro F1"], summary_rows(evs)))
    print("\n### k-shot learning curves (mean ± sd over repeated draws; the rest of the images are the test set)\n")
    print("\n\n".join(lines))
    if args.report:
        paths = write_report(args.report, evs, curves=curves, title="miclib technique groups, few-shot")
        print(f"\nReport: {paths['html']}")
    project.close()


def bench_crystals(args: argparse.Namespace) -> None:
    from micview.ml.classify import classify

    project = build(args.work, args.data / "crystals", "crystals", ["label"])
    model_id = args.models[0]
    embed(project, model_id)
    view = task_view(project, "label")
    r = run_task(classify(project, view, model_id))
    print("\n### crystals (5 images, one or two per class): smoke test only, no held-out metric possible\n")
    print(f"classify ran: {r.method}, {r.n_labels} labels, predictions per class {r.counts()}")
    project.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--work", type=Path, default=Path("/tmp/micview-bench-classify"))
    ap.add_argument("--models", default="effnet-lite0,effnet-lite0+448px,effnet-lite0+texture")
    ap.add_argument("--k", default="1,5,10,20")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--method", default="auto", choices=["auto", "prototype", "knn", "logreg"])
    ap.add_argument("--report", type=Path)
    ap.add_argument("--skip-crystals", action="store_true")
    args = ap.parse_args()
    args.models, args.k = args.models.split(","), [int(k) for k in args.k.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    bench_miclib(args)
    if not args.skip_crystals:
        bench_crystals(args)


if __name__ == "__main__":
    main()

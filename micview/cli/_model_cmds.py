"""Model commands: embed, search, similar, models list|pull|add|remove.

torch and the model libraries are imported only inside the command functions (through micview.ml), so
``micview --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from micview.cli._args import UsageError, check_task, positive_int
from micview.cli._progress import run_with_bar
from micview.core.store import Project

DEFAULT_MODEL = "effnet-lite0"  # micview.ml.registry.DEFAULT_MODEL, repeated to keep --help import-light


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_embed(sub)
    _register_search(sub)
    _register_models(sub)


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"model id (default: {DEFAULT_MODEL}; see `micview models list`)",
    )


def _register_embed(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("embed", help="compute image embeddings", description="Embed every image not embedded yet.")
    p.add_argument("project", type=Path)
    _model_arg(p)
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["float32", "bfloat16", "float16"], help="default: fastest safe one")
    p.add_argument("--batch-size", type=positive_int, help="images per batch (default 32 on CPU, 64 on GPU)")
    p.add_argument("--workers", type=positive_int, help="decoding threads (default: cores, 2 to 6)")
    p.add_argument(
        "--dask", metavar="ADDRESS|local:N", help="run on a Dask cluster: a scheduler address or local:N (docs/dask.md)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_embed)


def _register_search(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "search",
        help="find images by a text description (CLIP/SigLIP models)",
        description='Find the images that best match a text, e.g. "dendrites in a cast alloy".',
    )
    p.add_argument("project", type=Path)
    p.add_argument("text")
    _search_opts(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("similar", help="find images similar to an image", description="Find similar images.")
    p.add_argument("project", type=Path)
    p.add_argument("image", help="a path in the project, a file name, or any image file")
    _search_opts(p)
    p.set_defaults(func=cmd_similar)


def _search_opts(p: argparse.ArgumentParser) -> None:
    _model_arg(p)
    p.add_argument("-k", type=positive_int, default=10, help="number of results (default 10)")
    p.add_argument("--folder", help="only images under this folder (as stored in the project)")
    p.add_argument("--label", metavar="TASK=VALUE", help="only images with this label")


def _register_models(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help="list, download, add or remove models", description="Embedding models.")
    msub = p.add_subparsers(title="actions", metavar="ACTION", required=True)
    q = msub.add_parser("list", help="known models and whether they are available offline")
    q.set_defaults(func=cmd_models_list)
    q = msub.add_parser(
        "recommend",
        help="text-image models worth downloading once (text search, classification from prompts)",
        description="Tested model ids with their download sizes; `micview models pull ID` fetches one (internet, "
        "once), and from then on search by text and prompt classification work offline.",
    )
    q.set_defaults(func=cmd_models_recommend)
    q = msub.add_parser("pull", help="download a model into the Hugging Face cache (needs internet)",
                        description="Download a model (every file checked against the sha256 the hub publishes). "
                        "--to FOLDER writes plain files there instead, to copy to a computer without internet "
                        "and register with `micview models add FOLDER`.")  # fmt: skip
    q.add_argument("id")
    q.add_argument("--to", type=Path, metavar="FOLDER", help="download into this folder (to copy elsewhere)")
    q.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=cmd_models_pull)
    q = msub.add_parser(
        "add",
        help="register a local model folder (open_clip, transformers CLIP/SigLIP) or MARCO",
        description="Register a model folder. `micview models add marco [SAVEDMODEL]` converts the MARCO "
        "crystallization classifier once (from the installed dls-marco-score-ispyb package, or a SavedModel folder).",
    )
    q.add_argument("path", type=Path, help="the model folder, or the word 'marco'")
    q.add_argument("source", nargs="?", type=Path, help="with 'marco': a MARCO SavedModel folder (optional)")
    q.add_argument("--id", help="model id to use with --model (default: the folder name, or 'marco')")
    q.add_argument("--python", help="with 'marco': a Python with tensorflow-cpu and tf2onnx ($MICVIEW_MARCO_PYTHON)")
    q.set_defaults(func=cmd_models_add)
    q = msub.add_parser(
        "remove",
        help="forget a model added with `models add` (its files are left as they are)",
        description="Forget a registered model: `--model ID` no longer finds it. Its folder is not deleted, and "
        "projects keep the vectors and predictions made with it.",
    )
    q.add_argument("id")
    q.set_defaults(func=cmd_models_remove)


def cmd_embed(args: argparse.Namespace) -> int:
    from micview.ml.embedding import embed_project

    device = None if args.device == "auto" else args.device
    with Project.open(args.project) as project:
        if args.dask:
            s = _embed_on_dask(project, args, device)
        else:
            task = embed_project(
                project, args.model, device, args.batch_size, precision=args.precision, workers=args.workers
            )
            s = run_with_bar(task, quiet=args.quiet)
    where = f" on {s.device} ({s.precision}, batch {s.batch_size})" if s.device else ""
    rate = f" in {s.seconds:.1f} s, {s.images_per_s:.1f} images/s" if s.embedded else ""
    print(
        f"{args.model}: {s.embedded} embedded{where}{rate}; {s.already} already embedded; "
        f"{len(s.failed)} could not be read"
    )
    for path, reason in s.failed[:20]:
        print(f"  not embedded: {path}: {reason}")
    return 0


def _embed_on_dask(project: Project, args: argparse.Namespace, device: str | None) -> Any:
    from micview.ml.distributed import open_client
    from micview.ml.distributed.embed import embed_project_dask

    with open_client(args.dask) as client:
        task = embed_project_dask(
            project, client, args.model, device=device, precision=args.precision, batch_size=args.batch_size or 32
        )
        return run_with_bar(task, quiet=args.quiet)


def _allowed(project: Project, args: argparse.Namespace) -> set[int] | None:
    """The images --folder and --label leave in; a folder, task or label that names nothing is an error."""
    allowed: set[int] | None = None
    if args.folder:
        prefix = args.folder.replace("\\", "/").rstrip("/")
        allowed = {r.id for r in project.images.all() if r.folder == prefix or r.folder.startswith(prefix + "/")}
        if not allowed:
            raise UsageError(f"No image of {project.path.name} is under the folder '{args.folder}' "
                             "(folders are written as `micview export` lists them).")  # fmt: skip
    if args.label:
        allowed = _labelled(project, args.label, allowed)
    return allowed


def _labelled(project: Project, spec: str, allowed: set[int] | None) -> set[int]:
    task, sep, value = spec.partition("=")
    if not sep or not task:
        raise UsageError("--label expects TASK=VALUE, e.g. --label phase=ferrite")
    check_task(project, task)
    labels = project.labels.labels(task)
    ids = {i for i, v in labels.items() if v == value}
    if not ids:
        values = ", ".join(sorted(set(labels.values()))) or "none yet"
        raise UsageError(f"No image has the label '{value}' for task '{task}'. Its labels: {values}.")
    return ids if allowed is None else allowed & ids


def _print_hits(project: Project, hits: object) -> None:
    for rank, (image_id, score) in enumerate(hits.pairs(), start=1):  # type: ignore[attr-defined]
        print(f"{rank:3d}  {score:6.3f}  {project.images.get(image_id).path}")
    if not len(hits):  # type: ignore[arg-type]
        print("No images match.")


def cmd_search(args: argparse.Namespace) -> int:
    from micview.ml.search import search_text

    with Project.open(args.project) as project:
        hits = search_text(project, args.text, args.model, args.k, allowed=_allowed(project, args))
        _print_hits(project, hits)
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from micview.ml.search import similar_images

    with Project.open(args.project) as project:
        hits = similar_images(project, args.image, args.model, args.k, allowed=_allowed(project, args))
        _print_hits(project, hits)
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from micview.ml.registry import all_models, locate

    print(f"{'id':28} {'family':12} {'dim':>5} {'text':5} {'offline':8} source")
    for spec in all_models():
        here = "yes" if locate(spec) is not None else "no"
        text = "yes" if spec.has_text else "no"
        print(f"{spec.id:28} {spec.family:12} {spec.dim or '?':>5} {text:5} {here:8} {spec.source}")
    print("\n'offline: no' models need `micview models pull ID` (internet) or `micview models add PATH`.")
    return 0


def cmd_models_recommend(args: argparse.Namespace) -> int:
    from micview.cli._table import table
    from micview.ml.registry import RECOMMENDED, best_offline_model, get_spec, locate

    rows = []
    for r in RECOMMENDED:
        spec = get_spec(r.model_id)
        here = "yes" if locate(spec) is not None else "no"
        rows.append([r.model_id, f"~{r.download_mb} MB", here, r.why])
    print(table(["id", "download", "offline", "why"], rows))
    print(f"\nGet one (internet, once): micview models pull {RECOMMENDED[0].model_id}\n"
          "Then: micview embed PROJECT --model ID, and micview search PROJECT \"a dendritic cast alloy\" --model ID.\n"
          f"Without one, classification uses image features only: {best_offline_model()} (installed).")  # fmt: skip
    return 0


def cmd_models_pull(args: argparse.Namespace) -> int:
    from micview.ml.model_install import pull_task

    folder = run_with_bar(pull_task(args.id, args.to), quiet=args.quiet)
    print(f"{args.id}: available offline in {folder}")
    return 0


def cmd_models_add(args: argparse.Namespace) -> int:
    from micview.ml.registry import register_folder

    if str(args.path) == "marco" and not args.path.exists():
        from micview.ml.marco.install import add_marco

        print("Converting MARCO to ONNX (once; about 20 s) ...")
        spec = add_marco(args.source, args.id or "marco", python=args.python)
        print(f"Registered '{spec.id}' (MARCO, {spec.dim}-d features); score with `micview score PROJECT`")
        return 0
    spec = register_folder(args.path, args.id)
    print(f"Registered '{spec.id}' ({spec.family}, {spec.dim or '?'}-d) from {spec.path}; use --model {spec.id}")
    return 0


def cmd_models_remove(args: argparse.Namespace) -> int:
    from micview.ml.errors import ModelError
    from micview.ml.registry import BUILTIN, all_models, unregister

    if any(s.id == args.id for s in BUILTIN):
        raise ModelError(f"'{args.id}' is built in and cannot be removed; only models added with "
                         "`micview models add` can.")  # fmt: skip
    spec = next((s for s in all_models() if s.id == args.id), None)
    if spec is None:
        added = [s.id for s in all_models() if s.path and not any(b.id == s.id for b in BUILTIN)]
        raise ModelError(f"No model '{args.id}' was added. Added models: {', '.join(added) or 'none'}.")
    unregister(args.id)
    print(f"Removed '{args.id}'. Its files in {spec.path} were left as they are; projects keep what was computed "
          "with it.")  # fmt: skip
    return 0

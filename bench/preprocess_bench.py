"""Does upscaling coarse pages pay, and with which filter? Accuracy and time.

    python -m bench.preprocess_bench --docs bench/out/documents --limit 30

Runs the whole pipeline three times over the same fax and scanned documents of a
generated set: as configured (fax pages made square and upscaled to ``target_dpi``),
with the cheaper bilinear filter, and with upscaling off (square pixels only). Same
run, same machine state, so the ratio holds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from bench.pipeline_bench import score
from pipeline.config import default_settings
from pipeline.process import Pipeline
from pipeline.read.tesseract import limit_threads

RENDERINGS = ("fax_g4", "fax_g3", "scanned_pdf", "rotated")


def run(settings, paths: list[Path]) -> tuple[dict, float]:
    pipeline = Pipeline(settings)
    records, started = {}, time.perf_counter()
    for path in paths:
        records[path.name] = pipeline.process(path).referral.to_contract()
    return records, time.perf_counter() - started


@click.command()
@click.option("--docs", type=click.Path(path_type=Path), default=Path("bench/out/documents"))
@click.option("--limit", default=30, show_default=True)
def main(docs: Path, limit: int) -> None:
    limit_threads()
    truth = json.loads((docs / "truth.json").read_text())
    names = [n for n, t in truth.items() if t["rendering"] in RENDERINGS][:limit]
    paths = [docs / n for n in names]
    subset = {n: truth[n] for n in names}
    configured = default_settings()
    no_upscale = configured.model_copy(
        update={"ocr": configured.ocr.model_copy(update={"target_dpi": 100})}
    )
    bilinear = configured.model_copy(
        update={"ocr": configured.ocr.model_copy(update={"upscale_filter": "bilinear"})}
    )
    results = {}
    variants = (("upscaled", configured), ("bilinear", bilinear), ("not upscaled", no_upscale))
    for label, settings in variants:
        records, seconds = run(settings, paths)
        overall = score(records, subset)["overall"]
        results[label] = {"seconds": round(seconds, 1), **overall}
        print(
            f"{label:13} codes recall {overall['codes_recall']:.3f} F1 {overall['codes_f1']:.3f} "
            f"freq {overall['frequency']:.3f} dur {overall['duration']:.3f} "
            f"decision {overall['decision']:.3f}  {seconds:.0f} s"
        )
    (docs.parent / "preprocess.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

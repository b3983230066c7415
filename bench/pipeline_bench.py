"""Benchmark: accuracy and speed of the pipeline on a generated set with known truth.

    referrals-bench --count 120 --seed 2026 --out bench/out

Prints per-field accuracy (overall and per rendering), decision accuracy with a
confusion matrix, every false accept, and speed: seconds per page, text-layer PDF
time, batch core use, and OCR cost as a ratio against bare ``tesseract`` run on the
same page images in the same run. Numbers, not pass/fail: this is not a test.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click
from PIL import Image

from models.config import Settings
from pipeline.config import default_settings
from pipeline.process import Pipeline
from pipeline.read import tesseract_library
from pipeline.read.tesseract import arguments, limit_threads, page_file

STATUSES = ("accepted", "needs_review", "rejected")

_worker: Pipeline | None = None


def _start(settings: Settings) -> None:
    global _worker
    limit_threads()
    _worker = Pipeline(settings)


def _timed(path: str) -> tuple[str, dict, float]:
    assert _worker is not None
    started = time.perf_counter()
    record = _worker.process(Path(path)).referral.to_contract()
    return path, record, time.perf_counter() - started


def run_batch(
    settings: Settings, paths: list[Path], workers: int
) -> tuple[dict, dict, float, float]:
    """Records and per-file seconds; wall time and the CPU time the workers used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    records, seconds = {}, {}
    with ProcessPoolExecutor(workers, initializer=_start, initargs=(settings,)) as pool:
        for path, record, took in pool.map(_timed, [str(p) for p in paths]):
            records[Path(path).name], seconds[Path(path).name] = record, took
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return records, seconds, wall, cpu


def _norm_freq(value: dict | None) -> tuple | None:
    if not value:
        return None
    return (value["count"], value.get("count_max"), float(value["period"]), value["period_unit"])


def _norm_dur(value: dict | None) -> tuple | None:
    if not value:
        return None
    vmax = value.get("value_max")
    return (float(value["value"]), float(vmax) if vmax else None, value["unit"])


FIELDS = {
    "frequency": lambda r: _norm_freq(r["frequency"]),
    "duration": lambda r: _norm_dur(r["duration"]),
    "visits": lambda r: r["visits"],
    "patient": lambda r: ((r["patient"]["name"] or "").lower() or None, r["patient"]["dob"]),
    "prescriber_npi": lambda r: r["prescriber"]["npi"],
    "prescriber_name": lambda r: (r["prescriber"]["name"] or "").lower() or None,
    "payer": lambda r: ((r["payer"]["name"] or "").lower() or None, r["payer"]["kind"]),
    "rx_date": lambda r: r["rx_date"],
}


def score(records: dict, truth: dict) -> dict:
    """Field accuracy, code precision/recall, decisions, false accepts, by rendering."""
    by_rendering: dict[str, Counter] = defaultdict(Counter)
    by_fill: dict[str, Counter] = defaultdict(Counter)
    overall: Counter = Counter()
    confusion: Counter = Counter()
    false_accepts, wrong_accepts, misses = [], [], []
    for name, want in truth.items():
        got = records[name]
        rendering = want.get("rendering", "?")
        fill = "hand_filled" if want.get("hand_filled") else "typed"
        for bucket in (overall, by_rendering[rendering], by_fill[fill]):
            bucket["documents"] += 1
        got_codes, want_codes = [d["code"] for d in got["diagnoses"]], list(want["diagnoses"])
        hits = len(set(got_codes) & set(want_codes))
        for bucket in (overall, by_rendering[rendering], by_fill[fill]):
            bucket["code_tp"] += hits
            bucket["code_fp"] += len(set(got_codes)) - hits
            bucket["code_fn"] += len(set(want_codes)) - hits
        wrong = []
        for field, read in FIELDS.items():
            want_value = read(_truth_record(want))
            ok = read(got) == want_value
            for bucket in (overall, by_rendering[rendering], by_fill[fill]):
                bucket[field] += ok
            if not ok:
                wrong.append(field)
        status = got["decision"]["status"]
        confusion[(want["status"], status)] += 1
        for bucket in (overall, by_rendering[rendering], by_fill[fill]):
            bucket["decision"] += status == want["status"]
        if status == "accepted" and want["status"] != "accepted":
            false_accepts.append(name)
        elif status == "accepted" and (
            set(got_codes) != set(want_codes) or {"frequency", "duration"} & set(wrong)
        ):
            wrong_accepts.append(name)  # right status, but a claim would carry a misread
        if wrong or status != want["status"] or got_codes != want_codes:
            misses.append(
                {
                    "file": name,
                    "rendering": rendering,
                    "fields": wrong,
                    "status": [want["status"], status],
                    "codes": [want_codes, got_codes],
                    "reasons": [r["code"] for r in got["decision"]["reasons"]],
                }
            )
    return {
        "overall": _rates(overall),
        "by_rendering": {k: _rates(v) for k, v in sorted(by_rendering.items())},
        "by_fill": {k: _rates(v) for k, v in sorted(by_fill.items())},
        "confusion": {f"{a}->{b}": n for (a, b), n in sorted(confusion.items())},
        "false_accepts": false_accepts,
        "wrong_accepts": wrong_accepts,
        "misses": misses,
    }


def _truth_record(want: dict) -> dict:
    return {
        "frequency": want["frequency"],
        "duration": want["duration"],
        "visits": want["visits"],
        "patient": want["patient"],
        "prescriber": want["prescriber"],
        "payer": want["payer"],
        "rx_date": want["rx_date"],
    }


def _rates(counts: Counter) -> dict:
    n = counts["documents"] or 1
    tp, fp, fn = counts["code_tp"], counts["code_fp"], counts["code_fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    rates = {
        "documents": counts["documents"],
        "codes_precision": round(precision, 4),
        "codes_recall": round(recall, 4),
        "codes_f1": round(f1, 4),
    }
    for field in (*FIELDS, "decision"):
        rates[field] = round(counts[field] / n, 4)
    return rates


def ocr_overhead(settings: Settings, paths: list[Path], limit: int) -> dict:
    """Pipeline seconds vs bare ``tesseract`` on the very page images the pipeline OCR'd.

    Both run here, one after the other, single-threaded, on the same machine state, so
    the ratio holds where absolute times drift. The pipeline runs twice: as configured,
    and with the second engine (PP-OCR) off, so its share of the cost shows apart.
    """
    limit_threads()
    pipeline = Pipeline(settings)
    if settings.ocr.second_reader:
        pipeline.second_reader.load()  # once per worker in service; not a document's cost
    tesseract_only = Pipeline(
        settings.model_copy(
            update={"ocr": settings.ocr.model_copy(update={"second_reader": False})}
        )
    )
    pipeline_seconds, first_only_seconds, bare_seconds, library_seconds = 0.0, 0.0, 0.0, 0.0
    pages, passes, second = 0, 0, 0
    for path in paths[:limit]:
        started = time.perf_counter()
        processed = pipeline.process(path)
        pipeline_seconds += time.perf_counter() - started
        started = time.perf_counter()
        tesseract_only.process(path)
        first_only_seconds += time.perf_counter() - started
        passes += sum(p.ocr_passes for p in processed.read.document.pages)
        second += processed.read.second_engine
        for image in processed.read.images.values():
            bare_seconds += _bare_tesseract_seconds(settings, image)
            library_seconds += _bare_library_seconds(settings, image)
            pages += 1
    ratio = round(pipeline_seconds / bare_seconds, 3) if bare_seconds else None
    first_ratio = round(first_only_seconds / bare_seconds, 3) if bare_seconds else None
    return {
        "documents": min(limit, len(paths)),
        "ocr_pages": pages,
        "tesseract_passes": passes,
        "read_by_second_engine": second,
        "pipeline_seconds": round(pipeline_seconds, 2),
        "pipeline_seconds_tesseract_only": round(first_only_seconds, 2),
        "bare_tesseract_seconds": round(bare_seconds, 2),
        "ratio": ratio,
        "ratio_tesseract_only": first_ratio,
        # the same engine called bare in-process, as the pipeline calls it (no process
        # start or model load a page): what the pipeline adds beyond its OCR engine
        "bare_library_seconds": round(library_seconds, 2),
        "ratio_vs_bare_library": (
            round(pipeline_seconds / library_seconds, 3) if library_seconds else None
        ),
    }


def _bare_tesseract_seconds(settings: Settings, image: Image.Image) -> float:
    with page_file(image) as page_path:  # the same uncompressed file the pipeline writes
        started = time.perf_counter()
        subprocess.run(
            [settings.ocr.tesseract_cmd, page_path, "stdout", *arguments(settings.ocr).split()],
            capture_output=True,
            check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
        return time.perf_counter() - started


def _bare_library_seconds(settings: Settings, image: Image.Image) -> float:
    """One page read by tesseract's library alone (0 where tesserocr is missing)."""
    if not tesseract_library.available():
        return 0.0
    started = time.perf_counter()
    tesseract_library.read_words(image, settings.ocr, settings.ocr.page_segmentation_mode)
    return time.perf_counter() - started


def text_pdf_seconds(settings: Settings, paths: list[Path]) -> dict:
    pipeline = Pipeline(settings)
    times = []
    for path in paths:
        started = time.perf_counter()
        pipeline.process(path)
        times.append(time.perf_counter() - started)
    if not times:
        return {}
    return {
        "documents": len(times),
        "median_seconds": round(statistics.median(times), 4),
        "max_seconds": round(max(times), 4),
    }


@click.command()
@click.option("--count", default=120, show_default=True)
@click.option("--seed", default=2026, show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("bench/out"))
@click.option("--overhead-docs", default=12, show_default=True, help="OCR'd files for the ratio.")
def main(count: int, seed: int, out_dir: Path, overhead_docs: int) -> None:
    """Generate a set, run the pipeline over it, print accuracy and speed."""
    from synth.generate import generate

    settings = default_settings()
    documents = out_dir / "documents"
    if (
        not (documents / "truth.json").exists()
        or len(json.loads((documents / "truth.json").read_text())) != count
    ):
        generate(documents, count, seed)
    truth = json.loads((documents / "truth.json").read_text())
    paths = [documents / name for name in truth]
    workers = os.cpu_count() or 1
    records, seconds, wall, cpu = run_batch(settings, paths, workers)
    results = score(records, truth)
    pages = sum(r["source"]["pages"] for r in records.values()) or 1
    by_kind = defaultdict(list)
    for name, want in truth.items():
        by_kind[want.get("rendering", "?")].append(documents / name)
    results["speed"] = {
        "documents": len(paths),
        "pages": pages,
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "seconds_per_page_wall": round(wall / pages, 3),
        "seconds_per_page_cpu": round(sum(seconds.values()) / pages, 3),
        "core_use": round(cpu / (wall * workers), 3),
        "text_pdf": text_pdf_seconds(settings, by_kind.get("text_pdf", [])),
        "ocr_overhead": ocr_overhead(
            settings, by_kind.get("fax_g4", []) + by_kind.get("scanned_pdf", []), overhead_docs
        ),
    }
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    # the records themselves, to compare a miss with its truth field by field
    (out_dir / "records.json").write_text(json.dumps(records, indent=1))
    _print(results)


def _print(results: dict) -> None:
    overall = results["overall"]
    print("== Accuracy (overall) ==")
    for key, value in overall.items():
        print(f"  {key:18} {value}")
    print("== By rendering: codes F1 / frequency / duration / decision ==")
    for rendering, rates in results["by_rendering"].items():
        print(
            f"  {rendering:12} n={rates['documents']:3}  F1 {rates['codes_f1']:.3f}  "
            f"freq {rates['frequency']:.3f}  dur {rates['duration']:.3f}  "
            f"decision {rates['decision']:.3f}"
        )
    for fill, rates in results["by_fill"].items():
        print(
            f"  {fill:12} n={rates['documents']:3}  F1 {rates['codes_f1']:.3f}  "
            f"freq {rates['frequency']:.3f}  dur {rates['duration']:.3f}  "
            f"decision {rates['decision']:.3f}"
        )
    print("== Decisions (expected->produced) ==")
    for pair, n in results["confusion"].items():
        print(f"  {pair:28} {n}")
    print(f"== False accepts: {len(results['false_accepts'])} {results['false_accepts']}")
    print(
        f"== Accepted with a misread code, frequency or duration: "
        f"{len(results['wrong_accepts'])} {results['wrong_accepts']}"
    )
    print("== Speed ==")
    print(json.dumps(results["speed"], indent=2))

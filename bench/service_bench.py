"""Benchmark of the intake service: a burst of one-page faxes dropped at once.

    referrals-service-bench --count 100 --out bench/out/service

Reports documents per minute, drop-to-decision time (median, 95th percentile), peak
memory of the service and its workers, and the same pages through bare ``tesseract``
(as many at a time as there are cores) for comparison, in the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import click
from PIL import Image

from pipeline.config import default_settings
from pipeline.read import image as page_images
from pipeline.read.tesseract import arguments, write_netpbm
from pipeline.store import Store
from pipeline.store.settings import sqlite_url
from synth.generate import generate

PROJECT = Path(__file__).resolve().parent.parent


def one_page_faxes(folder: Path, count: int, seed: int) -> list[Path]:
    generate(folder, int(count * 1.6) + 5, seed, renderings=["fax_g4", "fax_g3"])
    singles = []
    for path in sorted(folder.glob("ref-*")):
        with Image.open(path) as fax:
            if getattr(fax, "n_frames", 1) == 1:
                singles.append(path)
    return singles[:count]


def bare_tesseract(faxes: list[Path], workers: int) -> float:
    """Seconds for bare tesseract over the same pages, prepared as the pipeline OCRs them."""
    settings = default_settings().ocr
    with tempfile.TemporaryDirectory() as folder:
        pages = []
        for path in faxes:
            prepared = next(
                page_images.iter_frames(
                    page_images.open_image(path.read_bytes(), settings), settings
                )
            )
            target = Path(folder) / f"{path.stem}.pnm"
            write_netpbm(prepared, target)  # the uncompressed form the pipeline hands tesseract
            pages.append(target)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

        def run(page: Path) -> None:
            subprocess.run(
                [settings.tesseract_cmd, str(page), "stdout", *arguments(settings).split()],
                capture_output=True,
                check=False,
                env=env,
            )

        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, pages))
        return time.perf_counter() - started


def _rss_kib(session: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[3]) != session:  # the process group of the service
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total


def _wait_until_ready(log: Path, limit: float = 120.0) -> None:
    """Until the service says its workers are up (spaCy and the code table loaded)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if b"service ready" in log.read_bytes():
            time.sleep(1.0)  # and the report catch-up that starts beside it
            return
        time.sleep(0.2)
    raise click.ClickException("the service did not get ready in time")


def run_service(faxes: list[Path], folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    text = (
        (PROJECT / "config.toml")
        .read_text()
        .replace("settle_seconds = 2.0", "settle_seconds = 0.5")
    )
    config.write_text(text)
    inbox = folder / "inbox"
    inbox.mkdir()
    staged = folder / "staged"
    staged.mkdir()
    for path in faxes:
        shutil.copy(path, staged / path.name)
    log = (folder / "service.log").open("wb")
    service = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--config", str(config), "watch"],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    _wait_until_ready(folder / "service.log")  # the burst is measured, not the start-up
    dropped = datetime.now(UTC)
    started = time.perf_counter()
    for path in staged.iterdir():
        path.rename(inbox / path.name)
    peak = 0
    store = Store.open(sqlite_url(folder / "data" / "referrals.sqlite3"))
    while True:
        peak = max(peak, _rss_kib(service.pid))
        counts = store.counts()
        if counts["documents"] >= len(faxes) and counts["pending"] == 0:
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    latencies = []
    for record in store.export():
        stored = store.get(record["id"])
        latencies.append((stored.decided_at - dropped).total_seconds())
    store.close()
    service.send_signal(signal.SIGTERM)
    service.wait(timeout=120)
    latencies.sort()
    return {
        "documents": len(faxes),
        "seconds": round(elapsed, 1),
        "documents_per_minute": round(len(faxes) / elapsed * 60, 1),
        "drop_to_decision_median_s": round(statistics.median(latencies), 1),
        "drop_to_decision_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        "peak_memory_mib": round(peak / 1024, 1),
    }


@click.command()
@click.option("--count", default=100, show_default=True)
@click.option("--seed", default=77, show_default=True)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=Path("bench/out/service")
)
def main(count: int, seed: int, out_dir: Path) -> None:
    """Drop a burst of faxes on a running service; compare with bare tesseract."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    faxes = one_page_faxes(out_dir / "faxes", count, seed)
    workers = os.cpu_count() or 1
    bare = bare_tesseract(faxes, workers)
    service = run_service(faxes, out_dir / "service")
    service["bare_tesseract_seconds"] = round(bare, 1)
    service["bare_tesseract_documents_per_minute"] = round(len(faxes) / bare * 60, 1)
    service["throughput_ratio"] = round(
        service["documents_per_minute"] / service["bare_tesseract_documents_per_minute"], 3
    )
    service["workers"] = workers
    (out_dir / "results.json").write_text(json.dumps(service, indent=2))
    print(json.dumps(service, indent=2))

"""Rendering benchmark: ecg2d's OpenCV renderer vs the seed's matplotlib route, same 500 beats.

The seed draws each beat in a matplotlib figure, saves it as PNG, reads it back with OpenCV in
grayscale and resizes it to 128 px with Lanczos interpolation. ecg2d draws the trace straight
into a 128 px raster (anti-aliased polyline) and writes the PNG.

Usage: .venv/bin/python bench/render_bench.py [--data-dir ../shared/data/mitdb] [--beats 500]
[--out bench/results/render.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ecg2d.io import read_record  # noqa: E402
from ecg2d.render import render_beat, write_png  # noqa: E402
from ecg2d.segment import segment_record  # noqa: E402


def seed_render(segment, path, size=128):
    """The seed's method: figure -> savefig -> cv2 read -> Lanczos resize -> write."""
    fig = plt.figure(frameon=False)
    plt.plot(segment)
    plt.xticks([]), plt.yticks([])
    for spine in plt.gca().spines.values():
        spine.set_visible(False)
    fig.savefig(path)
    plt.close(fig)
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_LANCZOS4)
    cv2.imwrite(str(path), image)


def ecg2d_render(segment, path, size=128):
    write_png(path, render_beat(segment, size))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).parents[2] / "shared/data/mitdb"))
    parser.add_argument("--record", default="208")
    parser.add_argument("--beats", type=int, default=500)
    parser.add_argument("--sample-out", help="write a side-by-side PNG of a few beats here")
    parser.add_argument("--out", help="also write the figures, date and machine to this JSON")
    args = parser.parse_args()

    beats = segment_record(read_record(args.data_dir, args.record), "jun2018")
    segments = [
        beats["signal"][s:e]
        for s, e in zip(beats["start"][: args.beats], beats["end"][: args.beats])
    ]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, render in (("seed (matplotlib)", seed_render), ("ecg2d (OpenCV)", ecg2d_render)):
            out = Path(tmp) / name.split()[0]
            out.mkdir()
            start = time.perf_counter()
            for i, segment in enumerate(segments):
                render(segment, out / f"{i:04d}.png")
            results[name] = (time.perf_counter() - start) / len(segments) * 1000
        if args.sample_out:
            import numpy as np

            row = [
                cv2.imread(str(Path(tmp) / d / f"{i:04d}.png"), 0)
                for d in ("seed", "ecg2d")
                for i in range(4)
            ]
            cv2.imwrite(args.sample_out, np.hstack(row))
    seed_ms, ours_ms = results["seed (matplotlib)"], results["ecg2d (OpenCV)"]
    print(f"record {args.record}, {len(segments)} beats, jun2018 windows, 128 px")
    print("| renderer | ms per beat |\n|---|---|")
    for name, ms in results.items():
        print(f"| {name} | {ms:.3f} |")
    print(f"speed-up: {seed_ms / ours_ms:.0f}x")
    if args.out:
        from ds1_cv import machine

        Path(args.out).write_text(
            json.dumps(
                {
                    "command": " ".join(sys.argv[1:]),
                    "date": str(date.today()),
                    "machine": machine(),
                    "record": args.record,
                    "beats": len(segments),
                    "ms_per_beat": results,
                    "speed_up": seed_ms / ours_ms,
                },
                indent=1,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()

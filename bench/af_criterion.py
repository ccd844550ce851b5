"""A published atrial fibrillation criterion over RR intervals, described on DS1 and on the stress
test's records: does it tell fibrillation from frequent premature beats without being learnt?

The DS1 stress rounds (BENCHMARKS.md, *a stress test*) found z-scores that carry over to records
whose premature beats are as many as their sinus beats, at a price paid in false SVEBs in record
203's atrial fibrillation: the trees learn what fibrillation looks like from DS1's two
fibrillating patients (201, 203) only. A fixed criterion from the literature needs no training:
Dash et al. 2009 (Ann. Biomed. Eng. 37:1701, "Automatic real time detection of atrial
fibrillation") call a segment of 128 RR intervals fibrillation when, after dropping its 8
longest and 8 shortest intervals, (1) the root mean square of successive differences over the
mean interval is above 0.1 (irregular), (2) the turning point ratio, the share of intervals
longer or shorter than both neighbours, is within 0.54–0.77, around the 2/3 of a random
sequence (atrial bigeminy turns at every beat, near 1), and (3) the Shannon entropy of the
intervals' 16-bin histogram, over that of 16 equal bins, is above 0.7 (bigeminy fills two
bins). Per beat here, over the 128 beats centred on it (fewer at a record's ends), each
figure and the verdict; counted in beats and made of ratios of seconds, the same at any
sampling rate.

This benchmark only describes: per DS1 record, as recorded, and per stressed copy of the DS1
records with at least ``--min-s`` S beats (``bench/ds1_stress.py``), the share of beats the
criterion calls fibrillation and the median of each figure. No model is fitted and nothing is
chosen. DS1 only; DS2 is never read.

    .venv/bin/python bench/af_criterion.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``--out`` (JSON, default ``bench/results/af_criterion.json``) and its table (``.md``)
beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

#: Dash et al. 2009: the segment's length in beats, the intervals dropped at each end, and the
#: thresholds of the three tests.
SEGMENT, TRIM = 128, 8
NRMSSD_MIN, TPR_RANGE, ENTROPY_MIN, BINS = 0.1, (0.54, 0.77), 0.7, 16


def segment_figures(rr) -> tuple[float, float, float]:
    """``(nrmssd, tpr, entropy)`` of one segment of RR intervals (seconds, in order) after its
    :data:`TRIM` longest and shortest are dropped (Dash et al. 2009); NaN for fewer than 8
    intervals left."""
    rr = np.asarray(rr, dtype=np.float64)
    rr = rr[~np.isnan(rr)]
    if len(rr) - 2 * TRIM >= 8:
        order = np.argsort(rr, kind="stable")
        keep = np.sort(order[TRIM : len(rr) - TRIM])
        rr = rr[keep]
    if len(rr) < 8:
        return (np.nan, np.nan, np.nan)
    nrmssd = float(np.sqrt(np.mean(np.diff(rr) ** 2)) / np.mean(rr))
    middle = rr[1:-1]
    turning = ((middle > rr[:-2]) & (middle > rr[2:])) | ((middle < rr[:-2]) & (middle < rr[2:]))
    tpr = float(turning.sum() / len(rr))
    counts, _ = np.histogram(rr, bins=BINS)
    p = counts[counts > 0] / len(rr)
    entropy = float(-(p * np.log(p)).sum() / np.log(BINS))
    return (nrmssd, tpr, entropy)


def dash_af(pre_rr, segment: int = SEGMENT) -> dict[str, np.ndarray]:
    """Per beat of one record (in time order): the three figures of :func:`segment_figures` over
    the ``segment`` beats' ``pre_rr`` centred on it, and ``af``, whether all three tests call
    it fibrillation."""
    from ecg2d.segment import centred_windows

    pre = np.asarray(pre_rr, dtype=np.float64)
    figures = (
        np.array([segment_figures(w) for w in centred_windows(pre, segment)])
        if len(pre)
        else np.zeros((0, 3))
    )
    nrmssd, tpr, entropy = figures.T
    with np.errstate(invalid="ignore"):
        af = (
            (nrmssd > NRMSSD_MIN)
            & (tpr >= TPR_RANGE[0])
            & (tpr <= TPR_RANGE[1])
            & (entropy > ENTROPY_MIN)
        )
    return {"nrmssd": nrmssd, "tpr": tpr, "entropy": entropy, "af": af}


def describe(beats: dict) -> dict:
    """The share of a beats dict's beats called fibrillation, and each figure's median."""
    figures = dash_af(beats["pre_rr"])
    out = {"beats": len(beats["pre_rr"]), "af_share": round(float(np.mean(figures["af"])), 3)}
    out.update({k: round(float(np.nanmedian(figures[k])), 3) for k in ("nrmssd", "tpr", "entropy")})
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--min-s", type=int, default=50, help="S beats a stressed record needs")
    parser.add_argument("--out", default=str(REPO / "bench/results/af_criterion.json"))
    args = parser.parse_args(argv)

    import ds1_fusion
    import ds1_stress
    from ds1_cv import machine

    from ecg2d.split import read_table

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    experiment = ds1_fusion.shipped_experiment()
    train = [str(r) for r in experiment["train_records"]]
    stressed = ds1_stress.stressed_records(read_table(args.manifest), train, args.min_s)
    is_s = ds1_stress.is_s_of(experiment["classes"])
    cut = ds1_stress.cutter(experiment, config)
    records = {}
    for name in train:
        record = ds1_stress.read(args.data_dir, name, config)
        records[name] = describe(cut(record))
        if name in stressed:
            copy, _ = ds1_stress.stressed_record(record, is_s)
            records[f"{name}s"] = describe(cut(copy))
        print(name, records[name], records.get(f"{name}s", ""), flush=True)
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["bench/af_criterion.py", *(argv or sys.argv[1:])]),
        "records": records,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# A published fibrillation criterion (Dash et al. 2009) on DS1 and the stressed records",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. "
        "Per record (a stressed copy: the record's name with `s`): beats, the share called "
        "fibrillation, and the medians over its beats of the three figures over the 128 beats "
        "around each.",
        "",
        "| record | beats | called fibrillation | nRMSSD (> 0.1) | TPR (0.54–0.77) "
        "| entropy (> 0.7) |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {r['beats']} | {100 * r['af_share']:.1f} % | {r['nrmssd']:.3f} | "
            f"{r['tpr']:.3f} | {r['entropy']:.3f} |"
            for name, r in records.items()
        ),
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

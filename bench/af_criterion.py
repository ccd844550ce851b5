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

As published it calls frequent ventricular ectopy fibrillation too (208, 106). A variant
reads the rhythm the premature beats interrupt rather than the beats themselves
(:func:`dash_af_between`): the criterion over the intervals between consecutive beats that are
not premature (``pre_rr`` at least 0.9 of the dominant cycle ``upper_rr``), each beat taking the
verdict of the last such beat at or before it. A premature beat and its compensatory pause
then make one interval of about two cycles; fibrillation's intervals stay random.

This benchmark only describes: per DS1 record, as recorded, and per stressed copy of the DS1
records with at least ``--min-s`` S beats (``bench/ds1_stress.py``), the share of beats each
criterion calls fibrillation and the median of each figure; and, per DS1 record as recorded,
the share of beats the reference rhythm annotations (``aux_note`` ``(AFIB`` or ``(AFL``, each
beat in the rhythm last annotated before it) put in fibrillation or flutter, and each
criterion's beat sensitivity and specificity for it over all DS1 beats. A stressed copy is a
splice of a record's sinus and S beats, no fibrillation in it by construction of its S beats'
rhythm. No model is fitted and nothing is chosen. DS1 only; DS2 is never read.

    .venv/bin/python bench/af_criterion.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``--out`` (JSON, default ``bench/results/af_criterion.json``) and its table (``.md``)
beside it.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

# The criterion's home is the library; this benchmark describes it.
from ecg2d.fibrillation import TPR_RANGE, dash_af, segment_figures  # noqa: E402
from ecg2d.fibrillation import fibrillation_between as dash_af_between  # noqa: E402

__all__ = ["TPR_RANGE", "dash_af", "dash_af_between", "segment_figures"]


def annotated_af(data_dir: str, name: str, samples, fs: float) -> np.ndarray:
    """Whether each beat (its ``samples`` at rate ``fs``) lies in a stretch the record's
    reference annotations call atrial fibrillation or flutter (``aux_note`` ``(AFIB`` or
    ``(AFL``; the rhythm last annotated at or before the beat)."""
    import wfdb

    ann = wfdb.rdann(str(Path(data_dir) / name), "atr")
    marks = [(s, n.strip("\x00 ")) for s, n in zip(ann.sample, ann.aux_note) if n.startswith("(")]
    at = np.asarray(samples, dtype=np.float64) * ann.fs / fs
    if not marks:
        return np.zeros(len(at), dtype=bool)
    where = np.searchsorted([m[0] for m in marks], at, side="right") - 1
    af = np.array([m[1] in ("(AFIB", "(AFL") for m in marks])
    return np.where(where >= 0, af[np.clip(where, 0, None)], False)


def describe(beats: dict) -> dict:
    """The share of a beats dict's beats called fibrillation (as published, and
    :func:`dash_af_between`), and each figure's median."""
    figures = dash_af(beats["pre_rr"])
    between = dash_af_between(beats["pre_rr"], beats["upper_rr"])
    out = {
        "beats": len(beats["pre_rr"]),
        "af_share": round(float(np.mean(figures["af"])), 3),
        "af_between_share": round(float(np.mean(between)), 3),
    }
    out.update({k: round(float(np.nanmedian(figures[k])), 3) for k in ("nrmssd", "tpr", "entropy")})
    return out, figures["af"], between


def agreement(called, truth) -> dict:
    """Beat sensitivity and specificity of boolean verdicts ``called`` against ``truth``."""
    called, truth = np.asarray(called, dtype=bool), np.asarray(truth, dtype=bool)
    return {
        "se": round(float(called[truth].mean()), 3) if truth.any() else None,
        "sp": round(float((~called[~truth]).mean()), 3) if (~truth).any() else None,
    }


def main(argv=None) -> None:
    import ds1_stress
    from ds1_cv import machine

    args, setting = ds1_stress.description(__doc__, "af_criterion", argv)
    train, stressed, is_s, cut = setting.train, setting.stressed, setting.is_s, setting.cut
    config = setting.config
    records, verdicts = {}, {"published": [], "between": [], "annotated": []}
    for name in train:
        record = ds1_stress.read(args.data_dir, name, config)
        beats = cut(record)
        records[name], published, between = describe(beats)
        truth = annotated_af(args.data_dir, name, beats["sample"], float(beats["fs"]))
        records[name]["annotated_share"] = round(float(np.mean(truth)), 3)
        for key, value in zip(verdicts, (published, between, truth)):
            verdicts[key].append(value)
        if name in stressed:
            copy, _ = ds1_stress.stressed_record(record, is_s)
            records[f"{name}s"] = describe(cut(copy))[0]
        print(name, records[name], records.get(f"{name}s", ""), flush=True)
    truth = np.concatenate(verdicts["annotated"])
    overall = {
        key: agreement(np.concatenate(verdicts[key]), truth) for key in ("published", "between")
    }
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["bench/af_criterion.py", *(argv or sys.argv[1:])]),
        "records": records,
        "against_annotations": overall,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# A published fibrillation criterion (Dash et al. 2009) on DS1 and the stressed records",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. "
        "Per record (a stressed copy: the record's name with `s`): beats, the share annotated "
        "fibrillation or flutter, the share called fibrillation as published and over the "
        "intervals between non-premature beats, and the medians over its beats of the "
        "published three figures over the 128 beats around each.",
        "",
        "| record | beats | annotated AFIB/AFL | called (published) | called (between "
        "non-premature) | nRMSSD (> 0.1) | TPR (0.54–0.77) | entropy (> 0.7) |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {r['beats']} | "
            + (f"{100 * r['annotated_share']:.1f} %" if "annotated_share" in r else "–")
            + f" | {100 * r['af_share']:.1f} % | {100 * r['af_between_share']:.1f} % | "
            f"{r['nrmssd']:.3f} | {r['tpr']:.3f} | {r['entropy']:.3f} |"
            for name, r in records.items()
        ),
        "",
        "Against the annotations, over all DS1 beats as recorded: "
        + "; ".join(
            f"{key} Se {100 * a['se']:.1f} % / Sp {100 * a['sp']:.1f} %"
            for key, a in overall.items()
        )
        + ".",
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

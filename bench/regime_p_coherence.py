"""How alike the P waves of the beats ending the longer interval group are, where premature
beats set the cycle: a description for a later round (nothing fitted or chosen).

Round 19's false S in DS1's regime beats (``bench/regime_false_s.py``) are fast beats labelled N
in records with atrial flutter, fibrillation or supraventricular tachycardia (201, 207), whose
intervals also fall into two groups. Where premature atrial beats set the cycle, the beats that
end the longer group are sinus beats, and their P waves are alike; in flutter or tachycardia
with varying conduction no beat has a sinus P wave, and what precedes the longer intervals'
beats is flutter waves at varying phase. Candidate measure, ``p_coherence``: per beat, over
the 61 beats centred on it, the median P-wave likeness (``ecg2d.shape.stretch_likeness``, the
beats stage's P-wave stretch) of the reference beats (``pre_rr`` at least round 15's cycle,
``ds1_long_cycle_probe.cycle``) to their own template. Reported, per DS1 record with regime
beats and per stressed copy of both forms (``bench/ds1_stress.py``; ``--after-every`` 1 and 4),
its median over the regime beats and over all beats, and the regime's share of the beats.
DS1 only; DS2 is never read.

    .venv/bin/python bench/regime_p_coherence.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/regime_p_coherence.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_long_cycle_probe  # noqa: E402
import ds1_stress  # noqa: E402
from ds1_cv import machine  # noqa: E402

#: Beats of the window the coherence is taken over.
WINDOW = 61


def p_coherence(record) -> dict[str, np.ndarray]:
    """Per annotated beat of ``record``: ``coherence`` (see the module) and ``regime`` (round
    15's cycle longer than the upper quartile), in time order."""
    from ecg2d.regime import p_coherence as coherence_of
    from ecg2d.rr import not_premature
    from ecg2d.shape import p_wave_stretches, stretch_likeness

    _, points, rr, cycle = ds1_long_cycle_probe.record_rhythm(record)
    reference = not_premature(rr["pre_rr"], cycle, share=1.0)
    likeness = stretch_likeness(p_wave_stretches(record.signal, record.fs, points), reference)
    coherence = coherence_of(likeness, reference, WINDOW, missing=np.nan)
    return {"coherence": coherence, "regime": cycle > np.asarray(rr["upper_rr"]) + 1e-12}


def summary(values: dict) -> dict:
    """Medians of the coherence over the regime beats and all beats, and the regime's share."""
    c, regime = values["coherence"], values["regime"]

    def median(mask):
        x = c[mask & np.isfinite(c)]
        return float(np.median(x)) if len(x) else None

    return {
        "beats": int(len(c)),
        "regime_share": float(regime.mean()),
        "regime": median(regime),
        "all": median(np.ones(len(c), dtype=bool)),
    }


def main(argv=None) -> None:
    import json

    args, setting = ds1_stress.description(__doc__, "regime_p_coherence", argv)
    rows = {}
    for name in setting.train:
        record = ds1_stress.read(args.data_dir, name, setting.config)
        s = summary(p_coherence(record))
        if s["regime_share"] > 0:
            rows[name] = s
    is_n = ds1_stress.is_s_of(setting.experiment["classes"], "N")
    for after, form in ((1, "bigeminy"), (4, "runs")):
        for name in setting.stressed:
            record = ds1_stress.read(args.data_dir, name, setting.config)
            stressed, _ = ds1_stress.stressed_record(record, setting.is_s, after, is_n)
            rows[f"{name}s ({form})"] = summary(p_coherence(stressed))
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(
            ["bench/regime_p_coherence.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "records": rows,
    }
    out = Path(args.out)
    out.write_text(json.dumps(result, indent=1) + "\n")

    def num(x):
        return "—" if x is None else f"{x:.2f}"

    lines = [
        "# P-wave coherence of the beats ending the longer interval group (a description)",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. DS1 "
        "records with regime beats, and the stressed copies of both forms; medians.",
        "",
        "| record | beats | regime share | coherence, regime beats | coherence, all beats |",
        "|---|---|---|---|---|",
    ]
    for name, s in rows.items():
        lines.append(
            f"| {name} | {s['beats']} | {100 * s['regime_share']:.0f} % | {num(s['regime'])} | "
            f"{num(s['all'])} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

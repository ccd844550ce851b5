"""How many intervals the fibrillation criterion reads, chosen against DS1's rhythm annotations.

``ecg2d.fibrillation.fibrillation_between`` applies Dash et al. 2009's three tests to 128
intervals between non-premature beats centred on each beat, the published segment. Rounds 11
and 12 (``bench/ds1_af_rhythm_probe.py``, ``ds1_af_rhythm_local_probe.py``) gave the trees its
verdict in place of their rhythm columns and lost DS1 in record 201 (134–141 false SVEBs), whose
rhythm changes every few dozen beats: per annotated stretch, 201's fibrillation from sample
171815 (62 beats) is called on 19 % of its beats and the sinus rhythm after its first
fibrillation (76 beats) on 99 %, the verdict lagging the changes by about half a segment. A
shorter segment follows the changes sooner and is noisier. This benchmark scores the criterion
with segments of 32, 64 and 128 intervals against the reference rhythm annotations (``aux_note``
``(AFIB`` or ``(AFL``; ``bench/af_criterion.py``'s ``annotated_af``) over every DS1 beat as
recorded: beat Se, Sp and their mean (balanced accuracy), and the share called on each
stressed copy (``bench/ds1_stress.py``; no fibrillation there). No model is fitted; the
annotations are DS1's, and DS2 is never read.

The rule, fixed before the run: the published 128 stays unless another segment's balanced
accuracy over DS1 beats is higher by more than 1 point (the largest such, if several); a
segment so chosen is then tried by a stress round of its own, with its rule written before it
runs (it does not enter the workflow by this benchmark).

    .venv/bin/python bench/af_segment_choice.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/af_segment_choice.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

#: The segments compared, the published one first.
SEGMENTS = (128, 64, 32)
#: The balanced accuracy a segment must gain over the published one to be chosen (fraction).
MARGIN = 0.01


def choose(scores: dict) -> int:
    """The rule: the published segment (the first of ``scores``, ``{segment: balanced
    accuracy}``) unless another is higher by more than :data:`MARGIN`; the highest such."""
    published = next(iter(scores))
    best = max(scores, key=lambda s: scores[s])
    return best if scores[best] > scores[published] + MARGIN else published


def main(argv=None) -> None:
    import af_criterion
    import ds1_stress
    from ds1_cv import machine

    from ecg2d.fibrillation import fibrillation_between

    args, setting = ds1_stress.description(__doc__, "af_segment_choice", argv)
    train, stressed, is_s, cut = setting.train, setting.stressed, setting.is_s, setting.cut
    config = setting.config
    called = {s: [] for s in SEGMENTS}
    truth, copies = [], {s: {} for s in SEGMENTS}
    for name in train:
        record = ds1_stress.read(args.data_dir, name, config)
        beats = cut(record)
        truth.append(
            af_criterion.annotated_af(args.data_dir, name, beats["sample"], float(beats["fs"]))
        )
        copy = cut(ds1_stress.stressed_record(record, is_s)[0]) if name in stressed else None
        for segment in SEGMENTS:
            verdict = fibrillation_between(beats["pre_rr"], beats["upper_rr"], segment)
            called[segment].append(verdict)
            if copy is not None:
                verdict = fibrillation_between(copy["pre_rr"], copy["upper_rr"], segment)
                copies[segment][f"{name}s"] = round(float(verdict.mean()), 3)
        print(name, flush=True)
    truth = np.concatenate(truth)
    results = {}
    for segment in SEGMENTS:
        a = af_criterion.agreement(np.concatenate(called[segment]), truth)
        results[segment] = {**a, "balanced": round((a["se"] + a["sp"]) / 2, 4)}
        results[segment]["stressed_called"] = copies[segment]
    chosen = choose({s: results[s]["balanced"] for s in SEGMENTS})
    rule = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "command": " ".join(["bench/af_segment_choice.py", *(argv or sys.argv[1:])]),
        "results": {str(s): r for s, r in results.items()},
        "rule": " ".join(rule.split()),
        "chosen": chosen,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    names = sorted(copies[SEGMENTS[0]])
    lines = [
        "# The fibrillation criterion's segment, against DS1's rhythm annotations",
        "",
        f"`.venv/bin/python {result['command']}` — {result['date']}, {result['machine']}. "
        "Beat Se and Sp of `fibrillation_between` against the annotated AFIB/AFL over every DS1 "
        "beat, their mean, and the share called on each stressed copy (none fibrillates).",
        "",
        "| segment (intervals) | Se | Sp | balanced | "
        + " | ".join(f"{n} called" for n in names)
        + " |",
        "|---|---|---|---|" + "---|" * len(names),
        *(
            f"| {s} | {100 * r['se']:.1f} | {100 * r['sp']:.1f} | {100 * r['balanced']:.1f} | "
            + " | ".join(f"{100 * r['stressed_called'][n]:.1f}" for n in names)
            + " |"
            for s, r in results.items()
        ),
        "",
        f"Rule: {result['rule']}",
        "",
        f"**Chosen: {chosen}**",
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""DS1 probe, not built into the workflow: the tree expert also trained on records whose
ectopic beats are as many as their sinus beats.

``bench/ds1_stress.py`` makes such records of DS1's own (its S beats kept with the beat before
and after, the sinus stretches between cut out) and shows the configured expert failing on
them as it fails on DS2's record 232: it finds almost none of their S beats. Joined this way,
isolated atrial premature beats become atrial bigeminy, whose alternating RR the rhythm
columns read as an irregular rhythm, in which the trees have learnt that a short RR means
nothing. The candidate trains each fold's expert on the stressed copies of its training
records too (each copy a record of its own, so the per-record weights give it its own share;
never a copy of a held-out record). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_psinus``, record weights, alone
as configured), against the same also trained on the stressed copies (``+stressed``), both
deterministic (no seed). The candidate is adopted, to be built into the workflow, only if both:
its DS1 record criterion (every DS1 beat out of fold, the expert alone, the configured class
factors) is not lower than the incumbent's by more than 0.5 points, and on the held-out
stressed records its pooled SVEB Se is higher by more than 10 points with a pooled SVEB +P of
at least 50 %. Otherwise nothing is built.

    .venv/bin/python bench/ds1_stress_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_stress_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_stress  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]
INCUMBENT, CANDIDATE = "gbm_psinus~record", "gbm_psinus~record+stressed"
#: The rule's thresholds: the DS1 criterion's largest fall, the stressed Se's smallest gain,
#: the stressed +P's floor (fractions, as the figures are).
MAX_FALL, MIN_GAIN, MIN_PPV = 0.005, 0.10, 0.50


def decide(result: dict) -> str:
    """The rule on a ``bench/ds1_stress.py`` result of :data:`INCUMBENT` and
    :data:`CANDIDATE`: the item chosen."""
    a, b = result["results"][INCUMBENT], result["results"][CANDIDATE]
    fall = a["ds1"]["criterion_record"] - b["ds1"]["criterion_record"]
    gain = (b["stressed"]["SVEB"]["Se"] or 0.0) - (a["stressed"]["SVEB"]["Se"] or 0.0)
    ppv = b["stressed"]["SVEB"]["+P"] or 0.0
    return CANDIDATE if fall <= MAX_FALL and gain > MIN_GAIN and ppv >= MIN_PPV else INCUMBENT


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_stress_probe.json"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    ds1_stress.main(
        ["--data-dir", args.data_dir, "--manifest", args.manifest, "--out", str(out)]
        + ["--expert", INCUMBENT, CANDIDATE]
    )
    result = json.loads(out.read_text())
    result["rule"] = " ".join(RULE.split())
    result["chosen"] = decide(result)
    out.write_text(json.dumps(result, indent=1) + "\n")
    md = out.with_suffix(".md")
    md.write_text(
        md.read_text() + f"\nRule: {result['rule']}\n\n**Chosen: `{result['chosen']}`**\n"
    )
    print(f"chosen: {result['chosen']}")


if __name__ == "__main__":
    main()

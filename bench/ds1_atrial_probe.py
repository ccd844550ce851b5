"""DS1 probe, not built into the workflow: does organised atrial activity around a beat help the
tree expert tell atrial fibrillation from frequent premature beats?

The expert's rhythm columns see *that* the RR intervals around a beat are irregular
(``rhythm_irregularity``, ``rhythm_cells``), and trees learn from DS1's fibrillation that a
short interval in an irregular rhythm means nothing. Irregular intervals with a P wave before
most beats are another rhythm: sinus rhythm broken by premature beats, or by pauses. A P wave
is the textbook mark that tells them apart (fibrillation has none). Per beat, ``p_corr`` is
``bench/ds1_expert_study.py``'s P-wave likeness (the band-passed 250-70 ms before R, correlated
with the record's median of it); ``p_organised`` is its median over the 61 beats centred on the
beat, the window of the rhythm columns: high where the atrial activity before the beats
repeats, low in fibrillation. Counted in beats and measured in seconds, both mean the same at
any sampling rate. The candidates are registered as extra expert kinds for this process only.
DS1 only; DS2 is never read.

The rule, fixed before the run: the shipped expert (``model.expert`` and ``expert_weights`` of
``inter_patient``), then the same with ``p_organised``, then with ``p_corr`` and
``p_organised``, each fused with the stored out-of-fold CNN tables of ``--cnn`` at every CNN
weight 0, 0.1, ..., 1 with the configured ``model.class_factors`` applied, each at its best
weight by the mean ``--criterion`` over the seeds; taken in that order, a later one replaces
the current choice only if its mean is higher by more than the larger seed sd of the two.

    .venv/bin/python bench/ds1_atrial_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv \\
        --cnn results/ds1_cv/recipe_cnn/recipe_cnn --criterion record

Results: ``--out`` (JSON) and its table (``.md``) beside it; the two columns' medians per record
and beat symbol, for every DS1 record, in the JSON's ``medians``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402

RULE = __doc__.split("The rule, fixed before the run: ")[1].split("\n\n")[0]
#: The beats over which ``p_organised`` is a median: the rhythm columns' window.
WINDOW = 61
#: The candidates after the shipped expert, in the rule's order: kind, extra columns.
CANDIDATES = (
    ("gbm_porg", ("p_organised",)),
    ("gbm_p_porg", ("p_corr", "p_organised")),
)


def organised(p_corr, window: int = WINDOW) -> np.ndarray:
    """The median of per-beat P-wave likenesses ``p_corr`` (one record, in time order) over the
    ``window`` beats centred on each beat (fewer at the record's ends)."""
    series = pd.Series(np.asarray(p_corr, dtype=np.float64))
    return series.rolling(window, center=True, min_periods=1).median().to_numpy()


def atrial_columns(rows: pd.DataFrame, data_dir: str) -> pd.DataFrame:
    """``rows`` (DS1 original beats) sorted by record and sample, with ``p_corr`` and
    ``p_organised``."""
    from ds1_expert_study import with_p_wave

    return with_p_wave(rows, data_dir, p_organised=organised)


def medians(rows: pd.DataFrame) -> dict:
    """Per record and beat symbol: beats and the medians of the two columns."""
    return {
        record: {
            symbol: {
                "beats": int(len(beats)),
                **{c: round(float(beats[c].median()), 3) for c in ("p_corr", "p_organised")},
            }
            for symbol, beats in group.groupby("symbol")
        }
        for record, group in rows.groupby("record")
    }


def main(argv=None) -> None:
    from ecg2d.expert import fuse

    parser = ds1_fusion.probe_parser(__doc__.split("\n")[0], rule=False)
    parser.add_argument("--criterion", choices=sorted(ds1_fusion.CRITERIA), default="record")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", default=str(REPO / "bench/results/ds1_atrial_probe.json"))
    args = parser.parse_args(argv)
    experiment = ds1_fusion.shipped_experiment()
    kind, _ = ds1_fusion.configured_expert(experiment)
    base, _, weighting = kind.partition("~")
    if base != "gbm_premature":
        raise SystemExit(f"the candidates extend gbm_premature; the configured expert is {kind}")
    rows = atrial_columns(ds1_fusion.ds1_originals(args.manifest), args.data_dir)
    suffix = f"~{weighting}" if weighting else ""
    for name, columns in CANDIDATES:
        ds1_fusion.register_probe_kind(name, columns)

    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.csv"
        rows.to_csv(manifest, index=False)

        def variants_of(pairs):
            variants = {kind: (fuse, pairs)}
            for name, _ in CANDIDATES:
                candidate = ds1_fusion.oof_pairs(
                    manifest, args.cnn, args.seeds, name + suffix, experiment
                )
                variants[name + suffix] = (fuse, candidate)
            return variants

        args.manifest = str(manifest)
        ds1_fusion.weight_probe(
            args,
            argv,
            "ds1_atrial_probe",
            RULE,
            "DS1: organised atrial activity in the `{kind}` expert",
            f"seeds {args.seeds}",
            variants_of,
            medians=medians(rows),
        )


if __name__ == "__main__":
    main()

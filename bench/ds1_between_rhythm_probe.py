"""DS1 probe, not built into the workflow: the rhythm's irregularity read from the intervals between
non-premature beats.

Rounds 11 and 12 (``bench/ds1_af_rhythm_probe.py``, ``ds1_af_rhythm_local_probe.py``) showed
that the irregularity features are what still hides the stress test's S beats from the
configured expert (``gbm_gated``; replacing them by a fixed fibrillation verdict doubled the
stressed S beats found) and also what keeps the trees off record 201's short stretches of
fibrillation (DS1 lost 3.4–4.0 points without them). The verdict was binary and slow; the
features are learnt and follow rhythm changes. This round keeps learnt features and changes
what they read: ``rr_irregularity`` (over 10 intervals) and ``rhythm_irregularity`` (its
median over 61) computed by the same functions (``ecg2d.segment``) over the intervals between
consecutive non-premature beats (``ecg2d.rr.not_premature``; a premature beat and its pause
make one interval of about two cycles, so bigeminy is regular there and fibrillation is not),
each beat taking the value of the last such beat at or before it: ``b_rr_irregularity`` and
``b_rhythm_irregularity``. ``rhythm_cells`` is kept as it is. A look at the values before this
rule (``bench/between_rhythm_values.py`` → ``bench/results/between_rhythm_values.md``, medians
over beats of log(x + 0.01)): the local irregularity in the stressed copies −2.96 / −2.64 /
−1.55 / −2.73 / −1.78 / −2.42 (N beats of 118s, 201s, 207s, 209s, 220s, 223s) against −0.98 /
−0.17 / −1.55 / −1.05 / −0.60 / −1.13 as shipped; in fibrillation (201, 203) −0.60 / −0.69
against −1.51 / −1.19; in the steady records about −3.3 either way. Ratios of seconds over
windows counted in beats, the same at any sampling rate. Computed per record from the
manifest's beats in time order (``ds1_stress.DERIVED``). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_gated``, record weights, alone as
configured), then ``gbm_gated_between`` (its local irregularity and ``rhythm_irregularity``
replaced by ``b_rr_irregularity`` and ``b_rhythm_irregularity``); the candidate replaces the
configured expert only if both: its DS1 record criterion (every DS1 beat out of fold, the
expert alone, the configured class factors) is not lower by more than 0.5 points, and on the
held-out stressed records its pooled SVEB Se is higher by more than 10 points with a pooled
SVEB +P of at least 50 % (``bench/ds1_stress_probe.py``'s rule). Deterministic experts, no
seed. No stressed copy is trained on. If it is adopted, it is built into the workflow and DS2
scored once by ``make run`` and three seeds.

    .venv/bin/python bench/ds1_between_rhythm_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_between_rhythm_probe.json`` and its table (``.md``) beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_fusion  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_gated_between~record")
KIND = "gbm_gated_between"
#: The shipped columns and the ones read in their place.
SWAP = {"rr_irregularity": "b_rr_irregularity", "rhythm_irregularity": "b_rhythm_irregularity"}


def between_rhythm(pre_rr, upper_rr) -> dict[str, np.ndarray]:
    """Per beat of one record (in time order): ``rr_irregularity``, ``rhythm_irregularity`` and
    ``rhythm_cells`` (``ecg2d.segment``) computed over the intervals between consecutive
    non-premature beats, each beat taking the value of the last such beat at or before it
    (the first such beat's, before it), as ``b_rr_irregularity``, ``b_rhythm_irregularity``
    and ``b_rhythm_cells``; zeros where fewer than two beats are non-premature."""
    from ecg2d.rr import between_non_premature
    from ecg2d.segment import rhythm_cells, rhythm_irregularity, rr_irregularity

    names = ("b_rr_irregularity", "b_rhythm_irregularity", "b_rhythm_cells")
    rhythm = between_non_premature(pre_rr, upper_rr)
    if rhythm is None:
        return {name: np.zeros(len(np.asarray(pre_rr))) for name in names}
    between, last = rhythm
    local = rr_irregularity(between)
    values = (local, rhythm_irregularity(local), rhythm_cells(between))
    return {name: v[last] for name, v in zip(names, values)}


def register() -> None:
    """Register, for this process only, kind ``gbm_gated_between`` (``gbm_gated`` reading the
    :data:`SWAP` columns in place of the shipped ones) and the derived columns."""
    import ecg2d.expert as expert

    ds1_fusion.register_probe_kind(KIND, (), "gbm_gated")
    expert.KIND_COLUMNS[KIND] = tuple(SWAP.get(c, c) for c in expert.KIND_COLUMNS["gbm_gated"])
    names = {f"log_{c}": f"log_{b}" for c, b in SWAP.items()}
    names["log_rhythm_irregularity"] = "b_rhythm_irregularity"  # read as it is: not a rhythm
    expert.KIND_FEATURES[KIND] = tuple(names.get(f, f) for f in expert.KIND_FEATURES["gbm_gated"])
    for column in SWAP.values():
        ds1_stress.DERIVED[column] = lambda rows, c=column: between_rhythm(
            rows["pre_rr"], rows["upper_rr"]
        )[c]


def main(argv=None) -> None:
    register()
    ds1_stress.ruled_probe(__doc__, "ds1_between_rhythm_probe", ITEMS, argv)


if __name__ == "__main__":
    main()

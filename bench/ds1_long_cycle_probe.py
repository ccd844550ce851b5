"""DS1 probe, not built into the workflow: the dominant cycle read as the longer of two interval
groups, where premature beats set the usual rhythm.

Every gated score (``ecg2d.rr.gated_columns``) is judged against the beats whose interval is at
least 0.9 of the dominant cycle, the upper quartile of the intervals around the beat
(``ecg2d.segment.upper_rr``), which is the sinus cycle as long as a quarter of the intervals are
not premature. Where premature beats set the usual rhythm and the sinus beats show only after
the pauses (``bench/ds1_runs_stress.py``, the stress test's second form: runs of each patient's
premature cycles broken by a normal beat after the compensatory pause every four S beats), the
upper quartile is a premature interval, the premature beats are the reference and the
configured expert finds 1.4 % of their S beats (bigeminy, the first form: 15.9 %); there the
criterion between the non-premature beats also calls fibrillation (201's, 220's and 223's
copies: all their beats). Premature beats shorten intervals: where a window's intervals fall
into two groups, the longer group is the rhythm they interrupt, however few.

The candidate columns ``zl_pre_upper``, ``zl_pre_prev``, ``zl_qrs_corr``: the gated scores with
the dominant cycle taken as the longer of ``upper_rr`` and the longer group's median
(:func:`long_mode`: over the 61 intervals centred on the beat, Otsu's split of the log
intervals, taken where the medians of the two groups differ by at least 1.25 times and the
longer group holds at least a tenth of the intervals), for the reference beats and the
fibrillation criterion alike. In a sinus rhythm with isolated premature beats the longer group
is the sinus rhythm, whose median is below the upper quartile: nothing changes. Counted in
beats, measured in seconds, the same at any sampling rate; computed per record from the
manifest's beats in time order (``ds1_stress.DERIVED``). A look at the values before this rule
was written (medians of ``zg_pre_upper`` → ``zl_pre_upper``): on DS1's records as they are,
the cycle changes for none of the beats of 13 of 22 records, and S beats keep their score
(-10.20 → -10.20 in 101; 209 -8.02 → -10.18; 207 -0.35 → -0.72) while N beats move by at most
0.43 (208, where 70 % of the beats change); in the bigeminy copies S beats -0.97 → -6.66 in
209, within 1.1 elsewhere but 201's (-9.58 → -13.16); in the runs copies S beats -1.11 → -5.80
(118), -0.48 → -19.58 (201), -0.47 → -4.68 (209), -0.15 → -5.27 (220), -0.17 → -2.47 (223),
207 -0.12 → -0.54, N beats -0.73 to 1.75 (207: 5.00). DS1 only; DS2 is never read.

The rule, fixed before the run: the configured expert (``gbm_gated``, record weights, alone as
configured), then ``gbm_psinus_zl`` (``gbm_psinus`` with :data:`COLUMNS` in place of
``ecg2d.rr.UNUSUAL_COLUMNS``, as ``gbm_gated`` has ``ecg2d.rr.GATED_COLUMNS``). The candidate
replaces the configured expert only if all three hold: its DS1 record criterion (every DS1
beat out of fold, the expert alone, the configured class factors) is not lower by more than
0.5 points; on the held-out records of the stress test's second form (runs) its pooled SVEB Se
is higher by more than 10 points at a pooled SVEB +P of at least 50 %; and on those of the
first form (bigeminy) its pooled SVEB Se is not lower by more than 1 point. Deterministic
experts, no seed, no stressed copy trained on. If it is adopted, it is built into the workflow
and DS2 scored once by ``make run`` and three seeds.

    .venv/bin/python bench/ds1_long_cycle_probe.py --data-dir ../shared/data/mitdb \\
        --manifest <run>/results/inter_patient/manifest.csv

Results: ``bench/results/ds1_long_cycle_probe.json`` (the runs form, with the rule's verdict)
and ``ds1_long_cycle_probe_bigeminy.json`` (the first form), each with its table (``.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import ds1_runs_stress  # noqa: E402
import ds1_sinus_z_probe  # noqa: E402
import ds1_stress  # noqa: E402

ITEMS = ("gbm_gated~record", "gbm_psinus_zl~record")
#: The candidate columns, in the order of the ones they stand for (``ecg2d.rr.GATED_COLUMNS``).
COLUMNS = ("zl_pre_upper", "zl_pre_prev", "zl_qrs_corr")
#: The rule's largest fall of the bigeminy form's pooled SVEB Se (a fraction).
MAX_BIGEMINY_FALL = ds1_stress.MAX_BIGEMINY_FALL


def long_mode(pre_rr, beats: int | None = None) -> np.ndarray:
    """Per beat, the longer interval group's median where a window's intervals fall into two
    (``ecg2d.regime.long_mode``, where this probe's code now lives; ``beats``: by default
    ``ecg2d.segment.RHYTHM_BEATS``)."""
    from ecg2d.regime import long_mode as built
    from ecg2d.segment import RHYTHM_BEATS

    return built(pre_rr, RHYTHM_BEATS if beats is None else beats)


def cycle(pre_rr, upper_rr) -> np.ndarray:
    """The dominant cycle: ``upper_rr`` (the upper quartile around the beat), or the longer
    group's median interval (:func:`long_mode`) where that is longer
    (``ecg2d.regime.dominant_cycle``)."""
    from ecg2d.regime import dominant_cycle
    from ecg2d.segment import RHYTHM_BEATS

    return dominant_cycle(pre_rr, upper_rr, RHYTHM_BEATS)


def record_rhythm(record):
    """``(r, points, rr, cycle)`` of ``record`` (an :class:`ecg2d.io.Record`) as the beats stage
    takes them: its annotated beats' R peaks, their aligned fiducial points, their RR context
    (``ecg2d.segment.rr_features``) and :func:`cycle` of it, over all its annotated beats."""
    from ecg2d.io import beat_mask
    from ecg2d.segment import fiducials, rr_features
    from ecg2d.shape import qrs_shape

    r = np.asarray(record.ann_sample[beat_mask(record.ann_symbol)], dtype=np.int64)
    _, shift = qrs_shape(record.signal, record.fs, r)
    points = fiducials(r, shift, record.name)
    rr = rr_features(points, record.fs)
    return r, points, rr, cycle(rr["pre_rr"], rr["upper_rr"])


def long_z(pre_rr, upper_rr, prev_rr, qrs_corr) -> dict[str, np.ndarray]:
    """:data:`COLUMNS` of one record's beats (in time order): ``ecg2d.rr.gated_columns`` with
    :func:`cycle` in place of ``upper_rr``, for the reference beats and the fibrillation
    criterion alike (``ecg2d.regime.long_columns``)."""
    from ecg2d.regime import long_columns

    return long_columns(pre_rr, cycle(pre_rr, upper_rr), prev_rr, qrs_corr)


def register() -> None:
    """Register, for this process only, kind ``gbm_psinus_zl`` (:data:`COLUMNS` in place of
    ``ecg2d.rr.UNUSUAL_COLUMNS``) and the columns as ones ``bench/ds1_stress.py`` derives from
    each record's beats."""
    ds1_sinus_z_probe.register_swapped("gbm_psinus_zl", COLUMNS, long_z)


def main(
    argv=None, items=ITEMS, register=register, doc=__doc__, script="ds1_long_cycle_probe"
) -> None:
    """Round 15's run and rule, or another round's whose rule is round 15's in three parts (its
    ``items``, ``register``, ``doc`` and ``script``, the default name of its results): the
    bigeminy form by ``bench/ds1_stress.py``, the runs form by ``ds1_stress.ruled_probe``, and
    the bigeminy part applied on top."""
    import argparse
    import json

    register()
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", default=str(REPO / f"bench/results/{script}.json"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    bigeminy = out.with_name(out.stem + "_bigeminy.json")
    common = ["--data-dir", args.data_dir, "--manifest", args.manifest, "--expert", *items]
    ds1_stress.main([*common, "--out", str(bigeminy)])
    runs = ["--after-every", str(ds1_runs_stress.AFTER_EVERY)]
    ds1_stress.ruled_probe(doc, out.stem, items, [*common[:4], "--out", str(out)], runs)
    result = json.loads(out.read_text())
    first = json.loads(bigeminy.read_text())["results"]
    fall = first[items[0]]["stressed"]["SVEB"]["Se"] - first[items[1]]["stressed"]["SVEB"]["Se"]
    result["bigeminy_fall"] = fall
    if result["chosen"] == items[1] and fall > MAX_BIGEMINY_FALL:
        result["chosen"] = items[0]
    out.write_text(json.dumps(result, indent=1) + "\n")
    md = out.with_suffix(".md")
    md.write_text(
        md.read_text()
        + f"\nBigeminy form (``{bigeminy.name}``): the candidate's pooled SVEB Se lower by "
        f"{100 * fall:.1f} points (at most {100 * MAX_BIGEMINY_FALL:.0f} allowed).\n\n"
        f"**Chosen, all three parts: `{result['chosen']}`**\n"
    )
    print(f"bigeminy fall {fall:.3f}; chosen: {result['chosen']}")


if __name__ == "__main__":
    main()

"""bench/ds1_selection_noise.py: the record criterion recomputed from per-record counts, on any
resample of records, must be ``ds1_cv.record_headline``'s."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_bench

noise = load_bench("ds1_selection_noise")
ds1_cv = load_bench("ds1_cv")

#: EC57 counts (TP, FN, FP) per record: a record with too few S beats to count in the record
#: average but false S, one holding only V beats, one without any ectopic beat but false calls.
COUNTS = {
    "a": {"SVEB": (40, 10, 3), "VEB": (5, 1, 0)},
    "b": {"SVEB": (2, 5, 7), "VEB": (90, 10, 4)},
    "c": {"SVEB": (0, 0, 12), "VEB": (0, 0, 6)},
    "d": {"SVEB": (12, 30, 1), "VEB": (30, 2, 1)},
}


def report(records: list[str]) -> dict:
    """A metrics report as ``record_headline`` reads it, of ``records`` (names of COUNTS, a name
    given twice standing for a record drawn twice), the gross +P summed over them."""
    per, gross = {}, {}
    for i, name in enumerate(records):
        per[f"{name}{i}"] = {
            "counts": {
                g: dict(zip(("TP", "FN", "FP"), COUNTS[name][g], strict=True)) for g in noise.GROUPS
            }
        }
    for g in noise.GROUPS:
        tp = sum(COUNTS[n][g][0] for n in records)
        fp = sum(COUNTS[n][g][2] for n in records)
        gross[g] = {"+P": tp / (tp + fp)}
    return {"per_record": per, "aami_ec57": gross}


def counts() -> dict:
    names = sorted(COUNTS)
    return {g: np.array([COUNTS[n][g] for n in names], float) for g in noise.GROUPS}


def test_criterion_is_record_headlines_on_the_records_as_they_are():
    expected = ds1_cv.record_headline(report(sorted(COUNTS)))["criterion_record"]
    got = noise.criterion(counts(), np.ones(len(COUNTS)))
    assert got.shape == (1,)
    assert got[0] == pytest.approx(expected, abs=1e-12)


def test_a_record_drawn_twice_counts_twice_and_a_record_left_out_not_at_all():
    # Drawn: a twice, b not, c once, d three times.
    weights = np.array([[2, 0, 1, 3], [1, 1, 1, 1], [0, 1, 0, 0]], float)
    drawn = [["a", "a", "c", "d", "d", "d"], sorted(COUNTS), ["b"]]
    expected = [ds1_cv.record_headline(report(r))["criterion_record"] for r in drawn]
    np.testing.assert_allclose(noise.criterion(counts(), weights), expected, atol=1e-12)
    # b alone holds no record with 10 S beats: its SVEB record Se is 0, as record_headline has it.
    assert noise.criterion(counts(), weights[2:])[0] == pytest.approx(
        ds1_cv.record_headline(report(["b"]))["VEB_F1_rec"] / 2
    )


def test_resamples_draw_every_record_count_once_per_draw_and_repeat_by_seed():
    a = noise.resamples(22, 500, seed=3)
    assert a.shape == (500, 22)
    assert (a.sum(axis=1) == 22).all()
    assert (a == noise.resamples(22, 500, seed=3)).all()
    assert not (a == noise.resamples(22, 500, seed=4)).all()
    # Every record is left out of about (21/22)^22 = 36 % of the resamples.
    assert 0.3 < (a == 0).mean() < 0.42


def test_difference_is_paired_and_signed():
    base = counts()
    worse = {g: c.copy() for g, c in base.items()}
    worse["SVEB"][:, 2] += 5  # five more false S in every record
    records = sorted(COUNTS)
    weights = noise.resamples(len(records), 300, seed=0)
    d = noise.difference(worse, base, weights, records)
    assert d["difference"] < 0
    # Resamples without a record of 10 S beats have SVEB F1 0 either way: a difference of 0.
    assert d["ci95"][0] < 0 and d["ci95"][1] <= 0
    assert d["share_above_0"] == 0.0
    assert d["leave_one_out_record"] in records
    same = noise.difference(base, base, weights, records)
    assert same["difference"] == 0 and same["sd"] == 0


def test_walk_adopts_a_step_only_above_its_margin_against_the_choice_then(tmp_path):
    base = counts()
    better = {g: c.copy() for g, c in base.items()}
    better["SVEB"][:, 2] = np.maximum(better["SVEB"][:, 2] - 2, 0)  # fewer false S everywhere
    worse = {g: c.copy() for g, c in base.items()}
    worse["VEB"][:, 0] -= np.minimum(worse["VEB"][:, 0], 1)  # a V beat missed in every record
    worse["VEB"][:, 1] += 1
    records = sorted(COUNTS)
    weights = noise.resamples(len(records), 300, seed=0)
    table = {"base": base, "better": better, "worse": worse}
    # Resamples without a record of 10 S beats tie (about 6 % of them with four records).
    steps = noise.walk(table, ["base", "better", "worse"], weights, records, 0.9)
    assert [(s["item"], s["against"], s["adopted"]) for s in steps] == [
        ("better", "base", True),
        ("worse", "better", False),
    ]
    # A margin no step can reach adopts nothing: every step is judged against the first item.
    steps = noise.walk(table, ["worse", "base", "better"], weights, records, 0.999999)
    assert [s["against"] for s in steps] == ["worse", "worse"]
    # Stored counts read back as they were written, the criterion recomputed from them.
    result = {
        "records": records,
        "items": ["base", "better"],
        "experts": {
            k: {"record_counts": {g: table[k][g].tolist() for g in noise.GROUPS}}
            for k in ("base", "better")
        },
    }
    path = tmp_path / "result.json"
    path.write_text(noise.json.dumps(result))
    stored, items = noise.stored_counts(str(path), records)
    assert items == ["base", "better"]
    np.testing.assert_array_equal(stored["better"]["counts"]["SVEB"], better["SVEB"])
    assert stored["base"]["criterion_record"] == pytest.approx(
        noise.criterion(base, np.ones(len(records)))[0]
    )
    with pytest.raises(SystemExit, match="not DS1"):
        noise.stored_counts(str(path), records[:-1])


def test_a_stress_result_carries_each_candidates_paired_difference_with_the_first():
    """bench/ds1_stress.ds1_paired: the candidate that calls fewer N beats S has a higher record
    criterion than the configured expert in every resample that holds a record of S beats."""
    import pandas as pd

    stress = load_bench("ds1_stress")
    classes = ["N", "S", "V", "F", "Q"]
    rng = np.random.default_rng(0)
    rows = []
    for record in ("100", "101", "102", "103", "104"):
        true = np.array(["N"] * 80 + ["S"] * 15 + ["V"] * 12)
        rows.append(pd.DataFrame({"record": record, "sample": np.arange(len(true)), "true": true}))
    table = pd.concat(rows, ignore_index=True)
    configured = table.copy()
    configured["predicted"] = table["true"]
    false_s = (table["true"] == "N") & (rng.random(len(table)) < 0.1)
    configured.loc[false_s, "predicted"] = "S"
    candidate = table.copy()
    candidate["predicted"] = table["true"]  # the same calls without the false S
    paired = stress.ds1_paired(
        {"configured": configured, "candidate": candidate},
        classes,
        ["104", "100", "101", "102", "103"],
    )
    assert list(paired) == ["candidate"]
    d = paired["candidate"]
    assert d["difference"] > 0 and d["ci95"][0] > 0 and d["share_above_0"] == 1.0
    assert d["leave_one_out_record"] in {"100", "101", "102", "103", "104"}


def test_folds_are_the_configured_ones_or_one_record_each():
    ds1_fusion = load_bench("ds1_fusion")
    experiment = ds1_fusion.shipped_experiment()
    train = sorted(str(r) for r in experiment["train_records"])
    config = noise.folds_of(experiment, "config")
    assert config == [[str(r) for r in fold] for fold in experiment["cv_folds"]]
    records = noise.folds_of(experiment, "records")
    assert len(records) == len(train) == 22
    assert sorted(r for fold in records for r in fold) == train
    assert all(len(fold) == 1 for fold in records)
    with pytest.raises(ValueError, match="unknown 'patients'"):
        noise.folds_of(experiment, "patients")


def stress_result(per_item: dict) -> dict:
    """A bench/ds1_stress.py result holding only what its stress part reads: per expert, the
    SVEB TP, FN, FP of each stressed copy."""
    names = ["118", "201", "220"]
    return {
        "stressed_records": names,
        "results": {
            item: {
                "stressed": {
                    "records": {
                        n: {"SVEB": dict(zip(("TP", "FN", "FP"), c, strict=True))}
                        for n, c in zip(names, counts, strict=True)
                    }
                }
            }
            for item, counts in per_item.items()
        },
    }


def test_the_stress_part_under_resampling_of_the_stressed_copies():
    stress = load_bench("ds1_stress")
    result = stress_result(
        {
            "configured": [(1, 99, 0), (0, 50, 0), (0, 50, 0)],
            "everywhere": [(80, 20, 2), (40, 10, 1), (40, 10, 1)],  # gains on every copy
            "one copy": [(90, 10, 0), (0, 50, 0), (0, 50, 0)],  # gains on 118 alone
            "loses": [(0, 100, 0), (0, 50, 0), (0, 50, 0)],  # one S beat fewer
            "noisy": [(99, 1, 200), (50, 0, 100), (50, 0, 100)],  # finds all, +P a third
        }
    )
    got = stress.stressed_resampled(result, boot=500, seed=0)
    assert list(got) == ["everywhere", "one copy", "loses", "noisy"]
    assert got["everywhere"]["difference"] == pytest.approx(100 * (160 / 200 - 1 / 200))
    assert got["everywhere"]["share_runs_part"] == 1.0
    # 118 is left out of about (2/3)^3 = 30 % of the resamples, and then nothing is gained.
    assert 0.55 < got["one copy"]["share_runs_part"] < 0.8
    assert got["one copy"]["ci95"][0] == pytest.approx(0.0)
    assert got["loses"]["share_runs_part"] == 0.0
    assert got["loses"]["share_bigeminy_part"] == 1.0  # 1 of 200 S beats: within one point
    assert got["noisy"]["share_runs_part"] == 0.0  # the gain is there, the +P is not
    assert got["noisy"]["share_bigeminy_part"] == 1.0

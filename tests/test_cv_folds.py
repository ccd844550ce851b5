"""Beat-level K-fold cross-validation of intra-patient experiments (ecg2d/cv.py, target `cv`)."""

import copy
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ecg2d.atomic import write_csv
from ecg2d.config import ConfigError, validate_config
from ecg2d.cv import (
    assign_folds,
    cv_experiments,
    cv_manifest,
    cv_summary,
    cv_targets,
    fold_manifest,
    summary_markdown,
)
from ecg2d.split import build_manifest, read_table, split_table
from tests.conftest import (
    REPO,
    TINY,
    TINY_IMAGES,
    TRAINED_OUTPUTS,
    load_bench,
    run_snakemake,
    segmented,
    write_config,
)

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
JUN = SHIPPED["experiments"]["jun2018"]
RECORDS = ["100", "207"]  # N, A, V; L, R, A, V, E, ! (207: 472 flutter waves, 105 E beats)
N_CROPS = 9


def beat_keys(rows: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(rows["record"], rows["sample"].astype(int)))


@pytest.fixture(scope="module")
def manifest(mitdb, tmp_path_factory):
    """The jun2018 manifest of 100 and 207 with the cv crops of its test beats added."""
    root = tmp_path_factory.mktemp("cv")
    splits = []
    for record in RECORDS:
        table = split_table(segmented(record), JUN, 42, f"png/{record}")
        splits.append(root / f"{record}.csv")
        write_csv(table, splits[-1])
    crops = [f"results/jun2018/crops/{r}" for r in RECORDS]
    experiment = build_manifest(splits, crops, JUN["augment"], N_CROPS)
    cv_crops = [f"results/jun2018/cv/crops/{r}" for r in RECORDS]
    return experiment, cv_manifest(experiment, JUN["augment"], cv_crops, N_CROPS)


def originals(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["augmented"] == 0]


def test_every_beat_of_an_augmented_class_gets_its_crops(manifest):
    experiment, full = manifest
    assert originals(full).equals(originals(experiment))  # the beats are the experiment's
    augmented = originals(full)[originals(full)["label"].isin(JUN["augment"])]
    crops = full[full["augmented"] == 1]
    counts = crops.groupby(["record", "sample"]).size()
    assert len(counts) == len(augmented) and set(counts) == {N_CROPS}
    assert beat_keys(crops) == beat_keys(augmented)
    # the experiment cropped its training beats; the cv crops are those of its test beats
    test = originals(experiment)[originals(experiment)["split"] == "test"]
    added = crops[crops["path"].str.startswith("results/jun2018/cv/crops/")]
    assert beat_keys(added) == beat_keys(test[test["label"].isin(JUN["augment"])])
    assert "N" not in set(crops["label"])


@pytest.mark.parametrize("k", [3, 10])
def test_folds_partition_the_beats_and_are_stratified(manifest, k):
    _, full = manifest
    folds = assign_folds(full, k, seed=42)
    beats = originals(full).assign(fold=folds[full["augmented"].to_numpy() == 0])
    assert set(beats["fold"]) == set(range(1, k + 1))
    sizes = beats["fold"].value_counts()
    assert sizes.max() - sizes.min() <= 1
    for label, group in beats.groupby("label"):
        per_fold = group["fold"].value_counts().reindex(range(1, k + 1), fill_value=0)
        assert per_fold.max() - per_fold.min() <= 1, label  # n/K of each class, rounded
    # the test parts of the K fold manifests: every beat exactly once
    tested = [
        beat_keys(fold_manifest(full, folds, i).query("split == 'test'")) for i in range(1, k + 1)
    ]
    assert sum(len(t) for t in tested) == len(beats)
    assert set().union(*tested) == beat_keys(beats)


def test_folds_are_seeded(manifest):
    _, full = manifest
    folds = assign_folds(full, 5, seed=42)
    assert np.array_equal(folds, assign_folds(full, 5, seed=42))
    assert (folds != assign_folds(full, 5, seed=7)).mean() > 0.5


def test_crops_stay_with_their_beat_and_never_test(manifest):
    _, full = manifest
    folds = assign_folds(full, 4, seed=42)
    with_fold = full.assign(fold=folds)
    assert (with_fold.groupby(["record", "sample"])["fold"].nunique() == 1).all()
    for k in range(1, 5):
        table = fold_manifest(full, folds, k)  # also passes ecg2d.split.check_manifest
        test, train = table[table["split"] == "test"], table[table["split"] == "train"]
        assert set(test["augmented"]) == {0}
        assert beat_keys(test) == beat_keys(with_fold[(with_fold["fold"] == k)])
        assert not beat_keys(test) & beat_keys(train)
        # the other folds' beats train with all their crops
        others = with_fold[with_fold["fold"] != k]
        assert len(train) == len(others)
        assert beat_keys(train[train["augmented"] == 1]) == beat_keys(
            others[others["augmented"] == 1]
        )


def test_bad_manifests_and_folds_are_named(manifest):
    _, full = manifest
    orphan = full[full["augmented"] == 1].iloc[[0]].assign(sample=1)
    with pytest.raises(ValueError, match=r"record \S+ sample 1: a crop of a beat not listed"):
        assign_folds(pd.concat([full, orphan], ignore_index=True), 3, 42)
    twice = originals(full).iloc[[5]]
    with pytest.raises(ValueError, match="listed twice"):
        assign_folds(pd.concat([full, twice], ignore_index=True), 3, 42)
    with pytest.raises(ValueError, match="at least 2"):
        assign_folds(full, 1, 42)
    with pytest.raises(ValueError, match="fold 4 holds no beats"):
        fold_manifest(full, assign_folds(full, 3, 42), 4)
    with pytest.raises(ValueError, match="record 207: no cross-validation crop folder"):
        cv_manifest(full, JUN["augment"], ["results/jun2018/cv/crops/100"], N_CROPS)


def _fold(accuracy, ppv_v, matrix, n_test):
    return {
        "experiment": "jun2018",
        "accuracy": accuracy,
        "accuracy_ci95": [accuracy - 0.01, accuracy + 0.01],
        "macro": {"sensitivity": accuracy / 2},
        "per_class": {"V": {"ppv": ppv_v, "support": n_test}},
        "confusion_matrix": {"labels": ["N", "V"], "matrix": matrix},
        "training": {"note": "capped", "use_crops": True},
        "n_test": n_test,
    }


def test_summary_gives_mean_and_sd_of_every_figure():
    folds = [
        _fold(0.9, 0.5, [[3, 1], [0, 2]], 6),
        _fold(0.8, None, [[2, 0], [1, 3]], 6),
        _fold(1.0, 0.7, [[4, 0], [0, 1]], 5),
    ]
    summary = cv_summary(folds, "jun2018", ["f1.json", "f2.json", "f3.json"], seed=42)
    metrics = summary["metrics"]
    accuracy = metrics["accuracy"]
    assert accuracy["mean"] == pytest.approx(0.9) and accuracy["sd"] == pytest.approx(0.1)
    assert accuracy["n"] == 3 and accuracy["values"] == [0.9, 0.8, 1.0]
    assert metrics["macro"]["sensitivity"]["mean"] == pytest.approx(0.45)
    ppv = metrics["per_class"]["V"]["ppv"]  # undefined in fold 2: left out, counted in n
    assert ppv["n"] == 2 and ppv["mean"] == pytest.approx(0.6)
    assert ppv["sd"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    cell = metrics["confusion_matrix"]["matrix"][0][0]
    assert cell["mean"] == pytest.approx(3.0) and cell["values"] == [3, 2, 4]
    assert "accuracy_ci95" not in metrics and "labels" not in metrics["confusion_matrix"]
    assert "training" not in metrics  # texts and flags only: nothing to average
    assert summary["folds"] == 3 and summary["n_test"] == 17 and summary["seed"] == 42
    table = summary_markdown(summary)
    assert "| accuracy | 90.00 ± 10.00 |" in table
    assert "| V | – | 60.00 ± 14.14 (2 of 3 folds) | – | 5.7 |" in table
    with pytest.raises(ValueError, match="f2.json: metrics of experiment 'other'"):
        cv_summary(
            [folds[0], {**folds[1], "experiment": "other"}], "jun2018", ["f1.json", "f2.json"]
        )


def test_cv_folds_takes_the_form_of_the_protocol(mitdb):
    config = copy.deepcopy(SHIPPED)
    config["data_dir"] = str(mitdb)
    assert config["experiments"]["jun2018"]["cv_folds"] == 10  # shipped: the paper's 10 folds
    validate_config(config, REPO / "config" / "schema.yaml")
    assert cv_experiments(config) == {"jun2018": 10}  # inter_patient's record folds are not K
    assert cv_targets(config) == [
        "results/jun2018/cv/summary.json",
        "results/jun2018/cv/summary.md",
    ]
    for name, wrong, message in (
        ("jun2018", [["100"], ["101"]], "is not of type 'integer'"),
        ("jun2018", 1, "less than the minimum of 2"),
        ("inter_patient", 5, "is not of type 'array'"),
    ):
        bad = copy.deepcopy(config)
        bad["experiments"][name]["cv_folds"] = wrong
        with pytest.raises(ConfigError, match=rf"experiments\.{name}\.cv_folds: .*{message}"):
            validate_config(bad, REPO / "config" / "schema.yaml")


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory, mitdb):
    """`snakemake cv` of jun2018 on 100 and 119, tiny preset, 2 folds; and the dry run of
    rule all afterwards."""
    root = tmp_path_factory.mktemp("cv_run")
    config = write_config(
        root / "config.yaml",
        records=["100", "119"],
        **TINY_IMAGES,
        experiments={"jun2018": {**TINY, "cv_folds": 2}},
    )
    run_snakemake(root, "--cores", "2", "cv", configfile=config, timeout=600)
    dry = run_snakemake(root, "-n", configfile=config)
    return root, dry.stdout


def test_cv_target_trains_and_scores_every_fold(cv_run):
    root, dry = cv_run
    cv = root / "results/jun2018/cv"
    manifest = read_table(root / "results/jun2018/manifest.csv")
    beats = originals(manifest)
    tested = []
    for k in (1, 2):
        for name in ("manifest.csv", *TRAINED_OUTPUTS):
            assert (cv / f"fold{k}" / name).stat().st_size > 0, (k, name)
        for rule in ("manifest", "train", "evaluate"):
            assert (root / f"logs/jun2018/cv/fold{k}/{rule}.log").is_file()
        for rule in ("train", "evaluate"):
            assert (root / f"results/benchmarks/jun2018/cv/fold{k}/{rule}.tsv").is_file()
        fold = read_table(cv / f"fold{k}/manifest.csv")
        assert set(fold.loc[fold["split"] == "test", "augmented"]) == {0}
        predictions = pd.read_csv(cv / f"fold{k}/predictions.csv", dtype={"record": str})
        assert beat_keys(predictions) == beat_keys(fold[fold["split"] == "test"])
        tested.append(beat_keys(predictions))
    assert not tested[0] & tested[1] and tested[0] | tested[1] == beat_keys(beats)
    # the test beats of the experiment got their crops: every V beat trains with them
    assert list(Path(root / "results/jun2018/cv/crops/119").iterdir())
    summary = json.loads((cv / "summary.json").read_text())
    folds = [json.loads((cv / f"fold{k}/metrics.json").read_text()) for k in (1, 2)]
    assert summary["folds"] == 2 and summary["n_test"] == len(beats)
    accuracy = [f["accuracy"] for f in folds]
    assert summary["metrics"]["accuracy"]["values"] == accuracy
    assert summary["metrics"]["accuracy"]["mean"] == pytest.approx(np.mean(accuracy))
    assert summary["metrics"]["per_class"]["N"]["sensitivity"]["n"] == 2
    assert "| accuracy |" in (cv / "summary.md").read_text()
    assert (root / "logs/jun2018/cv/summary.log").is_file()
    # cross-validation is not part of rule all (make run)
    table = dry.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rules = set(re.findall(r"^(\w+)\s+\d+$", table, re.M))
    assert "train" in rules and not {r for r in rules if r.startswith("cv")}


def test_factor_probe_moves_border_beats_and_decides_by_its_rule():
    """bench/jun2018_factor.py: factor 1 is the model as shipped, a factor below 1 on N moves a
    beat on N's border to the next class, and the rule adopts a factor only where it keeps
    accuracy on the seeds and the folds confirm it."""
    probe = load_bench("jun2018_factor")
    classes = ["N", "A"]
    y = np.array([0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8]])
    scores = probe.factor_scores(y, proba, classes, "N")
    assert scores["1.0"]["accuracy"] == pytest.approx(100 * 2 / 3, abs=1e-3)
    assert scores["1.0"]["balanced_accuracy"] == pytest.approx(75.0)
    for factor in ("0.7", "0.5", "0.35", "0.25"):  # 0.55 * f < 0.45: the A beat is found
        assert scores[factor]["accuracy"] == pytest.approx(100.0)
    gain = probe.paired([{"scores": scores}, {"scores": scores}])
    assert gain["0.7"]["balanced_accuracy"]["mean_difference"] == pytest.approx(25.0)
    assert probe.decide(gain, gain) == {
        "chosen": 0.7,
        "adopted": True,
        "why": "confirmed on the folds",
    }
    # folds whose border beats are N: the factor costs accuracy there, so it is not adopted
    hurt = probe.factor_scores(np.array([0, 0]), np.array([[0.55, 0.45], [0.9, 0.1]]), classes, "N")
    assert hurt["0.7"]["accuracy"] == pytest.approx(50.0)
    decision = probe.decide(gain, probe.paired([{"scores": hurt}, {"scores": hurt}]))
    assert decision["chosen"] == 0.7 and decision["adopted"] is False
    # and nothing is chosen where every factor loses accuracy on the seeds
    assert probe.decide(probe.paired([{"scores": hurt}] * 2), gain)["chosen"] is None


def test_tta_probe_classifies_the_crops_the_workflow_makes(cv_run):
    """bench/jun2018_tta.py on a trained fold: a validation beat's crops, made at prediction,
    are the crops the crops stage wrote for it (same probabilities), and each variant averages
    the views it names."""
    probe = load_bench("jun2018_tta")
    jun_prior = load_bench("jun2018_prior")
    root, _ = cv_run
    experiment = copy.deepcopy(JUN)
    experiment.update(preset=TINY["preset"])
    experiment["train"] = {**experiment["train"], **TINY["train"]}
    folder = root / "results/jun2018/cv/fold1"
    classifier, _, val, image, _ = jun_prior.validation_proba(
        folder, folder / "manifest.csv", experiment, SHIPPED["seed"], root
    )
    assert len(val) and set(val["augmented"]) == {0}
    crops = probe.crop_proba(classifier, val, root, TINY_IMAGES["crop"], batch_beats=7)
    assert crops.shape == (len(val), 4, len(classifier.classes))
    # the workflow's own crop PNGs of a validation beat of an augmented class
    fold = read_table(folder / "manifest.csv")
    beat = val[val["label"] != "N"].iloc[0]
    written = fold[
        (fold["augmented"] == 1)
        & (fold["record"].astype(str) == str(beat["record"]))
        & (fold["sample"] == beat["sample"])
    ].sort_values("path")
    assert len(written) == 4
    from ecg2d.images import ImageReader

    reader = ImageReader(root)
    own = classifier.predict_proba(np.stack([reader.read(p) for p in written["path"]]))
    i = val.index.get_loc(beat.name)
    np.testing.assert_allclose(crops[i], own, atol=1e-5)
    views = probe.combine(image, crops)
    np.testing.assert_allclose(views["image"], image)
    np.testing.assert_allclose(views["crops"][i], own.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(views["image+crops"][i], (image[i] + own.sum(axis=0)) / 5, atol=1e-5)
    assert not np.allclose(views["crops"], image, atol=1e-4)  # the crops are other views


def test_tta_probe_adopts_a_variant_only_where_accuracy_and_macro_se_rise():
    probe = load_bench("jun2018_tta")

    def row(image, both, crops):
        keys = ("accuracy", "balanced_accuracy", "macro_f1")
        return {
            "scores": {
                v: dict(zip(keys, figures))
                for v, figures in zip(probe.VARIANTS, (image, both, crops))
            }
        }

    gain = [row((99, 96, 95), (99.1, 96.2, 95), (98.9, 96.5, 95))] * 2
    assert probe.decide(probe.paired(gain)) == {
        "chosen": "image+crops",
        "adopted": True,
        "why": "passes the rule",
    }
    # one fold losing 0.1 of accuracy bars a variant, whatever the mean
    mixed = probe.paired(
        [
            row((99, 96, 95), (99.3, 96.2, 95), (99, 96, 95)),
            row((99, 96, 95), (98.9, 96.2, 95), (99, 96, 95)),
        ]
    )
    assert mixed["image+crops"]["accuracy"]["mean_difference"] == pytest.approx(0.1)
    assert probe.decide(mixed)["adopted"] is False


def test_folds_table_joins_an_earlier_sessions_folds(cv_run, tmp_path):
    """bench/cv_folds_table.py --earlier: folds scored under --root come from there, the others
    from the earlier table, and the summary covers them all."""
    table = load_bench("cv_folds_table")
    root, _ = cv_run
    first = tmp_path / "first.json"
    table.main(["--root", str(root), "--out", str(first)])
    rows = json.loads(first.read_text())["folds"]
    assert [row["fold"] for row in rows] == [1, 2]
    metrics = json.loads((root / "results/jun2018/cv/fold1/metrics.json").read_text())
    assert rows[0]["test_accuracy"] == round(100 * metrics["accuracy"], 2)
    earlier = tmp_path / "earlier.json"
    stale = {**rows[1], "test_accuracy": -1.0}
    extra = {**rows[1], "fold": 3, "test_accuracy": 50.0, "test_macro_se": 40.0}
    earlier.write_text(json.dumps({"folds": [stale, extra]}))
    joined = tmp_path / "joined.json"
    table.main(["--root", str(root), "--earlier", str(earlier), "--out", str(joined)])
    result = json.loads(joined.read_text())
    assert [(row["fold"], row["source"]) for row in result["folds"]] == [
        (1, str(root)),
        (2, str(root)),
        (3, str(earlier)),
    ]
    accuracy = [row["test_accuracy"] for row in result["folds"]]
    assert -1.0 not in accuracy
    assert result["summary"]["folds"] == 3
    assert result["summary"]["test_accuracy"]["mean"] == pytest.approx(np.mean(accuracy), abs=0.01)
    earlier.write_text(json.dumps({"folds": [{**extra, "patience": 99}]}))
    with pytest.raises(SystemExit, match="folds \\[3\\] trained with another patience"):
        table.main(["--root", str(root), "--earlier", str(earlier), "--out", str(joined)])


def test_fold_variant_pairs_each_fold_at_its_kept_epoch(cv_run, tmp_path):
    """bench/jun2018_fold_variant.py: the shipped side is the fold model's kept epoch, the
    variant's its own kept epoch; the rule needs an accuracy gain beyond its SE, no loss of
    macro Se and a make run within budget."""
    probe = load_bench("jun2018_fold_variant")
    root, _ = cv_run
    folder = root / "results/jun2018/cv/fold1"
    shipped = probe.shipped_row(folder)
    history = pd.read_csv(folder / "history.csv")
    kept = history[history["epoch"] == shipped["best_epoch"]].iloc[0]
    assert shipped["val_accuracy"] == round(100 * kept["val_accuracy"], 2)
    run = {
        "seed": SHIPPED["seed"],
        "manifest": "results/jun2018/cv/fold1/manifest.csv",
        "variants": [
            {
                "variant": "train.epochs=3",
                "best_epoch": 2,
                "training_seconds": 1.0,
                "val_accuracy": [90.0, 99.5, 99.0],
                "val_balanced_accuracy": [80.0, 97.0, 98.0],
                "val_macro_f1": [70.0, 96.0, 95.0],
            }
        ],
    }
    path = tmp_path / "variant.json"
    path.write_text(json.dumps(run))
    variant = probe.variant_row(path)
    assert (variant["val_accuracy"], variant["val_balanced_accuracy"]) == (99.5, 97.0)

    def pair(acc, bal):
        base = {"val_accuracy": 99.0, "val_balanced_accuracy": 96.0, "val_macro_f1": 95.0}
        return {
            "shipped": base,
            "variant": {**base, "val_accuracy": acc, "val_balanced_accuracy": bal},
        }

    assert probe.decide([pair(99.1, 96.0), pair(99.2, 96.1)], 20)["adopted"] is True
    # a gain inside its SE, a loss of macro Se, or a make run over budget: not adopted
    assert probe.decide([pair(99.3, 96.0), pair(98.9, 96.0)], 20)["passes"]["accuracy"] is False
    assert probe.decide([pair(99.1, 95.9), pair(99.2, 96.0)], 20)["adopted"] is False
    assert probe.decide([pair(99.1, 96.0), pair(99.2, 96.1)], 40)["passes"]["time"] is False
    run["seed"] = 7
    path.write_text(json.dumps(run))
    with pytest.raises(SystemExit, match="with the workflow's seed"):
        probe.main(["--root", str(root), "--variant", f"1={path}", "--out", str(tmp_path / "o")])

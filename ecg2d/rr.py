"""A beat's RR-interval context: its columns, and the RR features the CNN takes.

Beats files and manifests hold each beat's RR context (:data:`RR_CONTEXT`); a CNN with
``model.rr_features`` takes the features :func:`rr_matrix` makes of its first four columns (or
of all five with ``model.rr_irregularity``), and the rhythm expert (:mod:`ecg2d.expert`) its
own record-relative features of all five.
"""

from __future__ import annotations

import numpy as np

#: A beat's whole RR context, as beats files and manifests hold it: the intervals before and
#: after the beat, the local and the record's mean RR interval (seconds; see
#: :func:`ecg2d.segment.rr_features`) and the local RR irregularity (a ratio, see
#: :func:`ecg2d.segment.rr_irregularity`).
RR_CONTEXT = ("pre_rr", "post_rr", "local_rr", "record_rr", "rr_irregularity")
#: The rhythm around a beat, as beats files and manifests hold it beside the RR context: the
#: median local irregularity over about a minute (:func:`ecg2d.segment.rhythm_irregularity`)
#: and how scattered the successive RR differences are over the same beats
#: (:func:`ecg2d.segment.rhythm_cells`), read by the tree experts (:mod:`ecg2d.expert`).
RHYTHM_COLUMNS = ("rhythm_irregularity", "rhythm_cells")
#: A beat's prematurity against the rhythm around it, robust to frequent ectopy, as beats files
#: and manifests hold it: the previous beat's ``pre_rr`` (seconds), and the record's dominant
#: cycle around the beat, the upper quartile of ``pre_rr`` over about a minute (seconds; see
#: :func:`ecg2d.segment.rr_features`), read by the ``gbm_premature`` expert (:mod:`ecg2d.expert`).
PREMATURITY_COLUMNS = ("prev_rr", "upper_rr")
#: How unusual a beat is for its own record, as beats files and manifests hold it: robust
#: z-scores, against all the record's beats, of its prematurity against the dominant cycle
#: (``log(pre_rr / upper_rr)``) and against the previous RR (``log(pre_rr / prev_rr)``) and of
#: its QRS correlation with the record's median QRS (:func:`unusual_columns`), read by the
#: ``gbm_unusual`` expert (:mod:`ecg2d.expert`).
UNUSUAL_COLUMNS = ("z_pre_upper", "z_pre_prev", "z_qrs_corr")
#: The smallest robust spread each :data:`UNUSUAL_COLUMNS` score divides by, so that a perfectly
#: steady record does not make every small difference infinitely unusual.
UNUSUAL_FLOORS = {"z_pre_upper": 0.02, "z_pre_prev": 0.02, "z_qrs_corr": 0.01}
#: :data:`UNUSUAL_COLUMNS`' scores judged against the rhythm the premature beats interrupt, as
#: beats files and manifests hold them (:func:`gated_columns`): median and spread over the
#: record's beats that are not premature (:func:`not_premature`), so that a premature beat
#: stays unusual where premature beats are as many as sinus beats; in atrial fibrillation,
#: which has no cycle to be early against, the scores against all beats. Read by the
#: ``gbm_gated`` expert (:mod:`ecg2d.expert`) in place of :data:`UNUSUAL_COLUMNS`.
GATED_COLUMNS = ("zg_pre_upper", "zg_pre_prev", "zg_qrs_corr")
#: A beat is not premature when its ``pre_rr`` is at least this share of the dominant cycle
#: ``upper_rr`` around it (:func:`not_premature`), the usual clinical threshold of prematurity.
NOT_PREMATURE_SHARE = 0.9
#: How unusual the atrial activity before a beat is for its own record, as beats files and
#: manifests hold it: the robust z-score, against all the record's beats, of its P-wave
#: likeness (:func:`ecg2d.shape.p_wave_likeness`), read by the ``gbm_pwave`` expert.
PWAVE_COLUMNS = ("z_p_corr",)
#: The smallest robust spread of the P-wave likeness its z-score divides by.
PWAVE_FLOOR = 0.01
#: How unusual the atrial activity before a beat is for its record's *sinus* beats, as beats
#: files and manifests hold it: the robust z-score of its P-wave likeness with template, median
#: and spread all taken over the beats that are not premature (:func:`sinus_reference`), so
#: that it holds where premature beats outnumber sinus beats; read by the ``gbm_psinus``
#: expert (:mod:`ecg2d.expert`). Floor :data:`PWAVE_FLOOR`.
PSINUS_COLUMNS = ("z_p_sinus",)
#: The RR context a CNN takes without ``model.rr_irregularity`` (and models whose model.json
#: names no ``rr_columns``), in the order :func:`rr_matrix` takes it.
RR_COLUMNS = RR_CONTEXT[:4]
#: The RR context a CNN takes with ``model.rr_irregularity``.
RR_COLUMNS_IRREGULARITY = RR_CONTEXT
#: Names of the columns of :func:`rr_matrix` made from :data:`RR_COLUMNS`.
RR_FEATURES = (
    "pre_rr",
    "post_rr",
    "local_rr",
    "record_rr",
    "log_pre_over_local",
    "log_post_over_pre",
    "log_pre_over_record",
    "log_local_over_record",
    "log_post_over_local",
)
#: Names of the columns of :func:`rr_matrix` made from :data:`RR_COLUMNS_IRREGULARITY`.
RR_FEATURES_IRREGULARITY = (*RR_FEATURES, "log_rr_irregularity")
#: Added to the irregularity before its logarithm (regular rhythms score 0).
IRREGULARITY_FLOOR = 0.01
#: Shortest RR interval (s) used in ratios, so a zero can never divide.
MIN_RR = 0.05
#: The fewest reference beats (:func:`reference_mask`) a record's usual value is taken over;
#: with fewer, all its beats.
MIN_REFERENCE_BEATS = 8


def rr_columns(irregularity: bool) -> tuple[str, ...]:
    """The RR context columns of a model: :data:`RR_COLUMNS_IRREGULARITY` with the
    irregularity, :data:`RR_COLUMNS` without."""
    return RR_COLUMNS_IRREGULARITY if irregularity else RR_COLUMNS


def rr_feature_names(columns=RR_COLUMNS) -> tuple[str, ...]:
    """Names of the :func:`rr_matrix` columns made from RR context ``columns``."""
    return RR_FEATURES_IRREGULARITY if tuple(columns) == RR_COLUMNS_IRREGULARITY else RR_FEATURES


def rr_matrix(rr, columns=RR_COLUMNS, records=None) -> np.ndarray:
    """RR features (:func:`rr_feature_names`) of beats from their RR context.

    ``rr`` is N x len(``columns``); ``columns`` is :data:`RR_COLUMNS` (pre_rr, post_rr,
    local_rr, record_rr, in seconds) or :data:`RR_COLUMNS_IRREGULARITY` (the same and
    rr_irregularity).
    The features are the four intervals and the logarithms of five ratios between them
    (prematurity of the beat against the local and the record rhythm, compensatory pause), and
    with the irregularity its logarithm (plus :data:`IRREGULARITY_FLOOR`), as float32.

    RR context is computed from R peaks and is never missing, so a NaN or infinite value
    means damaged data: a :class:`ValueError` gives the count per column and, if
    ``records`` (each row's record) is given, the records concerned.
    """
    columns = tuple(columns)
    if columns not in (RR_COLUMNS, RR_COLUMNS_IRREGULARITY):
        raise ValueError(
            f"rr columns must be {RR_COLUMNS} or {RR_COLUMNS_IRREGULARITY}, got {columns}"
        )
    rr = np.asarray(rr, dtype=np.float64)
    if rr.ndim != 2 or rr.shape[1] != len(columns):
        raise ValueError(f"rr must be N x {len(columns)} {columns}, got shape {rr.shape}")
    check_finite(rr, columns, records)
    pre, post, local, record = np.maximum(rr[:, :4], MIN_RR).T
    features = [
        pre,
        post,
        local,
        record,
        np.log(pre / local),
        np.log(post / pre),
        np.log(pre / record),
        np.log(local / record),
        np.log(post / local),
    ]
    if columns == RR_COLUMNS_IRREGULARITY:
        features.append(np.log(np.maximum(rr[:, 4], 0.0) + IRREGULARITY_FLOOR))
    return np.stack(features, axis=1).astype(np.float32)


def robust_z(values, floor: float, reference=None) -> np.ndarray:
    """``(values - median) / max(1.4826 * MAD, floor)`` over all ``values`` (one record; the
    scaled median absolute deviation estimates the sd of the record's usual beats, whatever
    its unusual ones do); float32, empty for no values. ``reference`` (a boolean mask of the
    values, e.g. :func:`sinus_reference`) takes median and MAD over those values only, where at
    least :data:`MIN_REFERENCE_BEATS` are."""
    values = np.asarray(values, dtype=np.float64)
    if not values.size:
        return values.astype(np.float32)
    usual = values[reference_mask(reference, len(values))]
    median = np.median(usual)
    spread = max(1.4826 * float(np.median(np.abs(usual - median))), floor)
    return ((values - median) / spread).astype(np.float32)


def sinus_reference(pre_rr, upper_rr) -> np.ndarray:
    """The beats that are not premature: those whose ``pre_rr`` is at least the dominant cycle
    around them (``upper_rr``, the upper quartile of ``pre_rr`` over about a minute; see
    :func:`ecg2d.segment.upper_rr`). An atrial premature beat is early by definition, so these
    are sinus beats (or escape beats after a pause) even in a record whose premature beats
    outnumber its sinus beats, where the record's median beat is a premature one."""
    return not_premature(pre_rr, upper_rr, share=1.0)


def reference_mask(reference, n: int) -> np.ndarray:
    """The beats a record's usual value is taken over: the boolean mask ``reference`` (n beats)
    where it holds at least :data:`MIN_REFERENCE_BEATS` beats, else all n beats."""
    if reference is None:
        return np.ones(n, dtype=bool)
    mask = np.asarray(reference, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"reference must be a mask of the {n} beats, got shape {mask.shape}")
    return mask if mask.sum() >= MIN_REFERENCE_BEATS else np.ones(n, dtype=bool)


def not_premature(pre_rr, upper_rr, share: float = NOT_PREMATURE_SHARE) -> np.ndarray:
    """The beats whose ``pre_rr`` is at least ``share`` of the dominant cycle ``upper_rr``
    around them: the whole rhythm of a sinus record, and in bigeminy its sinus half only."""
    return np.asarray(pre_rr, dtype=np.float64) >= share * np.asarray(upper_rr, dtype=np.float64)


def between_non_premature(pre_rr, upper_rr):
    """The rhythm premature beats interrupt, for measures of it: ``(intervals, last)``, the
    intervals in seconds between consecutive :func:`not_premature` beats of one record (in
    time order; one per such beat, the first one's repeating the next), and per beat the
    index into them of the last such beat at or before it (the first such beat's, before it);
    ``None`` where fewer than two beats are not premature. A premature beat and its pause make
    one interval of about two cycles."""
    pre = np.asarray(pre_rr, dtype=np.float64)
    keep = np.flatnonzero(not_premature(pre, upper_rr))
    if len(keep) < 2:
        return None
    between = np.diff(np.cumsum(pre)[keep])
    last = np.clip(np.searchsorted(keep, np.arange(len(pre)), side="right") - 1, 0, None)
    return np.concatenate([between[:1], between]), last


def unusual_columns(pre_rr, upper_rr, prev_rr, qrs_corr, reference=None) -> dict[str, np.ndarray]:
    """:data:`UNUSUAL_COLUMNS` of one record's beats (their ``pre_rr``, ``upper_rr`` and
    ``prev_rr`` in seconds, ``qrs_corr``), each a :func:`robust_z` over the record's beats with
    its :data:`UNUSUAL_FLOORS` floor: label-free, and, made of ratios and a correlation, the same
    at any sampling rate. A prematurity of 0.85 is many sds early in a steady sinus rhythm and
    ordinary in atrial fibrillation; the record's own spread says which. ``reference`` (a
    boolean mask of the beats) takes median and spread over those beats only
    (:func:`robust_z`)."""
    pre = np.maximum(np.asarray(pre_rr, dtype=np.float64), MIN_RR)
    raw = {
        "z_pre_upper": np.log(pre / np.maximum(np.asarray(upper_rr, dtype=np.float64), MIN_RR)),
        "z_pre_prev": np.log(pre / np.maximum(np.asarray(prev_rr, dtype=np.float64), MIN_RR)),
        "z_qrs_corr": np.asarray(qrs_corr, dtype=np.float64),
    }
    return {
        name: robust_z(raw[name], UNUSUAL_FLOORS[name], reference=reference)
        for name in UNUSUAL_COLUMNS
    }


def gated_columns(pre_rr, upper_rr, prev_rr, qrs_corr, fibrillation) -> dict[str, np.ndarray]:
    """:data:`GATED_COLUMNS` of one record's beats: :func:`unusual_columns` against the beats
    that are :func:`not_premature`, and against all beats where the boolean mask
    ``fibrillation`` (e.g. :func:`ecg2d.fibrillation.fibrillation_between`) holds.

    Where premature beats are half the beats, their spread is the gap between the two halves
    and a premature beat is no longer unusual against all beats; against the non-premature
    beats it is. In atrial fibrillation the non-premature beats are the narrow top of a wide
    spread and every shorter beat would score as premature; there the scores over all beats
    hold (chosen on DS1 folds by ``bench/ds1_af_gated_probe.py``)."""
    usual = unusual_columns(pre_rr, upper_rr, prev_rr, qrs_corr)
    steady = unusual_columns(
        pre_rr, upper_rr, prev_rr, qrs_corr, reference=not_premature(pre_rr, upper_rr)
    )
    af = np.asarray(fibrillation, dtype=bool)
    return {
        gated: np.where(af, usual[name], steady[name]).astype(np.float32)
        for gated, name in zip(GATED_COLUMNS, UNUSUAL_COLUMNS)
    }


def centred_windows(values: np.ndarray, beats: int) -> np.ndarray:
    """For each of ``values``, the ``beats`` values centred on it (``2 * (beats // 2) + 1``
    columns), NaN where the window reaches past either end."""
    half = beats // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)


def check_finite(rr: np.ndarray, columns: tuple[str, ...], records=None) -> None:
    """Raise :class:`ValueError` if ``rr`` (beats x ``columns``) has NaN or infinite values,
    counting them per column and naming the ``records`` concerned if given."""
    bad = ~np.isfinite(rr)
    if not bad.any():
        return
    counts = ", ".join(f"{c} {int(n)}" for c, n in zip(columns, bad.sum(axis=0)) if n)
    where = ""
    if records is not None:
        named = sorted(set(np.asarray(records, dtype=str)[bad.any(axis=1)].tolist()))
        where = f" of records {named}"
    raise ValueError(
        f"RR context has {int(bad.any(axis=1).sum())} beats{where} with NaN or infinite values "
        f"({counts}): the beats files or manifest are damaged; rebuild them"
    )

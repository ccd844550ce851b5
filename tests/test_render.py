"""Beat images and their nine crops."""

import cv2
import numpy as np
import pytest

from ecg2d.augment import crop_record, nine_crops
from ecg2d.images import PACK, PACK_NAMES, ImageReader, read_image
from ecg2d.io import read_record
from ecg2d.render import png_name, render_beat, render_record
from ecg2d.segment import segment_record
from tests.conftest import segmented


@pytest.fixture(scope="module")
def beats(mitdb):
    beats = segmented("100", "jun2018")
    return {k: (v[:40] if v.ndim and k not in ("signal",) else v) for k, v in beats.items()}


@pytest.mark.parametrize("size", [128, 64])
def test_png_is_square_8bit_grayscale(beats, tmp_path, size):
    out = tmp_path / "png"
    assert render_record(beats, out, size, pack=True) == 40
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == [png_name("100", s) for s in beats["sample"]]
    assert sorted(p.name for p in out.iterdir() if p.suffix != ".png") == [PACK, PACK_NAMES]
    image = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    assert image.shape == (size, size) and image.dtype == np.uint8
    assert not list(tmp_path.glob(".*"))  # no temporary leftovers


def test_trace_follows_the_waveform(beats):
    start, end, r = beats["start"][5], beats["end"][5], beats["sample"][5]
    segment = beats["signal"][start:end]
    image = render_beat(segment, 128)
    assert image.min() < 16 and image.max() == 255  # dark anti-aliased trace on white
    ink = image < 128
    # Every column carries the trace (a continuous polyline across the full width)...
    assert ink[:, 2:-2].any(axis=0).all()
    # ...and at the R peak's column, the ink reaches the top (the peak is the maximum).
    column = int(round(2 + (r - start) / (end - start - 1) * (128 - 1 - 4)))
    assert np.flatnonzero(ink[:, column - 1 : column + 2].any(axis=1)).min() <= 4


def test_flat_segment_is_drawn_at_mid_height():
    image = render_beat(np.zeros(100), 64)
    rows = np.flatnonzero((image < 128).any(axis=1))
    assert rows.min() >= 30 and rows.max() <= 33


def test_nine_crops_follow_the_offsets():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (128, 128), dtype=np.uint8)
    crops = nine_crops(image, 96, (0, 16, 32))
    assert len(crops) == 9 and all(c.shape == (128, 128) for c in crops)
    for k, (top, left) in enumerate((t, le) for t in (0, 16, 32) for le in (0, 16, 32)):
        expected = cv2.resize(image[top : top + 96, left : left + 96], (128, 128))
        np.testing.assert_array_equal(crops[k], expected)
    with pytest.raises(ValueError, match="does not fit"):
        nine_crops(image, 100, (0, 16, 32))


def test_crop_record_writes_nine_per_beat(beats, tmp_path):
    render_record(beats, tmp_path / "png", 128)
    samples = beats["sample"][:3]
    n = crop_record(tmp_path / "png", samples, "100", tmp_path / "crops")
    files = sorted(p.name for p in (tmp_path / "crops").glob("*.png"))
    assert n == 27 and len(files) == 27
    assert files[0] == f"100_{samples[0]:07d}_c0.png"
    crop4 = read_image(tmp_path / "crops" / f"100_{samples[0]:07d}_c4.png")
    source = read_image(tmp_path / "png" / png_name("100", samples[0]))
    np.testing.assert_array_equal(crop4, nine_crops(source)[4])


def _ink_height(image: np.ndarray) -> int:
    rows = np.flatnonzero((image < 128).any(axis=1))
    return int(rows.max() - rows.min())


def test_record_amplitude_keeps_a_beats_size_relative_to_the_record(mitdb):
    """Record 119's ventricular beats are larger than its normal ones: one scale per record
    shows it (V images about twice as tall), min-max scaling per beat hides it."""
    from ecg2d.render import RECORD_RANGE, beat_amplitude, record_amplitude

    beats = segment_record(read_record(mitdb, "119"), "fixed", (250, 400))
    scale = beat_amplitude(beats, "record")
    assert scale == record_amplitude(beats["signal"], beats["fs"], beats["sample"]) > 0
    assert beat_amplitude(beats, "beat") is None
    heights = {}
    for symbol in "NV":
        index = np.flatnonzero(beats["symbol"] == symbol)[:100]
        segments = [beats["signal"][beats["start"][i] : beats["end"][i]] for i in index]
        heights[symbol] = (
            np.median([_ink_height(render_beat(s, 128, amplitude=scale)) for s in segments]),
            np.median([_ink_height(render_beat(s, 128)) for s in segments]),
        )
    (n_record, n_beat), (v_record, v_beat) = heights["N"], heights["V"]
    assert n_beat >= 120 and v_beat >= 120  # min-max: every beat fills the height
    assert v_record > 1.6 * n_record and n_record < 0.5 * 128
    # a segment twice as large spans twice the rows around the same mid-height
    segment = beats["signal"][beats["start"][0] : beats["end"][0]]
    small = render_beat(segment, 128, amplitude=4 * RECORD_RANGE * scale)
    large = render_beat(2 * segment, 128, amplitude=4 * RECORD_RANGE * scale)
    assert abs(_ink_height(large) - 2 * _ink_height(small)) <= 3
    with pytest.raises(ValueError, match="amplitude 'mV'"):
        beat_amplitude(beats, "mV")


def test_record_amplitude_clips_and_counts_what_leaves_the_image(beats, tmp_path, caplog):
    import logging

    scaled = dict(beats, signal=beats["signal"].copy())
    r = scaled["sample"][3]
    scaled["signal"][r - 15 : r + 15] *= 5  # one QRS far beyond the record's scale
    with caplog.at_level(logging.INFO, logger="ecg2d.render"):
        render_record(scaled, tmp_path / "png", 64, amplitude="record")
    assert "1 of 40 beats clipped" in caplog.text
    image = read_image(tmp_path / "png" / png_name("100", scaled["sample"][3]))
    assert (image[2:5] < 128).any()  # clipped at the top edge


def test_packs_hold_the_pngs_and_the_reader_takes_them(beats, tmp_path):
    """render_record and crop_record pack every image beside its PNG, in the PNGs' order
    (pack_names); an ImageReader gives the same arrays from the pack as from the PNGs, falls
    back to the PNGs in a folder without a pack, and refuses a name its folder's pack lacks."""
    render_record(beats, tmp_path / "png", 128, pack=True)
    crop_record(tmp_path / "png", beats["sample"][:3], "100", tmp_path / "crops", pack=True)
    paths = []
    for folder in ("png", "crops"):
        pack = np.load(tmp_path / folder / PACK, allow_pickle=False)
        names = np.load(tmp_path / folder / PACK_NAMES, allow_pickle=False).tolist()
        assert names == sorted(p.name for p in (tmp_path / folder).glob("*.png"))
        assert pack.dtype == np.uint8 and pack.shape == (len(names), 128, 128)
        for name, image in zip(names, pack):
            np.testing.assert_array_equal(image, read_image(tmp_path / folder / name))
        paths += [f"{folder}/{name}" for name in names[::7]]
    packed = ImageReader(tmp_path).load(paths, 48)
    assert packed.shape == (len(paths), 48, 48, 1) and packed.std() > 10
    for folder in ("png", "crops"):  # the same folders without their packs: PNGs decoded
        (tmp_path / folder / PACK).rename(tmp_path / folder / "moved.npy")
    np.testing.assert_array_equal(ImageReader(tmp_path).load(paths, 48), packed)
    (tmp_path / "png" / "moved.npy").rename(tmp_path / "png" / PACK)
    (tmp_path / "png" / png_name("100", 1)).write_bytes(b"")  # a PNG the pack does not hold
    with pytest.raises(OSError, match="not in .*pack.npy: the folder changed"):
        ImageReader(tmp_path).read(f"png/{png_name('100', 1)}")


def test_no_pack_for_a_beatless_record_or_with_pack_images_off(beats, tmp_path):
    empty = {**beats, **{k: beats[k][:0] for k in ("sample", "start", "end")}}
    assert render_record(empty, tmp_path / "png", 64, pack=True) == 0
    assert list((tmp_path / "png").iterdir()) == []
    assert render_record(beats, tmp_path / "off", 128) == 40  # pack_images' default: off
    assert crop_record(tmp_path / "off", beats["sample"][:2], "100", tmp_path / "c")
    for folder in ("off", "c"):
        assert {p.suffix for p in (tmp_path / folder).iterdir()} == {".png"}


def test_two_leads_draw_the_second_lead_below_the_first(mitdb, tmp_path, caplog):
    """``window.leads: 2``: the beats keep the second lead (record 100: V5), and each image
    holds the lead read in its top half and the second lead in its bottom half, on one time
    axis, each min-max scaled within its half; predict draws the same images as the png
    stage; a record without a second lead leaves the bottom half blank, with a warning
    naming it. One lead stays the default: no second lead kept."""
    import logging

    from ecg2d.predict import render_images
    from ecg2d.render import second_lead

    record = read_record(mitdb, "100")
    assert "signal2" not in segment_record(record, "fixed", (250, 400))
    beats = segment_record(record, "fixed", (250, 400), leads=2)
    np.testing.assert_array_equal(beats["signal2"], record.signal2)  # no band: as recorded
    beats = {
        k: (v[:30] if v.ndim and k not in ("signal", "signal2") else v) for k, v in beats.items()
    }
    i = 7
    one, two = (beats[k][beats["start"][i] : beats["end"][i]] for k in ("signal", "signal2"))
    assert np.corrcoef(one, two)[0, 1] < 0.9  # two different leads
    image = render_beat(one, 128, leads=2, segment2=two)
    cols = 2 + np.linspace(0, 123, one.size)
    for trace, top in ((one, 0), (two, 64)):
        y = (trace - trace.min()) / (trace.max() - trace.min())
        rows = top + 2 + (1 - y) * (64 - 1 - 4)
        for k in range(0, one.size, 9):  # the ink passes where each lead's sample falls
            r, c = int(round(rows[k])), int(round(cols[k]))
            assert image[max(r - 1, 0) : r + 2, c - 1 : c + 2].min() < 128, (top, k)
    assert (image[:64] < 128).any(axis=0)[2:-2].all()  # each half carries a whole trace
    assert (image[64:] < 128).any(axis=0)[2:-2].all()

    render_record(beats, tmp_path / "png", 128, leads=2)
    drawn = render_images(beats, 128, np.arange(30), leads=2, signal2=second_lead(beats, 2))
    for k, sample in enumerate(beats["sample"]):
        np.testing.assert_array_equal(
            drawn[k], read_image(tmp_path / "png" / png_name("100", sample))
        )

    one_lead = {k: v for k, v in beats.items() if k != "signal2"}
    with caplog.at_level(logging.WARNING, logger="ecg2d.render"):
        render_record(one_lead, tmp_path / "one", 128, leads=2)
    assert "record 100: no second lead" in caplog.text
    blank = read_image(tmp_path / "one" / png_name("100", beats["sample"][i]))
    assert (blank[64:] == 255).all() and (blank[:64] < 128).any()
    np.testing.assert_array_equal(blank[:64], image[:64])
    with pytest.raises(ValueError, match="leads 3"):
        render_beat(one, 128, leads=3)

import numpy as np

from vidseg.train.thin_parts import _grass, _Object, _paint, add_thin_parts


def _scene(height: int = 120, width: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A grey frame with a brown 50x40 block, its (H, W) uint8 {0, 1} mask."""
    image = np.full((height, width, 3), 90, np.uint8)
    mask = np.zeros((height, width), np.uint8)
    mask[40:90, 60:100] = 1
    image[mask > 0] = (150, 100, 60)
    return image, mask


def test_strokes_either_cut_the_object_or_extend_it_and_leave_the_inputs_alone():
    image, mask = _scene()
    before_image, before_mask = image.copy(), mask.copy()
    cut = grown = 0
    for seed in range(40):
        painted, labels, cover = add_thin_parts(np.random.default_rng(seed), image, mask)
        assert painted.shape == image.shape and painted.dtype == np.uint8 and labels.dtype == np.uint8
        if cover is None:  # occluders that would hide too much: the sample is left as it was
            assert painted is image and labels is mask
            continue
        changed = labels != mask
        assert not (changed & ~cover).any()  # labels change only under the strokes
        assert (painted != image).any(axis=2)[cover].mean() > 0.5  # and the strokes are visible there
        if (labels > mask).any():
            grown += 1
            assert not (labels < mask).any()  # an attached part adds, never removes
            assert (labels[cover] == 1).all()
        elif (labels < mask).any():
            cut += 1
            assert labels.sum() >= 0.6 * mask.sum()  # an occluder never hides most of the object
            assert (labels[cover] == 0).all()
    assert cut >= 8 and grown >= 8  # both kinds are drawn
    assert np.array_equal(image, before_image) and np.array_equal(mask, before_mask)


def test_attached_parts_reach_outside_the_object_and_occluders_cross_it():
    image, mask = _scene()
    outside = inside = 0
    for seed in range(40):
        _, labels, cover = add_thin_parts(np.random.default_rng(seed), image, mask)
        if cover is None:
            continue
        if (labels > mask).any():
            outside += int((cover & (mask == 0)).sum() > 10)
        else:
            inside += int((cover & (mask > 0)).sum() > 10)
    assert outside >= 8 and inside >= 8


def test_an_empty_mask_is_left_as_it_is():
    image, mask = _scene()
    empty = np.zeros_like(mask)
    painted, labels, cover = add_thin_parts(np.random.default_rng(0), image, empty)
    assert painted is image and labels is empty and cover is None


def test_the_attached_share_chooses_between_occluders_and_attached_parts():
    image, mask = _scene()
    for share, kept in ((0.0, "cut"), (1.0, "grown")):
        kinds = set()
        for seed in range(20):
            _, labels, cover = add_thin_parts(np.random.default_rng(seed), image, mask, attached_share=share)
            if cover is not None:
                kinds.add("grown" if (labels > mask).any() else "cut" if (labels < mask).any() else "none")
        assert kinds == {kept}


def _grass_change(faint_share: float) -> tuple[float, float]:
    """Over 20 tufts of grass drawn on the scene: the mean absolute colour change under the blades,
    and the smallest share of a tuft's cover that falls on the object."""
    image, mask = _scene()
    obj = _Object.of(mask)
    changes, on_object = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        painted, cover = _paint(rng, image, _grass(rng, image, obj, faint_share))
        if not cover.any():  # defocused 1 px blades: nothing at least half covered
            continue
        changes.append(np.abs(painted.astype(float) - image)[cover].mean())
        on_object.append((cover & (mask > 0)).sum() / cover.sum())
    return float(np.mean(changes)), float(np.min(on_object))


def test_faint_grass_still_crosses_the_object_but_barely_changes_the_image():
    opaque, _ = _grass_change(0.0)
    faint, on_object = _grass_change(1.0)
    assert faint < 0.5 * opaque  # half transparent and close to the object's colour
    assert on_object > 0.2  # still a tuft through the object, whose cover the mask leaves out


def test_faint_tufts_are_left_out_of_the_mask():
    image, mask = _scene()
    cut = 0
    for seed in range(20):
        _, labels, cover = add_thin_parts(np.random.default_rng(seed), image, mask, attached_share=0.0, faint_share=1.0)
        if cover is not None:
            assert (labels[cover] == 0).all() and not (labels > mask).any()
            cut += int((labels < mask).any())
    assert cut >= 8

from __future__ import annotations

import math

import pytest

from vidseg.engine.vos.memory_policy import MemoryConfig, MemoryPolicy
from vidseg.errors import InputError


def ideal_preset(t: int, first: int, ratio: float) -> int:
    n = t - first
    return first + min(math.floor(n * ratio + 0.5), n - 1)


def test_first_and_previous_until_the_threshold():
    policy = MemoryPolicy(MemoryConfig(threshold=10))
    assert policy.select(0) == []
    assert policy.select(1) == [0]
    assert policy.select(5) == [0, 4]
    assert policy.select(10) == [0, 9]  # 10 segmented: not more than T yet
    assert policy.preset(10) is None


def test_preset_frame_once_more_than_threshold_frames_are_segmented():
    policy = MemoryPolicy(MemoryConfig(threshold=10, ratio=0.8))
    assert policy.select(11) == [0, 9, 10]  # round(11 * 0.8) = 9
    assert policy.select(13) == [0, 10, 12]  # round(10.4) = 10
    # Relative to the prompt's step: a pass that starts at step 100.
    assert policy.select(113, first=100) == [100, 110, 112]


def test_every_kth_frames_keep_only_the_latest():
    policy = MemoryPolicy(MemoryConfig(threshold=1000, every=5, max_every=2))
    assert policy.select(4) == [0, 3]
    assert policy.select(6) == [0, 5]
    assert policy.select(11) == [0, 5, 10]
    assert policy.select(21) == [0, 15, 20]
    assert policy.select(23) == [0, 15, 20, 22]


def test_no_duplicates_when_choices_coincide():
    policy = MemoryPolicy(MemoryConfig(threshold=0, ratio=0.9, every=1, max_every=3))
    for t in range(1, 40):
        steps = policy.select(t)
        assert steps == sorted(set(steps)) and all(s < t for s in steps)


@pytest.mark.parametrize("ratio", [0.6, 0.75, 0.8, 0.9])
@pytest.mark.parametrize(("threshold", "every", "first"), [(10, 0, 0), (10, 7, 0), (0, 3, 5), (50, 1, 2)])
def test_bounded_memory_serves_every_later_selection(ratio, threshold, every, first):
    """Over 3000 steps: a caller that keeps only ``needed_after`` always has what ``select`` asks for,
    never needs a frame it dropped, and stores at most ``max_stored`` frames."""
    config = MemoryConfig(threshold=threshold, ratio=ratio, every=every, max_every=4)
    policy = MemoryPolicy(config)
    stored: set[int] = set()
    for t in range(first, first + 3000):
        wanted = policy.select(t, first)
        assert set(wanted) <= stored, (t, set(wanted) - stored)
        assert first in wanted or t == first
        assert t - 1 in wanted or t == first
        stored.add(t)  # segment frame t, store it, then drop what is no longer needed
        needed = policy.needed_after(t, first)
        assert needed <= stored, (t, needed - stored)
        stored = needed
        assert len(stored) <= policy.max_stored
    every_slots = config.max_every if every else 0
    assert policy.max_stored <= 2 + every_slots + 7  # a handful even at ratio 0.6


@pytest.mark.parametrize("ratio", [0.6, 0.7, 0.8, 0.9])
def test_preset_stays_close_to_round_t_times_r(ratio):
    policy = MemoryPolicy(MemoryConfig(threshold=10, ratio=ratio))
    for t in range(11, 3000):
        preset, ideal = policy.preset(t), ideal_preset(t, 0, ratio)
        assert preset in policy.select(t)
        assert abs(preset - ideal) <= max(1, 0.06 * t), (t, preset, ideal)
        if t > 50:
            assert abs(preset - ideal) < 0.05 * t
        if t <= 15:
            assert preset == ideal  # exact while the candidate grid is still every frame


def test_defaults_store_few_frames():
    assert MemoryPolicy().max_stored == 6
    assert MemoryPolicy(MemoryConfig(every=10)).max_stored == 10


@pytest.mark.parametrize(
    "kwargs",
    [{"ratio": 0.5}, {"ratio": 0.95}, {"threshold": -1}, {"every": -2}, {"every": 3, "max_every": 0},
     {"preset_spacing": 0.0}, {"threshold": 2.5}],
)
def test_bad_config_is_refused(kwargs):
    with pytest.raises(InputError):
        MemoryConfig(**kwargs)


def test_steps_before_first_are_refused():
    with pytest.raises(ValueError):
        MemoryPolicy().select(3, first=5)


def test_without_the_preset_frame_only_first_and_previous_are_used_and_kept():
    policy = MemoryPolicy(MemoryConfig(preset_frame=False))
    assert policy.select(500, 0) == [0, 499]
    assert policy.needed_after(500, 0) == {0, 500}
    assert policy.preset(500, 0) is None

"""The memory bank: what is stored per step, which objects start where, and what is dropped."""

import torch

from vidseg.engine.vos.memory_bank import MemoryBank, MemoryEntry, slot_row
from vidseg.engine.vos.memory_policy import MemoryConfig, MemoryPolicy


def entry(num_objects: int) -> MemoryEntry:
    return MemoryEntry(key=torch.zeros(4, 6), masks=torch.ones(num_objects, 6), inputs=None,
                       result=torch.zeros(num_objects, 1, 2, 3))


def test_the_bank_keeps_what_the_policy_needs_and_the_pinned_frames_only():
    policy = MemoryPolicy(MemoryConfig(preset_frame=False))
    bank = MemoryBank(policy)
    bank.add(0, entry(1), prompted=True)
    for step in range(1, 30):
        bank.add(step, entry(2 if step >= 5 else 1), prompted=step == 12)
        assert set(bank.entries) == policy.needed_after(step) | {0, 12} & set(range(step + 1))
    assert bank.starts == [0, 5]  # the second object started at step 5
    assert bank.pinned == [0, 12]
    assert bank.long_steps(30) == [0, 12]  # the previous frame (29) is the short-term reference
    assert bank.adaptation_steps(30) == [30, 29]  # prompted frames are not adapted on
    assert bank.first_entry(1) is None  # step 5 was dropped


def test_a_slot_row_is_empty_before_its_object_existed():
    masks = torch.arange(6.0).reshape(1, 6)
    assert torch.equal(slot_row(masks, 0), masks) and torch.equal(slot_row(masks, 2), torch.zeros(1, 6))

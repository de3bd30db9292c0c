"""Our split of ../shared/data/davis2016-train (30 sequences): what we tune on vs what we score on.

Models are trained on TRAIN while settings are chosen; scores on VALIDATION are the ones quoted.
The choice mixes rigid and deformable objects, slow and fast motion, large and small objects.
"""

VALIDATION = (
    "car-turn",
    "dance-jump",
    "dog-agility",
    "kite-walk",
    "mallard-fly",
    "motocross-bumps",
)

ALL = (
    "bear", "bmx-bumps", "boat", "breakdance-flare", "bus", "car-turn", "dance-jump", "dog-agility",
    "drift-turn", "elephant", "flamingo", "hike", "hockey", "horsejump-low", "kite-walk", "lucia",
    "mallard-fly", "mallard-water", "motocross-bumps", "motorbike", "paragliding", "rhino",
    "rollerblade", "scooter-gray", "soccerball", "stroller", "surf", "swing", "tennis", "train",
)

TRAIN = tuple(s for s in ALL if s not in VALIDATION)

# Run-time settings (adaptation, preset frame, resolution, re-finding) are chosen on clips the network
# never saw, or a network that already knows the clip makes every extra look useless. TUNE is six of
# the TRAIN clips held out of the "fit" networks (trained on FIT) that such choices are made with.
TUNE = ("boat", "bmx-bumps", "breakdance-flare", "drift-turn", "flamingo", "rollerblade")
FIT = tuple(s for s in TRAIN if s not in TUNE)


# Photos (../shared/data/static): every 10th of each folder, by sorted name from the first, is held
# out of the train-split models and scored by the interactive benchmark; the shipped models see all.
PHOTO_SPLITS = ("all", "train", "validation")
PHOTO_VALIDATION_EVERY = 10


def photo_in_split(position: int, split: str) -> bool:
    """Whether the photo at ``position`` of its folder (sorted by name, from 0) belongs to ``split``."""
    held_out = position % PHOTO_VALIDATION_EVERY == 0
    return split == "all" or held_out == (split == "validation")

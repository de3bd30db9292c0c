"""``vidseg train interactive``: train the interactive network with iterative click simulation.

Each step runs the first part once per crop, then the second part 0..``click_rounds`` times
without gradients, each time adding the click the evaluation protocol would add (the point
farthest inside the thicker error of the model's own prediction, :func:`next_click`) and feeding
the prediction back as the previous mask; the last pass is trained. So the network learns to
correct its own mistakes, as users will ask it to (RITM's scheme). The region branch is trained
on every crop. The loop, state file and log are :mod:`vidseg.train.loop`'s.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from vidseg.engine.interactive.click_segmenter import RefineConfig
from vidseg.engine.interactive.clicks import DISTANCE_CAP, Click, distance_maps
from vidseg.engine.interactive.selection_cues import colour_likelihood
from vidseg.errors import InputError
from vidseg.eval.click_protocol import next_click
from vidseg.nn.interactive import (CLICK_CAP_RANGE, MAX_CLICK_DISK, InteractiveNet, InteractiveNetConfig,
                                   LowerFeatures, grown_upper, valid_click_cap, valid_click_disk)
from vidseg.nn.losses import PIXEL_LOSSES, batch_iou, guided_outline_loss, region_loss, segmentation_loss
from vidseg.ops.crops import check_stretch
from vidseg.train.correction_weights import clicked_error_weight, preserve_weight
from vidseg.train.interactive_samples import TRAIN_MAX_ZOOM
from vidseg.train.interpolate import keep_start
from vidseg.train.loop import StepResult, run_training
from vidseg.train.pretraining import PhotoTrainConfig, imagenet_start, starting_model, with_photos
from vidseg.train.thin_parts import ATTACHED_SHARE
from vidseg.train.vos_trainer import index_loader

GUIDE_EPS = RefineConfig().eps  # the guided loss filters as the click segmenter does
GUIDED_RADII = (1, 2)  # the guided loss's fit radii, in output pixels, taken in turn


@dataclass(frozen=True)
class InteractiveTrainConfig(PhotoTrainConfig):
    synthetic_ratio: float = 0.3
    # Simulated correction rounds before the trained pass, drawn uniformly from 0..click_rounds.
    # RITM's 3 leaves clicks 5-20 untrained: the network then ignores late clicks (the protocol
    # clicks the same spot again and again), so corrections stall near 86% IoU.
    click_rounds: int = 3
    # Share of samples that are focus windows (a part of the object's outline at the crop's full
    # resolution, with a coarse previous mask); 0 trains a network without the focus step.
    focus_share: float = 0.0
    # The share of the --init network's weights kept in the saved one (WiSE-FT,
    # :mod:`vidseg.train.interpolate`); 0: the fine-tuned weights as they are.
    keep_init: float = 0.0
    # The network whose weights --keep-init keeps, when not the --init one: a sibling fine-tuned
    # from the same start without this run's change (a soup of two, Wortsman et al., ICML 2022),
    # which keeps what each does well; None: the --init one.
    keep_from: Path | None = None
    # Weight of matching the --init network's mask from the box alone (no clicks), on every crop
    # but where thin parts were drawn: learning without forgetting (Li and Hoiem, 2016), so
    # fine-tuning for corrections keeps the first masks the --init network drew; 0: off.
    distill: float = 0.0
    # The network whose box-only masks --distill keeps, when not the --init one: fine-tune from a
    # network that follows clicks better while keeping another's first masks; None: the --init one.
    distill_from: Path | None = None
    # Share of samples with thin occluders or thin attached parts drawn over them
    # (:mod:`vidseg.train.thin_parts`); 0: none.
    thin_share: float = 0.0
    # Of those, the share whose strokes are attached parts (lines the mask keeps); the rest are
    # occluders (poles, grass the mask leaves out).
    thin_attached: float = ATTACHED_SHARE
    # Of the drawn tufts of grass, the share that are faint: half transparent, pale, defocused blades
    # (the mask still leaves them out), as grass near the lens over a pale dress; 0: none.
    thin_faint: float = 0.0
    # Share of focus windows centred on a thin part of the object's mask (lines, rails, ropes of
    # the annotated data) rather than anywhere on its outline; 0: none.
    thin_focus: float = 0.0
    # Share of samples that correct drawn thin parts: the previous mask is the object without them
    # (the blob a network that ignores thin parts draws) and the click lands on one, so one click
    # there learns to take the whole part in or out; 0: none.
    thin_click: float = 0.0
    # Share of samples that correct the object's own thin parts (lines, rails, ropes of the
    # annotated data): the previous mask is the object without them, the click on them; 0: none.
    own_thin_click: float = 0.0
    # A focus window magnifies the image at most this much (the click segmenter's focus pass runs
    # at most FocusConfig.max_zoom); the default is the shipped networks' range.
    focus_zoom: float = TRAIN_MAX_ZOOM
    # Windows centred on a thin part magnify the image thin_zoom / 1.5 to thin_zoom times (the click
    # segmenter's close pass after a click on a thin part); 0: sized like the other focus windows.
    thin_zoom: float = 0.0
    # Extra BCE weight on the pixels a crop's previous mask already had right (focus windows and
    # simulated click rounds), so a click's pass learns not to break them; 0: none.
    preserve: float = 0.0
    # Extra BCE weight on the error the crop's last click points at (its connected region, grown a
    # little): the local merge keeps a click's answer only in its connected change; 0: none.
    clicked_error: float = 0.0
    # The trained pass's per-pixel loss beside Dice (losses.PIXEL_LOSSES): "bce", bootstrapped BCE
    # over the hardest quarter; "nfl", RITM's normalised focal loss, which fades pixels as they
    # become right instead of keeping a fixed share.
    pixel_loss: str = "bce"
    # Weight of a second loss on the trained pass's mask as the click segmenter shows it: upsampled
    # to the crop with the guided filter (losses.guided_outline_loss), which inference runs behind
    # every pass, so the network learns the outline the filter snaps to the image; 0: none.
    guided_loss: float = 0.0
    # Keep the upper layers' batch-norm statistics as the --init network has them: each pass of a
    # step (box alone, simulated rounds, the trained pass) feeds them different inputs, and with
    # many rounds their running averages drift to click-rich ones, which a box alone then meets.
    frozen_norms: bool = False
    # Each click also seeds the colour cue with the colours around it (the network is saved as one
    # run so): a click can then overrule a box whose margin shares the object's colours.
    click_cues: bool = False
    # How many times longer one way than the other a box selection's window may be, stretched to
    # the square crop (``CropWindow.around``), so a long object fills more of the crop; saved with
    # the network, which is then run so. None: the network's own (1, squares, unless --init says).
    stretch: float | None = None
    # Clicks as disks of this radius in crop pixels (RITM's encoding) instead of closeness maps
    # that fade over 40 pixels; saved with the network, which is then run so. None: the
    # network's own (closeness maps, unless --init says otherwise).
    click_disk: float | None = None
    # Closeness maps that fade over this many crop pixels instead of 40: a wider field says further
    # how far a click's object may reach. Saved with the network; None: the network's own.
    click_cap: float | None = None
    # The crop side to train at; None: the network's own (config.model's, or the --init checkpoint's).
    # The weights do not depend on it, so a network can be fine-tuned at a larger crop.
    crop: int | None = None
    # Inverted residual blocks of this expansion added to the upper part (InteractiveNetConfig's
    # upper_expand): with --init they start as the identity, so the checkpoint's network is grown
    # and fine-tuned; 0: the network as it is.
    upper_expand: int = 0
    region_weight: float = 0.5
    model: InteractiveNetConfig = field(default_factory=InteractiveNetConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.click_rounds, bool) or not isinstance(self.click_rounds, int) \
                or not 0 <= self.click_rounds <= 20:
            raise InputError(f"--click-rounds is {self.click_rounds!r}; give a whole number from 0 to 20")
        if not 0 <= self.focus_share <= 1:
            raise InputError(f"--focus-share is {self.focus_share!r}; give a share from 0 to 1")
        if not 0 <= self.keep_init < 1:
            raise InputError(f"--keep-init is {self.keep_init!r}; give a share from 0 to below 1")
        if self.keep_init and self.init is None and self.keep_from is None:
            raise InputError("--keep-init keeps a share of the --init network's weights; give --init or --keep-from too")
        if self.keep_from is not None and not self.keep_init:
            raise InputError("--keep-from names the network whose weights --keep-init keeps; give --keep-init too")
        if self.stretch is not None:
            check_stretch(self.stretch)
        if self.click_disk is not None and not valid_click_disk(self.click_disk):
            raise InputError(f"--click-disk is {self.click_disk!r}; give 0 (closeness maps) "
                             f"or a radius from 1 to {MAX_CLICK_DISK}")
        if self.click_cap is not None and not valid_click_cap(self.click_cap):
            raise InputError(f"--click-cap is {self.click_cap!r}; give {CLICK_CAP_RANGE[0]:g} to "
                             f"{CLICK_CAP_RANGE[1]:g} crop pixels")
        if self.crop is not None and (self.crop % 16 or self.crop < 64):
            raise InputError(f"--crop is {self.crop}; give a multiple of 16 of at least 64")
        for name in ("thin_share", "thin_attached", "thin_faint", "thin_focus", "thin_click", "own_thin_click"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError(f"--{name.replace('_', '-')} is {getattr(self, name)!r}; give a share from 0 to 1")
        if self.thin_faint and not (self.thin_share or self.thin_click):
            raise InputError("--thin-faint makes some drawn grass faint; give --thin-share or --thin-click too")
        if self.thin_faint and self.thin_attached >= 1:
            raise InputError("--thin-faint makes some drawn grass faint, but --thin-attached 1 draws no occluders "
                             "(grass is one); give --thin-attached below 1")
        if self.thin_focus and not self.focus_share:
            raise InputError("--thin-focus centres some focus windows on thin parts; give --focus-share too")
        if not 1 <= self.focus_zoom < float("inf"):
            raise InputError(f"--focus-zoom is {self.focus_zoom!r}; give a magnification of at least 1")
        if not (self.thin_zoom == 0 or 1 <= self.thin_zoom < float("inf")):
            raise InputError(f"--thin-zoom is {self.thin_zoom!r}; give 0 (off) or a magnification of at least 1")
        if self.thin_zoom and not self.thin_focus:
            raise InputError("--thin-zoom magnifies the focus windows on thin parts; give --thin-focus too")
        for name in ("preserve", "clicked_error", "guided_loss", "distill"):
            if not 0 <= getattr(self, name) <= 10:
                raise InputError(f"--{name.replace('_', '-')} is {getattr(self, name)!r}; give a weight from 0 to 10")
        if isinstance(self.upper_expand, bool) or not isinstance(self.upper_expand, int) \
                or not 0 <= self.upper_expand <= 8:
            raise InputError(f"--upper-expand is {self.upper_expand!r}; give a whole number from 0 to 8")
        if self.pixel_loss not in PIXEL_LOSSES:
            raise InputError(f"--pixel-loss is {self.pixel_loss!r}; give one of {', '.join(PIXEL_LOSSES)}")
        if self.distill and self.init is None and self.distill_from is None:
            raise InputError("--distill keeps the --init network's first masks; give --init or --distill-from too")
        if self.distill_from is not None and not self.distill:
            raise InputError("--distill-from names the network whose first masks --distill keeps; give --distill too")
        if self.frozen_norms and self.init is None:
            raise InputError("--frozen-norms keeps the --init network's batch-norm statistics; give --init too")

    @property
    def teacher(self) -> Path | None:
        """The network whose box-only masks --distill keeps: --distill-from, else --init."""
        return self.distill_from if self.distill_from is not None else self.init

    @property
    def kept(self) -> Path | None:
        """The network whose weights --keep-init averages in: --keep-from, else --init."""
        return self.keep_from if self.keep_from is not None else self.init


def train_interactive(config: InteractiveTrainConfig) -> Path:
    """Run (or resume) training; returns the weights path once ``config.steps`` are done."""
    torch.manual_seed(config.seed)
    model = starting_model("interactive", config.model, config.init)
    model = _with_upper_blocks(model, config.upper_expand)
    if config.crop is not None:
        model.config = replace(model.config, crop=config.crop)  # validated there; saved with the weights
    if config.focus_share > 0:
        model.config = replace(model.config, focus=True)  # the click segmenter then runs its focus step
    if config.click_cues:
        model.config = replace(model.config, click_cues=True)  # and seeds its colour cue with the clicks
    if config.stretch is not None:
        model.config = replace(model.config, stretch=config.stretch)  # and stretches its windows so
    if config.click_disk is not None:
        model.config = replace(model.config, click_disk=float(config.click_disk))  # and draws clicks so
    if config.click_cap is not None:
        model.config = replace(model.config, click_cap=float(config.click_cap))  # and fades them so
    groups = imagenet_start(model, model.backbone, config)
    rng = np.random.default_rng(config.seed)
    teacher = _teacher(config)
    steps = itertools.count()  # this process's steps, for the guided loss's radius

    def step(batch: dict) -> StepResult:
        if config.frozen_norms:  # here, after the loop has put the whole model in train mode (idempotent)
            freeze_norms(model.upper_part)
        lower = model.lower(batch["image"])
        masks = batch["mask"]
        clicks = [[Click(x, y, positive > 0.5)] if has else [] for x, y, has, positive in batch["click"].tolist()]
        prev = batch["prev"]  # zeros but for focus windows, whose coarse mask the clicks correct
        cues = batch["cues"]
        seeded = SeededCues(batch["image"], cues) if config.click_cues else (lambda _: cues)
        for _ in range(int(rng.integers(0, config.click_rounds + 1))):
            prev = simulate_round(model, lower, masks, clicks, prev, seeded(clicks))
        maps = click_maps(clicks, prev, seeded(clicks), model.config.click_disk, model.config.click_cap)
        logits = model.upper(lower, maps)
        weight = _loss_weight(config, prev, masks, clicks, logits)
        loss = segmentation_loss(logits, masks, weight=weight, pixel=config.pixel_loss)
        if config.guided_loss:
            # At inference the fit's radius is 1 output pixel on most selection windows and 2 on
            # magnified focus windows: alternate them (no random draw, so the samples and clicks
            # stay those of a run without this loss).
            radius = GUIDED_RADII[next(steps) % len(GUIDED_RADII)]
            loss = loss + config.guided_loss * guided_outline_loss(logits, batch["image"], masks, radius, GUIDE_EPS)
        loss = loss + config.region_weight * region_loss(lower.region, masks)
        if teacher is not None:
            loss = loss + config.distill * box_distillation(model, teacher, batch["image"], lower, cues,
                                                            batch["thin"])
        return StepResult(loss, batch_iou(logits, masks))

    crop, stretch = model.config.crop, model.config.stretch
    path = run_training(config, model, "interactive", lambda start: _batches(config, crop, stretch, start), step,
                        groups)
    if config.keep_init and path == config.out:  # not when stopped early (the state file)
        keep_start(config.out, config.kept, "interactive", config.keep_init)
    return path


def _loss_weight(config: InteractiveTrainConfig, prev: torch.Tensor, masks: torch.Tensor,
                 clicks: list[list[Click]], logits: torch.Tensor) -> torch.Tensor | None:
    """The trained pass's per-pixel weights (:mod:`vidseg.train.correction_weights`), the product
    of those asked for; None when neither --preserve nor --clicked-error is."""
    weight = None
    if config.preserve:
        weight = preserve_weight(prev, masks, logits, config.preserve)
    if config.clicked_error:
        clicked = clicked_error_weight(prev, masks, clicks, logits, config.clicked_error)
        weight = clicked if weight is None else weight * clicked
    return weight


def _with_upper_blocks(model: InteractiveNet, expand: int) -> InteractiveNet:
    """``model`` grown by --upper-expand's blocks (:func:`grown_upper`), or as it is (0, or it has them)."""
    have = model.config.upper_expand
    if not expand or have == expand:
        return model
    if have:
        raise InputError(f"the --init network already has upper blocks of expansion {have}; "
                         f"give --upper-expand {have} or 0")
    return grown_upper(model, expand)


def freeze_norms(module: torch.nn.Module) -> None:
    """Put ``module``'s batch norms in eval mode: they normalise with, and no longer update, their
    running statistics; their scales and shifts still learn."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


def _teacher(config: InteractiveTrainConfig) -> InteractiveNet | None:
    """The network, frozen, whose box-only masks ``--distill`` keeps (--distill-from, else --init);
    None when off."""
    if not config.distill:
        return None
    teacher = starting_model("interactive", config.model, config.teacher).to(config.device).eval()
    teacher.requires_grad_(False)
    return teacher


def box_distillation(model: InteractiveNet, teacher: InteractiveNet, images: torch.Tensor,
                     lower: LowerFeatures, cues: torch.Tensor, thin: torch.Tensor | None = None) -> torch.Tensor:
    """BCE between ``model``'s mask from the box alone (no clicks, no previous mask) and
    ``teacher``'s, soft targets; images (B, 3, S, S), cues (B, 2, S, S), ``lower`` the model's
    features of the images. ``thin`` (B, 1, S, S) {0, 1}: where thin parts were drawn, left out
    (with a cell around them), since there the teacher never learnt what the labels say."""
    maps = click_maps([[] for _ in range(images.shape[0])], torch.zeros_like(cues[:, :1]), cues)
    with torch.no_grad():
        target = torch.sigmoid(teacher.upper(teacher.lower(images), maps))
    logits = model.upper(lower, maps)
    weight = None
    if thin is not None and thin.any():
        near = F.max_pool2d(F.adaptive_max_pool2d(thin, logits.shape[-2:]), 3, stride=1, padding=1)
        weight = 1 - near
    return F.binary_cross_entropy_with_logits(logits, target, weight=weight)


@torch.no_grad()
def simulate_round(model: InteractiveNet, lower: LowerFeatures, masks: torch.Tensor,
                   clicks: list[list[Click]], prev: torch.Tensor, cues: torch.Tensor) -> torch.Tensor:
    """Predict with the clicks so far, then add each crop's protocol click (in place); returns
    the prediction (B, 1, S, S) in [0, 1], the next round's previous mask.

    The pass runs in eval mode, as at inference: in train mode each round would also move the
    batch norms' running statistics towards click-rich inputs, and with many rounds a step they
    end up describing those, not a box alone (a mask from a box then collapses at inference)."""
    upper = model.upper_part  # the only part a round runs
    modes = [(m, m.training) for m in upper.modules()]  # each module's own: frozen norms stay frozen
    upper.eval()
    try:
        logits = model.upper(lower, click_maps(clicks, prev, cues, model.config.click_disk, model.config.click_cap))
    finally:
        for m, training in modes:
            m.training = training
    probs = torch.sigmoid(F.interpolate(logits, size=masks.shape[-2:], mode="bilinear", align_corners=False))
    for k, (pred, gt) in enumerate(zip(probs[:, 0].cpu().numpy() > 0.5, masks[:, 0].cpu().numpy() > 0.5)):
        click = next_click(pred, gt, clicks[k])
        if click is not None:
            clicks[k].append(click)
    return probs


class SeededCues:
    """One step's selection cues with each crop's clicks seeding its colour cue
    (:func:`colour_likelihood`), as the click segmenter does for a network trained so.

    ``SeededCues(images, cues)`` takes the step's crops ``images`` (B, 3, S, S) in [0, 1] and their
    cues (B, 2, S, S); calling it with the crops' clicks gives the seeded cues (B, 2, S, S), a crop
    without clicks keeping its own. The crops become uint8 once a step, and a crop's colour cue is
    recomputed only when its clicks changed since the last call (a round adds at most one), so the
    rounds of a step pay for the new clicks alone.
    """

    def __init__(self, images: torch.Tensor, cues: torch.Tensor) -> None:
        self.crops = (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        self.inside = cues[:, 0].cpu().numpy() > 0.5
        self.cues = cues.clone()
        self.seen = [0] * len(cues)  # how many clicks each crop's colour cue was seeded with

    def __call__(self, clicks: list[list[Click]]) -> torch.Tensor:
        for k, crop_clicks in enumerate(clicks):
            if len(crop_clicks) != self.seen[k]:
                seeds = [(c.x, c.y, c.positive) for c in crop_clicks]
                cue = colour_likelihood(self.crops[k], self.inside[k], seeds)
                self.cues[k, 1] = torch.from_numpy(cue).to(self.cues.device)
                self.seen[k] = len(crop_clicks)
        return self.cues.clone()  # later rounds change self.cues in place; what was returned stays


def click_maps(clicks: list[list[Click]], prev: torch.Tensor, cues: torch.Tensor, disk: float = 0.0,
               cap: float = DISTANCE_CAP) -> torch.Tensor:
    """(B, 5, S, S): each crop's positive and negative closeness maps (fading over ``cap`` crop
    pixels, or disks of radius ``disk`` when > 0: :func:`distance_maps`), its previous mask
    (B, 1, S, S) and its selection cues (B, 2, S, S)."""
    size = prev.shape[-2:]
    maps = [distance_maps(np.array([(c.x, c.y) for c in cs], np.float32).reshape(-1, 2),
                          np.array([c.positive for c in cs], bool), size, cap=cap, disk=disk) for cs in clicks]
    return torch.cat([torch.from_numpy(np.stack(maps)).to(prev.device), prev, cues], dim=1)


def _batches(config: InteractiveTrainConfig, crop: int, stretch: float, start: int) -> Iterator[dict]:
    from vidseg.train.clips import FrameStore
    from vidseg.train.interactive_samples import InteractiveSampleConfig, InteractiveTrainingSet

    store = FrameStore.shared(config.data, config.sequences, scale=config.scale)
    samples = InteractiveSampleConfig(crop=crop, synthetic_ratio=config.synthetic_ratio,
                                      focus_share=config.focus_share, thin_share=config.thin_share,
                                      thin_attached=config.thin_attached, thin_faint=config.thin_faint,
                                      thin_focus=config.thin_focus,
                                      thin_click=config.thin_click, own_thin_click=config.own_thin_click,
                                      focus_zoom=config.focus_zoom,
                                      thin_zoom=config.thin_zoom,
                                      stretch=stretch, seed=config.seed)
    length = config.steps * config.batch_size
    dataset = InteractiveTrainingSet(store, samples, length=length)
    if config.photos is not None:
        from vidseg.train.photos import load_photos

        photos = InteractiveTrainingSet(load_photos(config.photos, max_side=crop * 2, parts=True,
                                                         split=config.photo_split), samples, length)
        dataset = with_photos(photos, dataset, config)
    return index_loader(dataset, config, start)

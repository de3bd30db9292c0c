"""``ClickSegmenter``: a box or a click gives a mask; correction clicks fix it, each in milliseconds.

The first part of the interactive network runs once per selection, on a square crop around it;
each correction reruns only the second part on the cached features (seed 003). A single click
first runs the first part on a wide crop around the click, reads the object's box from the region
branch there, and then crops around that box.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from vidseg.engine.interactive.clicks import DISTANCE_CAP, Click, check_click, distance_maps
from vidseg.engine.interactive.graph_cut import GraphCutConfig, polish_with_graph_cut
from vidseg.engine.interactive.mirrored import MirroredFeatures, MirroredNet
from vidseg.engine.interactive.outline_tiles import TileConfig, outline_tiles
from vidseg.engine.interactive.selection_cues import selection_maps
from vidseg.errors import InputError
from vidseg.nn.interactive import InteractiveNet, LowerFeatures, box_at
from vidseg.ops.boxes import Box, check_box
from vidseg.ops.crops import CropWindow, check_stretch, cut, paste, paste_region
from vidseg.ops.guided_filter import guided_upsample

BOX_MARGIN = 0.2  # the crop around a box: its longer side grown by this much on each side
CLICK_WINDOW = 0.75  # the wide crop around a single click: this share of the image's shorter side
MAX_GUIDE = 1024  # refining works on the crop at the image's resolution, at most this many pixels a side
# The guided filter's radius for networks trained on focus windows: one or two of the network's
# output pixels on most windows; 8 (RefineConfig's default, chosen for the separable network)
# smooths their outlines (chosen_steps has the numbers).
FOCUS_GUIDE_RADIUS = 4


@dataclass(frozen=True)
class RefineConfig:
    """Edge-aware upsampling of the network's stride-2 output to the image's own pixels in the
    crop (:func:`vidseg.ops.guided_filter.guided_upsample`): the output is S/2 a side over a crop that
    is often 3-4x larger in the image, so a bilinear upsampling blurs the outline over several
    pixels. Every pass is upsampled so: the selection's, the focus passes' and the outline tiles'.
    radius in image pixels, eps in squared [0, 1] intensity; enabled False: bilinear."""

    enabled: bool = True
    radius: int = 8
    eps: float = 1e-3


@dataclass(frozen=True)
class FocusConfig:
    """FocalClick's focus crop: after each click the network reruns on a window around the change
    the click made, seen at the crop's full resolution, and that answer is blended in. growth: the
    change's box grown by this share of its side each way; smallest, largest: the window's side as
    shares of the selection's (smaller leaves too little around the change to judge it; larger
    shows no more than the selection's crop did); max_zoom: the crop magnifies the image at most
    this much (1.5x, below the 2x training goes up to: :func:`chosen_steps` says why); feather:
    the focus answer fades out over this share of the window at its edges. thin_zoom: when a click
    changed only a thin part (nothing an opening by a ``thin_width``-pixel disk keeps at the click),
    a close pass follows on a window centred on it that magnifies the image this much, for lines and
    rails finer than the focus pass draws them (0: none, the default: on the TUNE clips it changed
    no frame's NoC, even with a network trained on such windows, and took 11 ms more per click)."""

    enabled: bool = True
    growth: float = 0.4
    smallest: float = 0.2
    largest: float = 0.7
    max_zoom: float = 1.5
    feather: float = 0.1
    thin_zoom: float = 0.0
    thin_width: int = 9

    def __post_init__(self) -> None:
        if not (0 < self.smallest <= self.largest <= 1 and self.growth >= 0 and self.max_zoom >= 1
                and 0 <= self.feather <= 0.5 and (self.thin_zoom == 0 or self.thin_zoom >= 1)
                and self.thin_width >= 1):
            raise InputError("focus needs 0 < smallest <= largest <= 1, growth >= 0, max_zoom >= 1, "
                             f"0 <= feather <= 0.5, thin_zoom 0 or >= 1 and thin_width >= 1, got {self}")


@dataclass
class ClickState:
    """One selection on one image: the crop, the cached first-part features, the clicks so far and
    the probability map after each of them (the last is the current one; undo pops)."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    box: tuple[float, float, float, float]  # the selection's box in image pixels
    window: CropWindow
    lower: LowerFeatures | MirroredFeatures
    cues: np.ndarray  # (2, S, S) float32: the box and its colour likelihood in the crop
    crop: np.ndarray  # (S, S, 3) uint8: the crop the network sees, for cues the clicks seed
    guide: np.ndarray | None = None  # (N, N, 3) uint8: the crop at the image's resolution (N >= S), for refining
    clicks: list[Click] = field(default_factory=list)
    probs: list[np.ndarray] = field(default_factory=list)  # each (H, W) float32 in [0, 1]


class ClickSegmenter:
    """Interactive segmentation of one image at a time.

    ``model``: "default" (the shipped weights), another shipped tag, a checkpoint path, or an
    ``InteractiveNet``. ``refine``: edge-aware upsampling of every prediction; ``graph_cut``: GrabCut
    polish of the first mask from a box (:mod:`vidseg.engine.interactive.graph_cut`); ``merge_locally``:
    a click changes only the region of change it lands in (:func:`merge_at_click`); ``hold_radius``:
    each click's disk of this many pixels keeps the click's label (:func:`hold_clicks`; 0: off);
    ``merge_from``: the local merge starts at this click of a selection; ``focus``: after each click,
    rerun the network on a window around the click's change at the crop's full resolution
    (:class:`FocusConfig`; for networks trained on such windows); ``tiles``: the first mask from a
    box or a click also gets focus passes over windows along its outline (:class:`TileConfig`,
    :mod:`vidseg.engine.interactive.outline_tiles`); ``click_cues``: the clicks also seed the colour
    cue (:func:`vidseg.engine.interactive.selection_cues.colour_likelihood`; None: as the network was
    trained); ``stretch``: the selection's window may be up to this many times longer than high, or
    higher than long, stretched to the square crop (:meth:`CropWindow.around`; None: as the network
    was trained); ``mirror``: every pass also runs on the crop mirrored left to right and the two
    answers are averaged (:mod:`vidseg.engine.interactive.mirrored`; twice the network's work);
    each other left out (None) is what was chosen for the network (:func:`chosen_steps`). ``backend``: "auto" (ONNX Runtime where
    installed, else torch), "torch" or "onnxruntime" (the same network through ONNX Runtime; the
    ``onnx`` extra). Masks are (H, W) bool in the image's pixels.
    """

    def __init__(self, model: str | os.PathLike | InteractiveNet = "default", device: str = "cpu",
                 refine: RefineConfig | None = None, graph_cut: GraphCutConfig | None = None,
                 merge_locally: bool | None = None, hold_radius: int | None = None, merge_from: int | None = None,
                 focus: FocusConfig | None = None, tiles: TileConfig | None = None,
                 click_cues: bool | None = None, stretch: float | None = None, mirror: bool | None = None,
                 backend: str = "auto") -> None:
        net = load_interactive(model, backend).to(device).eval()
        steps = chosen_steps(net)
        self.mirror = steps.mirror if mirror is None else bool(mirror)
        self.net: InteractiveNet | MirroredNet = MirroredNet(net) if self.mirror else net
        self.refine = refine or steps.refine
        self.graph_cut = graph_cut or steps.graph_cut
        self.merge_locally = steps.merge_locally if merge_locally is None else merge_locally
        self.hold_radius = steps.hold_radius if hold_radius is None else int(hold_radius)
        self.merge_from = steps.merge_from if merge_from is None else int(merge_from)
        self.focus = focus or steps.focus
        self.tiles = tiles or steps.tiles
        self.click_cues = self.net.config.click_cues if click_cues is None else bool(click_cues)
        self.stretch = self.net.config.stretch if stretch is None else check_stretch(stretch)
        self.device = torch.device(device)
        self.state: ClickState | None = None

    @property
    def crop(self) -> int:
        return self.net.config.crop

    @property
    def _one_view(self) -> InteractiveNet:
        """The network run on the crop alone, mirrored or not: a click's box proposal reads one view's region map."""
        return self.net.net if isinstance(self.net, MirroredNet) else self.net

    def start(self, image: np.ndarray, box: Box | None = None,
              click: tuple[float, float] | None = None, mask: np.ndarray | None = None) -> np.ndarray:
        """Select the object in ``image`` (H, W, 3 uint8 RGB) by a box (x0, y0, x1, y1; x1, y1
        exclusive), by one click (x, y) on it, or by a mask to correct (H, W bool, not empty);
        returns its mask."""
        image = check_image(image)
        h, w = image.shape[:2]
        if sum(v is not None for v in (box, click, mask)) != 1:
            raise InputError("give one of a box, a click or a mask to start a selection")
        if mask is not None:
            return self._start_from_mask(image, mask)
        if box is not None:
            box = check_box(box, w, h).pixels(w, h)
            first: list[Click] = []
        else:
            x, y = check_click(click[0], click[1], w, h)
            box = self._box_from_click(image, x, y)
            first = [Click(x, y, True)]
        self.state = self._select(image, box, CropWindow.around(box, BOX_MARGIN, self.stretch))
        probs = self._predict(first, np.zeros((h, w), np.float32))
        if not first and self.graph_cut.enabled:
            probs = polish_with_graph_cut(image, box, probs, self.graph_cut)
        elif not first and not (probs > 0.5).any():
            probs = grabcut_from_box(image, box, probs, self.graph_cut)
        if self.tiles.enabled and self.focus.enabled:
            probs = self._refine_outline(first, probs)
        self.state.probs.append(probs)
        self.state.clicks.extend(first)
        return self.mask

    def click(self, x: float, y: float, positive: bool = True) -> np.ndarray:
        """Add a correction click at pixel (x, y): on the object (positive) or off it; returns the mask."""
        state = self._require_state()
        h, w = state.image.shape[:2]
        x, y = check_click(x, y, w, h)
        if not state.window.contains(x, y):
            # A click outside the crop: grow the crop to take it in (the first part runs again).
            x0, y0, x1, y1 = state.window.box
            grown = CropWindow.around((min(x0, x - 16), min(y0, y - 16), max(x1, x + 17), max(y1, y + 17)), 0.0)
            self.state = state = self._select(state.image, state.box, grown, state.clicks, state.probs)
        clicks = [*state.clicks, Click(x, y, bool(positive))]
        probs = self._predict(clicks, state.probs[-1])
        # One connected change for both steps: after the merge it is still the change at the click.
        change = change_at_click(state.probs[-1], probs, x, y)
        if self.merge_locally and len(clicks) >= self.merge_from:
            probs = merge_at_click(state.probs[-1], probs, change)
        if self.focus.enabled:
            probs = self._focus(clicks, probs, x, y, change)
        state.probs.append(probs)
        state.clicks = clicks
        return self.mask

    def undo(self) -> np.ndarray:
        """Take back the last click; returns the mask as it was before it."""
        state = self._require_state()
        if len(state.probs) < 2:
            raise InputError("nothing to undo: no correction click has been made since the selection started")
        state.probs.pop()
        state.clicks.pop()
        return self.mask

    @property
    def mask(self) -> np.ndarray:
        """The current mask, (H, W) bool."""
        return self._require_state().probs[-1] > 0.5

    def cutout(self) -> np.ndarray:
        """(H, W, 4) uint8 RGBA: the object's pixels with alpha 255, everything else transparent black."""
        state = self._require_state()
        keep = self.mask
        rgba = np.zeros((*keep.shape, 4), np.uint8)
        rgba[keep, :3] = state.image[keep]
        rgba[keep, 3] = 255
        return rgba

    def _start_from_mask(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """A selection whose current mask is ``mask``: the next click corrects what the user sees
        (the network reads the previous mask as an input), so no first prediction is made."""
        mask = np.asarray(mask, bool)
        if mask.shape != image.shape[:2] or not mask.any():
            raise InputError(f"the mask to correct must be a non-empty {image.shape[1]}x{image.shape[0]} "
                             f"map, got shape {mask.shape} with {int(mask.sum())} pixels set")
        ys, xs = np.nonzero(mask)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        self.state = self._select(image, box, CropWindow.around(box, BOX_MARGIN, self.stretch),
                                  probs=[mask.astype(np.float32)])
        return self.mask

    def _require_state(self) -> ClickState:
        if self.state is None:
            raise InputError("no selection yet: call start(image, box=...) or start(image, click=...) first")
        return self.state

    def _select(self, image: np.ndarray, box: tuple[float, float, float, float], window: CropWindow,
                clicks: list[Click] | None = None, probs: list[np.ndarray] | None = None) -> ClickState:
        """A selection state: the crop's first-part features and the box's cues in it."""
        crop = cut(image, window, self.crop)
        cues = selection_maps(crop, window.box_to_crop(box, self.crop))
        guide = cut(image, window, self._guide_side(window)) if self.refine.enabled else None
        return ClickState(image, box, window, self._lower(crop), cues, crop, guide, list(clicks or []),
                          list(probs or []))

    def _box_from_click(self, image: np.ndarray, x: int, y: int) -> tuple[float, float, float, float]:
        """The box of the object under a click, from the region branch on a wide crop."""
        wide = CropWindow.centred(x, y, CLICK_WINDOW * min(image.shape[:2]))
        lower = self._lower(cut(image, wide, self.crop), one_view=True)
        cx, cy = wide.to_crop([[x, y]], self.crop)[0]
        box = wide.to_image_box(box_at(lower.region[0], cx, cy, self.crop), self.crop)
        # The proposal must contain the click; a box that misses it is grown to take it in.
        return min(box[0], x), min(box[1], y), max(box[2], x + 1), max(box[3], y + 1)

    @torch.inference_mode()
    def _lower(self, crop: np.ndarray, one_view: bool = False) -> LowerFeatures | MirroredFeatures:
        """crop: (S, S, 3) uint8 -> the first part's features (of the crop alone with ``one_view``)."""
        tensor = torch.from_numpy(crop).permute(2, 0, 1)[None].float().div_(255).to(self.device)
        return (self._one_view if one_view else self.net).lower(tensor)

    @torch.inference_mode()
    def _predict(self, clicks: list[Click], previous: np.ndarray) -> np.ndarray:
        """The (H, W) probability map for these clicks, given the previous one."""
        state = self.state
        cues = self._cues(state.window, state.crop, clicks)
        maps = correction_maps(clicks, state.window, cut(previous, state.window, self.crop), cues,
                               self.net.config.click_disk, self.net.config.click_cap)
        logits = self.net.upper(state.lower, torch.from_numpy(maps)[None].to(self.device))
        probs = self._upsample(logits, state.window, state.guide)
        return hold_clicks(paste(probs, state.window, state.image.shape[:2]), clicks, self.hold_radius)

    def _focus(self, clicks: list[Click], probs: np.ndarray, x: int, y: int, change: np.ndarray | None) -> np.ndarray:
        """``probs`` (H, W), this click's own new map, with the focus pass on the window around
        ``change``, the click's (:func:`change_at_click`), blended in; changed in place and returned
        (no one else holds it, and a full-frame copy per click costs milliseconds at 4000x3000)."""
        window = focus_window(change, x, y, self.state.window, self.crop, self.focus)
        if window is not None:
            self._rerun_window(window, clicks, probs)
        close = self._close_window(probs, x, y, window or self.state.window)
        return probs if close is None else self._rerun_window(close, clicks, probs)

    def _close_window(self, probs: np.ndarray, x: int, y: int, seen: CropWindow) -> CropWindow | None:
        """The close pass's window after the click at (x, y) (``FocusConfig.thin_zoom``), given the
        map ``probs`` (H, W) after the passes so far and the window the last of them saw; None when
        the close pass is off, would see no finer than ``seen``, or the click's change is not thin."""
        if not self.focus.thin_zoom:
            return None
        close = CropWindow.centred(x, y, self.crop / self.focus.thin_zoom)
        if close.longest >= seen.longest:
            return None
        change = change_at_click(self.state.probs[-1], probs, x, y)
        return close if thin_at(change, x, y, self.focus.thin_width) else None

    def _refine_outline(self, clicks: list[Click], probs: np.ndarray) -> np.ndarray:
        """The first mask ``probs`` (H, W) with a focus pass on each tile along its outline, in turn
        (a new map)."""
        state = self.state
        bounds = focus_sides(state.window, self.crop, self.focus)
        if bounds is None:
            return probs  # the selection's crop already shows the object at the focus pass's zoom
        probs = probs.copy()  # one copy that every tile blends into
        for window in outline_tiles(probs > 0.5, state.box, bounds[0], self.tiles):
            self._rerun_window(window, clicks, probs)
        return probs

    @torch.inference_mode()
    def _rerun_window(self, window: CropWindow, clicks: list[Click], probs: np.ndarray) -> np.ndarray:
        """``probs`` (H, W), changed in place and returned, with both parts of the network rerun on
        ``window`` (the image seen there at the crop's full resolution, ``probs`` as the previous
        mask) blended in, faded out towards the window's edges."""
        state = self.state
        crop = cut(state.image, window, self.crop)
        maps = correction_maps(clicks, window, cut(probs, window, self.crop), self._cues(window, crop, clicks),
                               self.net.config.click_disk, self.net.config.click_cap)
        local = self._upsample(self.net.upper(self._lower(crop), torch.from_numpy(maps)[None].to(self.device)), window)
        hw = state.image.shape[:2]
        where, weight = paste_region(feather(local.shape[0], self.focus.feather), window, hw)
        _, local = paste_region(local, window, hw)
        probs[where] = probs[where] * (1 - weight) + local * weight
        return hold_clicks(probs, clicks, self.hold_radius)

    def _cues(self, window: CropWindow, crop: np.ndarray, clicks: list[Click]) -> np.ndarray:
        """(2, S, S): the selection's cues in ``window``'s ``crop`` (S, S, 3), the clicks seeding
        the colour cue when ``click_cues`` is on."""
        seeded = bool(clicks) and self.click_cues
        if not seeded and window is self.state.window:
            return self.state.cues  # the selection's own, computed once when it was made
        seeds = []
        if seeded:
            points = window.to_crop([(c.x, c.y) for c in clicks], self.crop)
            seeds = [(x, y, c.positive) for (x, y), c in zip(points, clicks)]
        return selection_maps(crop, window.box_to_crop(self.state.box, self.crop), seeds)

    def _guide_side(self, window: CropWindow) -> int:
        """The side of ``window``'s crop at the image's own resolution (never below the network's
        crop, at most MAX_GUIDE), which guided upsampling draws the outline at."""
        return min(max(self.crop, round(window.longest)), MAX_GUIDE)

    def _upsample(self, logits: torch.Tensor, window: CropWindow, guide: np.ndarray | None = None) -> np.ndarray:
        """Logits (1, 1, S/2, S/2) over ``window`` -> (N, N) float32 probabilities over it: with
        ``refine`` on, snapped to the edges of ``guide``, the window's image at N = :meth:`_guide_side`
        pixels a side (cut here when not given); else bilinear to the crop's side (N = S)."""
        if not self.refine.enabled:
            return self._crop_probs(logits)
        guide = cut(self.state.image, window, self._guide_side(window)) if guide is None else guide
        low = torch.sigmoid(logits)[0].cpu().numpy()  # (1, S/2, S/2)
        return guided_upsample(low, guide, self.refine.radius, self.refine.eps)[0]

    def _crop_probs(self, logits: torch.Tensor) -> np.ndarray:
        """Logits (1, 1, S/2, S/2) -> (S, S) float32 probabilities, upsampled bilinearly."""
        logits = torch.nn.functional.interpolate(logits, size=(self.crop, self.crop), mode="bilinear",
                                                 align_corners=False)
        return torch.sigmoid(logits)[0, 0].cpu().numpy()


def focus_window(change: np.ndarray | None, x: int, y: int, selection: CropWindow,
                 crop: int, config: FocusConfig) -> CropWindow | None:
    """The window of a click's focus pass: the box of ``change``, the click's connected change
    (:func:`change_at_click`), or the click alone where it changed nothing (None), grown
    and bounded as ``config`` says for a ``crop``-pixel crop; centred on the click when the change
    is larger than the largest window. None when even the smallest window allowed would be larger
    than that (nothing finer to see)."""
    bounds = focus_sides(selection, crop, config)
    if bounds is None:
        return None
    smallest, hi = bounds
    box = (x, y, x + 1, y + 1)
    if change is not None:
        left, top, width, height = cv2.boundingRect(change.view(np.uint8))
        box = (left, top, left + width, top + height)
    side = max(box[2] - box[0], box[3] - box[1]) * (1 + 2 * config.growth)
    if side > hi:
        return CropWindow.centred(x, y, hi)
    if side < smallest:
        return CropWindow.centred((box[0] + box[2] - 1) / 2, (box[1] + box[3] - 1) / 2, smallest)
    return CropWindow.around(box, config.growth)


def thin_at(change: np.ndarray | None, x: int, y: int, width: int) -> bool:
    """Whether the click at (x, y) changed only a thin part: ``change`` (H, W) bool, its connected
    change (:func:`change_at_click`), keeps nothing at the click after an opening by a
    ``width``-pixel disk (a line, a rail, or no more than the disk the click holds); True when it
    changed nothing (None)."""
    if change is None:
        return True
    h, w = change.shape
    x0, y0, x1, y1 = max(x - width, 0), max(y - width, 0), min(x + width + 1, w), min(y + width + 1, h)
    local = np.ascontiguousarray(change[y0:y1, x0:x1]).view(np.uint8)  # all an opening at the click sees
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    # OpenCV's default border leaves the image's edge out of the opening: a change cut by it is not thin.
    return not cv2.morphologyEx(local, cv2.MORPH_OPEN, disk)[y - y0, x - x0]


def focus_sides(selection: CropWindow, crop: int, config: FocusConfig) -> tuple[float, float] | None:
    """The smallest and largest side (image pixels) of a focus window in ``selection`` for a
    ``crop``-pixel crop: shares of the selection's side, the smallest also no finer than
    ``config.max_zoom`` magnifies; None when the smallest would be larger than the largest (the
    selection's crop already shows the image that closely: nothing finer to see)."""
    smallest = max(config.smallest * selection.longest, crop / config.max_zoom)
    largest = config.largest * selection.longest
    return None if smallest > largest else (smallest, largest)


def feather(size: int, share: float) -> np.ndarray:
    """(size, size) float32 weights: 1 inside, falling linearly to 0 over ``share`` of the side at the edges."""
    ramp = np.clip((np.minimum(np.arange(size), np.arange(size)[::-1]) + 0.5) / max(share * size, 1), 0, 1)
    return np.minimum(ramp[:, None], ramp[None, :]).astype(np.float32)


def hold_clicks(probs: np.ndarray, clicks: list[Click], radius: int) -> np.ndarray:
    """``probs`` (H, W) float32 with a disk of ``radius`` pixels around each click set to its label,
    later clicks over earlier ones.

    A click states the label of the pixel it is on. Without this a network that does not follow a
    click (a thin part, below its output's resolution) leaves the pixel wrong, and the next click,
    placed at the same error, is spent on the same spot again."""
    if radius <= 0 or not clicks:
        return probs
    for click in clicks:
        cv2.circle(probs, (click.x, click.y), radius, 1.0 if click.positive else 0.0, thickness=-1)
    return probs


def merge_at_click(previous: np.ndarray, new: np.ndarray, change: np.ndarray | None) -> np.ndarray:
    """FocalClick's progressive merge: the new prediction only in ``change``, the connected region
    of pixels whose label it changed that holds the click (:func:`change_at_click`); the previous
    map elsewhere.

    A click says where one error is, not that the rest is wrong: without this the network's own
    opinion far from the click (where a graph cut or earlier clicks had it right) comes back.
    previous, new: (H, W) float32 probabilities. When the click's own pixel kept its label (the
    network did not act on the click: ``change`` None) the new map is taken whole.
    """
    if change is None:
        return new
    return np.where(change, new, previous).astype(np.float32)


def change_at_click(previous: np.ndarray, new: np.ndarray, x: int, y: int) -> np.ndarray | None:
    """(H, W) bool: the connected region (8-neighbours) of pixels whose label changed from
    ``previous`` to ``new`` (both (H, W) probabilities) that holds the click at (x, y); None when
    the click's own pixel kept its label."""
    changed = ((new > 0.5) != (previous > 0.5)).astype(np.uint8)
    if not changed[y, x]:
        return None
    _, labels = cv2.connectedComponents(changed, connectivity=8)
    return labels == labels[y, x]


def correction_maps(clicks: list[Click], window: CropWindow, previous_crop: np.ndarray, cues: np.ndarray,
                    disk: float = 0.0, cap: float = DISTANCE_CAP) -> np.ndarray:
    """(5, S, S) float32: closeness to positive clicks, to negative clicks (fading over ``cap``
    crop pixels, or disks of radius ``disk`` when > 0, as the network was trained:
    :func:`distance_maps`), the previous mask, and the selection's cues (2, S, S)."""
    size = previous_crop.shape[0]
    points = window.to_crop([(c.x, c.y) for c in clicks], size) if clicks else np.zeros((0, 2), np.float32)
    positive = np.array([c.positive for c in clicks], bool)
    return np.concatenate([distance_maps(points, positive, (size, size), cap=cap, disk=disk),
                           previous_crop[None].astype(np.float32), cues])


def check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"image must be HxWx3 uint8 RGB, got shape {image.shape} of {image.dtype}")
    if min(image.shape[:2]) < 8:
        raise InputError(f"image is {image.shape[1]}x{image.shape[0]} pixels; give one at least 8x8")
    return image


def grabcut_from_box(image: np.ndarray, box: tuple[int, int, int, int], probs: np.ndarray,
                     config: GraphCutConfig) -> np.ndarray:
    """GrabCut started from the box alone (its classic use) for a box the network found nothing
    in, since a box selection is meant to select something; ``probs`` when GrabCut finds nothing too."""
    prior = np.zeros_like(probs)
    x0, y0, x1, y1 = box
    prior[y0:y1, x0:x1] = 1.0
    found = polish_with_graph_cut(image, box, prior, config)
    return probs if found is prior else found


@dataclass(frozen=True)
class PipelineSteps:
    """The steps around the network: guided-filter upsampling, graph-cut polish, local merge, the
    radius in pixels of the disk each click holds (0: none), the focus pass after each click,
    focus passes along the first mask's outline, and every pass run mirrored too (:mod:`.mirrored`)."""

    refine: RefineConfig
    graph_cut: GraphCutConfig
    merge_locally: bool
    hold_radius: int = 0
    merge_from: int = 1
    focus: FocusConfig = FocusConfig(enabled=False)
    tiles: TileConfig = TileConfig(enabled=False)
    mirror: bool = False


def chosen_steps(net: InteractiveNet) -> PipelineSteps:
    """The steps chosen for ``net`` on training frames (docs/benchmarks.md): the separable network,
    learnt from 24 clips, gains from all three of its steps; an ImageNet-started (Lite) network's own
    masks reached 90% IoU in fewer clicks without them (NoC@90 7.88 against 9.62 with all three),
    and with each click holding a 3-pixel disk (on the six TUNE clips of our training split, every
    10th frame, NoC@85 / NoC@90 7.43 / 9.48 without, 7.12 / 8.90 at 3 px, 7.05 / 8.71 at 6 px,
    7.02 / 9.88 at 10 px; 3 px also for a network fine-tuned at a 352-px crop: 6.26 / 7.67 against
    6.52 / 7.67 at 6 px). A network trained on focus windows runs the focus pass and merges a
    click's change locally (same frames, the train-split network fine-tuned
    on focus windows, before half its start was kept (:mod:`vidseg.train.interpolate`):
    6.69 / 9.26 without the pass, 6.60 / 7.88 with it, 5.71 / 7.60 with the merge from the second
    click, 5.93 / 7.95 from the first; the focus window's growth, sizes, zoom and feathering moved
    NoC@90 by at most 0.1). Its first mask also gets focus passes on tiles along the outline, and
    then the local merge runs from the first click, which would otherwise throw the tiles' detail
    away (the TUNE clips with a network that never saw them, the FIT split: IoU from the box 64.7 ->
    76.6, NoC@85 / NoC@90 7.64 / 8.50 -> 6.86 / 8.19, 7.02 / 8.38 with the merge from the second
    click; tiles over the whole box, not only the outline, 7.02 / 8.36; tiles of a third of the box
    6.86 / 8.02 at twice the first mask's time). Its focus pass and tiles magnify at most 1.5x, not the
    2x it was trained up to: on the TUNE clips with the FIT click-cue network (every click, mean IoU
    over clicks 1-20) 2.5x 87.88, 2x 87.95 (NoC 6.10 / 7.05), 1.75x 88.11, 1.5x 88.15 (6.07 / 7.00),
    1.25x 88.25 (6.05 / 7.02), 1x 87.89 (6.43 / 7.14); 1.5x is the middle of the range that gains.
    It also upsamples every pass, the focus passes and tiles too, with the guided filter at a
    4-pixel radius (``FOCUS_GUIDE_RADIUS``): the same frames, every 5th, the FIT control, mean IoU
    over clicks 1-20 and NoC@85 / NoC@90: bilinear 87.63, 6.20 / 7.22; guided in the selection pass
    alone at radius 8 87.58 (eps 1e-4), at 4 87.75, 6.02 / 7.21; guided in every pass at 2 88.13,
    3 88.28, 4 88.27 (5.88 / 7.00), 6 88.12, 8 87.50; an older FIT network 86.79 -> 87.36.
    Every pass of it also runs mirrored (:mod:`vidseg.engine.interactive.mirrored` has the numbers)."""
    if net.config.encoder == "separable":
        return PipelineSteps(RefineConfig(), GraphCutConfig(), True, focus=FocusConfig(enabled=net.config.focus))
    if net.config.focus:
        return PipelineSteps(RefineConfig(radius=FOCUS_GUIDE_RADIUS), GraphCutConfig(enabled=False), True,
                             hold_radius=3, merge_from=1, focus=FocusConfig(), tiles=TileConfig(), mirror=True)
    return PipelineSteps(RefineConfig(enabled=False), GraphCutConfig(enabled=False), False, hold_radius=3)


def load_interactive(model: str | os.PathLike | InteractiveNet = "default", backend: str = "auto") -> InteractiveNet:
    """The network: a shipped tag ("default", or another the registry lists), a checkpoint path, or a
    network as it is; run by ``backend`` ("auto", "torch" or "onnxruntime", :func:`vidseg.nn.registry.as_backend`)."""
    from vidseg.nn.registry import as_backend, load_model

    if isinstance(model, (str, os.PathLike)):
        model = load_model("interactive", model)
    return as_backend("interactive", model, backend)  # a stand-in already built stays as it is

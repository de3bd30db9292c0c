"""Reading back the alpha of a VP9 webm, for the tests of the writers that make one."""

from __future__ import annotations

import numpy as np


def decode_webm_rgba(path) -> list[np.ndarray]:
    """(H, W, 4) uint8 RGBA frames of a yuva420p VP9 webm.

    Decoded with libvpx: FFmpeg's own vp9 decoder drops the alpha. The alpha is read from the
    frame's fourth plane and the colours converted to rgb24, not the whole frame to rgba: FFmpeg
    8.1's yuv -> rgba conversion leaves the columns past the last multiple of 16 undefined (they
    differ from one call to the next), which made these tests fail now and then.
    """
    import av

    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoder = av.CodecContext.create("libvpx-vp9", "r")
        for packet in container.demux(stream):
            for frame in decoder.decode(packet):
                assert frame.format.name == "yuva420p", f"no alpha plane: {frame.format.name}"
                plane = frame.planes[3]
                rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
                alpha = rows[:, : plane.width]
                frames.append(np.dstack([frame.to_ndarray(format="rgb24"), alpha]))
    return frames

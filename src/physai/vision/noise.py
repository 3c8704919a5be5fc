"""Lighting and camera noise for rendered images (domain randomization of the camera), on numpy images.

    noise = ImageNoise.parse("brightness=0.6:1.4,blur=0:1.5,noise=4")
    noisy = noise.apply(rgb, np.random.default_rng(0))     # uint8 in, uint8 out, same shape

Per image, drawn uniformly from each range: a brightness gain (lighting), a Gaussian blur of sigma px (focus,
motion), then Gaussian sensor noise of `noise` grey levels (0–255 scale) on every pixel and channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from physai.errors import FieldError
from physai.vision.markers import ImageError

SPEC_FORMAT = "brightness=LO:HI,blur=LO:HI,noise=STD"
"""How the noise is written in a task YAML or a node parameter."""
LIMITS = {"brightness": (0.05, 4.0), "blur": (0.0, 10.0), "noise": (0.0, 64.0)}
"""Allowed values of each setting: brightness gain, blur sigma (px), sensor noise std (grey levels)."""


@dataclass(frozen=True)
class ImageNoise:
    """Randomized lighting and camera noise; the default changes nothing."""

    brightness: tuple[float, float] = (1.0, 1.0)
    """Range of the gain on every pixel value (lighting): 0.6–1.4 is a dim to a bright room."""
    blur_px: tuple[float, float] = (0.0, 0.0)
    """Range of the Gaussian blur's sigma (px); 0 = sharp."""
    noise: float = 0.0
    """Standard deviation of the Gaussian sensor noise (grey levels of 0–255)."""

    def __post_init__(self) -> None:
        """FieldError naming the setting (brightness, blur or noise) that is out of its LIMITS."""
        for name, (low, high) in (("brightness", self.brightness), ("blur", self.blur_px)):
            lo, hi = LIMITS[name]
            if not (math.isfinite(low) and math.isfinite(high) and lo <= low <= high <= hi):
                raise FieldError("", name, f"{low:g}:{high:g}", f"LOW:HIGH with {lo:g} ≤ LOW ≤ HIGH ≤ {hi:g}")
        if not (math.isfinite(self.noise) and LIMITS["noise"][0] <= self.noise <= LIMITS["noise"][1]):
            raise FieldError("", "noise", self.noise, f"a std of 0–{LIMITS['noise'][1]:g} grey levels")

    @classmethod
    def parse(cls, spec: str, field: str = "image_noise") -> ImageNoise:
        """From SPEC_FORMAT (any subset; a single value is a fixed one); "" = none.

        A malformed or out-of-range setting: FieldError on `field` (the option or parameter holding `spec`), its
        expected value naming the setting.
        """
        try:
            return cls._parse(spec)
        except FieldError as err:
            raise FieldError("", field, spec, f"{err.field} {err.expected} in {SPEC_FORMAT}") from None

    @classmethod
    def _parse(cls, spec: str) -> ImageNoise:
        values: dict[str, tuple[float, float]] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or key not in LIMITS:
                raise FieldError("", "setting", item, "one of brightness=, blur=, noise=")
            try:
                numbers = [float(v) for v in text.split(":")]
            except ValueError:
                numbers = []
            if len(numbers) not in (1, 2) or (key == "noise" and len(numbers) != 1):
                raise FieldError("", key, text, "STD" if key == "noise" else "LO:HI")
            values[key] = (numbers[0], numbers[-1])
        return cls(
            brightness=values.get("brightness", (1.0, 1.0)),
            blur_px=values.get("blur", (0.0, 0.0)),
            noise=values.get("noise", (0.0, 0.0))[0],
        )

    @property
    def enabled(self) -> bool:
        """Whether `apply` changes anything."""
        return self.brightness != (1.0, 1.0) or self.blur_px[1] > 0 or self.noise > 0

    def apply(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """This image with one draw of the noise: uint8 (H, W) or (H, W, C) in, the same out."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ImageError(f"image is {getattr(image, 'dtype', type(image).__name__)}; expected uint8 pixels")
        if not self.enabled:
            return image
        out = image.astype(np.float32) * rng.uniform(*self.brightness)
        sigma = rng.uniform(*self.blur_px)
        if sigma > 0:
            out = cv2.GaussianBlur(out, (0, 0), sigmaX=sigma)
        if self.noise > 0:
            out += rng.normal(0.0, self.noise, out.shape).astype(np.float32)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
